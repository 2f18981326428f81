"""``match_like_causalml`` returns causalml's pairs (``NearestNeighborMatch(replace=True)``, causalml 0.18.0, the
``bench`` extra): identical pairs when no two control scores are equal; with tied scores the same treated, each
with a control at the same distance (which of several equally near controls is taken differs: scikit-learn's
KD-tree takes the first it visits, ours the earliest row)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from insats.tasks.evaluation.matching import match_like_causalml, nearest_neighbour_match

causalml_match = pytest.importorskip(
    "causalml.match", reason="causalml is not installed (pip install -e '.[bench]'): the peer comparison is skipped"
)


def _design(n: int, seed: int, tied: bool) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    score = np.round(rng.normal(size=n), 1) if tied else rng.normal(size=n)
    treated = (rng.random(n) < 1 / (1 + np.exp(2.5 - score))).astype(int)
    return pd.DataFrame({"treated": treated, "score": score, "month": rng.integers(0, 4, n)})


def _causalml(data: pd.DataFrame, caliper: float, ratio: int, strata: bool) -> pd.DataFrame:
    matcher = causalml_match.NearestNeighborMatch(caliper=caliper, replace=True, ratio=ratio, shuffle=False)
    if not strata:
        matcher.match(data, "treated", ["score"])
        return matcher.matched_indexes_
    found = []
    match = matcher.match

    def recording(*args, **kwargs):  # type: ignore[no-untyped-def]
        out = match(*args, **kwargs)
        found.append(matcher.matched_indexes_)  # match_by_group keeps only the last group's
        return out

    matcher.match = recording
    matcher.match_by_group(data, "treated", ["score"], "month")
    return pd.concat(found, ignore_index=True)


def _ours(data: pd.DataFrame, caliper: float, ratio: int, strata: bool) -> pd.DataFrame:
    stratum = data["month"].to_numpy() if strata else None
    return match_like_causalml(data["score"].to_numpy(), data["treated"].to_numpy() == 1, stratum, caliper, ratio)


@pytest.mark.parametrize("strata", [False, True])
@pytest.mark.parametrize("ratio", [1, 3])
def test_same_pairs_as_causalml_without_tied_scores(strata: bool, ratio: int) -> None:
    data = _design(4000, 1, tied=False)
    ours = _ours(data, 0.05, ratio, strata)
    theirs = _causalml(data, 0.05, ratio, strata)
    assert len(theirs) > 300 and ours["treated_pos"].nunique() < (data["treated"] == 1).sum()  # caliper binds
    assert set(zip(ours["treated_pos"], ours["control_pos"], strict=True)) == set(
        zip(theirs["from"], theirs["to"], strict=True)
    )


@pytest.mark.parametrize("strata", [False, True])
def test_same_treated_and_control_scores_as_causalml_with_tied_scores(strata: bool) -> None:
    data = _design(4000, 2, tied=True)
    score = data["score"].to_numpy()
    ours = _ours(data, 0.2, 1, strata)
    theirs = _causalml(data, 0.2, 1, strata)

    def distances(t: np.ndarray, c: np.ndarray) -> list[tuple[int, float]]:
        return sorted(zip(t.tolist(), np.round(np.abs(score[t] - score[c]), 9).tolist(), strict=True))

    a = distances(ours["treated_pos"].to_numpy(), ours["control_pos"].to_numpy())
    assert a == distances(theirs["from"].to_numpy(), theirs["to"].to_numpy()) and len(a) > 300
    # the project's default keeps all tied controls: causalml's pairs are among them
    stratum = data["month"].to_numpy() if strata else np.zeros(len(data), np.int64)
    all_ties = nearest_neighbour_match(score, data["treated"].to_numpy() == 1, stratum, None, ties="all")
    pairs_all = set(zip(all_ties["treated_pos"], all_ties["control_pos"], strict=True))
    kept = set(zip(theirs["from"], theirs["to"], strict=True))
    assert kept <= pairs_all and len(pairs_all) > 2 * len(kept)
    sd = (
        data.groupby("month")["score"].transform("std", ddof=0).to_numpy()
        if strata
        else np.full(len(data), score.std())
    )
    assert np.all(np.abs(score[theirs["from"]] - score[theirs["to"]]) < 0.2 * sd[theirs["from"]])
