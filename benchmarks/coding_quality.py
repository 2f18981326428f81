"""Held-out quality of study 1's auto-coding, stance and name redaction on the evaluation corpus.

Runs the pipeline's own functions on ``benchmarks/coding_corpus`` (``--part test`` by default; ``dev`` is the
half used for tuning): ``read_transcript`` -> ``redaction.redact`` (no name list: names must be found without
one) -> ``segment_turns`` -> ``coding.code_segments`` with the corpus codebook. A respondent turn has a code
when any segment of the turn has it (turn level, as the human coding in ``gold.csv``).

Prints per-code precision / recall / F1 (leaf codes of the codebook), macro and micro F1, stance accuracy on
KOMP codes (the coder's ``stance`` column when it has one, otherwise its ``negated`` flag read as
inte_krav / krav), the demand profile (share of employers requiring each KOMP code) against the human
coding's, and name-redaction recall (a gold name counts as redacted when it no longer occurs as a
word in its redacted turn).

``--supervised`` adds the classifier of ``tasks/interviews/classifier.py``: on ``--part test`` it is trained on
the human coding (``gold.csv``) of the training side, ``--train-parts`` (``dev``, the default, or ``dev+train``:
the dev half plus the training-only third set i41-i60), and applied to the test half; on ``--part dev`` (or
``train``, ``dev+train``) it is scored out of fold (grouped 5-fold CV by interview). ``--select`` prints the
model-selection grid on the ``--train-parts`` interviews. ``--set first`` restricts to i01-i24 (the original
12-interview test half), ``second`` to i25-i40, ``third`` to i41-i60.

Usage: ``python benchmarks/coding_quality.py [--part test|dev|train|dev+train|all] [--set all|first|second|third]
[--supervised] [--train-parts dev|dev+train] [--codebook FILE] [--question-context] [--select] [--corpus DIR]
[--json]``
"""

from __future__ import annotations

import argparse
import itertools
import json
import platform
import re
import time
from pathlib import Path

import pandas as pd
from sklearn.model_selection import GroupKFold

from insats.tasks.interviews import redaction
from insats.tasks.interviews.classifier import (
    MODE,
    MODES,
    THRESHOLD,
    combine_with_rules,
    fit_turn_coder,
    grouped_oof,
    predict_proba,
    training_shortfall,
    turn_table,
)
from insats.tasks.interviews.codebook import Codebook, load_codebook
from insats.tasks.interviews.coding import code_segments
from insats.tasks.interviews.per_code import (
    MARGIN,
    apply_per_code,
    choose_strategies,
    combine_per_code,
    fit_per_code,
    per_code_scores,
)
from insats.tasks.interviews.profile import demand_profile
from insats.tasks.interviews.stance import combine
from insats.tasks.interviews.transcripts import read_transcript, segment_turns

CORPUS = Path(__file__).resolve().parent / "coding_corpus"
# Interview-number ranges of the sets (the first set's 12-interview test half was reported before the corpus grew).
SETS = {"first": (1, 24), "second": (25, 40), "third": (41, 10**6)}
TRAIN_PARTS = "dev"  # parts the classifier trains on by default (rounds 1-2); "dev+train" adds the third set


def interview_ids(corpus: Path, part: str, which: str = "all") -> list[str]:
    """Interviews of ``part`` (dev / test / train / all, or parts joined by "+": "dev+train") in set ``which``
    (:data:`SETS` or all)."""
    split = pd.read_csv(corpus / "split.csv", dtype=str)
    ids = sorted(split["interview"] if part == "all" else split.loc[split["part"].isin(part.split("+")), "interview"])
    if which == "all":
        return ids
    low, high = SETS[which]
    return [i for i in ids if low <= int(i[1:]) <= high]


def check_training_side(parts: str) -> None:
    """ValueError unless ``parts`` names training parts only (dev, train; never test or all)."""
    if not parts or not set(parts.split("+")) <= {"dev", "train"}:
        raise ValueError(f"training parts {parts!r}: expected dev, train or dev+train (the test half never trains)")


