// A push parser for server-sent events (the WHATWG event stream format):
// feed() it text as it arrives, in pieces of any size; it returns the data
// of every event completed so far. Only `data:` fields matter here.

export class SseParser {
    constructor() {
        this.pending = "";
        this.data = [];
    }

    feed(text) {
        const events = [];
        this.pending += text;
        let end;
        while ((end = this.pending.search(/\r\n|\r|\n/)) >= 0) {
            const line = this.pending.slice(0, end);
            const breakLength = this.pending.startsWith("\r\n", end) ? 2 : 1;
            // a lone \r at the very end may be the first half of \r\n
            if (breakLength === 1 && this.pending[end] === "\r" && end === this.pending.length - 1) {
                break;
            }
            this.pending = this.pending.slice(end + breakLength);
            this.takeLine(line, events);
        }
        return events;
    }

    takeLine(line, events) {
        if (line === "") {
            if (this.data.length > 0) {
                events.push(this.data.join("\n"));
            }
            this.data = [];
        } else if (line.startsWith("data:")) {
            this.data.push(line.slice(line.startsWith("data: ") ? 6 : 5));
        }
    }
}

// Reads an event stream from a fetch() body; calls onData(text) per event.
export async function readEventStream(body, onData) {
    const reader = body.getReader();
    const decoder = new TextDecoder();
    const parser = new SseParser();
    for (;;) {
        const { value, done } = await reader.read();
        const events = parser.feed(done ? decoder.decode() : decoder.decode(value, { stream: true }));
        for (const data of events) {
            if (onData(data) === false) {
                await reader.cancel();
                return;
            }
        }
        if (done) {
            return;
        }
    }
}
