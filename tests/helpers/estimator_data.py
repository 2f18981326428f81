"""Seeded samples with a known effect for the estimator tests (tests/tasks/evaluation/)."""

from __future__ import annotations

import numpy as np
import pandas as pd


def simulate_sample(
    seed: int,
    n_persons: int = 1500,
    n_months: int = 3,
    effect: float = 0.10,
    selection: float = 1.0,
) -> tuple[pd.DataFrame, float]:
    """A small sequential-design-like sample with selection on observables and a known ATT.

    Persons have x1 ~ N(0, 1) and x2 ~ Bernoulli(0.4); in each of ``n_months`` months a person not yet
    treated is a candidate and starts with probability logistic(-2.2 + selection (0.9 x1 + 0.7 x2)); after
    the start he leaves the pool. Outcome: 1{u < p0 + effect * treated} with
    p0 = 0.1 + 0.6 logistic(1.5 (x1 - x2)) + 0.05 month (p0 + effect <= 0.9): every row's individual effect is
    exactly ``effect`` (so the ATT is ``effect``), and p0 rises with x1 (and treatment with x1), so the naive
    difference is biased upwards when ``selection`` > 0.
    Columns: person_id, month, treated, x1, x2, y, y_count (a count outcome with the same effect x 3).
    """
    rng = np.random.default_rng(seed)
    x1 = rng.normal(size=n_persons)
    x2 = (rng.random(n_persons) < 0.4).astype(float)
    frames = []
    active = np.ones(n_persons, dtype=bool)
    for m in range(n_months):
        idx = np.flatnonzero(active)
        p = 1 / (1 + np.exp(-(-2.2 + selection * (0.9 * x1[idx] + 0.7 * x2[idx]))))
        t = rng.random(idx.size) < p
        p0 = 0.1 + 0.6 / (1 + np.exp(-1.5 * (x1[idx] - x2[idx]))) + 0.05 * m
        y = (rng.random(idx.size) < p0 + effect * t).astype(np.int8)
        count = rng.poisson(3 * p0) + np.round(3 * effect * t)
        frames.append(
            pd.DataFrame(
                {
                    "person_id": [f"p{i:05d}" for i in idx],
                    "month": m,
                    "treated": t.astype(np.int8),
                    "x1": x1[idx],
                    "x2": x2[idx],
                    "y": y,
                    "y_count": count.astype(float),
                }
            )
        )
        active[idx[t]] = False
    return pd.concat(frames, ignore_index=True), effect
