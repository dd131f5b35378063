// One function's list of requests and streamed answers, with its send and
// stop buttons and its status line. Used by every view; what a view sends is
// its own business, how an answer arrives and is shown is this module's.

import { gatewayFetch } from "./gateway.js";
import { renderMarkdown } from "./render.js";
import { readEventStream } from "./sse.js";

export class AnswerList {
    // page: { token(), model(), reportError(error), answered() }
    // elements: { list, send, stop, status }, all of the view's markup
    constructor(page, { list, send, stop, status }, { copyLabel = "Antwort kopieren" } = {}) {
        this.page = page;
        this.list = list;
        this.send = send;
        this.stopButton = stop;
        this.status = status;
        this.copyLabel = copyLabel;
        this.controller = null;
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
        this.setStatus("");
    }

    setStatus(text) {
        this.status.textContent = text;
    }

    setBusy(busy) {
        this.send.disabled = busy;
        this.stopButton.disabled = !busy;
        this.list.setAttribute("aria-busy", String(busy));
    }

    addItem(role, text = "") {
        const item = document.createElement("li");
        item.className = `message ${role}`;
        const speaker = document.createElement("p");
        speaker.className = "speaker";
        speaker.textContent = role === "user" ? "Sie" : "Assistent";
        const content = document.createElement("div");
        content.className = "content";
        content.textContent = text;
        item.append(speaker, content);
        this.list.append(item);
        return { item, content };
    }

    addCopyButton(item, text) {
        const tools = document.createElement("div");
        tools.className = "tools";
        const button = document.createElement("button");
        button.type = "button";
        button.className = "copy";
        button.textContent = this.copyLabel;
        button.addEventListener("click", async () => {
            try {
                await navigator.clipboard.writeText(text);
                this.setStatus("Der Text wurde in die Zwischenablage kopiert.");
            } catch {
                this.setStatus("Kopieren ist in diesem Browser nicht möglich; bitte markieren Sie den Text.");
            }
        });
        tools.append(button);
        item.append(tools);
    }

    // Streams the answer into `content`, rendered after every change and
    // handed to `decorate(content)` (citations); returns the text received.
    async stream(functionId, messages, content, decorate) {
        const response = await gatewayFetch("/v1/chat/completions", {
            token: this.page.token(),
            method: "POST",
            signal: this.controller.signal,
            headers: { "X-LLMoin-Function": functionId },
            body: { model: this.page.model(), messages, stream: true },
        });
        let text = "";
        let frame = 0;
        const show = () => {
            renderMarkdown(content, text);
            decorate(content);
        };
        await readEventStream(response.body, (data) => {
            if (data === "[DONE]") {
                return false;
            }
            const delta = JSON.parse(data).choices?.[0]?.delta?.content;
            if (typeof delta === "string" && delta !== "") {
                text += delta;
                cancelAnimationFrame(frame);
                frame = requestAnimationFrame(show);
            }
            return true;
        });
        cancelAnimationFrame(frame);
        show();
        return text;
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
            const text = await this.stream(functionId, messages, answer.content, decorate);
            result = { text, item: answer.item, complete: true };
            this.setStatus("Die Antwort ist fertig.");
        } catch (error) {
            if (error.name === "AbortError") {
                result = { text: answer.content.textContent, item: answer.item, complete: false };
                const note = document.createElement("p");
                note.className = "meta";
                note.textContent = "Die Antwort wurde angehalten.";
                answer.item.append(note);
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
