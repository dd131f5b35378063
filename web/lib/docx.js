// The text of a Word document (DOCX, Office Open XML), read without a
// library: a small ZIP reader for the package and a small tokenizer for the
// WordprocessingML inside. No DOM: the same code runs in Node's unit tests.
//
// docxPages() returns the text of each page as far as the file knows its
// pages: Word writes hard page breaks (<w:br w:type="page"/>) and, when it
// saves, where its layout last broke pages (<w:lastRenderedPageBreak/>). A
// file with neither comes back as a single page. Problems are DocxError with
// a .reason the caller turns into a message for the user.

// An uncompressed part larger than this is refused: 50 MB of XML are far
// beyond any real document and a typical ZIP bomb's first step.
export const MAX_UNPACKED_BYTES = 50 * 1024 * 1024;

export class DocxError extends Error {
    // reason: "broken" (not a readable ZIP), "encrypted", "too_large"
    // (ZIP64 or a part over MAX_UNPACKED_BYTES), "no_document" (a ZIP, but
    // without a Word document in it), "unsupported_browser" (no
    // DecompressionStream)
    constructor(reason) {
        super(`docx: ${reason}`);
        this.name = "DocxError";
        this.reason = reason;
    }
}

// --- ZIP ---------------------------------------------------------------------

const END_OF_DIRECTORY_SIGNATURE = 0x06054b50;
const DIRECTORY_ENTRY_SIGNATURE = 0x02014b50;
const LOCAL_HEADER_SIGNATURE = 0x04034b50;
const END_OF_DIRECTORY_SIZE = 22;
const DIRECTORY_ENTRY_SIZE = 46;
const LOCAL_HEADER_SIZE = 30;
const MAX_COMMENT_LENGTH = 0xffff;
const ZIP64_MARK_16 = 0xffff;
const ZIP64_MARK_32 = 0xffffffff;
const FLAG_ENCRYPTED = 0x0001;
const METHOD_STORED = 0;
const METHOD_DEFLATED = 8;

// Bytes of the file; the view may be a window into a larger buffer (Node's
// Buffer pool), so the bounds are the view's, checked here.
function bytesAt(view, offset, length) {
    if (offset + length > view.byteLength) {
        throw new DocxError("broken");
    }
    return new Uint8Array(view.buffer, view.byteOffset + offset, length);
}

// The end-of-central-directory record is the last thing in the file, but a
// comment of up to 64 KiB may follow it, so it is searched for backwards.
function findEndOfDirectory(view) {
    const last = view.byteLength - END_OF_DIRECTORY_SIZE;
    const first = Math.max(0, last - MAX_COMMENT_LENGTH);
    for (let offset = last; offset >= first; offset--) {
        if (view.getUint32(offset, true) === END_OF_DIRECTORY_SIGNATURE) {
            return offset;
        }
    }
    throw new DocxError("broken");
}

// The central directory lists every entry with its real sizes (the local
// headers may leave them zero when a data descriptor follows the data).
function directoryEntries(view) {
    const end = findEndOfDirectory(view);
    const count = view.getUint16(end + 10, true);
    const directorySize = view.getUint32(end + 12, true);
    let offset = view.getUint32(end + 16, true);
    // sizes that do not fit 16 or 32 bits are kept in ZIP64 records instead
    if (count === ZIP64_MARK_16 || directorySize === ZIP64_MARK_32 || offset === ZIP64_MARK_32) {
        throw new DocxError("too_large");
    }
    const names = new TextDecoder();
    const entries = new Map();
    for (let index = 0; index < count; index++) {
        if (view.getUint32(offset, true) !== DIRECTORY_ENTRY_SIGNATURE) {
            throw new DocxError("broken");
        }
        const nameLength = view.getUint16(offset + 28, true);
        const name = names.decode(bytesAt(view, offset + DIRECTORY_ENTRY_SIZE, nameLength));
        entries.set(name, {
            flags: view.getUint16(offset + 8, true),
            method: view.getUint16(offset + 10, true),
            compressedSize: view.getUint32(offset + 20, true),
            size: view.getUint32(offset + 24, true),
            localOffset: view.getUint32(offset + 42, true),
        });
        offset += DIRECTORY_ENTRY_SIZE + nameLength
            + view.getUint16(offset + 30, true) + view.getUint16(offset + 32, true);
    }
    return entries;
}

