"""Inverse probability weighting (ATT) and doubly robust AIPW, with the ``EffectEstimator`` call shape.

Weights (``att_weights``): treated rows weigh 1; a control row weighs the odds p / (1 - p) of its propensity
score p, normalised WITHIN its stratum (calendar month by default, the weighting analogue of exact matching
in the sequential design) so that the controls of a month carry as much weight as that month's treated
(stabilised / Hajek weights: the weights of a stratum's controls sum to its number of treated). Strata
without treated get weight 0.

Trimming and common support happen only when asked (Stata's ``teffects ipw`` drops nothing either):
``trim`` > 0 drops rows with p > 1 - ``trim`` (a control with p > 0.99 would get an odds weight above 99);
``common_support=True`` drops treated whose score is above the largest control score of their stratum
(min-max rule within strata). Treated in a stratum without any control cannot be weighted and are always
dropped. Every drop is counted (``n_treated_unmatched``, ``n_controls_dropped``) and its reason given
(``dropped_because``: "trim", "no_control_in_stratum", "common_support", joined by ";"; counts never go
into the text, so disclosure control sees them); the estimand is then the ATT on the rows kept.

* ``InverseProbabilityWeighting``: att = mean_T(Y) - sum_C w Y / N1 (normalised weights).
* ``AugmentedIPW``: att = mean_T(Y - m0(X)) - sum_C w (Y - m0(X)) / N1 with m0 an outcome regression fitted
  on the controls (logistic for 0/1 outcomes, OLS otherwise). Consistent if either the propensity model or
  m0 is right (the ATT form of Sant'Anna & Zhao's normalised DR estimator, per stratum).

SE (``variance``): "sandwich" (default, ``weighting_sandwich_se``): the influence function of the stratified
normalised estimator with the estimation of the logit score (and of AIPW's outcome model) included, summed
within persons (clusters) when there is a person column (Lunceford & Davidian 2004; Wooldridge 2010 ch. 21);
"bootstrap" (and always for a boosted score): person (cluster) bootstrap re-running the whole estimator
(``n_boot`` replicates from ``seed``; rows are resampled when there is no person column).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from insats.tasks.evaluation.estimators import Adjustment, Design, EffectEstimator
from insats.tasks.evaluation.outcome_models import OutcomeFit, fit_outcome_model
from insats.tasks.evaluation.propensity import LogitFit, weighted_gram


def att_weights_detail(
    score: np.ndarray, treated: np.ndarray, stratum: np.ndarray, trim: float = 0.0, common_support: bool = False
) -> tuple[np.ndarray, int, str]:
    """(signed ATT weights, controls dropped, why): +1 for kept treated, minus the normalised odds weight for
    kept controls, 0 if dropped. ``score``: logit of the propensity score; ``treated``: bool; ``stratum``:
    int codes. Within every stratum the kept controls' weights sum to the number of kept treated; the rules
    that drop rows are in the module docstring."""
    if not 0 <= trim < 0.5:
        raise ValueError(f"trim must be in [0, 0.5), got {trim}")
    score = np.asarray(score, dtype=float)
    treated = np.asarray(treated, dtype=bool)
    _, strat = np.unique(np.asarray(stratum), return_inverse=True)
    n_strata = int(strat.max()) + 1 if strat.size else 0
    reasons: list[str] = []
    keep = np.ones(score.size, dtype=bool)
    if trim > 0:
        keep = score <= np.log((1 - trim) / trim)
        if not keep.all():
            reasons.append("trim")
    ctrl = keep & ~treated
    has_ctrl = np.bincount(strat[ctrl], minlength=n_strata) > 0
    no_ctrl = keep & treated & ~has_ctrl[strat]
    if no_ctrl.any():
        reasons.append("no_control_in_stratum")
        keep &= ~no_ctrl
    if common_support:
        # Largest kept control score per stratum: treated above it lack comparable controls.
        max_ctrl = np.full(n_strata, -np.inf)
        np.maximum.at(max_ctrl, strat[ctrl], score[ctrl])
        off = keep & treated & (score > max_ctrl[strat])
        if off.any():
            reasons.append("common_support")
            keep &= ~off
    odds = np.exp(np.minimum(score, 700.0))
    n_t = np.bincount(strat[keep & treated], minlength=n_strata).astype(float)
    odds_sum = np.bincount(strat[ctrl], weights=odds[ctrl], minlength=n_strata)
    scale = np.divide(n_t, odds_sum, out=np.zeros(n_strata), where=odds_sum > 0)
    w = np.zeros(score.size)
    w[keep & treated] = 1.0
    w[ctrl] = -odds[ctrl] * scale[strat[ctrl]]
    return w, int(np.sum(~keep & ~treated)), ";".join(reasons)


def att_weights(
    score: np.ndarray, treated: np.ndarray, stratum: np.ndarray, trim: float = 0.0, common_support: bool = False
) -> np.ndarray:
    """The signed ATT weights of ``att_weights_detail``."""
    return att_weights_detail(score, treated, stratum, trim, common_support)[0]


def weighting_sandwich_se(
    w: np.ndarray,
    r: np.ndarray,
    stratum: np.ndarray,
    clusters: np.ndarray,
    att: float,
    fit: LogitFit,
    treated: np.ndarray,
    outcome: tuple[OutcomeFit, np.ndarray, np.ndarray, np.ndarray] | None = None,
) -> float:
    """SE of att = sum_i w_i r_i / N1 (``att_weights`` w; r = y, or y - m0(x) in AIPW) from its influence
    function: treated r_i - mean0_s - att, kept controls w_i (r_i - mean0_s) with mean0_s the weighted control
    mean of r in the stratum; plus G' H^-1 x_i (W_i - p_i) for the logit score (G = sum_C w_i (r_i - mean0_s)
    x_i, H the logit's information) and, for AIPW, -D' H_m^-1 z_i (y_i - m_i) over the controls that fitted
    m0 (``outcome`` = (model, x, y, fitting rows); D = sum_i w_i dm_i/dbeta). Summed within ``clusters``."""
    _, s = np.unique(stratum, return_inverse=True)
    ctrl, trt = w < 0, w > 0
    n1 = int(trt.sum())
    wsum = np.bincount(s[ctrl], weights=-w[ctrl], minlength=s.max() + 1)
    mean0 = np.divide(
        np.bincount(s[ctrl], weights=-w[ctrl] * r[ctrl], minlength=wsum.size),
        wsum,
        out=np.zeros(wsum.size),
        where=wsum > 0,
    )
    centred = r - mean0[s]
    psi = np.zeros(r.size)
    psi[trt] = centred[trt] - att
    psi[ctrl] = w[ctrl] * centred[ctrl]
    x, p = fit.design, fit.p
    g = (w[ctrl] * centred[ctrl]) @ x[ctrl]
    h = weighted_gram(x, p * (1 - p))
    psi += (treated - p) * (x @ np.linalg.lstsq(h, g, rcond=None)[0])
    if outcome is not None:
        model, xo, yo, rows = outcome
        used = w != 0
        z_all = model.design(xo)  # one design, prediction and gradient for every row
        pred_all = model.link(z_all @ model.beta)
        grad_all = z_all * (pred_all * (1 - pred_all))[:, None] if model.binary else z_all
        d = w[used] @ grad_all[used]
        z = z_all[rows]
        h_m = weighted_gram(z, pred_all[rows] * (1 - pred_all[rows]) if model.binary else np.ones(rows.size))
        resid = yo[rows] - pred_all[rows]
        psi[rows] -= resid * (z @ np.linalg.lstsq(h_m, d, rcond=None)[0])
    per_cluster = np.bincount(clusters, weights=psi)
    return float(np.sqrt(np.sum(per_cluster**2)) / n1)


class InverseProbabilityWeighting(EffectEstimator):
    """ATT by inverse probability (odds) weighting, stratified normalised weights (module docstring).

    Parameters: ``exact`` (stratum column(s); None, the default: one stratum), ``trim`` (drop p > 1 - trim;
    0, the default: none), ``common_support`` (min-max rule within strata; default off), ``ps_model``
    ("logit"/"gbm"), ``ps_penalty_c`` (None = maximum-likelihood logit), ``variance`` ("sandwich" or
    "bootstrap"), ``n_boot`` and ``seed`` (bootstrap SE), ``treatment`` and ``cluster`` column names.
    """

    name = "ipw_att"

    def __init__(
        self,
        exact: str | Sequence[str] | None = None,
        trim: float = 0.0,
        ps_model: str = "logit",
        n_boot: int = 49,
        seed: int = 0,
        treatment: str = "treated",
        cluster: str | None = "person_id",
        *,
        common_support: bool = False,
        ps_penalty_c: float | None = None,
        variance: str = "sandwich",
    ) -> None:
        if variance not in ("sandwich", "bootstrap"):
            raise ValueError(f"variance must be 'sandwich' or 'bootstrap', got {variance!r}")
        if not 0 <= trim < 0.5:
            raise ValueError(f"trim must be in [0, 0.5), got {trim}")
        if ps_model not in ("logit", "gbm"):
            raise ValueError(f"ps_model must be 'logit' or 'gbm', got {ps_model!r}")
        if n_boot < 0:
            raise ValueError(f"n_boot must be >= 0, got {n_boot}")
        self.exact, self.trim, self.ps_model = exact, trim, ps_model
        self.n_boot, self.seed = n_boot, seed
        self.treatment, self.cluster = treatment, cluster
        self.common_support, self.ps_penalty_c = common_support, ps_penalty_c
        self.variance = variance

    @property
    def label(self) -> str:
        return self.name + ("_gbm" if self.ps_model == "gbm" else "")

    @property
    def uses_bootstrap(self) -> bool:
        return self.variance == "bootstrap" or self.ps_model != "logit"

    def _outcome_fit(self, d: Design, adj: Adjustment, y: np.ndarray) -> tuple[OutcomeFit, np.ndarray] | None:
        """The outcome model and its fitting rows (None in plain IPW)."""
        return None

    def _analytic_se(self, d: Design, adj: Adjustment, y: np.ndarray, att: float) -> tuple[float, str] | None:
        if self.uses_bootstrap:
            return None
        fitted = self._outcome_fit(d, adj, y)
        r = self._residualise(d, adj, y)
        outcome = None if fitted is None else (fitted[0], d.x, y, fitted[1])
        fit = d.logit_fit(self.ps_penalty_c)
        se = weighting_sandwich_se(adj.w, r, d.stratum, d.clusters, att, fit, d.treated.astype(float), outcome)
        return se, "robust_sandwich"

    def _adjust(self, d: Design) -> Adjustment:
        score = d.propensity(self.ps_model, self.seed, self.ps_penalty_c)
        w, n_c, why = att_weights_detail(score, d.treated, d.stratum, self.trim, self.common_support)
        return Adjustment(w=w, score=score, n_controls_dropped=n_c, dropped_because=why)


class AugmentedIPW(InverseProbabilityWeighting):
    """Doubly robust ATT: the IPW weights applied to residuals of a control-arm outcome model (module doc)."""

    name = "aipw_att"

    def _outcome_fit(self, d: Design, adj: Adjustment, y: np.ndarray) -> tuple[OutcomeFit, np.ndarray] | None:
        """Fitted once per (adjustment, outcome array): the ATT and its sandwich SE both use it."""
        key = ("outcome_fit", id(y))
        cached = adj.info.get(key)
        if cached is not None and cached[0] is y:
            return cached[1]
        controls = np.flatnonzero((~d.treated) & (adj.w != 0))
        fitted = None if controls.size == 0 else (fit_outcome_model(d.x[controls], y[controls]), controls)
        adj.info[key] = (y, fitted)
        return fitted

    def _residualise(self, d: Design, adj: Adjustment, y: np.ndarray) -> np.ndarray:
        key = ("residual", id(y))
        cached = adj.info.get(key)
        if cached is not None and cached[0] is y:
            return cached[1]
        fitted = self._outcome_fit(d, adj, y)
        r = y if fitted is None else y - fitted[0].predict(d.x)
        adj.info[key] = (y, r)
        return r
