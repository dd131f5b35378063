// Sign-in with the tenant's identity provider: OpenID Connect authorization
// code flow with PKCE (S256), for a public client (no client secret).
//
// The access token is returned to the caller and kept in memory only. The
// PKCE verifier and the state must survive the redirect to the provider and
// back, so they wait in sessionStorage for exactly that long and are removed
// as soon as the page returns (before the code is even redeemed).

const PENDING_KEY = "llmoin.pending-sign-in";

function base64url(bytes) {
    let binary = "";
    for (const byte of bytes) {
        binary += String.fromCharCode(byte);
    }
    return btoa(binary).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
}

function randomString(byteCount) {
    return base64url(crypto.getRandomValues(new Uint8Array(byteCount)));
}

async function challengeOf(verifier) {
    const digest = await crypto.subtle.digest("SHA-256", new TextEncoder().encode(verifier));
    return base64url(new Uint8Array(digest));
}

// The provider's discovery document; its issuer must be the one configured
// (OpenID Connect Discovery 1.0, section 4.3).
export async function discover(issuer) {
    const response = await fetch(`${issuer}/.well-known/openid-configuration`,
                                 { credentials: "omit" });
    if (!response.ok) {
        throw new Error(`discovery answered ${response.status}`);
    }
    const document = await response.json();
    if (document.issuer !== issuer) {
        throw new Error("the discovery document names another issuer");
    }
    return document;
}

// A new sign-in attempt: the provider's endpoints, the PKCE verifier and
// the state, and the address of the provider's sign-in page for it.
async function newAttempt({ issuer, clientId, scope, redirectUri }) {
    const provider = await discover(issuer);
    const verifier = randomString(32);
    const state = randomString(16);
    const pending = { verifier, state, redirectUri, clientId,
                      tokenEndpoint: provider.token_endpoint };
    const target = new URL(provider.authorization_endpoint);
    target.search = new URLSearchParams({
        response_type: "code",
        client_id: clientId,
        redirect_uri: redirectUri,
        scope,
        state,
        nonce: randomString(16),
        code_challenge: await challengeOf(verifier),
        code_challenge_method: "S256",
    }).toString();
    return { pending, target: target.toString() };
}

// Sends the browser to the provider's sign-in page; does not return.
export async function startSignIn(settings) {
    const { pending, target } = await newAttempt(settings);
    sessionStorage.setItem(PENDING_KEY, JSON.stringify(pending));
    location.assign(target);
}

function takePending() {
    const text = sessionStorage.getItem(PENDING_KEY);
    sessionStorage.removeItem(PENDING_KEY);
    return text ? JSON.parse(text) : null;
}

// The claims of a JWT, for display only (the gateway verifies the token).
export function claimsOf(token) {
    try {
        const payload = token.split(".")[1].replace(/-/g, "+").replace(/_/g, "/");
        const bytes = Uint8Array.from(atob(payload), (c) => c.charCodeAt(0));
        return JSON.parse(new TextDecoder().decode(bytes));
    } catch {
        return {};
    }
}

// Redeems the code of the provider's answer (its query parameters) for an
// access token: { accessToken, idToken, expiresAt (ms) }.
async function redeem(pending, params) {
    if (params.has("error")) {
        throw new Error(`the provider refused: ${params.get("error")}`);
    }
    if (pending === null || params.get("state") !== pending.state) {
        throw new Error("the sign-in answer does not belong to this tab");
    }
    const response = await fetch(pending.tokenEndpoint, {
        method: "POST",
        credentials: "omit",
        headers: { "Content-Type": "application/x-www-form-urlencoded" },
        body: new URLSearchParams({
            grant_type: "authorization_code",
            code: params.get("code"),
            redirect_uri: pending.redirectUri,
            client_id: pending.clientId,
            code_verifier: pending.verifier,
        }),
    });
    const answer = await response.json().catch(() => ({}));
    if (!response.ok || typeof answer.access_token !== "string") {
        throw new Error(`the token endpoint answered ${response.status}`);
    }
    const lifetime = Number(answer.expires_in) > 0 ? Number(answer.expires_in) : 300;
    return { accessToken: answer.access_token,
             idToken: typeof answer.id_token === "string" ? answer.id_token : null,
             expiresAt: Date.now() + lifetime * 1000 };
}

// When the page is the provider's redirect back: redeems the code and
// returns { accessToken, idToken, expiresAt }. Returns null when this page
// load is not a return from the provider. Cleans code and state out of the URL.
export async function finishSignIn(cleanUrl) {
    const params = new URLSearchParams(location.search);
    if (!params.has("code") && !params.has("error")) {
        return null;
    }
    const pending = takePending();
    history.replaceState(null, "", cleanUrl);
    return redeem(pending, params);
}

// --- renewing in a small window, the page (and its history) staying --------

const RENEW_WINDOW = "llmoin-renew";
const RENEW_MESSAGE = "llmoin-sign-in";

// In the sign-in window, back from the provider: hands the answer to the
// page that opened the window and closes it. True when it did.
export function handOverSignIn() {
    const params = new URLSearchParams(location.search);
    if (window.name !== RENEW_WINDOW || !window.opener || (!params.has("code") && !params.has("error"))) {
        return false;
    }
    window.opener.postMessage({ type: RENEW_MESSAGE, search: location.search }, location.origin);
    window.close();
    return true;
}

// Opens the provider's sign-in in a small window (from a click, so it is
// not blocked) and redeems its answer here; the verifier never leaves this
// page's memory. Rejects when the window is blocked or closed unanswered.
export async function signInInWindow(settings) {
    const popup = window.open("about:blank", RENEW_WINDOW, "popup,width=560,height=700");
    if (!popup) {
        throw new Error("the sign-in window was blocked");
    }
    const { pending, target } = await newAttempt(settings);
    popup.location.assign(target);
    const search = await new Promise((resolve, reject) => {
        const closed = setInterval(() => {
            if (popup.closed) {
                finish();
                reject(new Error("the sign-in window was closed"));
            }
        }, 500);
        const heard = (event) => {
            if (event.origin === location.origin && event.source === popup
                && event.data?.type === RENEW_MESSAGE) {
                finish();
                resolve(String(event.data.search));
            }
        };
        function finish() {
            clearInterval(closed);
            window.removeEventListener("message", heard);
        }
        window.addEventListener("message", heard);
    });
    return redeem(pending, new URLSearchParams(search));
}

// Where to send the browser to end the session at the provider too (a
// shared workstation must not sign the next person in as the last), or null
// when the provider offers no such endpoint.
export async function signOutTarget({ issuer, clientId, redirectUri }, idToken) {
    const provider = await discover(issuer).catch(() => null);
    if (!provider?.end_session_endpoint) {
        return null;
    }
    const target = new URL(provider.end_session_endpoint);
    target.search = new URLSearchParams({
        client_id: clientId,
        post_logout_redirect_uri: redirectUri,
        ...(idToken ? { id_token_hint: idToken } : {}),
    }).toString();
    return target.toString();
}
