"""The supervised layer of study 1 (tasks/interviews/classifier.py): it learns a code said without keywords from
human turn coding, is evaluated with folds grouped by interview, says plainly which codes have too little
coding, and runs in the pipeline's study functions when employer_interviews.supervised_coding is on."""

from __future__ import annotations

import logging
import random
from pathlib import Path

import pandas as pd
import pytest

from insats.config import EmployerInterviews
from insats.tasks.interviews import classifier, per_code, study
from insats.tasks.interviews.codebook import parse_codebook
from insats.tasks.interviews.coding import code_segments
from insats.tasks.interviews.study import code_interviews, coder_labels, supervised_coding
from insats.tasks.interviews.transcripts import segment_turns
from tests.tasks.interviews.supervised_data import BOOK, interview, write_study


@pytest.fixture(scope="module")
def synthetic():
    """12 interviews (2 planted answers each), their segments, dictionary coding, turns and gold labels."""
    rng = random.Random(3)
    book = parse_codebook(BOOK, "test")
    frames, rows = [], []
    for n in range(12):
        iid = f"S{n:02d}"
        text, planted = interview(rng, 2)
        seg = segment_turns(text, iid)
        frames.append(seg)
        for sid, turn in zip(seg.loc[seg["speaker_role"] == "respondent", "segment_id"],
                             seg.loc[seg["speaker_role"] == "respondent", "turn"], strict=True):  # fmt: skip
            rows.append((iid, sid, "KOMP.ÖDMJUK", int(turn in planted)))
    segments = pd.concat(frames, ignore_index=True)
    coded = code_segments(segments, book)
    labels = pd.DataFrame(rows, columns=["interview_id", "segment_id", "code_id", "value"])
    return {"book": book, "segments": segments, "coded": coded, "labels": labels,
            "turns": classifier.turn_table(segments, coded, book)}  # fmt: skip


def test_turn_table_carries_the_question_and_both_rule_hits(synthetic):
    turns = synthetic["turns"]
    assert len(turns) == 12 * 6 and (turns["question"] == "Berätta mer?").all()
    sv = turns[turns["text"].str.startswith("Svenska är viktigt")]
    assert len(sv) == 12 and all(c == frozenset({"KOMP.SVENSKA"}) for c in sv["rule_codes"])


def test_classifier_recovers_a_planted_code_out_of_fold_grouped_by_interview(synthetic, monkeypatch):
    seen: list[set[str]] = []
    fit = classifier.fit_turn_coder

    def recording_fit(turns, labels, codes, **kw):
        seen.append(set(turns["interview_id"]))
        return fit(turns, labels, codes, **kw)

    monkeypatch.setattr(classifier, "fit_turn_coder", recording_fit)
    oof = classifier.grouped_oof(synthetic["turns"], synthetic["labels"], ["KOMP.ÖDMJUK"], n_splits=4)
    # Grouped: each interview is scored in one fold only, by classifiers fit without any of its turns.
    assert (oof.groupby("interview_id")["fold"].nunique() == 1).all()
    assert len(seen) == 4
    for k, trained_on in enumerate(seen):
        tested = set(oof.loc[oof["fold"] == k, "interview_id"])
        assert tested and not trained_on & tested
    truth = synthetic["labels"].set_index("segment_id")["value"]
    pred = (oof.set_index("segment_id")["probability"] >= classifier.THRESHOLD).astype(int)
    tp = int((pred & truth.reindex(pred.index)).sum())
    f1 = 2 * tp / (pred.sum() + truth.reindex(pred.index).sum())
    assert f1 >= 0.9, f"planted code recovered out of fold with F1 {f1:.2f}"


def test_grouped_cv_refuses_fewer_interviews_than_folds(synthetic):
    few = synthetic["labels"][synthetic["labels"]["interview_id"].isin(["S00", "S01"])]
    with pytest.raises(ValueError, match="2 coded interviews, fewer than 5 folds"):
        classifier.grouped_oof(synthetic["turns"], few, ["KOMP.ÖDMJUK"], n_splits=5)


def test_too_little_coding_is_named_with_counts_and_the_code_keeps_the_rules(synthetic):
    labels = synthetic["labels"]
    rare = labels.assign(code_id="KOMP.SÄLLSYNT", value=0)
    rare.loc[rare.index[:3], "value"] = 1
    both = pd.concat([labels, rare], ignore_index=True)
    message = classifier.training_shortfall(both, ["KOMP.ÖDMJUK", "KOMP.SÄLLSYNT"])
    assert "KOMP.SÄLLSYNT (3 positive, 69 negative)" in message and "KOMP.ÖDMJUK" not in message
    assert f"at least {classifier.MIN_POSITIVES} positive" in message and "dictionary coding only" in message
    model = classifier.fit_turn_coder(synthetic["turns"], both, ["KOMP.ÖDMJUK", "KOMP.SÄLLSYNT"])
    assert set(model.models) == {"KOMP.ÖDMJUK"} and model.skipped == {"KOMP.SÄLLSYNT": 3}
    assert classifier.training_shortfall(labels, ["KOMP.ÖDMJUK"]) == ""


