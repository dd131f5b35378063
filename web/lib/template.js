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
