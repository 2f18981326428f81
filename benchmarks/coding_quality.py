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

Usage: ``python benchmarks/coding_quality.py [--part test|dev|all] [--corpus DIR] [--json]``
"""

from __future__ import annotations

import argparse
import json
import platform
import re
import time
from pathlib import Path

import pandas as pd

from insats.tasks.interviews import redaction
from insats.tasks.interviews.codebook import load_codebook
from insats.tasks.interviews.coding import code_segments
from insats.tasks.interviews.profile import demand_profile
from insats.tasks.interviews.stance import combine
from insats.tasks.interviews.transcripts import read_transcript, segment_turns

CORPUS = Path(__file__).resolve().parent / "coding_corpus"


def run(corpus: Path, part: str, question_context: bool = False, codebook: str = "codebook.yaml") -> dict:
    """Scores on the interviews of ``part`` ("dev", "test" or "all"); see the module docstring."""
    book = load_codebook(corpus / codebook)
    split = pd.read_csv(corpus / "split.csv", dtype=str)
    ids = sorted(split["interview"] if part == "all" else split.loc[split["part"] == part, "interview"])
    gold = pd.read_csv(corpus / "gold.csv", dtype={"interview": str})
    gold = gold[gold["interview"].isin(ids)]
    names = pd.read_csv(corpus / "names.csv", dtype={"interview": str})
    names = names[names["interview"].isin(ids)]
    segs = []
    started = time.perf_counter()
    for iid in ids:
        text = read_transcript(corpus / "transcripts" / f"{iid}.txt")
        redacted = redaction.redact(text)[0]
        segs.append(segment_turns(redacted, iid))
    segments = pd.concat(segs, ignore_index=True)
    coded = code_segments(segments, book, question_context=question_context)
    seconds = time.perf_counter() - started
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
        "part": part,
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
        "seconds": seconds,
    }


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--part", choices=["test", "dev", "all"], default="test")
    ap.add_argument("--corpus", type=Path, default=CORPUS)
    ap.add_argument("--question-context", action="store_true", help="code_segments(question_context=True)")
    ap.add_argument("--codebook", default="codebook.yaml", help="codebook file in the corpus folder")
    ap.add_argument("--json", action="store_true", help="print the summary figures as JSON")
    args = ap.parse_args()
    r = run(args.corpus, args.part, args.question_context, args.codebook)
    if args.json:
        keys = ["part", "interviews", "macro_f1", "micro_f1", "stance_accuracy", "stance_n", "stance_end_to_end",
                "name_recall", "names_n", "profile_mae", "seconds"]  # fmt: skip
        print(json.dumps({k: r[k] for k in keys}, indent=1))
        return
    print(
        f"coding quality on the {r['part']} half ({r['interviews']} interviews), {platform.node()}, "
        f"question_context={args.question_context}, codebook {args.codebook}"
    )
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
