"""Study 1 redaction without a list given in advance: names (shipped lists + rare capitalised words),
addresses, e-mails; recall and precision on marked-up Swedish sentences; nothing unredacted in the tables."""

from __future__ import annotations

import re

import pytest

from insats.tasks.interviews.names import find_addresses, find_names, name_lists
from insats.tasks.interviews.redaction import KINDS, find_personal_data, map_offsets, redact, redaction_counts

# Sentences written for this test (not from any transcript). [[...]] marks a person name; every other word must
# stay. They mix listed and unlisted names, sentence starts, genitives, double names, titles, places and firms.
MARKED = """
R: Ja, [[Amina]] som jobbar hos oss nu kom via [[Lena]] på kommunen.
R: Inga problem med det. [[Per]] sa att [[Göran Lund]] ringde mig i förrgår.
R: Vi har en kille, [[Ionut]], och [[Zeynep Lindqvist]] började i maj.
R: [[Annas]] kollega [[Mohammed]] och [[Eriksson]] på lagret i Torshälla.
R: Per timme betalar vi 150 kronor, och dag för dag blir det bättre.
R: Jag pratade med [[Anna-Karin Berg]] på Arbetsförmedlingen i Eskilstuna.
R: [[Björn]] var här i tre år innan han gick till Volvo i Göteborg.
R: Handledaren, [[Kerstin]], tar emot alla nya. [[Kerstins]] rutiner är bra.
R: Vi ringde [[Oksana]] och [[Taras]] som kom från Ukraina förra året.
R: Hans chef [[Dragan Petrović]] har jobbat i Sverige sedan nittiotalet.
R: Enhetschefen [[Lejla]] sköter schemat och [[Fredrik]] sköter lönerna.
R: [[Dario]] kör truck och [[Aleksander]] sköter beställningarna från Malmö.
R: Det var [[Linnea]] på Försäkringskassan som hörde av sig till oss.
R: Vår förman [[Ola Persson]] säger att punktlighet är allt.
R: [[Sara]] har varit här sedan hon var nitton.
R: Praktikanten från Komvux, [[Hamid]], gjorde ett bra jobb i köket.
R: Vi jobbar mycket med Samhall och med kommunen i Västerås.
R: [[Ebba]] och [[Viktor]] gick en kurs hos Lernia i våras.
R: Min kollega [[Tuğba Yılmaz]] pratar fem språk.
R: Jag minns att [[Kenneth]] alltid var först på plats.
R: Det var svårt i början men [[Patrik]] hjälpte till.
R: Kontakta [[Marie Johansson]] om ni vill veta mer.
R: Vi har en ny i köket, [[Abdirahman]], och han är jätteduktig.
R: Sen har vi [[Jovana]] på kontoret, hon är från Serbien.
R: När [[Helena]] gick i pension tog [[Maria]] över.
R: Vi fick tips av [[Jelena]] på Jobbtorget, och [[Wiktor Nowak]] kom på intervju samma vecka.
R: Både [[Mikael]] och [[Åsa]] har körkort, men [[Nasra]] tar det nu.
R: [[Ahmed]] började som praktikant och nu är han arbetsledare.
R: Jag tror [[Fatimas]] svenska blev bättre när hon fick prata med kunderna.
R: Det är [[Leila Haddad]] som har hand om introduktionen hos ICA i Örebro.
R: Chefen på Coop, [[Niklas]], sa samma sak som [[Elin]] på Statoil.
"""
# Nothing in these may be redacted (ordinary words at sentence starts, places, firms, authorities).
CLEAN = """
R: Inga krav på körkort, men det är meriterande.
R: Dag ett går man bredvid någon, sedan klarar man sig själv.
R: Per vecka blir det ungefär fyrtio timmar.
R: Finns det jobb i Stockholm så flyttar folk dit.
R: Vi har B-körkort som krav för alla som kör ut varor.
R: Arbetsförmedlingen och Försäkringskassan ringer ofta.
R: Klara besked är viktigt för nyanlända.
R: Stark rygg behövs i lagret.
"""


