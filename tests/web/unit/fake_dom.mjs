// Just enough of a DOM for the thin DOM parts of web/lib/render.js and
// web/lib/citations.js: elements and text nodes, append / replaceChildren /
// replaceWith, textContent, closest() by tag name, click listeners and a
// TreeWalker over text nodes. Everything that decides what is shown is
// parsed by pure functions tested without it; this only checks the wiring.
//
// installFakeDocument() sets globalThis.document and NodeFilter (each test
// file runs in its own process, so they do not leak into other files).

class FakeNode {
    constructor() {
        this.parentNode = null;
    }

    get parentElement() {
        return this.parentNode;
    }

    replaceWith(...nodes) {
        const parent = this.parentNode;
        const index = parent.childNodes.indexOf(this);
        const replacements = nodes.map(asNode);
        for (const node of replacements) {
            node.parentNode = parent;
        }
        parent.childNodes.splice(index, 1, ...replacements);
        this.parentNode = null;
    }
}

class FakeText extends FakeNode {
    constructor(data) {
        super();
        this.data = String(data);
    }

    get textContent() {
        return this.data;
    }
}

function asNode(node) {
    return node instanceof FakeNode ? node : new FakeText(node);
}

class FakeElement extends FakeNode {
    constructor(tagName) {
        super();
        this.tagName = tagName.toUpperCase();
        this.childNodes = [];
        this.listeners = [];
    }

    get children() {
        return this.childNodes.filter((node) => node instanceof FakeElement);
    }

    get textContent() {
        return this.childNodes.map((node) => node.textContent).join("");
    }

    set textContent(text) {
        this.replaceChildren(...(text === "" ? [] : [text]));
    }

    append(...nodes) {
        for (const node of nodes.map(asNode)) {
            node.parentNode?.childNodes.splice(node.parentNode.childNodes.indexOf(node), 1);
            node.parentNode = this;
            this.childNodes.push(node);
        }
    }

    replaceChildren(...nodes) {
        for (const node of this.childNodes) {
            node.parentNode = null;
        }
        this.childNodes = [];
        this.append(...nodes);
    }

    // selectors: a list of tag names, "code, pre, a"
    closest(selectors) {
        const tags = selectors.split(",").map((tag) => tag.trim().toUpperCase());
        for (let node = this; node !== null; node = node.parentNode) {
            if (tags.includes(node.tagName)) {
                return node;
            }
        }
        return null;
    }

    addEventListener(type, listener) {
        this.listeners.push({ type, listener });
    }

    click() {
        for (const { type, listener } of this.listeners) {
            if (type === "click") {
                listener({ type });
            }
        }
    }
}

const NODE_FILTER = { SHOW_TEXT: 4, FILTER_ACCEPT: 1, FILTER_REJECT: 2, FILTER_SKIP: 3 };

// The text nodes under root in document order that filter.acceptNode accepts.
function createTreeWalker(root, whatToShow, filter) {
    const accepted = [];
    const visit = (node) => {
        for (const child of node.childNodes) {
            if (child instanceof FakeText) {
                if (filter.acceptNode(child) === NODE_FILTER.FILTER_ACCEPT) {
                    accepted.push(child);
                }
            } else {
                visit(child);
            }
        }
    };
    visit(root);
    let index = -1;
    return {
        get currentNode() {
            return accepted[index];
        },
        nextNode() {
            index += 1;
            return index < accepted.length ? accepted[index] : null;
        },
    };
}

export function installFakeDocument() {
    globalThis.NodeFilter = NODE_FILTER;
    globalThis.document = {
        createElement: (tagName) => new FakeElement(tagName),
        createTextNode: (data) => new FakeText(data),
        createTreeWalker,
    };
    return globalThis.document;
}

// An element tree as plain data, for deepEqual: text nodes as strings,
// elements as [tagName, { className, href, ... }, ...children].
export function tree(node) {
    if (node instanceof FakeText) {
        return node.data;
    }
    const properties = {};
    for (const name of ["className", "href", "rel", "target", "type"]) {
        if (node[name] !== undefined) {
            properties[name] = node[name];
        }
    }
    return [node.tagName.toLowerCase(), properties, ...node.childNodes.map(tree)];
}
