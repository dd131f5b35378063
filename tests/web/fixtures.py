"""Test documents for "In Dokumenten recherchieren": a minimal PDF writer and
a minimal DOCX writer (Python standard library only), and RESEARCH_PAGES, a
four-page German "Dienstreiserichtlinie" whose pages each treat one topic,
so a question about one topic has exactly one right page to cite.

    write_pdf(path, pages)   pages: list of pages, each a list of text lines
    write_docx(path, pages)  the same pages, a hard page break between them

From the command line (for tests written in other languages):

    python3 fixtures.py --pdf OUT.pdf      writes RESEARCH_PAGES as PDF
    python3 fixtures.py --docx OUT.docx    writes RESEARCH_PAGES as DOCX
    python3 fixtures.py --scanned-pdf OUT  a PDF whose pages hold no text
    python3 fixtures.py --locked-pdf OUT   a PDF that asks for a password
"""

import argparse
import os
import sys
import zipfile
import zlib
from xml.sax.saxutils import escape

# The one sentence a research question about deadlines must find; it is on
# page 3, and "Ausschlussfrist" occurs nowhere else in the document.
DEADLINE_SENTENCE = (
    "Die Reisekostenabrechnung ist innerhalb einer Ausschlussfrist von sechs "
    "Monaten nach Beendigung der Dienstreise schriftlich oder elektronisch bei "
    "der Reisekostenstelle einzureichen.")

RESEARCH_TITLE = "Dienstreiserichtlinie"

RESEARCH_PAGES = [
    [
        "Dienstreiserichtlinie der Landesverwaltung",
        "Abschnitt 1: Geltungsbereich und Zuständigkeit",
        "Diese Richtlinie gilt für alle Beschäftigten der Landesverwaltung, die "
        "im dienstlichen Auftrag außerhalb ihrer Dienststätte tätig werden.",
        "Sie gilt entsprechend für Auszubildende sowie für Praktikantinnen und "
        "Praktikanten.",
        "Dienstreisen im Sinne dieser Richtlinie sind Reisen zur Erledigung von "
        "Dienstgeschäften außerhalb der Dienststätte.",
        "Für Abordnungen und Versetzungen gelten die Bestimmungen des "
        "Landesumzugskostengesetzes.",
        "Zuständig für die Auslegung dieser Richtlinie ist das Ministerium der "
        "Finanzen.",
        "Jede Dienststelle benennt eine Ansprechperson für Fragen zu "
        "Dienstreisen.",
        "Abweichende Regelungen in Tarifverträgen bleiben unberührt.",
        "Die Richtlinie tritt am 1. Januar 2025 in Kraft und ersetzt die "
        "bisherige Fassung.",
    ],
    [
        "Abschnitt 2: Genehmigung von Dienstreisen",
        "Dienstreisen sind vor ihrem Antritt von der oder dem Vorgesetzten "
        "schriftlich oder elektronisch zu genehmigen.",
        "Der Antrag auf Genehmigung soll mindestens eine Woche vor Reisebeginn "
        "gestellt werden.",
        "Im Antrag sind Zweck, Ziel, Dauer und voraussichtliche Kosten der "
        "Reise anzugeben.",
        "Eine Genehmigung ist nicht erforderlich, wenn die Reise wegen der "
        "Eigenart des Dienstes üblich ist.",
        "Bei Auslandsdienstreisen ist zusätzlich die Zustimmung der "
        "Behördenleitung einzuholen.",
        "Dienstreisen dürfen nur genehmigt werden, wenn das Dienstgeschäft "
        "nicht auf kostengünstigere Weise erledigt werden kann, etwa durch "
        "eine Videokonferenz.",
        "Die Genehmigung kann nachträglich erteilt werden, wenn die Reise "
        "unaufschiebbar war.",
        "Regelmäßig wiederkehrende Dienstreisen können für bis zu zwölf Monate "
        "im Voraus genehmigt werden.",
        "Bei der Wahl des Verkehrsmittels gilt der Grundsatz der "
        "Wirtschaftlichkeit; öffentliche Verkehrsmittel haben Vorrang.",
    ],
    [
        "Abschnitt 3: Reisekostenabrechnung",
        DEADLINE_SENTENCE,
        "Wird diese Frist versäumt, erlischt der Anspruch auf "
        "Reisekostenvergütung.",
        "Der Abrechnung sind die Originalbelege oder deren elektronische "
        "Kopien beizufügen.",
        "Fahrkarten, Hotelrechnungen und Quittungen über Nebenkosten sind "
        "vollständig vorzulegen.",
        "Die Reisekostenstelle prüft die Abrechnung und veranlasst die "
        "Erstattung innerhalb von vier Wochen.",
        "Abschlagszahlungen können auf Antrag gewährt werden, wenn "
        "voraussichtlich Auslagen von mehr als 200 Euro entstehen.",
        "Erstattungen Dritter, etwa von Veranstaltern, sind in der Abrechnung "
        "anzugeben und werden angerechnet.",
        "Für Fahrten mit einem privaten Kraftfahrzeug wird eine "
        "Wegstreckenentschädigung von 20 Cent je Kilometer gezahlt.",
        "Unrichtige Angaben können dienstrechtliche Folgen haben.",
    ],
    [
        "Abschnitt 4: Tagegeld und Übernachtungsgeld",
        "Für jeden Kalendertag einer Dienstreise wird zur Abgeltung der "
        "Mehraufwendungen für Verpflegung ein Tagegeld gewährt.",
        "Bei einer Abwesenheit von mehr als acht Stunden beträgt das Tagegeld "
        "14 Euro, bei 24 Stunden 28 Euro.",
        "Wird unentgeltliche Verpflegung bereitgestellt, wird das Tagegeld für "
        "das Frühstück um 20 Prozent und für Mittag- und Abendessen um je 40 "
        "Prozent gekürzt.",
        "Für eine notwendige Übernachtung wird ein pauschales "
        "Übernachtungsgeld von 20 Euro gezahlt.",
        "Höhere Übernachtungskosten werden erstattet, soweit sie notwendig "
        "sind und belegt werden.",
        "Übernachtungskosten über 80 Euro je Nacht sind zu begründen.",
        "Die Kosten des Frühstücks sind aus dem Tagegeld zu bestreiten.",
        "Bei Übernachtungen in Beförderungsmitteln wird kein "
        "Übernachtungsgeld gewährt.",
        "Ende der Dienstreiserichtlinie.",
    ],
]

