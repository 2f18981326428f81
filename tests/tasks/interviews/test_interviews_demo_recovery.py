"""Study 1 end to end on the demo material: the planted competencies, shares, employers, negations and
personal data are recovered."""

from __future__ import annotations

import pandas as pd
import pytest

from insats.demo.interviews import make_interviews, write_interviews
from insats.tasks.identity import find_identity_numbers
from insats.tasks.interviews.codebook import load_codebook
from insats.tasks.interviews.coding import CODED_COLUMNS, code_segments
from insats.tasks.interviews.profile import code_frequencies, demand_profile
from insats.tasks.interviews.redaction import redact
from insats.tasks.interviews.transcripts import read_transcript, segment_turns

# Tolerance for recovered vs planted employer shares. The generator writes sentences only for planted
# codes and the fillers carry no keyword, so recovery is exact on the demo; 0.05 (= 1 employer of 20)
# leaves room for template changes without hiding a systematic error.
SHARE_TOLERANCE = 0.05


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    bundle = make_interviews(seed=2026, n_employers=20)
    paths = write_interviews(bundle, tmp_path_factory.mktemp("study1"))
    book = load_codebook(paths["codebook"])
    employers = pd.read_csv(paths["employers"], dtype=str, encoding="utf-8", keep_default_na=False)
    texts, logs, frames = {}, {}, []
    for row in employers.itertuples():
        text, log = redact(read_transcript(paths["transcripts"] / row.file), names=[bundle.truth["pii"]["name"]])
        texts[row.interview_id], logs[row.interview_id] = text, log
        frames.append(segment_turns(text, row.interview_id))
    segments = pd.concat(frames, ignore_index=True)
    coded = code_segments(segments, book)
    return {
        "bundle": bundle, "paths": paths, "book": book, "employers": employers, "texts": texts,
        "logs": logs, "segments": segments, "coded": coded,
    }  # fmt: skip


def test_planted_top_competency_is_rank_one(demo):
    profile = demand_profile(demo["coded"], demo["employers"], demo["book"])
    assert list(profile.columns) == [
        "code_id", "label", "label_en", "n_employers", "n_employers_total", "share_employers", "rank",
        "ci_low", "ci_high", "n_employers_krav", "n_employers_neutral", "n_employers_inte_krav", "share_neutral",
        "share_inte_krav",
    ]  # fmt: skip
    assert (profile["ci_low"] <= profile["share_employers"]).all()
    assert (profile["share_employers"] <= profile["ci_high"]).all()
    assert set(profile["code_id"]) == {c.id for c in demo["book"].children("KOMP")}
    top = profile.iloc[0]
    assert top["code_id"] == demo["bundle"].truth["top_competency"] and top["rank"] == 1
    assert (profile["rank"] == 1).sum() == 1
    assert (profile["n_employers_total"] == 20).all()
    assert profile["rank"].is_monotonic_increasing


@pytest.mark.parametrize("parent", ["KOMP", "SYN"])
def test_shares_close_to_planted(demo, parent):
    """The demo plants *mentions* (some phrased as merits: "Det är en fördel med truckkort"), so the planted share
    is the share of employers who mention a code without denying it: krav + neutral. Demand (krav) is at most that."""
    profile = demand_profile(demo["coded"], demo["employers"], demo["book"], parent=parent)
    planted = demo["bundle"].truth["planted_shares"]
    for row in profile.itertuples():
        mentioned = (row.n_employers_krav + row.n_employers_neutral) / row.n_employers_total
        assert abs(mentioned - planted[row.code_id]) <= SHARE_TOLERANCE, row.code_id
        assert row.share_employers <= mentioned


def test_employer_sets_recovered(demo):
    """Beyond shares: exactly the employers the generator planted are found for every code."""
    emp = dict(zip(demo["employers"]["interview_id"], demo["employers"]["employer_id"], strict=True))
    coded = demo["coded"].assign(employer_id=demo["coded"]["interview_id"].map(emp))
    for code, planted in demo["bundle"].truth["planted_employers"].items():
        found = set(coded.loc[(coded["code_id"] == code) & ~coded["negated"], "employer_id"])
        assert found == set(planted), code


