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
from scipy import stats

from insats.tasks.evaluation.did import Z_95, att_gt

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


class _DynamicAccumulator:
    """Dynamic aggregation (``did_aggregate.aggregate(kind="dynamic")``, R's ``aggte``) computed while the cells
    are estimated, keeping one influence vector per event time instead of one per cell (O(n x event times)).

    For event time e with cells k (cohort g_k, share p_k = P(G = g_k), ATT a_k, influence IF_k) and P = sum p_k,
    A = sum p_k a_k: theta_e = A / P and its influence is sum p_k IF_k / P plus the estimated weights' part
    sum_k a_k [(1{G = g_k} - p_k) / P - (sum_j (1{G = g_j} - p_j)) p_k / P^2]."""

    def __init__(self) -> None:
        self.shares: dict[float, float] = {}
        self.cells: dict[float, list[tuple[float, float]]] = {}  # e -> [(g, att)]
        self.influence: dict[float, np.ndarray] = {}  # e -> sum_k p_k IF_k
        self.unit_group: np.ndarray | None = None

    def __call__(self, g: float, t: float, att: float, influence: np.ndarray, unit_group: np.ndarray) -> None:
        if self.unit_group is None:
            self.unit_group = unit_group
            cohorts, sizes = np.unique(unit_group, return_counts=True)
            self.shares = dict(zip(cohorts.tolist(), (sizes / unit_group.size).tolist(), strict=True))
        e, p = t - g, self.shares[g]
        self.cells.setdefault(e, []).append((g, att))
        if e in self.influence:
            self.influence[e] += p * influence
        else:
            self.influence[e] = p * influence

    def table(self, clusters: np.ndarray) -> pd.DataFrame:
        """rel_month, att, se (clustered by ``clusters``), ci_low, ci_high, p_value per event time."""
        rows = []
        ug = self.unit_group
        for e in sorted(self.cells):
            cells = self.cells[e]
            p = np.array([self.shares[g] for g, _ in cells])
            a = np.array([att for _, att in cells])
            big_p, big_a = p.sum(), p @ a
            member = np.zeros(ug.size)
            member_att = np.zeros(ug.size)
            for g, att in cells:
                mask = ug == g
                member[mask] += 1.0
                member_att[mask] += att
            inf = self.influence[e] / big_p + (member_att - big_a) / big_p - (member - big_p) * big_a / big_p**2
            summed = np.bincount(clusters, weights=inf)
            se = float(np.sqrt(summed @ summed)) / ug.size
            att_e = big_a / big_p
            rows.append((int(e), att_e, se))
        out = pd.DataFrame(rows, columns=["rel_month", "att", "se"])
        out["ci_low"], out["ci_high"] = out["att"] - Z_95 * out["se"], out["att"] + Z_95 * out["se"]
        out["p_value"] = 2 * stats.norm.sf(np.abs(out["att"] / out["se"]))
        return out


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
    n_cells). SEs clustered by person, weights of the cohorts estimated (as ``did_aggregate``'s dynamic
    aggregation, accumulated per event time so that memory stays O(persons x event times))."""
    data = assistance_history(panel, history) if "assistance_share_history" in covariates else panel
    start_month = pd.to_datetime(starts).dt.to_period("M").dt.to_timestamp()
    data = data.assign(_first=data["person_id"].map(start_month))
    acc = _DynamicAccumulator()
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
        on_cell=acc,
    )
    dyn = acc.table(res.clusters) if acc.cells else pd.DataFrame(columns=["rel_month", "att", "se"])
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
