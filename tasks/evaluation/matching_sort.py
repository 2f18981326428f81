"""Sorting the controls for nearest-neighbour matching (:mod:`insats.tasks.evaluation.matching`): by (stratum,
score, row) with one ``np.sort`` of packed 64-bit keys, exact; a vectorised binary search within strata; and, with
replacement, the subset of controls near some treated's score (so that only those are sorted).

Packed key (uint64): stratum code << (frac_bits + idx_bits) | fixed-point score << idx_bits | control index. The
fixed-point score, floor((score - lo) * 2**frac_bits / (hi - lo)), is monotone in the score but may be equal for
distinct scores; inside such groups the exact order is restored by ``np.lexsort``. Equal scores stay in row order.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

BUCKET_SIZE = 4  # controls per bucket, on average, when selecting the controls near some treated
MIN_FRAC_BITS = 16  # fewer bits left for the score in a packed 64-bit key: sort with np.lexsort instead


@dataclass
class SortedControls:
    """The controls sorted by (stratum, score, row), with the packed keys they were sorted by."""

    ctrl: np.ndarray  # row positions of the controls, ascending
    local: np.ndarray  # sorted position -> index into ctrl
    score: np.ndarray  # scores in sorted order
    key: np.ndarray  # sorted uint64 keys: stratum code << shift | fixed-point score << idx_bits | index
    shift: int
    idx_bits: int
    lo: float = 0.0  # fixed-point score = min(floor((score - lo) * scale), top); scale None: no such part
    scale: float | None = None
    top: int = 0

    def rows(self, j: np.ndarray) -> np.ndarray:
        return self.ctrl[self.local[j]]

    def stratum_bounds(self, t_code: np.ndarray | None, m: int) -> tuple[np.ndarray, np.ndarray]:
        """[lo, hi): the sorted positions of the controls in the stratum of each of m treated."""
        if t_code is None:
            return np.zeros(m, np.int64), np.full(m, self.score.size, np.int64)
        first = t_code.astype(np.uint64) << np.uint64(self.shift)
        lo = np.searchsorted(self.key, first, side="left")
        hi = np.searchsorted(self.key, first | np.uint64((1 << self.shift) - 1), side="right")
        return lo, hi

    def locate(
        self, x: np.ndarray, code: np.ndarray | None, side: str, s_lo: np.ndarray, s_hi: np.ndarray
    ) -> np.ndarray:
        """For each i, the first sorted position in [s_lo_i, s_hi_i) (stratum code_i) with a score >= x_i (side
        "left") or > x_i ("right"), else s_hi_i. Found by the fixed-point key, then exactly among the controls
        sharing x_i's fixed-point value."""
        if self.scale is None:
            return segment_search(self.score, s_lo, s_hi, x, side)
        f = np.clip((x - self.lo) * self.scale, 0.0, float(self.top))
        prefix = np.minimum(f.astype(np.uint64), np.uint64(self.top)) << np.uint64(self.idx_bits)
        if code is not None:
            prefix |= code.astype(np.uint64) << np.uint64(self.shift)
        g_lo = np.searchsorted(self.key, prefix, side="left")
        g_hi = np.searchsorted(self.key, prefix | np.uint64((1 << self.idx_bits) - 1), side="right")
        return segment_search(self.score, g_lo, g_hi, x, side)


def stratum_codes(stratum: np.ndarray | None) -> tuple[np.ndarray | None, int]:
    """Codes 0.. for the strata (order-preserving when their range is small) and how many codes (every code
    is below it); None, 1 for a single stratum."""
    if stratum is None or stratum.size == 0:
        return None, 1
    lo, hi = int(stratum.min()), int(stratum.max())
    if hi == lo:
        return None, 1
    if hi - lo < 2**20:
        return stratum - lo, hi - lo + 1
    code = pd.factorize(stratum)[0].astype(np.int64)
    return code, int(code.max()) + 1


