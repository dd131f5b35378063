// The employees' web page: sign-in, the five functions (views/), the
// remaining allowance. Everything the page knows (the token, the history,
// uploaded documents) lives in the memory of these modules and nowhere else.

import { claimsOf, finishSignIn, handOverSignIn, signInInWindow, signOutTarget, startSignIn }
    from "./lib/oidc.js";
import { element } from "./lib/dom.js";
import { GatewayError, gatewayFetch, germanMessage } from "./lib/gateway.js";
import { counted, formatNumber } from "./lib/german.js";
import { chatView } from "./views/chat.js";
import { researchView } from "./views/research.js";
import { taskView } from "./views/task.js";

const TENANT_PATTERN = /^[a-z0-9][a-z0-9-]{0,62}$/;
const DEFAULT_MAX_INPUT_CHARS = 24000;
// How long before the sign-in runs out the page says so.
const EXPIRY_WARNING_MS = 2 * 60 * 1000;

const session = { token: null, idToken: null, expiresAt: 0, timers: [] };
const views = new Map();   // function id -> { section, link, focusTarget, clear() }
let currentView = null;
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
    const maxInputChars = Number.isInteger(config.max_input_chars) && config.max_input_chars > 0
        ? config.max_input_chars : DEFAULT_MAX_INPUT_CHARS;
    return { tenant, issuer, clientId: config.client_id, scope: config.scope,
             redirectUri: pageUrl.href, maxInputChars };
}

// --- messages to the user ----------------------------------------------------

function showNotice(text, { offerSignIn = false } = {}) {
    const notice = $("notice");
    notice.replaceChildren();
    if (!text) {
        return;
    }
    notice.append(element("p", {}, text));
    if (offerSignIn) {
        const button = element("button", { type: "button", class: "primary" }, "Erneut anmelden");
        button.addEventListener("click", signIn);
        notice.append(element("p", {}, button));
    }
}

// --- sign-in -----------------------------------------------------------------

let settings;

function signIn() {
    startSignIn(settings).catch(() => showNotice(
        "Die Anmeldeseite Ihrer Verwaltung ist nicht erreichbar. Bitte versuchen Sie es später erneut."));
}

function clearTimers() {
    session.timers.forEach(clearTimeout);
    session.timers = [];
}

function clearEverything() {
    for (const view of views.values()) {
        view.clear();
    }
}

function signedOut(message) {
    clearTimers();
    session.token = null;
    session.idToken = null;
    clearEverything();
    $("account").hidden = true;
    $("workspace").hidden = true;
    $("sign-in").hidden = false;
    $("expiry").replaceChildren();
    showNotice(message, { offerSignIn: Boolean(message) });
    // the focused element may just have been hidden
    (message ? $("notice").querySelector("button") : $("sign-in-button")).focus();
}

// The token runs out silently at expiresAt: two minutes before, the page
// says so and offers to renew the sign-in in a small window, which keeps the
// page and its history; at the time itself it ends the session and offers
// to sign in again, before a request could fail.
function watchExpiry(expiresAt) {
    clearTimers();
    const left = expiresAt - Date.now();
    if (left > EXPIRY_WARNING_MS) {
        session.timers.push(setTimeout(warnOfExpiry, left - EXPIRY_WARNING_MS));
    }
    session.timers.push(setTimeout(() => signedOut(
        "Ihre Anmeldung ist abgelaufen. Bitte melden Sie sich erneut an. "
        + "Der Verlauf dieses Tabs geht dabei verloren."), Math.max(0, left)));
}

function warnOfExpiry() {
    const button = element("button", { type: "button" }, "Anmeldung verlängern");
    button.addEventListener("click", renewSignIn);
    $("expiry").replaceChildren(element("p", {}, "Ihre Anmeldung läuft in zwei Minuten ab. "
        + "Verlängern Sie sie, damit Ihr Verlauf erhalten bleibt."), button);
}

function userOf(token) {
    const claims = claimsOf(token);
    return claims.preferred_username || claims.sub || "unbekannt";
}

// Renewing keeps the history only for the same person: someone else
// signing in at this desk must not see it.
async function renewSignIn() {
    try {
        const before = userOf(session.token);
        const renewed = await signInInWindow(settings);
        signedIn(renewed);
        $("expiry").replaceChildren();
        if (userOf(renewed.accessToken) === before) {
            $("page-status").textContent = "Ihre Anmeldung wurde verlängert.";
        } else {
            clearEverything();
            $("page-status").textContent = `Sie sind jetzt als ${userOf(renewed.accessToken)} `
                + "angemeldet; der Verlauf der vorigen Anmeldung wurde gelöscht.";
        }
        currentView.focusTarget.focus();
    } catch {
        showNotice("Die Anmeldung wurde nicht verlängert. Lässt Ihr Browser keine Fenster "
            + "dieser Seite zu, kopieren Sie, was Sie behalten möchten, und melden Sie sich "
            + "nach dem Ablauf erneut an.");
    }
}

