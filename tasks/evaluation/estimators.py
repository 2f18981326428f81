"""Effect estimators for the sequential matching sample, with one call shape.

Every estimator is a small configurable object (parameters in the constructor, as in scikit-learn) with
``fit(sample, covariates, outcome) -> self``; the result is in ``estimator.result_`` (an
``EffectEstimate``), and ``estimate(...)`` is ``fit(...).result_``. ``sample`` is one row per
person-month candidate (columns ``treated`` 0/1, the covariates, the outcome, ``month`` for exact
matching and ``person_id`` for clustering; see ``tasks.evaluation.design``). Later estimators (IPW,
AIPW, DiD) plug in by subclassing ``EffectEstimator`` and filling ``weights`` (per-row weights used for
balance) instead of ``pairs``.

``PropensityScoreMatching`` (the first depth):

* Propensity score: logistic regression of ``treated`` on the covariates (standardised; scikit-learn,
  L2 penalty with ``C = 1e4``, i.e. essentially the maximum-likelihood fit but safe under separation).
* Matching: 1:1 nearest neighbour on the logit of the score, WITH replacement, exact on ``month`` (only
  controls of the same calendar month), caliper ``caliper_sd`` x the pooled SD of the logit
  (sqrt((var_treated + var_control) / 2), Austin 2011). Exact ties in the score (identical covariate
  rows) share the match equally (weights 1/k), as in Abadie-Imbens; a treated without a control inside
  the caliper is dropped and counted. Sorting within strata + ``np.searchsorted``: O(n log n), no n x n
  matrix.
* Variance: Abadie-Imbens style for matching with replacement, clustered by person. Write the
  estimate as sum_r w_r Y_r (w = 1/N1 for matched treated, -K_r/N1 for a control used with total weight
  K_r). Then V = sum over persons of (sum_{r in person} w_r e_r)^2 + (1/N1^2) sum_i (mu1(X_i) - mu0(X_i)
  - att)^2, where e_r = Y_r - mu_{arm}(X_r) and mu1, mu0 are logistic outcome regressions on the
  covariates and the score logit fitted within each arm. The first term is the conditional variance
  (the same person recurring as a control in many months, or as a control before his own start, is one
  cluster); the second adds effect heterogeneity (population ATT). The propensity score is treated as
  known (no correction for its estimation). 95 % CI: att +- 1.96 se; two-sided normal p-value.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Self

import numpy as np
import pandas as pd
from scipy import stats
from sklearn.linear_model import LogisticRegression

Z_95 = float(stats.norm.ppf(0.975))


@dataclass
class EffectEstimate:
    """Result of one estimator on one outcome.

    ``pairs``: matched pairs as row labels of the sample (columns treated_index, control_index, weight;
    weight 1/k when k controls tie); ``weights``: per-row weight in the adjusted comparison (matched
    treated 1, unmatched treated 0, control K = summed pair weights, unused control 0), indexed like the
    sample. Counts: ``n_treated`` all treated rows; ``n_matched_treated`` those with a match;
    ``n_controls_used`` distinct control rows used; ``n_later_starter_controls`` of those, controls who
    start the intervention within the horizon.
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

    def to_record(self) -> dict[str, float | int | str]:
        """The scalar fields as a flat dict (one row of an effects table)."""
        return {f.name: getattr(self, f.name) for f in fields(self) if f.name not in ("pairs", "weights")}


def _standardise(x: np.ndarray) -> np.ndarray:
    sd = x.std(axis=0)
    sd[sd == 0] = 1.0
    return (x - x.mean(axis=0)) / sd


def fit_logit(x: np.ndarray, y: np.ndarray, c: float = 1e4) -> np.ndarray:
    """Linear predictor (logit) of a logistic regression of 0/1 ``y`` on ``x`` (n x k, standardised inside).

    A constant ``y`` gives a constant logit at the logit of its mean (clipped), so callers need no
    special case.
    """
    y = np.asarray(y, dtype=np.int8)
    if y.min() == y.max():
        p = np.clip(y.mean(), 1e-6, 1 - 1e-6)
        return np.full(len(y), np.log(p / (1 - p)))
    xs = _standardise(np.asarray(x, dtype=float))
    model = LogisticRegression(C=c, max_iter=1000)
    model.fit(xs, y)
    return model.decision_function(xs)