def sort_controls(score: np.ndarray, code: np.ndarray | None, ctrl: np.ndarray, code_bits: int) -> SortedControls:
    """Controls sorted by (stratum code, score, row) with one ``np.sort`` of uint64 keys packing the code, the
    score as a fixed-point fraction of its range (monotone, but possibly equal for distinct scores) and the
    control's index; then, inside any key group holding distinct scores, the exact order."""
    n = ctrl.size
    idx_bits = max(1, (n - 1).bit_length())
    frac_bits = 64 - idx_bits - code_bits
    s = score[ctrl]
    c_code = None if code is None else code[ctrl]
    if frac_bits < MIN_FRAC_BITS:  # too many strata and rows for one word: exact, slower
        local = np.lexsort((s,) if c_code is None else (s, c_code)).astype(ctrl.dtype)
        key = np.zeros(n, np.uint64) if c_code is None else np.sort(c_code).astype(np.uint64)
        return SortedControls(ctrl, local, s[local], key, 0, 0)
    lo, span = float(s.min()), float(s.max() - s.min())
    scale = 2.0**frac_bits / span if span > 0 else 0.0
    top = np.uint64((1 << frac_bits) - 1)  # 2.0**frac_bits - 1 rounds up in float: clip as integers

    key = s - lo
    key *= scale  # monotone in s
    key = np.minimum(key.astype(np.uint64), top)
    key <<= np.uint64(idx_bits)
    key |= np.arange(n, dtype=np.uint64)
    shift = frac_bits + idx_bits
    if c_code is not None:
        key |= c_code.astype(np.uint64) << np.uint64(shift)
    key.sort()
    local = (key & np.uint64((1 << idx_bits) - 1)).astype(ctrl.dtype)
    group = key >> np.uint64(idx_bits)  # the stratum and fixed-point score, sorted
    s_sorted = np.sort(s) if c_code is None else s[local]  # exact where every group holds one score
    bad = np.flatnonzero((group[1:] == group[:-1]) & (s_sorted[1:] != s_sorted[:-1]))
    if bad.size:  # distinct scores sharing a fixed-point value: order those groups exactly
        gid = np.cumsum(np.r_[0, group[1:] != group[:-1]])
        mark = np.zeros(int(gid[-1]) + 1, dtype=bool)
        mark[gid[bad]] = True
        sel = np.flatnonzero(mark[gid])  # in (group, row) order; lexsort is stable: rows stay in order
        vals = s[local[sel]]
        fix = np.lexsort((vals, gid[sel]))
        local[sel] = local[sel[fix]]
        s_sorted[sel] = vals[fix]
    return SortedControls(ctrl, local, s_sorted, key, shift, idx_bits, lo, scale, int(top))


def candidate_controls(
    score: np.ndarray,
    code: np.ndarray | None,
    n_codes: int,
    trt: np.ndarray,
    k: int,
    lo: float,
    hi: float,
) -> np.ndarray:
    """The rows of the controls that can be among the k nearest of some treated, or as near as its k-th
    (ascending): those in the treated's own bucket and in the k + 1 nearest buckets holding controls on either
    side, in its stratum. Buckets: a grid over the score range [lo, hi], per stratum, of about 4 controls each,
    monotone in the score (equal scores share one). O(n) passes and lookups in a table of n / 4 entries."""
    per = max(1, (score.size - trt.size) // (BUCKET_SIZE * n_codes))  # buckets per stratum
    total = per * n_codes
    b = score - lo
    b *= per / (hi - lo) if hi > lo else 0.0
    b = b.astype(np.int64 if per >= 2**31 else np.int32)  # floor of a non-negative float: monotone
    np.minimum(b, per - 1, out=b)
    if code is not None:
        b = code * per + b
    bt = b[trt].astype(np.int64)
    b[trt] = total  # the treated go to an extra bucket, never needed
    nonempty = np.zeros(total + 1, dtype=bool)
    nonempty[b] = True
    nonempty = nonempty[:total]
    idx = np.arange(total)
    last = np.maximum.accumulate(np.where(nonempty, idx, -1))  # last bucket with controls at or before
    first = np.minimum.accumulate(np.where(nonempty, idx, total)[::-1])[::-1]  # first at or after
    start, end = bt - bt % per, bt - bt % per + per  # the treated's stratum: buckets [start, end)
    need = np.zeros(total + 1, dtype=bool)
    need[bt] = True
    j = bt
    for _ in range(k + 1):  # the k + 1 nearest buckets with controls on the left
        prev = np.where(j > start, last[np.maximum(j - 1, 0)], -1)
        ok = prev >= start
        need[prev[ok]] = True
        j = np.where(ok, prev, start)
    j = bt
    for _ in range(k + 1):  # and on the right
        nxt = np.where(j < end - 1, first[np.minimum(j + 1, total - 1)], total)
        ok = nxt < end
        need[nxt[ok]] = True
        j = np.where(ok, nxt, end - 1)
    return np.flatnonzero(need[b])


def segment_search(values: np.ndarray, lo: np.ndarray, hi: np.ndarray, x: np.ndarray, side: str) -> np.ndarray:
    """Vectorised binary search: for each i, the first j in [lo_i, hi_i) with values[j] >= x_i (side "left")
    or > x_i ("right"), else hi_i. ``values`` must be sorted within every [lo_i, hi_i)."""
    lo, hi = np.array(lo, dtype=np.int64), np.array(hi, dtype=np.int64)
    live = np.flatnonzero(lo < hi)
    while live.size:
        a, b = lo[live], hi[live]
        mid = (a + b) >> 1
        v = values[mid]
        up = v < x[live] if side == "left" else v <= x[live]
        lo[live] = np.where(up, mid + 1, a)
        hi[live] = np.where(up, b, mid)
        live = live[lo[live] < hi[live]]
    return lo
