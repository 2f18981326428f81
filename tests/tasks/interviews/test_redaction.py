"""Study 1 redaction without a list given in advance: names (shipped lists + rare capitalised words),
addresses, e-mails; recall and precision on marked-up Swedish sentences; nothing unredacted in the tables."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from insats.tasks.interviews.names import find_addresses, find_names, name_lists
from insats.tasks.interviews.redaction import KINDS, find_personal_data, map_offsets, redact, redaction_counts
from tests.helpers import ROOT

CORPUS = ROOT / "benchmarks" / "coding_corpus"
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
R: Vi har ett lager ute i Kjula och ett kontor i Hällbybrunn.
"""

# Written after the lists and rules were final and run once, untuned: the honest estimate. Firms and places that
# are rare words mid-sentence (Visma, Fortnox, Bilia) are redacted too: recall 1.0, precision 0.67 on first run.
HELD_OUT = """
R: Vi tog in [[Yusuf]] efter en praktik via Navigatorcentrum i Uppsala.
R: [[Marianne]] på personalavdelningen sköter allt med Visma och Fortnox.
R: Det var [[Goran Milić]] som lärde upp honom på Bilia i Kungälv.
R: Jag hade ett möte med [[Sofie Wennerström]] från Jobb och kunskapstorget förra veckan.
R: Truckkortet tog han hos Lernia, och sen började han hos DSV i Jönköping.
R: Många kommer från Eritrea och Afghanistan, [[Selam]] till exempel.
R: [[Rasmus]] och [[Tove]] på kontoret har hand om schemat.
R: Handledaren heter [[Bengt-Åke]] och han har varit här i trettio år.
R: Vi fick hjälp av Stadsmissionen och Röda Korset med språkcafé.
R: [[Khadija Osman]] kom till oss via Rusta och Swedbank-projektet.
R: Fråga [[Nils-Erik]] eller [[Pernilla]] på Stena Recycling.
R: Min förra chef på Systembolaget, [[Lotta Engström]], tipsade om henne.
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


def test_held_out_sentences_lose_every_name():
    text, gold = _gold(HELD_OUT)
    found = [(a, b) for a, b, _rule in find_names(text)]
    assert all(any(a <= g[0] and g[1] <= b for a, b in found) for g in gold)
    true = [f for f in found if any(f[0] <= g[0] and g[1] <= f[1] for g in gold)]
    assert len(true) / len(found) >= 0.6  # rare firm names go too: privacy first


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


def test_published_study_tables_hold_no_unconfigured_name(tmp_path: Path):
    """The flow's tables that carry text (segments, coded_segments, quotes, themes' examples, other_coding) are
    built from segment_interviews' output: no name the researcher did not configure may survive there, speaker
    labels that are names included."""
    import pandas as pd

    from insats.tasks.interviews.profile import quote_bank
    from insats.tasks.interviews.study import code_interviews, segment_interviews

    (tmp_path / "t").mkdir()
    text = (
        "Intervju\nI: Vad krävs?\nR: Svenska, säger vår chef Birgitta Holmqvist. Ring 070-123 45 67.\n"
        "I: Något mer?\nR: Körkort. Fråga Jovana på Storgatan 12, 123 45 Eskilstuna.\n"
        "Anna-Karin: Och svenska igen, sa Dragan.\n"
    )
    (tmp_path / "t" / "E01.txt").write_text(text, encoding="utf-8")
    pd.DataFrame(
        {"interview_id": ["E01"], "employer_id": ["AG1"], "sector": ["bygg"], "size_class": ["1-9"],
         "municipality": ["0484"], "interview_date": ["2025-01-10"], "file": ["E01.txt"]}
    ).to_csv(tmp_path / "employers.csv", index=False)  # fmt: skip
    book = tmp_path / "kodbok.yaml"
    book.write_text(
        "codes:\n  - id: K\n    label: K\n    children:\n      - {id: K.SV, label: Svenska, keywords: [svenska]}\n"
        "      - {id: K.KK, label: Körkort, keywords: [körkort]}\n",
        encoding="utf-8",
    )
    pattern = r"^(?P<speaker>I|R|[A-ZÅÄÖ][a-zåäö]+(?:-[A-ZÅÄÖ][a-zåäö]+)?):"  # named speakers, as a site sets it
    roles = {"Anna-Karin": "respondent"}
    segments = segment_interviews(tmp_path / "t", tmp_path / "employers.csv", [], pattern, roles)
    coded = code_interviews(segments, book)
    quotes = quote_bank(coded, segments)
    published = " ".join(frame.astype(str).to_csv(index=False) for frame in (segments, coded, quotes))
    for secret in ("Birgitta", "Holmqvist", "070-123", "Jovana", "Storgatan", "123 45", "Anna-Karin", "Dragan"):
        assert secret not in published, secret
    assert list(segments["speaker"]) == ["I", "R", "I", "R", "[NAMN 1]"] and len(quotes) >= 2


@pytest.mark.skipif(not (CORPUS / "names.csv").is_file(), reason="evaluation corpus not present")
def test_name_recall_on_the_evaluation_corpus():
    """Every person name benchmarks/coding_corpus/names.csv lists per interview and turn is gone from that turn
    after redaction (goal: recall >= 0.98); and few other words go (precision of the name spans >= 0.9)."""
    import pandas as pd

    from insats.tasks.interviews.transcripts import read_transcript, segment_turns

    gold = pd.read_csv(CORPUS / "names.csv", dtype=str)
    hits, total, spans, wrong = 0, 0, 0, []
    for path in sorted((CORPUS / "transcripts").glob("*.txt")):
        text = read_transcript(path)
        turns = segment_turns(redact(text)[0], path.stem).set_index("turn")["text"]
        names = gold[gold["interview"] == path.stem]
        for turn, name in zip(names["turn"].astype(int), names["name"], strict=True):
            total += 1
            hits += re.search(r"(?<!\w)" + re.escape(name), turns[turn]) is None
        for start, end, kind, _rule in find_personal_data(text):
            if kind == "name":
                spans += 1
                if not any(text[start:end].rstrip("s") in n or n in text[start:end] for n in names["name"]):
                    wrong.append(text[start:end])
    assert total >= 10 and hits / total >= 0.98, f"recall {hits}/{total}"
    assert (spans - len(wrong)) / spans >= 0.9, wrong


def test_a_changed_list_must_update_its_checksum(monkeypatch):
    from insats.tasks.interviews import names

    monkeypatch.setitem(names._CHECKSUMS, "surnames.txt", "0" * 16)
    with pytest.raises(ValueError, match=r"surnames\.txt changed .* names\._CHECKSUMS"):
        names.name_lists()
