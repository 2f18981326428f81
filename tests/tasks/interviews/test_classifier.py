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
from insats.tasks.interviews import classifier
from insats.tasks.interviews.codebook import parse_codebook
from insats.tasks.interviews.coding import code_segments
from insats.tasks.interviews.study import code_interviews, coder_labels, supervised_coding
from insats.tasks.interviews.transcripts import segment_turns

BOOK = {
    "name": "Test",
    "version": "1",
    "codes": [
        {"id": "KOMP", "label": "Kompetenser"},
        {"id": "KOMP.SVENSKA", "label": "Svenska språket", "parent": "KOMP", "keywords": ["svenska"]},
        {"id": "KOMP.ÖDMJUK", "label": "Ödmjukhet", "parent": "KOMP"},  # no keywords: only people code it
        {"id": "KOMP.SÄLLSYNT", "label": "Sällsynt", "parent": "KOMP"},  # coded twice: too little to learn
    ],
}
PLANTED = [
    "Man måste vara ödmjuk inför kunderna.",
    "Ödmjukhet är det viktigaste för oss.",
    "Vi vill ha ödmjuka personer som lyssnar.",
    "Att vara ödmjuk och lyssna, det är grejen.",
]
FILLER = [
    "Vi har tolv anställda och jobbar i två skift.",
    "Lokalen ligger vid torget sedan många år.",
    "Vi började med tre bilar och nu är vi fler.",
    "Det blir mycket jobb på våren när säsongen börjar.",
    "Ägaren bytte inriktning för fem år sedan.",
    "Vi säljer mest till andra företag i länet.",
    "Det är tungt ibland men det går bra.",
    "Vi har ett nytt lager ute vid motorvägen.",
]


def _interview(rng: random.Random, n_planted: int) -> tuple[str, list[int]]:
    """A transcript of 6 question/answer pairs; n_planted answers say the planted code. Returns (text,
    respondent turn numbers of the planted answers)."""
    kinds = ["plant"] * n_planted + ["fill"] * (5 - n_planted) + ["svenska"]
    rng.shuffle(kinds)
    lines, planted = ["Intervju"], []
    for k, kind in enumerate(kinds):
        lines.append("I: Berätta mer?")
        text = {"plant": rng.choice(PLANTED), "fill": rng.choice(FILLER), "svenska": "Svenska är viktigt hos oss."}
        lines.append("R: " + text[kind] + " " + rng.choice(FILLER))
        if kind == "plant":
            planted.append(2 * k + 2)
    return "\n".join(lines) + "\n", planted


@pytest.fixture(scope="module")
def synthetic():
    """12 interviews (2 planted answers each), their segments, dictionary coding, turns and gold labels."""
    rng = random.Random(3)
    book = parse_codebook(BOOK, "test")
    frames, rows = [], []
    for n in range(12):
        iid = f"S{n:02d}"
        text, planted = _interview(rng, 2)
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
def study(tmp_path_factory):
    """8 interviews on disk; a turn sheet codes the first 6 (KOMP.ÖDMJUK on planted answers, KOMP.SVENSKA,
    and KOMP.SÄLLSYNT twice); the last 2 are left for the classifier."""
    rng = random.Random(5)
    root = tmp_path_factory.mktemp("supervised")
    (root / "transcripts").mkdir()
    sheet, planted_uncoded = ["interview,turn,code,coder"], {}
    for n in range(1, 9):
        iid = f"E{n:02d}"
        text, planted = _interview(rng, 2)
        (root / "transcripts" / f"{iid}.txt").write_text(text, encoding="utf-8")
        seg = segment_turns(text, iid)
        if n > 6:
            planted_uncoded[iid] = {f"{iid}-{t:03d}" for t in planted}
            continue
        sv = int(seg.loc[seg["text"].str.startswith("Svenska är viktigt"), "turn"].iloc[0])
        sheet += [f"{iid},{t},KOMP.ÖDMJUK,åsa" for t in planted] + [f"{iid},{sv},KOMP.SVENSKA,åsa"]
        if n <= 2:
            sheet.append(f"{iid},{sv},KOMP.SÄLLSYNT,åsa")
    (root / "turns.csv").write_text("\n".join(sheet) + "\n", encoding="utf-8")
    ids = [f"E{n:02d}" for n in range(1, 9)]
    pd.DataFrame({"interview_id": ids, "employer_id": ids, "sector": ["bygg"] * 8, "size_class": ["1-9"] * 8,
                  "municipality": ["0484"] * 8, "interview_date": ["2025-01-10"] * 8,
                  "file": [f"{i}.txt" for i in ids]}).to_csv(root / "employers.csv", index=False)  # fmt: skip
    import yaml

    (root / "codebook.yaml").write_text(yaml.safe_dump(BOOK, allow_unicode=True), encoding="utf-8")
    files = dict(transcripts=root / "transcripts", employers=root / "employers.csv")
    # The transcripts hold no names, so the study's segments are segment_turns' (segment_interviews would load
    # the redaction name lists first, seconds of start-up that test_redaction covers).
    segments = pd.concat([segment_turns((root / "transcripts" / f"{i}.txt").read_text(encoding="utf-8"), i)
                          for i in ids], ignore_index=True)  # fmt: skip
    coded = code_interviews(segments, root / "codebook.yaml")
    return {"root": root, "files": files, "segments": segments, "coded": coded, "planted": planted_uncoded}


def test_pipeline_option_codes_the_uncoded_interviews_and_names_the_short_code(study, caplog):
    assert EmployerInterviews(transcripts=Path("t"), employers=Path("e"), codebook=Path("c")).supervised_coding is False
    root = study["root"]
    labels = coder_labels(study["segments"], study["coded"], **study["files"], codebook=root / "codebook.yaml",
                          human_coding=root / "turns.csv", redact_names=[])  # fmt: skip
    with caplog.at_level(logging.INFO, logger="insats.interviews"):
        out = supervised_coding(study["segments"], study["coded"], labels, root / "codebook.yaml", seed=6)
    assert list(out.columns) == list(study["coded"].columns) and not out.duplicated(["segment_id", "code_id"]).any()
    added = out[out["matched"].str.startswith("classifier p=")]
    assert set(added["interview_id"]) <= {"E07", "E08"}, "human-coded segments keep the dictionary coding"
    found = set(added.loc[added["code_id"] == "KOMP.ÖDMJUK", "segment_id"])
    assert found == study["planted"]["E07"] | study["planted"]["E08"]
    assert "KOMP.SÄLLSYNT (2 positive" in caplog.text and "dictionary coding only" in caplog.text
    rules = study["coded"][study["coded"]["interview_id"].isin(["E07", "E08"])]
    assert set(rules["segment_id"]) <= set(out.loc[out["code_id"] == "KOMP.SVENSKA", "segment_id"])


def test_pipeline_option_without_human_coding_names_the_settings(study):
    root = study["root"]
    labels = coder_labels(study["segments"], study["coded"], **study["files"], codebook=root / "codebook.yaml",
                          human_coding=None, redact_names=[])  # fmt: skip
    with pytest.raises(ValueError, match=r"supervised_coding is on.*employer_interviews\.human_coding"):
        supervised_coding(study["segments"], study["coded"], labels, root / "codebook.yaml")
