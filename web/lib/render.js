// Minimal Markdown for model answers, built from DOM nodes and textContent
// only. Model output is untrusted (a prompt can inject anything into it), so
// nothing here ever parses it as HTML: a "<script>" in an answer is shown as
// the text "<script>". Links are made only for http(s) URLs; any other
// scheme (javascript:, data:, ...) stays plain text. Images are never loaded.
//
// Supported: paragraphs, line breaks, # headings (shown as h3-h5), - / * / 1.
// lists, ``` code blocks, `code`, **bold**, *italic*, [text](https://...).

const INLINE = /(`[^`\n]+`)|(\*\*[^*\n]+\*\*)|(\*[^*\n]+\*)|(\[[^\]\n]*\]\([^)\s]*\))/;

function safeHref(url) {
    try {
        const parsed = new URL(url);
        return parsed.protocol === "https:" || parsed.protocol === "http:" ? parsed.href : null;
    } catch {
        return null;
    }
}

function appendLink(parent, token) {
    const [, text, url] = token.match(/^\[([^\]]*)\]\(([^)]*)\)$/);
    const href = safeHref(url);
    if (href === null) {
        parent.append(document.createTextNode(token));
        return;
    }
    const link = document.createElement("a");
    link.href = href;
    link.rel = "noopener noreferrer nofollow";
    link.target = "_blank";
    link.textContent = text || href;
    parent.append(link);
}

function appendInline(parent, text) {
    let rest = text;
    let match;
    while ((match = INLINE.exec(rest)) !== null) {
        if (match.index > 0) {
            parent.append(document.createTextNode(rest.slice(0, match.index)));
        }
        const token = match[0];
        if (match[1]) {
            const code = document.createElement("code");
            code.textContent = token.slice(1, -1);
            parent.append(code);
        } else if (match[2] || match[3]) {
            const strong = document.createElement(match[2] ? "strong" : "em");
            const marks = match[2] ? 2 : 1;
            strong.textContent = token.slice(marks, -marks);
            parent.append(strong);
        } else {
            appendLink(parent, token);
        }
        rest = rest.slice(match.index + token.length);
    }
    if (rest !== "") {
        parent.append(document.createTextNode(rest));
    }
}

function appendLines(parent, lines) {
    lines.forEach((line, index) => {
        if (index > 0) {
            parent.append(document.createElement("br"));
        }
        appendInline(parent, line);
    });
}

function listKind(line) {
    if (/^\s*[-*]\s+/.test(line)) {
        return "ul";
    }
    return /^\s*\d+[.)]\s+/.test(line) ? "ol" : null;
}

function renderBlock(container, lines) {
    const heading = lines[0].match(/^(#{1,6})\s+(.*)$/);
    if (heading !== null && lines.length === 1) {
        const element = document.createElement(`h${Math.min(heading[1].length + 2, 6)}`);
        appendInline(element, heading[2]);
        container.append(element);
        return;
    }
    const kind = listKind(lines[0]);
    if (kind !== null && lines.every((line) => listKind(line) === kind)) {
        const list = document.createElement(kind);
        for (const line of lines) {
            const item = document.createElement("li");
            appendInline(item, line.replace(/^\s*([-*]|\d+[.)])\s+/, ""));
            list.append(item);
        }
        container.append(list);
        return;
    }
    const paragraph = document.createElement("p");
    appendLines(paragraph, lines);
    container.append(paragraph);
}

// Replaces container's children with the rendering of text.
export function renderMarkdown(container, text) {
    container.replaceChildren();
    const lines = text.split(/\r?\n/);
    let block = [];
    let code = null;
    const flush = () => {
        if (block.length > 0) {
            renderBlock(container, block);
        }
        block = [];
    };
    for (const line of lines) {
        if (code !== null) {
            if (/^\s*```/.test(line)) {
                container.append(code.parentNode);
                code = null;
            } else {
                code.textContent += (code.textContent ? "\n" : "") + line;
            }
        } else if (/^\s*```/.test(line)) {
            flush();
            const pre = document.createElement("pre");
            code = document.createElement("code");
            pre.append(code);
        } else if (line.trim() === "") {
            flush();
        } else if (/^#{1,6}\s/.test(line)) {
            flush();
            block = [line];
            flush();
        } else {
            block.push(line);
        }
    }
    if (code !== null) {
        container.append(code.parentNode);
    }
    flush();
}
