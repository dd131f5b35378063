// The one-shot functions (Zusammenfassen, Texte formulieren, Einfache
// Sprache): the form is built from the function's file in web/functions/
// (its fields, their options and the prompt each option adds), the prompt
// from its template, and the answer is one streamed text to copy.
//
// Field types of a definition file:
//   text    a textarea; "upload": true adds a file chooser (PDF, DOCX,
//           TXT) whose text is put into the textarea
//   line    a one-line input; its "prompt" (with {value}) is added when filled
//   choice  radio buttons; the chosen option's "prompt" is added

import { AnswerList } from "../lib/answers.js";
import { ACCEPTED_TYPES, readDocument } from "../lib/documents.js";
import { element, formActions, viewFrame } from "../lib/dom.js";
import { counted } from "../lib/german.js";
import { fill, quoted } from "../lib/template.js";

const EXCERPT_CHARS = 280;

function hinted(id, hint) {
    return hint ? { "aria-describedby": `${id}-hint` } : {};
}

function hintOf(id, hint) {
    return hint ? element("span", { id: `${id}-hint`, class: "hint" }, hint) : null;
}

function choiceField(id, field) {
    const options = field.options.map((option) => element("label", { class: "option" },
        element("input", { type: "radio", name: id, value: option.value,
                           checked: option.value === field.default }),
        ` ${option.label}`));
    return element("fieldset", { class: "choice", id }, element("legend", {}, field.label),
                   ...options);
}

function lineField(id, field) {
    return element("p", { class: "field" }, element("label", { for: id }, field.label),
                   element("input", { type: "text", id, ...hinted(id, field.hint) }),
                   hintOf(id, field.hint));
}

function textField(id, field) {
    const nodes = [element("p", { class: "field" }, element("label", { for: id }, field.label),
                           element("textarea", { id, rows: field.rows || 6, required: field.required,
                                                 ...hinted(id, field.hint) }),
                           hintOf(id, field.hint))];
    if (field.upload) {
        nodes.push(element("p", { class: "field" },
                           element("label", { for: `${id}-file` }, "Datei (PDF, DOCX oder TXT)"),
                           element("input", { type: "file", id: `${id}-file`, accept: ACCEPTED_TYPES })));
    }
    return nodes;
}

const BUILDERS = { choice: choiceField, line: lineField, text: textField };

// The value of each field and the prompt text it adds: a choice adds its
// option's prompt, a filled line its prompt with {value}, a text itself.
function valuesOf(form, definition) {
    const values = {};
    const chosen = [];
    for (const field of definition.fields) {
        const id = `${definition.id}-${field.name}`;
        if (field.type === "choice") {
            const value = form.elements[id].value;
            const option = field.options.find((candidate) => candidate.value === value);
            values[field.name] = option.prompt;
            chosen.push(`${field.label}: ${option.label}`);
        } else if (field.type === "line") {
            const value = quoted(form.elements[id].value.trim(), { oneLine: true });
            values[field.name] = value === "" ? "" : fill(field.prompt, { value });
        } else {
            values[field.name] = quoted(form.elements[id].value.trim());
        }
    }
    return { values, chosen };
}

function excerpt(text) {
    return text.length <= EXCERPT_CHARS ? text : `${text.slice(0, EXCERPT_CHARS)} …`;
}

// Reads a chosen file into the textarea; the file itself is not kept.
// current() tells whether the view is still in the round the reading began
// in: a file that finishes after "Verlauf löschen", or after a file chosen
// later, is dropped.
async function takeFile(input, textarea, answers, page, current) {
    const file = input.files[0];
    if (!file) {
        return;
    }
    input.value = "";
    answers.setStatus(`„${file.name}“ wird gelesen …`);
    try {
        const read = await readDocument(file);
        if (!current()) {
            return;
        }
        textarea.value = read.pages.map((part) => part.text).join("\n\n");
        answers.setStatus(`Der Text aus „${file.name}“ (${counted(read.pages.length, read.unit)})`
            + " steht jetzt im Textfeld.");
    } catch (error) {
        if (current()) {
            answers.setStatus("");
            page.showNotice(error.message);   // readDocument: always a DocumentError
        }
    }
}

export function taskView(page, definition, section) {
    const id = definition.id;
    const { results, resultsNodes } = viewFrame(section, definition);
    const actions = formActions(id, definition.submit);
    const fields = definition.fields.flatMap((field) =>
        BUILDERS[field.type](`${id}-${field.name}`, field));
    const form = element("form", { id: `${id}-form`, class: "prompt-form" },
                         ...fields, ...actions.nodes);
    section.append(form, ...resultsNodes);
    const firstInput = form.querySelector("textarea, input");
    const answers = new AnswerList(page, { list: results, ...actions, input: firstInput },
                                   { copyLabel: definition.copy });
    let round = 0;

    for (const field of definition.fields.filter((candidate) => candidate.upload)) {
        const textarea = form.elements[`${id}-${field.name}`];
        const input = form.elements[`${id}-${field.name}-file`];
        input.addEventListener("change", () => {
            round += 1;
            const mine = round;
            takeFile(input, textarea, answers, page, () => mine === round);
        });
    }

    form.addEventListener("submit", async (event) => {
        event.preventDefault();
        if (answers.busy) {
            return;
        }
        page.showNotice("");
        const { values, chosen } = valuesOf(form, definition);
        const texts = definition.fields.filter((field) => field.type === "text");
        const length = texts.reduce((sum, field) => sum + values[field.name].length, 0);
        if (length > page.settings.maxInputChars) {
            page.showNotice(page.tooLong(length));
            return;
        }
        const shown = `${definition.title} (${chosen.join(", ")}):\n`
            + texts.map((field) => excerpt(values[field.name])).join("\n");
        const messages = [{ role: "system", content: definition.instructions },
                          { role: "user", content: fill(definition.prompt, values) }];
        await answers.ask({ functionId: id, messages, shown });
    });

    return {
        focusTarget: firstInput,
        clear() {
            round += 1;
            answers.clear();
            form.reset();
        },
    };
}
