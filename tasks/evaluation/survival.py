"""Time to self-sufficiency for matched treated and controls: Kaplan-Meier curves and a Cox model.

Definition (``k`` consecutive months, default 3, as the self-sufficiency outcome of the design):
for a sample row with origin month ``m`` (the month of start for a treated row, the matching month for a
control), the EVENT month is the first month ``t >= m + 1`` that begins ``k`` consecutive months without
assistance (months ``t .. t + k - 1`` all ``on_assistance == 0``); the duration is ``t - m`` months (>= 1).
An event can only be seen when its whole run lies in the panel, so every row is censored at
``T - k`` (last month index that can begin a complete run), at ``m + max_months`` if given, and, when the
persons' first starts are given, a control row at the month before his own start (from then on he is no
longer an untreated comparison). A censored row's duration is the censoring month minus ``m`` (survived
through it); it can be 0 when a control starts in ``m + 1``.

Kaplan-Meier: statsmodels ``SurvfuncRight`` with frequency weights (a control used by several treated,
with replacement, counts once per use; exact-score ties share the weight 1/k), Greenwood-type standard
errors and a log(-log) pointwise 95 % CI. Cox (PHReg's model, fitted on aggregated monthly risk sets by
``insats.tasks.evaluation.cox``; Efron ties) of the hazard of
becoming self-sufficient on ``treated`` (+ covariates), one row per pair member (a control reused in
several pairs appears once per pair), robust sandwich covariance clustered by person (``fit(groups=)``,
Lin-Wei); PHReg takes no case weights, so fractional tie weights are not used in the Cox model.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy.special import ndtr

from insats.tasks.evaluation.cox import fit_cox
from insats.tasks.evaluation.panel_matrix import outcome_matrix, start_month_index

Z_95 = 1.959963984540054  # scipy.stats.norm.ppf(0.975), without importing scipy.stats


def self_sufficiency_times(
    panel: pd.DataFrame,
    origins: pd.DataFrame,
    k: int = 3,
    max_months: int | None = None,
    starts: pd.Series | None = None,
    treated: str | None = "treated",
) -> pd.DataFrame:
    """Duration (months) to the first k-month run without assistance after each origin, with censoring.

    ``panel``: rectangular person-month panel with person_id, month, on_assistance (0/1, no missing).
    ``origins``: rows with person_id and month (origin month, first of month), e.g. the matching sample;
    column ``treated`` (0/1) marks rows whose own start must not censor them (if ``starts`` is given and
    the column is absent every row is treated as a control). ``starts``: first start date per person_id
    (``design.first_starts``) to censor controls at their own start. Returns a DataFrame indexed like
    ``origins`` with ``duration`` (int16, months) and ``event`` (int8, 1 = became self-sufficient).
    """
    if k < 1:
        raise ValueError(f"k must be at least 1, got {k}")
    missing = [c for c in ("person_id", "month") if c not in origins.columns]
    if missing:
        raise ValueError(f"origins lack column(s): {', '.join(missing)}")
    on, ids, months = outcome_matrix(panel, "on_assistance")
    n_p, n_t = on.shape
    if not np.isin(on, (0.0, 1.0)).all():
        raise ValueError("panel: on_assistance must be 0/1")
    p = ids.get_indexer(pd.Index(np.asarray(origins["person_id"])))
    if (p < 0).any():
        bad = origins["person_id"].to_numpy()[p < 0][:3]
        raise ValueError(f"origins: person_id(s) not in the panel, e.g. {', '.join(map(str, bad))}")
    o_month = pd.DatetimeIndex(origins["month"])
    m = (o_month.year * 12 + o_month.month - (months[0].year * 12 + months[0].month)).to_numpy().astype(np.int64)
    if ((m < 0) | (m >= n_t)).any():
        raise ValueError("origins: month outside the panel's months")

    # run_start[i, t]: months t .. t+k-1 all off assistance (t <= T - k); next_run[i, t]: first such t' >= t.
    off = 1 - on.astype(np.int8)
    cum = np.concatenate([np.zeros((n_p, 1), np.int16), np.cumsum(off, axis=1, dtype=np.int16)], axis=1)
    last = n_t - k
    big = np.iinfo(np.int16).max
    next_run = np.full((n_p, n_t + 1), big, dtype=np.int16)
    for t in range(last, -1, -1):  # loop over months, vectorised over persons
        starts_run = (cum[:, t + k] - cum[:, t]) == k
        next_run[:, t] = np.where(starts_run, t, next_run[:, t + 1])
    del cum, off

    bound = np.full(m.shape, last, dtype=np.int64)
    if max_months is not None:
        bound = np.minimum(bound, m + max_months)
    if starts is not None:
        s = start_month_index(starts, ids, months)[p]
        is_treated = (
            origins[treated].to_numpy(dtype=np.int8) == 1
            if treated and treated in origins.columns
            else np.zeros(len(origins), dtype=bool)
        )
        own = ~is_treated & (s > m)
        bound = np.where(own, np.minimum(bound, s - 1), bound)
    first = next_run[p, np.minimum(m + 1, n_t)].astype(np.int64)
    event = first <= bound
    duration = np.where(event, first - m, np.maximum(bound - m, 0))
    return pd.DataFrame(
        {"duration": duration.astype(np.int16), "event": event.astype(np.int8)},
        index=origins.index,
    )


def matched_survival_data(
    sample: pd.DataFrame,
    pairs: pd.DataFrame,
    panel: pd.DataFrame,
    k: int = 3,
    max_months: int | None = None,
    starts: pd.Series | None = None,
    covariates: tuple[str, ...] | list[str] = (),
) -> pd.DataFrame:
    """One row per matched treated row and per (pair, control): the input of ``kaplan_meier``/``cox_model``.

    ``sample``: the sequential matching sample (person_id, month, treated, covariates); ``pairs``: matched
    pairs as row labels of ``sample`` (treated_index, control_index, weight), as in ``EffectEstimate.pairs``.
    Columns: pair_group (the treated row label), treated (int8), person_id, month, weight (treated 1; control
    the pair weight), duration, event, and ``covariates``. Definition and censoring: module docstring.
    """
    for col in ("treated_index", "control_index", "weight"):
        if col not in pairs.columns:
            raise ValueError(f"pairs lack column {col!r}")
    if pairs.empty:
        raise ValueError("pairs: no matched pairs")
    t_idx = pd.unique(pairs["treated_index"].to_numpy())
    treated_part = sample.loc[t_idx, ["person_id", "month", *covariates]].copy()
    treated_part.insert(0, "pair_group", t_idx)
    treated_part["treated"] = np.int8(1)
    treated_part["weight"] = 1.0
    control_part = sample.loc[pairs["control_index"].to_numpy(), ["person_id", "month", *covariates]].copy()
    control_part.insert(0, "pair_group", pairs["treated_index"].to_numpy())
    control_part["treated"] = np.int8(0)
    control_part["weight"] = pairs["weight"].to_numpy(dtype=float)
    data = pd.concat([treated_part, control_part], ignore_index=True)
    data["person_id"] = data["person_id"].astype(str)
    times = self_sufficiency_times(panel, data, k=k, max_months=max_months, starts=starts)
    return pd.concat([data, times], axis=1)


def kaplan_meier(data: pd.DataFrame, group: str = "treated", weight: str | None = "weight") -> pd.DataFrame:
    """Kaplan-Meier curves of ``duration``/``event`` by ``group`` (0/1 or labels), weighted by ``weight``.

    Returns one row per group and distinct event time: group ("treated"/"control" for a 0/1 column, else the
    label), time (months), survival (share not yet self-sufficient), se, ci_low, ci_high (log(-log) 95 %),
    n_at_risk (weighted), n_events (weighted).
    """
    missing = [c for c in ("duration", "event", group) if c not in data.columns]
    if missing:
        raise ValueError(f"survival data lack column(s): {', '.join(missing)}")
    if (data["duration"] < 0).any():
        raise ValueError("survival data: negative duration")
    from statsmodels.duration.survfunc import SurvfuncRight  # statsmodels is slow to import

    out = []
    for value, part in data.groupby(group, sort=True):
        label = {1: "treated", 0: "control"}.get(value, value) if data[group].isin((0, 1)).all() else value
        w = part[weight].to_numpy(dtype=float) if weight else None
        sf = SurvfuncRight(part["duration"].to_numpy(dtype=float), part["event"].to_numpy(dtype=float), freq_weights=w)
        surv, se = np.asarray(sf.surv_prob), np.asarray(sf.surv_prob_se)
        with np.errstate(divide="ignore", invalid="ignore"):
            # log(-log S) transform keeps the band inside (0, 1).
            log_log = np.log(-np.log(surv))
            half = Z_95 * se / np.abs(surv * np.log(surv))
            low = np.where((surv > 0) & (surv < 1), np.exp(-np.exp(log_log + half)), surv)
            high = np.where((surv > 0) & (surv < 1), np.exp(-np.exp(log_log - half)), surv)
        out.append(
            pd.DataFrame(
                {
                    "group": label,
                    "time": np.asarray(sf.surv_times),
                    "survival": surv,
                    "se": se,
                    "ci_low": low,
                    "ci_high": high,
                    "n_at_risk": np.asarray(sf.n_risk),
                    "n_events": np.asarray(sf.n_events),
                }
            )
        )
    return pd.concat(out, ignore_index=True) if out else pd.DataFrame()


@dataclass
class CoxResult:
    """Cox model of the hazard of becoming self-sufficient. ``table``: one row per term (term, coef,
    se, hazard_ratio, ci_low, ci_high of the HR, p_value); ``n`` rows, ``n_events``, ``n_clusters``."""

    table: pd.DataFrame
    n: int
    n_events: int
    n_clusters: int
    variance_method: str

    @property
    def hazard_ratio(self) -> float:
        """Hazard ratio of the first term (``treated``)."""
        return float(self.table["hazard_ratio"].iloc[0])


def cox_model(
    data: pd.DataFrame,
    covariates: tuple[str, ...] | list[str] = (),
    treatment: str = "treated",
    cluster: str | None = "person_id",
    strata: str | None = None,
    ties: str = "efron",
) -> CoxResult:
    """Cox proportional-hazards model of ``duration``/``event`` on ``treatment`` and ``covariates``; robust
    covariance clustered by ``cluster`` (None: model-based). ``strata``: optional column for a stratified
    baseline hazard (e.g. ``pair_group`` for a within-pair comparison).

    Fitted on aggregated monthly risk sets (:func:`insats.tasks.evaluation.cox.fit_cox`): the same estimates
    and covariance as statsmodels ``PHReg`` (Efron or Breslow ties, Lin-Wei sandwich), in time linear in rows.
    """
    cols = ["duration", "event", treatment, *covariates] + ([cluster] if cluster else []) + ([strata] if strata else [])
    missing = [c for c in cols if c not in data.columns]
    if missing:
        raise ValueError(f"survival data lack column(s): {', '.join(missing)}")
    if data[cols].isna().any().any():
        bad = [c for c in cols if data[c].isna().any()]
        raise ValueError(f"survival data: missing values in {', '.join(bad)}")
    # Rows censored before the first event time are in no risk set (no information), but make statsmodels'
    # clustered covariance NaN (0.15), e.g. controls censored at 0 because they start in m + 1: drop them.
    if (data["event"] == 1).any():
        first_time = data.loc[data["event"] == 1, "duration"].min()
        data = data[(data["event"] == 1) | (data["duration"] >= first_time)]
    if strata:
        # Strata whose earliest event has nobody else at risk (or without events) add nothing to the
        # stratified partial likelihood, but make statsmodels' clustered covariance NaN (0.15): drop them.
        key = data[strata]
        event_time = data["duration"].where(data["event"] == 1)
        first_event = event_time.groupby(key, sort=False).transform("min")
        at_risk = (data["duration"] >= first_event).groupby(key, sort=False).transform("sum")
        data = data[(at_risk >= 2).to_numpy()]
    terms = [treatment, *covariates]
    exog = data[terms].to_numpy(dtype=float)
    groups = pd.factorize(data[cluster])[0] if cluster else None
    fit = fit_cox(
        data["duration"].to_numpy(dtype=np.int64),
        data["event"].to_numpy(dtype=np.int64),
        exog,
        strata=pd.factorize(data[strata])[0] if strata else None,
        groups=groups,
        ties=ties,
    )
    coef, se = fit.params, np.sqrt(np.diag(fit.cov))
    table = pd.DataFrame(
        {
            "term": terms,
            "coef": coef,
            "se": se,
            "hazard_ratio": np.exp(coef),
            "ci_low": np.exp(coef - Z_95 * se),
            "ci_high": np.exp(coef + Z_95 * se),
            "p_value": 2 * ndtr(-np.abs(coef / se)),
        }
    )
    return CoxResult(
        table=table,
        n=len(data),
        n_events=int(data["event"].sum()),
        n_clusters=int(groups.max() + 1) if cluster else len(data),
        variance_method=f"robust sandwich clustered by {cluster}" if cluster else "model-based (inverse information)",
    )