def _gold(marked: str) -> tuple[str, list[tuple[int, int]]]:
    text, spans, pos = "", [], 0
    for m in re.finditer(r"\[\[(.+?)\]\]", marked):
        text += marked[pos : m.start()]
        spans.append((len(text), len(text) + len(m.group(1))))
        text += m.group(1)
        pos = m.end()
    return text + marked[pos:], spans


def test_name_recall_and_precision_on_marked_sentences():
    text, gold = _gold(MARKED)
    found = [(a, b) for a, b, _rule in find_names(text)]
    hit = [g for g in gold if any(a <= g[0] and g[1] <= b for a, b in found)]
    recall = len(hit) / len(gold)
    true = [f for f in found if any(f[0] <= g[0] and g[1] <= f[1] for g in gold)]
    precision = len(true) / len(found)
    missed = [text[a:b] for a, b in gold if (a, b) not in hit]
    assert recall >= 0.98, f"recall {recall:.3f}, missed {missed}"
    assert precision >= 0.95, f"precision {precision:.3f}: {[text[a:b] for a, b in found if (a, b) not in true]}"
    assert len(gold) >= 40


def test_ordinary_words_places_and_firms_are_kept():
    redacted, log = redact(CLEAN)
    assert redacted == CLEAN, [e for e in log]


def test_sentence_start_name_that_is_a_word_counts_beside_a_verb_or_name():
    assert redact("R: Per sa ja.")[0] == "R: [NAMN] sa ja."
    assert redact("R: Per vecka jobbar vi.")[0] == "R: Per vecka jobbar vi."
    assert redact("R: Inga Karlsson kom.")[0] == "R: [NAMN] kom."


def test_speaker_labels_are_not_names():
    text = "Anna: Hej.\nR: Vi anställde Anna i fjol."
    assert redact(text)[0] == "Anna: Hej.\nR: Vi anställde [NAMN] i fjol."


def test_addresses_emails_and_counts():
    text = (
        "R: Vi sitter på Storgatan 12, 123 45 Eskilstuna, och lagret på Kungsvägen 3B. "
        "Skicka till Drottning Kristinas väg 4 eller 633 46 Eskilstuna. Mejla eva.l@firma.se."
    )
    redacted, log = redact(text)
    assert redacted == (
        "R: Vi sitter på [ADRESS], och lagret på [ADRESS]. Skicka till [ADRESS] eller [ADRESS]. Mejla [E-POST]."
    )
    counts = redaction_counts(log)
    assert counts == {**dict.fromkeys(KINDS, 0), "address": 4, "email": 1}
    assert find_addresses("Vi har 120 anställda och 45 bilar.") == []


def test_configured_names_are_added_and_logged_as_such():
    text = "R: Vi pratade med zoran i går, och Kalle på lagret."
    redacted, _log = redact(text, names=["Zoran"])
    assert redacted == "R: Vi pratade med [NAMN] i går, och [NAMN] på lagret."
    assert [f[3] for f in find_personal_data(text, names=["Zoran"])] == ["configured", "list"]
    assert redact(text, detect_names=False)[0] == text  # only the list: the old behaviour


def test_offsets_map_through_detected_names():
    text = "R: Ionut kom. Zeynep Lindqvist jobbar här."
    red = redact(text)[0]
    start = text.index("jobbar")
    assert red[map_offsets(text, [start])[0] :].startswith("jobbar")


def test_shipped_lists_are_small_and_swedish():
    names, ordinary, common = name_lists()
    assert 3000 <= len(names) <= 10000 and {"Anna", "Åsa", "Mohammed", "Lindqvist"} <= names
    assert ordinary <= names and "Per" in ordinary
    assert {"och", "körkort", "eskilstuna"} <= common and "ionut" not in common


@pytest.mark.parametrize("kind", KINDS)
def test_every_kind_has_a_placeholder(kind):
    assert redaction_counts([{"kind": kind}])[kind] == 1
