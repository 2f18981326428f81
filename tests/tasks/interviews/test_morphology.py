"""Swedish lemmas and compound splitting (tasks/interviews/morphology.py) and `insats codebook check`."""

from __future__ import annotations

from pathlib import Path

from typer.testing import CliRunner

from insats.cli import app
from insats.tasks.interviews.codebook import parse_codebook
from insats.tasks.interviews.codebook_check import check_keywords
from insats.tasks.interviews.coding import explain_matches
from insats.tasks.interviews.morphology import compound_parts, lemma

BOOK = parse_codebook(
    {
        "name": "t",
        "codes": [
            {"id": "SV", "label": "Svenska", "keywords": ["svenska", "språk"]},
            {"id": "KK", "label": "Körkort", "keywords": ["körkort"]},
            {"id": "DIG", "label": "Digital", "keywords": ["dator"]},
            {"id": "YRK", "label": "Yrke", "keywords": ["utbildning"]},
            {"id": "PUN", "label": "Punktlighet", "keywords": ["punktlighet"]},
        ],
    }
)


def _codes(text: str) -> dict[str, tuple[str, str]]:
    ex = explain_matches(text, BOOK)
    return {r.code_id: (r.matched, r.rule) for r in ex.itertuples()}


def test_lemmas_are_dictionary_forms_not_stems():
    assert lemma("svenskan") == "svenska"
    assert lemma("datorer") == "dator"
    assert lemma("körkortet") == "körkort"
    assert lemma("kunderna") == "kund"
    assert lemma("punktlighet") == "punktlighet"  # Snowball cut this to "punkt"
    # An unknown compound is lemmatised on its longest known tail.
    assert lemma("kundbemötandet") == "kundbemötande"


def test_inflections_match_their_keyword():
    assert _codes("Svenskan är viktig.") == {"SV": ("Svenskan", "exact")}
    assert _codes("Man ska inte vara rädd för datorer.") == {"DIG": ("datorer", "exact")}
    assert _codes("Körkortet är ett måste.") == {"KK": ("Körkortet", "exact")}
    # "punkt" (a point) is not punctuality any more.
    assert _codes("Det är en viktig punkt.") == {}


def test_compounds_split_against_the_codebook_keywords():
    vocabulary = frozenset({"körkort", "språk", "dator", "utbildning"})
    assert compound_parts("körkortskrav", vocabulary) == {"körkort"}  # head + linking s + known word
    assert compound_parts("språkkrav", vocabulary) == {"språk"}
    assert compound_parts("datorvana", vocabulary) == {"dator"}
    assert compound_parts("undersköterskeutbildningen", vocabulary) == {"utbildning"}  # tail, inflected
    assert compound_parts("punktlighet", vocabulary) == frozenset()
    assert _codes("Körkortskrav har vi för hemtjänsten.") == {"KK": ("Körkortskrav", "compound")}
    assert _codes("Vi har inga formella språkkrav.") == {"SV": ("språkkrav", "compound")}
    assert _codes("Datorvana är bra.") == {"DIG": ("Datorvana", "compound")}


def test_codebook_check_lists_matches_and_near_misses():
    texts = {"a": "Körkortet behövs. Vi har körkortskrav.", "b": "Svenskan, språket och språklig förmåga. Punktlig!"}
    check = check_keywords(BOOK, texts).set_index("keyword")
    assert check.loc["körkort", "n_matches"] == 2
    assert "körkortet ×1 (exact)" in check.loc["körkort", "matched"]
    assert "körkortskrav ×1 (compound)" in check.loc["körkort", "matched"]
    assert check.loc["språk", "near_misses"] == "språklig ×1"
    assert check.loc["punktlighet", "n_matches"] == 0 and "punktlig ×1" in check.loc["punktlighet", "near_misses"]
    assert check.loc["dator", "forms"] == "dator: data|dator"
    without = check_keywords(BOOK)
    assert (without["n_matches"] == 0).all() and (without["matched"] == "").all()


def test_cli_codebook_check(tmp_path: Path):
    book = tmp_path / "codebook.yaml"
    book.write_text("name: t\ncodes:\n- id: KK\n  label: Körkort\n  keywords: [körkort]\n", encoding="utf-8")
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "a.txt").write_text(
        "I: Körkort?\nR: Körkortskrav har vi. Körkortsutbildning betalar vi.\n", encoding="utf-8"
    )
    result = CliRunner().invoke(app, ["codebook", "check", str(book), "--corpus", str(corpus)])
    assert result.exit_code == 0, result.output
    assert "KK" in result.output and "körkortskrav ×1 (compound)" in result.output
    empty = tmp_path / "empty"
    empty.mkdir()
    bad = CliRunner().invoke(app, ["codebook", "check", str(book), "--corpus", str(empty)])
    assert bad.exit_code == 1 and "no .txt or .docx transcripts" in bad.output
