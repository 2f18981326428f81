"""An effect estimate and its uncertainty: the result type, normal 95 % inference, and the variances with a
closed form (the rest come from the person bootstrap, ``insats.tasks.evaluation.bootstrap``).

* ``normal_inference``: 95 % CI att +- 1.96 se and the two-sided normal p-value of att = 0.
* ``abadie_imbens_se`` (matching WITH replacement), clustered by person:
  V = sum over persons of (sum_{r in person} w_r e_r)^2 / N1^2 + sum_i (mu1(X_i) - mu0(X_i) - att)^2 / N1^2,
  with e_r = Y_r - mu_arm(X_r) from outcome regressions within each arm on the covariates and the score logit
  (the score is treated as known).
* ``difference_in_means_se``: the unadjusted difference, from its influence function, clustered by person.
* ``with_se`` / ``with_bootstrap``: an estimate with its SE replaced (CI and p recomputed).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import numpy as np
import pandas as pd
from scipy import stats

from insats.tasks.evaluation.bootstrap import bootstrap_se
from insats.tasks.evaluation.outcome_models import outcome_model

Z_95 = float(stats.norm.ppf(0.975))


@dataclass
class EffectEstimate:
    """Result of one estimator on one outcome.

    ``pairs``: matched pairs as row labels of the sample (columns treated_index, control_index, weight;
    weights of one treated sum to 1), empty for weighting estimators; ``weights``: per-row weight in the
    adjusted comparison (used treated 1, unused or trimmed treated 0, control = its total weight), indexed
    like the sample. Counts are ROWS of the sample (person-months; a treated person has one row):
    ``n_treated`` all treated; ``n_matched_treated`` those used (matched / inside common support);
    ``n_treated_unmatched`` the others (no control in the caliper, or trimmed for lack of common support);
    ``n_controls_used`` control rows with positive weight; ``n_later_starter_controls`` of those, controls who
    start the intervention within the horizon; ``n_eligible_controls`` all control rows;
    ``n_control_persons`` distinct persons among the used controls. ``variance_method`` says how ``se`` was
    obtained.
    """

    estimator: str
    outcome: str
    att: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float
    n_treated: int
    n_matched_treated: int
    n_controls_used: int
    n_treated_unmatched: int
    n_later_starter_controls: int
    pairs: pd.DataFrame = field(repr=False)
    weights: pd.Series = field(repr=False)
    variance_method: str = ""
    n_eligible_controls: int = 0
    n_control_persons: int = 0
    score: pd.Series | None = field(default=None, repr=False)

    def to_record(self) -> dict[str, float | int | str]:
        """The scalar fields as a flat dict (one row of an effects table)."""
        skip = ("pairs", "weights", "score")
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in skip}


def with_se(estimate: EffectEstimate, se: float, variance_method: str) -> EffectEstimate:
    """A copy of ``estimate`` with ``se`` and the normal 95 % CI and two-sided p-value recomputed from it."""
    ci_low, ci_high, p = normal_inference(estimate.att, se)
    return replace(estimate, se=se, ci_low=ci_low, ci_high=ci_high, p_value=p, variance_method=variance_method)


def with_bootstrap(estimate: EffectEstimate, replicates: pd.DataFrame) -> EffectEstimate:
    """``estimate`` with its SE from bootstrap ``replicates`` (``bootstrap_replicates`` output; the rows of
    ``estimate.outcome`` are used)."""
    summary = bootstrap_se(replicates[replicates["outcome"] == estimate.outcome])
    if summary.empty:
        raise ValueError(f"no bootstrap replicates for outcome {estimate.outcome!r}")
    row = summary.iloc[0]
    return with_se(estimate, float(row["se"]), f"person (cluster) bootstrap, {int(row['n_replicates'])} replicates")


def normal_inference(att: float, se: float) -> tuple[float, float, float]:
    """(ci_low, ci_high, p_value) of a normal 95 % interval and two-sided test of att = 0."""
    if not (np.isfinite(att) and np.isfinite(se)):
        return float("nan"), float("nan"), float("nan")
    z = att / se if se > 0 else (np.inf if att != 0 else 0.0)
    return att - Z_95 * se, att + Z_95 * se, float(2 * stats.norm.sf(abs(z)))


def difference_in_means_se(y: np.ndarray, treated: np.ndarray, clusters: np.ndarray) -> float:
    """SE of mean(y | treated) - mean(y | control) from its influence function, clustered by person.

    ``y``: n floats; ``treated``: n bools; ``clusters``: n int64 person codes (0 .. G-1)."""
    t = treated
    psi = np.where(t, (y - y[t].mean()) / t.sum(), -(y - y[~t].mean()) / (~t).sum())
    per_person = np.bincount(clusters, weights=psi)
    return float(np.sqrt(np.sum(per_person**2)))


def abadie_imbens_se(
    x: np.ndarray,
    score: np.ndarray,
    treated: np.ndarray,
    w: np.ndarray,
    y: np.ndarray,
    clusters: np.ndarray,
    att: float,
) -> float:
    """Person-clustered SE of a matching estimate with replacement (module docstring for the formula).

    ``x``: n x k covariates; ``score``: n logits of the propensity score; ``treated``: n bools; ``w``: n signed
    matching weights (+1 matched treated, minus the control's total weight, 0 unused); ``y``: n outcomes;
    ``clusters``: n int64 person codes; ``att``: the estimate. The outcome models (``outcome_model``) are
    fitted within each arm on the covariates and the score."""
    matched_t = np.flatnonzero(w > 0)
    n1 = matched_t.size
    xz = np.column_stack([x, score])
    predict1 = outcome_model(xz[treated], y[treated])
    predict0 = outcome_model(xz[~treated], y[~treated])
    mu = np.empty_like(y)
    mu[treated] = predict1(xz[treated])
    mu[~treated] = predict0(xz[~treated])
    resid = y - mu
    used = w != 0
    per_person = np.bincount(clusters[used], weights=w[used] * resid[used])
    v_cond = float(np.sum(per_person**2)) / n1**2
    tau_x = predict1(xz[matched_t]) - predict0(xz[matched_t])
    v_het = float(np.sum((tau_x - att) ** 2)) / n1**2
    return float(np.sqrt(v_cond + v_het))
