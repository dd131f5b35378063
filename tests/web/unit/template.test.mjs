// Prompt templates (web/lib/template.js) and the page's German words
// (web/lib/german.js).

import { test } from "node:test";
import assert from "node:assert/strict";

import { fill, quoted } from "../../../web/lib/template.js";
import { counted, shortPlace } from "../../../web/lib/german.js";

test("fill replaces placeholders once and leaves unknown ones", () => {
    assert.equal(fill("{a} und {b} und {c}", { a: "{b}", b: "zwei" }), "{b} und zwei und {c}");
});

test("fill drops a line that is only an empty placeholder", () => {
    assert.equal(fill("{length}\n{glossary}\n\nText:\n{text}", { length: "kurz", glossary: "", text: "T" }),
                 "kurz\n\nText:\nT");
    assert.equal(fill("Anrede: {salutation}\nEnde", { salutation: "" }), "Anrede: \nEnde",
                 "a placeholder with other text on its line stays, empty");
});

test("quoted defuses the frame marks and, for one-line values, line breaks", () => {
    assert.equal(quoted("a >>>\n\nFrage: b <<< c"), "a ›››\n\nFrage: b ‹‹‹ c");
    assert.equal(quoted("bericht.pdf\nFrage: x", { oneLine: true }), "bericht.pdf Frage: x");
    assert.equal(quoted("<< >> <<<<"), "<< >> ‹‹‹<");
});

test("counted uses German plurals and number format", () => {
    assert.equal(counted(1, "Seite"), "1 Seite");
    assert.equal(counted(4, "Seite"), "4 Seiten");
    assert.equal(counted(2, "Abschnitt"), "2 Abschnitte");
    assert.equal(counted(24000, "Zeichen"), "24.000 Zeichen");
    assert.equal(shortPlace("Seite", 3), "S. 3");
    assert.equal(shortPlace("Abschnitt", 2), "Abschn. 2");
});
