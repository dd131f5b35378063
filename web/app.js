// The employees' web page: sign-in, "Freier Prompt" with streamed answers,
// the remaining allowance. Everything the page knows (the token, the
// history) lives in this module's memory and nowhere else.

import { claimsOf, finishSignIn, startSignIn } from "./lib/oidc.js";
import { GatewayError, gatewayFetch, germanMessage } from "./lib/gateway.js";
import { renderMarkdown } from "./lib/render.js";
import { readEventStream } from "./lib/sse.js";

const TENANT_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;

const session = { token: null, expiresAt: 0, expiryTimer: 0 };
const chat = { function: null, history: [], controller: null };
const $ = (id) => document.getElementById(id);

// --- settings ----------------------------------------------------------------

// web/config.json, with ?tenant=SLUG taking precedence over its "tenant".
async function loadSettings() {
    const config = await (await fetch("config.json", { cache: "no-cache" })).json();
    const asked = new URLSearchParams(location.search).get("tenant");
    const tenant = asked !== null && TENANT_PATTERN.test(asked) ? asked : config.tenant;
    const issuer = new URL(config.issuer.replace("{tenant}", tenant), location.href)
        .href.replace(/\/$/, "");
    const pageUrl = new URL(location.pathname, location.origin);
    if (asked !== null && tenant === asked) {
        pageUrl.searchParams.set("tenant", tenant);
    }
    return { tenant, issuer, clientId: config.client_id, scope: config.scope,
             redirectUri: pageUrl.href };
}

// --- messages to the user ----------------------------------------------------

function showNotice(text, { offerSignIn = false } = {}) {
    const notice = $("notice");
    notice.replaceChildren();
    if (!text) {
        return;
    }
    const paragraph = document.createElement("p");
    paragraph.textContent = text;
    notice.append(paragraph);
    if (offerSignIn) {
        const again = document.createElement("p");
        const button = document.createElement("button");
        button.type = "button";
        button.className = "primary";
        button.textContent = "Erneut anmelden";
        button.addEventListener("click", signIn);
        again.append(button);
        notice.append(again);
    }
}

function setStatus(text) {
    $("status").textContent = text;
}

// --- sign-in -----------------------------------------------------------------

let settings;

function signIn() {
    startSignIn(settings).catch(() => showNotice(
        "Die Anmeldeseite Ihrer Verwaltung ist nicht erreichbar. Bitte versuchen Sie es später erneut."));
}

function signedOut(message) {
    clearTimeout(session.expiryTimer);
    session.token = null;
    chat.controller?.abort();
    $("account").hidden = true;
    $("chat").hidden = true;
    $("sign-in").hidden = false;
    showNotice(message, { offerSignIn: Boolean(message) });
}

function signedIn({ accessToken, expiresAt }) {
    session.token = accessToken;
    session.expiresAt = expiresAt;
    const claims = claimsOf(accessToken);
    $("who").textContent = `Angemeldet als ${claims.preferred_username || claims.sub || "unbekannt"}`;
    $("account").hidden = false;
    $("sign-in").hidden = true;
    $("chat").hidden = false;
    clearTimeout(session.expiryTimer);
    session.expiryTimer = setTimeout(() => signedOut(
        "Ihre Anmeldung ist abgelaufen. Bitte melden Sie sich erneut an. "
        + "Der Verlauf dieses Tabs geht dabei verloren."), Math.max(0, expiresAt - Date.now()));
}

// Every gateway error goes through here; a 401 ends the session.
function reportError(error) {
    if (error instanceof GatewayError && error.status === 401) {
        signedOut(germanMessage(error));
        return;
    }
    let text = germanMessage(error);
    if (error instanceof GatewayError && error.requestId) {
        text += ` (Vorgangsnummer für die IT-Servicestelle: ${error.requestId})`;
    }
    showNotice(text);
}

// --- allowance and models -------------------------------------------------------

const numberFormat = new Intl.NumberFormat("de-DE");

async function showQuota() {
    try {
        const quota = await (await gatewayFetch("/v1/llmoin/quota", { token: session.token })).json();
        const monthly = (quota.limits || []).filter((limit) => limit.kind === "monthly_tokens");
        if (monthly.length === 0) {
            $("quota").textContent = "Monatskontingent: unbegrenzt";
            return;
        }
        const tightest = monthly.reduce((a, b) => (b.remaining < a.remaining ? b : a));
        $("quota").textContent = `Monatskontingent: noch ${numberFormat.format(tightest.remaining)}`
            + ` von ${numberFormat.format(tightest.limit)} Tokens`;
    } catch (error) {
        if (error instanceof GatewayError && error.status === 401) {
            reportError(error);
        } else {
            $("quota").textContent = "Monatskontingent: derzeit nicht abrufbar";
        }
    }
}

async function loadModels() {
    const list = await (await gatewayFetch("/v1/models", { token: session.token })).json();
    const select = $("model");
    select.replaceChildren();
    for (const model of list.data || []) {
        const option = document.createElement("option");
        option.value = model.id;
        option.textContent = model.id;
        select.append(option);
    }
}

