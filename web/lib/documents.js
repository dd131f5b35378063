// Reading a file the user chose for "In Dokumenten recherchieren": its text,
// page by page, extracted here in the browser. The file is never uploaded;
// its text leaves the page only inside the prompt.
//
// readDocument(file) -> { name, unit, pages: [{ number, text }] }
//   unit "Seite":     number is the page of the document (PDF; DOCX with
//                     page breaks; TXT split at form feeds; a short DOCX
//                     without page breaks is page 1)
//   unit "Abschnitt": number counts sections of about SECTION_CHARS
//                     characters, cut at paragraph or line ends, of a text
//                     without page information (TXT, long DOCX)
// Pages without text are left out; the others keep their numbers. Every
// failure is a DocumentError whose message is a German sentence naming the
// file, ready to be shown.

import { docxPages } from "./docx.js";
import { splitText } from "./passages.js";

export const ACCEPTED_TYPES = ".pdf,.docx,.txt,application/pdf,application/vnd.openxmlformats-officedocument.wordprocessingml.document,text/plain";
export const MAX_FILE_BYTES = 20 * 1024 * 1024;

const SECTION_CHARS = 3000;
const DOCX_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";

// Debian's pdf.js (libjs-pdf), served by nginx next to the page.
const PDFJS_SCRIPT = "vendor/pdfjs/pdf.js";
const PDFJS_WORKER = "vendor/pdfjs/pdf.worker.js";

export class DocumentError extends Error {
    constructor(message, options) {
        super(message, options);
        this.name = "DocumentError";
    }
}

// Why a file cannot be read. docx.js's DocxError carries a .reason from the
// same list, so both are turned into messages by documentErrorFor().
class Unreadable extends Error {
    constructor(reason, options) {
        super(`document: ${reason}`, options);
        this.reason = reason;
    }
}

const MESSAGES = {
    too_big: (name) => `Die Datei „${name}“ ist größer als 20 MB. Bitte teilen Sie sie auf oder laden Sie eine kleinere Fassung hoch.`,
    empty_file: (name) => `Die Datei „${name}“ ist leer.`,
    unsupported: (name) => `Die Datei „${name}“ hat ein Format, das hier nicht gelesen werden kann. Bitte laden Sie PDF-, Word- (DOCX) oder Textdateien (TXT) hoch.`,
    legacy_word: (name) => `Die Datei „${name}“ ist im alten Word-Format (.doc) gespeichert. Bitte speichern Sie sie in Word als DOCX oder PDF und laden Sie sie erneut hoch.`,
    encrypted: (name) => `Die Datei „${name}“ ist mit einem Passwort geschützt. Bitte heben Sie den Passwortschutz auf und laden Sie die Datei erneut hoch.`,
    broken: (name) => `Die Datei „${name}“ ist beschädigt und kann nicht gelesen werden.`,
    no_document: (name) => `Die Datei „${name}“ ist kein Word-Dokument und kann nicht gelesen werden.`,
    too_large: (name) => `Die Datei „${name}“ ist entpackt zu groß (mehr als 50 MB) und wird deshalb nicht gelesen.`,
    no_text: (name) => `Die Datei „${name}“ enthält keinen Text.`,
    scanned: (name) => `Die Datei „${name}“ enthält keinen Text – vermutlich eine eingescannte Seite. Bitte laden Sie eine Fassung mit Texterkennung (OCR) hoch.`,
    pdf_unavailable: (name) => `Die Datei „${name}“ kann nicht gelesen werden, weil das Programm zum Lesen von PDF-Dateien auf dem Server fehlt. Bitte wenden Sie sich an Ihre IT-Servicestelle.`,
    unsupported_browser: (name) => `Die Datei „${name}“ kann in diesem Browser nicht gelesen werden. Bitte verwenden Sie eine aktuelle Version von Firefox, Chrome, Edge oder Safari.`,
};

function documentErrorFor(error, name) {
    if (error instanceof DocumentError) {
        return error;
    }
    const message = MESSAGES[error?.reason] ?? MESSAGES.broken;
    return new DocumentError(message(name), { cause: error });
}

// --- text --------------------------------------------------------------------

// Soft hyphens, zero-width spaces and control characters other than
// whitespace (from PDFs and old encodings) carry nothing for the reader.
const INVISIBLE = /[\u00ad\u200b]|(?![\t\n\v\f\r])\p{Cc}/gu;

