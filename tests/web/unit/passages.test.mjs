// Choosing passages for the prompt (web/lib/passages.js).

import assert from "node:assert/strict";
import test from "node:test";
import {
    analyseDocument, rankPassages, selectPassages, splitIntoPassages, splitText, tokenize,
} from "../../../web/lib/passages.js";

function documentOf(name, texts, unit = "Seite") {
    return { name, unit, pages: texts.map((text, index) => ({ number: index + 1, text })) };
}

function passage(text, number = 1) {
    return { file: "a.txt", unit: "Seite", number, text };
}

// Sentences of about 100 characters, numbered so each part is recognisable.
function sentences(count, word = "Verwaltung") {
    return Array.from({ length: count },
                      (_, index) => `Satz ${index} über die ${word} mit einigen weiteren Wörtern als Füllung hier.`);
}

test("tokenize folds umlauts and ß and lowercases", () => {
    assert.deepEqual(tokenize("Übernachtungsgeld ÖFFNUNG Maß"), ["uebernachtungsgeld", "oeffnung", "mass"]);
    assert.deepEqual(tokenize("Übernachtung GROẞE Straße"), tokenize("Uebernachtung grosse Strasse"));
});

test("tokenize drops stop words and splits at everything but letters and digits", () => {
    assert.deepEqual(tokenize("Die Frist und der Antrag: § 12 Abs. 3 (neu)!"),
                     ["frist", "antrag", "12", "abs", "3", "neu"]);
    assert.deepEqual(tokenize("und oder aber wenn"), []);
});

test("tokenize stems so inflected forms meet", () => {
    assert.deepEqual(tokenize("Fristen"), tokenize("Frist"));
    assert.deepEqual(tokenize("Dienstreisen"), tokenize("Dienstreise"));
    assert.deepEqual(tokenize("Monaten Monate Monats"), tokenize("Monat Monat Monat"));
    assert.deepEqual(tokenize("Kindern"), tokenize("Kinder"));
    // a stem keeps at least four letters
    assert.deepEqual(tokenize("Reise Haus Ende"), ["reis", "haus", "ende"]);
});

test("tokenize reads decomposed umlauts and ligatures from PDFs", () => {
    assert.deepEqual(tokenize("Gu\u0308ltigkeit \ufb01nden"), tokenize("Gültigkeit finden"));
});

test("splitText keeps short text whole and cuts long text at paragraphs first", () => {
    assert.deepEqual(splitText("kurz", 10), ["kurz"]);
    assert.deepEqual(splitText("", 10), []);
    const first = "a".repeat(60);
    const second = "b".repeat(60);
    assert.deepEqual(splitText(`${first}\n\n${second}`, 100), [first, second]);
    assert.deepEqual(splitText(`${first}\n\nkurz\n\n${second}`, 100), [`${first}\n\nkurz`, second]);
});

test("splitText falls back to sentences, words and finally hard cuts", () => {
    const text = sentences(5).join(" ");
    const parts = splitText(text, 250);
    assert.ok(parts.every((part) => part.length <= 250 && /\.$/.test(part)), parts.join("|"));
    assert.equal(parts.join(" "), text);
    assert.deepEqual(splitText("x".repeat(25), 10), ["x".repeat(10), "x".repeat(10), "x".repeat(5)]);
    assert.throws(() => splitText("text", 0), RangeError);
});

test("splitIntoPassages gives one passage per page, in order", () => {
    const passages = splitIntoPassages([documentOf("a.pdf", ["eins", "zwei"]),
                                        documentOf("b.txt", ["drei"], "Abschnitt")]);
    assert.deepEqual(passages, [
        { file: "a.pdf", unit: "Seite", number: 1, text: "eins", part: 1, parts: 1 },
        { file: "a.pdf", unit: "Seite", number: 2, text: "zwei", part: 1, parts: 1 },
        { file: "b.txt", unit: "Abschnitt", number: 1, text: "drei", part: 1, parts: 1 },
    ]);
});

