"""Nearest-neighbour matching on a score (e.g. the logit of the propensity score), within exact strata.

k:1 matching with or without replacement, with a caliper on the score distance:

* with replacement (``ties="all"``, the project's default, as Stata's ``teffects`` and Abadie-Imbens): the k
  nearest controls plus every control as far as the k-th nearest, all weighted equally (1/found);
* with replacement, ``ties="first"``: exactly k (fewer if fewer are within the caliper), the nearest first and,
  among equally near controls, the earliest row; weight 1/found. This is causalml's
  ``NearestNeighborMatch(replace=True)``, up to which of several equally near controls is taken (see
  :func:`match_like_causalml`);
* without replacement: greedy, treated in descending score order (hardest to match first), each takes the
  nearest still unused control (k rounds).

Controls are sorted by (stratum, score, row) with one ``np.sort`` of packed 64-bit keys (exact; see
:mod:`insats.tasks.evaluation.matching_sort`); with replacement only the controls near some treated's score
(found in O(n) with a bucket grid) are sorted. Every treated is located by a search on the packed keys, and runs
of equal scores are taken whole: no Python loop per row. Without replacement, used controls are skipped with
union-find "next free control" pointers. O(n log n) time, O(n) memory, never an n x n matrix. Row indices are
int32 inside (int64 beyond 2**31 rows). Pairs are POSITIONAL (row positions of the arrays given).

``k_nearest``: for variance estimation, the k nearest candidates of each query on the score within its
stratum (e.g. same-arm neighbours for the Abadie-Imbens conditional variance), excluding the query itself.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd

from insats.tasks.evaluation.matching_sort import SortedControls, candidate_controls, sort_controls, stratum_codes

_EMPTY_PAIRS = {"treated_pos": np.int64, "control_pos": np.int64, "weight": float}
Ties = Literal["all", "first"]


def _empty_pairs() -> pd.DataFrame:
    return pd.DataFrame({k: np.array([], dtype=v) for k, v in _EMPTY_PAIRS.items()})


def _ties_rule(ties: bool | str) -> Ties:
    if ties is True or ties == "all":
        return "all"
    if ties is False or ties == "first":
        return "first"
    raise ValueError(f"ties must be 'all' (or True) or 'first' (or False), got {ties!r}")


def nearest_neighbour_match(
    score: np.ndarray,
    treated: np.ndarray,
    stratum: np.ndarray | None,
    caliper: float | None,
    k: int = 1,
    replace: bool = True,
    ties: bool | Ties = "all",
) -> pd.DataFrame:
    """k:1 nearest-neighbour matching on ``score`` within exact ``stratum``, with or without replacement.

    ``score``: n finite floats (e.g. logit of the propensity score); ``treated``: n bools; ``stratum``: n
    integer codes (exact matching; None: one stratum). A control is a candidate for a treated if it is in the
    same stratum and ``|score difference| <= caliper`` (``caliper=None``: no caliper).

    * ``replace=True``, ``ties="all"`` (or True; the default, as Stata's ``teffects`` and Abadie-Imbens): the
      k nearest candidates (fewer if fewer exist) and every candidate as near as the k-th; weight 1/found.
    * ``replace=True``, ``ties="first"`` (or False): exactly the k nearest (fewer if fewer exist), equally
      near candidates taken in row order; weight 1/found.
    * ``replace=False``: greedy, treated in descending ``score`` order (hardest to match first), each takes
      the nearest unused candidate (the lower score on equal distance); with k > 1, k such rounds; weight
      1/found. ``ties`` does not apply.

    Returns positional pairs: ``treated_pos``, ``control_pos`` (int64), ``weight`` (float; the weights of a
    treated sum to 1), sorted by treated then control; treated without a match do not appear.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    rule = _ties_rule(ties)
    caliper = np.inf if caliper is None else float(caliper)
    score = np.asarray(score, dtype=float)
    treated = np.asarray(treated, dtype=bool)
    stratum = None if stratum is None else np.asarray(stratum, dtype=np.int64)
    if score.ndim != 1 or treated.shape != score.shape or (stratum is not None and stratum.shape != score.shape):
        raise ValueError(
            f"score, treated and stratum must be 1-d arrays of one length, got {score.shape}, "
            f"{treated.shape}, {None if stratum is None else stratum.shape}"
        )
    lo, hi = (float(score.min()), float(score.max())) if score.size else (0.0, 0.0)
    if not (np.isfinite(lo) and np.isfinite(hi)):
        bad = np.flatnonzero(~np.isfinite(score))
        raise ValueError(f"score must be finite; rows {bad[:5].tolist()} ({bad.size} in all) are NaN or inf")
    idx_type = np.int32 if score.size < 2**31 else np.int64
    trt = np.flatnonzero(treated).astype(idx_type)
    if trt.size in (0, score.size):
        return _empty_pairs()
    code, n_codes = stratum_codes(stratum)
    t_score, t_code = score[trt], None if code is None else code[trt]
    if replace:  # only the controls near some treated's score can be matched: sort those
        ctrl = candidate_controls(score, code, n_codes, trt, k, lo, hi).astype(idx_type)
    else:
        ctrl = np.flatnonzero(~treated).astype(idx_type)
    if ctrl.size == 0:
        return _empty_pairs()
    c = sort_controls(score, code, ctrl, (n_codes - 1).bit_length())
    s_lo, s_hi = c.stratum_bounds(t_code, trt.size)  # the controls in the treated's stratum: [s_lo, s_hi)
    pos = c.locate(t_score, t_code, "left", s_lo, s_hi)  # the first control with a score >= the treated's
    if not replace:
        t, cp, w = _greedy_without_replacement(c, t_score, s_lo, s_hi, pos, caliper, k)
    else:
        t, cp, w = _nearest_runs(c, t_score, t_code, s_lo, s_hi, pos, caliper, k, keep_all=rule == "all")
        if rule == "first" and t.size:
            t, cp, w = _first_k(t, cp, t_score, c, k)
    if t.size == 0:
        return _empty_pairs()
    t_pos, c_pos = trt[t].astype(np.int64), c.rows(cp).astype(np.int64)
    order = np.lexsort((c_pos, t_pos))
    return pd.DataFrame({"treated_pos": t_pos[order], "control_pos": c_pos[order], "weight": w[order]})


def match_like_causalml(
    score: np.ndarray,
    treated: np.ndarray,
    stratum: np.ndarray | None = None,
    caliper: float = 0.2,
    ratio: int = 1,
) -> pd.DataFrame:
    """Matching with replacement configured as causalml's ``NearestNeighborMatch(replace=True, ratio=ratio,
    caliper=caliper)`` on one score column (``match_by_group`` on ``stratum`` when given).

    causalml (0.18.0, ``causalml/match.py``) standardises the score with a ``StandardScaler`` fitted on all
    rows (of the group: mean, SD with ddof 0; SD 0 counts as 1), takes the ``ratio`` nearest controls of every
    treated from scikit-learn's ``NearestNeighbors`` and keeps each whose standardised distance is strictly
    below ``caliper``. Here: the same standardisation per stratum, the caliper made strict
    (``np.nextafter``), and ``nearest_neighbour_match(ties="first", k=ratio)``. The pairs are causalml's,
    except which of several controls with bit-identical scores is taken: scikit-learn's KD-tree takes the
    first it visits, an order set by ``std::nth_element`` inside its leaves; here the earliest row.
    Returns positional pairs as :func:`nearest_neighbour_match`.
    """
    score = np.asarray(score, dtype=float)
    stratum = None if stratum is None else np.asarray(stratum, dtype=np.int64)
    code = stratum_codes(stratum)[0]
    if code is None:
        z = score - score.mean()
        sd = float(np.sqrt(np.dot(z, z) / max(z.size, 1)))
        z /= sd if sd > 0 else 1.0
    else:
        count = np.maximum(np.bincount(code).astype(float), 1.0)
        mean = np.bincount(code, weights=score) / count
        dev = score - mean[code]
        sd = np.sqrt(np.bincount(code, weights=dev * dev) / count)
        sd[sd == 0] = 1.0
        z = dev / sd[code]
    strict = float(np.nextafter(float(caliper), 0.0))
    return nearest_neighbour_match(z, treated, stratum, strict, k=ratio, replace=True, ties="first")


def _nearest_runs(
    c: SortedControls,
    t_score: np.ndarray,
    t_code: np.ndarray | None,
    s_lo: np.ndarray,
    s_hi: np.ndarray,
    pos: np.ndarray,
    caliper: float,
    k: int,
    keep_all: bool = True,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """With replacement, ties kept: for every treated, runs of equal control scores taken whole in order of
    distance (both sides when equally far) until at least k controls; for k > 1 also further runs exactly as
    far as the k-th. Returns (treated index, sorted control index, weight 1/found) per pair. Without
    ``keep_all`` (for ``ties="first"``): only the first k rows of each run, no further runs after k."""
    m = t_score.size
    left, right = pos.astype(np.int64), pos.astype(np.int64)  # next run ends before left / starts at right
    found = np.zeros(m, dtype=np.int64)
    kth = np.full(m, np.inf)
    runs: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    live = np.arange(m)
    while live.size:
        le, ri, ts = left[live], right[live], t_score[live]
        d_left = np.where(le > s_lo[live], ts - c.score[np.maximum(le - 1, 0)], np.inf)
        d_right = np.where(ri < s_hi[live], c.score[np.minimum(ri, c.score.size - 1)] - ts, np.inf)
        best = np.minimum(d_left, d_right)
        ok = np.isfinite(best) & (best <= caliper)
        extra = found[live] >= k  # k reached: only runs exactly as far as the k-th (k > 1, as Stata)
        ok &= ~extra | (best == kth[live])
        for side in ("left", "right"):
            take = ok & ((d_left if side == "left" else d_right) == best)
            i = live[take]
            if side == "left":
                end = le[take]
                start = c.locate(c.score[end - 1], None if t_code is None else t_code[i], "left", s_lo[i], end)
                left[i] = start
            else:
                start = ri[take]
                end = c.locate(c.score[start], None if t_code is None else t_code[i], "right", start, s_hi[i])
                right[i] = end
            runs.append((i, start, end - start))
            found[i] += end - start
        newly = ok & ~extra & (found[live] >= k)
        kth[live[newly]] = best[newly]
        live = live[ok & ~newly] if k == 1 or not keep_all else live[ok]
    which = np.concatenate([r[0] for r in runs])
    starts = np.concatenate([r[1] for r in runs])
    counts = np.concatenate([r[2] for r in runs])
    if not keep_all:
        counts = np.minimum(counts, k)  # a run is in row order: its first k rows are all "first" can take
    rep = np.repeat(which, counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    ctrl = np.repeat(starts, counts) + offsets
    return rep, ctrl, 1.0 / found[rep]


def _first_k(
    t: np.ndarray, cs: np.ndarray, t_score: np.ndarray, c: SortedControls, k: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """From pairs with ties kept, the first k of every treated by (distance, control row), weight 1/found."""
    order = np.lexsort((c.rows(cs), np.abs(t_score[t] - c.score[cs]), t))
    t, cs = t[order], cs[order]
    first = np.r_[0, np.flatnonzero(t[1:] != t[:-1]) + 1]
    rank = np.arange(t.size) - np.repeat(first, np.diff(np.r_[first, t.size]))
    keep = rank < k
    t, cs = t[keep], cs[keep]
    found = np.bincount(t, minlength=t_score.size)
    return t, cs, 1.0 / found[t]


def _find(parent: list[int], i: int) -> int:
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:
        parent[i], i = root, parent[i]
    return root


def _greedy_without_replacement(
    c: SortedControls,
    t_score: np.ndarray,
    s_lo: np.ndarray,
    s_hi: np.ndarray,
    pos: np.ndarray,
    caliper: float,
    k: int,
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Greedy matching without replacement. ``left[j + 1]`` leads to the nearest unused control at or left of
    sorted position j (0 = none); ``right[j]`` to the nearest unused at or right of j (n = none). Returns
    (treated index, sorted control index, weight 1/found) per pair."""
    n = c.score.size
    left_parent = list(range(n + 1))
    right_parent = list(range(n + 1))
    cs = c.score.tolist()
    lo, hi, ps, ts = s_lo.tolist(), s_hi.tolist(), pos.tolist(), t_score.tolist()
    active = [int(i) for i in np.argsort(-t_score, kind="stable")]
    got_t: list[int] = []
    got_c: list[int] = []
    for _ in range(k):
        still = []
        for i in active:
            j_left = _find(left_parent, ps[i]) - 1  # nearest unused at or left of pos - 1
            j_right = _find(right_parent, ps[i])
            d_left = ts[i] - cs[j_left] if j_left >= lo[i] else np.inf
            d_right = cs[j_right] - ts[i] if j_right < hi[i] else np.inf
            if d_left <= d_right:
                best, j = d_left, j_left
            else:
                best, j = d_right, j_right
            if best <= caliper and np.isfinite(best):
                got_t.append(i)
                got_c.append(j)
                left_parent[j + 1] = j
                right_parent[j] = j + 1
                still.append(i)
        active = still
    which = np.asarray(got_t, dtype=np.int64)
    found = np.bincount(which, minlength=t_score.size)
    return which, np.asarray(got_c, dtype=np.int64), 1.0 / found[which]


def k_nearest(score: np.ndarray, stratum: np.ndarray, query: np.ndarray, candidate: np.ndarray, k: int) -> np.ndarray:
    """The ``k`` nearest candidates on ``score`` of every query row, within its ``stratum``, never itself.

    ``score``: n floats; ``stratum``: n integer codes; ``query``, ``candidate``: n bools. Returns an int64
    array (number of queries x k) of row positions, in order of distance (the left one first on equal
    distance), -1 where the stratum has fewer than k other candidates. O(n log n + n k)."""
    score = np.asarray(score, dtype=float)
    _, strat = np.unique(np.asarray(stratum), return_inverse=True)
    q = np.flatnonzero(query)
    cand = np.flatnonzero(candidate)
    out = np.full((q.size, k), -1, dtype=np.int64)
    if cand.size == 0 or q.size == 0:
        return out
    offset = float(score.max() - score.min()) + 1.0
    key = strat * offset + (score - score.min())
    order = cand[np.lexsort((cand, key[cand]))]
    c_key, c_strat, c_score = key[order], strat[order], score[order]
    lo = np.searchsorted(c_strat, strat[q], side="left")
    hi = np.searchsorted(c_strat, strat[q], side="right")
    # A query that is itself a candidate sits at its own sorted position; skip it on both sides.
    own = np.full(score.size, -1, dtype=np.int64)
    own[order] = np.arange(order.size)
    left = np.where(own[q] >= 0, own[q] - 1, np.searchsorted(c_key, key[q], side="left") - 1)
    right = np.where(own[q] >= 0, own[q] + 1, left + 1)
    qs = score[q]
    for j in range(k):
        d_left = np.where(left >= lo, qs - c_score[np.clip(left, 0, None)], np.inf)
        d_right = np.where(right < hi, c_score[np.clip(right, None, c_score.size - 1)] - qs, np.inf)
        take_left = d_left <= d_right
        found = np.isfinite(np.minimum(d_left, d_right))
        nearest = np.where(take_left, np.clip(left, 0, None), np.clip(right, None, order.size - 1))
        out[:, j] = np.where(found, order[nearest], -1)
        left = np.where(found & take_left, left - 1, left)
        right = np.where(found & ~take_left, right + 1, right)
    return out
