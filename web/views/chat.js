// "Freier Prompt": a conversation; every question is sent with the answers
// so far (this tab's history) and the instructions of functions/chat.json.

import { AnswerList } from "../lib/answers.js";

export function chatView(page, definition) {
    const $ = (id) => document.getElementById(id);
    const answers = new AnswerList(page, {
        list: $("history"), send: $("send"), stop: $("stop"), status: $("status"), input: $("prompt"),
    });
    let history = [];

    async function send(prompt) {
        const messages = [{ role: "system", content: definition.instructions },
                          ...history, { role: "user", content: prompt }];
        const length = messages.reduce((sum, message) => sum + message.content.length, 0);
        if (length > page.settings.maxInputChars) {
            page.showNotice(history.length === 0 ? page.tooLong(prompt.length)
                : "Das Gespräch ist zu lang geworden, um es weiterzuführen. Kopieren Sie, was Sie "
                  + "brauchen, wählen Sie „Verlauf löschen“ und beginnen Sie ein neues.");
            return;
        }
        $("prompt").value = "";
        const result = await answers.ask({ functionId: definition.id, messages, shown: prompt });
        if (result === null) {
            $("prompt").value ||= prompt;   // failed: the question is not lost
            return;
        }
        if (result.complete) {
            history.push({ role: "user", content: prompt },
                         { role: "assistant", content: result.text });
        }
    }

    $("prompt-form").addEventListener("submit", (event) => {
        event.preventDefault();
        const prompt = $("prompt").value.trim();
        if (prompt !== "" && !answers.busy) {
            page.showNotice("");
            send(prompt);
        }
    });
    $("prompt").addEventListener("keydown", (event) => {
        if (event.key === "Enter" && event.ctrlKey) {
            event.preventDefault();
            $("prompt-form").requestSubmit();
        }
    });

    return {
        focusTarget: $("prompt"),
        clear() {
            answers.clear();
            history = [];
        },
    };
}
