"""Demo employer interviews: determinism, file formats, Swedish characters, codebook, planted truth."""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd
import pytest

from insats.demo.interviews import TARGET_SHARES, make_interviews, render_text, write_interviews
from insats.tasks.identity import find_identity_numbers, is_identity_number
from insats.tasks.interviews.codebook import load_codebook
from insats.tasks.interviews.transcripts import read_transcript

FIXED_IDS = {
    "KOMP", "KOMP.SVENSKA", "KOMP.PUNKTLIGHET", "KOMP.SAMARBETE", "KOMP.KORKORT", "KOMP.MOTIVATION",
    "KOMP.YRKESKUNSKAP", "KOMP.DIGITAL", "KOMP.SERVICE",
    "SYN", "SYN.POSITIV", "SYN.NEGATIV", "SYN.HANDLEDNING", "SYN.KONTAKT",
}  # fmt: skip


@pytest.fixture(scope="module")
def bundle():
    return make_interviews(seed=2026, n_employers=20)


@pytest.fixture(scope="module")
def written(bundle, tmp_path_factory):
    return write_interviews(bundle, tmp_path_factory.mktemp("demo_interviews"))


def test_deterministic_per_seed():
    a, b, c = make_interviews(seed=11), make_interviews(seed=11), make_interviews(seed=12)
    assert a.interviews == b.interviews
    pd.testing.assert_frame_equal(a.employers, b.employers)
    assert a.truth == b.truth
    assert a.interviews != c.interviews


def test_bundle_unpacks_like_a_tuple(bundle):
    interviews, employers, codebook, truth = bundle
    assert interviews is bundle.interviews and employers is bundle.employers
    assert codebook["version"] == "1.0" and truth["top_competency"] == "KOMP.SVENSKA"


def test_employer_metadata(bundle):
    emp = bundle.employers
    assert list(emp.columns) == [
        "interview_id", "employer_id", "sector", "size_class", "municipality", "interview_date", "file",
    ]  # fmt: skip
    assert list(emp["interview_id"]) == [f"E{i:02d}" for i in range(1, 21)]
    assert emp["employer_id"].is_unique and emp["employer_id"].str.fullmatch(r"AG\d{2}").all()
    # Employer ids are shuffled against interview ids, so joins must go through the table.
    assert (emp["employer_id"].str[2:] != emp["interview_id"].str[1:]).any()
    assert set(emp["size_class"]) <= {"1-9", "10-49", "50-249", "250+"}
    assert (emp["municipality"] == "0484").all()
    assert emp["interview_date"].str.fullmatch(r"2025-\d{2}-\d{2}").all()
    assert emp["sector"].nunique() == 8
    assert (emp["file"] == emp["interview_id"] + emp["file"].str.extract(r"(\.\w+)$")[0]).all()
    assert (emp["file"].str.endswith(".docx")).sum() == 10 and (emp["file"].str.endswith(".txt")).sum() == 10


def test_interview_shape(bundle):
    styles = {iv.speaker_style for iv in bundle.interviews}
    assert styles == {"short", "long"}
    for iv in bundle.interviews:
        n_resp = sum(role == "respondent" for role, _ in iv.turns)
        assert 10 <= n_resp <= 20, (iv.interview_id, n_resp)


def test_files_written_and_readable_with_swedish_letters(bundle, written):
    tdir = written["transcripts"]
    assert sorted(p.name for p in tdir.iterdir()) == sorted(bundle.employers["file"])
    for iv in bundle.interviews:
        text = read_transcript(tdir / iv.file)
        assert "å" in text and "ä" in text and "ö" in text
        for _role, turn in iv.turns:
            # .txt wraps long turns over lines; compare with whitespace collapsed.
            assert " ".join(turn.split()) in " ".join(text.split())
        label = "Intervjuare:" if iv.speaker_style == "long" else "I:"
        assert re.search(rf"^{label}", text, re.MULTILINE)