def code_corpus(corpus: Path, ids: list[str], book: Codebook, question_context: bool) -> tuple[pd.DataFrame, ...]:
    """(segments of the redacted transcripts, the dictionary coding, seconds) for interviews ``ids``."""
    started = time.perf_counter()
    segs = []
    for iid in ids:
        text = read_transcript(corpus / "transcripts" / f"{iid}.txt")
        segs.append(segment_turns(redaction.redact(text)[0], iid))
    segments = pd.concat(segs, ignore_index=True)
    coded = code_segments(segments, book, question_context=question_context)
    return segments, coded, time.perf_counter() - started


def gold_labels(corpus: Path, segments: pd.DataFrame, codes: list[str]) -> pd.DataFrame:
    """The human turn coding of ``gold.csv`` as training labels: every respondent segment x code, value 0/1."""
    gold = pd.read_csv(corpus / "gold.csv", dtype={"interview": str})
    coded = {f"{i}-{int(t):03d}_{c}" for i, t, c in zip(gold["interview"], gold["turn"], gold["code"], strict=True)}
    resp = segments.loc[segments["speaker_role"] == "respondent", ["interview_id", "segment_id"]]
    grid = resp.merge(pd.DataFrame({"code_id": codes}), how="cross")
    grid["value"] = [int(f"{s}_{c}" in coded) for s, c in zip(grid["segment_id"], grid["code_id"], strict=True)]
    return grid


def supervise(
    corpus: Path,
    book: Codebook,
    segments: pd.DataFrame,
    coded: pd.DataFrame,
    question_context: bool,
    part: str,
    fit: dict,
    threshold: float,
    mode: str,
    train_parts: str = TRAIN_PARTS,
) -> tuple[pd.DataFrame, str]:
    """``coded`` combined with the classifier: trained on the whole training side (``train_parts``) and applied
    to ``segments`` (test), or grouped 5-fold out-of-fold on ``segments`` (a training part). Returns (coded,
    shortfall message)."""
    leaves = [c.id for c in book.codes if not book.children(c.id)]
    turns = turn_table(segments, coded, book)
    if mode == "per_code":
        return supervise_per_code(corpus, book, segments, coded, turns, question_context, part, fit, threshold,
                                  train_parts)  # fmt: skip
    if part != "test":
        labels = gold_labels(corpus, segments, leaves)
        proba = grouped_oof(turns, labels, leaves, n_splits=5, **fit)
    else:
        dev_segments, dev_coded, _ = code_corpus(corpus, interview_ids(corpus, train_parts), book, question_context)
        labels = gold_labels(corpus, dev_segments, leaves)
        model = fit_turn_coder(turn_table(dev_segments, dev_coded, book), labels, leaves, **fit)
        proba = predict_proba(model, turns)
    return combine_with_rules(coded, proba, turns, threshold, mode), training_shortfall(labels, leaves)