# --- PDF ----------------------------------------------------------------------

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points
MARGIN = 56
FONT_SIZE = 10.5
LEADING = 14
# Without a font metrics table the wrap width is a character count; 85
# characters of average German text in 10.5 pt Helvetica fit inside the
# margins with room to spare.
WRAP_CHARACTERS = 85


def wrap(line, width=WRAP_CHARACTERS):
    """Breaks a long line at spaces so it fits across the page, as a word
    processor would; the PDF then holds the sentence on several lines."""
    rows, current = [], ""
    for word in line.split():
        if current and len(current) + 1 + len(word) > width:
            rows.append(current)
            current = word
        else:
            current = f"{current} {word}" if current else word
    return rows + [current] if current else rows


def pdf_string(text):
    """A PDF literal string in WinAnsiEncoding: cp1252 bytes, with the
    delimiters escaped and bytes outside ASCII written as octal escapes so the
    content stream stays 7-bit."""
    out = []
    for byte in text.encode("cp1252"):
        if byte in b"()\\":
            out.append("\\" + chr(byte))
        elif 32 <= byte < 127:
            out.append(chr(byte))
        else:
            out.append(f"\\{byte:03o}")
    return "(" + "".join(out) + ")"


def page_content(lines):
    """The content stream of one page: its lines top-down in Helvetica.
    A page without lines draws nothing, like a scanned page without OCR."""
    rows = [row for line in lines for row in wrap(line)]
    if not rows:
        return b""
    parts = ["BT", f"/F1 {FONT_SIZE} Tf", f"{LEADING} TL",
             f"{MARGIN} {PAGE_HEIGHT - MARGIN} Td"]
    for index, row in enumerate(rows):
        parts.append(("" if index == 0 else "T* ") + pdf_string(row) + " Tj")
    parts.append("ET")
    return ("\n".join(parts) + "\n").encode("ascii")


def stream_object(data, compress):
    if compress:
        data = zlib.compress(data)
        head = f"<< /Length {len(data)} /Filter /FlateDecode >>"
    else:
        head = f"<< /Length {len(data)} >>"
    return head.encode("ascii") + b"\nstream\n" + data + b"\nendstream"


# A standard security handler (revision 2) whose /O and /U match no
# password: every reader has to ask for one, which is all a test of the
# "password-protected" path needs; the content itself stays unencrypted.
LOCKED_ENCRYPT = (b"<< /Filter /Standard /V 1 /R 2 /P -4 /O <" + b"11" * 32
                  + b"> /U <" + b"22" * 32 + b"> >>")
