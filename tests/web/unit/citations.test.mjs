// Citations in research answers (web/lib/citations.js): which pieces of an
// answer cite which passages, in linear time, and the buttons made of them.

import assert from "node:assert/strict";
import test from "node:test";
import { findCitations, linkCitations } from "../../../web/lib/citations.js";
import { installFakeDocument, tree } from "./fake_dom.mjs";

const FAST_MS = 200;

const PASSAGES = [
    { id: 1, file: "bericht.pdf", unit: "Seite", number: 3, text: "…" },
    { id: 2, file: "bericht.pdf", unit: "Seite", number: 7, text: "…" },
    { id: 3, file: "Anlage [1].pdf", unit: "Seite", number: 2, text: "…" },
    { id: 4, file: "notiz.txt", unit: "Abschnitt", number: 1, text: "…" },
];
const [FIRST, SECOND, ANNEX, NOTE] = PASSAGES;

// The cited pieces of text with the ids they cite.
function cited(text) {
    return findCitations(text, PASSAGES).map((citation) =>
        [text.slice(citation.start, citation.end), citation.passages.map((passage) => passage.id)]);
}

test("numbers cite the passages sent with them", () => {
    assert.deepEqual(cited("Die Frist ist kurz [1]. Belege [2, 4] und [1; 2]."),
                     [["[1]", [1]], ["[2, 4]", [2, 4]], ["[1; 2]", [1, 2]]]);
    assert.deepEqual(cited("[2,1]"), [["[2,1]", [2, 1]]]);
});

test("numbers no passage has stay text", () => {
    assert.deepEqual(cited("Laut [9] und [0] und [12345] und [1, 2, 3, 4, 5]"), [["[1, 2, 3, 4, 5]", [1, 2, 3, 4]]]);
    assert.deepEqual(cited("[] [a] [1.5] [-1] [1,]"), []);
});

test("the heading form cites by file and page, with and without \"Datei:\"", () => {
    assert.deepEqual(cited("Siehe (Datei: bericht.pdf, Seite 3) und (bericht.pdf, S. 7)."),
                     [["(Datei: bericht.pdf, Seite 3)", [1]], ["(bericht.pdf, S. 7)", [2]]]);
    assert.deepEqual(cited("(notiz.txt, Abschnitt 1) (notiz.txt, Abschn.\u00a01)"),
                     [["(notiz.txt, Abschnitt 1)", [4]], ["(notiz.txt, Abschn.\u00a01)", [4]]]);
    assert.deepEqual(cited("(bericht.pdf, Seite 4) (andere.pdf, Seite 3) (Datei: bericht.pdf, Kapitel 3)"), [],
                     "only places that were sent");
});

test("a heading copied whole with its number is one citation", () => {
    assert.deepEqual(cited("[1] (Datei: bericht.pdf, Seite 3): die Frist"),
                     [["[1] (Datei: bericht.pdf, Seite 3)", [1]]]);
    assert.deepEqual(cited("[2] (Datei: bericht.pdf, Seite 3)"),
                     [["[2]", [2]], ["(Datei: bericht.pdf, Seite 3)", [1]]], "different passages stay apart");
});

test("a number inside a cited file name is part of the name", () => {
    assert.deepEqual(cited("(Datei: Anlage [1].pdf, Seite 2)"), [["(Datei: Anlage [1].pdf, Seite 2)", [3]]]);
    assert.deepEqual(cited("(siehe [1], Seite 3)"), [["[1]", [1]]], "no passage from a file \"siehe [1]\"");
    const found = findCitations("[1] (Anlage [1].pdf, S. 2) [2]", PASSAGES);
    assert.deepEqual(found.map((citation) => [citation.start, citation.end]), [[0, 3], [4, 26], [27, 30]]);
    assert.deepEqual(found.map((citation) => citation.passages), [[FIRST], [ANNEX], [SECOND]]);
});

const HOSTILE_ANSWERS = {
    "\"(\" repeated": "(".repeat(20000),
    "\"[1,\" repeated": "[1,".repeat(7000),
    "\"[1\" repeated": "[1".repeat(10000),
    "\"(Datei: \" repeated": "(Datei: ".repeat(2500),
    "\"(Datei:\" and spaces": `(Datei:${" ".repeat(20000)}`,
    "names of 199 letters without a page": `(${"a".repeat(199)}, `.repeat(100),
    "\"[1] \" repeated": "[1] ".repeat(5000),
    "\"(bericht.pdf, S. 3)\" repeated": "(bericht.pdf, S. 3)".repeat(1000),
};

for (const [label, answer] of Object.entries(HOSTILE_ANSWERS)) {
    test(`an answer of ${label} is searched in linear time`, () => {
        const start = performance.now();
        const found = findCitations(answer, PASSAGES);
        const milliseconds = performance.now() - start;
        assert.ok(milliseconds < FAST_MS, `${milliseconds.toFixed(0)} ms for ${answer.length} characters`);
        assert.ok(found.every((citation, index) => index === 0 || found[index - 1].end <= citation.start));
    });
}

test("linkCitations puts buttons with a hidden purpose where the citations are", () => {
    installFakeDocument();
    const answer = document.createElement("div");
    const paragraph = document.createElement("p");
    const code = document.createElement("code");
    code.append("[1]");
    paragraph.append("Die Frist [1, 2] steht dort ", code, " (notiz.txt, Abschnitt 1).");
    answer.append(paragraph);
    const shown = [];
    linkCitations(answer, PASSAGES, (passage) => shown.push(passage));

    const button = (file, place) => ["button", { className: "citation", type: "button" },
        ["span", { className: "visually-hidden" }, "Beleg: "], `(${file}, ${place})`];
    assert.deepEqual(tree(answer), ["div", {}, ["p", {},
        "Die Frist ", button("bericht.pdf", "S. 3"), " ", button("bericht.pdf", "S. 7"), " steht dort ",
        ["code", {}, "[1]"], " ", button("notiz.txt", "Abschn. 1"), ".",
    ]]);
    const buttons = paragraph.children.filter((node) => node.tagName === "BUTTON");
    assert.equal(buttons[0].textContent, "Beleg: (bericht.pdf, S. 3)", "the accessible name");
    buttons[1].click();
    buttons[2].click();
    assert.deepEqual(shown, [SECOND, NOTE]);
});
