"""An effect estimate and its uncertainty: the result type, normal 95 % inference, and the variances with a
closed form (the rest come from the person bootstrap, ``insats.tasks.evaluation.bootstrap``).

Every estimate names its variance method with one of ``VARIANCE_METHODS`` (the effects table's
``variance_method`` column).

* ``normal_inference``: 95 % CI att +- 1.96 se and the two-sided normal p-value of att = 0.
* Matching WITH replacement (Abadie & Imbens 2006, Econometrica 74: 235-267, the ATT "population" variance):
  ``same_arm_variance`` estimates sigma^2(X_i, W_i) = J/(J+1) (Y_i - mean of its J nearest same-arm
  neighbours on the score)^2 (J = 2 as Stata's ``vce(robust, nn(2))``), and ``abadie_imbens_2006_variance``
  V = [sum_T (Y_i - Yhat_i(0) - att)^2 + sum_C (K_i^2 - K'_i) sigma^2_i] / N1^2, K_i the control's total match
  weight, K'_i the sum of its squared match weights (K(K-1)/M^2 without ties). Rows of one person (cluster)
  add their cross-products sum_g [(sum_{r in g} w_r e_r)^2 - sum_{r in g} w_r^2 e_r^2] with
  e_r^2 = sigma^2_r; zero when every row is its own cluster (a cross-section), where V is Stata's.
* ``abadie_imbens_2016_adjustment`` (Abadie & Imbens 2016, Econometrica 84: 781-807, Theorem 2, ATET): the
  change in V from estimating the logit score, [d' I^-1 d - c' I^-1 c] / N with I = mean f X X' (f = p(1-p)),
  d = sum_i f_i X_i (Dhat_i - att) / N1 and c = sum_i f_i [X_i (Dhat_i - att) + cov(X, mu1 | p)_i +
  p_i / (1 - p_i) cov(X, mu0 | p)_i] / N1 over all rows; Dhat_i = Yhat_i(1) - Yhat_i(0) by M:1 matching in
  both directions and the conditional covariances from the J + 1 nearest rows of each arm on the score. What
  Stata's ``teffects psmatch`` reports by default.
* ``difference_in_means_se``: the unadjusted difference, from its influence function (the robust sandwich of
  OLS of y on the treatment), clustered by person.
* ``with_se`` / ``with_bootstrap``: an estimate with its SE replaced (CI and p recomputed).
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace

import numpy as np
import pandas as pd
from scipy import special, stats

from insats.tasks.evaluation.bootstrap import bootstrap_se
from insats.tasks.evaluation.matching import k_nearest
from insats.tasks.evaluation.propensity import LogitFit, weighted_gram

Z_95 = float(stats.norm.ppf(0.975))
VARIANCE_METHODS = (
    "abadie_imbens_2016",  # matching with replacement, adjusted for the estimated logit score
    "abadie_imbens_2006",  # matching with replacement, score treated as known
    "bootstrap_persons",  # resampling persons (clusters), re-running the whole estimator
    "bootstrap_rows",  # resampling rows (no person column)
    "robust_sandwich",  # influence function / sandwich, clustered by person where there is one
    "none",  # not computed (bootstrap with 0 replicates)
)


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
    ``n_control_persons`` distinct persons among the used controls; ``n_controls_dropped`` controls excluded by
    a trimming / common-support rule and ``dropped_because`` the rules that dropped treated or controls
    ("caliper", "trim", "no_control_in_stratum", "common_support", joined by ";"; "" when none did).
    ``variance_method`` (one of ``VARIANCE_METHODS``) says how ``se`` was obtained.
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
    n_controls_dropped: int = 0
    dropped_because: str = ""

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
    return with_se(estimate, float(row["se"]), "bootstrap_persons")


def normal_inference(att: float, se: float) -> tuple[float, float, float]:
    """(ci_low, ci_high, p_value) of a normal 95 % interval and two-sided test of att = 0."""
    if not (np.isfinite(att) and np.isfinite(se)):
        return float("nan"), float("nan"), float("nan")
    z = att / se if se > 0 else (np.inf if att != 0 else 0.0)
    return att - Z_95 * se, att + Z_95 * se, float(2 * special.ndtr(-abs(z)))


def difference_in_means_se(y: np.ndarray, treated: np.ndarray, clusters: np.ndarray) -> float:
    """SE of mean(y | treated) - mean(y | control) from its influence function, clustered by person.

    ``y``: n floats; ``treated``: n bools; ``clusters``: n int64 person codes (0 .. G-1)."""
    t = treated
    psi = np.where(t, (y - y[t].mean()) / t.sum(), -(y - y[~t].mean()) / (~t).sum())
    per_person = np.bincount(clusters, weights=psi)
    return float(np.sqrt(np.sum(per_person**2)))


class Neighbours:
    """``k_nearest`` on one matching score, memoised: the same-arm and cross-arm neighbour lists that the
    Abadie-Imbens variances need, shared by every outcome and every estimator matching on that score.

    ``score``: n floats; ``stratum``: n integer codes; ``treated``: n bools. ``of(arm, within, k)`` are the
    ``k`` nearest rows of ``arm`` (True = treated) of every row in ``arm`` (``within``, itself excluded) or
    of every row not in it; a call with a smaller ``k`` reuses a larger one's first columns (``k_nearest``
    fills column j the same way whatever k is)."""

    def __init__(self, score: np.ndarray, stratum: np.ndarray, treated: np.ndarray) -> None:
        self.score, self.stratum, self.treated = score, stratum, np.asarray(treated, dtype=bool)
        self._found: dict[tuple[bool, bool], np.ndarray] = {}

    def of(self, arm: bool, within: bool, k: int) -> np.ndarray:
        in_arm = self.treated if arm else ~self.treated
        have = self._found.get((arm, within))
        if have is None or have.shape[1] < k:
            have = k_nearest(self.score, self.stratum, in_arm if within else ~in_arm, in_arm, k)
            self._found[(arm, within)] = have
        return have[:, :k]


def _neighbours(
    score: np.ndarray, stratum: np.ndarray, treated: np.ndarray, neighbours: Neighbours | None
) -> Neighbours:
    if neighbours is not None and neighbours.score is score and neighbours.stratum is stratum:
        return neighbours
    return Neighbours(score, stratum, treated)


def same_arm_variance(
    y: np.ndarray,
    score: np.ndarray,
    treated: np.ndarray,
    stratum: np.ndarray,
    j: int = 2,
    neighbours: Neighbours | None = None,
) -> np.ndarray:
    """sigma^2_i = J_i / (J_i + 1) (y_i - mean of its J_i <= ``j`` nearest same-arm, same-stratum neighbours on
    ``score``)^2 for every row (n floats); a row without a neighbour gets its arm's variance. ``neighbours``:
    a ``Neighbours`` of this very ``score`` to reuse (computed here otherwise)."""
    nbs = _neighbours(score, stratum, treated, neighbours)
    sigma2 = np.empty(y.size)
    for flag, arm in ((True, treated), (False, ~treated)):
        rows = np.flatnonzero(arm)
        nb = nbs.of(flag, True, j)
        found = (nb >= 0).sum(axis=1)
        mean_nb = np.where(nb >= 0, y[np.clip(nb, 0, None)], 0.0).sum(axis=1) / np.maximum(found, 1)
        s2 = found / (found + 1.0) * (y[rows] - mean_nb) ** 2
        fallback = float(y[rows].var(ddof=1)) if rows.size > 1 else 0.0
        sigma2[rows] = np.where(found > 0, s2, fallback)
    return sigma2


def abadie_imbens_2006_variance(
    y: np.ndarray,
    w: np.ndarray,
    pairs: pd.DataFrame,
    sigma2: np.ndarray,
    clusters: np.ndarray,
    att: float,
) -> float:
    """Variance of a matching ATT with replacement (module docstring). ``y``: n outcomes; ``w``: n signed
    weights (+1 matched treated, minus the control's total match weight); ``pairs``: positional pairs
    (treated_pos, control_pos, weight); ``sigma2``: ``same_arm_variance``; ``clusters``: n int64 codes."""
    n1 = int(np.sum(w > 0))
    t_pos = pairs["treated_pos"].to_numpy()
    c_pos = pairs["control_pos"].to_numpy()
    pw = pairs["weight"].to_numpy()
    y0_hat = np.bincount(t_pos, weights=pw * y[c_pos], minlength=y.size)
    matched = w > 0
    treated_term = float(np.sum((y[matched] - y0_hat[matched] - att) ** 2))
    k = np.where(w < 0, -w, 0.0)
    k_sq = np.bincount(c_pos, weights=pw**2, minlength=y.size)
    control_term = float(np.sum((k**2 - k_sq) * sigma2))
    used = w != 0
    e = np.sqrt(sigma2[used]) * w[used]
    cross = np.bincount(clusters[used], weights=e) ** 2 - np.bincount(clusters[used], weights=e**2)
    return (treated_term + control_term + float(np.sum(cross))) / n1**2


def _local_cov_sum(x: np.ndarray, y: np.ndarray, members: np.ndarray, g: np.ndarray) -> np.ndarray:
    """sum_i g_i cov_i(x, y) (k floats), cov_i the covariance (ddof 1) of every column of ``x`` (n x k) with
    ``y`` (n) over row i's ``members`` (m x L positions, -1 = missing; 0 when fewer than 2 members).

    Uses sum_l (x_l - x_bar)(y_l - y_bar) = sum_l x_l (y_l - y_bar): the weighted member rows are summed
    per position (``bincount``) and multiplied by ``x`` once, with no m x L x k array."""
    ok = members >= 0
    cnt = ok.sum(axis=1)
    idx = np.clip(members, 0, None)
    ym = np.where(ok, y[idx], 0.0)
    y_bar = ym.sum(axis=1) / np.maximum(cnt, 1)
    scale = np.where(cnt >= 2, g / np.maximum(cnt - 1, 1), 0.0)
    coef = np.where(ok, (ym - y_bar[:, None]) * scale[:, None], 0.0)
    return np.bincount(idx.ravel(), weights=coef.ravel(), minlength=x.shape[0]) @ x


def abadie_imbens_2016_adjustment(
    fit: LogitFit,
    y: np.ndarray,
    treated: np.ndarray,
    stratum: np.ndarray,
    att: float,
    m: int = 1,
    j: int = 2,
    score: np.ndarray | None = None,
    neighbours: Neighbours | None = None,
) -> float:
    """Change in the variance of a matching ATT from estimating the logit score ``fit`` (module docstring;
    may be negative). ``m``: matches per row for the imputed effects Dhat; ``j``: neighbours for the
    conditional covariances (J + 1 rows per arm); ``score``: the matching score (default the logit);
    ``neighbours``: a ``Neighbours`` of this very score to reuse."""
    x, p = fit.design, fit.p
    score = fit.eta if score is None else score
    n, n1 = y.size, int(treated.sum())
    f = p * (1 - p)
    nbs = _neighbours(score, stratum, treated, neighbours)
    odds = p / (1 - p)
    y_hat = {True: y.astype(float).copy(), False: y.astype(float).copy()}
    cov_sum = np.zeros(x.shape[1])
    for arm in (True, False):
        in_arm = treated if arm else ~treated
        # Impute the other arm's outcome for the rows not in this arm (mean of m nearest of this arm).
        across = nbs.of(arm, False, max(m, j + 1))
        nb = across[:, :m]
        found = (nb >= 0).sum(axis=1)
        imputed = np.where(nb >= 0, y[np.clip(nb, 0, None)], 0.0).sum(axis=1) / np.maximum(found, 1)
        y_hat[arm][~in_arm] = np.where(found > 0, imputed, np.nan)
        # cov(X, mu_arm | p) near every row: its J + 1 nearest rows of the arm (itself included when in it).
        members = np.full((n, j + 1), -1, dtype=np.int64)
        members[~in_arm] = across[:, : j + 1]
        members[in_arm, 0] = np.flatnonzero(in_arm)
        members[in_arm, 1:] = nbs.of(arm, True, j)
        cov_sum += _local_cov_sum(x, y, members, f if arm else f * odds)
    effect = np.nan_to_num(y_hat[True] - y_hat[False] - att)  # rows without a comparison add nothing
    d = (f * effect) @ x / n1
    c = d + cov_sum / n1
    info = weighted_gram(x, f) / n
    info_inv = np.linalg.pinv(info)
    return float(d @ info_inv @ d - c @ info_inv @ c) / n
