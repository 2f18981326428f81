"""Nearest-neighbour matching on a score (e.g. the logit of the propensity score), within exact strata.

k:1 matching with or without replacement, with a caliper on the score distance:

* with replacement, 1:1: controls tied at the nearest distance share the match (weights 1/ties, as in
  Abadie-Imbens);
* with replacement, k > 1: the k nearest, weight 1/k each (1/found when fewer exist); with ``ties=True``
  (Stata's ``teffects``) every control at the k-th nearest distance is kept too, all weighted equally;
* without replacement: greedy, treated in descending score order (hardest to match first), each takes the
  nearest still unused control (k rounds).

Controls are sorted once by (stratum, score) and every treated is located with ``np.searchsorted``; without
replacement, used controls are skipped with union-find "next free control" pointers. O(n log n) time, O(n)
memory, never an n x n matrix. Pairs are POSITIONAL (row positions of the arrays given).

``k_nearest``: for variance estimation, the k nearest candidates of each query on the score within its
stratum (e.g. same-arm neighbours for the Abadie-Imbens conditional variance), excluding the query itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

_EMPTY_PAIRS = {"treated_pos": np.int64, "control_pos": np.int64, "weight": float}


def _empty_pairs() -> pd.DataFrame:
    return pd.DataFrame({k: np.array([], dtype=v) for k, v in _EMPTY_PAIRS.items()})


def nearest_neighbour_match(
    score: np.ndarray,
    treated: np.ndarray,
    stratum: np.ndarray,
    caliper: float | None,
    k: int = 1,
    replace: bool = True,
    ties: bool = True,
) -> pd.DataFrame:
    """k:1 nearest-neighbour matching on ``score`` within exact ``stratum``, with or without replacement.

    ``score``: float array (e.g. logit of the propensity score); ``treated``: bool array; ``stratum``:
    integer codes (exact matching). A control is a candidate for a treated if it is in the same stratum and
    ``|score difference| <= caliper`` (``caliper=None``: no caliper).

    * ``replace=True, k=1``: the nearest candidate; with ``ties`` (default, as Stata's ``teffects`` and
      Abadie-Imbens) candidates tied at that distance share the match (weight 1/ties); without, one of them.
    * ``replace=True, k>1``: the k nearest candidates (fewer if fewer exist), weight 1/found each; with
      ``ties`` also every candidate at the k-th nearest distance.
    * ``replace=False``: greedy, treated in descending ``score`` order (hardest to match first), each takes
      the nearest unused candidate; with k > 1, k such rounds; weight 1/found.

    Returns positional pairs: ``treated_pos``, ``control_pos`` (int64), ``weight`` (float; the weights of a
    treated sum to 1), sorted by treated then control; treated without a match do not appear.
    Controls are sorted once by (stratum, score) and every treated is located with ``np.searchsorted``;
    without replacement, used controls are skipped with union-find pointers. O(n log n) time, O(n) memory.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    caliper = np.inf if caliper is None else float(caliper)
    score = np.asarray(score, dtype=float)
    treated = np.asarray(treated, dtype=bool)
    stratum = np.asarray(stratum, dtype=np.int64)
    ctrl = np.flatnonzero(~treated)
    trt = np.flatnonzero(treated)
    if ctrl.size == 0 or trt.size == 0:
        return _empty_pairs()
    # Composite sort key: strata far apart (offset > score range), scores ordered inside each stratum.
    lo_score = float(score.min())
    finite_caliper = caliper if np.isfinite(caliper) else 0.0
    offset = float(score.max() - lo_score) + 2.0 * abs(finite_caliper) + 1.0
    _, strat_code = np.unique(stratum, return_inverse=True)
    key = strat_code * offset + (score - lo_score)
    order = ctrl[np.argsort(key[ctrl], kind="stable")]
    sorted_ctrl = _SortedControls(order, key[order], score[order], strat_code[order])
    t_strat = strat_code[trt]
    s_lo = np.searchsorted(sorted_ctrl.strat, t_strat, side="left")  # this stratum's controls: [s_lo, s_hi)
    s_hi = np.searchsorted(sorted_ctrl.strat, t_strat, side="right")
    pos = np.searchsorted(sorted_ctrl.key, key[trt], side="left")
    if not replace:
        pairs = _greedy_without_replacement(sorted_ctrl, trt, score[trt], s_lo, s_hi, pos, caliper, k)
    elif k == 1 and ties:
        pairs = _nearest_with_ties(sorted_ctrl, trt, score[trt], s_lo, s_hi, pos, caliper)
    else:
        pairs = _k_nearest(sorted_ctrl, trt, score[trt], s_lo, s_hi, pos, caliper, k, ties)
    if pairs.empty:
        return _empty_pairs()
    t, c, w = (pairs[col].to_numpy() for col in ("treated_pos", "control_pos", "weight"))
    order = np.lexsort((c, t))
    return pd.DataFrame({"treated_pos": t[order], "control_pos": c[order], "weight": w[order]})


