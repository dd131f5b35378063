// Browser test of llmoin's web page (web/) against a running node; started
// by tests/system/test_web_page.py, which sets up the node and passes:
//   LLMOIN_URL, LLMOIN_SIM_URL       the gateway and infer-sim
//   LLMOIN_SCRIPTED_MODEL/_URL       the scripted model and its server
//                                    (GET /last: the last request body)
//   LLMOIN_CONTROL_URL               POST /rpm-1, /rpm-clear, /suspend,
//                                    /resume, /sign-in-off, /cap-5,
//                                    /cap-back: applied by every nginx
//                                    worker when answered
//   LLMOIN_FIXTURES                  documents to upload
//   LLMOIN_FUNCTIONS_DIR             web/functions (the prompts' source)
//   LLMOIN_MARKER                    put into every prompt
//   LLMOIN_WEB_ARTIFACTS, CHROMIUM
// Exits non-zero at the first failed check; screenshots go to
// LLMOIN_WEB_ARTIFACTS.

import { readFileSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import assert from "node:assert/strict";
import { chromium } from "playwright-core";

const require = createRequire(import.meta.url);
const env = process.env;
const url = env.LLMOIN_URL;
const artifacts = env.LLMOIN_WEB_ARTIFACTS;
const axePath = require.resolve("axe-core/axe.min.js");
const USER = "erika";
const SIM = "llmoin-sim";
const SIM_ANSWER = /^Gerne helfe ich Ihnen weiter\./;
const MARKER = env.LLMOIN_MARKER;

function step(text) {
    console.log(`web_page: ${text}`);
}

function fixture(name) {
    return path.join(env.LLMOIN_FIXTURES, name);
}

function definition(id) {
    return JSON.parse(readFileSync(path.join(env.LLMOIN_FUNCTIONS_DIR, `${id}.json`), "utf8"));
}

async function control(action) {
    const response = await fetch(`${env.LLMOIN_CONTROL_URL}/${action}`, { method: "POST" });
    assert.equal(response.status, 204, `control ${action}`);
}

async function simConfig(settings) {
    const response = await fetch(`${env.LLMOIN_SIM_URL}/sim/config`, {
        method: "POST", body: JSON.stringify(settings),
        headers: { "Content-Type": "application/json" },
    });
    assert.equal(response.status, 200);
}

async function lastScriptedRequest() {
    return (await fetch(`${env.LLMOIN_SCRIPTED_URL}/last`)).json();
}

async function screenshot(page, name) {
    await page.screenshot({ path: path.join(artifacts, `${name}.png`), fullPage: true });
}

// axe-core: no WCAG 2.1 A/AA violations on the current view.
async function accessible(page, view) {
    await page.addScriptTag({ path: axePath });
    const result = await page.evaluate(() => window.axe.run(document, {
        runOnly: { type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"] },
    }));
    const found = result.violations.map((v) =>
        `${v.id}: ${v.help} (${v.nodes.map((n) => n.target.join(" ")).join(", ")})`);
    assert.deepEqual(found, [], `axe-core violations on ${view}`);
}

function lastAnswer(page, list = "#history") {
    return page.locator(`${list} .message.assistant .content`).last();
}

async function answerDone(page, id) {
    await page.locator(`#${id}`, { hasText: "Die Antwort ist fertig." }).waitFor();
}

async function ask(page, prompt, model) {
    await page.selectOption("#model", model);
    await page.fill("#prompt", prompt);
    await page.keyboard.press("Control+Enter");
}

// The view shown (the other four are hidden but in the document).
function shownView(page) {
    return page.locator("section.view:not([hidden])");
}

// Opens a function through its link, as a user would; returns its view.
async function openView(page, name, hash) {
    await page.getByRole("link", { name, exact: true }).click();
    assert.equal(new URL(page.url()).hash, hash);
    // hashchange is handled in a task of its own, after the click
    await page.locator("a[aria-current=page]", { hasText: name }).waitFor();
    const heading = page.locator("section.view:not([hidden]) h1");
    assert.equal(await heading.innerText(), name);
    await page.waitForFunction(() =>
        document.activeElement === document.querySelector("section.view:not([hidden]) h1"));
    return shownView(page);
}

async function signIn(page) {
    await page.goto(`${url}/`);
    await page.getByRole("heading", { name: "Anmeldung" }).waitFor();
    await accessible(page, "the sign-in view");
    await screenshot(page, "01-anmeldung");
    await page.getByRole("button", { name: "Anmelden" }).click();
    await page.waitForURL(/\/dev-idp\//);
    await page.getByLabel("Benutzername").fill(USER);
    await page.getByRole("button", { name: "Anmelden" }).click();
    await page.getByText(`Angemeldet als ${USER}`).waitFor();
    assert.equal(new URL(page.url()).search, "", "code and state are cleaned out of the URL");
    const stored = await page.evaluate(() => [sessionStorage.length, localStorage.length]);
    assert.deepEqual(stored, [0, 0], "nothing is left in session or local storage");
    await page.locator("#quota", { hasText: "Monatskontingent: noch" }).waitFor();
    step("signed in through the development identity provider");
}

// --- Freier Prompt -------------------------------------------------------------

async function streamedAnswer(page) {
    await ask(page, `Hallo Welt ${MARKER}`, SIM);
    await answerDone(page, "status");
    assert.match(await lastAnswer(page).innerText(), SIM_ANSWER);
    // read out once, paragraph by paragraph, not with every rendering
    const live = page.locator("#history + [aria-live=polite]");
    assert.match(await live.innerText(), SIM_ANSWER);
    assert.equal(await page.locator("#history").getAttribute("aria-live"), null);
    await page.locator("#quota", { hasText: "Monatskontingent: noch" }).waitFor();
    step("Freier Prompt: a streamed answer from infer-sim arrived");
}

async function injectedMarkupShownAsText(page) {
    await ask(page, "Zeig mir etwas", env.LLMOIN_SCRIPTED_MODEL);
    await answerDone(page, "status");
    const answer = lastAnswer(page);
    const text = await answer.innerText();
    assert.ok(text.includes("<script>window.__llmoinInjected='script'</script>"), text);
    assert.ok(text.includes("<img src=x onerror="), text);
    assert.equal(await page.evaluate(() => window.__llmoinInjected), undefined,
                 "injected markup ran");
    assert.equal(await page.locator("#history script, #history img").count(), 0);
    const links = await answer.locator("a").evaluateAll((all) => all.map((a) => a.href));
    assert.deepEqual(links, ["https://example.org/"], "only the https link is a link");
    assert.ok(text.includes("[gefährlichen Link](javascript:"), "the javascript: link stays text");
    assert.equal(await answer.locator("strong").innerText(), "fett");
    assert.equal(await answer.locator("li").count(), 2);
    await screenshot(page, "02-freier-prompt");
    step("markup injected into an answer is shown as text and never runs");
}

async function stopButtonStops(page) {
    await simConfig({ tokens_per_second: 5, answer_tokens: 300 });
    try {
        await ask(page, "Eine lange Antwort bitte", SIM);
        const answer = lastAnswer(page);
        await answer.filter({ hasText: "Gerne" }).waitFor();
        assert.equal(await page.locator("#stop").isEnabled(), true);
        await page.getByRole("button", { name: "Antwort stoppen" }).click();
        await page.locator("#status", { hasText: "Die Antwort wurde angehalten." }).waitFor();
        const stopped = await answer.innerText();
        await page.waitForTimeout(1000);
        assert.equal(await answer.innerText(), stopped, "the answer grew after Stopp");
        assert.ok(stopped.split(/\s+/).length < 100, "the answer was not stopped early");
        assert.equal(await page.locator("#send").isEnabled(), true);
    } finally {
        await simConfig({ tokens_per_second: 0, answer_tokens: null });
    }
    step("the stop button ends a streaming answer");
}

async function copyButtonCopies(page) {
    await page.locator("#history .message.assistant").first()
        .getByRole("button", { name: "Antwort kopieren" }).click();
    await page.locator("#status", { hasText: "in die Zwischenablage kopiert" }).waitFor();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert.match(copied, SIM_ANSWER);
    step("the copy button copies an answer");
}

async function clearForgetsHistory(page) {
    await page.getByRole("button", { name: "Verlauf löschen" }).click();
    assert.equal(await page.locator("#history li").count(), 0);
    await page.locator("#page-status", { hasText: "Der Verlauf wurde gelöscht." }).waitFor();
    step("Verlauf löschen empties the history");
}

// From the top of the page: skip link, account, the five functions, the
// shared settings, then the view's own fields.
async function keyboardReachesEverything(page) {
    await page.locator(".skip-link").focus();
    const focused = () => page.evaluate(() => document.activeElement.id
        || document.activeElement.textContent.trim().slice(0, 40));
    const order = [await focused()];
    for (let i = 0; i < 10; i++) {
        await page.keyboard.press("Tab");
        order.push(await focused());
    }
    assert.deepEqual(order, ["Zum Inhalt springen", "sign-out", "Freier Prompt", "Zusammenfassen",
                             "Texte formulieren", "In Dokumenten recherchieren", "Einfache Sprache",
                             "model", "clear", "prompt", "send"], `focus order: ${JSON.stringify(order)}`);
    for (let i = 0; i < 7; i++) {
        await page.keyboard.press("Shift+Tab");
    }
    assert.equal(await focused(), "Zusammenfassen");
    await page.keyboard.press("Enter");
    await page.locator("#view-summarize").waitFor();
    assert.equal(new URL(page.url()).hash, "#zusammenfassen", "a function opens with the keyboard");
    await page.getByRole("link", { name: "Freier Prompt", exact: true }).click();
    step("focus order: skip link, account, functions, model, Verlauf löschen, the view's fields;"
         + " a function opens with Enter");
}

function promptHolds(prompt, expected, what) {
    for (const text of expected) {
        assert.ok(prompt.includes(text), `the ${what} prompt lacks ${text}:\n${prompt}`);
    }
}

// Sends a function's form to the scripted model; returns the request body
// the page built (system and user message).
async function sentToScripted(page, view, id, submit) {
    await page.selectOption("#model", env.LLMOIN_SCRIPTED_MODEL);
    await view.getByRole("button", { name: submit, exact: true }).click();
    await answerDone(page, `${id}-status`);
    return lastScriptedRequest();
}

// Sends the same form to infer-sim: a streamed answer arrives and its copy
// button (when given) copies it.
async function streamedAndCopied(page, view, id, submit, copy) {
    await page.selectOption("#model", SIM);
    await view.getByRole("button", { name: submit, exact: true }).click();
    await answerDone(page, `${id}-status`);
    assert.match(await lastAnswer(page, `#${id}-results`).innerText(), SIM_ANSWER);
    if (copy) {
        await view.getByRole("button", { name: copy }).last().click();
        assert.match(await page.evaluate(() => navigator.clipboard.readText()), SIM_ANSWER);
    }
}

// --- Zusammenfassen ----------------------------------------------------------------

async function summarize(page) {
    const view = await openView(page, "Zusammenfassen", "#zusammenfassen");
    await accessible(page, "Zusammenfassen");
    await page.fill("#summarize-text", "x".repeat(24001));
    await view.getByRole("button", { name: "Zusammenfassen", exact: true }).click();
    await page.locator("#notice", { hasText: "Der Text ist mit 24.001 Zeichen zu lang für eine Anfrage "
                                             + "(höchstens 24.000 Zeichen)" }).waitFor();
    assert.equal(await page.locator("#summarize-results .message").count(), 0, "nothing was sent");
    await page.setInputFiles("#summarize-text-file", fixture("Notiz.txt"));
    await page.locator("#summarize-status", { hasText: "steht jetzt im Textfeld" }).waitFor();
    assert.match(await page.inputValue("#summarize-text"), /Öffnungszeiten werden ab Mai verlängert/);
    await page.fill("#summarize-text", `${await page.inputValue("#summarize-text")}\n${MARKER}`);
    await view.getByLabel("kurz").check();
    await view.getByLabel("Fließtext").check();
    await view.getByLabel("bürgernah").check();
    const sent = await sentToScripted(page, view, "summarize", "Zusammenfassen");
    const summarizeFile = definition("summarize");
    const option = (field, value) => summarizeFile.fields.find((f) => f.name === field)
        .options.find((o) => o.value === value).prompt;
    assert.equal(sent.messages[0].role, "system");
    assert.equal(sent.messages[0].content, summarizeFile.instructions);
    const prompt = sent.messages[1].content;
    promptHolds(prompt, [option("length", "kurz"), option("form", "fliesstext"),
                         option("register", "buergernah"), "Öffnungszeiten werden ab Mai"], "summary");
    assert.equal(sent.stream, true);

    await streamedAndCopied(page, view, "summarize", "Zusammenfassen", "Zusammenfassung kopieren");
    await accessible(page, "Zusammenfassen with answers");
    await screenshot(page, "05-zusammenfassen");
    step("Zusammenfassen: file read into the text, options in the prompt, streamed answer copied");
}

// --- Texte formulieren ------------------------------------------------------------

async function write(page) {
    const view = await openView(page, "Texte formulieren", "#texte-formulieren");
    await view.getByLabel("Brief").check();
    await view.getByLabel("Empfängerin oder Empfänger").fill("Bürgerin");
    await view.getByLabel("Anrede").fill("Sehr geehrte Frau Schulz");
    await view.getByLabel("freundlich").check();
    await view.getByLabel("Kernpunkte").fill(`Antrag auf Wohngeld ist eingegangen\n${MARKER}`);
    const prompt = (await sentToScripted(page, view, "write", "Entwurf erstellen")).messages[1].content;
    promptHolds(prompt, ["Schreibe einen Brief", "Der Text richtet sich an: Bürgerin.",
                         "Verwende genau diese Anrede: Sehr geehrte Frau Schulz",
                         "Der Ton ist freundlich", "Antrag auf Wohngeld ist eingegangen"], "draft");
    await streamedAndCopied(page, view, "write", "Entwurf erstellen", "Entwurf kopieren");
    await accessible(page, "Texte formulieren");
    await screenshot(page, "06-texte-formulieren");
    step("Texte formulieren: type, recipient, salutation and tone in the prompt; draft copied");
}

// --- In Dokumenten recherchieren ---------------------------------------------------

async function research(page) {
    const view = await openView(page, "In Dokumenten recherchieren", "#recherche");
    await page.setInputFiles("#research-files", ["Dienstreiserichtlinie.pdf", "Haushaltsplan.pdf",
                                                  "Vermerk.docx", "Notiz.txt"].map(fixture));
    const loaded = page.locator("#research-documents");
    await loaded.filter({ hasText: "Notiz.txt" }).waitFor({ timeout: 30000 });
    const listed = await loaded.innerText();
    for (const expected of ["Dienstreiserichtlinie.pdf (4 Seiten)", "Haushaltsplan.pdf (30 Seiten)",
                            "Vermerk.docx (2 Seiten)", "Notiz.txt"]) {
        assert.ok(listed.includes(expected), `documents list lacks ${expected}: ${listed}`);
    }
    await view.getByLabel("Ihre Frage").fill("Frist?".repeat(4000));
    await view.getByRole("button", { name: "Recherchieren" }).click();
    await page.locator("#notice", { hasText: "Ihre Frage ist mit 24.000 Zeichen zu lang (höchstens 21.000 Zeichen)" }).waitFor();
    assert.equal(await page.locator("#research-results .message").count(), 0, "nothing was sent");
    await view.getByLabel("Ihre Frage").fill(
        `Bis wann muss die Reisekostenabrechnung eingereicht werden? Gilt eine Ausschlussfrist? ${MARKER}`);
    const prompt = (await sentToScripted(page, view, "research", "Recherchieren")).messages[1].content;
    const settings = JSON.parse(readFileSync(path.join(env.LLMOIN_FUNCTIONS_DIR, "..", "config.json"), "utf8"));
    assert.ok(prompt.length <= settings.max_input_chars, `prompt of ${prompt.length} characters`);
    assert.ok(prompt.includes("Ausschlussfrist von sechs Monaten"), "the best passage was not sent");
    assert.ok(!prompt.includes("Haushaltsplan Kapitel"),
              "passages sharing no word with the question were sent");

    const answer = lastAnswer(page, "#research-results");
    const citations = answer.getByRole("button", { name: "(Dienstreiserichtlinie.pdf, S. 3)" });
    assert.equal(await citations.count(), 2, "both citation forms become buttons");
    await citations.first().click();
    const cited = page.locator("#research-results .source.cited");
    await cited.waitFor();
    assert.match(await cited.innerText(), /Dienstreiserichtlinie\.pdf, Seite 3/);
    assert.match(await cited.innerText(), /Ausschlussfrist von sechs Monaten/);
    assert.equal(await cited.locator("summary").evaluate((node) => node === document.activeElement), true,
                 "focus moves to the cited passage");
    assert.equal(await page.locator("#research-results details.source[open]").count(), 1,
                 "only the cited passage is opened");
    await accessible(page, "In Dokumenten recherchieren with a cited passage");
    await screenshot(page, "07-recherche");

    await streamedAndCopied(page, view, "research", "Recherchieren");
    const sources = page.locator("#research-results .message.assistant").last().locator(".sources");
    await sources.locator("summary").first().click();
    assert.match(await sources.innerText(), /Dienstreiserichtlinie\.pdf, Seite 3/);
    step("research: PDF, DOCX and TXT read in the browser; ranked passages within the budget;"
         + " (Datei, Seite) citations show the passage");
}

// --- Einfache Sprache ---------------------------------------------------------------

async function plainLanguage(page) {
    const view = await openView(page, "Einfache Sprache", "#einfache-sprache");
    await view.getByLabel("Text", { exact: true }).fill(
        `Der Antrag ist binnen eines Monats nach Bekanntgabe des Bescheides einzureichen. ${MARKER}`);
    await view.getByLabel("Leichte Sprache").check();
    const sent = await sentToScripted(page, view, "plain_language", "Umschreiben");
    assert.equal(sent.messages[0].content, definition("plain_language").instructions);
    assert.match(sent.messages[1].content, /Leichter Sprache/);
    await streamedAndCopied(page, view, "plain_language", "Umschreiben", "Text kopieren");
    await accessible(page, "Einfache Sprache");
    await screenshot(page, "08-einfache-sprache");
    step("Einfache Sprache: Leichte Sprache asked for, streamed answer");
}

// --- around the functions -------------------------------------------------------

// At 768 px (the narrow window) and at 320 px (WCAG 1.4.10,
// reflow) every view fits the window: nothing scrolls sideways.
async function narrowWindow(page) {
    const views = [["Freier Prompt", "#freier-prompt"], ["Zusammenfassen", "#zusammenfassen"],
                   ["Texte formulieren", "#texte-formulieren"],
                   ["In Dokumenten recherchieren", "#recherche"], ["Einfache Sprache", "#einfache-sprache"]];
    for (const width of [768, 320]) {
        await page.setViewportSize({ width, height: 1000 });
        for (const [name, hash] of views) {
            await openView(page, name, hash);
            const [scrollWidth, inner] = await page.evaluate(() =>
                [document.documentElement.scrollWidth, window.innerWidth]);
            assert.ok(scrollWidth <= inner, `${name} is ${scrollWidth} px wide in a ${width} px window`);
            if (width === 768) {
                await accessible(page, `${name} at 768 px`);
            }
        }
        await screenshot(page, width === 768 ? "09-schmal-768px" : "10-schmal-320px");
    }
    await page.setViewportSize({ width: 1280, height: 800 });
    await openView(page, "Freier Prompt", "#freier-prompt");
    step("every view fits a 768 px and a 320 px window");
}

async function noticeFor(page, action, expected) {
    const notice = page.locator("#notice");
    await action();
    await notice.filter({ hasText: expected }).waitFor();
    return notice.innerText();
}

async function tooManyRequestsInGerman(page) {
    await control("rpm-1");
    // the minute's one request may be used up already
    const refused = page.locator("#notice").filter({ hasText: "zu viele Anfragen" });
    await ask(page, "Eine Frage", SIM);
    await Promise.race([refused.waitFor(), answerDone(page, "status")]);
    const text = await noticeFor(page, async () => {
        if (!(await refused.isVisible())) {
            await ask(page, "Noch eine Frage", SIM);
        }
    }, "zu viele Anfragen");
    assert.match(text, /in \d+ Sekunden erneut\.|in 1 Minute erneut\./);
    await accessible(page, "the chat view with an error");
    await screenshot(page, "03-zu-viele-anfragen");
    await control("rpm-clear");
    step(`429 shown in German: ${text}`);
}

async function suspendedInGerman(page) {
    await control("suspend");
    try {
        const text = await noticeFor(page, () => ask(page, "Gesperrt?", SIM),
                                     "Der Zugang Ihrer Verwaltung ist derzeit gesperrt.");
        step(`403 shown in German: ${text}`);
    } finally {
        await control("resume");
    }
}

async function unavailableInGerman(page) {
    await simConfig({ fail_rate: 1, fail_status: 503 });
    try {
        const text = await noticeFor(page, () => ask(page, "Erreichbar?", SIM),
                                     "Der Dienst ist im Moment nicht verfügbar.");
        assert.match(text, /Vorgangsnummer für die IT-Servicestelle: \S+/);
        step(`503 shown in German: ${text}`);
    } finally {
        await simConfig({ fail_rate: 0 });
    }
}

// "Anmeldung verlängern" and the sign-in in the small window it opens.
async function renewAs(page, user) {
    const [popup] = await Promise.all([
        page.context().waitForEvent("page"),
        page.locator("#expiry").getByRole("button", { name: "Anmeldung verlängern" }).click(),
    ]);
    await popup.getByLabel("Benutzername").fill(user);
    await popup.getByRole("button", { name: "Anmelden" }).click();
    await popup.waitForEvent("close");
}

// The token runs out while the page is open: two minutes before, the page
// offers to renew it in a small window, which keeps the history; if nobody
// does, the page asks to sign in again on its own, before a request fails.
async function expiryAnnounced(page) {
    await ask(page, "Bleibt das stehen?", SIM);
    await answerDone(page, "status");
    await page.clock.fastForward("58:30");
    const expiry = page.locator("#expiry");
    await expiry.filter({ hasText: "Ihre Anmeldung läuft in zwei Minuten ab." }).waitFor();
    await accessible(page, "the expiry warning");
    await renewAs(page, USER);
    await page.locator("#page-status", { hasText: "Ihre Anmeldung wurde verlängert." }).waitFor();
    assert.equal(await expiry.innerText(), "");
    assert.equal(await page.locator("#history .message").count(), 2, "the history stays");
    const stored = await page.evaluate(() => [sessionStorage.length, localStorage.length]);
    assert.deepEqual(stored, [0, 0], "renewing leaves nothing in storage");
    step("an expiring sign-in is announced and renewed in a small window; the history stays");

    await page.clock.fastForward("58:30");
    await expiry.filter({ hasText: "Ihre Anmeldung läuft in zwei Minuten ab." }).waitFor();
    await renewAs(page, "max");
    await page.locator("#page-status", { hasText: "Sie sind jetzt als max angemeldet" }).waitFor();
    await page.getByText("Angemeldet als max").waitFor();
    assert.equal(await page.locator("#history .message").count(), 0,
                 "someone else renewing does not see the history");
    step("renewed by someone else: the history is gone");

    await page.clock.fastForward("58:30");
    await expiry.filter({ hasText: "Ihre Anmeldung läuft in zwei Minuten ab." }).waitFor();
    await page.clock.fastForward("02:00");
    await page.locator("#notice", { hasText: "Ihre Anmeldung ist abgelaufen." }).waitFor();
    await page.getByRole("button", { name: "Erneut anmelden" }).waitFor();
    assert.equal(await page.locator("#workspace").isHidden(), true);
    assert.equal(await page.locator(".message").count(), 0, "the history is gone with the session");
    assert.equal(await page.evaluate(() => document.activeElement.textContent), "Erneut anmelden");
    await accessible(page, "the expired sign-in");
    await screenshot(page, "04-erneut-anmelden");
    step("an expired sign-in asks to sign in again, focus on its button");
}

// An answer that breaks off keeps what arrived and says it is incomplete;
// one the max_tokens cap ended says so too.
async function endingsSaid(page) {
    // tokens spaced as a model sends them (all at once, chromium may drop
    // the last piece together with the broken connection)
    await simConfig({ cut_rate: 1, cut_after: 3, tokens_per_second: 20 });
    try {
        await ask(page, "Eine Antwort, die abbricht", SIM);
        await page.locator("#status", { hasText: "Die Antwort ist unvollständig angekommen." }).waitFor();
        assert.match(await lastAnswer(page).innerText(), /^Gerne/, "what arrived stays");
        assert.equal(await page.locator("#notice").innerText(), "");
    } finally {
        await simConfig({ cut_rate: 0, tokens_per_second: 0 });
    }
    await control("cap-5");
    try {
        await ask(page, "Eine zu lange Antwort", SIM);
        await page.locator("#status", { hasText: "wegen ihrer Länge abgeschnitten" }).waitFor();
        assert.match(await page.locator("#history .message.assistant").last().innerText(),
                     /Die Antwort wurde wegen ihrer Länge abgeschnitten\./);
    } finally {
        await control("cap-back");
    }
    step("a cut answer and one ended by the max_tokens cap are marked as such");
}

// Abmelden while an answer streams: signed out, and no complaint about an
// expired sign-in from the answer's belated allowance update.
async function signOutDuringAnswer(page) {
    await simConfig({ tokens_per_second: 5, answer_tokens: 300 });
    try {
        await ask(page, "Eine lange Antwort bitte", SIM);
        await lastAnswer(page).filter({ hasText: "Gerne" }).waitFor();
        await page.getByRole("button", { name: "Abmelden" }).click();
        await page.getByRole("heading", { name: "Anmeldung" }).waitFor();
        await page.waitForTimeout(1000);
        assert.equal(await page.locator("#notice").innerText(), "");
        assert.equal(await page.locator(".message").count(), 0);
        assert.equal(await page.evaluate(() => document.activeElement.id), "sign-in-button");
    } finally {
        await simConfig({ tokens_per_second: 0, answer_tokens: null });
    }
    step("Abmelden during an answer signs out quietly");
}

// A page whose files do not all load says so instead of staying blank.
async function brokenDeploymentSaid(browser, errors) {
    const page = await newPage(browser, errors);
    await page.route("**/functions/write.json", (route) => route.fulfill({ status: 404, body: "" }));
    await page.goto(`${url}/`);
    await page.locator("#notice", { hasText: "Die Seite konnte nicht vollständig geladen werden." }).waitFor();
    assert.equal(await page.locator("#sign-in-button").isDisabled(), true);
    await page.close();
    step("a function file that does not load gets a clear message");
}

// Abmelden ends the session at the provider too when its discovery
// document names an end_session_endpoint (the development provider has
// none: the test adds one to what the browser gets).
async function signOutAtProvider(browser, errors) {
    const page = await newPage(browser, errors);
    await page.route("**/.well-known/openid-configuration", async (route) => {
        const original = await (await route.fetch()).json();
        await route.fulfill({ json: { ...original, end_session_endpoint: `${url}/signed-out` } });
    });
    await page.route("**/signed-out?*", (route) => route.fulfill({ status: 200, body: "abgemeldet" }));
    await signIn(page);
    const [request] = await Promise.all([
        page.waitForRequest("**/signed-out?*"),
        page.getByRole("button", { name: "Abmelden" }).click(),
    ]);
    const target = new URL(request.url());
    assert.equal(target.searchParams.get("client_id"), "llmoin-web");
    assert.equal(target.searchParams.get("post_logout_redirect_uri"), `${url}/`);
    await page.close();
    step("Abmelden also ends the session at the provider");
}

async function signInAgain(page) {
    await page.getByRole("button", { name: "Erneut anmelden" }).click();
    await page.waitForURL(/\/dev-idp\//);
    await page.getByLabel("Benutzername").fill(USER);
    await page.getByRole("button", { name: "Anmelden" }).click();
    await page.getByText(`Angemeldet als ${USER}`).waitFor();
    step("signed in again");
}

async function refusedTokenAsksAgain(page) {
    await control("sign-in-off");
    await ask(page, "Bin ich noch angemeldet?", SIM);
    await page.locator("#notice", { hasText: "Bitte melden Sie sich erneut an." }).waitFor();
    await page.getByRole("button", { name: "Erneut anmelden" }).waitFor();
    assert.equal(await page.locator("#workspace").isHidden(), true);
    step("a refused token (401) asks to sign in again");
}

async function newPage(browser, errors) {
    // bypassCSP: axe-core is injected as a script; it also shows that
    // the page's rendering is safe without the help of its CSP.
    const context = await browser.newContext({
        viewport: { width: 1280, height: 800 }, bypassCSP: true, locale: "de-DE",
    });
    await context.grantPermissions(["clipboard-read", "clipboard-write"], { origin: url });
    const page = await context.newPage();
    page.setDefaultTimeout(15000);
    page.on("pageerror", (error) => errors.push(String(error)));
    page.on("dialog", (dialog) => { errors.push(`dialog: ${dialog.message()}`); dialog.dismiss(); });
    return page;
}

async function main() {
    const browser = await chromium.launch({
        executablePath: env.CHROMIUM || "/usr/bin/chromium",
        headless: true,
        args: ["--no-sandbox"],
    });
    const errors = [];
    try {
        const page = await newPage(browser, errors);
        await signIn(page);
        await streamedAnswer(page);
        await accessible(page, "Freier Prompt");
        await injectedMarkupShownAsText(page);
        await copyButtonCopies(page);
        await stopButtonStops(page);
        await clearForgetsHistory(page);
        await keyboardReachesEverything(page);
        await summarize(page);
        await write(page);
        await research(page);
        await plainLanguage(page);
        await narrowWindow(page);
        await tooManyRequestsInGerman(page);
        await suspendedInGerman(page);
        await unavailableInGerman(page);
        await endingsSaid(page);
        await signOutDuringAnswer(page);

        await brokenDeploymentSaid(browser, errors);
        await signOutAtProvider(browser, errors);

        // a tab whose clock the test turns forward
        const later = await newPage(browser, errors);
        await later.clock.install();
        await signIn(later);
        await expiryAnnounced(later);
        await signInAgain(later);
        await refusedTokenAsksAgain(later);
        assert.deepEqual(errors, [], "errors in the page");
    } finally {
        await browser.close();
    }
    step(`passed; screenshots in ${artifacts}`);
}

main().catch((error) => {
    console.error(error);
    process.exit(1);
});
