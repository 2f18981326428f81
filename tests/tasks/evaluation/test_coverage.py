"""Monte Carlo check of the 95 % intervals in the sequential person-month design (persons repeat as controls:
person-clustered SEs): over 60 seeded small datasets with selection on observables and a known ATT, the
matching (Abadie-Imbens 2016, clustered) and AIPW (person-clustered sandwich) intervals cover the truth in
88-99 % of the datasets, and their estimates are centred on the truth while the naive difference is not.
Cross-sections over several processes: tests/tasks/evaluation/test_inference_coverage.py."""

from __future__ import annotations

import numpy as np
import pytest

from insats.tasks.evaluation.estimators import NaiveDifference, PropensityScoreMatching
from insats.tasks.evaluation.weighting import AugmentedIPW
from tests.helpers.estimator_data import simulate_sample

pytestmark = pytest.mark.slow

N_DATASETS = 60


@pytest.fixture(scope="module")
def monte_carlo() -> dict[str, np.ndarray]:
    """Per estimator: rows (att, ci_low, ci_high) over the datasets; truth = 0.10."""
    out: dict[str, list] = {"psm": [], "aipw": [], "naive": []}
    for seed in range(N_DATASETS):
        df, _ = simulate_sample(1000 + seed, n_persons=1200)
        cov = ["x1", "x2"]
        for key, est in (
            ("psm", PropensityScoreMatching(exact="month")),
            ("aipw", AugmentedIPW(exact="month")),
            ("naive", NaiveDifference()),
        ):
            r = est.estimate(df, cov, "y")
            out[key].append((r.att, r.ci_low, r.ci_high))
    return {k: np.asarray(v) for k, v in out.items()}


@pytest.mark.parametrize("key", ["psm", "aipw"])
def test_interval_coverage_between_88_and_99_percent(monte_carlo: dict[str, np.ndarray], key: str) -> None:
    rows = monte_carlo[key]
    covered = np.mean((rows[:, 1] <= 0.10) & (rows[:, 2] >= 0.10))
    assert 0.88 <= covered <= 0.99, (key, covered)
    # Centred on the truth: the mean estimate is within 3 Monte Carlo SEs (+ a small tolerance) of 0.10.
    mc_se = rows[:, 0].std(ddof=1) / np.sqrt(len(rows))
    assert abs(rows[:, 0].mean() - 0.10) < 3 * mc_se + 0.01


def test_naive_difference_is_biased(monte_carlo: dict[str, np.ndarray]) -> None:
    naive = monte_carlo["naive"]
    assert naive[:, 0].mean() > 0.15
    assert np.mean((naive[:, 1] <= 0.10) & (naive[:, 2] >= 0.10)) < 0.5
