#include "sim_answer.h"

#include <string.h>

#define FNV1A32_PRIME 16777619u

/* Counts as tokens like every other word; tests rely on its presence. */
static const char *const opening[] = {
    "Gerne", "helfe", "ich", "Ihnen", "weiter.",
};
#define OPENING_COUNT (sizeof opening / sizeof opening[0])

/*
 * Ordinary German vocabulary. It must stay free of quotes, backslashes and
 * control characters: the wire formatter copies tokens into JSON verbatim.
 */
static const char *const vocabulary[] = {
    "die", "der", "das", "und", "ist", "nicht", "auch", "eine", "wir",
    "Sie", "mit", "für", "auf", "bei", "nach", "über", "unter", "durch",
    "sehr", "gut", "gerne", "zuerst", "danach", "außerdem", "jedoch",
    "deshalb", "natürlich", "vielleicht", "bereits", "häufig", "meistens",
    "Anfrage", "Antwort", "Beispiel", "Lösung", "Frage", "Hinweis",
    "Übersicht", "Ergebnis", "Schritt", "Abschnitt", "Vorschlag",
    "Bericht", "Grundlage", "Zusammenhang", "Erfahrung", "Möglichkeit",
    "Verfahren", "Planung", "Entwicklung", "Umsetzung", "Prüfung",
    "Dokument", "Tabelle", "Zeitraum", "Kosten", "Qualität", "Ziel",
    "Aufgabe", "Team", "Projekt", "Kunde", "Vertrag", "Termin",
    "Rechnung", "Angebot", "Daten", "System", "Anwendung", "Schnittstelle",
    "Konfiguration", "Sicherheit", "Leistung", "Wartung", "Betrieb",
    "Netzwerk", "Speicher", "Version", "Änderung", "Anleitung",
    "wichtig", "einfach", "schnell", "genau", "klar", "sinnvoll",
    "möglich", "zuverlässig", "aktuell", "passend", "weitere",
    "verschiedene", "folgende", "neue", "bestehende", "ganze",
    "prüfen", "planen", "erstellen", "ergänzen", "beachten", "nutzen",
    "beschreiben", "zusammenfassen", "vergleichen", "empfehlen",
    "erklären", "unterstützen", "verbessern", "anpassen", "klären",
    "hier", "dort", "heute", "morgen", "später", "immer", "oft",
    "dabei", "dafür", "damit", "darum", "insgesamt", "schließlich",
    "Morgen", "Woche", "Monat", "Jahr", "Stadt", "Haus", "Straße",
    "Garten", "Wasser", "Wetter", "Sonne", "Wald", "Berg", "Fluss",
    "Brot", "Kaffee", "Zeitung", "Buch", "Brief", "Schule", "Arbeit",
};
#define VOCABULARY_COUNT (sizeof vocabulary / sizeof vocabulary[0])

uint32_t sim_fnv1a32_update(uint32_t hash, const void *data, size_t length)
{
    const unsigned char *bytes = data;
    for (size_t i = 0; i < length; i++) {
        hash ^= bytes[i];
        hash *= FNV1A32_PRIME;
    }
    return hash;
}

uint32_t sim_fnv1a32(const void *data, size_t length)
{
    return sim_fnv1a32_update(SIM_FNV1A32_OFFSET, data, length);
}

/* Fixed ASCII set so the count does not depend on the C locale. */
static bool is_word_separator(unsigned char byte)
{
    return byte == ' ' || byte == '\t' || byte == '\n' || byte == '\r' ||
           byte == '\v' || byte == '\f';
}

uint64_t sim_count_words(const char *text, size_t length)
{
    uint64_t words = 0;
    bool inside_word = false;
    for (size_t i = 0; i < length; i++) {
        bool separator = is_word_separator((unsigned char)text[i]);
        if (!separator && !inside_word)
            words++;
        inside_word = !separator;
    }
    return words;
}

uint32_t sim_answer_natural_tokens(uint32_t last_message_hash)
{
    return SIM_ANSWER_MIN_TOKENS + last_message_hash % SIM_ANSWER_TOKEN_SPAN;
}

sim_answer_plan sim_answer_plan_make(uint32_t last_message_hash,
                                     uint32_t fixed_tokens,
                                     uint64_t max_tokens)
{
    uint32_t length = fixed_tokens != 0
                          ? fixed_tokens
                          : sim_answer_natural_tokens(last_message_hash);
    sim_answer_plan plan = {
        .seed = last_message_hash,
        .completion_tokens = length,
        .cut_by_max_tokens = false,
    };
    if (max_tokens != 0 && max_tokens < length) {
        plan.completion_tokens = (uint32_t)max_tokens;
        plan.cut_by_max_tokens = true;
    }
    return plan;
}

const char *sim_answer_finish_reason(const sim_answer_plan *plan)
{
    return plan->cut_by_max_tokens ? "length" : "stop";
}

/* splitmix64: tiny, well mixed, and identical on every platform. */
static uint64_t next_random(uint64_t *state)
{
    uint64_t z = (*state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void sim_answer_cursor_start(sim_answer_cursor *cursor,
                             const sim_answer_plan *plan)
{
    cursor->prng_state = plan->seed;
    cursor->next_index = 0;
    cursor->total = plan->completion_tokens;
}

size_t sim_answer_cursor_next(sim_answer_cursor *cursor, char *out,
                              size_t capacity)
{
    if (cursor->next_index >= cursor->total || capacity < SIM_ANSWER_TOKEN_CAPACITY)
        return 0;
    const char *word;
    bool sentence_end = false;
    if (cursor->next_index < OPENING_COUNT) {
        word = opening[cursor->next_index];
    } else {
        uint64_t random = next_random(&cursor->prng_state);
        word = vocabulary[(random >> 32) % VOCABULARY_COUNT];
        sentence_end = ((random >> 8) & 7u) == 0;
    }
    cursor->next_index++;
    bool last = cursor->next_index == cursor->total;
    size_t length = strlen(word);
    memcpy(out, word, length);
    if (sentence_end)
        out[length++] = '.';
    if (!last)
        out[length++] = ' ';
    out[length] = '\0';
    return length;
}