// Runs of spaces and tabs become one space, lines are trimmed, blank lines
// in a row become one: paragraph breaks stay, layout noise goes.
function normalizeText(text) {
    return text.replace(/\r\n?/g, "\n")
        .replace(INVISIBLE, "")
        .replace(/[^\S\n]+/g, " ")
        .split("\n").map((line) => line.trim()).join("\n")
        .replace(/\n{3,}/g, "\n\n")
        .trim();
}

// Page texts in document order (page n at index n - 1) as pages; empty
// pages are left out without renumbering the others.
function numberedPages(texts) {
    return texts.map((text, index) => ({ number: index + 1, text: normalizeText(text) }))
        .filter((page) => page.text !== "");
}

function sections(text) {
    return { unit: "Abschnitt", texts: splitText(normalizeText(text), SECTION_CHARS) };
}

// --- the format --------------------------------------------------------------

const ZIP_SIGNATURE = [0x50, 0x4b, 0x03, 0x04];
// Compound File Binary: Word before 2007, and also every password-protected
// DOCX, which Office wraps encrypted into such a container.
const COMPOUND_FILE_SIGNATURE = [0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1];
const UTF16_LE_MARK = [0xff, 0xfe];
const UTF16_BE_MARK = [0xfe, 0xff];
const TEXT_PROBE_BYTES = 8192;
// Readers accept the PDF header anywhere in the first KiB, so junk before
// it (some scanners and mail gateways write it) is no reason to refuse.
const PDF_HEADER_WINDOW = 1024;

function startsWith(bytes, signature) {
    return signature.every((byte, index) => bytes[index] === byte);
}

function extensionOf(name) {
    const match = /\.([^.]+)$/.exec(name);
    return match === null ? "" : match[1].toLowerCase();
}

function hasPdfHeader(bytes) {
    return String.fromCharCode(...bytes.subarray(0, PDF_HEADER_WINDOW)).includes("%PDF-");
}

// NUL bytes do not occur in text files, except in UTF-16 ones.
function looksLikeText(bytes) {
    return startsWith(bytes, UTF16_LE_MARK) || startsWith(bytes, UTF16_BE_MARK)
        || !bytes.subarray(0, TEXT_PROBE_BYTES).includes(0);
}

// "pdf", "docx" or "txt", by the file's first bytes together with its
// name; the browser's type alone comes from the name and proves nothing.
function formatOf(file, bytes) {
    const extension = extensionOf(file.name);
    const claimsDocx = extension === "docx" || file.type === DOCX_TYPE;
    if (hasPdfHeader(bytes)) {
        return "pdf";
    }
    if (startsWith(bytes, ZIP_SIGNATURE) && claimsDocx) {
        return "docx";
    }
    if (startsWith(bytes, COMPOUND_FILE_SIGNATURE) && (claimsDocx || extension === "doc")) {
        throw new Unreadable(claimsDocx ? "encrypted" : "legacy_word");
    }
    if ((extension === "txt" || file.type === "text/plain") && looksLikeText(bytes)) {
        return "txt";
    }
    throw new Unreadable(extension === "pdf" || claimsDocx ? "broken" : "unsupported");
}

// --- PDF ---------------------------------------------------------------------

let pdfjsLoading = null;

function pdfjsFromScript() {
    if (globalThis.pdfjsLib !== undefined) {
        return Promise.resolve(globalThis.pdfjsLib);
    }
    return new Promise((resolve, reject) => {
        const script = document.createElement("script");
        script.src = PDFJS_SCRIPT;
        script.addEventListener("load", () => {
            if (globalThis.pdfjsLib === undefined) {
                reject(new Unreadable("pdf_unavailable"));
            } else {
                resolve(globalThis.pdfjsLib);
            }
        });
        script.addEventListener("error", () => {
            script.remove();
            reject(new Unreadable("pdf_unavailable"));
        });
        document.head.append(script);
    });
}

// pdf.js is large and only needed for PDFs, so its script joins the page
// with the first PDF. A failed load is forgotten: the next PDF tries again.
function loadPdfjs() {
    if (pdfjsLoading === null) {
        pdfjsLoading = pdfjsFromScript().then((pdfjs) => {
            pdfjs.GlobalWorkerOptions.workerSrc ||= PDFJS_WORKER;
            return pdfjs;
        });
        pdfjsLoading.catch(() => {
            pdfjsLoading = null;
        });
    }
    return pdfjsLoading;
}

