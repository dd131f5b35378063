// Choosing what of the user's documents goes into the prompt. Documents are
// cut into passages (a page each, long pages in parts that keep the page
// number); when they do not all fit, the passages are ranked against the
// question with BM25 and the best ones that fit are taken. No DOM: the same
// code runs in Node's unit tests. A document is split and tokenized once,
// not at every question (see analyseDocument).

// --- splitting ---------------------------------------------------------------

// From the coarsest boundary to the finest: paragraphs, lines, sentences,
// words. A piece is split at a finer boundary only when it is too long.
const BOUNDARIES = [
    { pattern: /\n{2,}/, joiner: "\n\n" },
    { pattern: /\n/, joiner: "\n" },
    { pattern: /(?<=[.!?:;])\s+/, joiner: " " },
    { pattern: /\s+/, joiner: " " },
];

function cutHard(text, maxChars) {
    const step = Math.floor(maxChars);
    const parts = [];
    for (let start = 0; start < text.length; start += step) {
        parts.push(text.slice(start, start + step));
    }
    return parts;
}

function splitAt(text, maxChars, level) {
    if (text.length <= maxChars) {
        return text === "" ? [] : [text];
    }
    if (level === BOUNDARIES.length) {
        return cutHard(text, maxChars);
    }
    const { pattern, joiner } = BOUNDARIES[level];
    const parts = [];
    let current = "";
    for (const piece of text.split(pattern)) {
        for (const small of splitAt(piece, maxChars, level + 1)) {
            const joined = current === "" ? small : current + joiner + small;
            if (joined.length <= maxChars) {
                current = joined;
            } else {
                parts.push(current);
                current = small;
            }
        }
    }
    return current === "" ? parts : [...parts, current];
}

// Splits text into parts of at most maxChars characters, cut at the
// coarsest boundary that makes them fit and each as large as allowed: the
// pieces of a finer split are packed together again.
export function splitText(text, maxChars) {
    if (!(maxChars >= 1)) {
        throw new RangeError("splitText: maxChars must be at least 1");
    }
    return splitAt(text, maxChars, 0);
}

// One passage per page; a page longer than maxChars in several parts, each
// keeping the page's number (and saying which part it is: part, parts). In
// document order.
export function splitIntoPassages(documents, { maxChars = 2500 } = {}) {
    return documents.flatMap((document) => document.pages.flatMap((page) => {
        const texts = splitText(page.text, maxChars);
        return texts.map((text, index) => ({
            file: document.name, unit: document.unit, number: page.number, text,
            part: index + 1, parts: texts.length,
        }));
    }));
}

// --- terms -------------------------------------------------------------------

// Words that say nothing about a passage's topic; in folded spelling (see
// foldGerman), as tokenize() compares them after folding.
const STOP_WORDS = new Set(`
    aber alle allem allen aller alles als also am an andere anderem anderen
    anderer anderes auch auf aus bei beim bin bis bist bitte da dabei damit
    dann darf darueber das dass dein deine dem den denen denn der deren des
    dessen die dies diese diesem diesen dieser dieses doch dort du durch ein
    eine einem einen einer eines er es etwa euch euer fuer gegen gibt habe
    haben hat hatte hatten hier ich ihm ihn ihnen ihr ihre ihrem ihren ihrer
    im in ins ist ja jede jedem jeden jeder jedes kann kein keine keinem
    keinen keiner koennen koennte man mich mir mit muss muessen nach nicht
    noch nur ob oder ohne sehr sei sein seine seinem seinen seiner sich sie
    sind so soll sollen sollte sondern ueber um und uns unser unsere unter
    vom von vor waere war waren warum was weil welche welchem welchen welcher
    welches wann wenn wer werden wie wieso wir wird wo wurde wurden worden zu
    zum zur zwischen
`.trim().split(/\s+/));

// Endings stripped by the stemmer, longest first; a stem keeps at least
// MIN_STEM characters so short words are not mangled.
const SUFFIXES = ["en", "er", "es", "e", "n", "s"];
const MIN_STEM = 4;
const STEM_ROUNDS = 2;

// Umlauts and ß as they are written without them, so "Übernachtung" and
// "Uebernachtung" are the same term. NFKC first: PDFs may hold umlauts as a
// letter plus a combining mark, and ligatures such as "ﬁ".
function foldGerman(text) {
    return text.normalize("NFKC").toLowerCase()
        .replace(/ä/g, "ae").replace(/ö/g, "oe").replace(/ü/g, "ue").replace(/ß/g, "ss");
}

// Two rounds, so plural and case endings stacked on each other ("Kindern")
// reach the same stem as the plain form ("Kinder", "Kind").
function stem(word) {
    let result = word;
    for (let round = 0; round < STEM_ROUNDS; round++) {
        const suffix = SUFFIXES.find((ending) => result.endsWith(ending)
            && result.length - ending.length >= MIN_STEM);
        if (suffix === undefined) {
            break;
        }
        result = result.slice(0, -suffix.length);
    }
    return result;
}

// The search terms of a text: folded, split at everything that is not a
// letter or digit, stop words dropped, lightly stemmed.
export function tokenize(text) {
    return foldGerman(text).split(/[^\p{L}\p{N}]+/u)
        .filter((word) => word !== "" && !STOP_WORDS.has(word))
        .map(stem);
}