def nearest_neighbour_match(
    score: np.ndarray,
    treated: np.ndarray,
    stratum: np.ndarray,
    caliper: float,
) -> pd.DataFrame:
    """1:1 nearest-neighbour matching with replacement on ``score`` within exact ``stratum``.

    ``score``: float array (e.g. logit of the propensity score); ``treated``: bool array; ``stratum``:
    integer codes (exact matching). For each treated row, the control(s) in the same stratum with the
    smallest ``|score difference|`` are its match if that distance is <= ``caliper``; controls tied at
    that distance share the match (weight 1/k). Returns positional pairs: columns ``treated_pos``,
    ``control_pos`` (int64), ``weight`` (float); treated without a match do not appear.
    Controls are sorted once by (stratum, score) and every treated is located with ``np.searchsorted``:
    O(n log n) time and O(n) memory.
    """
    score = np.asarray(score, dtype=float)
    treated = np.asarray(treated, dtype=bool)
    stratum = np.asarray(stratum, dtype=np.int64)
    ctrl = np.flatnonzero(~treated)
    trt = np.flatnonzero(treated)
    empty = pd.DataFrame(
        {"treated_pos": np.array([], np.int64), "control_pos": np.array([], np.int64), "weight": np.array([], float)}
    )
    if ctrl.size == 0 or trt.size == 0:
        return empty
    # Composite sort key: strata far apart (offset > score range), scores ordered inside each stratum.
    lo_score = float(score.min())
    offset = float(score.max() - lo_score) + 2.0 * abs(caliper) + 1.0
    _, strat_code = np.unique(stratum, return_inverse=True)
    key = strat_code * offset + (score - lo_score)
    order = ctrl[np.argsort(key[ctrl], kind="stable")]
    c_key, c_score, c_strat = key[order], score[order], strat_code[order]

    t_strat = strat_code[trt]
    s_lo = np.searchsorted(c_strat, t_strat, side="left")  # this stratum's controls: [s_lo, s_hi)
    s_hi = np.searchsorted(c_strat, t_strat, side="right")
    pos = np.searchsorted(c_key, key[trt], side="left")
    left = pos - 1
    right = pos
    has_left = left >= s_lo
    has_right = right < s_hi
    t_score = score[trt]
    d_left = np.where(has_left, t_score - c_score[np.clip(left, 0, None)], np.inf)
    d_right = np.where(has_right, c_score[np.clip(right, None, c_score.size - 1)] - t_score, np.inf)
    best = np.minimum(d_left, d_right)
    ok = np.isfinite(best) & (best <= caliper)
    use_left = ok & (d_left == best)
    use_right = ok & (d_right == best)

    # Each nearest side may be a run of identical scores: [start, end) in the sorted controls.
    def run_bounds(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = c_key[idx]
        return np.searchsorted(c_key, k, side="left"), np.searchsorted(c_key, k, side="right")

    t_left = np.flatnonzero(use_left)
    t_right = np.flatnonzero(use_right)
    l_start, l_end = run_bounds(left[t_left])
    r_start, r_end = run_bounds(right[t_right])
    which = np.concatenate([t_left, t_right])
    starts = np.concatenate([l_start, r_start])
    counts = np.concatenate([l_end - l_start, r_end - r_start])
    if which.size == 0:
        return empty
    k_total = np.bincount(which, weights=counts, minlength=trt.size)
    rep_t = np.repeat(which, counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    ctrl_sorted_pos = np.repeat(starts, counts) + offsets
    pairs = pd.DataFrame(
        {
            "treated_pos": trt[rep_t],
            "control_pos": order[ctrl_sorted_pos],
            "weight": 1.0 / k_total[rep_t],
        }
    )
    return pairs.sort_values(["treated_pos", "control_pos"], kind="stable").reset_index(drop=True)


class EffectEstimator(ABC):
    """Common interface: constructor takes settings, ``fit(sample, covariates, outcome)`` returns self
    and sets ``result_`` (``EffectEstimate``)."""

    name: str = "estimator"
    result_: EffectEstimate

    @abstractmethod
    def fit(self, sample: pd.DataFrame, covariates: list[str], outcome: str = "self_sufficient") -> Self:
        """Estimate the ATT of ``treated`` on ``outcome`` adjusting for ``covariates``."""

    def estimate(self, sample: pd.DataFrame, covariates: list[str], outcome: str = "self_sufficient") -> EffectEstimate:
        """``fit(...).result_``."""
        return self.fit(sample, covariates, outcome).result_


def _check_columns(sample: pd.DataFrame, needed: list[str]) -> None:
    missing = [c for c in needed if c not in sample.columns]
    if missing:
        raise ValueError(f"sample lacks column(s): {', '.join(missing)}")


class PropensityScoreMatching(EffectEstimator):
    """Propensity-score nearest-neighbour matching (see the module docstring for every choice).

    Parameters: ``caliper_sd`` (caliper in pooled SDs of the logit score, default 0.2), ``exact`` (column
    for exact matching, default ``month``; None for none), ``treatment`` and ``cluster`` column names.
    Fitted attributes: ``result_``, ``score_`` (logit of the propensity score, indexed like the sample),
    ``caliper_`` (on the logit scale).
    """

    name = "psm_nn1_caliper"

    def __init__(
        self,
        caliper_sd: float = 0.2,
        exact: str | None = "month",
        treatment: str = "treated",
        cluster: str = "person_id",
    ) -> None:
        if caliper_sd <= 0:
            raise ValueError(f"caliper_sd must be positive, got {caliper_sd}")
        self.caliper_sd = caliper_sd
        self.exact = exact
        self.treatment = treatment
        self.cluster = cluster

    def fit(self, sample: pd.DataFrame, covariates: list[str], outcome: str = "self_sufficient") -> Self:
        needed = [self.treatment, self.cluster, outcome, *covariates] + ([self.exact] if self.exact else [])
        _check_columns(sample, needed)
        if sample[outcome].isna().any():
            raise ValueError(f"outcome {outcome!r} has missing values; drop those rows first")
        treated = sample[self.treatment].to_numpy(dtype=np.int8) == 1
        n_treated = int(treated.sum())
        if n_treated == 0 or treated.all():
            raise ValueError("sample needs both treated and control rows")
        x = sample[covariates].to_numpy(dtype=float, na_value=np.nan)
        if np.isnan(x).any():
            bad = [c for c in covariates if sample[c].isna().any()]
            raise ValueError(f"covariate(s) with missing values: {', '.join(bad)}")
        y = sample[outcome].to_numpy(dtype=float)

        score = fit_logit(x, treated)
        pooled_sd = float(np.sqrt((score[treated].var() + score[~treated].var()) / 2.0))
        caliper = self.caliper_sd * pooled_sd if pooled_sd > 0 else np.inf
        stratum = pd.factorize(sample[self.exact])[0] if self.exact else np.zeros(len(sample), np.int64)
        pos_pairs = nearest_neighbour_match(score, treated, stratum, caliper)

        n = len(sample)
        matched_t = np.unique(pos_pairs["treated_pos"].to_numpy())
        n1 = matched_t.size
        w = np.zeros(n)  # row weights in the estimator sum_r w_r Y_r (times n1)
        w[matched_t] = 1.0
        np.add.at(w, pos_pairs["control_pos"].to_numpy(), -pos_pairs["weight"].to_numpy())
        if n1 > 0:
            att = float(w @ y / n1)
            se = self._se(x, score, treated, y, w, matched_t, att, sample)
        else:
            att, se = float("nan"), float("nan")
        used_controls = np.unique(pos_pairs["control_pos"].to_numpy())
        later = int(sample["later_starter"].to_numpy()[used_controls].sum()) if "later_starter" in sample.columns else 0
        index = sample.index.to_numpy()
        pairs = pd.DataFrame(
            {
                "treated_index": index[pos_pairs["treated_pos"].to_numpy()],
                "control_index": index[pos_pairs["control_pos"].to_numpy()],
                "weight": pos_pairs["weight"].to_numpy(),
            }
        )
        weights = pd.Series(np.abs(w), index=sample.index, name="weight")
        z = att / se if se and se > 0 else np.nan
        self.score_ = pd.Series(score, index=sample.index, name="ps_logit")
        self.caliper_ = caliper
        self.result_ = EffectEstimate(
            estimator=self.name,
            outcome=outcome,
            att=att,
            se=se,
            ci_low=att - Z_95 * se,
            ci_high=att + Z_95 * se,
            p_value=float(2 * stats.norm.sf(abs(z))) if np.isfinite(z) else float("nan"),
            n_treated=n_treated,
            n_matched_treated=int(n1),
            n_controls_used=int(used_controls.size),
            n_treated_unmatched=int(n_treated - n1),
            n_later_starter_controls=later,
            pairs=pairs,
            weights=weights,
            variance_method="Abadie-Imbens style (matching with replacement), clustered by person; "
            "propensity score treated as known",
        )
        return self

    def _se(
        self,
        x: np.ndarray,
        score: np.ndarray,
        treated: np.ndarray,
        y: np.ndarray,
        w: np.ndarray,
        matched_t: np.ndarray,
        att: float,
        sample: pd.DataFrame,
    ) -> float:
        """Person-clustered variance of sum_r w_r Y_r / N1 plus the heterogeneity term (module doc)."""
        n1 = matched_t.size
        xz = np.column_stack([x, score])
        predict1 = _outcome_model(xz[treated], y[treated])
        predict0 = _outcome_model(xz[~treated], y[~treated])
        mu = np.empty_like(y)
        mu[treated] = predict1(xz[treated])
        mu[~treated] = predict0(xz[~treated])
        resid = y - mu
        used = w != 0
        cluster_codes = pd.factorize(sample[self.cluster])[0]
        per_person = np.bincount(cluster_codes[used], weights=w[used] * resid[used])
        v_cond = float(np.sum(per_person**2)) / n1**2
        tau_x = predict1(xz[matched_t]) - predict0(xz[matched_t])
        v_het = float(np.sum((tau_x - att) ** 2)) / n1**2
        return float(np.sqrt(v_cond + v_het))


def _outcome_model(x: np.ndarray, y: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Fit E[y | x] within one arm: logistic regression for a 0/1 outcome, OLS otherwise."""
    mean, sd = x.mean(axis=0), x.std(axis=0)
    sd[sd == 0] = 1.0
    binary = bool(np.isin(y, (0.0, 1.0)).all())
    if binary and y.min() == y.max():
        return lambda x_new: np.full(len(x_new), float(y[0]))
    if binary:
        model = LogisticRegression(C=1e4, max_iter=1000).fit((x - mean) / sd, y.astype(np.int8))
        return lambda x_new: model.predict_proba((x_new - mean) / sd)[:, 1]
    design = np.column_stack([np.ones(len(x)), (x - mean) / sd])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    return lambda x_new: np.column_stack([np.ones(len(x_new)), (x_new - mean) / sd]) @ beta
