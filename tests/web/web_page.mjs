// Browser test of llmoin's web page (web/) against a running node; started
// by tests/system/test_web_page.py, which sets up the node and passes:
//   LLMOIN_URL, LLMOIN_SIM_URL, LLMOIN_TENANT, LLMOIN_SCRIPTED_MODEL,
//   LLMOIN_CTL, LLMOIN_SOCKET, LLMOIN_WEB_ARTIFACTS, CHROMIUM
// Exits non-zero at the first failed check; screenshots go to
// LLMOIN_WEB_ARTIFACTS.

import { execFileSync } from "node:child_process";
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

function step(text) {
    console.log(`web_page: ${text}`);
}

function ctl(...args) {
    return execFileSync(env.LLMOIN_CTL, ["--socket", env.LLMOIN_SOCKET, ...args],
                        { encoding: "utf8" });
}

async function simConfig(settings) {
    const response = await fetch(`${env.LLMOIN_SIM_URL}/sim/config`, {
        method: "POST", body: JSON.stringify(settings),
        headers: { "Content-Type": "application/json" },
    });
    assert.equal(response.status, 200);
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

async function lastAnswer(page) {
    return page.locator(".message.assistant .content").last();
}

async function ask(page, prompt, model) {
    await page.selectOption("#model", model);
    await page.fill("#prompt", prompt);
    await page.keyboard.press("Control+Enter");
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

async function streamedAnswer(page) {
    await ask(page, "Hallo Welt", "llmoin-sim");
    await page.locator("#status", { hasText: "Die Antwort ist fertig." }).waitFor();
    const text = await (await lastAnswer(page)).innerText();
    assert.match(text, /^Gerne helfe ich Ihnen weiter\./);
    assert.equal(await page.locator("#history").getAttribute("aria-live"), "polite");
    await page.locator("#quota", { hasText: "Monatskontingent: noch" }).waitFor();
    step("a streamed answer from infer-sim arrived");
}

async function injectedMarkupShownAsText(page) {
    await ask(page, "Zeig mir etwas", env.LLMOIN_SCRIPTED_MODEL);
    await page.locator("#status", { hasText: "Die Antwort ist fertig." }).waitFor();
    const answer = await lastAnswer(page);
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
        await ask(page, "Eine lange Antwort bitte", "llmoin-sim");
        const answer = await lastAnswer(page);
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
    const expected = await (await lastAnswer(page)).innerText();
    await page.locator(".message.assistant").first().getByRole("button", { name: "Antwort kopieren" }).click();
    await page.locator("#status", { hasText: "in die Zwischenablage kopiert" }).waitFor();
    const copied = await page.evaluate(() => navigator.clipboard.readText());
    assert.match(copied, /^Gerne helfe ich Ihnen weiter\./);
    assert.notEqual(expected, "");
    step("the copy button copies an answer");
}

async function keyboardReachesEverything(page) {
    await page.locator("#prompt").focus();
    const order = [];
    for (let i = 0; i < 4; i++) {
        await page.keyboard.press("Tab");
        order.push(await page.evaluate(() => document.activeElement.id));
    }
    assert.deepEqual(order.slice(0, 2), ["send", "clear"], `focus order: ${order}`);
    step("focus order: prompt, Senden, Verlauf löschen");
}

async function clearForgetsHistory(page) {
    await page.getByRole("button", { name: "Verlauf löschen" }).click();
    assert.equal(await page.locator("#history li").count(), 0);
    await page.locator("#status", { hasText: "Der Verlauf wurde gelöscht." }).waitFor();
    step("Verlauf löschen empties the history");
}

async function tooManyRequestsInGerman(page) {
    ctl("limits", "set", env.LLMOIN_TENANT, "--user", USER, "--rpm", "1");
    await page.waitForTimeout(2500);  // the snapshot reaches every nginx worker
    await ask(page, "Noch eine Frage", "llmoin-sim");
    const notice = page.locator("#notice");
    await notice.filter({ hasText: "zu viele Anfragen" }).waitFor();
    assert.match(await notice.innerText(), /erneut\./);
    assert.match(await notice.innerText(), /in \d+ Sekunden|in \d+ Minute/);
    await accessible(page, "the chat view with an error");
    await screenshot(page, "03-zu-viele-anfragen");
    ctl("limits", "clear", env.LLMOIN_TENANT, "--user", USER);
    step(`429 shown in German: ${await notice.innerText()}`);
}

async function expiredSignInAsksAgain(page) {
    ctl("tenant", "dev-idp", env.LLMOIN_TENANT, "--disable");
    await page.waitForTimeout(2500);
    await ask(page, "Bin ich noch angemeldet?", "llmoin-sim");
    await page.locator("#notice", { hasText: "Bitte melden Sie sich erneut an." }).waitFor();
    await page.getByRole("button", { name: "Erneut anmelden" }).waitFor();
    assert.equal(await page.locator("#chat").isHidden(), true);
    await screenshot(page, "04-erneut-anmelden");
    step("a refused token (401) asks to sign in again");
}

async function main() {
    const browser = await chromium.launch({
        executablePath: env.CHROMIUM || "/usr/bin/chromium",
        headless: true,
        args: ["--no-sandbox"],
    });
    const errors = [];
    try {
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
        await signIn(page);
        await streamedAnswer(page);
        await accessible(page, "the chat view");
        await injectedMarkupShownAsText(page);
        await copyButtonCopies(page);
        await stopButtonStops(page);
        await keyboardReachesEverything(page);
        await clearForgetsHistory(page);
        await page.setViewportSize({ width: 768, height: 900 });
        await screenshot(page, "05-schmal-768px");
        await page.setViewportSize({ width: 1280, height: 800 });
        await tooManyRequestsInGerman(page);
        await expiredSignInAsksAgain(page);
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