test("a page longer than maxChars is split into parts that keep its number", () => {
    const long = sentences(40).join("\n");
    const document = { name: "lang.pdf", unit: "Seite", pages: [{ number: 7, text: long },
                                                              { number: 8, text: "kurz" }] };
    const passages = splitIntoPassages([document], { maxChars: 1000 });
    assert.ok(passages.length > 4);
    assert.ok(passages.every((part) => part.text.length <= 1000));
    assert.deepEqual(passages.slice(0, -1).map((part) => part.number),
                     Array(passages.length - 1).fill(7));
    assert.equal(passages.at(-1).number, 8);
    assert.deepEqual(passages.slice(0, -1).map((part) => [part.part, part.parts]),
                     passages.slice(0, -1).map((_, index) => [index + 1, passages.length - 1]),
                     "each part says which of the page's parts it is");
    assert.deepEqual([passages.at(-1).part, passages.at(-1).parts], [1, 1]);
    assert.equal(passages.slice(0, -1).map((part) => part.text).join("\n"), long);
    assert.equal(splitIntoPassages([document]).length, 3, "the default maxChars is 2500");
});

test("rankPassages puts the page with the question's rare term first", () => {
    const passages = [
        passage("Die Dienstreise wird vorher genehmigt.", 1),
        passage("Die Abrechnung der Dienstreise ist binnen einer Ausschlussfrist einzureichen.", 2),
        passage("Für die Dienstreise gibt es Tagegeld.", 3),
    ];
    const ranked = rankPassages(passages, "Welche Ausschlussfrist gilt für die Dienstreise?");
    assert.equal(ranked[0].number, 2);
    assert.ok(ranked[0].score > ranked[1].score);
    assert.notEqual(ranked[0], passages[1], "new objects");
    assert.equal(passages[1].score, undefined, "the input is left alone");
});

test("a term in every passage counts little, and ties keep document order", () => {
    const passages = [
        passage("Dienstreise Dienstreise Dienstreise Dienstreise", 1),
        passage("Dienstreise und Tagegeld", 2),
        passage("Dienstreise allein", 3),
    ];
    const ranked = rankPassages(passages, "Dienstreise Tagegeld");
    assert.equal(ranked[0].number, 2, "one rare match beats many common ones");
    const rare = rankPassages(passages, "Tagegeld")[0].score;
    const common = rankPassages(passages, "Dienstreise");
    assert.ok(common.every((entry) => entry.score < rare / 4), JSON.stringify(common));
    assert.deepEqual(rankPassages(passages, "Hubschrauber").map((entry) => entry.number), [1, 2, 3]);
    assert.ok(rankPassages(passages, "Hubschrauber").every((entry) => entry.score === 0));
});

test("BM25 scores follow the formula", () => {
    const passages = [passage("frist antrag antrag", 1), passage("antrag", 2)];
    const [best] = rankPassages(passages, "Frist");
    // N = 2, n = 1, tf = 1, dl = 3, avgdl = 2
    const idf = Math.log(1 + (2 - 1 + 0.5) / (1 + 0.5));
    const expected = idf * (1 * 2.2) / (1 + 1.2 * (1 - 0.75 + 0.75 * 3 / 2));
    assert.equal(best.number, 1);
    assert.ok(Math.abs(best.score - expected) < 1e-12, `${best.score} != ${expected}`);
});

test("selectPassages returns everything in document order when it fits", () => {
    const documents = [documentOf("a.pdf", ["eins", "zwei"]), documentOf("b.pdf", ["Ausschlussfrist"])];
    const selected = selectPassages(documents, "Ausschlussfrist", 1000);
    assert.deepEqual(selected.map((entry) => [entry.id, entry.file, entry.number]),
                     [[1, "a.pdf", 1], [2, "a.pdf", 2], [3, "b.pdf", 1]]);
});

