"""The fast paths of study 3's estimation against the straightforward computations they replace: bootstrap
replicates built by indexing arrays (warm-started logit, chunked Hessian) against replicates built by
resampling the data frame, the chunked Gram matrix and rank test, the memoised neighbour lists and the
row-summed Abadie-Imbens covariances."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from insats.tasks.evaluation.bootstrap import cluster_resample_positions, replicate_seeds
from insats.tasks.evaluation.effects import bootstrap_chunk
from insats.tasks.evaluation.estimators import PropensityScoreMatching
from insats.tasks.evaluation.inference import abadie_imbens_2016_adjustment
from insats.tasks.evaluation.matching import k_nearest
from insats.tasks.evaluation.propensity import design_rank, fit_propensity, standardised_design, weighted_gram
from insats.tasks.evaluation.weighting import AugmentedIPW, InverseProbabilityWeighting
from tests.helpers.estimator_data import simulate_sample

COV = ["x1", "x2"]


def _resampled_frame_replicates(df: pd.DataFrame, est, outcome: str, seeds: list[int]) -> np.ndarray:
    """What the bootstrap did before: copy the resampled persons' rows as a frame, keep the rows where the
    outcome is known, rebuild the design from the frame and refit from scratch."""
    codes = pd.factorize(df["person_id"])[0]
    out = []
    for seed in seeds:
        replicate = df.iloc[cluster_resample_positions(codes, seed)].reset_index(drop=True)
        part = replicate[replicate[outcome].notna()]
        try:
            out.append(est.without_bootstrap().point_estimates(part, COV, [outcome])[outcome])
        except ValueError:  # no treated drawn, separation: the replicate counts as NaN
            out.append(np.nan)
    return np.asarray(out)


@pytest.mark.parametrize("warm_start", [False, True])
def test_indexed_replicates_equal_resampled_frame_replicates(warm_start: bool) -> None:
    df, _ = simulate_sample(21, n_persons=1200)
    df["x1"] += 0.01 * np.random.default_rng(0).normal(size=len(df))  # continuous: no tied match distances
    df["y_known"] = df["y"].astype(float).mask(df.index % 7 == 0)  # unknown on some rows: its own design
    ests = [
        PropensityScoreMatching(exact="month", replace=False),
        InverseProbabilityWeighting(exact="month", n_boot=0, variance="bootstrap"),
        AugmentedIPW(exact="month", n_boot=0, variance="bootstrap"),
    ]
    outs = ["y", "y_count", "y_known"]
    seeds = replicate_seeds(4, 12)
    chunk = bootstrap_chunk(df, COV, ests, outs, seeds, warm_start=warm_start)
    assert len(chunk) == len(ests) * len(outs) * len(seeds) and chunk["att"].notna().all()
    for est in ests:
        for outcome in outs:
            got = chunk[(chunk["estimator"] == est.label) & (chunk["outcome"] == outcome)]
            assert got["seed"].tolist() == seeds
            expected = _resampled_frame_replicates(df, est, outcome, seeds)
            if warm_start:  # the same optimum to rounding (no tied match distances in these data)
                np.testing.assert_allclose(got["att"].to_numpy(), expected, rtol=1e-9, atol=1e-12)
            else:  # the same arithmetic as the frame replicates: equal to the last bit
                np.testing.assert_array_equal(got["att"].to_numpy(), expected)


def test_indexed_replicates_fail_where_resampled_frames_fail() -> None:
    df, _ = simulate_sample(3, n_persons=400)
    keep = df[df["treated"] == 1]["person_id"].iloc[:3]  # three treated rows: some replicates draw none
    small = df[(df["treated"] == 0) | df["person_id"].isin(keep)].reset_index(drop=True)
    est = PropensityScoreMatching(replace=False)
    seeds = replicate_seeds(9, 30)
    expected = _resampled_frame_replicates(small, est, "y", seeds)
    assert np.isnan(expected).any() and np.isfinite(expected).any()
    for warm_start in (False, True):  # NaN where the frame replicate failed
        got = bootstrap_chunk(small, COV, [est], ["y"], seeds, warm_start=warm_start)["att"].to_numpy()
        np.testing.assert_allclose(got, expected, rtol=1e-9, atol=1e-12)


def test_warm_started_chunked_logit_equals_cold_fit() -> None:
    df, _ = simulate_sample(8, n_persons=3000)
    x, y = df[COV].to_numpy(float), df["treated"].to_numpy(float)
    full = fit_propensity(x, y)
    positions = cluster_resample_positions(pd.factorize(df["person_id"])[0], 77)
    cold = fit_propensity(x[positions], y[positions])
    warm = fit_propensity(x[positions], y[positions], start=full)
    assert warm.iterations < cold.iterations
    np.testing.assert_allclose(warm.beta, cold.beta, rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(warm.eta, cold.eta, rtol=1e-10, atol=1e-12)
    design, mean, sd = standardised_design(x)
    np.testing.assert_allclose(design[:, 1:], (x - x.mean(axis=0)) / x.std(axis=0), rtol=1e-12, atol=1e-12)


def test_chunked_gram_and_rank_equal_the_direct_ones() -> None:
    rng = np.random.default_rng(2)
    x = rng.normal(size=(40_000, 5))
    w = rng.random(40_000)
    np.testing.assert_allclose(weighted_gram(x, w, chunk=3000), x.T @ (x * w[:, None]), rtol=1e-12)
    tol = 1e-8 * np.sqrt(len(x))
    assert design_rank(x, tol, chunk=3000) == np.linalg.matrix_rank(x, tol=tol) == 5
    x[:, 4] = x[:, 0] - 2 * x[:, 2]  # collinear
    assert design_rank(x, tol, chunk=3000) == np.linalg.matrix_rank(x, tol=tol) == 4


def test_fewer_neighbours_are_the_first_columns_of_more() -> None:
    rng = np.random.default_rng(5)
    score, stratum = rng.normal(size=500), rng.integers(0, 3, 500)
    treated = rng.random(500) < 0.3
    many = k_nearest(score, stratum, ~treated, treated, 5)
    for k in (1, 2, 3):
        np.testing.assert_array_equal(k_nearest(score, stratum, ~treated, treated, k), many[:, :k])


def _local_cov_3d(x: np.ndarray, y: np.ndarray, members: np.ndarray) -> np.ndarray:
    """The former m x L x k computation of the neighbourhood covariances (ddof 1; 0 below 2 members)."""
    ok = members >= 0
    cnt = ok.sum(axis=1)
    idx = np.clip(members, 0, None)
    xm = np.where(ok[:, :, None], x[idx], 0.0)
    ym = np.where(ok, y[idx], 0.0)
    x_bar = xm.sum(axis=1) / np.maximum(cnt, 1)[:, None]
    y_bar = ym.sum(axis=1) / np.maximum(cnt, 1)
    dev = np.where(ok[:, :, None], (xm - x_bar[:, None, :]) * (ym - y_bar[:, None])[:, :, None], 0.0)
    return np.where((cnt >= 2)[:, None], dev.sum(axis=1) / np.maximum(cnt - 1, 1)[:, None], 0.0)


@pytest.mark.parametrize("m", [1, 3])
def test_ai2016_adjustment_equals_the_per_row_covariance_formula(m: int) -> None:
    df, _ = simulate_sample(12, n_persons=1500)
    df["x1"] += 0.01 * np.random.default_rng(1).normal(size=len(df))
    x, treated = df[COV].to_numpy(float), df["treated"].to_numpy() == 1
    stratum = df["month"].to_numpy()
    y = df["y"].to_numpy(float)
    fit = fit_propensity(x, treated.astype(float))
    att = 0.1
    got = abadie_imbens_2016_adjustment(fit, y, treated, stratum, att, m=m, j=2)
    # The theorem's formula with the covariances row by row (the former implementation).
    xd, p, score = fit.design, fit.p, fit.eta
    n, n1, f = y.size, int(treated.sum()), p * (1 - p)
    y_hat, cov = {True: y.copy(), False: y.copy()}, {}
    for arm in (True, False):
        in_arm = treated if arm else ~treated
        nb = k_nearest(score, stratum, ~in_arm, in_arm, m)
        found = (nb >= 0).sum(axis=1)
        imputed = np.where(nb >= 0, y[np.clip(nb, 0, None)], 0.0).sum(axis=1) / np.maximum(found, 1)
        y_hat[arm][~in_arm] = np.where(found > 0, imputed, np.nan)
        members = np.full((n, 3), -1, dtype=np.int64)
        members[~in_arm] = k_nearest(score, stratum, ~in_arm, in_arm, 3)
        members[in_arm, 0] = np.flatnonzero(in_arm)
        members[in_arm, 1:] = k_nearest(score, stratum, in_arm, in_arm, 2)
        cov[arm] = _local_cov_3d(xd, y, members)
    d = (f * np.nan_to_num(y_hat[True] - y_hat[False] - att)) @ xd / n1
    c = d + (f[:, None] * (cov[True] + (p / (1 - p))[:, None] * cov[False])).sum(axis=0) / n1
    info_inv = np.linalg.pinv((xd * f[:, None]).T @ xd / n)
    expected = float(d @ info_inv @ d - c @ info_inv @ c) / n
    assert got == pytest.approx(expected, rel=1e-10, abs=1e-15)
