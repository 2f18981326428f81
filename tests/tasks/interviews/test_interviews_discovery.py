"""Study 1: suggestions from human coding, NMF themes, demand profile CIs / by sector, focus group, survey."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from insats.demo.interviews import SURVEY_TEXT_COLUMNS, make_interviews, planted_codes, write_interviews
from insats.tasks.interviews.codebook import load_codebook
from insats.tasks.interviews.coding import code_segments
from insats.tasks.interviews.human import read_coded_spans, spans_to_redacted
from insats.tasks.interviews.profile import demand_by_attribute, demand_profile
from insats.tasks.interviews.redaction import redact
from insats.tasks.interviews.reliability import spans_to_labels
from insats.tasks.interviews.suggest import MIN_POSITIVES, cross_validate_suggestions, discover_themes, suggest_codes
from insats.tasks.interviews.survey import read_survey, survey_segments
from insats.tasks.interviews.transcripts import read_transcript, segment_turns


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    bundle = make_interviews(seed=2026, n_employers=20)
    paths = write_interviews(bundle, tmp_path_factory.mktemp("disc"))
    book = load_codebook(paths["codebook"])
    employers = pd.read_csv(paths["employers"], dtype=str, encoding="utf-8", keep_default_na=False)
    names = [bundle.truth["pii"]["name"]]
    originals, frames = {}, []
    for row in employers.itertuples():
        originals[row.interview_id] = read_transcript(paths["transcripts"] / row.file)
        frames.append(segment_turns(redact(originals[row.interview_id], names)[0], row.interview_id))
    segments = pd.concat(frames, ignore_index=True)
    codes = [c.id for c in book.codes if c.keywords]
    human = spans_to_redacted(read_coded_spans(paths["human_coding"]), originals, employers, names)
    planted = pd.concat([planted_codes(iv) for iv in bundle.interviews], ignore_index=True)
    return {"bundle": bundle, "paths": paths, "book": book, "employers": employers, "segments": segments,
            "codes": codes, "labels": spans_to_labels(human, segments, codes), "planted": planted,
            "coded": code_segments(segments, book)}  # fmt: skip


def test_cross_validation_grouped_by_interview(demo):
    cv = cross_validate_suggestions(demo["segments"], demo["labels"], "kodare_a", demo["codes"], seed=0)
    assert list(cv["code_id"]) == demo["codes"] and (cv["n_folds"] == 5).all()
    fitted = cv[cv["n_positive"] >= MIN_POSITIVES]
    assert len(fitted) >= 6 and cv.loc[cv["n_positive"] < MIN_POSITIVES, "f1"].isna().all()
    # The language code is frequent and lexically clear: the classifier must rank it well out of fold.
    assert fitted.set_index("code_id").loc["KOMP.SVENSKA", "auc"] > 0.85
    assert fitted["brier"].between(0, 0.25).all()
    with pytest.raises(ValueError, match=r"no decisions by coder\(s\) \['nobody'\]"):
        cross_validate_suggestions(demo["segments"], demo["labels"], "nobody", demo["codes"])


def test_suggestions_only_for_uncoded_segments_and_mostly_right(demo):
    sug = suggest_codes(demo["segments"], demo["labels"], "kodare_a", demo["codes"], seed=0)
    coded_by_a = set(demo["labels"].loc[demo["labels"]["coder"] == "kodare_a", "segment_id"])
    assert len(sug) >= 10 and not set(sug["segment_id"]) & coded_by_a
    assert sug["confidence"].between(0.5, 1).all()
    truth = set(zip(demo["planted"]["segment_id"], demo["planted"]["code_id"], strict=True))
    right = [(s, c) in truth for s, c in zip(sug["segment_id"], sug["code_id"], strict=True)]
    assert sum(right) / len(right) >= 0.8


def test_themes_flag_material_outside_the_codebook(demo):
    themes = discover_themes(demo["segments"], demo["coded"], n_themes=8, seed=0)
    assert len(themes) == 8 and themes["n_segments"].sum() <= (demo["segments"]["speaker_role"] == "respondent").sum()
    assert themes["novel"].any() and (~themes["novel"]).any()
    covered = themes[~themes["novel"]]
    assert "KOMP.SVENSKA" in set(covered["best_code"])
    # Recruitment channels / workplace size talk is in the interviews but not in the codebook.
    assert (
        themes.loc[themes["novel"], "top_terms"].str.contains("rekrytering|rekommendation|ansökning|timanställd").any()
    )
    pii = demo["bundle"].truth["pii"]
    assert not themes["examples"].str.contains(pii["name"], regex=False).any()
    again = discover_themes(demo["segments"], demo["coded"], n_themes=8, seed=0)
    pd.testing.assert_frame_equal(themes, again)


def test_profile_cis_and_by_sector(demo):
    profile = demand_profile(demo["coded"], demo["employers"], demo["book"]).set_index("code_id")
    assert (profile["ci_low"] < profile["share_employers"]).all() or (profile["share_employers"] == 0).any()
    top = profile.loc["KOMP.SVENSKA"]
    assert top["ci_high"] - top["ci_low"] < 0.4 and top["ci_low"] > 0.5
    by = demand_by_attribute(demo["coded"], demo["employers"], demo["book"], attribute="sector")
    assert set(by["level"]) == set(demo["employers"]["sector"]) and len(by) == 8 * 8
    # Sector counts add up to the overall count for every code.
    total = by.groupby("code_id")["n_employers"].sum()
    assert (total == profile["n_employers"].reindex(total.index)).all()
    # Licences were planted more often in building / logistics than in retail / restaurants.
    lic = by[by["code_id"] == "KOMP.KORKORT"].set_index("level")["share_employers"]
    assert lic[["bygg", "lager och logistik"]].mean() > lic[["handel", "restaurang"]].mean()
    with pytest.raises(ValueError, match="no column 'bransch'"):
        demand_by_attribute(demo["coded"], demo["employers"], demo["book"], attribute="bransch")


def test_focus_group_several_respondents(demo):
    text = read_transcript(demo["paths"]["focus_groups"] / "FG01.txt")
    seg = segment_turns(text, "FG01")
    assert set(seg.loc[seg["speaker_role"] == "respondent", "speaker"]) == {"R1", "R2", "R3", "R4"}
    coded = code_segments(seg, demo["book"]).merge(seg[["segment_id", "speaker"]], on="segment_id")
    truth = demo["bundle"].truth["focus_group"]["codes_by_speaker"]
    for speaker, codes in truth.items():
        assert set(coded.loc[coded["speaker"] == speaker, "code_id"]) == set(codes), speaker


@pytest.mark.parametrize("key", ["survey_csv", "survey_xlsx"])
def test_survey_answers_coded(demo, key):
    survey = read_survey(demo["paths"][key])
    assert len(survey) == 60 and survey["fritext_krav"].str.contains("å|ä|ö").any()
    seg = survey_segments(survey, SURVEY_TEXT_COLUMNS)
    coded = code_segments(seg, demo["book"])
    truth = demo["bundle"].truth["survey"]["codes"]
    found = coded.groupby("interview_id")["code_id"].apply(set).to_dict()
    for rid, answers in truth.items():
        assert found.get(rid, set()) == {c for v in answers.values() for c in v}, rid


def test_survey_bad_input(tmp_path: Path):
    path = tmp_path / "enkät.csv"
    path.write_text("respondent_id,fritext\nS1,a\nS1,b\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"enkät\.csv: row 3: respondent 'S1' repeated"):
        read_survey(path)
    with pytest.raises(ValueError, match="no respondent id column 'id'"):
        read_survey(path, id_column="id")


# --- the study's steps as the flow runs them (tasks/interviews/study.py) ---------------------------------------


def test_study_steps_from_the_raw_files(demo, tmp_path: Path):
    from insats.tasks.interviews.study import code_other_material, segment_interviews

    paths, names = demo["paths"], [demo["bundle"].truth["pii"]["name"]]
    segments = segment_interviews(paths["transcripts"], paths["employers"], names, None, {})
    pd.testing.assert_frame_equal(segments, demo["segments"])  # the same as segmenting each transcript by hand
    coding, freq = code_other_material(
        paths["focus_groups"], paths["survey_csv"], "respondent_id", list(SURVEY_TEXT_COLUMNS), paths["codebook"],
        names, None, {},
    )  # fmt: skip
    assert set(coding["source"]) == {"focus_group", "survey"} and set(freq["source"]) == {"focus_group", "survey"}
    demanded = coding[~coding["negated"]].groupby(["source", "code_id"])["segment_id"].nunique()
    assert freq.set_index(["source", "code_id"])["n_segments"].sort_index().equals(demanded.sort_index())
    assert freq.loc[freq["source"] == "survey", "n_documents_total"].eq(60).all()
    # A transcript the metadata names but the folder lacks: the error names the file and the interview.
    employers = pd.read_csv(paths["employers"], dtype=str, keep_default_na=False)
    employers.loc[0, "file"] = "saknas.txt"
    employers.to_csv(tmp_path / "employers.csv", index=False)
    with pytest.raises(FileNotFoundError, match=r"employers\.csv: interview E01 names saknas\.txt, not found"):
        segment_interviews(paths["transcripts"], tmp_path / "employers.csv", names, None, {})
    with pytest.raises(ValueError, match="neither focus_groups nor survey"):
        code_other_material(None, None, "respondent_id", [], paths["codebook"], names, None, {})
