// The DOCX reader (web/lib/docx.js) on packages written by hand.

import assert from "node:assert/strict";
import test from "node:test";
import { DocxError, MAX_UNPACKED_BYTES, docxPages, documentXmlPages } from "../../../web/lib/docx.js";
import { documentXml, docxOf, paragraph, zipOf } from "./zip_writer.mjs";

const PAGE_BREAK = '<w:p><w:r><w:br w:type="page"/></w:r></w:p>';
const RELATIONSHIPS = '<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    + '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" '
    + 'Target="word/document2.xml"/></Relationships>';

async function refusal(promise) {
    const error = await promise.then(() => null, (caught) => caught);
    assert.ok(error instanceof DocxError, `expected a DocxError, got ${error}`);
    return error.reason;
}

test("a stored document.xml is read", async () => {
    const pages = await docxPages(docxOf(documentXml(paragraph("Hallo Welt")), { method: 0 }));
    assert.deepEqual(pages, ["Hallo Welt\n"]);
});

test("a deflated document.xml is read, runs join, paragraphs end lines", async () => {
    const xml = documentXml(paragraph("Reise", "kosten") + paragraph("Zweiter Absatz"));
    assert.deepEqual(await docxPages(docxOf(xml)), ["Reisekosten\nZweiter Absatz\n"]);
});

test("an ArrayBuffer and a Buffer inside a larger pool are both accepted", async () => {
    const zip = docxOf(documentXml(paragraph("Text")));
    const arrayBuffer = zip.buffer.slice(zip.byteOffset, zip.byteOffset + zip.length);
    const windowed = Buffer.concat([Buffer.from("junk!!!"), zip]).subarray(7);
    assert.deepEqual(await docxPages(arrayBuffer), ["Text\n"]);
    assert.deepEqual(await docxPages(windowed), ["Text\n"]);
});

test("hard page breaks make pages", async () => {
    const xml = documentXml(paragraph("Seite eins") + PAGE_BREAK + paragraph("Seite zwei")
        + PAGE_BREAK + paragraph("Seite drei"));
    const pages = await docxPages(docxOf(xml));
    assert.equal(pages.length, 3);
    assert.match(pages[0], /Seite eins/);
    assert.match(pages[2], /Seite drei/);
});

test("Word's rendered page breaks make pages, but not twice after a hard break", async () => {
    const rendered = documentXml('<w:p><w:r><w:t>Ende der</w:t><w:lastRenderedPageBreak/>'
        + '<w:t xml:space="preserve"> Seite</w:t></w:r></w:p>');
    assert.deepEqual(await docxPages(docxOf(rendered)), ["Ende der", " Seite\n"]);
    const both = documentXml(paragraph("Eins") + PAGE_BREAK
        + '<w:p><w:r><w:lastRenderedPageBreak/><w:t>Zwei</w:t></w:r></w:p>');
    assert.deepEqual((await docxPages(docxOf(both))).map((page) => page.trim()), ["Eins", "Zwei"]);
});

test("XML entities and character references are decoded", async () => {
    const xml = documentXml(paragraph("&amp; &lt;b&gt; &quot;zitiert&quot; &apos;x&apos; Gr&#252;&#xDF;e &#x1F600;"));
    assert.deepEqual(await docxPages(docxOf(xml)), ["& <b> \"zitiert\" 'x' Grüße 😀\n"]);
});

test("tab characters count, tab stops and line breaks in runs do their job", async () => {
    const xml = documentXml('<w:p><w:pPr><w:tabs><w:tab w:val="left" w:pos="2835"/></w:tabs></w:pPr>'
        + '<w:r><w:t>Name</w:t><w:tab/><w:t>Wert</w:t><w:br/><w:t>neue Zeile</w:t></w:r></w:p>');
    assert.deepEqual(await docxPages(docxOf(xml)), ["Name\tWert\nneue Zeile\n"]);
});

