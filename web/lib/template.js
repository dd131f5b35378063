// Prompts from the templates of web/functions/*.json: "{name}" stands for
// the value of that name. Filled in one pass, so a value that itself
// contains "{...}" (a user's text) is never expanded.

// A template line that is nothing but one placeholder whose value is empty
// (an option without instruction, an optional field left blank) is dropped
// instead of leaving a blank line.
export function fill(template, values) {
    const lines = template.split("\n").filter((line) => {
        const only = line.match(/^\{([a-z_]+)\}$/);
        return only === null || String(values[only[1]] ?? "") !== "";
    });
    return lines.join("\n").replace(/\{([a-z_]+)\}/g, (whole, name) =>
        (Object.hasOwn(values, name) ? String(values[name]) : whole));
}

// Text a user pasted or a document holds goes between <<< and >>> in a
// prompt; inside it those marks (and line breaks in a one-line value such as
// a file name) are defused, so it cannot close its frame early and pose as
// instructions or a new question.
export function quoted(text, { oneLine = false } = {}) {
    const defused = text.replace(/<<</g, "‹‹‹").replace(/>>>/g, "›››");
    return oneLine ? defused.replace(/[\r\n]+/g, " ") : defused;
}