test("selectPassages keeps to the budget, takes the best, returns document order", () => {
    const filler = (topic) => sentences(8, topic).join(" ");
    const texts = [filler("Zuständigkeit"), filler("Genehmigung"),
                   `${filler("Abrechnung")} Es gilt eine Ausschlussfrist.`, filler("Tagegeld")];
    const budget = texts[0].length * 2 + 100;
    const selected = selectPassages([documentOf("richtlinie.pdf", texts)],
                                    "Welche Ausschlussfrist gilt für das Tagegeld?", budget);
    assert.ok(selected.reduce((sum, entry) => sum + entry.text.length, 0) <= budget);
    assert.deepEqual(selected.map((entry) => entry.number), [3, 4]);
    assert.deepEqual(selected.map((entry) => entry.id), [1, 2]);
});

test("selectPassages skips a passage that does not fit and tries the next", () => {
    const documents = [documentOf("a.txt", ["Frist " + "x ".repeat(400), "Frist kurz",
                                            "Frist noch einmal kurz"])];
    const selected = selectPassages(documents, "Frist", 100);
    assert.deepEqual(selected.map((entry) => entry.number), [2, 3]);
});

test("selectPassages leaves out passages without a term of the question", () => {
    const documents = [documentOf("a.txt", ["Frist " + "x ".repeat(400), "Frist kurz", "anderes"])];
    const selected = selectPassages(documents, "Frist", 100);
    assert.deepEqual(selected.map((entry) => entry.number), [2]);
});

test("selectPassages takes passages in document order when none matches the question", () => {
    const documents = [documentOf("a.txt", ["eins " + "x ".repeat(400), "zwei", "drei"])];
    const selected = selectPassages(documents, "Frist", 100);
    assert.deepEqual(selected.map((entry) => entry.number), [2, 3]);
});

test("selectPassages cuts a single oversize passage to the budget", () => {
    const text = [...sentences(10, "Genehmigung"), "Die Ausschlussfrist beträgt sechs Monate.",
                  ...sentences(10, "Genehmigung")].join(" ");
    const [only, ...rest] = selectPassages([documentOf("a.pdf", [text])], "Ausschlussfrist", 300);
    assert.deepEqual(rest, []);
    assert.equal(only.id, 1);
    assert.equal(only.number, 1);
    assert.ok(only.text.length <= 300);
    assert.match(only.text, /Ausschlussfrist/, "the best part of the passage");
});

test("selectPassages with nothing to choose from returns nothing", () => {
    assert.deepEqual(selectPassages([], "Frage", 1000), []);
    assert.deepEqual(selectPassages([documentOf("a.txt", ["Text"])], "Frage", 0), []);
});

// --- what the heading around each passage costs ----------------------------------

// A passage as the research view puts it into the prompt: heading, frame
// and the blank line to the next one.
function quotedLength(passage) {
    const heading = `[${passage.id}] (Datei: ${passage.file}, ${passage.unit} ${passage.number})`;
    return `${heading}\n<<<\n${passage.text}\n>>>\n\n`.length;
}

const HEADING_CHARS = "[999] (Datei: , Abschnitt 99999)\n<<<\n\n>>>\n\n".length;

test("selectPassages counts perPassageChars and the file name of every passage", () => {
    const pages = Array.from({ length: 300 }, (_, index) => `Seite ${index} zur Dienstreise.`);
    const documents = [documentOf("Reisekostenrichtlinie_2024.pdf", pages)];
    const budget = 10000;
    const textOnly = selectPassages(documents, "Dienstreise", budget);
    const textLength = pages.reduce((sum, text) => sum + text.length, 0);
    assert.ok(textLength <= budget, "without perPassageChars all the text fits");
    assert.equal(textOnly.length, 300);
    assert.ok(textOnly.reduce((sum, passage) => sum + quotedLength(passage), 0) > budget * 1.5,
              "the headings overshoot the budget");

    const selected = selectPassages(documents, "Dienstreise", budget, { perPassageChars: HEADING_CHARS });
    assert.ok(selected.length > 10 && selected.length < 300, `${selected.length} passages`);
    assert.ok(selected.reduce((sum, passage) => sum + quotedLength(passage), 0) <= budget);
    const expectedCost = (passage) => passage.text.length + HEADING_CHARS + passage.file.length;
    assert.ok(selected.reduce((sum, passage) => sum + expectedCost(passage), 0) <= budget);
    assert.ok(selected.reduce((sum, passage) => sum + expectedCost(passage), 0)
              > budget - expectedCost(selected[0]), "as many as fit");
});