test("a table's cells come out as paragraphs", async () => {
    const cell = (text) => `<w:tc><w:tcPr><w:tcW w:w="2000" w:type="dxa"/></w:tcPr>${paragraph(text)}</w:tc>`;
    const xml = documentXml(`<w:tbl><w:tblPr/><w:tr>${cell("Ort")}${cell("Betrag")}</w:tr>`
        + `<w:tr>${cell("Hamburg")}${cell("14 Euro")}</w:tr></w:tbl>`);
    assert.deepEqual(await docxPages(docxOf(xml)), ["Ort\nBetrag\nHamburg\n14 Euro\n"]);
});

test("field codes, deleted text and fallback copies of text boxes are left out", async () => {
    const xml = documentXml('<w:p><w:r><w:instrText xml:space="preserve"> PAGE </w:instrText></w:r>'
        + "<w:del><w:r><w:delText>gestrichen</w:delText></w:r></w:del>"
        + "<w:r><mc:AlternateContent><mc:Choice Requires=\"wps\"><w:t>Kasten</w:t></mc:Choice>"
        + "<mc:Fallback><w:t>Kasten</w:t></mc:Fallback></mc:AlternateContent></w:r>"
        + "<!-- <w:t>Kommentar</w:t> --></w:p>");
    assert.deepEqual(await docxPages(docxOf(xml)), ["Kasten\n"]);
});

test("the main part named by _rels/.rels is read", async () => {
    const zip = zipOf([
        { name: "_rels/.rels", data: RELATIONSHIPS },
        { name: "word/document2.xml", data: documentXml(paragraph("umbenannt")) },
    ]);
    assert.deepEqual(await docxPages(zip), ["umbenannt\n"]);
});

test("an entry flagged as encrypted is refused", async () => {
    const zip = zipOf([{ name: "word/document.xml", data: documentXml(paragraph("x")), flags: 1 }]);
    assert.equal(await refusal(docxPages(zip)), "encrypted");
});

test("a ZIP without document.xml is refused", async () => {
    const zip = zipOf([{ name: "xl/workbook.xml", data: "<workbook/>" }]);
    assert.equal(await refusal(docxPages(zip)), "no_document");
});

test("bytes that are no ZIP, or a cut-off ZIP, are refused as broken", async () => {
    assert.equal(await refusal(docxPages(Buffer.from("Dies ist kein ZIP-Archiv, nur Text."))), "broken");
    const zip = docxOf(documentXml(paragraph("abgeschnitten")));
    const damaged = Buffer.concat([zip.subarray(0, 40), zip.subarray(zip.length - 60)]);
    assert.equal(await refusal(docxPages(damaged)), "broken");
});

test("damaged deflate data is refused as broken", async () => {
    const zip = zipOf([{ name: "word/document.xml", data: documentXml(paragraph("x".repeat(200))) }]);
    zip.fill(0xff, 60, 90);
    assert.equal(await refusal(docxPages(zip)), "broken");
});

test("a part declared larger than the limit, or marked ZIP64, is refused", async () => {
    const xml = documentXml(paragraph("x"));
    const large = zipOf([{ name: "word/document.xml", data: xml, declaredSize: MAX_UNPACKED_BYTES + 1 }]);
    assert.equal(await refusal(docxPages(large)), "too_large");
    const zip64 = zipOf([{ name: "word/document.xml", data: xml, declaredSize: 0xffffffff }]);
    assert.equal(await refusal(docxPages(zip64)), "too_large");
});

test("a zip bomb that lies about its size is stopped at the limit", async () => {
    const bomb = Buffer.alloc(MAX_UNPACKED_BYTES + 1024 * 1024, 0x20);
    const zip = zipOf([{ name: "word/document.xml", data: bomb, declaredSize: 1000 }]);
    assert.ok(zip.length < 1024 * 1024, "the package itself is small");
    assert.equal(await refusal(docxPages(zip)), "too_large");
});

// --- hostile XML: the scanner must stay linear ----------------------------------