// Signed out here at once; then, where the provider offers it, there too.
async function signOut() {
    const idToken = session.idToken;
    signedOut("");
    $("page-status").textContent = "";
    const target = await signOutTarget(settings, idToken);
    if (target !== null) {
        location.assign(target);
    }
}

function signedIn({ accessToken, idToken, expiresAt }) {
    session.token = accessToken;
    session.idToken = idToken;
    session.expiresAt = expiresAt;
    $("who").textContent = `Angemeldet als ${userOf(accessToken)}`;
    $("account").hidden = false;
    $("sign-in").hidden = true;
    $("workspace").hidden = false;
    watchExpiry(expiresAt);
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

async function showQuota() {
    if (session.token === null) {
        return;   // signed out while an answer was on its way
    }
    try {
        const quota = await (await gatewayFetch("/v1/llmoin/quota", { token: session.token })).json();
        const monthly = (quota.limits || []).filter((limit) => limit.kind === "monthly_tokens");
        if (monthly.length === 0) {
            $("quota").textContent = "Monatskontingent: unbegrenzt";
            return;
        }
        const tightest = monthly.reduce((a, b) => (b.remaining < a.remaining ? b : a));
        $("quota").textContent = `Monatskontingent: noch ${formatNumber(tightest.remaining)}`
            + ` von ${formatNumber(tightest.limit)} Tokens`;
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

// --- the functions ---------------------------------------------------------------

// What the views may use of the page.
const page = {
    token: () => session.token,
    model: () => $("model").value,
    get settings() {
        return settings;
    },
    reportError,
    showNotice: (text) => showNotice(text),
    answered: showQuota,
    tooLong: (length) => `Der Text ist mit ${counted(length, "Zeichen")} zu lang für eine Anfrage `
        + `(höchstens ${counted(settings.maxInputChars, "Zeichen")}). Bitte kürzen Sie ihn `
        + "oder nutzen Sie „In Dokumenten recherchieren“, das die passenden Stellen auswählt.",
};

async function definitionOf(id) {
    const response = await fetch(`functions/${id}.json`, { cache: "no-cache" });
    return response.json();
}

async function loadViews() {
    const links = [...document.querySelectorAll("a[data-view]")];
    const ids = links.map((link) => link.dataset.view);
    const definitions = await Promise.all(ids.map(definitionOf));
    definitions.forEach((definition, index) => {
        const section = $(`view-${definition.id}`);
        const build = definition.id === "chat" ? () => chatView(page, definition)
            : definition.id === "research" ? () => researchView(page, definition, section)
                : () => taskView(page, definition, section);
        views.set(definition.id, { section, link: links[index], ...build() });
    });
}

// The view the address names (#zusammenfassen, ...), or null (#main of
// the skip link, nothing).
function viewOfHash() {
    return [...views.values()].find((view) => view.link.hash === location.hash) ?? null;
}

function showView(moveFocus) {
    const shown = viewOfHash() ?? currentView ?? views.values().next().value;
    currentView = shown;
    for (const view of views.values()) {
        view.section.hidden = view !== shown;
        if (view === shown) {
            view.link.setAttribute("aria-current", "page");
        } else {
            view.link.removeAttribute("aria-current");
        }
    }
    if (moveFocus) {
        shown.section.querySelector("h1").focus();
    }
}

function wirePage() {
    window.addEventListener("hashchange", () => {
        if (viewOfHash() !== null) {
            showNotice("");
            $("page-status").textContent = "";
            showView(true);
        }
    });
    $("clear").addEventListener("click", () => {
        clearEverything();
        $("page-status").textContent = "Der Verlauf wurde gelöscht.";
        currentView.focusTarget.focus();
    });
    $("sign-in-button").addEventListener("click", signIn);
    $("sign-out").addEventListener("click", signOut);
}

async function main() {
    if (handOverSignIn()) {
        return;   // this is the small sign-in window; the page has the answer
    }
    try {
        settings = await loadSettings();
        await loadViews();
    } catch {
        $("sign-in").hidden = false;
        $("sign-in-button").disabled = true;
        showNotice("Die Seite konnte nicht vollständig geladen werden. Bitte laden Sie sie neu; "
            + "hilft das nicht, wenden Sie sich an Ihre IT-Servicestelle.");
        return;
    }
    wirePage();
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
    showView(false);
    try {
        await loadModels();
    } catch (error) {
        reportError(error);
    }
    showQuota();
    currentView.focusTarget.focus();
}

main();
