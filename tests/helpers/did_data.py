"""Seeded simulated staggered-adoption data for the DiD tests (no data files: every frame is built here).

Shape as R did's example panel ``mpdta``: units observed yearly 2003-2007, cohorts first treated in 2004,
2006 or 2007 and a never-treated cohort (``first_treat`` = 0). Outcome ``y`` = unit effect + year effect +
covariate trend + treatment effect + noise; the effect differs by cohort and grows with time since
treatment (heterogeneous dynamic effects, so the aggregations weigh different cells differently).

Columns of every frame: ``unit`` (int id; a row id for repeated cross-sections), ``year`` (int),
``first_treat`` (int, 0 = never treated), ``x`` (float, time-invariant per unit), ``state`` (int, 1-25, a
cluster constant within a unit), ``y`` (float).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

YEARS = np.arange(2003, 2008)
COHORTS = np.array([2004, 2006, 2007, 0])  # 0 = never treated
COHORT_SHARES = np.array([0.2, 0.2, 0.25, 0.35])


def _effect(cohort: np.ndarray, year: np.ndarray) -> np.ndarray:
    """True ATT per row: 0 before treatment, then -(0.03 + 0.02 * event) scaled by cohort (2004 hit hardest)."""
    scale = np.select([cohort == 2004, cohort == 2006, cohort == 2007], [1.5, 1.0, 0.6], 0.0)
    treated = (cohort > 0) & (year >= cohort)
    return np.where(treated, -(0.03 + 0.02 * (year - cohort)) * scale, 0.0)


def _outcome(rng: np.random.Generator, unit_eff: np.ndarray, cohort: np.ndarray, x: np.ndarray, year: np.ndarray):
    year_eff = {y: 0.02 * i + 0.01 * np.sin(i) for i, y in enumerate(YEARS)}
    trend = 0.04 * x * (year - YEARS[0])  # covariate-specific trend (conditional parallel trends)
    return unit_eff + np.vectorize(year_eff.get)(year) + trend + _effect(cohort, year) + rng.normal(0, 0.1, len(year))


def staggered_panel(n_units: int = 500, seed: int = 0) -> pd.DataFrame:
    """Balanced panel: ``n_units`` units x 5 years (rows sorted by unit, year); cohort independent of ``x``."""
    rng = np.random.default_rng(seed)
    cohort = rng.choice(COHORTS, n_units, p=COHORT_SHARES)
    x = rng.normal(0, 1, n_units)
    unit_eff = rng.normal(5, 0.5, n_units) + 0.2 * x
    state = rng.integers(1, 26, n_units)
    rep = np.repeat(np.arange(n_units), len(YEARS))
    year = np.tile(YEARS, n_units)
    y = _outcome(rng, unit_eff[rep], cohort[rep], x[rep], year)
    return pd.DataFrame(
        {"unit": rep + 1, "year": year, "first_treat": cohort[rep], "x": x[rep], "state": state[rep], "y": y}
    )


def unbalanced_panel(n_units: int = 500, seed: int = 1, drop: float = 0.1, missing: float = 0.05) -> pd.DataFrame:
    """``staggered_panel`` with a share ``drop`` of unit-years removed and ``missing`` of the rest with y NaN."""
    rng = np.random.default_rng(seed + 1000)
    data = staggered_panel(n_units, seed)
    data = data.drop(index=rng.choice(len(data), int(drop * len(data)), replace=False)).reset_index(drop=True)
    data.loc[rng.choice(len(data), int(missing * len(data)), replace=False), "y"] = np.nan
    return data


def repeated_cross_section(n_per_year: int = 400, seed: int = 2) -> pd.DataFrame:
    """Repeated cross-sections: ``n_per_year`` new people each year (``unit`` = row id), cohorts as the panel."""
    rng = np.random.default_rng(seed)
    n = n_per_year * len(YEARS)
    year = np.repeat(YEARS, n_per_year)
    cohort = rng.choice(COHORTS, n, p=COHORT_SHARES)
    x = rng.normal(0, 1, n)
    # A cohort-level offset plays the unit effect: levels differ by cohort, trends are parallel.
    level = 5 + np.select([cohort == 2004, cohort == 2006, cohort == 2007], [0.3, -0.2, 0.1], 0.0)
    y = _outcome(rng, level + rng.normal(0, 0.5, n), cohort, x, year)
    state = rng.integers(1, 26, n)
    unit = np.arange(1, n + 1)
    return pd.DataFrame({"unit": unit, "year": year, "first_treat": cohort, "x": x, "state": state, "y": y})


def selection_panel(n_units: int = 1000, seed: int = 3) -> pd.DataFrame:
    """Balanced panel in which ``x`` drives both the cohort (multinomial logit: high x, earlier treatment) and
    the outcome trend, so parallel trends hold only conditional on ``x``: the case for the doubly-robust
    estimator with covariates (the unadjusted DiD is biased)."""
    rng = np.random.default_rng(seed)
    x = rng.normal(0, 1, n_units)
    scores = np.column_stack([0.8 * x, 0.4 * x, 0.1 * x, np.full(n_units, 0.3)])  # 2004, 2006, 2007, never
    p = np.exp(scores) / np.exp(scores).sum(axis=1, keepdims=True)
    cohort = COHORTS[(rng.random(n_units)[:, None] > np.cumsum(p, axis=1)).sum(axis=1)]
    unit_eff = rng.normal(5, 0.5, n_units) + 0.5 * x
    state = rng.integers(1, 26, n_units)
    rep = np.repeat(np.arange(n_units), len(YEARS))
    year = np.tile(YEARS, n_units)
    y = _outcome(rng, unit_eff[rep], cohort[rep], x[rep], year)
    return pd.DataFrame(
        {"unit": rep + 1, "year": year, "first_treat": cohort[rep], "x": x[rep], "state": state[rep], "y": y}
    )


def true_att(data: pd.DataFrame) -> pd.Series:
    """The simulated ATT(g, t) per (first_treat, year) for treated cohorts in post-treatment years."""
    d = data[(data["first_treat"] > 0) & (data["year"] >= data["first_treat"])]
    eff = _effect(d["first_treat"].to_numpy(), d["year"].to_numpy())
    return pd.Series(eff, index=d.index).groupby([d["first_treat"], d["year"]]).mean()