def test_union_keeps_rules_classifier_mode_may_drop_them_and_added_codes_read_their_stance():
    turns = pd.DataFrame({
        "interview_id": ["A", "A"], "segment_id": ["A-002", "A-004"],
        "text": ["Svenska pratar vi ibland.", "Nej, det behövs inte hos oss."], "question": ["", ""],
        "rule_codes": [frozenset({"KOMP.SVENSKA"}), frozenset()], "question_codes": [frozenset(), frozenset()],
    })  # fmt: skip
    coded = pd.DataFrame({"interview_id": ["A"], "segment_id": ["A-002"], "code_id": ["KOMP.SVENSKA"],
                          "matched": ["Svenska"], "negated": [False], "stance": ["krav"]})  # fmt: skip
    proba = pd.DataFrame({"interview_id": ["A", "A"], "segment_id": ["A-002", "A-004"],
                          "code_id": ["KOMP.SVENSKA", "KOMP.ÖDMJUK"], "probability": [0.2, 0.8]})  # fmt: skip
    union = classifier.combine_with_rules(coded, proba, turns, 0.5, "union")
    assert list(zip(union["segment_id"], union["code_id"], strict=True)) == [
        ("A-002", "KOMP.SVENSKA"), ("A-004", "KOMP.ÖDMJUK")]  # fmt: skip
    added = union.iloc[1]
    assert added["matched"] == "classifier p=0.80" and added["stance"] == "inte_krav" and bool(added["negated"])
    alone = classifier.combine_with_rules(coded, proba, turns, 0.5, "classifier")
    assert list(alone["code_id"]) == ["KOMP.ÖDMJUK"]
    with pytest.raises(ValueError, match="mode 'vote' is not one of"):
        classifier.combine_with_rules(coded, proba, turns, 0.5, "vote")


@pytest.fixture(scope="module")
def study_data(tmp_path_factory):
    """8 interviews on disk (supervised_data.write_study): a turn sheet codes the first 6 (KOMP.ÖDMJUK on
    planted answers, KOMP.SVENSKA, and KOMP.SÄLLSYNT twice); the last 2 are left for the classifier. The
    labels are built once, through coder_labels, with and without the sheet."""
    made = write_study(tmp_path_factory.mktemp("supervised"))
    # The transcripts hold no names, so the study's segments are segment_turns' (segment_interviews would load
    # the redaction name lists first, seconds of start-up that test_redaction covers).
    segments = pd.concat([segment_turns((made["transcripts"] / f"{i}.txt").read_text(encoding="utf-8"), i)
                          for i in made["ids"]], ignore_index=True)  # fmt: skip
    coded = code_interviews(segments, made["codebook"])
    files = dict(transcripts=made["transcripts"], employers=made["employers"], codebook=made["codebook"])
    # employers.csv's gate (Great Expectations, seconds of import) is covered by the study's flow tests.
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(study, "gate", lambda *a, **k: None)
        labels = coder_labels(segments, coded, **files, human_coding=made["turns"], redact_names=[])
        no_human = coder_labels(segments, coded, **files, human_coding=None, redact_names=[])
    return {**made, "segments": segments, "coded": coded, "labels": labels, "no_human": no_human}


@pytest.mark.parametrize("mode", ["classifier", "per_code"])
def test_pipeline_option_codes_the_uncoded_interviews_and_names_the_short_code(study_data, caplog, mode):
    assert EmployerInterviews(transcripts=Path("t"), employers=Path("e"), codebook=Path("c")).supervised_coding is False
    d = study_data
    with caplog.at_level(logging.INFO, logger="insats.interviews"):
        out = supervised_coding(d["segments"], d["coded"], d["labels"], d["codebook"], seed=6, mode=mode)
    assert list(out.columns) == list(d["coded"].columns) and not out.duplicated(["segment_id", "code_id"]).any()
    added = out[out["matched"].str.startswith("classifier p=")]
    assert set(added["interview_id"]) <= {"E07", "E08"}, "human-coded segments keep the dictionary coding"
    found = set(added.loc[added["code_id"] == "KOMP.ÖDMJUK", "segment_id"])
    assert found == d["planted"]["E07"] | d["planted"]["E08"]
    assert "KOMP.SÄLLSYNT (2 positive" in caplog.text and "dictionary coding only" in caplog.text
    rules = d["coded"][d["coded"]["interview_id"].isin(["E07", "E08"])]
    assert set(rules["segment_id"]) <= set(out.loc[out["code_id"] == "KOMP.SVENSKA", "segment_id"])
    if mode == "per_code":  # the planted code leaves the rules (it has none); Swedish, perfect by rules, keeps them
        assert "KOMP.ÖDMJUK classifier" in caplog.text or "KOMP.ÖDMJUK union" in caplog.text
        assert "KOMP.SVENSKA rules" in caplog.text


def test_pipeline_option_without_human_coding_names_the_settings(study_data):
    d = study_data
    with pytest.raises(ValueError, match=r"supervised_coding is on.*employer_interviews\.human_coding"):
        supervised_coding(d["segments"], d["coded"], d["no_human"], d["codebook"])


