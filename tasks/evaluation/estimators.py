"""Effect estimators for the sequential matching sample, with one call shape (as in scikit-learn).

Every estimator is a small configurable object (settings in the constructor) with
``fit(sample, covariates, outcome) -> self``; the result is in ``estimator.result_`` (an ``EffectEstimate``,
``insats.tasks.evaluation.inference``) and ``estimate(sample, covariates, outcome)`` is ``fit(...).result_``.
``point_estimates(sample, covariates, outcomes)`` returns only the ATTs (one adjustment shared by several
outcomes); the bootstrap calls it on resampled data.

``sample``: one row per unit (columns ``treated`` 0/1, the covariates, the outcome). In the sequential design a
row is a person-month candidate (``month`` for exact matching / stratified weighting when ``exact`` names it,
``person_id`` for clustering, optionally ``later_starter``; see ``insats.tasks.evaluation.design``); a
cross-section needs neither: ``person_id`` is used for clustering only when the column is present, and
strata only when ``exact`` is set (default None). ``covariates``: column names, numeric, no missing
values. ``outcome``: a numeric column without missing values (drop unknown rows first); the ATT is in its
units (a 0/1 outcome: a difference in proportions). Estimand: the ATT, the mean effect of starting in month
m versus not starting in m, over the starters. Assumptions: no unmeasured confounding given the covariates
and the month, and overlap (the common-support counts say how much the estimand was trimmed).

Every estimator writes the ATT as ``sum_r w_r (Y_r - m_r) / N1`` with signed row weights ``w`` (+1 for a
treated row that is used, minus a non-negative weight for a control, the control weights of each treated /
stratum summing to what its treated carry) and ``m_r = 0`` except in AIPW. ``EffectEstimate.weights`` holds
|w| (for balance tables).

* ``PropensityScoreMatching``: k:1 nearest neighbour (``insats.tasks.evaluation.matching``) on the logit of the
  score (``insats.tasks.evaluation.propensity``: a maximum-likelihood logit unless ``ps_penalty_c``), with or
  without replacement, ties kept as Stata does (``ties``), caliper ``caliper`` x the pooled SD of the logit
  (sqrt((var_t + var_c) / 2), Austin 2011; ``caliper=None``: none), exact on ``exact`` (column(s), e.g. calendar
  month). SE with replacement: Abadie-Imbens (2006) with the conditional variance from J same-arm neighbours,
  plus by default the Abadie-Imbens (2016) adjustment for the estimated score (``variance``;
  ``insats.tasks.evaluation.inference``); without replacement: person bootstrap (the bootstrap is not valid
  for matching with replacement, Abadie & Imbens 2008, and is refused there).
* ``InverseProbabilityWeighting`` / ``AugmentedIPW`` (``insats.tasks.evaluation.weighting``) and
  ``NaiveDifference`` (no adjustment, the reference that shows the selection).
95 % CI: att +- 1.96 se; two-sided normal p-value.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from insats.tasks.evaluation.estimator_base import (
    Adjustment,
    Design,
    EffectEstimator,
    NaiveDifference,
    strata_codes,
)
from insats.tasks.evaluation.inference import (
    EffectEstimate,
    abadie_imbens_2006_variance,
    abadie_imbens_2016_adjustment,
    same_arm_variance,
)
from insats.tasks.evaluation.matching import nearest_neighbour_match
from insats.tasks.evaluation.propensity import fit_logit

__all__ = [  # fit_logit and nearest_neighbour_match: for callers (benchmarks) of the former single module
    "Adjustment",
    "Design",
    "EffectEstimate",
    "EffectEstimator",
    "NaiveDifference",
    "PropensityScoreMatching",
    "fit_logit",
    "nearest_neighbour_match",
    "strata_codes",
]


class PropensityScoreMatching(EffectEstimator):
    """Propensity-score k:1 nearest-neighbour matching (see the module docstring for every choice).

    Parameters: ``caliper`` (in pooled SDs of the logit score, default 0.2; None = no caliper), ``k``
    (controls per treated), ``replace``, ``ties`` (keep every control tied at the k-th distance, as Stata),
    ``exact`` (column(s) for exact matching; None for none), ``ps_model`` ("logit" or "gbm"), ``ps_penalty_c``
    (None = maximum-likelihood logit), ``match_on`` ("logit": the linear predictor, default; "probability":
    the score itself, as Stata's ``teffects psmatch`` and MatchIt's default distance), ``variance``
    ("ai2016" default: Abadie-Imbens with the adjustment for the estimated logit score; "ai2006": score
    treated as known; "bootstrap": only without replacement, with ``n_boot`` replicates from ``seed``),
    ``var_matches`` (J same-arm neighbours for the conditional variance, default 2), ``treatment`` and
    ``cluster`` column names.
    Fitted attributes: ``result_``, ``score_`` (the matching score, indexed like the sample), ``caliper_``
    (on the matching score's scale; inf without).
    """

    name = "psm_nn1_caliper"

    def __init__(
        self,
        caliper: float | None = 0.2,
        exact: str | Sequence[str] | None = None,
        treatment: str = "treated",
        cluster: str | None = "person_id",
        *,
        k: int = 1,
        replace: bool = True,
        ties: bool = True,
        ps_model: str = "logit",
        ps_penalty_c: float | None = None,
        match_on: str = "logit",
        variance: str | None = None,
        var_matches: int = 2,
        n_boot: int = 0,
        seed: int = 0,
    ) -> None:
        if caliper is not None and not caliper > 0:
            raise ValueError(f"caliper must be positive (in SDs of the logit score) or None for none, got {caliper}")
        if k < 1:
            raise ValueError(f"k must be >= 1, got {k}")
        if ps_model not in ("logit", "gbm"):
            raise ValueError(f"ps_model must be 'logit' or 'gbm', got {ps_model!r}")
        variance = variance or ("ai2016" if replace else "bootstrap")
        if variance not in ("ai2016", "ai2006", "bootstrap"):
            raise ValueError(f"variance must be 'ai2016', 'ai2006' or 'bootstrap', got {variance!r}")
        if replace and variance == "bootstrap":
            raise ValueError(
                "the bootstrap is not valid for matching with replacement (Abadie & Imbens 2008); "
                "use variance='ai2016' or 'ai2006'"
            )
        if not replace and variance != "bootstrap":
            raise ValueError(
                "matching without replacement has no Abadie-Imbens variance here; use variance='bootstrap'"
            )
        if match_on not in ("logit", "probability"):
            raise ValueError(f"match_on must be 'logit' or 'probability', got {match_on!r}")
        if var_matches < 1:
            raise ValueError(f"var_matches must be >= 1, got {var_matches}")
        self.caliper = caliper
        self.exact = exact
        self.treatment = treatment
        self.cluster = cluster
        self.k = k
        self.replace = replace
        self.ties = ties
        self.ps_model = ps_model
        self.ps_penalty_c = ps_penalty_c
        self.match_on = match_on
        self.variance = variance
        self.var_matches = var_matches
        self.n_boot = n_boot
        self.seed = seed

    @property
    def label(self) -> str:
        """``psm_nn{k}[_norepl][_caliper][_gbm]``; the default 1:1 with replacement is ``psm_nn1_caliper``."""
        return (
            f"psm_nn{self.k}{'' if self.replace else '_norepl'}{'_caliper' if self.caliper is not None else ''}"
            f"{'_gbm' if self.ps_model == 'gbm' else ''}"
        )

    @property
    def uses_bootstrap(self) -> bool:
        return not self.replace

    def _adjust(self, d: Design) -> Adjustment:
        score = d.propensity(self.ps_model, self.seed, self.ps_penalty_c)
        if self.match_on == "probability":
            score = 0.5 * (1.0 + np.tanh(0.5 * score))
        pooled_sd = float(np.sqrt((score[d.treated].var() + score[~d.treated].var()) / 2.0))
        caliper = self.caliper * pooled_sd if self.caliper is not None and pooled_sd > 0 else np.inf
        self.caliper_ = caliper
        pairs = nearest_neighbour_match(
            score, d.treated, d.stratum, caliper, k=self.k, replace=self.replace, ties=self.ties
        )
        w = np.zeros(len(score))
        w[np.unique(pairs["treated_pos"].to_numpy())] = 1.0
        np.add.at(w, pairs["control_pos"].to_numpy(), -pairs["weight"].to_numpy())
        unmatched = int(d.treated.sum()) - int(np.sum(w > 0))
        why = "caliper" if unmatched else ""
        return Adjustment(w=w, score=score, pairs=pairs, info={"caliper": caliper}, dropped_because=why)

    def _analytic_se(self, d: Design, adj: Adjustment, y: np.ndarray, att: float) -> tuple[float, str] | None:
        """Abadie-Imbens (2006) variance, plus the 2016 adjustment for the estimated logit score by default."""
        if not self.replace:
            return None
        neighbours = d.neighbours(adj.score)
        sigma2 = same_arm_variance(y, adj.score, d.treated, d.stratum, self.var_matches, neighbours)
        v = abadie_imbens_2006_variance(y, adj.w, adj.pairs, sigma2, d.clusters, att)
        method = "abadie_imbens_2006"
        if self.variance == "ai2016" and self.ps_model == "logit":
            fit = d.logit_fit(self.ps_penalty_c)
            adjustment = abadie_imbens_2016_adjustment(
                fit, y, d.treated, d.stratum, att, self.k, self.var_matches, score=adj.score, neighbours=neighbours
            )
            adjusted = v + adjustment
            if adjusted > 0:  # a negative total (tiny samples) falls back to the 2006 variance, named so
                v, method = adjusted, "abadie_imbens_2016"
        return float(np.sqrt(v)), method
