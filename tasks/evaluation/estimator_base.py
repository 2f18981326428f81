"""The common machinery of study 3's effect estimators (``insats.tasks.evaluation.estimators`` documents the
estimators and re-exports these names): the ``Design`` arrays an estimator works on, the ``Adjustment`` it
produces (signed row weights), the ``EffectEstimator`` interface (``fit(sample, covariates, outcome)``,
``result_``, ``point_estimates``), and ``NaiveDifference``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Self

import numpy as np
import pandas as pd
from threadpoolctl import ThreadpoolController

from insats.tasks.evaluation.bootstrap import bootstrap_replicates, bootstrap_se, replicate_seeds
from insats.tasks.evaluation.inference import EffectEstimate, Neighbours, difference_in_means_se, normal_inference
from insats.tasks.evaluation.propensity import LogitFit, fit_propensity, propensity_logit

# One controller, created after numpy / scikit-learn loaded their BLAS / OpenMP: ``threadpool_limits`` would
# rescan the loaded libraries on every fit (~25 ms, more than a whole fit of 2,000 rows).
_THREADPOOLS = ThreadpoolController()


@dataclass
class Design:
    """Arrays an estimator works on (one row per sample row)."""

    x: np.ndarray  # covariates, float n x k
    treated: np.ndarray  # bool
    stratum: np.ndarray  # int64 codes of the exact / stratification cells (all 0 without)
    clusters: np.ndarray  # int64 person codes
    later: np.ndarray  # bool: control who starts within the horizon
    index: pd.Index
    names: list[str] = field(default_factory=list)  # covariate names (error messages)
    clustered: bool = True  # False: every row its own cluster (no person column)
    cache: dict = field(default_factory=dict)  # propensity scores shared by estimators on the same design
    start: LogitFit | None = None  # a related fit (the full sample's) that starts a replicate's logit fit
    chunked: bool = False  # logit by ``fit_propensity(chunked=True)`` (replicates and their warm starts)

    def subset(self, positions: np.ndarray, start: LogitFit | None = None) -> Design:
        """The design of the rows at ``positions`` (in that order, repeats allowed: a bootstrap replicate),
        equal to ``EffectEstimator._design`` of those rows of the sample: strata and clusters renumbered as
        there. Raises ValueError when the rows lack treated or controls."""
        treated = self.treated[positions]
        if not treated.any() or treated.all():
            raise ValueError("sample needs both treated and control rows")
        n = len(positions)
        return Design(
            x=_rows(self.x, positions),
            treated=treated,
            stratum=np.unique(self.stratum[positions], return_inverse=True)[1].astype(np.int64).reshape(n),
            clusters=(pd.factorize(self.clusters[positions])[0].astype(np.int64) if self.clustered else np.arange(n)),
            later=self.later[positions],
            index=pd.RangeIndex(n),
            names=self.names,
            clustered=self.clustered,
            start=start,
            chunked=self.chunked or start is not None,
        )

    def logit_fit(self, penalty_c: float | None = None) -> LogitFit:
        """The logit propensity model (``fit_propensity``), fitted once per penalty."""
        key = ("logit_fit", penalty_c)
        if key not in self.cache:
            self.cache[key] = fit_propensity(
                self.x, self.treated.astype(float), penalty_c, self.names, self.start, self.chunked
            )
        return self.cache[key]

    def propensity(self, model: str = "logit", seed: int = 0, penalty_c: float | None = None) -> np.ndarray:
        """Logit of the propensity score (``propensity_logit``), computed once per (model, seed, penalty)."""
        if model == "logit":
            return self.logit_fit(penalty_c).eta
        key = ("ps", model, seed)
        if key not in self.cache:
            self.cache[key] = propensity_logit(self.x, self.treated, model, seed, penalty_c, self.names)
        return self.cache[key]

    def neighbours(self, score: np.ndarray) -> Neighbours:
        """The memoised nearest-neighbour lists on ``score`` (one of this design's scores): estimators and
        outcomes that match on the same score array share them."""
        key = ("neighbours", id(score))
        found = self.cache.get(key)
        if found is None or found.score is not score:
            found = self.cache[key] = Neighbours(score, self.stratum, self.treated)
        return found


def _rows(x: np.ndarray, positions: np.ndarray) -> np.ndarray:
    """``x[positions]`` (n x k) in ``x``'s memory order: a data frame's ``to_numpy`` is column-major, and the
    sums over rows (means, SDs) then run in the order they run on the resampled frame, to the last bit."""
    if x.ndim == 2 and x.flags.f_contiguous and not x.flags.c_contiguous:
        out = np.empty((len(positions), x.shape[1]), order="F")
        for j in range(x.shape[1]):
            np.take(x[:, j], positions, out=out[:, j])
        return out
    return x[positions]


@dataclass
class Adjustment:
    """What an estimator's adjustment produced: signed row weights (att = w @ (y - m) / n1)."""

    w: np.ndarray
    score: np.ndarray | None = None
    pairs: pd.DataFrame | None = None  # positional pairs (treated_pos, control_pos, weight)
    info: dict = field(default_factory=dict)
    n_controls_dropped: int = 0  # controls excluded by a trimming / support rule
    dropped_because: str = ""  # why treated / controls were dropped ("" = none dropped)

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
    cluster: str | None = "person_id"  # clustering column; "person_id" is optional (used when present)
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

    def _cluster_column(self, sample: pd.DataFrame) -> str | None:
        """The clustering column: ``cluster`` when set and present; the default "person_id" may be absent
        (a cross-section: every row its own cluster); another name must exist."""
        if self.cluster is None or (self.cluster == "person_id" and self.cluster not in sample.columns):
            return None
        return self.cluster

    def _design(self, sample: pd.DataFrame, covariates: list[str], outcomes: list[str]) -> Design:
        exact = [self.exact] if isinstance(self.exact, str) else list(self.exact or [])
        cluster = self._cluster_column(sample)
        _check_columns(sample, [self.treatment, *([cluster] if cluster else []), *outcomes, *covariates, *exact])
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
            clusters=(
                pd.factorize(sample[cluster])[0].astype(np.int64) if cluster else np.arange(len(sample), dtype=np.int64)
            ),
            later=later,
            index=sample.index,
            names=list(covariates),
            clustered=cluster is not None,
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
        with _THREADPOOLS.limit(limits=1):
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
            cluster = self._cluster_column(sample)
            replicates = bootstrap_replicates(
                self.without_bootstrap().point_estimates,
                sample if cluster else sample.assign(_row=np.arange(len(sample))),
                covariates,
                [outcome],
                replicate_seeds(self.seed, self.n_boot),
                cluster=cluster or "_row",
            )
            row = bootstrap_se(replicates).iloc[0]
            se, method = float(row["se"]), "bootstrap_persons" if cluster else "bootstrap_rows"
        else:
            se, method = float("nan"), "none"
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
            n_control_persons=int(np.count_nonzero(np.bincount(d.clusters[used_controls]))),
            score=pd.Series(adj.score, index=d.index, name="ps_logit") if adj.score is not None else None,
            n_controls_dropped=int(adj.n_controls_dropped),
            dropped_because=adj.dropped_because,
        )


class NaiveDifference(EffectEstimator):
    """Unadjusted difference in mean outcome, treated minus all eligible controls (the selection benchmark).

    SE: person-clustered (when there is a person column), from the influence function of the difference in
    means (the robust sandwich of OLS of the outcome on the treatment)."""

    name = "naive_difference"

    def __init__(self, treatment: str = "treated", cluster: str | None = "person_id") -> None:
        self.treatment, self.cluster = treatment, cluster

    @property
    def uses_bootstrap(self) -> bool:
        return False

    def _adjust(self, d: Design) -> Adjustment:
        n1, n0 = d.treated.sum(), (~d.treated).sum()
        return Adjustment(w=np.where(d.treated, 1.0, -n1 / n0))

    def _analytic_se(self, d: Design, adj: Adjustment, y: np.ndarray, att: float) -> tuple[float, str]:
        return difference_in_means_se(y, d.treated, d.clusters), "robust_sandwich"
