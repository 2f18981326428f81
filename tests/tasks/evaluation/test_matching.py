"""Nearest-neighbour matching: the tie rules by hand, against brute force, and the exact sort of the controls."""

from __future__ import annotations

import numpy as np
import pytest

from insats.tasks.evaluation import matching_sort
from insats.tasks.evaluation.matching import match_like_causalml, nearest_neighbour_match


def _pairs(df) -> dict[tuple[int, int], float]:  # type: ignore[no-untyped-def]
    return {(int(t), int(c)): float(w) for t, c, w in df.itertuples(index=False)}


# rows:               T0   T1   C2   C3   C4   C5   C6
SCORE = np.array([1.0, 3.0, 0.5, 1.5, 0.5, 2.0, 4.5])  # exact in binary: distances compare exactly
TREATED = np.array([1, 1, 0, 0, 0, 0, 0], dtype=bool)


def test_ties_by_hand() -> None:
    """T0 (1.0) has three controls at distance 0.5: C2 and C4 (both 0.5, left) and C3 (1.5, right). T1 (3.0):
    C5 at 1.0, then C3 and C6 both at 1.5."""
    one = np.zeros(7, np.int64)
    assert _pairs(nearest_neighbour_match(SCORE, TREATED, one, None, ties="all")) == pytest.approx(
        {(0, 2): 1 / 3, (0, 3): 1 / 3, (0, 4): 1 / 3, (1, 5): 1.0}
    )
    # first: one control per treated, the earliest row among the equally near
    assert _pairs(nearest_neighbour_match(SCORE, TREATED, one, None, ties="first")) == {(0, 2): 1.0, (1, 5): 1.0}
    # k = 2, all: T0 keeps its three (all at the 2nd distance); T1 keeps C5 and both at 1.5
    assert _pairs(nearest_neighbour_match(SCORE, TREATED, one, None, k=2, ties="all")) == pytest.approx(
        {(0, 2): 1 / 3, (0, 3): 1 / 3, (0, 4): 1 / 3, (1, 5): 1 / 3, (1, 3): 1 / 3, (1, 6): 1 / 3}
    )
    # k = 2, first: exactly two each, equal distances in row order (T1: C3 before C6)
    assert _pairs(nearest_neighbour_match(SCORE, TREATED, one, None, k=2, ties="first")) == {
        (0, 2): 0.5,
        (0, 3): 0.5,
        (1, 3): 0.5,
        (1, 5): 0.5,
    }
    # booleans are the same rules; the caliper keeps distances <= 0.5 (T1's nearest is 1.0 away)
    assert nearest_neighbour_match(SCORE, TREATED, one, 0.5, ties=True).equals(
        nearest_neighbour_match(SCORE, TREATED, one, 0.5, ties="all")
    )
    assert _pairs(nearest_neighbour_match(SCORE, TREATED, one, 0.5, ties=False)) == {(0, 2): 1.0}
    # exact strata: C2 in another stratum is no candidate
    strata = np.array([0, 0, 1, 0, 0, 0, 0])
    assert _pairs(nearest_neighbour_match(SCORE, TREATED, strata, None, ties="first")) == {(0, 3): 1.0, (1, 5): 1.0}


def test_bad_arguments_are_named() -> None:
    one = np.zeros(7, np.int64)
    with pytest.raises(ValueError, match="ties must be 'all'"):
        nearest_neighbour_match(SCORE, TREATED, one, None, ties="random")
    with pytest.raises(ValueError, match=r"rows \[3\]"):
        nearest_neighbour_match(np.where(np.arange(7) == 3, np.nan, SCORE), TREATED, one, None)
    with pytest.raises(ValueError, match="one length"):
        nearest_neighbour_match(SCORE, TREATED[:6], one, None)


