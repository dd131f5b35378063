// "In Dokumenten recherchieren": documents are read in this tab
// (lib/documents.js), the passages that fit the question best go into the
// prompt, numbered (lib/passages.js: BM25 over page-sized passages, within
// the page's input budget), and the answer's citations of those numbers
// become buttons that show the cited passage. The documents stay in this
// module's memory until removed or "Verlauf löschen"; they are never sent
// anywhere but inside a prompt.

import { AnswerList } from "../lib/answers.js";
import { linkCitations } from "../lib/citations.js";
import { ACCEPTED_TYPES, readDocument } from "../lib/documents.js";
import { element, formActions, viewFrame } from "../lib/dom.js";
import { counted } from "../lib/german.js";
import { analyseDocument, selectPassages } from "../lib/passages.js";
import { fill, quoted } from "../lib/template.js";

// Room in the budget for the instructions and the question; and per passage
// for its heading and delimiters (besides the file name).
const PROMPT_OVERHEAD_CHARS = 2000;
const PASSAGE_OVERHEAD_CHARS = 43;   // "[999] (Datei: , Abschnitt 99999)", frame, join
// What a question must leave for the passages at least.
const MIN_PASSAGE_CHARS = 1000;

function placeOf(passage) {
    const part = passage.parts > 1 ? ` (Teil ${passage.part} von ${passage.parts})` : "";
    return `${passage.file}, ${passage.unit} ${passage.number}${part}`;
}

// The passages sent with one question, each one closed until asked for and
// a target for citations.
function sourcesList(prefix, passages) {
    const items = passages.map((passage) => element("li", {},
        element("details", { id: `${prefix}-${passage.id}`, class: "source" },
                element("summary", { class: "source-title" }, `[${passage.id}] ${placeOf(passage)}`),
                element("blockquote", {}, passage.text))));
    return element("details", { class: "sources" },
                   element("summary", {}, `Verwendete Textstellen (${passages.length})`),
                   element("ol", {}, ...items));
}

export function researchView(page, definition, section) {
    const id = definition.id;
    const { results, resultsNodes } = viewFrame(section, definition);
    const actions = formActions(id, definition.submit);
    const files = element("input", { type: "file", id: `${id}-files`, multiple: true,
                                     accept: ACCEPTED_TYPES,
                                     "aria-describedby": `${id}-files-hint` });
    const loaded = element("ul", { id: `${id}-documents`, class: "documents",
                                   "aria-labelledby": `${id}-documents-title` });
    const question = element("textarea", { id: `${id}-question`, rows: 3, required: true });
    const form = element("form", { id: `${id}-form`, class: "prompt-form" },
        element("p", { class: "field" },
                element("label", { for: files.id }, "Dokumente hinzufügen (PDF, DOCX oder TXT)"),
                files,
                element("span", { id: `${id}-files-hint`, class: "hint" },
                        "Sie können mehrere Dateien wählen. Sie werden nur in diesem Browser-Tab gelesen.")),
        element("h2", { id: `${id}-documents-title`, class: "small-heading" }, "Geladene Dokumente"),
        loaded,
        element("p", { class: "field" }, element("label", { for: question.id }, "Ihre Frage"), question),
        ...actions.nodes);
    section.append(form, ...resultsNodes);
    const answers = new AnswerList(page, { list: results, ...actions, input: question });
    let documents = [];
    let asked = 0;
    let round = 0;   // "Verlauf löschen" starts a new one: files still being read are dropped

    function showDocuments() {
        loaded.replaceChildren(...documents.map((uploaded) => {
            const remove = element("button", { type: "button", class: "link-button",
                                               "aria-label": `${uploaded.name} entfernen` }, "Entfernen");
            remove.addEventListener("click", () => {
                documents = documents.filter((other) => other !== uploaded);
                showDocuments();
                answers.setStatus(`„${uploaded.name}“ wurde entfernt.`);
                files.focus();
            });
            return element("li", {}, `${uploaded.name} (${counted(uploaded.pages.length, uploaded.unit)}) `,
                           remove);
        }));
        if (documents.length === 0) {
            loaded.append(element("li", { class: "hint" }, "Noch keine Dokumente."));
        }
    }

    async function addFiles() {
        const chosen = [...files.files];
        const mine = round;
        files.value = "";
        for (const file of chosen) {
            answers.setStatus(`„${file.name}“ wird gelesen …`);
            try {
                const read = await readDocument(file);
                if (mine !== round) {
                    return;
                }
                analyseDocument(read);   // now, so that the first question is quick too
                documents = [...documents.filter((other) => other.name !== read.name), read];
                showDocuments();
                answers.setStatus(`„${file.name}“ ist geladen (${counted(read.pages.length, read.unit)}).`);
            } catch (error) {
                if (mine !== round) {
                    return;
                }
                answers.setStatus("");
                page.showNotice(error.message);   // readDocument: always a DocumentError
            }
        }
    }

    async function ask(text) {
        const budget = page.settings.maxInputChars - PROMPT_OVERHEAD_CHARS - text.length;
        const passages = selectPassages(documents, text, Math.max(budget, MIN_PASSAGE_CHARS),
                                        { perPassageChars: PASSAGE_OVERHEAD_CHARS });
        const framed = passages.map((passage) => {
            const heading = fill(definition.passage_heading,
                                 { ...passage, file: quoted(passage.file, { oneLine: true }) });
            return `${heading}\n<<<\n${quoted(passage.text)}\n>>>`;
        });
        const messages = [{ role: "system", content: definition.instructions },
                          { role: "user", content: fill(definition.prompt,
                                                        { passages: framed.join("\n\n"),
                                                          question: quoted(text) }) }];
        asked += 1;
        const prefix = `${id}-${asked}-source`;
        let sources = null;
        const show = (passage) => {
            sources.open = true;
            const target = document.getElementById(`${prefix}-${passage.id}`);
            for (const other of sources.querySelectorAll(".cited")) {
                other.classList.remove("cited");
            }
            target.classList.add("cited");
            target.open = true;
            target.querySelector("summary").focus();
        };
        await answers.ask({
            functionId: id,
            messages,
            shown: `${text}\n(${documents.length === 1 ? "Dokument" : "Dokumente"}: `
                + `${documents.map((read) => read.name).join(", ")})`,
            attach: (item) => {
                sources = sourcesList(prefix, passages);
                item.append(sources);
            },
            decorate: (content) => linkCitations(content, passages, show),
        });
    }

    files.addEventListener("change", addFiles);
    form.addEventListener("submit", (event) => {
        event.preventDefault();
        const text = question.value.trim();
        if (text === "" || answers.busy) {
            return;
        }
        page.showNotice("");
        if (documents.length === 0) {
            page.showNotice("Bitte laden Sie zuerst mindestens ein Dokument hoch.");
            files.focus();
            return;
        }
        const longest = page.settings.maxInputChars - PROMPT_OVERHEAD_CHARS - MIN_PASSAGE_CHARS;
        if (text.length > longest) {
            page.showNotice(`Ihre Frage ist mit ${counted(text.length, "Zeichen")} zu lang `
                + `(höchstens ${counted(Math.max(longest, 0), "Zeichen")}), um noch Textstellen `
                + "mitzuschicken. Bitte fassen Sie sie kürzer.");
            return;
        }
        ask(text);
    });
    showDocuments();

    return {
        focusTarget: files,
        clear() {
            round += 1;
            answers.clear();
            documents = [];
            question.value = "";
            showDocuments();
        },
    };
}