def supervise_per_code(
    corpus: Path,
    book: Codebook,
    segments: pd.DataFrame,
    coded: pd.DataFrame,
    turns: pd.DataFrame,
    question_context: bool,
    part: str,
    fit: dict,
    threshold: float,
    train_parts: str = TRAIN_PARTS,
) -> tuple[pd.DataFrame, str]:
    """``supervised_mode: per_code`` (tasks/interviews/per_code.py). Test: strategies chosen by grouped 5-fold
    CV on the whole training side (``train_parts``), classifiers fit on it, applied to the test half. A
    training part: nested, so the figure is out of fold: for each of 5 outer folds grouped by interview, the
    strategies are chosen by grouped CV on the other 4 folds only and applied to the held-out fold. The
    message lists each code's choice."""
    leaves = [c.id for c in book.codes if not book.children(c.id)]
    if part != "test":
        labels = gold_labels(corpus, segments, leaves)
        groups = turns["interview_id"].to_numpy()
        out, choices = [], []
        for tr, te in GroupKFold(n_splits=5).split(turns, groups=groups):
            train_ids, test_ids = set(turns.loc[tr, "segment_id"]), set(turns.loc[te, "segment_id"])
            train_labels, train_coded = (
                labels[labels["segment_id"].isin(train_ids)],
                coded[coded["segment_id"].isin(train_ids)],
            )
            model = fit_per_code(turns.iloc[tr].reset_index(drop=True), train_labels, train_coded, leaves,
                                 threshold=threshold, **fit)  # fmt: skip
            held = turns.iloc[te].reset_index(drop=True)
            out.append(apply_per_code(model, coded[coded["segment_id"].isin(test_ids)], held, threshold))
            choices.append(model.strategy())
        table = pd.DataFrame(choices).T
        note = "per-code strategies chosen in the 5 outer folds: " + "; ".join(
            f"{code} {'/'.join(row)}" for code, row in zip(table.index, table.to_numpy().tolist(), strict=True)
        )
        rest = coded[~coded["segment_id"].isin(set(turns["segment_id"]))]
        return pd.concat([*out, rest], ignore_index=True), note
    dev_segments, dev_coded, _ = code_corpus(corpus, interview_ids(corpus, train_parts), book, question_context)
    labels = gold_labels(corpus, dev_segments, leaves)
    model = fit_per_code(turn_table(dev_segments, dev_coded, book), labels, dev_coded, leaves, threshold=threshold,
                         **fit)  # fmt: skip
    print(model.choice.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
    return apply_per_code(model, coded, turns, threshold), training_shortfall(labels, leaves)


def run(
    corpus: Path,
    part: str,
    question_context: bool = False,
    codebook: str = "codebook.yaml",
    which: str = "all",
    supervised: bool = False,
    fit: dict | None = None,
    threshold: float = THRESHOLD,
    mode: str = MODE,
    train_parts: str = TRAIN_PARTS,
) -> dict:
    """Scores on the interviews of ``part`` ("dev", "test", "train", "dev+train" or "all") in set ``which``;
    see the module docstring. ``supervised``: on test, the classifier trained on ``train_parts``; on a
    training part, grouped CV on it."""
    book = load_codebook(corpus / codebook)
    ids = interview_ids(corpus, part, which)
    check_training_side(train_parts)
    if supervised and part != "test":
        check_training_side(part)
    gold = pd.read_csv(corpus / "gold.csv", dtype={"interview": str})
    gold = gold[gold["interview"].isin(ids)]
    names = pd.read_csv(corpus / "names.csv", dtype={"interview": str})
    names = names[names["interview"].isin(ids)]
    segments, coded, seconds = code_corpus(corpus, ids, book, question_context)
    shortfall = ""
    if supervised:
        coded, shortfall = supervise(corpus, book, segments, coded, question_context, part, fit or {}, threshold, mode,
                                     train_parts)  # fmt: skip
    return {"part": part, "seconds": seconds, "shortfall": shortfall, **score(book, ids, gold, names, segments, coded)}


def score(
    book: Codebook, ids: list[str], gold: pd.DataFrame, names: pd.DataFrame, segments: pd.DataFrame, coded: pd.DataFrame
) -> dict:
    """Turn-level scores of ``coded`` against ``gold`` (and name recall in ``segments``) on interviews ``ids``."""
    turn_of = dict(zip(segments["segment_id"], segments["turn"], strict=True))
    coded = coded.assign(turn=coded["segment_id"].map(turn_of))
    if "stance" in coded.columns:
        coded = coded.assign(pred_stance=coded["stance"])
    else:
        coded = coded.assign(pred_stance=coded["negated"].map({True: "inte_krav", False: "krav"}))
    # Turn level: several segments of a turn with one code -> the strongest stance (krav > neutral > inte_krav).
    strength = {"krav": 2, "neutral": 1, "inte_krav": 0}
    coded = coded.assign(_s=coded["pred_stance"].map(strength)).sort_values("_s", ascending=False)
    pred = coded.drop_duplicates(["interview_id", "turn", "code_id"])
    pred_set = {(i, int(t), c): s for i, t, c, s in zip(pred["interview_id"], pred["turn"], pred["code_id"],
                                                        pred["pred_stance"], strict=True)}  # fmt: skip
    gold_set = {(i, int(t), c): s for i, t, c, s in zip(gold["interview"], gold["turn"], gold["code"],
                                                        gold["stance"], strict=True)}  # fmt: skip
    leaves = [c.id for c in book.codes if not book.children(c.id)]
    rows = []
    for code in leaves:
        g = {k for k in gold_set if k[2] == code}
        p = {k for k in pred_set if k[2] == code}
        tp, fp, fn = len(g & p), len(p - g), len(g - p)
        prec = tp / (tp + fp) if tp + fp else float("nan")
        rec = tp / (tp + fn) if tp + fn else float("nan")
        f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")
        rows.append({"code": code, "n_gold": len(g), "tp": tp, "fp": fp, "fn": fn, "precision": prec,
                     "recall": rec, "f1": f1})  # fmt: skip
    per_code = pd.DataFrame(rows)
    tp, fp, fn = per_code[["tp", "fp", "fn"]].sum()
    komp_tp = [k for k in gold_set if k in pred_set and k[2].startswith("KOMP.")]
    komp_gold = [k for k in gold_set if k[2].startswith("KOMP.")]
    stance_ok = sum(gold_set[k] == pred_set[k] for k in komp_tp)
    confusion = pd.crosstab(pd.Series([gold_set[k] for k in komp_tp], name="gold"),
                            pd.Series([pred_set[k] for k in komp_tp], name="predicted"))  # fmt: skip
    found = 0
    seg_text = {(i, int(t)): x for i, t, x in zip(segments["interview_id"], segments["turn"], segments["text"],
                                                  strict=True)}  # fmt: skip
    missed = []
    for iid, turn, name in zip(names["interview"], names["turn"], names["name"], strict=True):
        text = seg_text.get((iid, int(turn)), "")
        if re.search(r"(?<!\w)" + re.escape(name) + r"(?!\w)", text):
            missed.append(f"{iid}:{turn}:{name}")
        else:
            found += 1
    # Demand profile (share of employers whose combined stance is krav): the coder's vs the human coding's.
    employers = pd.DataFrame({"interview_id": ids, "employer_id": ids})
    auto = demand_profile(coded.drop(columns=["turn", "pred_stance", "_s"]), employers, book)
    human_rows = gold[gold["code"].str.startswith("KOMP.")].groupby(["interview", "code"])["stance"].agg(combine)
    human = (human_rows == "krav").groupby(level="code").sum() / len(ids)
    profile = auto[["code_id", "share_employers"]].rename(columns={"share_employers": "auto_share_krav"})
    profile["human_share_krav"] = profile["code_id"].map(human).fillna(0.0)
    return {
        "profile": profile,
        "profile_mae": float((profile["auto_share_krav"] - profile["human_share_krav"]).abs().mean()),
        "interviews": len(ids),
        "per_code": per_code,
        "macro_f1": float(per_code["f1"].mean()),
        "micro_f1": float(2 * tp / (2 * tp + fp + fn)),
        "stance_accuracy": stance_ok / len(komp_tp) if komp_tp else float("nan"),
        "stance_n": len(komp_tp),
        "stance_end_to_end": stance_ok / len(komp_gold) if komp_gold else float("nan"),
        "stance_confusion": confusion,
        "name_recall": found / len(names) if len(names) else float("nan"),
        "names_n": len(names),
        "names_missed": missed,
    }


def _dev_half(corpus: Path, codebook: str, question_context: bool, train_parts: str = TRAIN_PARTS) -> tuple:
    """The training side (``train_parts``: the dev half, or dev + train) coded by the rules: codebook, interview
    ids, leaf codes, gold, an empty names frame, segments, rule codings, the turn table and the gold labels
    (the test half is not read)."""
    check_training_side(train_parts)
    book = load_codebook(corpus / codebook)
    ids = interview_ids(corpus, train_parts)
    leaves = [c.id for c in book.codes if not book.children(c.id)]
    gold = pd.read_csv(corpus / "gold.csv", dtype={"interview": str})
    gold = gold[gold["interview"].isin(ids)]
    names = pd.read_csv(corpus / "names.csv", dtype={"interview": str}).iloc[:0]
    segments, coded, _ = code_corpus(corpus, ids, book, question_context)
    turns, labels = turn_table(segments, coded, book), gold_labels(corpus, segments, leaves)
    return book, ids, leaves, gold, names, segments, coded, turns, labels


def select(corpus: Path, codebook: str, question_context: bool, train_parts: str = TRAIN_PARTS) -> pd.DataFrame:
    """Model selection on the training side only (``train_parts``): macro-/micro-F1 of grouped 5-fold
    out-of-fold predictions for each C x rule_weight x mode x threshold (the test half is not read)."""
    book, ids, leaves, gold, names, segments, coded, turns, labels = _dev_half(corpus, codebook, question_context,
                                                                               train_parts)  # fmt: skip
    rows = [{"c": "rules only", "rule_weight": "", "mode": "", "threshold": "",
             **{k: score(book, ids, gold, names, segments, coded)[k] for k in ("macro_f1", "micro_f1")}}]  # fmt: skip
    for c, weight in itertools.product((1.0, 10.0), (0.5, 1.0)):
        proba = grouped_oof(turns, labels, leaves, n_splits=5, c=c, rule_weight=weight)
        for mode, threshold in itertools.product(MODES, (0.3, 0.4, 0.5, 0.6)):
            r = score(book, ids, gold, names, segments, combine_with_rules(coded, proba, turns, threshold, mode))
            rows.append({"c": c, "rule_weight": weight, "mode": mode, "threshold": threshold,
                         "macro_f1": r["macro_f1"], "micro_f1": r["micro_f1"]})  # fmt: skip
    return pd.DataFrame(rows)


def select_per_code(
    corpus: Path, codebook: str, question_context: bool, threshold: float = THRESHOLD, train_parts: str = TRAIN_PARTS
) -> pd.DataFrame:
    """Nested grouped CV on the training side only (``train_parts``) for the per-code choice rule: for each of
    5 outer folds (by interview) the strategy F1s come from grouped CV on the other 4 folds, and each
    (min_positives, margin) setting's choice is applied to the held-out fold; macro-/micro-F1 of the pooled
    out-of-fold coding."""
    book, ids, leaves, gold, names, segments, coded, turns, labels = _dev_half(corpus, codebook, question_context,
                                                                               train_parts)  # fmt: skip
    grid = list(itertools.product((3, 5, 8), (0.0, 0.02, 0.05)))
    pooled: dict[tuple, list[pd.DataFrame]] = {g: [] for g in grid}
    for tr, te in GroupKFold(n_splits=5).split(turns, groups=turns["interview_id"].to_numpy()):
        train_ids, test_ids = set(turns.loc[tr, "segment_id"]), set(turns.loc[te, "segment_id"])
        t_turns, t_labels = turns.iloc[tr].reset_index(drop=True), labels[labels["segment_id"].isin(train_ids)]
        t_coded = coded[coded["segment_id"].isin(train_ids)]
        scores = per_code_scores(t_turns, t_labels, t_coded, leaves, threshold=threshold)
        model = fit_per_code(t_turns, t_labels, t_coded, leaves, scores=scores)
        held = turns.iloc[te].reset_index(drop=True)
        p_text, p_rules = predict_proba(model.text, held), predict_proba(model.with_rules, held)
        for g in grid:
            choice = choose_strategies(scores, *g)
            strategy = dict(zip(choice["code_id"], choice["strategy"], strict=True))
            pooled[g].append(combine_per_code(coded[coded["segment_id"].isin(test_ids)], p_text, p_rules, held,
                                              strategy, threshold))  # fmt: skip
    rows = [{"min_positives": "rules only", "margin": "",
             **{k: score(book, ids, gold, names, segments, coded)[k] for k in ("macro_f1", "micro_f1")}}]  # fmt: skip
    for g in grid:
        r = score(book, ids, gold, names, segments, pd.concat(pooled[g], ignore_index=True))
        rows.append({"min_positives": g[0], "margin": g[1], "macro_f1": r["macro_f1"], "micro_f1": r["micro_f1"]})
    return pd.DataFrame(rows)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=["test", "dev", "train", "dev+train", "all"], default="test")
    ap.add_argument("--train-parts", choices=["dev", "dev+train"], default=TRAIN_PARTS,
                    help="training side of --supervised and --select (dev+train: + the third set)")  # fmt: skip
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--question-context", action="store_true", help="code_segments(question_context=True)")
    ap.add_argument("--codebook", default="codebook.yaml", help="codebook file in the corpus folder")
    ap.add_argument("--json", action="store_true", help="print the summary figures as JSON")
    ap.add_argument(
        "--set",
        dest="which",
        choices=["all", *SETS],
        default="all",
        help="interviews i01-i24 (first: the original 12-interview test half), i25-i40 (second), i41- (third)",
    )
    ap.add_argument(
        "--supervised",
        action="store_true",
        help="add the classifier (tasks/interviews/classifier.py): trained on dev for --part test, "
        "grouped 5-fold CV for --part dev",
    )
    ap.add_argument(
        "--mode", choices=[*MODES, "per_code"], default=MODE, help="how classifier and rules combine (per_code: "
        "each code's strategy chosen by grouped CV on the training interviews, tasks/interviews/per_code.py)"
    )  # fmt: skip
    ap.add_argument("--threshold", type=float, default=THRESHOLD, help="classifier probability threshold")
    ap.add_argument("--margin", type=float, default=MARGIN, help="per_code: F1 gain a strategy needs over the rules")
    ap.add_argument("--select", action="store_true", help="model selection table on the dev half (grouped CV)")
    args = ap.parse_args()
    if args.select and args.mode == "per_code":
        table = select_per_code(args.corpus, args.codebook, args.question_context, args.threshold, args.train_parts)
        print(f"nested grouped CV on {args.train_parts} (per_code), codebook {args.codebook}, "
              f"question_context={args.question_context}")  # fmt: skip
        print(table.to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        return
    if args.select:
        table = select(args.corpus, args.codebook, args.question_context, args.train_parts)
        print(f"grouped 5-fold CV on {args.train_parts}, codebook {args.codebook}, "
              f"question_context={args.question_context}")  # fmt: skip
        print(table.sort_values("macro_f1", ascending=False).to_string(index=False, float_format=lambda v: f"{v:.3f}"))
        return
    r = run(
        args.corpus,
        args.part,
        args.question_context,
        args.codebook,
        args.which,
        args.supervised,
        fit={"margin": args.margin} if args.mode == "per_code" else None,
        threshold=args.threshold,
        mode=args.mode,
        train_parts=args.train_parts,
    )
    if args.json:
        keys = ["part", "shortfall", "interviews", "macro_f1", "micro_f1", "stance_accuracy", "stance_n",
                "stance_end_to_end", "name_recall", "names_n", "profile_mae", "seconds"]  # fmt: skip
        print(json.dumps({k: r[k] for k in keys}, indent=1))
        return
    print(
        f"coding quality on the {r['part']} half ({r['interviews']} interviews), {platform.node()}, "
        f"question_context={args.question_context}, codebook {args.codebook}, set {args.which}, "
        f"supervised={args.supervised} (mode {args.mode}, threshold {args.threshold}, trained on {args.train_parts})"
    )
    if r["shortfall"]:
        print(f"classifier: {r['shortfall']}")
    print(r["per_code"].to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(f"macro-F1 {r['macro_f1']:.3f}  micro-F1 {r['micro_f1']:.3f}")
    print(f"stance accuracy (KOMP, matched turns) {r['stance_accuracy']:.3f} of {r['stance_n']}; "
          f"end to end (found with the right stance / all gold KOMP turns) {r['stance_end_to_end']:.3f}")  # fmt: skip
    print(r["stance_confusion"].to_string())
    print(r["profile"].to_string(index=False, float_format=lambda v: f"{v:.2f}"))
    print(f"demand profile (share of employers requiring each KOMP code): mean absolute error {r['profile_mae']:.3f}")
    print(f"name-redaction recall {r['name_recall']:.3f} of {r['names_n']}; missed: {r['names_missed']}")
    print(f"redaction + coding time {r['seconds']:.2f} s (the first call loads simplemma's Swedish dictionary)")


if __name__ == "__main__":
    main()