// --- ranking -----------------------------------------------------------------

const BM25_K1 = 1.2;
const BM25_B = 0.75;

function termCounts(terms) {
    const counts = new Map();
    for (const term of terms) {
        counts.set(term, (counts.get(term) ?? 0) + 1);
    }
    return counts;
}

// What BM25 needs of a passage: its number of terms and how often each occurs.
function termStatistics(text) {
    const terms = tokenize(text);
    return { length: terms.length, counts: termCounts(terms) };
}

// The BM25 score of each passage for the question, given the passages' term
// statistics, in the passages' order.
function bm25Scores(statistics, question) {
    const queryTerms = [...new Set(tokenize(question))];
    const count = statistics.length;
    const averageLength = statistics.reduce((sum, passage) => sum + passage.length, 0) / count || 1;
    const weights = queryTerms.map((term) => {
        const containing = statistics.filter((passage) => passage.counts.has(term)).length;
        return Math.log(1 + (count - containing + 0.5) / (containing + 0.5));
    });
    return statistics.map((passage) => queryTerms.reduce((score, term, index) => {
        const frequency = passage.counts.get(term) ?? 0;
        const norm = BM25_K1 * (1 - BM25_B + BM25_B * passage.length / averageLength);
        return score + weights[index] * frequency * (BM25_K1 + 1) / (frequency + norm);
    }, 0));
}

// Positions of the passages from best to worst; equal scores keep the
// documents' order.
function rankedIndexes(scores) {
    return scores.map((score, index) => index)
        .sort((a, b) => scores[b] - scores[a] || a - b);
}

// The passages with their .score for the question, best first (new objects).
export function rankPassages(passages, question) {
    const scores = bm25Scores(passages.map((passage) => termStatistics(passage.text)), question);
    return rankedIndexes(scores).map((index) => ({ ...passages[index], score: scores[index] }));
}

// --- documents, analysed once ------------------------------------------------

// Splitting and tokenizing a long document takes far longer than scoring
// it, and the same documents are asked about again and again; so both are
// done once per document object. Documents are taken as immutable (as
// readDocument makes them): a changed document must be a new object.
const analyses = new WeakMap();

// The passages of a document and, once a question needed them, their term
// statistics; made on the first call and kept as long as the document.
function analysis(document) {
    let found = analyses.get(document);
    if (found === undefined) {
        found = { passages: splitIntoPassages([document]), statistics: null };
        analyses.set(document, found);
    }
    return found;
}

function documentStatistics(document) {
    const analysed = analysis(document);
    analysed.statistics ??= analysed.passages.map((passage) => termStatistics(passage.text));
    return analysed.statistics;
}

// Splits a document and counts its terms now (when it is loaded, say)
// rather than at its first question. Returns its passages, which are shared
// with later calls and must not be changed.
export function analyseDocument(document) {
    documentStatistics(document);
    return analysis(document).passages;
}

// --- selection ---------------------------------------------------------------

function numbered(passages) {
    return passages.map((passage, index) => ({ ...passage, id: index + 1 }));
}

// When even the best passage is too long: its best part that fits.
function bestPartOf(passage, question, textChars) {
    const parts = splitText(passage.text, textChars).map((text) => ({ ...passage, text }));
    const scores = bm25Scores(parts.map((part) => termStatistics(part.text)), question);
    return parts[rankedIndexes(scores)[0]];
}

// The passages for the prompt, in document order, numbered .id = 1..n, at
// most budgetChars characters in all. A passage costs its text and, when
// perPassageChars is given, that many characters more plus its file name:
// the heading and delimiters the caller puts around it ("[3] (Datei:
// NAME, Seite 7)"), which for many short pages are a large part of the
// prompt. All passages when they fit; otherwise the best-ranked ones that
// fit, leaving out those that share no term with the question (they would
// only cost the user tokens) unless no passage shares one; at least one
// (the best, cut to the budget) as long as there is any text and room for
// any of it.
export function selectPassages(documents, question, budgetChars, { perPassageChars = 0 } = {}) {
    const passages = documents.flatMap((document) => analysis(document).passages);
    const overhead = (passage) => (perPassageChars > 0 ? perPassageChars + passage.file.length : 0);
    const cost = (passage) => passage.text.length + overhead(passage);
    const total = passages.reduce((sum, passage) => sum + cost(passage), 0);
    if (total <= budgetChars) {
        return numbered(passages);
    }
    if (budgetChars < 1) {
        return [];
    }
    const scores = bm25Scores(documents.flatMap(documentStatistics), question);
    const ranking = rankedIndexes(scores);
    const matching = ranking.filter((index) => scores[index] > 0);
    const chosen = [];
    let used = 0;
    for (const index of matching.length > 0 ? matching : ranking) {
        if (used + cost(passages[index]) <= budgetChars) {
            chosen.push(index);
            used += cost(passages[index]);
        }
    }
    if (chosen.length > 0) {
        return numbered(chosen.sort((a, b) => a - b).map((index) => passages[index]));
    }
    const best = passages[ranking[0]];
    const textChars = budgetChars - overhead(best);
    return textChars < 1 ? [] : numbered([bestPartOf(best, question, textChars)]);
}
