"""Matching with replacement: the project's matching against causalml's ``NearestNeighborMatch``, configured
alike (issue #14 item 3), at 1M+ rows, with and without exact strata.

Fairness rules
--------------
* Same inputs: one seeded design (``make_design``): discrete register-like covariates (age, sex, born abroad,
  education, months on assistance, months employed), a logit score from fixed random coefficients (standing in
  for a fitted propensity score; discrete covariates give many exactly tied scores, as the register does),
  treatment drawn from it (about 1 % treated), a calendar month 0-59. Both get the same float64 score, the same
  treated flags and, with ``--strata month``, the same month column. ``--continuous`` adds N(0, 0.05) noise to
  the score, so that no two scores tie.
* Same configuration: 1:``ratio`` nearest neighbour on the score, with replacement, treated matched to
  controls, caliper ``--caliper`` SDs of the score standardised over all rows (per month with strata), strict
  ``<``: causalml's own rule (``StandardScaler``, ``distances < caliper``). causalml:
  ``NearestNeighborMatch(caliper, replace=True, ratio, shuffle=False)`` with ``match`` (or ``match_by_group``
  on month); ours: ``match_like_causalml`` (which calls ``nearest_neighbour_match(ties="first")``). Both
  return one control per treated and ratio; the project's default (``ties="all"``, caliper in pooled SDs of
  the score) is timed too but is a different configuration, so it is not a ratio to causalml.
* Same outputs produced: the (treated row, control row) pairs. causalml also builds the matched data frame its
  ``match`` returns (it always does); ours returns the pairs as a data frame. Compared after the clock: the
  same treated matched, the same distance to the control pair by pair, and the share of identical pairs
  (among equally near controls scikit-learn's KD-tree takes the first it visits, ours the earliest row, so
  identity is expected only with ``--continuous``, where no two distances tie).
* What is timed: the call alone, from the data in memory to the pairs (causalml: on a DataFrame with columns
  treated, score[, month]; ours: on the numpy arrays). Generating the data, imports and the comparison are
  outside the clock.
* Warm vs cold: one untimed warm-up call of each first (imports, allocations, scikit-learn's thread pool);
  then ``--repeats`` timed calls of each, alternating ours and causalml so that both see the same machine
  load; the median is reported (with min and max), and the ratio of medians.
* Threads: causalml with its default ``n_jobs=-1`` (both cores, for the neighbour search); ours is
  single-threaded numpy. The ratio is therefore, if anything, unfavourable to ours.
* Machine: the 1-minute load average (``os.getloadavg``) is printed before and after every configuration.

Usage: ``python benchmarks/matching_peers.py --rows 1000000 1800000 --strata none month [--continuous]``.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from insats.tasks.evaluation.matching import match_like_causalml, nearest_neighbour_match  # noqa: E402


def make_design(rows: int, seed: int, continuous: bool = False) -> pd.DataFrame:
    """``rows`` person-months: treated (0/1), score (logit), month (0-59)."""
    rng = np.random.default_rng(seed)
    levels = {"age": 47, "female": 2, "born_abroad": 2, "education": 4, "asst_months": 13, "employed_months": 13}
    coef = np.random.default_rng(seed + 1)
    score = np.full(rows, -4.3)
    for n_levels in levels.values():
        effect = coef.normal(0.0, 0.25, n_levels)  # one coefficient per level, as dummies
        score += effect[rng.integers(0, n_levels, rows)]
    if continuous:
        score += rng.normal(0.0, 0.05, rows)
    treated = (rng.random(rows) < 1.0 / (1.0 + np.exp(-score))).astype(np.int64)
    return pd.DataFrame({"treated": treated, "score": score, "month": rng.integers(0, 60, rows)})


def _causalml_pairs(data: pd.DataFrame, strata: bool, caliper: float, ratio: int) -> pd.DataFrame:
    """causalml's pairs; with strata, ``match_by_group`` with each group's ``matched_indexes_`` recorded (the
    attribute keeps only the last group's)."""
    from causalml.match import NearestNeighborMatch

    matcher = NearestNeighborMatch(caliper=caliper, replace=True, ratio=ratio, shuffle=False, random_state=0)
    if not strata:
        matcher.match(data, "treated", ["score"])
        return matcher.matched_indexes_
    found: list[pd.DataFrame] = []
    match = matcher.match

    def recording(*args, **kwargs):  # type: ignore[no-untyped-def]
        out = match(*args, **kwargs)
        found.append(matcher.matched_indexes_)
        return out

    matcher.match = recording  # type: ignore[method-assign]
    matcher.match_by_group(data, "treated", ["score"], "month")
    return pd.concat(found, ignore_index=True)


def _compare(ours: pd.DataFrame, theirs: pd.DataFrame, score: np.ndarray) -> dict:
    """Same treated; the same distance to the control pair by pair (an equally near control may be another row:
    equal score, or the mirror score on the other side); and the share of identical pairs."""
    a = ours[["treated_pos", "control_pos"]].to_numpy(np.int64)
    b = theirs[["from", "to"]].to_numpy(np.int64)

    def distances(p: np.ndarray) -> np.ndarray:
        d = np.round(np.abs(score[p[:, 0]] - score[p[:, 1]]), 9)
        order = np.lexsort((d, p[:, 0]))
        return np.column_stack([p[order, 0], d[order]])

    return {
        "pairs_ours": len(a),
        "pairs_causalml": len(b),
        "same_treated": bool(np.array_equal(np.unique(a[:, 0]), np.unique(b[:, 0]))),
        "same_distances": bool(a.shape == b.shape and np.array_equal(distances(a), distances(b))),
        "identical_pairs_share": float(len({*map(tuple, a)} & {*map(tuple, b)}) / max(len(b), 1)),
    }


def _timed(fn) -> tuple[float, object]:  # type: ignore[no-untyped-def]
    t0 = time.perf_counter()
    out = fn()
    return time.perf_counter() - t0, out


def run(rows: int, strata: bool, args: argparse.Namespace) -> dict:
    data = make_design(rows, args.seed, args.continuous)
    score, treated = data["score"].to_numpy(), data["treated"].to_numpy() == 1
    stratum = data["month"].to_numpy() if strata else np.zeros(rows, np.int64)
    pooled_sd = float(np.sqrt((score[treated].var() + score[~treated].var()) / 2))

    def ours():  # type: ignore[no-untyped-def]
        return match_like_causalml(score, treated, stratum if strata else None, args.caliper, args.ratio)

    def theirs():  # type: ignore[no-untyped-def]
        return _causalml_pairs(data, strata, args.caliper, args.ratio)

    def project_default():  # type: ignore[no-untyped-def]
        return nearest_neighbour_match(score, treated, stratum, args.caliper * pooled_sd, k=args.ratio, ties="all")

    load_before = os.getloadavg()[0]
    ours(), theirs(), project_default()  # warm-up, untimed
    t_ours, t_theirs, t_default = [], [], []
    for _ in range(args.repeats):
        s, p_ours = _timed(ours)
        t_ours.append(s)
        s, p_theirs = _timed(theirs)
        t_theirs.append(s)
        s, p_default = _timed(project_default)
        t_default.append(s)
    med_ours, med_theirs = statistics.median(t_ours), statistics.median(t_theirs)
    return {
        "rows": rows,
        "treated": int(treated.sum()),
        "strata": "month" if strata else "none",
        "continuous": args.continuous,
        "ratio_k": args.ratio,
        "ours_s": [round(med_ours, 4), round(min(t_ours), 4), round(max(t_ours), 4)],
        "causalml_s": [round(med_theirs, 3), round(min(t_theirs), 3), round(max(t_theirs), 3)],
        "speedup": round(med_theirs / med_ours, 1),
        "project_default_ties_all_s": round(statistics.median(t_default), 4),
        "project_default_pairs": len(p_default),
        **_compare(p_ours, p_theirs, score),
        "load_before": round(load_before, 2),
        "load_after": round(os.getloadavg()[0], 2),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--rows", type=int, nargs="+", default=[1_000_000, 1_800_000])
    parser.add_argument("--strata", nargs="+", choices=["none", "month"], default=["none", "month"])
    parser.add_argument("--continuous", action="store_true", help="add noise to the score: no tied scores")
    parser.add_argument("--caliper", type=float, default=0.2, help="in SDs of the score (causalml's rule)")
    parser.add_argument("--ratio", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args()
    for rows in args.rows:
        for strata in args.strata:
            print(json.dumps(run(rows, strata == "month", args)), flush=True)


if __name__ == "__main__":
    main()