FILE_ID = b"<00112233445566778899aabbccddeeff>"


def pdf_objects(pages, compress, locked):
    """The objects of the file in number order (object n at index n - 1)."""
    page_count = len(pages)
    first_page = 4
    kids = " ".join(f"{first_page + 2 * i} 0 R" for i in range(page_count))
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        f"<< /Type /Pages /Kids [{kids}] /Count {page_count} >>".encode(),
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica "
        b"/Encoding /WinAnsiEncoding >>",
    ]
    for index, lines in enumerate(pages):
        content = first_page + 2 * index + 1
        objects.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 {PAGE_WIDTH} "
            f"{PAGE_HEIGHT}] /Resources << /Font << /F1 3 0 R >> >> "
            f"/Contents {content} 0 R >>".encode())
        objects.append(stream_object(page_content(lines), compress))
    if locked:
        objects.append(LOCKED_ENCRYPT)
    return objects


def write_pdf(path, pages, compress=True, locked=False):
    """Writes a PDF 1.4 with one page per entry of `pages` (a list of text
    lines each). compress: Flate-compress the content streams. locked: add
    an encryption dictionary no password opens."""
    objects = pdf_objects(pages, compress, locked)
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += f"{number} 0 obj\n".encode() + body + b"\nendobj\n"
    xref = len(out)
    out += f"xref\n0 {len(objects) + 1}\n0000000000 65535 f \n".encode()
    for offset in offsets:
        out += f"{offset:010d} 00000 n \n".encode()
    trailer = f"<< /Size {len(objects) + 1} /Root 1 0 R /ID [".encode() \
        + FILE_ID + FILE_ID + b"]"
    if locked:
        trailer += f" /Encrypt {len(objects)} 0 R".encode()
    out += b"trailer\n" + trailer + b" >>\n"
    out += f"startxref\n{xref}\n%%EOF\n".encode()
    with open(path, "wb") as file:
        file.write(out)


# --- DOCX ---------------------------------------------------------------------

WORD_NAMESPACE = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"

CONTENT_TYPES = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">
<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>
<Default Extension="xml" ContentType="application/xml"/>
<Override PartName="/word/document.xml" ContentType="application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"/>
</Types>
"""

PACKAGE_RELATIONSHIPS = """<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">
<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="word/document.xml"/>
</Relationships>
"""

PAGE_BREAK_PARAGRAPH = '<w:p><w:r><w:br w:type="page"/></w:r></w:p>'

# A4 with 2.5 cm margins, in twentieths of a point.
SECTION_PROPERTIES = ('<w:sectPr><w:pgSz w:w="11906" w:h="16838"/>'
                      '<w:pgMar w:top="1417" w:right="1417" w:bottom="1134" '
                      'w:left="1417" w:header="708" w:footer="708" '
                      'w:gutter="0"/></w:sectPr>')


def paragraph(text):
    return ('<w:p><w:r><w:t xml:space="preserve">' + escape(text)
            + "</w:t></w:r></w:p>")


def document_xml(pages):
    body = PAGE_BREAK_PARAGRAPH.join(
        "".join(paragraph(line) for line in lines) for lines in pages)
    return ('<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
            f'<w:document xmlns:w="{WORD_NAMESPACE}"><w:body>'
            + body + SECTION_PROPERTIES + "</w:body></w:document>")


def write_docx(path, pages):
    """Writes a DOCX with one paragraph per line and a hard page break
    (<w:br w:type="page"/>) between the pages."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("[Content_Types].xml", CONTENT_TYPES)
        archive.writestr("_rels/.rels", PACKAGE_RELATIONSHIPS)
        archive.writestr("word/document.xml", document_xml(pages))


# --- command line -------------------------------------------------------------

WRITERS = {
    "pdf": lambda path: write_pdf(path, RESEARCH_PAGES),
    "docx": lambda path: write_docx(path, RESEARCH_PAGES),
    "scanned_pdf": lambda path: write_pdf(path, [[], []]),
    "locked_pdf": lambda path: write_pdf(path, RESEARCH_PAGES, locked=True),
}


def main(arguments):
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    for kind in WRITERS:
        parser.add_argument("--" + kind.replace("_", "-"), metavar="OUT")
    options = vars(parser.parse_args(arguments))
    chosen = {kind: path for kind, path in options.items() if path}
    if not chosen:
        parser.error("name at least one file to write")
    for kind, path in chosen.items():
        WRITERS[kind](os.path.abspath(path))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