def test_negated_korkort_coded_but_not_demand(demo):
    seg, coded = demo["segments"], demo["coded"]
    hits = seg[seg["text"].str.contains("Vi kräver inte körkort", regex=False)]
    assert len(hits) >= 1
    rows = coded[coded["segment_id"].isin(hits["segment_id"]) & (coded["code_id"] == "KOMP.KORKORT")]
    assert len(rows) == len(hits) and rows["negated"].all()
    assert rows["matched"].str.lower().eq("körkort").all()
    truth = demo["bundle"].truth
    profile = demand_profile(coded, demo["employers"], demo["book"]).set_index("code_id")
    with_neg = demand_profile(coded, demo["employers"], demo["book"], include_negated=True).set_index("code_id")
    n_planted = len(truth["planted_employers"]["KOMP.KORKORT"])
    n_negated = len(truth["negated_employers"]["KOMP.KORKORT"])
    assert profile.loc["KOMP.KORKORT", "n_employers"] == n_planted
    assert with_neg.loc["KOMP.KORKORT", "n_employers"] == n_planted + n_negated


def test_redaction_of_planted_personal_data(demo):
    pii = demo["bundle"].truth["pii"]
    text = demo["texts"][pii["interview_id"]]
    for value in (pii["personnummer"], pii["phone"], pii["email"], pii["name"]):
        assert value not in text
    for placeholder in ("[PERSONNUMMER]", "[TELEFON]", "[E-POST]", "[NAMN]"):
        assert placeholder in text
    assert all(find_identity_numbers(t) == [] for t in demo["texts"].values())
    log = demo["logs"][pii["interview_id"]]
    assert sorted(e["kind"] for e in log) == ["email", "identity_number", "name", "phone"]
    for entry in log:
        assert set(entry) == {"kind", "placeholder", "start", "end"}
        assert text[entry["start"] : entry["end"]] == entry["placeholder"]
    # Other interviews had nothing to redact.
    assert all(not v for k, v in demo["logs"].items() if k != pii["interview_id"])
    # Segments are cut from the redacted text, so nothing downstream carries the values.
    assert not demo["segments"]["text"].str.contains(pii["personnummer"], regex=False).any()


def test_segment_offsets_point_into_text(demo):
    seg = demo["segments"]
    for row in seg.itertuples():
        assert demo["texts"][row.interview_id][row.start_char : row.end_char] == row.text
    assert seg["segment_id"].is_unique and (seg["end_char"] > seg["start_char"]).all()
    assert set(seg["speaker_role"]) == {"interviewer", "respondent"}
    assert set(seg["speaker"]) == {"I", "R", "Intervjuare", "Respondent"}
    # Header lines ("Intervju E01", "Datum: ...") are not turns.
    assert not seg["text"].str.startswith("Intervju E").any()


def test_interviewer_turns_not_coded_by_default(demo):
    roles = demo["segments"].set_index("segment_id")["speaker_role"]
    assert (demo["coded"]["segment_id"].map(roles) == "respondent").all()
    both = code_segments(demo["segments"], demo["book"], roles=("interviewer", "respondent"))
    asked = both[both["segment_id"].map(roles) == "interviewer"]
    assert {"KOMP.KORKORT", "SYN.KONTAKT"} <= set(asked["code_id"])  # the questions name them


def test_code_frequencies(demo):
    freq = code_frequencies(demo["coded"], demo["employers"])
    assert list(freq.columns) == ["employer_id", "code_id", "n_segments"]
    assert not freq.duplicated(["employer_id", "code_id"]).any() and (freq["n_segments"] >= 1).all()
    affirmative = demo["coded"][~demo["coded"]["negated"]]
    assert freq["n_segments"].sum() == len(affirmative)
    n_emp = freq[freq["code_id"] == "KOMP.SVENSKA"]["employer_id"].nunique()
    assert n_emp / 20 == demo["bundle"].truth["planted_shares"]["KOMP.SVENSKA"]


def test_coded_schema(demo):
    coded = demo["coded"]
    assert list(coded.columns) == CODED_COLUMNS
    assert not coded.duplicated(["segment_id", "code_id"]).any()
    assert coded["negated"].dtype == bool and coded["matched"].str.len().gt(0).all()