def _scores(**rows: tuple) -> pd.DataFrame:
    cols = ["n_positive", "f1_rules", "f1_classifier", "f1_union", "f1_classifier_rules"]
    return pd.DataFrame([{"code_id": c, **dict(zip(cols, v, strict=True))} for c, v in rows.items()])


def test_per_code_choice_falls_back_to_rules_and_needs_a_margin():
    nan = float("nan")
    scores = _scores(
        FEW=(4, 0.2, 0.9, 0.9, 0.9),  # too few positives: rules whatever the classifier scored
        BEST=(12, 0.5, 0.6, 0.8, 0.7),  # union best
        TIE=(12, 0.5, 0.8, 0.8, 0.8),  # equal F1: the earlier strategy (classifier)
        SMALL=(12, 0.80, 0.81, 0.81, 0.81),  # gain below the margin: rules
        NORULE=(12, nan, 0.7, 0.7, 0.6),  # no rule hits and no positives found by rules (nan): classifier
    )
    got = per_code.choose_strategies(scores, min_positives=8, margin=0.02)
    assert list(got.columns) == per_code.CHOICE_COLUMNS
    assert dict(zip(got["code_id"], got["strategy"], strict=True)) == {
        "FEW": "rules", "BEST": "union", "TIE": "classifier", "SMALL": "rules", "NORULE": "classifier"}  # fmt: skip


def test_strategy_f1_scores_each_strategy_on_the_labelled_segments_only():
    labels = pd.DataFrame({"segment_id": ["a", "b", "c", "d"], "code_id": "K", "value": [1, 1, 0, 0]})
    coded = pd.DataFrame({"segment_id": ["a", "c", "z"], "code_id": "K"})  # "z" is not labelled: ignored
    text = pd.DataFrame({"segment_id": ["a", "b", "c", "d"], "code_id": "K", "probability": [0.1, 0.9, 0.1, 0.1]})
    rules = text.assign(probability=[0.9, 0.9, 0.1, 0.1])
    got = per_code.strategy_f1(coded, text, rules, labels, ["K", "NONE"], threshold=0.5).set_index("code_id")
    assert got.loc["K", "n_positive"] == 2
    assert got.loc["K", ["f1_rules", "f1_classifier", "f1_union", "f1_classifier_rules"]].tolist() == pytest.approx(
        [0.5, 2 / 3, 0.8, 1.0])  # fmt: skip
    assert got.loc["NONE"].drop("n_positive").isna().all(), "a code nobody coded has no F1"


def test_per_code_combination_applies_each_codes_strategy(synthetic):
    """classifier_rules may drop a rule hit, union keeps it, rules ignore the classifier."""
    turns = pd.DataFrame({
        "interview_id": "A", "segment_id": ["A-002", "A-004"], "text": ["Svenska pratar vi.", "Nej, inte alls."],
        "question": "", "rule_codes": [frozenset({"K1", "K2", "K3"}), frozenset()],
        "question_codes": [frozenset(), frozenset()],
    })  # fmt: skip
    coded = pd.DataFrame({"interview_id": "A", "segment_id": "A-002", "code_id": ["K1", "K2", "K3"],
                          "matched": "Svenska", "negated": False, "stance": "krav"})  # fmt: skip
    proba = pd.DataFrame({"interview_id": "A", "segment_id": ["A-002", "A-004"] * 3,
                          "code_id": ["K1", "K1", "K2", "K2", "K3", "K3"], "probability": [0.1, 0.9] * 3})  # fmt: skip
    strategy = {"K1": "classifier_rules", "K2": "union", "K3": "rules"}
    got = per_code.combine_per_code(coded, proba, proba, turns, strategy, threshold=0.5)
    assert sorted(zip(got["segment_id"], got["code_id"], strict=True)) == [
        ("A-002", "K2"), ("A-002", "K3"), ("A-004", "K1"), ("A-004", "K2")]  # fmt: skip
    assert set(got.loc[got["segment_id"] == "A-004", "stance"]) == {"inte_krav"}
    with pytest.raises(ValueError, match="strategy \\['vote'\\] is not one of"):
        per_code.combine_per_code(coded, proba, proba, turns, {"K1": "vote"})


def test_fit_per_code_chooses_by_grouped_cv_and_refuses_a_single_interview(synthetic):
    s = synthetic
    model = per_code.fit_per_code(s["turns"], s["labels"], s["coded"], ["KOMP.ÖDMJUK"], n_splits=3)
    row = model.choice.set_index("code_id").loc["KOMP.ÖDMJUK"]
    assert row["n_positive"] == 24 and row["f1_rules"] == 0 and row["strategy"] != "rules"
    assert row[f"f1_{row['strategy']}"] >= 0.9
    one = s["labels"][s["labels"]["interview_id"] == "S00"]
    with pytest.raises(ValueError, match="1 human-coded interview"):
        per_code.fit_per_code(s["turns"], one, s["coded"], ["KOMP.ÖDMJUK"])
