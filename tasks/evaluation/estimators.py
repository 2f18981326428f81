"""Effect estimators for the sequential matching sample, with one call shape.

Every estimator is a small configurable object (settings in the constructor, as in scikit-learn) with
``fit(sample, covariates, outcome) -> self``; the result is in ``estimator.result_`` (an ``EffectEstimate``)
and ``estimate(...)`` is ``fit(...).result_``. ``point_estimates(sample, covariates, outcomes)`` returns only
the ATTs (one adjustment shared by several outcomes); the bootstrap calls it on resampled data.
``sample`` is one row per person-month candidate (columns ``treated`` 0/1, the covariates, the outcome,
``month`` for exact matching / stratified weighting, ``person_id`` for clustering, optionally
``later_starter``; see ``insats.tasks.evaluation.design``). Estimands: the ATT, i.e. the mean effect of starting in
month m versus not starting in m, over the starters.

Every estimator here writes the ATT as ``sum_r w_r (Y_r - m_r) / N1`` with signed row weights ``w`` (+1 for a
treated row that is used, minus a non-negative weight for a control, the control weights of each treated /
stratum summing to what its treated carry) and ``m_r = 0`` except in AIPW. ``EffectEstimate.weights`` holds
|w| (for balance tables).

* Propensity score (``propensity_logit``): logistic regression of ``treated`` on the standardised covariates,
  L2 penalty ``1 / (2 C)`` with ``C = 1e4`` (the scikit-learn objective; essentially the ML fit but finite
  under separation), fitted by Newton-Raphson in numpy (fast enough to refit in every bootstrap replicate);
  optionally gradient boosting (``HistGradientBoostingClassifier``, seeded).
* ``PropensityScoreMatching``: k:1 nearest neighbour on the logit of the score, with or without
  replacement, caliper ``caliper_sd`` x the pooled SD of the logit (sqrt((var_t + var_c) / 2), Austin
  2011), exact on ``exact`` (default calendar month; a list of columns for month x municipality).
  With replacement, 1:1: controls tied at the nearest distance share the match (weights 1/k, Abadie-Imbens);
  k > 1: the k nearest, weight 1/k each. Without replacement: greedy, treated in descending score order,
  each takes the nearest still unused control (k rounds). Sorted arrays + ``np.searchsorted`` (and, without
  replacement, union-find "next free control" pointers): O(n log n), never an n x n matrix.
  SE with replacement: Abadie-Imbens style, clustered by person: V = sum over persons of
  (sum_{r in person} w_r e_r)^2 / N1^2 + sum_i (mu1(X_i) - mu0(X_i) - att)^2 / N1^2, with e_r = Y_r -
  mu_arm(X_r) from outcome regressions within each arm on the covariates and the score logit (the
  score is treated as known). SE without replacement: person bootstrap (``insats.tasks.evaluation.bootstrap``).
* ``InverseProbabilityWeighting`` / ``AugmentedIPW`` (``insats.tasks.evaluation.weighting``) and
  ``NaiveDifference`` (no adjustment, the reference that shows the selection).
95 % CI: att +- 1.96 se; two-sided normal p-value.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, fields, replace
from typing import Self

import numpy as np
import pandas as pd
from scipy import stats

# Imported at module level so its OpenMP runtime is loaded before ``threadpool_limits`` is applied (a limit
# set before the library loads does not reach it, and 2-core contention made a 0.2 s fit take 30 s).
from sklearn.ensemble import HistGradientBoostingClassifier
from threadpoolctl import threadpool_limits

from insats.tasks.evaluation.bootstrap import bootstrap_replicates, bootstrap_se, replicate_seeds

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


# ------------------------------------------------------------------------------ models


def _standardise(x: np.ndarray) -> np.ndarray:
    sd = x.std(axis=0)
    sd[sd == 0] = 1.0
    return (x - x.mean(axis=0)) / sd


def _logistic_newton(xs: np.ndarray, y: np.ndarray, c: float, max_iter: int = 100) -> np.ndarray:
    """Coefficients (intercept first) minimising sum logloss + ||beta_slopes||^2 / (2c) (Newton, line search)."""
    n, k = xs.shape
    design = np.column_stack([np.ones(n), xs])
    design_t = np.ascontiguousarray(design.T)
    penalty = np.full(k + 1, 1.0 / c)
    penalty[0] = 0.0
    p0 = np.clip(y.mean(), 1e-6, 1 - 1e-6)
    beta = np.zeros(k + 1)
    beta[0] = np.log(p0 / (1 - p0))

    def objective(b: np.ndarray) -> float:
        eta = design @ b
        return float(np.sum(np.logaddexp(0.0, eta) - y * eta) + 0.5 * np.sum(penalty * b * b))

    current = objective(beta)
    for _ in range(max_iter):
        eta = design @ beta
        p = 0.5 * (1.0 + np.tanh(0.5 * eta))  # logistic without overflow
        grad = design.T @ (p - y) + penalty * beta
        # Floor the curvature weights: subnormal p(1-p) makes the matrix product ~10x slower.
        curvature = np.maximum(p * (1 - p), 1e-12)
        hess = design_t @ (design * curvature[:, None]) + np.diag(penalty + 1e-12)
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while t > 1e-8:
            candidate = beta - t * step
            value = objective(candidate)
            if value <= current + 1e-12:
                break
            t /= 2
        beta, previous, current = candidate, current, value
        if abs(previous - current) < 1e-10 * (1 + abs(current)) and np.max(np.abs(t * step)) < 1e-7:
            break
    return beta


def fit_logit(x: np.ndarray, y: np.ndarray, c: float = 1e4) -> np.ndarray:
    """Linear predictor (logit) of a logistic regression of 0/1 ``y`` on ``x`` (n x k; standardised inside;
    L2 penalty 1/(2c) on the slopes: scikit-learn's ``LogisticRegression(C=c)`` objective).

    A constant ``y`` gives a constant logit at the logit of its mean (clipped), so callers need no special
    case.
    """
    y = np.asarray(y, dtype=float)
    if y.min() == y.max():
        p = np.clip(y.mean(), 1e-6, 1 - 1e-6)
        return np.full(len(y), np.log(p / (1 - p)))
    xs = _standardise(np.asarray(x, dtype=float))
    beta = _logistic_newton(xs, y, c)
    return beta[0] + xs @ beta[1:]


def propensity_logit(x: np.ndarray, treated: np.ndarray, model: str = "logit", seed: int = 0) -> np.ndarray:
    """Logit of the propensity score P(treated | x): ``model`` "logit" (``fit_logit``) or "gbm" (scikit-learn
    ``HistGradientBoostingClassifier``, ``random_state=seed``, probabilities clipped to [1e-6, 1 - 1e-6])."""
    treated = np.asarray(treated, dtype=float)
    if model == "logit":
        return fit_logit(x, treated)
    if model == "gbm":
        if treated.min() == treated.max():
            return fit_logit(x, treated)
        clf = HistGradientBoostingClassifier(
            max_iter=50, max_leaf_nodes=15, min_samples_leaf=50, early_stopping=False, random_state=seed
        )
        clf.fit(np.asarray(x, dtype=float), treated.astype(np.int8))
        p = np.clip(clf.predict_proba(np.asarray(x, dtype=float))[:, 1], 1e-6, 1 - 1e-6)
        return np.log(p / (1 - p))
    raise ValueError(f"unknown propensity model {model!r}; expected 'logit' or 'gbm'")


def _outcome_model(x: np.ndarray, y: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Fit E[y | x] within one arm: logistic regression (C = 1e4) for a 0/1 outcome, OLS otherwise."""
    mean, sd = x.mean(axis=0), x.std(axis=0)
    sd[sd == 0] = 1.0
    binary = bool(np.isin(y, (0.0, 1.0)).all())
    if binary and y.min() == y.max():
        return lambda x_new: np.full(len(x_new), float(y[0]))
    if binary:
        beta = _logistic_newton((x - mean) / sd, y.astype(float), 1e4)
        return lambda x_new: 1.0 / (1.0 + np.exp(-(beta[0] + ((x_new - mean) / sd) @ beta[1:])))
    design = np.column_stack([np.ones(len(x)), (x - mean) / sd])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    return lambda x_new: np.column_stack([np.ones(len(x_new)), (x_new - mean) / sd]) @ beta


# ------------------------------------------------------------------------------ matching

_EMPTY_PAIRS = {"treated_pos": np.int64, "control_pos": np.int64, "weight": float}


def _empty_pairs() -> pd.DataFrame:
    return pd.DataFrame({k: np.array([], dtype=v) for k, v in _EMPTY_PAIRS.items()})


def nearest_neighbour_match(
    score: np.ndarray,
    treated: np.ndarray,
    stratum: np.ndarray,
    caliper: float,
    k: int = 1,
    replace: bool = True,
) -> pd.DataFrame:
    """k:1 nearest-neighbour matching on ``score`` within exact ``stratum``, with or without replacement.

    ``score``: float array (e.g. logit of the propensity score); ``treated``: bool array; ``stratum``:
    integer codes (exact matching). A control is a candidate for a treated if it is in the same stratum and
    ``|score difference| <= caliper``.

    * ``replace=True, k=1``: the nearest candidate; candidates tied at that distance share the match
      (weight 1/ties, as in Abadie-Imbens).
    * ``replace=True, k>1``: the k nearest candidates (fewer if fewer exist), weight 1/found each.
    * ``replace=False``: greedy, treated in descending ``score`` order (hardest to match first), each takes
      the nearest unused candidate; with k > 1, k such rounds; weight 1/found.

    Returns positional pairs: ``treated_pos``, ``control_pos`` (int64), ``weight`` (float; the weights of a
    treated sum to 1), sorted by treated then control; treated without a match do not appear.
    Controls are sorted once by (stratum, score) and every treated is located with ``np.searchsorted``;
    without replacement, used controls are skipped with union-find pointers. O(n log n) time, O(n) memory.
    """
    if k < 1:
        raise ValueError(f"k must be >= 1, got {k}")
    score = np.asarray(score, dtype=float)
    treated = np.asarray(treated, dtype=bool)
    stratum = np.asarray(stratum, dtype=np.int64)
    ctrl = np.flatnonzero(~treated)
    trt = np.flatnonzero(treated)
    if ctrl.size == 0 or trt.size == 0:
        return _empty_pairs()
    # Composite sort key: strata far apart (offset > score range), scores ordered inside each stratum.
    lo_score = float(score.min())
    finite_caliper = caliper if np.isfinite(caliper) else 0.0
    offset = float(score.max() - lo_score) + 2.0 * abs(finite_caliper) + 1.0
    _, strat_code = np.unique(stratum, return_inverse=True)
    key = strat_code * offset + (score - lo_score)
    order = ctrl[np.argsort(key[ctrl], kind="stable")]
    sorted_ctrl = _SortedControls(order, key[order], score[order], strat_code[order])
    t_strat = strat_code[trt]
    s_lo = np.searchsorted(sorted_ctrl.strat, t_strat, side="left")  # this stratum's controls: [s_lo, s_hi)
    s_hi = np.searchsorted(sorted_ctrl.strat, t_strat, side="right")
    pos = np.searchsorted(sorted_ctrl.key, key[trt], side="left")
    if not replace:
        pairs = _greedy_without_replacement(sorted_ctrl, trt, score[trt], s_lo, s_hi, pos, caliper, k)
    elif k == 1:
        pairs = _nearest_with_ties(sorted_ctrl, trt, score[trt], s_lo, s_hi, pos, caliper)
    else:
        pairs = _k_nearest(sorted_ctrl, trt, score[trt], s_lo, s_hi, pos, caliper, k)
    if pairs.empty:
        return _empty_pairs()
    return pairs.sort_values(["treated_pos", "control_pos"], kind="stable").reset_index(drop=True)


@dataclass
class _SortedControls:
    order: np.ndarray  # positions of the controls in sorted order
    key: np.ndarray
    score: np.ndarray
    strat: np.ndarray


def _nearest_with_ties(
    c: _SortedControls,
    trt: np.ndarray,
    t_score: np.ndarray,
    s_lo: np.ndarray,
    s_hi: np.ndarray,
    pos: np.ndarray,
    caliper: float,
) -> pd.DataFrame:
    left, right = pos - 1, pos
    has_left, has_right = left >= s_lo, right < s_hi
    d_left = np.where(has_left, t_score - c.score[np.clip(left, 0, None)], np.inf)
    d_right = np.where(has_right, c.score[np.clip(right, None, c.score.size - 1)] - t_score, np.inf)
    best = np.minimum(d_left, d_right)
    ok = np.isfinite(best) & (best <= caliper)
    t_left = np.flatnonzero(ok & (d_left == best))
    t_right = np.flatnonzero(ok & (d_right == best))

    # Each nearest side may be a run of identical scores: [start, end) in the sorted controls.
    def run_bounds(idx: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        k = c.key[idx]
        return np.searchsorted(c.key, k, side="left"), np.searchsorted(c.key, k, side="right")

    l_start, l_end = run_bounds(left[t_left])
    r_start, r_end = run_bounds(right[t_right])
    which = np.concatenate([t_left, t_right])
    starts = np.concatenate([l_start, r_start])
    counts = np.concatenate([l_end - l_start, r_end - r_start])
    if which.size == 0:
        return _empty_pairs()
    k_total = np.bincount(which, weights=counts, minlength=trt.size)
    rep_t = np.repeat(which, counts)
    offsets = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    ctrl_sorted_pos = np.repeat(starts, counts) + offsets
    return pd.DataFrame(
        {"treated_pos": trt[rep_t], "control_pos": c.order[ctrl_sorted_pos], "weight": 1.0 / k_total[rep_t]}
    )


def _k_nearest(
    c: _SortedControls,
    trt: np.ndarray,
    t_score: np.ndarray,
    s_lo: np.ndarray,
    s_hi: np.ndarray,
    pos: np.ndarray,
    caliper: float,
    k: int,
) -> pd.DataFrame:
    """k rounds of "take the nearer of the next control on the left and on the right", vectorised."""
    left, right = pos - 1, pos.copy()
    active = np.ones(trt.size, dtype=bool)
    got_t, got_c = [], []
    for _ in range(k):
        d_left = np.where(left >= s_lo, t_score - c.score[np.clip(left, 0, None)], np.inf)
        d_right = np.where(right < s_hi, c.score[np.clip(right, None, c.score.size - 1)] - t_score, np.inf)
        take_left = d_left <= d_right
        best = np.where(take_left, d_left, d_right)
        ok = active & np.isfinite(best) & (best <= caliper)
        idx = np.flatnonzero(ok)
        chosen = np.where(take_left[idx], left[idx], right[idx])
        got_t.append(idx)
        got_c.append(chosen)
        left = np.where(ok & take_left, left - 1, left)
        right = np.where(ok & ~take_left, right + 1, right)
        active = ok
    which = np.concatenate(got_t)
    if which.size == 0:
        return _empty_pairs()
    found = np.bincount(which, minlength=trt.size)
    return pd.DataFrame(
        {"treated_pos": trt[which], "control_pos": c.order[np.concatenate(got_c)], "weight": 1.0 / found[which]}
    )


def _find(parent: list[int], i: int) -> int:
    root = i
    while parent[root] != root:
        root = parent[root]
    while parent[i] != root:
        parent[i], i = root, parent[i]
    return root


def _greedy_without_replacement(
    c: _SortedControls,
    trt: np.ndarray,
    t_score: np.ndarray,
    s_lo: np.ndarray,
    s_hi: np.ndarray,
    pos: np.ndarray,
    caliper: float,
    k: int,
) -> pd.DataFrame:
    """Greedy matching without replacement. ``left[j + 1]`` leads to the nearest unused control at or left of
    sorted position j (0 = none); ``right[j]`` to the nearest unused at or right of j (n = none)."""
    n = c.score.size
    left_parent = list(range(n + 1))
    right_parent = list(range(n + 1))
    cs = c.score.tolist()
    lo, hi, ps, ts = s_lo.tolist(), s_hi.tolist(), pos.tolist(), t_score.tolist()
    active = [int(i) for i in np.argsort(-t_score, kind="stable")]
    got_t: list[int] = []
    got_c: list[int] = []
    for _ in range(k):
        still = []
        for i in active:
            j_left = _find(left_parent, ps[i]) - 1  # nearest unused at or left of pos - 1
            j_right = _find(right_parent, ps[i])
            d_left = ts[i] - cs[j_left] if j_left >= lo[i] else np.inf
            d_right = cs[j_right] - ts[i] if j_right < hi[i] else np.inf
            if d_left <= d_right:
                best, j = d_left, j_left
            else:
                best, j = d_right, j_right
            if best <= caliper and np.isfinite(best):
                got_t.append(i)
                got_c.append(j)
                left_parent[j + 1] = j
                right_parent[j] = j + 1
                still.append(i)
        active = still
    if not got_t:
        return _empty_pairs()
    which = np.asarray(got_t, dtype=np.int64)
    found = np.bincount(which, minlength=trt.size)
    return pd.DataFrame(
        {
            "treated_pos": trt[which],
            "control_pos": c.order[np.asarray(got_c, dtype=np.int64)],
            "weight": 1.0 / found[which],
        }
    )


# ------------------------------------------------------------------------------ the common interface


@dataclass
class Design:
    """Arrays an estimator works on (one row per sample row)."""

    x: np.ndarray  # covariates, float n x k
    treated: np.ndarray  # bool
    stratum: np.ndarray  # int64 codes of the exact / stratification cells (all 0 without)
    clusters: np.ndarray  # int64 person codes
    later: np.ndarray  # bool: control who starts within the horizon
    index: pd.Index
    cache: dict = field(default_factory=dict)  # propensity scores shared by estimators on the same design

    def propensity(self, model: str = "logit", seed: int = 0) -> np.ndarray:
        """Logit of the propensity score (``propensity_logit``), computed once per (model, seed)."""
        key = ("ps", model, seed if model == "gbm" else 0)
        if key not in self.cache:
            self.cache[key] = propensity_logit(self.x, self.treated, model, seed)
        return self.cache[key]


@dataclass
class Adjustment:
    """What an estimator's adjustment produced: signed row weights (att = w @ (y - m) / n1)."""

    w: np.ndarray
    score: np.ndarray | None = None
    pairs: pd.DataFrame | None = None  # positional pairs (treated_pos, control_pos, weight)
    info: dict = field(default_factory=dict)

    @property
    def n1(self) -> int:
        return int(np.sum(self.w > 0))


def _check_columns(sample: pd.DataFrame, needed: list[str]) -> None:
    missing = [c for c in needed if c not in sample.columns]
    if missing:
        raise ValueError(f"sample lacks column(s): {', '.join(missing)}")


def strata_codes(sample: pd.DataFrame, exact: str | Sequence[str] | None) -> np.ndarray:
    """Integer codes of the exact-matching cells formed by the column(s) ``exact`` (zeros for None)."""
    if not exact:
        return np.zeros(len(sample), dtype=np.int64)
    cols = [exact] if isinstance(exact, str) else list(exact)
    return sample.groupby(cols, sort=True, observed=True, dropna=False).ngroup().to_numpy(dtype=np.int64)


class EffectEstimator(ABC):
    """Common interface: the constructor takes settings; ``fit(sample, covariates, outcome)`` returns self and
    sets ``result_`` (``EffectEstimate``); ``point_estimates(sample, covariates, outcomes)`` gives the ATTs
    only. Subclasses implement ``_adjust`` (and optionally ``_residualise`` and ``_analytic_se``); the SE is
    analytic where a subclass provides one, else a person bootstrap with ``n_boot`` replicates from ``seed``
    (``n_boot = 0``: SE left NaN, to be filled by the caller with ``with_bootstrap``).
    """

    name: str = "estimator"
    treatment: str = "treated"
    cluster: str = "person_id"
    exact: str | Sequence[str] | None = None
    n_boot: int = 0
    seed: int = 0
    result_: EffectEstimate

    @property
    def label(self) -> str:
        """The estimator's name in effect tables (encodes its settings)."""
        return self.name

    @property
    def uses_bootstrap(self) -> bool:
        """True when the SE comes from the bootstrap (no analytic variance)."""
        return True

    @abstractmethod
    def _adjust(self, d: Design) -> Adjustment:
        """Signed weights (and score, pairs) from the design."""

    def _residualise(self, d: Design, adj: Adjustment, y: np.ndarray) -> np.ndarray:
        """The outcome after subtracting an outcome-model prediction (identity except in AIPW)."""
        return y

    def _analytic_se(self, d: Design, adj: Adjustment, y: np.ndarray, att: float) -> tuple[float, str] | None:
        """(se, method) where an analytic variance applies; None = bootstrap."""
        return None

    def _design(self, sample: pd.DataFrame, covariates: list[str], outcomes: list[str]) -> Design:
        exact = [self.exact] if isinstance(self.exact, str) else list(self.exact or [])
        _check_columns(sample, [self.treatment, self.cluster, *outcomes, *covariates, *exact])
        for outcome in outcomes:
            if sample[outcome].isna().any():
                raise ValueError(f"outcome {outcome!r} has missing values; drop those rows first")
        treated = sample[self.treatment].to_numpy(dtype=np.int8) == 1
        if not treated.any() or treated.all():
            raise ValueError("sample needs both treated and control rows")
        x = sample[covariates].to_numpy(dtype=float, na_value=np.nan)
        if np.isnan(x).any():
            bad = [c for c in covariates if sample[c].isna().any()]
            raise ValueError(f"covariate(s) with missing values: {', '.join(bad)}")
        later = (
            sample["later_starter"].to_numpy(dtype=np.int8) == 1
            if "later_starter" in sample.columns
            else np.zeros(len(sample), dtype=bool)
        )
        return Design(
            x=x,
            treated=treated,
            stratum=strata_codes(sample, self.exact),
            clusters=pd.factorize(sample[self.cluster])[0].astype(np.int64),
            later=later,
            index=sample.index,
        )

    def _att(self, d: Design, adj: Adjustment, y: np.ndarray) -> float:
        n1 = adj.n1
        if n1 == 0:
            return float("nan")
        return float(adj.w @ self._residualise(d, adj, y) / n1)

    def point_estimates(
        self, sample: pd.DataFrame, covariates: list[str], outcomes: list[str], design: Design | None = None
    ) -> dict[str, float]:
        """ATT per outcome, one adjustment shared by all (outcomes must have no missing values). ``design``:
        a ``Design`` of this very sample to reuse (and its cached propensity scores)."""
        d = design if design is not None else self._design(sample, covariates, outcomes)
        adj = self._adjust(d)
        return {o: self._att(d, adj, sample[o].to_numpy(dtype=float)) for o in outcomes}

    def fit(
        self,
        sample: pd.DataFrame,
        covariates: list[str],
        outcome: str = "self_sufficient",
        *,
        design: Design | None = None,
    ) -> Self:
        """Estimate the ATT of ``treated`` on ``outcome`` adjusting for ``covariates``. ``design``: a
        ``Design`` of this very sample to reuse (several estimators / outcomes share its propensity scores)."""
        # The matrix products are small (n x ~15): BLAS threads only contend, single-threaded is ~5x faster.
        with threadpool_limits(limits=1):
            return self._fit(sample, covariates, outcome, design)

    def _fit(self, sample: pd.DataFrame, covariates: list[str], outcome: str, design: Design | None) -> Self:
        d = design if design is not None else self._design(sample, covariates, [outcome])
        y = sample[outcome].to_numpy(dtype=float)
        adj = self._adjust(d)
        att = self._att(d, adj, y)
        analytic = self._analytic_se(d, adj, y, att) if np.isfinite(att) else None
        if analytic is not None:
            se, method = analytic
        elif self.n_boot > 0 and np.isfinite(att):
            replicates = bootstrap_replicates(
                self.without_bootstrap().point_estimates,
                sample,
                covariates,
                [outcome],
                replicate_seeds(self.seed, self.n_boot),
                cluster=self.cluster,
            )
            row = bootstrap_se(replicates).iloc[0]
            se, method = float(row["se"]), f"person (cluster) bootstrap, {int(row['n_replicates'])} replicates"
        else:
            se, method = float("nan"), "bootstrap not run (n_boot = 0)"
        self.result_ = self._result(d, adj, outcome, att, se, method)
        self.score_ = pd.Series(adj.score, index=sample.index, name="ps_logit") if adj.score is not None else None
        return self

    def estimate(self, sample: pd.DataFrame, covariates: list[str], outcome: str = "self_sufficient") -> EffectEstimate:
        """``fit(...).result_``."""
        return self.fit(sample, covariates, outcome).result_

    def without_bootstrap(self) -> Self:
        """A copy of this estimator with ``n_boot = 0`` (what bootstrap replicates run)."""
        clone = object.__new__(type(self))
        clone.__dict__.update(self.__dict__)
        clone.n_boot = 0
        return clone

    def _result(self, d: Design, adj: Adjustment, outcome: str, att: float, se: float, method: str) -> EffectEstimate:
        w = adj.w
        used_controls = np.flatnonzero((w < 0) & ~d.treated)
        n_treated = int(d.treated.sum())
        n1 = adj.n1
        index = d.index.to_numpy()
        if adj.pairs is not None:
            pairs = pd.DataFrame(
                {
                    "treated_index": index[adj.pairs["treated_pos"].to_numpy()],
                    "control_index": index[adj.pairs["control_pos"].to_numpy()],
                    "weight": adj.pairs["weight"].to_numpy(),
                }
            )
        else:
            pairs = pd.DataFrame({"treated_index": index[:0], "control_index": index[:0], "weight": np.array([])})
        ci_low, ci_high, p = normal_inference(att, se)
        return EffectEstimate(
            estimator=self.label,
            outcome=outcome,
            att=att,
            se=se,
            ci_low=ci_low,
            ci_high=ci_high,
            p_value=p,
            n_treated=n_treated,
            n_matched_treated=n1,
            n_controls_used=int(used_controls.size),
            n_treated_unmatched=n_treated - n1,
            n_later_starter_controls=int(d.later[used_controls].sum()),
            pairs=pairs,
            weights=pd.Series(np.abs(w), index=d.index, name="weight"),
            variance_method=method,
            n_eligible_controls=int((~d.treated).sum()),
            n_control_persons=int(np.unique(d.clusters[used_controls]).size),
            score=pd.Series(adj.score, index=d.index, name="ps_logit") if adj.score is not None else None,
        )


class NaiveDifference(EffectEstimator):
    """Unadjusted difference in mean outcome, treated minus all eligible controls (the selection benchmark).

    SE: person-clustered, from the influence function of the difference in means."""

    name = "naive_difference"

    def __init__(self, treatment: str = "treated", cluster: str = "person_id") -> None:
        self.treatment, self.cluster = treatment, cluster

    @property
    def uses_bootstrap(self) -> bool:
        return False

    def _adjust(self, d: Design) -> Adjustment:
        n1, n0 = d.treated.sum(), (~d.treated).sum()
        return Adjustment(w=np.where(d.treated, 1.0, -n1 / n0))

    def _analytic_se(self, d: Design, adj: Adjustment, y: np.ndarray, att: float) -> tuple[float, str]:
        t = d.treated
        psi = np.where(t, (y - y[t].mean()) / t.sum(), -(y - y[~t].mean()) / (~t).sum())
        per_person = np.bincount(d.clusters, weights=psi)
        return float(np.sqrt(np.sum(per_person**2))), "influence function, clustered by person"


class PropensityScoreMatching(EffectEstimator):
    """Propensity-score k:1 nearest-neighbour matching (see the module docstring for every choice).

    Parameters: ``caliper_sd`` (caliper in pooled SDs of the logit score, default 0.2), ``k`` (controls per
    treated), ``replace`` (with replacement: Abadie-Imbens SE; without: bootstrap SE with ``n_boot``
    replicates from ``seed``), ``exact`` (column(s) for exact matching, default ``month``; None for none),
    ``ps_model`` ("logit" or "gbm"), ``treatment`` and ``cluster`` column names.
    Fitted attributes: ``result_``, ``score_`` (logit of the propensity score, indexed like the sample),
    ``caliper_`` (on the logit scale).
    """

    name = "psm_nn1_caliper"

    def __init__(
        self,
        caliper_sd: float = 0.2,
        exact: str | Sequence[str] | None = "month",
        treatment: str = "treated",
        cluster: str = "person_id",
        *,
        k: int = 1,
        replace: bool = True,
        ps_model: str = "logit",
        n_boot: int = 0,
        seed: int = 0,
    ) -> None:
        if caliper_sd <= 0:
            raise ValueError(f"caliper_sd must be positive, got {caliper_sd}")
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        if ps_model not in ("logit", "gbm"):
            raise ValueError(f"ps_model must be 'logit' or 'gbm', got {ps_model!r}")
        self.caliper_sd = caliper_sd
        self.exact = exact
        self.treatment = treatment
        self.cluster = cluster
        self.k = k
        self.replace = replace
        self.ps_model = ps_model
        self.n_boot = n_boot
        self.seed = seed

    @property
    def label(self) -> str:
        """``psm_nn{k}[_norepl]_caliper[_gbm]``; the default 1:1 with replacement is ``psm_nn1_caliper``."""
        return f"psm_nn{self.k}{'' if self.replace else '_norepl'}_caliper{'_gbm' if self.ps_model == 'gbm' else ''}"

    @property
    def uses_bootstrap(self) -> bool:
        return not self.replace

    def _adjust(self, d: Design) -> Adjustment:
        score = d.propensity(self.ps_model, self.seed)
        pooled_sd = float(np.sqrt((score[d.treated].var() + score[~d.treated].var()) / 2.0))
        caliper = self.caliper_sd * pooled_sd if pooled_sd > 0 else np.inf
        self.caliper_ = caliper
        pairs = nearest_neighbour_match(score, d.treated, d.stratum, caliper, k=self.k, replace=self.replace)
        w = np.zeros(len(score))
        w[np.unique(pairs["treated_pos"].to_numpy())] = 1.0
        np.add.at(w, pairs["control_pos"].to_numpy(), -pairs["weight"].to_numpy())
        return Adjustment(w=w, score=score, pairs=pairs, info={"caliper": caliper})

    def _analytic_se(self, d: Design, adj: Adjustment, y: np.ndarray, att: float) -> tuple[float, str] | None:
        """Person-clustered variance of sum_r w_r Y_r / N1 plus the heterogeneity term (module doc)."""
        if not self.replace:
            return None
        w, treated, score = adj.w, d.treated, adj.score
        matched_t = np.flatnonzero(w > 0)
        n1 = matched_t.size
        xz = np.column_stack([d.x, score])
        predict1 = _outcome_model(xz[treated], y[treated])
        predict0 = _outcome_model(xz[~treated], y[~treated])
        mu = np.empty_like(y)
        mu[treated] = predict1(xz[treated])
        mu[~treated] = predict0(xz[~treated])
        resid = y - mu
        used = w != 0
        per_person = np.bincount(d.clusters[used], weights=w[used] * resid[used])
        v_cond = float(np.sum(per_person**2)) / n1**2
        tau_x = predict1(xz[matched_t]) - predict0(xz[matched_t])
        v_het = float(np.sum((tau_x - att) ** 2)) / n1**2
        return (
            float(np.sqrt(v_cond + v_het)),
            "Abadie-Imbens style (matching with replacement), clustered by person; propensity score treated as known",
        )
