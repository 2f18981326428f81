"""Inverse probability weighting (ATT) and doubly robust AIPW, with the ``EffectEstimator`` call shape.

Weights (``att_weights``): treated rows weigh 1; a control row weighs the odds p / (1 - p) of its propensity
score p, normalised WITHIN its stratum (calendar month by default, the weighting analogue of exact matching
in the sequential design) so that the controls of a month carry as much weight as that month's treated
(stabilised / Hajek weights: the weights of a stratum's controls sum to its number of treated). Strata
without treated get weight 0.

Common support: rows with p > 1 - ``trim`` are dropped (default 0.01: a control with p > 0.99 would
get an odds weight above 99), and so are treated rows whose score is above the largest control score of
their stratum or who have no control in their stratum (min-max rule within strata). Dropped treated are
counted in ``n_treated_unmatched`` (the estimand becomes the ATT on the common support, which the table
says by the count).

* ``InverseProbabilityWeighting``: att = mean_T(Y) - sum_C w Y / N1 (normalised weights).
* ``AugmentedIPW``: att = mean_T(Y - m0(X)) - sum_C w (Y - m0(X)) / N1 with m0 an outcome regression fitted
  on the controls (logistic for 0/1 outcomes, OLS otherwise). Consistent if either the propensity model or
  m0 is right (the ATT form of Sant'Anna & Zhao's normalised DR estimator, per stratum).

SE: person (cluster) bootstrap re-running the whole estimator (``n_boot`` replicates from ``seed``).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from insats.tasks.evaluation.estimators import Adjustment, Design, EffectEstimator
from insats.tasks.evaluation.outcome_models import outcome_model


def att_weights(score: np.ndarray, treated: np.ndarray, stratum: np.ndarray, trim: float = 0.01) -> np.ndarray:
    """Signed ATT weights: +1 for kept treated, minus the normalised odds weight for controls, 0 if dropped.

    ``score``: logit of the propensity score; ``treated``: bool; ``stratum``: int codes. Within every
    stratum the kept controls' weights sum to the number of kept treated (see the module docstring for the
    common-support rule and ``trim``).
    """
    if not 0 <= trim < 0.5:
        raise ValueError(f"trim must be in [0, 0.5), got {trim}")
    score = np.asarray(score, dtype=float)
    treated = np.asarray(treated, dtype=bool)
    _, strat = np.unique(np.asarray(stratum), return_inverse=True)
    n_strata = int(strat.max()) + 1 if strat.size else 0
    upper = np.log((1 - trim) / trim) if trim > 0 else np.inf
    keep = score <= upper
    # Largest kept control score per stratum (-inf where none): treated above it lack comparable controls.
    max_ctrl = np.full(n_strata, -np.inf)
    ctrl = keep & ~treated
    np.maximum.at(max_ctrl, strat[ctrl], score[ctrl])
    keep &= ~treated | (score <= max_ctrl[strat])
    odds = np.exp(np.minimum(score, 700.0))
    n_t = np.bincount(strat[keep & treated], minlength=n_strata).astype(float)
    odds_sum = np.bincount(strat[ctrl & keep], weights=odds[ctrl & keep], minlength=n_strata)
    scale = np.divide(n_t, odds_sum, out=np.zeros(n_strata), where=odds_sum > 0)
    w = np.zeros(score.size)
    w[keep & treated] = 1.0
    c = keep & ~treated
    w[c] = -odds[c] * scale[strat[c]]
    return w


class InverseProbabilityWeighting(EffectEstimator):
    """ATT by inverse probability (odds) weighting, stratified normalised weights (module docstring).

    Parameters: ``exact`` (stratum column(s), default ``month``; None: one stratum), ``trim`` (drop
    p > 1 - trim; 0 = none), ``ps_model`` ("logit"/"gbm"), ``n_boot`` and ``seed`` (bootstrap SE),
    ``treatment`` and ``cluster`` column names.
    """

    name = "ipw_att"

    def __init__(
        self,
        exact: str | Sequence[str] | None = "month",
        trim: float = 0.01,
        ps_model: str = "logit",
        n_boot: int = 49,
        seed: int = 0,
        treatment: str = "treated",
        cluster: str = "person_id",
    ) -> None:
        if not 0 <= trim < 0.5:
            raise ValueError(f"trim must be in [0, 0.5), got {trim}")
        if ps_model not in ("logit", "gbm"):
            raise ValueError(f"ps_model must be 'logit' or 'gbm', got {ps_model!r}")
        if n_boot < 0:
            raise ValueError(f"n_boot must be >= 0, got {n_boot}")
        self.exact, self.trim, self.ps_model = exact, trim, ps_model
        self.n_boot, self.seed = n_boot, seed
        self.treatment, self.cluster = treatment, cluster

    @property
    def label(self) -> str:
        return self.name + ("_gbm" if self.ps_model == "gbm" else "")

    def _adjust(self, d: Design) -> Adjustment:
        score = d.propensity(self.ps_model, self.seed)
        return Adjustment(w=att_weights(score, d.treated, d.stratum, self.trim), score=score)


class AugmentedIPW(InverseProbabilityWeighting):
    """Doubly robust ATT: the IPW weights applied to residuals of a control-arm outcome model (module doc)."""

    name = "aipw_att"

    def _residualise(self, d: Design, adj: Adjustment, y: np.ndarray) -> np.ndarray:
        controls = (~d.treated) & (adj.w != 0)
        if not controls.any():
            return y
        m0 = outcome_model(d.x[controls], y[controls])
        return y - m0(d.x)
