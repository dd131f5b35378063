// The Markdown of model answers (web/lib/render.js): what the parser makes of
// untrusted text, that it stays linear on hostile lines, and that the DOM
// part builds what the parser said.

import assert from "node:assert/strict";
import test from "node:test";
import { inlineTokens, markdownBlocks, plainText, renderMarkdown } from "../../../web/lib/render.js";
import { installFakeDocument, tree } from "./fake_dom.mjs";

const FAST_MS = 200;

function text(value) {
    return { kind: "text", text: value };
}

function link(value, href) {
    return { kind: "link", text: value, href };
}

test("code, bold and italic become their own tokens", () => {
    assert.deepEqual(inlineTokens("a `x<y` b **fett** c *kursiv* d"), [
        text("a "), { kind: "code", text: "x<y" }, text(" b "), { kind: "strong", text: "fett" },
        text(" c "), { kind: "em", text: "kursiv" }, text(" d"),
    ]);
    assert.deepEqual(inlineTokens("<script>alert(1)</script>"), [text("<script>alert(1)</script>")]);
});

test("a link whose text hides the URL is followed by its host", () => {
    assert.deepEqual(inlineTokens("[Antrag einreichen](https://evil.example/?d=geheim) jetzt"), [
        link("Antrag einreichen", "https://evil.example/?d=geheim"), text(" (evil.example)"), text(" jetzt"),
    ]);
    assert.deepEqual(inlineTokens("[https://intranet.example/antrag](https://evil.example:8443/x)"), [
        link("https://intranet.example/antrag", "https://evil.example:8443/x"), text(" (evil.example:8443)"),
    ], "a URL as text that is not the link's own URL does not count");
    assert.deepEqual(inlineTokens("[Formular](https://intranet.example@evil.example/)"), [
        link("Formular", "https://intranet.example@evil.example/"), text(" (evil.example)"),
    ], "the host, not what stands before an @");
});

test("a link whose text is its URL or host needs no host after it", () => {
    assert.deepEqual(inlineTokens("[https://example.org](https://example.org)"),
                     [link("https://example.org", "https://example.org/")]);
    assert.deepEqual(inlineTokens("[https://example.org/](https://example.org/)"),
                     [link("https://example.org/", "https://example.org/")]);
    assert.deepEqual(inlineTokens("[Example.org](https://example.org/a)"),
                     [link("Example.org", "https://example.org/a")]);
    assert.deepEqual(inlineTokens("[](https://example.org/a?d=1)"),
                     [link("https://example.org/a?d=1", "https://example.org/a?d=1")]);
});

test("intranet http links are links, other schemes stay text", () => {
    assert.deepEqual(inlineTokens("[Wiki](http://wiki.intern/seite)"),
                     [link("Wiki", "http://wiki.intern/seite"), text(" (wiki.intern)")]);
    for (const line of ["[gefährlichen Link](javascript:alert(1))", "[Klick](javascript:alert`1`)",
                        "[Bild](data:text/html;base64,PHNjcmlwdD4=)", "[Datei](file:///etc/passwd)",
                        "[x](vbscript:msgbox)", "[relativ](/pfad)"]) {
        assert.ok(inlineTokens(line).every((token) => token.kind !== "link"), line);
    }
    assert.deepEqual(inlineTokens("[gefährlichen Link](javascript:void)"),
                     [text("[gefährlichen Link](javascript:void)")]);
});

// 50,000 characters of each: quadratic parsing takes seconds here.
const HOSTILE_CHARS = 50000;
const HOSTILE_UNITS = ["[", "[a](", "[a](x[", "[]", "*", "**a*", "`", "`a", "# ["];

for (const unit of HOSTILE_UNITS) {
    test(`a line of "${unit}" repeated is parsed in linear time`, () => {
        const line = unit.repeat(HOSTILE_CHARS / unit.length);
        const start = performance.now();
        const tokens = inlineTokens(line);
        const blocks = markdownBlocks(`${line}\n${line}`);
        const milliseconds = performance.now() - start;
        assert.ok(milliseconds < FAST_MS, `${milliseconds.toFixed(0)} ms`);
        assert.ok(tokens.length > 0 && blocks.length > 0);
    });
}

test("the text of a hostile line survives whole", () => {
    assert.deepEqual(inlineTokens("[".repeat(1000)), [text("[".repeat(1000))]);
    assert.deepEqual(inlineTokens("[a](x[b](y"), [text("[a](x[b](y")]);
});

test("blocks: headings, lists, paragraphs with breaks, code fences", () => {
    const answer = "# Titel\nEins\nZwei\n\n- a\n- b\n\n1. x\n2) y\n\n```\n<b>code</b>\n\n  eingerückt\n```\nDanach";
    assert.deepEqual(markdownBlocks(answer), [
        { kind: "heading", level: 3, text: "Titel" },
        { kind: "paragraph", lines: ["Eins", "Zwei"] },
        { kind: "ul", items: ["a", "b"] },
        { kind: "ol", items: ["x", "y"] },
        { kind: "code", text: "<b>code</b>\n\n  eingerückt" },
        { kind: "paragraph", lines: ["Danach"] },
    ]);
    assert.deepEqual(markdownBlocks("###### klein\n- a\nkein Punkt"), [
        { kind: "heading", level: 6, text: "klein" },
        { kind: "paragraph", lines: ["- a", "kein Punkt"] },
    ]);
    assert.deepEqual(markdownBlocks("Text\n```\nnoch offen"), [
        { kind: "paragraph", lines: ["Text"] }, { kind: "code", text: "noch offen" },
    ], "a fence still streaming is shown as code");
    assert.deepEqual(markdownBlocks(""), []);
});

test("renderMarkdown builds the nodes the parser describes", () => {
    installFakeDocument();
    const container = document.createElement("div");
    container.append("alter Inhalt");
    renderMarkdown(container, "## Antwort\nSiehe [Antrag](https://evil.example/?d=1) und **dies**.\n\n- `a`");
    const linkProperties = { href: "https://evil.example/?d=1", rel: "noopener noreferrer nofollow",
                             target: "_blank" };
    assert.deepEqual(tree(container), ["div", {},
        ["h4", {}, "Antwort"],
        ["p", {}, "Siehe ", ["a", linkProperties, "Antrag"], " (evil.example)", " und ",
         ["strong", {}, "dies"], "."],
        ["ul", {}, ["li", {}, ["code", {}, "a"]]],
    ]);
    renderMarkdown(container, "<img src=x onerror=alert(1)>\n```\nx\n```");
    assert.deepEqual(tree(container), ["div", {},
        ["p", {}, "<img src=x onerror=alert(1)>"],
        ["pre", {}, ["code", {}, "x"]],
    ]);
});

test("plainText is what a screen reader should read: no Markdown marks", () => {
    const answer = "# Ergebnis\n\nDie **Frist** ist *kurz*: `14 Tage`.\n\n- erstens\n- "
        + "[Formular](https://intra.example/f)\n\n```\ncode\n```";
    assert.equal(plainText(answer),
                 "Ergebnis\nDie Frist ist kurz: 14 Tage.\nerstens\nFormular (intra.example)\ncode");
    assert.equal(plainText(""), "");
});