def test_txt_rendering_matches_file(bundle, written):
    iv = next(iv for iv in bundle.interviews if iv.file_format == "txt")
    assert (written["transcripts"] / iv.file).read_text(encoding="utf-8") == render_text(iv)


def test_employers_csv_round_trip(bundle, written):
    back = pd.read_csv(written["employers"], dtype=str, encoding="utf-8", keep_default_na=False)
    pd.testing.assert_frame_equal(back, bundle.employers.astype(str), check_dtype=False)
    assert back["sector"].str.contains("å|ä|ö").any() and (back["municipality"] == "0484").all()


def test_codebook_file_loads_with_fixed_ids(written):
    book = load_codebook(written["codebook"])
    assert set(book.ids) == FIXED_IDS
    assert book.name == "Arbetsgivares förväntningar och syn på insatser" and book.version == "1.0"
    assert {c.id for c in book.children("KOMP")} == {i for i in FIXED_IDS if i.startswith("KOMP.")}
    assert "prata svenska" in book.get("KOMP.SVENSKA").keywords
    assert all(c.keywords for c in book.codes if c.parent is not None)


def test_planted_truth(bundle):
    truth = bundle.truth
    shares = truth["planted_shares"]
    assert truth["top_competency"] == "KOMP.SVENSKA"
    komp = {c: s for c, s in shares.items() if c.startswith("KOMP.")}
    assert max(komp, key=komp.get) == "KOMP.SVENSKA"
    assert komp["KOMP.SVENSKA"] - max(s for c, s in komp.items() if c != "KOMP.SVENSKA") >= 0.2
    for code, target in TARGET_SHARES.items():
        assert shares[code] == round(target * 20) / 20
        assert len(truth["planted_employers"][code]) == round(target * 20)
    # Negated-only employers never overlap with the employers who demand the code.
    for code, emps in truth["negated_employers"].items():
        assert emps and not set(emps) & set(truth["planted_employers"][code])


def test_planted_negation_and_personal_data(bundle):
    texts = {iv.interview_id: " ".join(t for _, t in iv.turns) for iv in bundle.interviews}
    assert any("Vi kräver inte körkort" in t for t in texts.values())
    pii = bundle.truth["pii"]
    assert is_identity_number(pii["personnummer"]) and pii["personnummer"].startswith("19850612-98")
    holders = [i for i, t in texts.items() if pii["personnummer"] in t]
    assert holders == [pii["interview_id"]]
    assert pii["phone"] in texts[pii["interview_id"]] and pii["email"] in texts[pii["interview_id"]]
    assert sum(len(find_identity_numbers(t)) for t in texts.values()) == 1


def test_too_few_employers_rejected():
    with pytest.raises(ValueError, match="at least 4"):
        make_interviews(n_employers=3)


def test_other_sizes_keep_top_competency(tmp_path: Path):
    b = make_interviews(seed=5, n_employers=9)
    shares = b.truth["planted_shares"]
    komp = {c: s for c, s in shares.items() if c.startswith("KOMP.")}
    assert sorted(komp, key=komp.get)[-1] == "KOMP.SVENSKA" and len(b.interviews) == 9
    paths = write_interviews(b, tmp_path)
    assert len(list(paths["transcripts"].iterdir())) == 9


def test_phrase_data_ship_with_the_package_and_cover_every_code():
    from importlib import resources

    from insats.demo.interview_text import AFFIRMATIVE, CERTIFICATES, CODEBOOK, NEGATED, SECTORS

    text = resources.files("insats.demo").joinpath("data", "interviews.yaml").read_text(encoding="utf-8")
    assert all(ch in text for ch in "åäö")  # written as is, not escaped
    ids = set()
    stack = list(CODEBOOK["codes"])
    while stack:
        code = stack.pop()
        ids.add(code["id"])
        stack += code.get("children", [])
    assert ids == FIXED_IDS
    assert set(TARGET_SHARES) == set(AFFIRMATIVE) and set(NEGATED) <= set(AFFIRMATIVE) <= ids
    assert set(CERTIFICATES) == set(SECTORS)  # every sector can fill {cert}