function checkEntry(entry) {
    if ((entry.flags & FLAG_ENCRYPTED) !== 0) {
        throw new DocxError("encrypted");
    }
    if (entry.size === ZIP64_MARK_32 || entry.compressedSize === ZIP64_MARK_32
        || entry.localOffset === ZIP64_MARK_32 || entry.size > MAX_UNPACKED_BYTES) {
        throw new DocxError("too_large");
    }
    if (entry.method !== METHOD_STORED && entry.method !== METHOD_DEFLATED) {
        throw new DocxError("broken");
    }
}

function compressedData(view, entry) {
    const offset = entry.localOffset;
    if (view.getUint32(offset, true) !== LOCAL_HEADER_SIGNATURE) {
        throw new DocxError("broken");
    }
    const start = offset + LOCAL_HEADER_SIZE
        + view.getUint16(offset + 26, true) + view.getUint16(offset + 28, true);
    return bytesAt(view, start, entry.compressedSize);
}

function concatenate(chunks, length) {
    const bytes = new Uint8Array(length);
    let offset = 0;
    for (const chunk of chunks) {
        bytes.set(chunk, offset);
        offset += chunk.byteLength;
    }
    return bytes;
}

function inflater() {
    if (typeof DecompressionStream !== "function") {
        throw new DocxError("unsupported_browser");
    }
    try {
        return new DecompressionStream("deflate-raw");
    } catch {
        throw new DocxError("unsupported_browser");
    }
}

// Inflates while counting: the size in the directory is the packer's word
// only, so the limit is enforced on the bytes that actually come out.
async function inflate(data) {
    const reader = new Blob([data]).stream().pipeThrough(inflater()).getReader();
    const chunks = [];
    let length = 0;
    try {
        for (;;) {
            const { value, done } = await reader.read();
            if (done) {
                return concatenate(chunks, length);
            }
            length += value.byteLength;
            if (length > MAX_UNPACKED_BYTES) {
                reader.cancel().catch(() => {});
                throw new DocxError("too_large");
            }
            chunks.push(value);
        }
    } catch (error) {
        throw error instanceof DocxError ? error : new DocxError("broken");
    }
}

async function entryText(view, entry) {
    checkEntry(entry);
    const data = compressedData(view, entry);
    const bytes = entry.method === METHOD_STORED ? data : await inflate(data);
    return new TextDecoder().decode(bytes);
}

// --- XML ---------------------------------------------------------------------

const NAMED_ENTITIES = { amp: "&", lt: "<", gt: ">", quot: "\"", apos: "'" };

function decodeEntity(entity, body) {
    if (body[0] !== "#") {
        return NAMED_ENTITIES[body] ?? entity;
    }
    const code = body[1] === "x" || body[1] === "X"
        ? parseInt(body.slice(2), 16) : parseInt(body.slice(1), 10);
    return code > 0 && code <= 0x10ffff ? String.fromCodePoint(code) : "\ufffd";
}

