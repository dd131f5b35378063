// A hand-written ZIP writer for the DOCX reader's tests: it can write
// what real packers write (stored and deflated entries) and what they must
// not (encrypted flags, ZIP64 markers, sizes that lie).

import zlib from "node:zlib";

const CRC_TABLE = Array.from({ length: 256 }, (_, byte) => {
    let crc = byte;
    for (let bit = 0; bit < 8; bit++) {
        crc = crc & 1 ? 0xedb88320 ^ (crc >>> 1) : crc >>> 1;
    }
    return crc >>> 0;
});

function crc32(bytes) {
    let crc = 0xffffffff;
    for (const byte of bytes) {
        crc = CRC_TABLE[(crc ^ byte) & 0xff] ^ (crc >>> 8);
    }
    return (crc ^ 0xffffffff) >>> 0;
}

function header(fields) {
    const buffer = Buffer.alloc(fields.reduce((sum, [size]) => sum + size, 0));
    let offset = 0;
    for (const [size, value] of fields) {
        if (size === 2) {
            buffer.writeUInt16LE(value, offset);
        } else {
            buffer.writeUInt32LE(value, offset);
        }
        offset += size;
    }
    return buffer;
}

const DOS_DATE_1980 = 0x21;

// entries: [{ name, data (string or bytes), method = 8 (deflate) or 0
// (stored), flags = 0, declaredSize (the uncompressed size written into
// the directory; defaults to the true one) }]. Returns a Buffer.
export function zipOf(entries) {
    const locals = [];
    const directory = [];
    let offset = 0;
    for (const { name, data, method = 8, flags = 0, declaredSize } of entries) {
        const content = Buffer.from(data);
        const packed = method === 8 ? zlib.deflateRawSync(content) : content;
        const nameBytes = Buffer.from(name);
        const common = [[2, 20], [2, flags], [2, method], [2, 0], [2, DOS_DATE_1980],
                        [4, crc32(content)], [4, packed.length],
                        [4, declaredSize ?? content.length], [2, nameBytes.length], [2, 0]];
        const local = Buffer.concat([header([[4, 0x04034b50], ...common]), nameBytes, packed]);
        directory.push(Buffer.concat([
            header([[4, 0x02014b50], [2, 20], ...common, [2, 0], [2, 0], [2, 0], [4, 0],
                    [4, offset]]),
            nameBytes]));
        locals.push(local);
        offset += local.length;
    }
    const directoryBytes = Buffer.concat(directory);
    const end = header([[4, 0x06054b50], [2, 0], [2, 0], [2, entries.length],
                        [2, entries.length], [4, directoryBytes.length], [4, offset], [2, 0]]);
    return Buffer.concat([...locals, directoryBytes, end]);
}

const WORD_NAMESPACES = 'xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main" '
    + 'xmlns:mc="http://schemas.openxmlformats.org/markup-compatibility/2006"';

// A document.xml around the given <w:body> content.
export function documentXml(body) {
    return '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\r\n'
        + `<w:document ${WORD_NAMESPACES}><w:body>${body}<w:sectPr/></w:body></w:document>`;
}

// A paragraph with one run per text.
export function paragraph(...texts) {
    const runs = texts.map((text) => `<w:r><w:t xml:space="preserve">${text}</w:t></w:r>`);
    return `<w:p><w:pPr><w:pStyle w:val="Standard"/></w:pPr>${runs.join("")}</w:p>`;
}

// A DOCX package with the given document.xml (deflated unless told).
export function docxOf(xml, { method = 8 } = {}) {
    return zipOf([
        { name: "[Content_Types].xml", data: "<Types/>" },
        { name: "word/document.xml", data: xml, method },
    ]);
}
