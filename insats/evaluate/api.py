"""``evaluate``: the effect of a binary treatment on an outcome in any data set (the ``insats evaluate`` command).

Cross-section (``design="cross_section"``, the default): the ATT by 1:1 propensity-score matching, inverse
probability weighting and AIPW (``insats.tasks.evaluation``; settings as Stata's ``teffects``: unpenalised
logit, matching with replacement and Abadie-Imbens standard errors unless told otherwise), next to the naive
difference, with the balance table, the propensity overlap and the love / overlap plots. No person or month
column is needed; ``cluster`` clusters the standard errors.

Difference-in-differences (``design="did"``): Callaway & Sant'Anna group-time ATTs
(``insats.tasks.evaluation.did``) with ``time``, ``group`` (first treated period; 0/missing = never) and
``unit`` (omit for repeated cross-sections), doubly robust on the covariates, aggregated four ways; without
``group``, a 2x2 DiD of ``treatment`` (0/1) over a ``time`` with two values.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from insats.evaluate.data import Dataset, check_columns, design_matrix, formula_terms

ESTIMATORS = ("psm", "ipw", "aipw")
Estimator = Literal["psm", "ipw", "aipw", "all"]


@dataclass
class EvaluationResult:
    """What ``evaluate`` found. ``effects``: one row per estimator (att, se, ci_low, ci_high, p_value,
    variance_method, counts). ``balance``: one row per (estimator, covariate) with SMDs and variance ratios.
    ``overlap``: propensity-logit bins (cross-section). ``did_group_time`` / ``did_aggregates``: the DiD cells
    and their simple / group / calendar / dynamic aggregates. ``figures``: PNG bytes by file stem.
    ``counts``: rows read, used, dropped for missing values. ``parameters``: the call's settings."""

    dataset: Dataset
    parameters: dict[str, Any]
    counts: dict[str, int]
    covariates: list[str]
    effects: pd.DataFrame
    balance: pd.DataFrame = field(default_factory=pd.DataFrame)
    overlap: pd.DataFrame = field(default_factory=pd.DataFrame)
    did_group_time: pd.DataFrame = field(default_factory=pd.DataFrame)
    did_aggregates: pd.DataFrame = field(default_factory=pd.DataFrame)
    figures: dict[str, bytes] = field(default_factory=dict, repr=False)
    notes: list[str] = field(default_factory=list)


def _as_dataset(data: Dataset | pd.DataFrame | str) -> Dataset:
    from pathlib import Path

    from insats.evaluate.data import read_dataset

    if isinstance(data, Dataset):
        return data
    if isinstance(data, pd.DataFrame):
        return Dataset(data)
    return read_dataset(Path(data))


def _binary(frame: pd.DataFrame, column: str) -> pd.Series:
    values = pd.to_numeric(frame[column], errors="coerce")
    seen = set(values.dropna().unique().tolist())
    if not seen <= {0, 1} or len(seen) < 2:
        raise ValueError(f"treatment {column!r} must be coded 0/1 with both values present; it has {sorted(seen)[:6]}")
    return values.astype(int)


def _fit(estimator: Any, sample: pd.DataFrame, covariates: list[str], outcome: str) -> Any:
    """``estimator.fit``; adds a row-number person_id and a constant month only if the estimators in this
    working tree still require them for a cross-section."""
    try:
        return estimator.fit(sample, covariates, outcome).result_
    except ValueError as exc:
        if "lacks column" not in str(exc) or not ({"person_id", "month"} & set(str(exc).replace(",", " ").split())):
            raise
        filled = sample.assign(person_id=np.arange(len(sample)), month=0)
        return estimator.fit(filled, covariates, outcome).result_


def _estimators(
    which: Estimator,
    caliper: float | None,
    replace: bool,
    exact: list[str] | None,
    cluster: str | None,
    treatment: str,
    n_boot: int,
    seed: int,
) -> list[Any]:
    from insats.tasks.evaluation.estimators import NaiveDifference, PropensityScoreMatching
    from insats.tasks.evaluation.weighting import AugmentedIPW, InverseProbabilityWeighting

    names = ESTIMATORS if which == "all" else (which,)
    if any(n not in ESTIMATORS for n in names):
        raise ValueError(f"estimator must be one of psm, ipw, aipw, all; got {which!r}")
    made: list[Any] = [NaiveDifference(treatment=treatment, cluster=cluster)]
    for name in names:
        if name == "psm":  # with replacement: Abadie-Imbens SEs; without: the bootstrap (n_boot, seed)
            made.append(
                PropensityScoreMatching(
                    caliper=caliper,
                    exact=exact or None,
                    treatment=treatment,
                    cluster=cluster,
                    replace=replace,
                    n_boot=n_boot,
                    seed=seed,
                )
            )
        else:
            cls = InverseProbabilityWeighting if name == "ipw" else AugmentedIPW
            made.append(cls(exact=exact or None, treatment=treatment, cluster=cluster, n_boot=n_boot, seed=seed))
    return made


