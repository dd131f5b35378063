// The research fixtures of tests/web/fixtures.py as Files, for tests that
// read real PDF and DOCX files. Python writes them, so they are the same
// files the browser tests upload.

import { execFileSync } from "node:child_process";
import fs from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";

const PYTHON = "/usr/bin/python3";
const FIXTURES = fileURLToPath(new URL("../fixtures.py", import.meta.url));

export const pythonMissing = fs.existsSync(PYTHON) ? false : `${PYTHON} is not installed`;

// The page-3 sentence of RESEARCH_PAGES, as fixtures.py has it.
export const DEADLINE_SENTENCE = "Die Reisekostenabrechnung ist innerhalb einer Ausschlussfrist "
    + "von sechs Monaten nach Beendigung der Dienstreise schriftlich oder elektronisch bei der "
    + "Reisekostenstelle einzureichen.";

// kind: "pdf", "docx", "scanned-pdf" or "locked-pdf" (see fixtures.py).
export function fixtureFile(kind, name) {
    const directory = fs.mkdtempSync(path.join(os.tmpdir(), "llmoin-web-"));
    try {
        const target = path.join(directory, name);
        execFileSync(PYTHON, [FIXTURES, `--${kind}`, target]);
        return new File([fs.readFileSync(target)], name);
    } finally {
        fs.rmSync(directory, { recursive: true, force: true });
    }
}