// pdf.js ends each line of text with hasEOL; items in a line already carry
// the spaces between words.
async function pageText(pdf, number) {
    const page = await pdf.getPage(number);
    const content = await page.getTextContent();
    page.cleanup();
    return content.items.map((item) => (item.str ?? "") + (item.hasEOL ? "\n" : "")).join("");
}

function pdfReason(error) {
    if (error?.name === "PasswordException") {
        return "encrypted";
    }
    // pdf.worker.js missing: pdf.js falls back to loading it in the page,
    // which fails the same way and is reported with this message
    if (String(error?.message).startsWith("Setting up fake worker failed")) {
        return "pdf_unavailable";
    }
    return "broken";
}

async function readPdf(bytes) {
    const pdfjs = await loadPdfjs();
    const task = pdfjs.getDocument({
        data: bytes,
        // CVE-2024-4367: never compile font programs into JavaScript (the
        // page's CSP forbids it as well)
        isEvalSupported: false,
        // only the text is wanted: no fonts installed into the page
        disableFontFace: true,
        verbosity: pdfjs.VerbosityLevel.ERRORS,
    });
    try {
        const pdf = await task.promise;
        const texts = [];
        for (let number = 1; number <= pdf.numPages; number++) {
            texts.push(await pageText(pdf, number));
        }
        return { unit: "Seite", texts };
    } catch (error) {
        throw new Unreadable(pdfReason(error), { cause: error });
    } finally {
        await task.destroy();
    }
}

// --- DOCX and TXT ------------------------------------------------------------

async function readDocx(bytes) {
    const texts = await docxPages(bytes);
    if (texts.length > 1) {
        return { unit: "Seite", texts };
    }
    const text = normalizeText(texts[0]);
    return text.length > SECTION_CHARS ? sections(text) : { unit: "Seite", texts: [text] };
}

// Bytes 0x80-0x9F of windows-1252; the others are Latin-1. Unassigned
// bytes stay C1 controls, as in the WHATWG Encoding Standard. Decoded here
// rather than by TextDecoder("windows-1252"), which Node (the unit tests)
// treats as plain Latin-1.
const WINDOWS_1252_HIGH = "€\x81‚ƒ„…†‡ˆ‰Š‹Œ\x8dŽ\x8f\x90‘’“”•–—˜™š›œ\x9džŸ";
const DECODE_CHUNK = 8192;

function windows1252Character(byte) {
    return byte >= 0x80 && byte < 0xa0 ? WINDOWS_1252_HIGH[byte - 0x80] : String.fromCharCode(byte);
}

function decodeWindows1252(bytes) {
    const chunks = [];
    for (let start = 0; start < bytes.length; start += DECODE_CHUNK) {
        chunks.push(Array.from(bytes.subarray(start, start + DECODE_CHUNK), windows1252Character).join(""));
    }
    return chunks.join("");
}

// UTF-8 unless a byte-order mark says UTF-16; text that is not valid UTF-8
// comes from Windows' German code page.
function decodeText(bytes) {
    if (startsWith(bytes, UTF16_LE_MARK)) {
        return new TextDecoder("utf-16le").decode(bytes);
    }
    if (startsWith(bytes, UTF16_BE_MARK)) {
        return new TextDecoder("utf-16be").decode(bytes);
    }
    try {
        return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
    } catch {
        return decodeWindows1252(bytes);
    }
}

// A form feed is how text exports (pdftotext, printers' text) end a page.
function readTxt(bytes) {
    const text = decodeText(bytes);
    return text.includes("\f") ? { unit: "Seite", texts: text.split("\f") } : sections(text);
}

const READERS = { pdf: readPdf, docx: readDocx, txt: readTxt };

// --- reading -----------------------------------------------------------------

async function readFile(file) {
    if (file.size > MAX_FILE_BYTES) {
        throw new Unreadable("too_big");
    }
    if (file.size === 0) {
        throw new Unreadable("empty_file");
    }
    const bytes = new Uint8Array(await file.arrayBuffer());
    const format = formatOf(file, bytes);
    const { unit, texts } = await READERS[format](bytes);
    const pages = numberedPages(texts);
    if (pages.length === 0) {
        // a PDF without any text is almost always a scan without OCR
        throw new Unreadable(format === "pdf" ? "scanned" : "no_text");
    }
    return { name: file.name, unit, pages };
}

// The text of one File, page by page (see the top of this file).
export async function readDocument(file) {
    try {
        return await readFile(file);
    } catch (error) {
        throw documentErrorFor(error, file.name);
    }
}
