// Citations in a research answer. The model is asked to cite the passages
// it was given by their number, "[2]" (or "[2, 5]"); some models copy the
// passage heading instead, "(Datei: bericht.pdf, Seite 3)", or both, "[2]
// (Datei: bericht.pdf, Seite 3)". All become buttons naming file and page
// that show the cited passage. A number or file the page did not send stays
// plain text: a citation can only point to a passage that was really in the
// prompt.
//
// Finding citations (findCitations) is pure and runs in Node's unit tests;
// linkCitations only puts buttons where it says.

import { shortPlace } from "./german.js";

// Answers are decorated on every streamed chunk, so both patterns must run
// in linear time: their parts are unambiguous (a number list has a
// separator between numbers; a file name cannot hold "(", ")" or "," and is
// at most 200 characters long), and neither can backtrack far.
const NUMBERS = /\[(\d{1,3}(?:\s*[,;]\s*\d{1,3})*)\]/g;
const HEADINGS = /\(([^(),\n]{1,200}),\s*(?:Seite|S\.|Abschnitt|Abschn\.)\s*(\d{1,5})\)/g;
const FILE_LABEL = /^\s*Datei:\s*/;

function placeKey(file, number) {
    return `${number}\n${file}`;
}

function headingCitations(text, passages) {
    const byPlace = new Map(passages.map((passage) => [placeKey(passage.file, passage.number), passage]));
    const found = [];
    for (const match of text.matchAll(HEADINGS)) {
        const file = match[1].replace(FILE_LABEL, "").trim();
        const passage = byPlace.get(placeKey(file, Number(match[2])));
        if (passage !== undefined) {
            found.push({ start: match.index, end: match.index + match[0].length, passages: [passage] });
        }
    }
    return found;
}

function numberCitations(text, passages) {
    const byId = new Map(passages.map((passage) => [passage.id, passage]));
    const found = [];
    for (const match of text.matchAll(NUMBERS)) {
        const cited = match[1].split(/\s*[,;]\s*/).map(Number).filter((id) => byId.has(id))
            .map((id) => byId.get(id));
        if (cited.length > 0) {
            found.push({ start: match.index, end: match.index + match[0].length, passages: cited });
        }
    }
    return found;
}

// Both lists in text order; a number inside a heading citation (a file
// named "Anlage [1].pdf") is part of the file name, not a citation.
function withoutOverlaps(headings, numbers) {
    const kept = [];
    let heading = 0;
    for (const number of numbers) {
        while (heading < headings.length && headings[heading].end <= number.start) {
            heading++;
        }
        if (heading === headings.length || number.end <= headings[heading].start) {
            kept.push(number);
        }
    }
    return [...headings, ...kept].sort((a, b) => a.start - b.start);
}

// "[2] (Datei: bericht.pdf, Seite 3)", a heading copied whole, is one
// citation when both name the same passage.
function mergeCopiedHeadings(text, citations) {
    const merged = [];
    for (const citation of citations) {
        const previous = merged.at(-1);
        if (previous !== undefined && text[previous.start] === "[" && text[citation.start] === "("
            && previous.passages.length === 1 && previous.passages[0] === citation.passages[0]
            && text.slice(previous.end, citation.start).trim() === "") {
            previous.end = citation.end;
        } else {
            merged.push(citation);
        }
    }
    return merged;
}

// Every citation in `text` as { start, end, passages }, in order and not
// overlapping. passages: [{ id, file, unit, number, ... }] as sent.
export function findCitations(text, passages) {
    const citations = withoutOverlaps(headingCitations(text, passages), numberCitations(text, passages));
    return mergeCopiedHeadings(text, citations);
}

// --- DOM ---------------------------------------------------------------------

// The visible "(bericht.pdf, S. 3)" says where, the hidden "Beleg: " tells a
// screen reader what the button is for.
function citationButton(passage, show) {
    const button = document.createElement("button");
    button.type = "button";
    button.className = "citation";
    const purpose = document.createElement("span");
    purpose.className = "visually-hidden";
    purpose.textContent = "Beleg: ";
    button.append(purpose, `(${passage.file}, ${shortPlace(passage.unit, passage.number)})`);
    button.addEventListener("click", () => show(passage));
    return button;
}

// The text of a node cut at its citations: strings and buttons.
function citedPieces(text, citations, show) {
    const pieces = [];
    let position = 0;
    for (const citation of citations) {
        pieces.push(text.slice(position, citation.start));
        citation.passages.forEach((passage, index) => {
            pieces.push(...(index > 0 ? [" "] : []), citationButton(passage, show));
        });
        position = citation.end;
    }
    pieces.push(text.slice(position));
    return pieces.filter((piece) => piece !== "");
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
        if (citations.length > 0) {
            node.replaceWith(...citedPieces(node.data, citations, show));
        }
    }
}