def _brute_force(score, treated, stratum, caliper, k, ties):  # type: ignore[no-untyped-def]
    """Per treated: candidates in its stratum within the caliper, ordered by (distance, row); the first k, and
    with ties="all" also every further one exactly as far as the k-th."""
    out = {}
    for t in np.flatnonzero(treated):
        pool = np.flatnonzero(~treated & (stratum == stratum[t]))
        d = np.abs(score[t] - score[pool])
        pool, d = pool[d <= caliper], d[d <= caliper]
        order = np.lexsort((pool, d))
        pool, d = pool[order], d[order]
        take = pool[:k] if ties == "first" or pool.size <= k else pool[d <= d[k - 1]]
        out.update({(int(t), int(c)): 1.0 / take.size for c in take})
    return out


@pytest.mark.parametrize("seed", range(6))
def test_with_replacement_agrees_with_brute_force(seed: int) -> None:
    rng = np.random.default_rng(seed)
    n = 700
    score = np.round(rng.normal(size=n), seed % 3) if seed < 4 else rng.normal(size=n) * 10.0**seed
    treated = rng.random(n) < (0.1, 0.4)[seed % 2]
    stratum = rng.integers(0, (1, 4, 30)[seed % 3], n) * 7 - 5
    caliper = (np.inf, 0.3 * 10.0 ** max(seed - 3, 0))[seed % 2]
    for k in (1, 2, 3):
        for ties in ("all", "first"):
            got = nearest_neighbour_match(score, treated, stratum, caliper, k=k, ties=ties)
            assert _pairs(got) == pytest.approx(_brute_force(score, treated, stratum, caliper, k, ties))
            assert list(got.columns) == ["treated_pos", "control_pos", "weight"]
            assert got["control_pos"].dtype == np.int64


def test_controls_sorted_exactly_when_scores_share_a_fixed_point_value(monkeypatch: pytest.MonkeyPatch) -> None:
    """Scores 1e-13 apart share a fixed-point key; the sort restores (stratum, score, row) exactly, and the
    np.lexsort fallback (too few bits for the score) gives the same."""
    rng = np.random.default_rng(7)
    n = 50_000
    score = 1.0 + rng.integers(0, 500, n) * 1e-13 + (rng.random(n) < 0.01) * 50.0
    for n_strata in (1, 3, 2**18):
        stratum = rng.integers(0, n_strata, n)
        code, n_codes = matching_sort.stratum_codes(stratum)
        ctrl = np.arange(n, dtype=np.int32)
        c = matching_sort.sort_controls(score, code, ctrl, (n_codes - 1).bit_length())
        ref = np.lexsort((ctrl, score, stratum))
        assert np.array_equal(c.rows(np.arange(n)), ref) and np.array_equal(c.score, score[ref])
    treated = rng.random(n) < 0.05
    stratum = rng.integers(0, 4, n)
    fast = nearest_neighbour_match(score, treated, stratum, 5e-13, k=2)
    monkeypatch.setattr(matching_sort, "MIN_FRAC_BITS", 65)
    assert fast.equals(nearest_neighbour_match(score, treated, stratum, 5e-13, k=2))


def test_match_like_causalml_standardises_per_stratum_with_a_strict_caliper() -> None:
    """Each treated's nearest control is 1 away in strata 0 (scores 0-3: SD 1.118) and 1 (10, 11, 20: SD 4.50),
    so 0.89 and 0.22 SDs; 2 away in stratum 2 (scores 100, 102: z = -1, +1), exactly 2 SDs, which a caliper of 2
    excludes (causalml keeps distances strictly below the caliper)."""
    score = np.array([0.0, 1.0, 2.0, 3.0, 10.0, 11.0, 20.0, 100.0, 102.0])
    treated = np.array([1, 0, 0, 0, 1, 0, 0, 1, 0], dtype=bool)
    stratum = np.array([0, 0, 0, 0, 1, 1, 1, 2, 2])
    assert _pairs(match_like_causalml(score, treated, stratum, 0.5)) == {(4, 5): 1.0}
    assert _pairs(match_like_causalml(score, treated, stratum, 2.0)) == {(0, 1): 1.0, (4, 5): 1.0}
    assert (7, 8) in _pairs(match_like_causalml(score, treated, stratum, float(np.nextafter(2.0, 3.0))))
    # without strata: one standardisation over all rows
    assert len(match_like_causalml(score, treated, None, 0.2)) == 3
