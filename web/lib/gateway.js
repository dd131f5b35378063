// Calls to the llmoin gateway (same origin, /v1/...) and what their errors
// mean for the person in front of the page, in plain German.

export class GatewayError extends Error {
    constructor(status, code, retryAfterSeconds, requestId) {
        super(`gateway answered ${status} ${code}`);
        this.status = status;
        this.code = code;
        this.retryAfterSeconds = retryAfterSeconds;
        this.requestId = requestId;
    }
}

// A stream that broke off with something other than an answer chunk.
export class StreamError extends Error {}

// Retry-After is either seconds or an HTTP date (RFC 9110, 10.2.3).
function retryAfterOf(response) {
    const value = response.headers.get("Retry-After");
    if (value === null) {
        return null;
    }
    if (/^\d+$/.test(value.trim())) {
        return Number(value.trim());
    }
    const when = Date.parse(value);
    return Number.isNaN(when) ? null : Math.max(0, Math.ceil((when - Date.now()) / 1000));
}

export async function errorFrom(response) {
    const document = await response.json().catch(() => ({}));
    const code = document?.error?.code ?? "";
    return new GatewayError(response.status, typeof code === "string" ? code : "",
                            retryAfterOf(response), response.headers.get("X-Request-Id"));
}

export async function gatewayFetch(path, { token, method = "GET", body, signal, headers = {} }) {
    const response = await fetch(path, {
        method,
        signal,
        credentials: "omit",
        headers: {
            Authorization: `Bearer ${token}`,
            ...(body === undefined ? {} : { "Content-Type": "application/json" }),
            ...headers,
        },
        body: body === undefined ? undefined : JSON.stringify(body),
    });
    if (!response.ok) {
        throw await errorFrom(response);
    }
    return response;
}

function waitText(seconds) {
    if (seconds === null) {
        return "in einigen Minuten";
    }
    if (seconds <= 1) {
        return "in 1 Sekunde";
    }
    if (seconds < 60) {
        return `in ${seconds} Sekunden`;
    }
    const minutes = Math.ceil(seconds / 60);
    if (minutes < 120) {
        return minutes === 1 ? "in 1 Minute" : `in ${minutes} Minuten`;
    }
    const when = new Date(Date.now() + seconds * 1000);
    return `ab ${when.toLocaleString("de-DE", { dateStyle: "medium", timeStyle: "short" })} Uhr`;
}

// The message shown for an error of the gateway (or of the network).
export function germanMessage(error) {
    if (error instanceof StreamError) {
        return "Die Antwort kam fehlerhaft an. Bitte versuchen Sie es erneut.";
    }
    if (!(error instanceof GatewayError)) {
        return "Der Dienst ist nicht erreichbar. Bitte prüfen Sie Ihre Netzwerkverbindung "
            + "und versuchen Sie es erneut.";
    }
    switch (error.status) {
    case 401:
        return "Ihre Anmeldung ist abgelaufen oder ungültig. Bitte melden Sie sich erneut an.";
    case 403:
        return error.code === "tenant_suspended"
            ? "Der Zugang Ihrer Verwaltung ist derzeit gesperrt. Bitte wenden Sie sich an Ihre IT-Servicestelle."
            : "Sie dürfen dieses Modell nicht verwenden. Bitte wählen Sie ein anderes Modell.";
    case 429:
        return error.code === "insufficient_quota"
            ? `Ihr monatliches Kontingent ist aufgebraucht. Sie können den Assistenten ${waitText(error.retryAfterSeconds)} wieder nutzen.`
            : `Sie haben gerade zu viele Anfragen gestellt. Bitte versuchen Sie es ${waitText(error.retryAfterSeconds)} erneut.`;
    case 502:
    case 503:
        return `Der Dienst ist im Moment nicht verfügbar. Bitte versuchen Sie es ${waitText(error.retryAfterSeconds)} erneut.`;
    case 413:
        return "Ihre Eingabe ist zu lang. Bitte kürzen Sie den Text.";
    default:
        return `Die Anfrage ist fehlgeschlagen (Fehler ${error.status}). Bitte versuchen Sie es später erneut.`;
    }
}