function decodeXmlEntities(text) {
    return text.replace(/&(#[0-9]+|#[xX][0-9a-fA-F]+|[a-z]+);/g, decodeEntity);
}

// Prefixes are the writer's choice (w: in practice, but not required), so
// elements are recognised by their local name.
function localName(qualifiedName) {
    return qualifiedName.slice(qualifiedName.indexOf(":") + 1);
}

const PAGE_BREAK_TYPE = /(?:^|\s)(?:[\w-]+:)?type\s*=\s*("page"|'page')/;

// Collects the text of a document.xml's pages as its tokens go by.
class PageCollector {
    constructor() {
        this.pages = [];
        this.text = "";
        this.inText = false;
        this.fallbackDepth = 0;
        this.afterHardBreak = false;
    }

    // Word also records where its layout broke the page right after a hard
    // break; that is the same page boundary and must not count twice.
    pageBreak(hard) {
        if (!hard && this.afterHardBreak) {
            return;
        }
        this.pages.push(this.text);
        this.text = "";
        this.afterHardBreak = hard;
    }

    characters(text) {
        if (this.inText && this.fallbackDepth === 0) {
            this.text += decodeXmlEntities(text);
            this.afterHardBreak = false;
        }
    }

    open(name, attributes, empty) {
        // mc:Fallback repeats mc:Choice's content (text boxes) for old readers
        if (name === "Fallback") {
            this.fallbackDepth += empty ? 0 : 1;
        }
        if (this.fallbackDepth > 0) {
            return;
        }
        if (name === "t") {
            this.inText = !empty;
        } else if (name === "p" && empty) {
            this.text += "\n";
        } else {
            this.runElement(name, attributes);
        }
    }

    // The elements (of a run) that stand for characters or breaks; all
    // others carry no text.
    runElement(name, attributes) {
        // a tab character has no attributes; w:tab with w:val and w:pos is a
        // tab stop in the paragraph's properties
        if ((name === "tab" && attributes.trim() === "") || name === "ptab") {
            this.text += "\t";
        } else if (name === "br" && PAGE_BREAK_TYPE.test(attributes)) {
            this.pageBreak(true);
        } else if (name === "br" || name === "cr") {
            this.text += "\n";
        } else if (name === "lastRenderedPageBreak") {
            this.pageBreak(false);
        } else if (name === "noBreakHyphen") {
            this.text += "-";
        }
    }

    close(name) {
        if (name === "Fallback") {
            this.fallbackDepth = Math.max(0, this.fallbackDepth - 1);
        }
        if (this.fallbackDepth > 0) {
            return;
        }
        if (name === "t") {
            this.inText = false;
        } else if (name === "p") {
            this.text += "\n";
        }
    }

    finish() {
        this.pages.push(this.text);
        return this.pages;
    }
}

// A scanner by hand rather than one regular expression over the part: a
// pattern with nested repetition backtracks on input such as "<!" repeated
// or "<" and a long name without ">" (cubic and quadratic time), and a few
// hundred compressed bytes of that would freeze the tab. Each scan below
// stops at the next "<", which well-formed XML never has inside a tag, so
// every character is looked at a bounded number of times.

const TAG_NAME_ENDS = " \t\r\n/<>";

// Where the tag name beginning at `position` ends.
function tagNameEnd(xml, position) {
    let end = position;
    while (end < xml.length && !TAG_NAME_ENDS.includes(xml[end])) {
        end++;
    }
    return end;
}

// Where the attributes beginning at `position` end (at the tag's ">" or
// "/>"), or -1 when the tag is not closed before the next "<".
function attributesEnd(xml, position) {
    let end = position;
    while (end < xml.length) {
        const character = xml[end];
        if (character === ">" || (character === "/" && xml[end + 1] === ">")) {
            return end;
        }
        if (character === "<") {
            return -1;
        }
        if (character === "\"" || character === "'") {
            end = endBeforeNextTag(xml, end + 1, character);
            if (end < 0) {
                return -1;
            }
        }
        end++;
    }
    return -1;
}

// The first `wanted` character from `position` on, or -1 when a "<" or the
// end comes first.
function endBeforeNextTag(xml, position, wanted) {
    for (let end = position; end < xml.length; end++) {
        if (xml[end] === wanted) {
            return end;
        }
        if (xml[end] === "<") {
            return -1;
        }
    }
    return -1;
}

// Hands the tag at `start` (a "<") to the handler; returns where the scan
// goes on. Comments, processing instructions and declarations are
// skipped; a comment never closed hides the rest of the part. A "<" that
// begins no markup is dropped and what follows it is character data.
function readMarkup(xml, start, handler) {
    if (xml.startsWith("<!--", start)) {
        const end = xml.indexOf("-->", start + 4);
        return end < 0 ? xml.length : end + 3;
    }
    if (xml[start + 1] === "?" || xml[start + 1] === "!") {
        const end = endBeforeNextTag(xml, start + 2, ">");
        return end < 0 ? start + 1 : end + 1;
    }
    const closing = xml[start + 1] === "/";
    const nameStart = closing ? start + 2 : start + 1;
    const nameEnd = tagNameEnd(xml, nameStart);
    const end = nameEnd > nameStart ? attributesEnd(xml, nameEnd) : -1;
    if (end < 0) {
        return start + 1;
    }
    const name = localName(xml.slice(nameStart, nameEnd));
    const empty = xml[end] === "/";
    if (closing) {
        handler.close(name);
    } else {
        handler.open(name, xml.slice(nameEnd, end), empty);
    }
    return empty ? end + 2 : end + 1;
}

// Calls handler.open(localName, attributes, empty), handler.close(localName)
// and handler.characters(text) (entities not yet decoded) in document order.
function scanXml(xml, handler) {
    let position = 0;
    while (position < xml.length) {
        if (xml[position] === "<") {
            position = readMarkup(xml, position, handler);
            continue;
        }
        const next = xml.indexOf("<", position);
        const end = next < 0 ? xml.length : next;
        handler.characters(xml.slice(position, end));
        position = end;
    }
}

// The text of each page of a WordprocessingML document part.
export function documentXmlPages(xml) {
    const collector = new PageCollector();
    scanXml(xml, collector);
    return collector.finish();
}

// --- the package -------------------------------------------------------------

const DEFAULT_DOCUMENT_PART = "word/document.xml";
const OFFICE_DOCUMENT_TYPE = /\bType\s*=\s*(?:"[^"]*\/officeDocument"|'[^']*\/officeDocument')/;
const TARGET = /\bTarget\s*=\s*(?:"([^"]*)"|'([^']*)')/;

// The Target of the first relationship of type officeDocument, or undefined.
function officeDocumentTarget(relationshipsXml) {
    let target;
    scanXml(relationshipsXml, {
        characters() {},
        close() {},
        open(name, attributes) {
            if (target === undefined && name === "Relationship" && OFFICE_DOCUMENT_TYPE.test(attributes)) {
                const match = attributes.match(TARGET);
                target = match ? match[1] ?? match[2] : undefined;
            }
        },
    });
    return target;
}

// The main part is whatever the package relationships name as the office
// document; Word calls it word/document.xml, some converters do not.
async function documentPartName(view, entries) {
    const relationships = entries.get("_rels/.rels");
    if (relationships === undefined) {
        return DEFAULT_DOCUMENT_PART;
    }
    const target = officeDocumentTarget(await entryText(view, relationships));
    return target === undefined ? DEFAULT_DOCUMENT_PART : decodeXmlEntities(target).replace(/^\//, "");
}

async function readPackage(view) {
    const entries = directoryEntries(view);
    const document = entries.get(await documentPartName(view, entries));
    if (document === undefined) {
        throw new DocxError("no_document");
    }
    return documentXmlPages(await entryText(view, document));
}

// The text of each page of a DOCX file (an ArrayBuffer or Uint8Array);
// paragraphs end with "\n", tabs stay "\t". Throws DocxError.
export async function docxPages(data) {
    const bytes = data instanceof Uint8Array ? data : new Uint8Array(data);
    const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    try {
        return await readPackage(view);
    } catch (error) {
        // offsets read from a damaged file point anywhere; DataView says so
        throw error instanceof RangeError ? new DocxError("broken") : error;
    }
}
