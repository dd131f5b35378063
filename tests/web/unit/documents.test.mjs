// Reading uploaded files (web/lib/documents.js): text and Word files, and
// the refusals every format shares. PDFs: documents_pdf.test.mjs.

import assert from "node:assert/strict";
import test from "node:test";
import { DocumentError, MAX_FILE_BYTES, readDocument } from "../../../web/lib/documents.js";
import { DEADLINE_SENTENCE, fixtureFile, pythonMissing } from "./fixture_files.mjs";
import { documentXml, docxOf, paragraph, zipOf } from "./zip_writer.mjs";

async function messageFor(file) {
    const error = await readDocument(file).then(() => null, (caught) => caught);
    assert.ok(error instanceof DocumentError, `expected a DocumentError, got ${error}`);
    assert.ok(error.message.includes(`„${file.name}“`), "the message names the file");
    return error.message;
}

function numbers(document) {
    return document.pages.map((page) => page.number);
}

test("a text file with form feeds has pages; empty pages go, numbers stay", async () => {
    const file = new File(["Erste Seite\f\f  Dritte   Seite \r\n\r\n\r\n\r\nmit Absatz\f"], "akte.txt");
    assert.deepEqual(await readDocument(file), {
        name: "akte.txt",
        unit: "Seite",
        pages: [{ number: 1, text: "Erste Seite" }, { number: 3, text: "Dritte Seite\n\nmit Absatz" }],
    });
});

test("a text file without form feeds comes in sections cut at line ends", async () => {
    const lines = Array.from({ length: 200 }, (_, index) => `Zeile ${index} der langen Notiz.`);
    const document = await readDocument(new File([lines.join("\n")], "notiz.txt"));
    assert.equal(document.unit, "Abschnitt");
    assert.ok(document.pages.length >= 2);
    assert.deepEqual(numbers(document), document.pages.map((_, index) => index + 1));
    assert.ok(document.pages.every((page) => page.text.length <= 3000));
    assert.ok(document.pages.every((page) => /^Zeile \d+ der langen Notiz\.$/m.test(page.text)
                                     && page.text.endsWith("Notiz.")));
    assert.equal(document.pages.map((page) => page.text).join("\n"), lines.join("\n"));
    const short = await readDocument(new File(["kurz"], "kurz.txt"));
    assert.deepEqual(short.pages, [{ number: 1, text: "kurz" }]);
    assert.equal(short.unit, "Abschnitt");
});

test("text from Windows (windows-1252) and UTF-16 files is decoded", async () => {
    const windows = Buffer.from([0xdc, 0x62, 0x65, 0x72, 0x6e, 0x61, 0x63, 0x68, 0x74, 0x75,
                                 0x6e, 0x67, 0x20, 0x80, 0x20, 0x47, 0x72, 0xfc, 0xdf, 0x65]);
    assert.equal((await readDocument(new File([windows], "alt.txt"))).pages[0].text,
                 "Übernachtung € Grüße");
    const utf16 = Buffer.concat([Buffer.from([0xff, 0xfe]), Buffer.from("Größe", "utf16le")]);
    assert.equal((await readDocument(new File([utf16], "unicode.txt"))).pages[0].text, "Größe");
});

test("soft hyphens, zero-width spaces and control characters are dropped", async () => {
    const file = new File(["Reise\u00adkosten\u200b ab\u0001rechnung \u0085\tjetzt\v"], "steuer.txt");
    assert.equal((await readDocument(file)).pages[0].text, "Reisekosten abrechnung jetzt");
});

test("a DOCX with page breaks has pages", async () => {
    const xml = documentXml(paragraph("Seite eins") + '<w:p><w:r><w:br w:type="page"/></w:r></w:p>'
        + paragraph("Seite", " zwei"));
    const document = await readDocument(new File([docxOf(xml)], "brief.docx"));
    assert.equal(document.unit, "Seite");
    assert.deepEqual(document.pages, [{ number: 1, text: "Seite eins" }, { number: 2, text: "Seite zwei" }]);
});

