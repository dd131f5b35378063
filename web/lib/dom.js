// Building markup from DOM nodes: attributes are set as attributes and text
// is always text (never parsed as HTML), so whatever a definition file, a
// document or a model says cannot become markup.

// element("p", { class: "field" }, "text", child, ...); an attribute whose
// value is false, null or undefined is left out, true sets it empty.
export function element(tag, attributes = {}, ...children) {
    const node = document.createElement(tag);
    for (const [name, value] of Object.entries(attributes)) {
        if (value === true) {
            node.setAttribute(name, "");
        } else if (value !== false && value !== null && value !== undefined) {
            node.setAttribute(name, String(value));
        }
    }
    node.append(...children.filter((child) => child !== null && child !== undefined));
    return node;
}

// The send / stop buttons and status line every function's form ends with.
export function formActions(id, submitLabel) {
    const send = element("button", { type: "submit", id: `${id}-send`, class: "primary" }, submitLabel);
    const stop = element("button", { type: "button", id: `${id}-stop`, disabled: true }, "Antwort stoppen");
    const status = element("p", { id: `${id}-status`, class: "status", role: "status" });
    return { send, stop, status, nodes: [element("div", { class: "actions" }, send, stop), status] };
}

// The heading, the description and the results list of a view (answers
// are read out through lib/answers.js's live region, not the list's).
export function viewFrame(section, definition) {
    const id = definition.id;
    const results = element("ol", { id: `${id}-results`, class: "history",
                                     "aria-labelledby": `${id}-results-title` });
    section.setAttribute("aria-labelledby", `${id}-title`);
    section.append(
        element("h1", { id: `${id}-title`, tabindex: "-1" }, definition.title),
        element("p", { class: "hint" }, definition.description),
    );
    const resultsHeading = element("h2", { id: `${id}-results-title`, class: "visually-hidden" },
                                   "Ergebnisse");
    return { results, resultsNodes: [resultsHeading, results] };
}
