"""Study 1: the codebook (validation, flattening) and dictionary coding (stems, compounds, negation, roles)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from insats.tasks.interviews.codebook import load_codebook
from insats.tasks.interviews.coding import CODED_COLUMNS, code_segments, explain_matches, keyword_stems
from tests.helpers.interview_codebook import BOOK


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "book.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_codebook_duplicate_id_names_file_and_code(tmp_path: Path):
    path = _write(
        tmp_path,
        "codes:\n  - id: A\n    label: Å\n    children:\n      - {id: A.X, label: x, keywords: [ett]}\n"
        "      - {id: A.X, label: y, keywords: [två]}\n",
    )
    with pytest.raises(ValueError, match=r"book\.yaml: code 'A\.X': duplicate code id"):
        load_codebook(path)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("codes:\n  - {id: A, label: a, keywords: svenska}\n", r"code 'A': 'keywords' must be a list"),
        ("codes:\n  - {id: A, label: a, keywords: [1, 2]}\n", r"code 'A': 'keywords' must be a list"),
        ("codes:\n  - {id: A}\n", r"code 'A': 'label' is required"),
        ("codes:\n  - {id: A, label: a, keyword: [x]}\n", r"code 'A': unknown key\(s\) \['keyword'\]"),
        ("codes:\n  - {id: A, label: a, children: x}\n", r"children of code 'A' must be a non-empty list"),
        ("name: x\n", r"missing the 'codes' list"),
        ("codes: [\n", r"not valid YAML"),
    ],
)
def test_codebook_validation_errors(tmp_path: Path, body: str, message: str):
    with pytest.raises(ValueError, match=r"book\.yaml: .*" + message):
        load_codebook(_write(tmp_path, body))


def test_codebook_flattening_and_frame():
    frame = BOOK.to_frame()
    assert list(frame.columns) == [
        "code_id",
        "parent",
        "level",
        "label",
        "label_en",
        "definition",
        "keywords",
    ]
    assert frame.set_index("code_id").loc["KOMP.KORKORT", "parent"] == "KOMP"
    assert frame.set_index("code_id").loc["SYN", "level"] == 1 and frame["level"].max() == 2
    assert [c.id for c in BOOK.descendants("SYN")] == [c.id for c in BOOK.children("SYN")]
    with pytest.raises(KeyError, match="NOPE"):
        BOOK.get("NOPE")


def _code(*texts: str, roles: tuple[str, ...] = ("respondent",)) -> pd.DataFrame:
    seg = pd.DataFrame(
        {
            "interview_id": "T",
            "segment_id": [f"T-{i:03d}" for i in range(1, len(texts) + 1)],
            "speaker_role": "respondent",
            "text": list(texts),
        }
    )
    return code_segments(seg, BOOK, roles=roles)


def _codes(text: str) -> dict[str, tuple[str, bool]]:
    return {r.code_id: (r.matched, r.negated) for r in _code(text).itertuples()}


def test_stems_inflections_and_compounds():
    # Lemmas, not Snowball stems: inflections share a lemma; "punktlighet" is not cut to "punkt".
    assert keyword_stems("Svenskan") == ("svenska",)
    assert keyword_stems("datorer körkortet punktlighet") == ("dator", "körkort", "punktlighet")
    assert _codes("Vi kräver svenskkunskaper.") == {"KOMP.SVENSKA": ("svenskkunskaper", False)}
    assert _codes("Körkortet är viktigt.") == {"KOMP.KORKORT": ("Körkortet", False)}
    assert _codes("Att man passar tiderna.") == {"KOMP.PUNKTLIGHET": ("passar tiderna", False)}
    assert _codes("Samarbetsförmågan är viktig.") == {"KOMP.SAMARBETE": ("Samarbetsförmågan", False)}
    assert _codes("Hon har en undersköterskeutbildning.") == {"KOMP.YRKESKUNSKAP": ("undersköterskeutbildning", False)}
    # A phrase absorbs the single word inside it; matched words keep their spelling.
    assert _codes("Man ska kunna PRATA SVENSKA.") == {"KOMP.SVENSKA": ("PRATA SVENSKA", False)}


def test_exact_match_blocks_compound_reading():
    # "kundkontakt" is a service keyword; its tail must not also count as contact with the municipality.
    assert _codes("Mycket kundkontakt i jobbet.") == {"KOMP.SERVICE": ("kundkontakt", False)}
    # ... while an unknown compound ending in a keyword stem is read as that code.
    assert _codes("Hon har bra servicekänsla.") == {"KOMP.SERVICE": ("servicekänsla", False)}


def test_negation_window_clause_and_parity():
    assert _codes("Vi kräver inte körkort.") == {"KOMP.KORKORT": ("körkort", True)}
    assert _codes("Det är inget krav på körkort.")["KOMP.KORKORT"][1] is True
    # The whole clause is the negation's scope, on both sides of the keyword.
    assert _codes("Vi har inte alls något sådant krav på körkort.")["KOMP.KORKORT"][1] is True
    assert _codes("Körkort spelar ingen roll för oss.")["KOMP.KORKORT"][1] is True
    # Clause boundaries: comma and "men".
    got = _codes("Vi kräver inte körkort, svenska är viktigt.")
    assert got == {"KOMP.KORKORT": ("körkort", True), "KOMP.SVENSKA": ("svenska", False)}
    assert _codes("Vi kräver inte körkort men svenska.")["KOMP.SVENSKA"][1] is False
    # Double negation is a demand.
    assert _codes("Det går inte utan svenska.") == {"KOMP.SVENSKA": ("svenska", False)}


def test_one_row_per_segment_and_code():
    coded = _code("Vi kräver inte körkort för lagret, men körkort är bra för chaufförerna.", "Ingen text här.")
    assert len(coded) == 1
    row = coded.iloc[0]
    assert row["code_id"] == "KOMP.KORKORT" and row["matched"] == "körkort" and not row["negated"]


def test_coding_respects_roles_and_rejects_bad_input():
    assert _code("Körkort krävs.", roles=("interviewer",)).empty
    empty = _code("Inget som matchar.")
    assert list(empty.columns) == CODED_COLUMNS and empty.empty
    with pytest.raises(ValueError, match=r"missing column\(s\) \['speaker_role'\]"):
        code_segments(pd.DataFrame({"interview_id": ["a"], "segment_id": ["a-1"], "text": ["x"]}), BOOK)
    with pytest.raises(ValueError, match="roles must be a tuple"):
        _code("x", roles="respondent")  # type: ignore[arg-type]


def test_explain_matches_gives_rule_and_offsets():
    text = "Vi kräver inte körkort, men språkkrav finns och att man kommer i tid."
    ex = explain_matches(text, BOOK)
    assert list(ex["code_id"]) == ["KOMP.KORKORT", "KOMP.SVENSKA", "KOMP.PUNKTLIGHET"]
    assert list(ex["rule"]) == ["exact", "compound", "phrase"]
    assert list(ex["negated"]) == [True, False, False]
    for row in ex.itertuples():
        assert text[row.start_char : row.end_char] == row.matched
