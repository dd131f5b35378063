// Reading PDFs (web/lib/documents.js) with Debian's pdf.js, the same
// build the page loads, here run in Node. The tests run in order: the
// first one has no pdf.js, the later ones share the one loaded.

import assert from "node:assert/strict";
import fs from "node:fs";
import { createRequire } from "node:module";
import test from "node:test";
import { DocumentError, readDocument } from "../../../web/lib/documents.js";
import { selectPassages } from "../../../web/lib/passages.js";
import { DEADLINE_SENTENCE, fixtureFile, pythonMissing } from "./fixture_files.mjs";

const PDFJS = "/usr/share/nodejs/pdfjs-dist/build/pdf.js";
const PDFJS_WORKER = "/usr/share/nodejs/pdfjs-dist/build/pdf.worker.js";
const skip = pythonMissing || (fs.existsSync(PDFJS) ? false : `${PDFJS} is missing (libjs-pdf)`);
const documentOptions = [];

async function messageFor(file) {
    const error = await readDocument(file).then(() => null, (caught) => caught);
    assert.ok(error instanceof DocumentError, `expected a DocumentError, got ${error}`);
    return error.message;
}

// A page whose <script> elements fail to load, as when nginx lacks pdf.js;
// returns the scripts the code under test added.
function pageWithoutPdfjs() {
    const scripts = [];
    globalThis.document = {
        createElement(tag) {
            const listeners = new Map();
            const script = { tag, removed: false,
                             addEventListener: (type, listener) => listeners.set(type, listener),
                             remove() { this.removed = true; },
                             fail: () => listeners.get("error")() };
            scripts.push(script);
            return script;
        },
        head: { append: (script) => setTimeout(script.fail) },
    };
    return scripts;
}

test("a PDF when pdf.js is missing on the server", async () => {
    const scripts = pageWithoutPdfjs();
    try {
        const file = new File(["%PDF-1.4\n"], "bescheid.pdf");
        const message = await messageFor(file);
        assert.equal(message, "Die Datei „bescheid.pdf“ kann nicht gelesen werden, weil das Programm "
            + "zum Lesen von PDF-Dateien auf dem Server fehlt. Bitte wenden Sie sich an Ihre IT-Servicestelle.");
        await messageFor(file);
        assert.deepEqual(scripts.map((script) => [script.tag, script.src, script.removed]),
                         [["script", "vendor/pdfjs/pdf.js", true], ["script", "vendor/pdfjs/pdf.js", true]],
                         "a failed load is tried again with the next PDF");
    } finally {
        delete globalThis.document;
    }
});

test("pdf.js is set up like the page does it", { skip }, () => {
    const pdfjs = createRequire(import.meta.url)(PDFJS);
    pdfjs.GlobalWorkerOptions.workerSrc = PDFJS_WORKER;
    globalThis.pdfjsLib = {
        ...pdfjs,
        getDocument(options) {
            documentOptions.push(options);
            return pdfjs.getDocument(options);
        },
    };
});

test("the research PDF of fixtures.py reads as four pages", { skip }, async () => {
    const document = await readDocument(fixtureFile("pdf", "Dienstreiserichtlinie.pdf"));
    assert.equal(document.name, "Dienstreiserichtlinie.pdf");
    assert.equal(document.unit, "Seite");
    assert.deepEqual(document.pages.map((page) => page.number), [1, 2, 3, 4]);
    // the PDF wraps the sentence over three lines
    assert.ok(document.pages[2].text.replace(/\s+/g, " ").includes(DEADLINE_SENTENCE));
    assert.deepEqual(document.pages.filter((page) => page.text.includes("Ausschlussfrist"))
        .map((page) => page.number), [3]);
    assert.match(document.pages[3].text, /Übernachtungsgeld/);
    assert.equal(documentOptions.at(-1).isEvalSupported, false, "CVE-2024-4367");
    assert.equal(documentOptions.at(-1).disableFontFace, true);
});

test("a question about the deadline finds page 3 of the research PDF", { skip }, async () => {
    const document = await readDocument(fixtureFile("pdf", "Dienstreiserichtlinie.pdf"));
    const selected = selectPassages([document], "Welche Ausschlussfrist gilt für die Reisekostenabrechnung?",
                                    document.pages[2].text.length + 10);
    assert.deepEqual(selected.map((entry) => [entry.id, entry.file, entry.unit, entry.number]),
                     [[1, "Dienstreiserichtlinie.pdf", "Seite", 3]]);
});

test("a PDF of scanned pages without text", { skip }, async () => {
    assert.match(await messageFor(fixtureFile("scanned-pdf", "scan.pdf")),
                 /^Die Datei „scan\.pdf“ enthält keinen Text – vermutlich eine eingescannte Seite\./);
});

test("a password-protected PDF", { skip }, async () => {
    assert.match(await messageFor(fixtureFile("locked-pdf", "geheim.pdf")),
                 /^Die Datei „geheim\.pdf“ ist mit einem Passwort geschützt\./);
});

test("a damaged PDF", { skip }, async () => {
    const whole = await fixtureFile("pdf", "x.pdf").arrayBuffer();
    const damaged = new File([whole.slice(0, 300)], "kaputt.pdf");
    assert.equal(await messageFor(damaged), "Die Datei „kaputt.pdf“ ist beschädigt und kann nicht gelesen werden.");
    assert.equal(await messageFor(new File(["%PDF-1.4 und sonst nichts"], "notiz.txt")),
                 "Die Datei „notiz.txt“ ist beschädigt und kann nicht gelesen werden.",
                 "a PDF is read as PDF whatever its name");
});
