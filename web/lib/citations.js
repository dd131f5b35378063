// Citations in a research answer. The model is asked to cite the passages
// it was given by their number, "[2]" (or "[2, 5]"); some models copy the
// passage heading instead, "(Datei: bericht.pdf, Seite 3)". Both become
// buttons naming file and page that show the cited passage. A number the
// page did not send stays plain text: a citation can only point to a
// passage that was really in the prompt.

import { shortPlace } from "./german.js";

const NUMBERS = /\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]/g;
const HEADINGS = /\((?:Datei:\s*)?([^(),\n]{1,200}?),\s*(Seite|S\.|Abschnitt|Abschn\.)\s*(\d{1,5})\)/g;

// Every citation in `text` as { start, end, passages }, in order.
export function findCitations(text, passages) {
    const byId = new Map(passages.map((passage) => [passage.id, passage]));
    const found = [];
    for (const match of text.matchAll(NUMBERS)) {
        const cited = match[1].split(/\s*[,;]\s*/).map(Number).filter((id) => byId.has(id))
            .map((id) => byId.get(id));
        if (cited.length > 0) {
            found.push({ start: match.index, end: match.index + match[0].length, passages: cited });
        }
    }
    for (const match of text.matchAll(HEADINGS)) {
        const [, file, , number] = match;
        const passage = passages.find((candidate) => candidate.file === file.trim()
            && candidate.number === Number(number));
        const inside = found.some((other) => match.index < other.end && other.start < match.index + match[0].length);
        if (passage !== undefined && !inside) {
            found.push({ start: match.index, end: match.index + match[0].length, passages: [passage] });
        }
    }
    return found.sort((a, b) => a.start - b.start);
}

function citationButton(passage, show) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "citation";
    button.textContent = `(${passage.file}, ${shortPlace(passage.unit, passage.number)})`;
    button.addEventListener("click", () => show(passage));
    return button;
}

// Replaces the citations in the text of `container` (a rendered answer) by
// buttons calling show(passage). Code and links are left alone.
export function linkCitations(container, passages, show) {
    const walker = document.createTreeWalker(container, NodeFilter.SHOW_TEXT, {
        acceptNode: (node) => (node.parentElement.closest("code, pre, a, button")
            ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT),
    });
    const nodes = [];
    while (walker.nextNode()) {
        nodes.push(walker.currentNode);
    }
    for (const node of nodes) {
        const citations = findCitations(node.data, passages);
        if (citations.length === 0) {
            continue;
        }
        const pieces = [];
        let position = 0;
        for (const citation of citations) {
            pieces.push(node.data.slice(position, citation.start));
            citation.passages.forEach((passage, index) => {
                pieces.push(...(index > 0 ? [" "] : []), citationButton(passage, show));
            });
            position = citation.end;
        }
        pieces.push(node.data.slice(position));
        node.replaceWith(...pieces.filter((piece) => piece !== ""));
    }
}