def evaluate(
    data: Dataset | pd.DataFrame | str,
    outcome: str,
    treatment: str | None = None,
    covariates: list[str] | None = None,
    formula: str | None = None,
    estimator: Estimator = "all",
    caliper: float | None = 0.2,
    replace: bool = True,
    exact: list[str] | None = None,
    cluster: str | None = None,
    design: Literal["cross_section", "did"] = "cross_section",
    time: str | None = None,
    group: str | None = None,
    unit: str | None = None,
    control_group: Literal["never_treated", "not_yet_treated"] = "never_treated",
    base_period: Literal["varying", "universal"] = "varying",
    n_boot: int = 199,
    seed: int = 0,
) -> EvaluationResult:
    """Estimate the effect of ``treatment`` (0/1) on ``outcome`` in ``data`` (a path, a DataFrame or a
    ``Dataset``); see the module docstring. ``caliper``: in pooled SDs of the propensity logit (None = no
    caliper); ``exact``: columns to match / weight exactly within; ``n_boot``: bootstrap replicates where no
    analytic variance applies (IPW, AIPW, matching without replacement). DiD: ``time``, ``group``, ``unit``,
    ``control_group``, ``base_period``; covariates are optional there."""
    ds = _as_dataset(data)
    params = {k: v for k, v in locals().items() if k not in ("data", "ds")}
    if design == "did":
        from insats.evaluate.did import evaluate_did

        return evaluate_did(ds, params)
    if design != "cross_section":
        raise ValueError(f"design must be 'cross_section' or 'did', got {design!r}")
    if treatment is None:
        raise ValueError("a cross-section needs the treatment column (treatment=...)")
    rhs, needed = formula_terms(formula, covariates, treatment)
    used = list(dict.fromkeys([treatment, outcome, *needed, *(exact or []), *([cluster] if cluster else [])]))
    check_columns(ds, used)
    frame = ds.frame
    complete = frame[used].notna().all(axis=1)
    counts = {"n_rows": len(frame), "n_used": int(complete.sum()), "n_dropped_missing": int((~complete).sum())}
    work = frame.loc[complete].reset_index(drop=True)
    x = design_matrix(work, rhs)
    clash = [c for c in x.columns if c in (treatment, outcome)]
    if clash:
        raise ValueError(f"covariate(s) {', '.join(clash)} are the treatment or the outcome")
    keep = [c for c in used if c not in x.columns]
    sample = pd.concat([work[keep], x], axis=1)
    sample[treatment] = _binary(sample, treatment)
    sample[outcome] = pd.to_numeric(sample[outcome], errors="coerce").astype(float)
    cov = list(x.columns)
    counts |= {"n_treated": int(sample[treatment].sum()), "n_controls": int((sample[treatment] == 0).sum())}

    from insats.tasks.evaluation.balance import balance_table, overlap_table

    rows, balances, overlap, notes = [], [], pd.DataFrame(), []
    for est in _estimators(estimator, caliper, replace, exact, cluster, treatment, n_boot, seed):
        res = _fit(est, sample, cov, outcome)
        record = {k: v for k, v in res.to_record().items() if k != "n_later_starter_controls"}
        rows.append(record)
        if res.dropped_because:
            notes.append(f"{res.estimator}: {res.dropped_because}")
        if est.name == "naive_difference":
            continue
        bal = balance_table(sample, cov, weights=res.weights, treatment=treatment)
        bal.insert(0, "estimator", res.estimator)
        balances.append(bal)
        if overlap.empty and res.score is not None:
            overlap = overlap_table(res.score.to_numpy(), sample[treatment].to_numpy())
    balance = pd.concat(balances, ignore_index=True) if balances else pd.DataFrame()
    result = EvaluationResult(ds, params, counts, cov, pd.DataFrame(rows), balance, overlap, notes=notes)
    result.figures = _figures(result)
    return result


def _figures(result: EvaluationResult) -> dict[str, bytes]:
    from insats.tasks.evaluation.figures import love_plot, overlap_plot

    figures: dict[str, bytes] = {}
    if not result.balance.empty:
        first = result.balance["estimator"].iloc[0]
        head = result.balance[result.balance["estimator"] == first].copy()
        head["covariate"] = [result.dataset.term_label(c) for c in head["covariate"]]
        figures["love"] = love_plot(head, str(first))
    if not result.overlap.empty:
        figures["overlap"] = overlap_plot(result.overlap, str(result.parameters.get("treatment")))
    return figures
