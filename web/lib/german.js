// Small pieces of German the page puts together.

const PLURALS = { Seite: "Seiten", Abschnitt: "Abschnitte", Textstelle: "Textstellen",
                  Dokument: "Dokumente", Zeichen: "Zeichen" };

const numberFormat = new Intl.NumberFormat("de-DE");

// "1 Seite", "3 Seiten", "12.000 Zeichen"
export function counted(count, noun) {
    return `${numberFormat.format(count)} ${count === 1 ? noun : PLURALS[noun] ?? noun}`;
}

export function formatNumber(number) {
    return numberFormat.format(number);
}

// "S. 3" / "Abschn. 2": how a citation names its place
export function shortPlace(unit, number) {
    return `${unit === "Seite" ? "S." : "Abschn."} ${number}`;
}