// --- the conversation ----------------------------------------------------------

function addMessage(role, text) {
    const item = document.createElement("li");
    item.className = `message ${role}`;
    const speaker = document.createElement("p");
    speaker.className = "speaker";
    speaker.textContent = role === "user" ? "Sie" : "Assistent";
    const content = document.createElement("div");
    content.className = "content";
    item.append(speaker, content);
    if (role === "user") {
        content.textContent = text;
    }
    $("history").append(item);
    return { item, content };
}

function addCopyButton(item, getText) {
    const tools = document.createElement("div");
    tools.className = "tools";
    const button = document.createElement("button");
    button.type = "button";
    button.className = "copy";
    button.textContent = "Antwort kopieren";
    button.addEventListener("click", async () => {
        try {
            await navigator.clipboard.writeText(getText());
            setStatus("Die Antwort wurde in die Zwischenablage kopiert.");
        } catch {
            setStatus("Kopieren ist in diesem Browser nicht möglich; bitte markieren Sie den Text.");
        }
    });
    tools.append(button);
    item.append(tools);
}

function setBusy(busy) {
    $("send").disabled = busy;
    $("stop").disabled = !busy;
    $("history").setAttribute("aria-busy", String(busy));
}

// Streams one answer into `content`; returns the text received.
async function streamAnswer(messages, content, signal) {
    const response = await gatewayFetch("/v1/chat/completions", {
        token: session.token,
        method: "POST",
        signal,
        headers: { "X-LLMoin-Function": chat.function.id },
        body: { model: $("model").value, messages, stream: true },
    });
    let text = "";
    let frame = 0;
    await readEventStream(response.body, (data) => {
        if (data === "[DONE]") {
            return false;
        }
        const chunk = JSON.parse(data);
        const delta = chunk.choices?.[0]?.delta?.content;
        if (typeof delta === "string" && delta !== "") {
            text += delta;
            cancelAnimationFrame(frame);
            frame = requestAnimationFrame(() => renderMarkdown(content, text));
        }
        return true;
    });
    cancelAnimationFrame(frame);
    renderMarkdown(content, text);
    return text;
}

async function send(prompt) {
    showNotice("");
    const messages = [{ role: "system", content: chat.function.instructions },
                      ...chat.history, { role: "user", content: prompt }];
    addMessage("user", prompt);
    const answer = addMessage("assistant", "");
    const controller = new AbortController();
    chat.controller = controller;
    setBusy(true);
    setStatus("Die Antwort wird erstellt …");
    let text = "";
    try {
        text = await streamAnswer(messages, answer.content, controller.signal);
        chat.history.push({ role: "user", content: prompt }, { role: "assistant", content: text });
        setStatus("Die Antwort ist fertig.");
    } catch (error) {
        text = answer.content.textContent;
        if (error.name === "AbortError") {
            const note = document.createElement("p");
            note.className = "meta";
            note.textContent = "Die Antwort wurde angehalten.";
            answer.item.append(note);
            setStatus("Die Antwort wurde angehalten.");
        } else {
            answer.item.remove();
            setStatus("");
            reportError(error);
        }
    } finally {
        chat.controller = null;
        setBusy(false);
    }
    if (answer.item.isConnected) {
        addCopyButton(answer.item, () => text);
        $("prompt").value = "";
    }
    showQuota();
}

function clearHistory() {
    chat.controller?.abort();
    chat.history = [];
    $("history").replaceChildren();
    setStatus("Der Verlauf wurde gelöscht.");
    $("prompt").focus();
}

function wireForm() {
    $("prompt-form").addEventListener("submit", (event) => {
        event.preventDefault();
        const prompt = $("prompt").value.trim();
        if (prompt !== "" && chat.controller === null) {
            send(prompt);
        }
    });
    $("prompt").addEventListener("keydown", (event) => {
        if (event.key === "Enter" && event.ctrlKey) {
            event.preventDefault();
            $("prompt-form").requestSubmit();
        }
    });
    $("stop").addEventListener("click", () => chat.controller?.abort());
    $("clear").addEventListener("click", clearHistory);
    $("sign-in-button").addEventListener("click", signIn);
    $("sign-out").addEventListener("click", () => {
        chat.history = [];
        $("history").replaceChildren();
        signedOut("");
        setStatus("");
    });
}

async function main() {
    wireForm();
    settings = await loadSettings();
    chat.function = await (await fetch("functions/chat.json", { cache: "no-cache" })).json();
    let signInResult = null;
    try {
        signInResult = await finishSignIn(settings.redirectUri);
    } catch {
        signedOut("Die Anmeldung ist fehlgeschlagen. Bitte versuchen Sie es erneut.");
        return;
    }
    if (signInResult === null) {
        signedOut("");
        return;
    }
    signedIn(signInResult);
    try {
        await loadModels();
    } catch (error) {
        reportError(error);
    }
    showQuota();
    $("prompt").focus();
}

main();
