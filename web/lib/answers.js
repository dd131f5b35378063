// One function's list of requests and streamed answers, with its send and
// stop buttons and its status line. Used by every view; what a view sends is
// its own business, how an answer arrives and is shown is this module's.

import { element } from "./dom.js";
import { StreamError, gatewayFetch } from "./gateway.js";
import { plainText, renderMarkdown } from "./render.js";
import { readEventStream } from "./sse.js";

// How often a streaming answer is rendered again (each render parses the
// whole answer so far).
const RENDER_MS = 100;

const ENDINGS = {
    length: "Die Antwort wurde wegen ihrer Länge abgeschnitten.",
    cut: "Die Antwort ist unvollständig angekommen. Bitte versuchen Sie es erneut.",
};

function addNote(item, text) {
    item.append(element("p", { class: "meta" }, text));
}

// One event of the stream: a completion chunk, or the gateway's error.
function parseChunk(data) {
    let chunk;
    try {
        chunk = JSON.parse(data);
    } catch {
        throw new StreamError("malformed");
    }
    if (chunk === null || typeof chunk !== "object" || chunk.error) {
        throw new StreamError("error event");
    }
    return chunk;
}

// Reads a streaming answer to screen readers paragraph by paragraph: each
// finished paragraph is added to a polite live region once, instead of the
// whole answer being announced again with every change of its rendering.
class Announcer {
    constructor(region) {
        this.region = region;
        this.told = 0;
        region.replaceChildren();
    }

    tell(text) {
        const words = plainText(text);
        if (words !== "") {
            this.region.append(element("p", {}, words));
        }
    }

    heard(text) {
        const end = text.lastIndexOf("\n\n");
        if (end > this.told) {
            this.tell(text.slice(this.told, end));
            this.told = end;
        }
    }

    finish(text) {
        this.tell(text.slice(this.told));
        this.told = text.length;
    }
}

export class AnswerList {
    // page: { token(), model(), reportError(error), answered() }
    // elements: { list, send, stop, status }, all of the view's markup;
    // input: where focus returns when an answer is done
    constructor(page, { list, send, stop, status, input }, { copyLabel = "Antwort kopieren" } = {}) {
        this.page = page;
        this.list = list;
        this.send = send;
        this.stopButton = stop;
        this.status = status;
        this.input = input;
        this.copyLabel = copyLabel;
        this.controller = null;
        this.received = "";   // the text of the answer streaming now, as it came
        this.live = element("div", { class: "visually-hidden", "aria-live": "polite" });
        list.after(this.live);
        stop.addEventListener("click", () => this.stop());
    }

    get busy() {
        return this.controller !== null;
    }

    stop() {
        this.controller?.abort();
    }

    clear() {
        this.stop();
        this.list.replaceChildren();
        this.live.replaceChildren();
        this.setStatus("");
    }

    setStatus(text) {
        this.status.textContent = text;
    }

    // A disabled button loses the focus: it moves to "Antwort stoppen"
    // while an answer streams, and back to the input afterwards.
    setBusy(busy) {
        const focusWasHere = [this.send, this.stopButton, document.body, null]
            .includes(document.activeElement);
        this.send.disabled = busy;
        this.stopButton.disabled = !busy;
        this.list.setAttribute("aria-busy", String(busy));
        if (focusWasHere && this.list.isConnected && !this.list.closest("[hidden]")) {
            (busy ? this.stopButton : this.input).focus();
        }
    }

    addItem(role, text = "") {
        const content = element("div", { class: "content" }, text);
        const item = element("li", { class: `message ${role}` },
                             element("p", { class: "speaker" }, role === "user" ? "Sie" : "Assistent"),
                             content);
        this.list.append(item);
        return { item, content };
    }

    addCopyButton(item, text) {
        const button = element("button", { type: "button", class: "copy" }, this.copyLabel);
        button.addEventListener("click", async () => {
            try {
                await navigator.clipboard.writeText(text);
                this.setStatus("Der Text wurde in die Zwischenablage kopiert.");
            } catch {
                this.setStatus("Kopieren ist in diesem Browser nicht möglich; bitte markieren Sie den Text.");
            }
        });
        item.append(element("div", { class: "tools" }, button));
    }

    // Streams the answer into `content`, rendered at most every RENDER_MS
    // (and once at the end) and handed to `decorate(content)` (citations).
    // Returns { text, ending }: ending is "done", "length" (the model's
    // limit cut it) or "cut" (the stream broke off or ended without its last
    // event: what arrived stays, marked as incomplete).
    async stream(functionId, messages, content, decorate) {
        const response = await gatewayFetch("/v1/chat/completions", {
            token: this.page.token(),
            method: "POST",
            signal: this.controller.signal,
            headers: { "X-LLMoin-Function": functionId },
            body: { model: this.page.model(), messages, stream: true },
        });
        const state = { text: "", ending: "cut", timer: 0 };
        this.received = "";
        const show = () => {
            state.timer = 0;
            renderMarkdown(content, state.text);
            decorate(content);
        };
        const announcer = new Announcer(this.live);
        try {
            await readEventStream(response.body, (data) => {
                if (data === "[DONE]") {
                    state.ending = state.ending === "length" ? "length" : "done";
                    return false;
                }
                const chunk = parseChunk(data);
                const delta = chunk.choices?.[0]?.delta?.content;
                if (chunk.choices?.[0]?.finish_reason === "length") {
                    state.ending = "length";
                }
                if (typeof delta === "string" && delta !== "") {
                    state.text += delta;
                    this.received = state.text;
                    announcer.heard(state.text);
                    state.timer ||= setTimeout(show, RENDER_MS);
                }
                return true;
            });
        } catch (error) {
            // a broken connection mid-answer is a cut answer, not a failed request
            if (error.name === "AbortError" || error instanceof StreamError) {
                throw error;
            }
            state.ending = "cut";
        } finally {
            // also when stopped: what arrived is shown, then copied
            clearTimeout(state.timer);
            show();
            announcer.finish(state.text);
        }
        return { text: state.text, ending: state.ending };
    }

    // Shows `shown` as the user's request and streams the answer to
    // `messages`. `attach(item)` may add to the answer's item before it
    // streams (the research view's list of sources). Returns { text, item,
    // complete } (complete: not stopped), or null when the request failed
    // (the error is reported, the pair removed).
    async ask({ functionId, messages, shown, decorate = () => {}, attach = () => {} }) {
        const request = this.addItem("user", shown);
        const answer = this.addItem("assistant");
        attach(answer.item);
        this.controller = new AbortController();
        this.setBusy(true);
        this.setStatus("Die Antwort wird erstellt …");
        let result = null;
        try {
            const { text, ending } = await this.stream(functionId, messages, answer.content, decorate);
            result = { text, item: answer.item, complete: ending === "done" };
            if (ending !== "done") {
                addNote(answer.item, ENDINGS[ending]);
            }
            this.setStatus(ending === "done" ? "Die Antwort ist fertig." : ENDINGS[ending]);
        } catch (error) {
            if (error.name === "AbortError") {
                result = { text: this.received, item: answer.item, complete: false };
                addNote(answer.item, "Die Antwort wurde angehalten.");
                this.setStatus("Die Antwort wurde angehalten.");
            } else {
                request.item.remove();
                answer.item.remove();
                this.setStatus("");
                this.page.reportError(error);
            }
        } finally {
            this.controller = null;
            this.setBusy(false);
        }
        if (result !== null) {
            this.addCopyButton(answer.item, result.text);
        }
        this.page.answered();
        return result;
    }
}
