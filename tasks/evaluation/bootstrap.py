"""Person-resampling (cluster) bootstrap, written as pure functions of replicate seeds.

In the sequential design one person can appear many times (a control in several months, a control before his
own start), so the resampling unit is the PERSON: a replicate draws persons with replacement and keeps every
row of each drawn person as many times as he was drawn. Each replicate re-runs the WHOLE estimator (propensity
model, matching or weighting, outcome models), so the estimation of the score is part of the variance.

The replicates are independent given their seeds, so a caller (the Prefect flow) can split a list of seeds
into chunks, run ``bootstrap_replicates`` for each chunk as a parallel task, concatenate the results and call
``bootstrap_se``: the answer does not depend on how the seeds were chunked.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

# estimator.point_estimates(sample, covariates, outcomes) -> {outcome: att}
PointEstimates = Callable[[pd.DataFrame, list[str], list[str]], dict[str, float]]


def replicate_seeds(seed: int, n_boot: int) -> list[int]:
    """``n_boot`` distinct replicate seeds derived from one base ``seed`` (stable across runs)."""
    if n_boot < 0:
        raise ValueError(f"n_boot must be >= 0, got {n_boot}")
    return [int(s) for s in np.random.SeedSequence(seed).generate_state(n_boot, dtype=np.uint32)]


def cluster_resample_positions(clusters: np.ndarray, seed: int) -> np.ndarray:
    """Row positions of one person-resampled replicate.

    ``clusters``: integer cluster code per row (0 .. G-1, e.g. ``pd.factorize(sample.person_id)[0]``).
    Draws G clusters with replacement (``numpy.random.default_rng(seed)``); a row whose cluster was drawn c
    times appears c times. Returns int64 positions, sorted (so month-then-person order is kept).
    """
    clusters = np.asarray(clusters, dtype=np.int64)
    n_clusters = int(clusters.max()) + 1 if clusters.size else 0
    rng = np.random.default_rng(seed)
    draws = np.bincount(rng.integers(0, n_clusters, size=n_clusters), minlength=n_clusters)
    return np.repeat(np.arange(clusters.size, dtype=np.int64), draws[clusters])


def bootstrap_replicates(
    point_estimates: PointEstimates,
    sample: pd.DataFrame,
    covariates: list[str],
    outcomes: list[str],
    seeds: Sequence[int],
    cluster: str = "person_id",
) -> pd.DataFrame:
    """ATT of every outcome in every replicate: columns ``seed`` (int), ``outcome``, ``att`` (float).

    ``point_estimates`` is an estimator's ``point_estimates`` method (the estimator should have its own
    bootstrap switched off). A replicate in which the estimator fails (e.g. no treated drawn) gives NaN
    rows rather than an error; ``bootstrap_se`` ignores them and reports how many were usable.
    Cost: one full estimation per seed.
    """
    codes = pd.factorize(sample[cluster])[0]
    with threadpool_limits(limits=1):  # small products: threads only contend
        rows = _replicates(point_estimates, sample, covariates, outcomes, seeds, codes)
    return pd.DataFrame(rows, columns=["seed", "outcome", "att"])


def _replicates(
    point_estimates: PointEstimates,
    sample: pd.DataFrame,
    covariates: list[str],
    outcomes: list[str],
    seeds: Sequence[int],
    codes: np.ndarray,
) -> list[dict]:
    rows: list[dict] = []
    for seed in seeds:
        positions = cluster_resample_positions(codes, seed)
        replicate = sample.iloc[positions].reset_index(drop=True)
        try:
            atts = point_estimates(replicate, covariates, outcomes)
        except ValueError:
            atts = {}
        rows += [{"seed": int(seed), "outcome": o, "att": float(atts.get(o, np.nan))} for o in outcomes]
    return rows


def bootstrap_se(replicates: pd.DataFrame) -> pd.DataFrame:
    """Bootstrap SE per outcome: columns ``outcome``, ``se`` (SD of the finite replicate ATTs, ddof 1),
    ``n_replicates`` (finite ones). Fewer than 2 finite replicates give ``se`` NaN."""
    out = []
    for outcome, group in replicates.groupby("outcome", sort=False):
        values = group["att"].to_numpy(dtype=float)
        values = values[np.isfinite(values)]
        se = float(values.std(ddof=1)) if values.size >= 2 else float("nan")
        out.append({"outcome": outcome, "se": se, "n_replicates": int(values.size)})
    return pd.DataFrame(out, columns=["outcome", "se", "n_replicates"])