test("a DOCX without page breaks is page 1 when short, sections when long", async () => {
    const short = await readDocument(new File([docxOf(documentXml(paragraph("Kurzer Vermerk")))], "v.docx"));
    assert.equal(short.unit, "Seite");
    assert.deepEqual(short.pages, [{ number: 1, text: "Kurzer Vermerk" }]);
    const paragraphs = Array.from({ length: 100 }, (_, index) => paragraph(`Absatz ${index} ${"Text ".repeat(15)}`));
    const long = await readDocument(new File([docxOf(documentXml(paragraphs.join("")))], "l.docx"));
    assert.equal(long.unit, "Abschnitt");
    assert.ok(long.pages.length >= 3 && long.pages.every((page) => page.text.length <= 3000));
});

test("the research DOCX of fixtures.py reads as four pages", { skip: pythonMissing }, async () => {
    const document = await readDocument(fixtureFile("docx", "Dienstreiserichtlinie.docx"));
    assert.equal(document.unit, "Seite");
    assert.deepEqual(numbers(document), [1, 2, 3, 4]);
    assert.ok(document.pages[2].text.includes(DEADLINE_SENTENCE));
    assert.deepEqual(document.pages.filter((page) => page.text.includes("Ausschlussfrist"))
        .map((page) => page.number), [3]);
});

test("files are judged by their bytes, not by their name alone", async () => {
    const wordType = "application/vnd.openxmlformats-officedocument.wordprocessingml.document";
    const unnamed = new File([docxOf(documentXml(paragraph("ohne Endung")))], "Vermerk", { type: wordType });
    assert.equal((await readDocument(unnamed)).pages[0].text, "ohne Endung");
    assert.match(await messageFor(new File(["Nur Text, kein PDF"], "bericht.pdf")), /ist beschädigt/);
    assert.match(await messageFor(new File(["Nur Text"], "brief.docx")), /ist beschädigt/);
    assert.match(await messageFor(new File([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0, 0, 0, 0])], "bild.png")),
                 /Format, das hier nicht gelesen werden kann/);
    assert.match(await messageFor(new File([Buffer.from([0x41, 0, 0x42])], "binaer.txt")),
                 /Format, das hier nicht gelesen werden kann/);
    assert.match(await messageFor(new File([docxOf(documentXml(paragraph("x")))], "daten.zip")),
                 /Format, das hier nicht gelesen werden kann/);
});

test("old Word files and password-protected DOCX are told apart", async () => {
    const compound = Buffer.from([0xd0, 0xcf, 0x11, 0xe0, 0xa1, 0xb1, 0x1a, 0xe1, 0, 0, 0, 0]);
    assert.match(await messageFor(new File([compound], "alt.doc")), /alten Word-Format \(\.doc\)/);
    assert.match(await messageFor(new File([compound], "geheim.docx")), /mit einem Passwort geschützt/);
});

test("empty, oversized and textless files are refused with a sentence", async () => {
    assert.equal(await messageFor(new File([], "leer.txt")), "Die Datei „leer.txt“ ist leer.");
    const huge = { name: "riesig.pdf", size: MAX_FILE_BYTES + 1, type: "application/pdf",
                   arrayBuffer: () => assert.fail("an oversized file must not be read") };
    assert.match(await messageFor(huge), /größer als 20 MB/);
    assert.equal(await messageFor(new File([" \n\f \t\n"], "leerzeichen.txt")),
                 "Die Datei „leerzeichen.txt“ enthält keinen Text.");
    assert.match(await messageFor(new File([docxOf(documentXml("<w:p/>"))], "leer.docx")),
                 /enthält keinen Text\./);
});

test("a DOCX zip bomb and a ZIP without a Word document are refused", async () => {
    const bomb = docxOf(documentXml(paragraph(" ".repeat(51 * 1024 * 1024))));
    assert.match(await messageFor(new File([bomb], "bombe.docx")), /entpackt zu groß/);
    const workbook = zipOf([{ name: "xl/workbook.xml", data: "<workbook/>" }]);
    assert.match(await messageFor(new File([workbook], "tabelle.docx")), /ist kein Word-Dokument/);
});