@dataclass
class _SortedControls:
    order: np.ndarray  # positions of the controls in sorted order
    key: np.ndarray
    score: np.ndarray
    strat: np.ndarray


def _nearest_with_ties(
    c: _SortedControls,
    trt: np.ndarray,
    t_score: np.ndarray,
    s_lo: np.ndarray,
    s_hi: np.ndarray,
    pos: np.ndarray,
    caliper: float,
) -> pd.DataFrame:
    left, right = pos - 1, pos
    has_left, has_right = left >= s_lo, right < s_hi
    d_left = np.where(has_left, t_score - c.score[np.clip(left, 0, None)], np.inf)
    d_right = np.where(has_right, c.score[np.clip(right, None, c.score.size - 1)] - t_score, np.inf)
    best = np.minimum(d_left, d_right)
    ok = np.isfinite(best) & (best <= caliper)
    t_left = np.flatnonzero(ok & (d_left == best))
    t_right = np.flatnonzero(ok & (d_right == best))

    # Each nearest side may be a run of identical scores: [start, end) in the sorted controls.
    def run_bounds(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = c.key[idx]
        return np.searchsorted(c.key, k, side="left"), np.searchsorted(c.key, k, side="right")

    l_start, l_end = run_bounds(left[t_left])
    r_start, r_end = run_bounds(right[t_right])
    which = np.concatenate([t_left, t_right])
    starts = np.concatenate([l_start, r_start])
    counts = np.concatenate([l_end - l_start, r_end - r_start])
    if which.size == 0:
        return _empty_pairs()
    k_total = np.bincount(which, weights=counts, minlength=trt.size)
    rep_t = np.repeat(which, counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    ctrl_sorted_pos = np.repeat(starts, counts) + offsets
    return pd.DataFrame(
        {"treated_pos": trt[rep_t], "control_pos": c.order[ctrl_sorted_pos], "weight": 1.0 / k_total[rep_t]}
    )


def _k_nearest(
    c: _SortedControls,
    trt: np.ndarray,
    t_score: np.ndarray,
    s_lo: np.ndarray,
    s_hi: np.ndarray,
    pos: np.ndarray,
    caliper: float,
    k: int,
    ties: bool = False,
) -> pd.DataFrame:
    """k rounds of "take the nearer of the next control on the left and on the right", vectorised; with
    ``ties``, further rounds while the next control is exactly as far as the k-th."""
    left, right = pos - 1, pos.copy()
    active = np.ones(trt.size, dtype=bool)
    got_t, got_c = [], []
    kth = np.full(trt.size, np.inf)
    rounds = 0
    while active.any() and (rounds < k or ties):
        d_left = np.where(left >= s_lo, t_score - c.score[np.clip(left, 0, None)], np.inf)
        d_right = np.where(right < s_hi, c.score[np.clip(right, None, c.score.size - 1)] - t_score, np.inf)
        take_left = d_left <= d_right
        best = np.where(take_left, d_left, d_right)
        ok = active & np.isfinite(best) & (best <= caliper)
        if rounds >= k:  # tie rounds: only controls exactly as far as the k-th nearest
            ok &= best == kth
        elif rounds == k - 1:
            kth = np.where(ok, best, np.inf)
        rounds += 1
        idx = np.flatnonzero(ok)
        chosen = np.where(take_left[idx], left[idx], right[idx])
        got_t.append(idx)
        got_c.append(chosen)
        left = np.where(ok & take_left, left - 1, left)
        right = np.where(ok & ~take_left, right + 1, right)
        active = ok
    which = np.concatenate(got_t)
    if which.size == 0:
        return _empty_pairs()
    found = np.bincount(which, minlength=trt.size)
    return pd.DataFrame(
        {"treated_pos": trt[which], "control_pos": c.order[np.concatenate(got_c)], "weight": 1.0 / found[which]}
    )


def _find(parent: list[int], i: int) -> int:
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:
        parent[i], i = root, parent[i]
    return root


def _greedy_without_replacement(
    c: _SortedControls,
    trt: np.ndarray,
    t_score: np.ndarray,
    s_lo: np.ndarray,
    s_hi: np.ndarray,
    pos: np.ndarray,
    caliper: float,
    k: int,
) -> pd.DataFrame:
    """Greedy matching without replacement. ``left[j + 1]`` leads to the nearest unused control at or left of
    sorted position j (0 = none); ``right[j]`` to the nearest unused at or right of j (n = none)."""
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
    if not got_t:
        return _empty_pairs()
    which = np.asarray(got_t, dtype=np.int64)
    found = np.bincount(which, minlength=trt.size)
    return pd.DataFrame(
        {
            "treated_pos": trt[which],
            "control_pos": c.order[np.asarray(got_c, dtype=np.int64)],
            "weight": 1.0 / found[which],
        }
    )


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