const FAST_MS = 200;
const HOSTILE_CHARS = 100 * 1024;

function timed(work) {
    const start = performance.now();
    const result = work();
    return { result, milliseconds: performance.now() - start };
}

function inText(xml) {
    return `<w:p><w:r><w:t>${xml}</w:t></w:r></w:p>`;
}

const HOSTILE_INPUTS = {
    "\"<!\" repeated": "<!".repeat(HOSTILE_CHARS / 2),
    "\"<\" and a name without \">\"": `<${"a".repeat(HOSTILE_CHARS)}`,
    "\"<a\" repeated": "<a".repeat(HOSTILE_CHARS / 2),
    "\"<a \" and an open quote, repeated": "<a \"".repeat(HOSTILE_CHARS / 4),
    "\"<?\" repeated": "<?".repeat(HOSTILE_CHARS / 2),
    "\"<!--\" repeated": "<!--".repeat(HOSTILE_CHARS / 4),
    "attribute slashes without \">\"": `<w:t ${"/ ".repeat(HOSTILE_CHARS / 2)}`,
};

for (const [label, hostile] of Object.entries(HOSTILE_INPUTS)) {
    test(`document.xml of ${label} is read in linear time`, () => {
        for (const xml of [hostile, inText(hostile)]) {
            const { result, milliseconds } = timed(() => documentXmlPages(xml));
            assert.ok(milliseconds < FAST_MS, `${milliseconds.toFixed(0)} ms for ${xml.length} characters`);
            assert.ok(Array.isArray(result) && result.every((page) => typeof page === "string"));
        }
    });
}

test("a \"<\" that begins no tag is dropped and the text after it kept", () => {
    assert.deepEqual(documentXmlPages(inText("<!".repeat(5))), ["!!!!!\n"]);
    assert.deepEqual(documentXmlPages(inText("a <b c=\"d und mehr")), ["a b c=\"d und mehr\n"]);
    assert.deepEqual(documentXmlPages(inText("<" + "x".repeat(10))), ["xxxxxxxxxx\n"]);
    assert.deepEqual(documentXmlPages("<!".repeat(1000)), [""]);
});

test("quoted attribute values may hold \">\" and \"/\", comments and declarations are skipped", () => {
    const xml = '<?xml version="1.0"?><!DOCTYPE x><w:document><w:body>'
        + '<w:p w:x="a>b" w:y=\'c/>d\' w:z="e/f"><w:r><!-- <w:t>nicht</w:t> --><w:t>Text</w:t></w:r></w:p>'
        + "</w:body></w:document>";
    assert.deepEqual(documentXmlPages(xml), ["Text\n"]);
});

test("a comment never closed hides the rest of the part", () => {
    assert.deepEqual(documentXmlPages(inText("vorher") + "<!-- " + inText("nachher")), ["vorher\n"]);
});

test("hostile package relationships are read in linear time", async () => {
    const hostile = '<Relationship Type="x/officeDocument"'.repeat(HOSTILE_CHARS / 40);
    const zip = zipOf([
        { name: "_rels/.rels", data: hostile },
        { name: "word/document.xml", data: documentXml(paragraph("Standard")) },
    ]);
    const start = performance.now();
    assert.deepEqual(await docxPages(zip), ["Standard\n"]);
    assert.ok(performance.now() - start < 1000, "the relationships took too long");
});

test("the officeDocument relationship may use single quotes and stand after others", async () => {
    const relationships = '<?xml version="1.0"?><Relationships>'
        + '<Relationship Id="rId2" Type="http://example.org/relationships/thumbnail" Target="x.jpeg"/>'
        + "<Relationship Id='rId1' "
        + "Type='http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument' "
        + "Target='/word/document2.xml'/></Relationships>";
    const zip = zipOf([
        { name: "_rels/.rels", data: relationships },
        { name: "word/document2.xml", data: documentXml(paragraph("gefunden")) },
    ]);
    assert.deepEqual(await docxPages(zip), ["gefunden\n"]);
});
