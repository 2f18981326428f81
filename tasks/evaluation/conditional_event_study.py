"""Study 3's covariate-conditional event study: Callaway-Sant'Anna with doubly-robust ATT(g, t) given the
assistance history before the start (``insats.tasks.evaluation.did``).

Why: starters are selected on their assistance history (they start when they have been on assistance for a
while), so the unconditional event study (``event_study.event_study``) shows pre-trends. Conditioning each
2x2 comparison on that history (Sant'Anna & Zhao 2020: logit score and outcome regression on it) compares
starters with not-yet-starters whose recent history was alike.

History covariates of a cohort starting in month g, for starters and comparison persons alike, are measured
in month g - 1 (the universal base month) for every relative month, before and after the start:
``on_assistance`` in g - 1 and the share of the ``history`` months up to g - 1 (fewer at the panel's start)
on assistance. In a cohort whose starters are all at the edge of the history's range (all on assistance in
g - 1, typical of small cohorts) the logit has no maximum (separation); such cells use the outcome-regression
DiD on the same history instead (counted). (Taking them in the earlier month of each comparison, as R's
``did`` does, would condition a pre-period change on its own starting value.)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats.tasks.evaluation.did import att_gt
from insats.tasks.evaluation.did_aggregate import aggregate

HISTORY_COVARIATES = ("on_assistance", "assistance_share_history")


def assistance_history(panel: pd.DataFrame, history: int = 12) -> pd.DataFrame:
    """``panel`` (person_id, month, on_assistance) with ``assistance_share_history`` added: the mean of
    on_assistance over the person's last ``history`` months up to and including the row's month."""
    ordered = panel.sort_values(["person_id", "month"], kind="mergesort")
    share = (
        ordered.groupby("person_id", sort=False, observed=True)["on_assistance"]
        .rolling(history, min_periods=1)
        .mean()
        .reset_index(level=0, drop=True)
    )
    return ordered.assign(assistance_share_history=share.astype(float)).sort_index()


def conditional_event_study(
    panel: pd.DataFrame,
    starts: pd.Series,
    outcome: str = "on_assistance",
    leads: int = 12,
    lags: int = 24,
    covariates: tuple[str, ...] = HISTORY_COVARIATES,
    history: int = 12,
) -> tuple[pd.DataFrame, dict[str, int]]:
    """Event-time ATTs -leads..lags (relative month 0 = month of start, -1 the reference with att 0 and se 0)
    against not-yet-treated persons, universal base period (the month before the start), doubly robust on
    ``covariates`` (empty: the unconditional estimator). ``starts``: first start date per person_id.

    Returns (table with rel_month, att, se, ci_low, ci_high, p_value, n_treated; counts from ``att_gt`` plus
    n_cells). SEs clustered by person, weights of the cohorts estimated (``did_aggregate``)."""
    data = assistance_history(panel, history) if "assistance_share_history" in covariates else panel
    start_month = pd.to_datetime(starts).dt.to_period("M").dt.to_timestamp()
    data = data.assign(_first=data["person_id"].map(start_month))
    res = att_gt(
        data,
        outcome,
        "month",
        "_first",
        unit="person_id",
        covariates=list(covariates),
        control_group="not_yet_treated",
        base_period="universal",
        events=(-leads, lags),
        on_separation="regression",
        covariate_period="base",
    )
    dyn = aggregate(res, "dynamic", min_e=-leads, max_e=lags)
    dyn = dyn[dyn["term"] == "dynamic"].rename(columns={"key": "rel_month"})
    gt = res.group_time
    n_treated = gt[gt["n_treated"] > 0].groupby("event")["n_treated"].sum()
    ref = gt[gt["event"] == -1]
    table = dyn.assign(rel_month=dyn["rel_month"].astype(int), n_treated=dyn["rel_month"].map(n_treated).fillna(0))
    if len(ref):  # the reference month: att 0 by construction, every cohort with a pre-period counts
        sizes = pd.Series(res.unit_group).value_counts()
        n_ref = int(sizes.reindex(ref["group"].unique()).fillna(0).sum())
        reference = {"rel_month": -1, "att": 0.0, "se": 0.0, "ci_low": 0.0, "ci_high": 0.0, "p_value": np.nan}
        table = pd.concat([table, pd.DataFrame([reference | {"n_treated": n_ref}])], ignore_index=True)
    table = table.sort_values("rel_month").reset_index(drop=True)
    table["n_treated"] = table["n_treated"].astype(np.int64)
    counts = dict(res.counts) | {"n_cells": int((gt["n_treated"] > 0).sum())}
    return table[["rel_month", "att", "se", "ci_low", "ci_high", "p_value", "n_treated"]], counts