test("selectPassages keeps everything when text and headings fit together", () => {
    const documents = [documentOf("a.pdf", ["eins", "zwei"])];
    const exact = 2 * (HEADING_CHARS + "a.pdf".length) + "eins".length + "zwei".length;
    assert.equal(selectPassages(documents, "Frage", exact, { perPassageChars: HEADING_CHARS }).length, 2);
    assert.equal(selectPassages(documents, "Frage", exact - 1, { perPassageChars: HEADING_CHARS }).length, 1);
});

test("selectPassages cuts an oversize passage to the budget less its heading", () => {
    const text = [...sentences(10, "Genehmigung"), "Die Ausschlussfrist beträgt sechs Monate.",
                  ...sentences(10, "Genehmigung")].join(" ");
    const [only, ...rest] = selectPassages([documentOf("a.pdf", [text])], "Ausschlussfrist", 400,
                                           { perPassageChars: 100 });
    assert.deepEqual(rest, []);
    assert.ok(only.text.length + 100 + "a.pdf".length <= 400, `${only.text.length} characters`);
    assert.match(only.text, /Ausschlussfrist/);
    assert.deepEqual(selectPassages([documentOf("a.pdf", [text])], "Ausschlussfrist", 100,
                                    { perPassageChars: 100 }), [], "no room even for the heading");
});

// --- a document is analysed once ----------------------------------------------

// About 500 pages of 4400 characters: 2.2 million characters, as in a long
// report. Pseudo-random so that terms are spread as in real text.
function longDocument(name) {
    const words = ("Reisekostenabrechnung Ausschlussfrist Monaten Beendigung Dienstreise schriftlich "
        + "elektronisch zuständigen Stelle beantragen Belege beizufügen Tagegeld Übernachtung "
        + "Fahrtkosten Erstattung Genehmigung Vorgesetzte Haushalt Kapitel Titel").split(" ");
    let seed = 7;
    const next = () => (seed = (seed * 16807) % 2147483647);
    const pages = Array.from({ length: 500 }, (_, page) => Array.from({ length: 400 },
        (_, index) => words[next() % words.length] + (index % 12 === 11 ? "." : "")).join(" ") + ` Seite${page}`);
    return documentOf(name, pages);
}

test("a second question about the same documents does not split and tokenize them again", () => {
    const documents = [longDocument("bericht.pdf"), documentOf("notiz.txt", ["Tagegeld und Belege"])];
    const question = "Welche Ausschlussfrist gilt für die Belege?";
    const budget = 50000;
    let start = performance.now();
    const first = selectPassages(documents, question, budget);
    const firstMilliseconds = performance.now() - start;
    start = performance.now();
    const second = selectPassages(documents, question, budget);
    const secondMilliseconds = performance.now() - start;
    assert.deepEqual(second, first);
    assert.ok(secondMilliseconds < firstMilliseconds / 5,
              `first ${firstMilliseconds.toFixed(0)} ms, second ${secondMilliseconds.toFixed(0)} ms`);
    assert.deepEqual(selectPassages(documents, "Tagegeld Übernachtung", budget),
                     selectPassages([longDocument("bericht.pdf"), documents[1]], "Tagegeld Übernachtung", budget),
                     "a cached document ranks as a fresh one");
});

test("analyseDocument gives a document's passages, made once per document object", () => {
    const document = documentOf("a.pdf", ["eins", "zwei"]);
    const passages = analyseDocument(document);
    assert.deepEqual(passages, splitIntoPassages([document]));
    assert.equal(analyseDocument(document), passages, "the same array, not a new split");
    const copy = { ...document, pages: [{ number: 1, text: "anders" }] };
    assert.deepEqual(analyseDocument(copy).map((passage) => passage.text), ["anders"]);
});
