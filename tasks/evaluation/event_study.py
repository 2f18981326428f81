"""Event-study difference-in-differences around the start of an intervention, robust to staggered entry.

This is the register's fast path (complete monthly person panel, no covariates, sufficient statistics). The
general estimator, for unbalanced panels, missing outcomes, yearly or other periods, varying base periods,
covariates (doubly robust) and the four aggregations, is ``insats.tasks.evaluation.did`` (equal to this one
on a complete panel: tests/tasks/evaluation/test_event_study.py).

Estimator: Callaway & Sant'Anna (2021) group-time ATTs without covariates, aggregated to event time
("dynamic" aggregation), NOT a two-way fixed-effects regression with relative-time dummies (which mixes
cohorts with negative weights when effects differ between cohorts or over time since start).

* Cohort ``g`` = month index of a person's FIRST start of the intervention. Persons who started in the
  panel's first month (no pre-period) or before it are dropped (counted). Starts after the panel's last
  month count as never treated.
* Universal base period: every ATT(g, t) compares month ``t`` with month ``g - 1`` (relative month -1, the
  reference, normalised to 0):
  ATT(g, t) = [mean_{G=g} (Y_t - Y_{g-1})] - [mean_{controls} (Y_t - Y_{g-1})].
  Differencing within person removes person fixed effects; taking the same calendar months for treated and
  controls removes calendar-month fixed effects, so each ATT(g, t) is the 2x2 DiD of a model with person
  and calendar-month fixed effects, estimated on clean comparisons only.
* Controls: ``"never_treated"`` (persons never starting within the panel) or ``"not_yet_treated"``
  (persons whose first start is after ``max(t, g - 1)``, never-treated included; the cohort itself excluded).
* Aggregation: theta(e) = sum_g w_g ATT(g, g + e), w_g = n_g / sum of n_h over the cohorts observed at
  relative month e (composition changes with e unless the window is balanced: see ``n_cohorts``).
* Uncertainty: analytic influence functions, summed within person, i.e. clustered by person (each person is
  one cluster; his outcome in every month enters through one row of the outcome matrix). The variance
  includes the estimation of the cohort weights w_g. 95 % CI = theta +- 1.96 se (pointwise).

Computation: everything needed is a sufficient statistic of the person x month outcome matrix by cohort:
counts n_k, column sums S_k (T) and Gram matrices Y_k' Y_k (T x T) for the <= T + 1 cohort groups.
Each person's influence function is linear in his outcome row, psi_i = Y_i B_k + c_k, so the full
covariance of the event-time coefficients is sum_k B_k' (Y_k'Y_k) B_k + ... without ever materialising a
person x cell array. 500k persons x 60 months costs ~1.8 GFLOP for the Gram matrices (seconds, ~0.5 GB).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from insats.tasks.evaluation.panel_matrix import outcome_matrix, start_month_index

Z_95 = float(stats.norm.ppf(0.975))
ControlGroup = Literal["never_treated", "not_yet_treated"]


@dataclass
class EventStudyResult:
    """Event-study estimates.

    ``coefficients``: one row per relative month ``rel_month`` in ``-leads .. lags`` (month of start = 0;
    -1 is the reference with att 0, se 0), columns att, se, ci_low, ci_high, p_value, n_treated (persons
    in the cohorts contributing), n_cohorts. Rows without any estimable cohort are absent.
    ``group_time``: one row per estimated ATT(g, t): cohort (datetime of the start month), month, rel_month,
    att, n_treated, n_controls. ``overall``: average of theta(e) over e = 0 .. lags (equal weights per
    relative month) with se/ci. ``pretrend_*``: joint Wald test that all theta(e), e <= -2, are zero.
    ``vcov``: covariance of the ``coefficients`` att column (same order).
    """

    outcome: str
    control_group: str
    coefficients: pd.DataFrame
    group_time: pd.DataFrame
    overall: dict[str, float]
    pretrend_chi2: float
    pretrend_df: int
    pretrend_p: float
    n_persons: int
    n_treated_persons: int
    n_dropped_no_pre_period: int
    vcov: np.ndarray = field(repr=False)
    variance_method: str = "analytic influence function, clustered by person, cohort weights estimated"


def event_study(
    panel: pd.DataFrame,
    starts: pd.Series,
    outcome: str = "on_assistance",
    leads: int = 12,
    lags: int = 24,
    control_group: ControlGroup = "not_yet_treated",
) -> EventStudyResult:
    """Callaway-Sant'Anna event study of ``outcome`` around the first start (module docstring).

    ``panel``: rectangular person-month panel (person_id, month, ``outcome`` numeric without missing
    values; e.g. on_assistance 0/1 from ``build_person_month_panel``). ``starts``: first start date per
    person_id (``insats.tasks.evaluation.design.first_starts(spells, intervention_id)``). Relative months
    ``-leads .. lags``; the month of start is 0, the month before (-1) is the reference.
    """
    if leads < 1 or lags < 0:
        raise ValueError(f"need leads >= 1 and lags >= 0, got leads={leads}, lags={lags}")
    if control_group not in ("never_treated", "not_yet_treated"):
        raise ValueError(f"control_group must be 'never_treated' or 'not_yet_treated', got {control_group!r}")
    y, ids, months = outcome_matrix(panel, outcome)
    n_p, n_t = y.shape
    g_idx = start_month_index(starts, ids, months)
    no_pre = (g_idx <= 0) & (g_idx < n_t)
    keep = ~no_pre
    y, g_idx = y[keep], g_idx[keep]
    group = np.where(g_idx >= n_t, n_t, g_idx)  # cohort 1..T-1, T = never treated
    n_groups = n_t + 1

    # Sufficient statistics per cohort group: counts, column sums, Gram matrices.
    counts = np.bincount(group, minlength=n_groups).astype(np.float64)
    sums = np.zeros((n_groups, n_t))
    gram = np.zeros((n_groups, n_t, n_t))
    order = np.argsort(group, kind="stable")
    bounds = np.searchsorted(group[order], np.arange(n_groups + 1))
    for k in range(n_groups):
        if bounds[k + 1] > bounds[k]:
            yk = y[order[bounds[k] : bounds[k + 1]]]
            sums[k] = yk.sum(axis=0)
            gram[k] = yk.T @ yk
    del y
    means = np.divide(sums, counts[:, None], out=np.zeros_like(sums), where=counts[:, None] > 0)

    rel = np.arange(-leads, lags + 1)
    n_e = rel.size
    b_coef = np.zeros((n_groups, n_t, n_e))  # psi_i[e] = Y_i @ b_coef[k, :, e] + c_coef[k, e]
    c_coef = np.zeros((n_groups, n_e))
    theta = np.zeros(n_e)
    n_treated_e = np.zeros(n_e, dtype=np.int64)
    n_cohorts_e = np.zeros(n_e, dtype=np.int64)
    gt_rows: list[tuple[int, int, int, float, int, int]] = []
    groups_arr = np.arange(n_groups)
    for j, e in enumerate(rel):
        cells: list[tuple[int, float, float, float, np.ndarray, float]] = []
        for g in range(1, n_t):
            t, b = g + e, g - 1
            if counts[g] == 0 or t < 0 or t >= n_t or e == -1:
                continue
            if control_group == "never_treated":
                ctrl = groups_arr == n_t
            else:
                ctrl = (groups_arr > max(t, b)) & (groups_arr != g)
            n_c = float(counts[ctrl].sum())
            if n_c == 0:
                continue
            m_t = means[g, t] - means[g, b]
            m_c = float((sums[ctrl, t] - sums[ctrl, b]).sum()) / n_c
            cells.append((g, counts[g], m_t, m_c, ctrl, n_c))
            gt_rows.append((g, t, int(e), m_t - m_c, int(counts[g]), int(n_c)))
        if e == -1:
            n_cohorts_e[j] = int((counts[1:n_t] > 0).sum())
            n_treated_e[j] = int(counts[1:n_t].sum())
            continue
        if not cells:
            continue
        n_total = sum(c[1] for c in cells)
        theta[j] = sum(c[1] * (c[2] - c[3]) for c in cells) / n_total
        n_treated_e[j], n_cohorts_e[j] = int(n_total), len(cells)
        for g, n_g, m_t, m_c, ctrl, n_c in cells:
            w, t, b = n_g / n_total, g + e, g - 1
            # Treated of cohort g: w (Y_t - Y_b - m_t) / n_g
            b_coef[g, t, j] += w / n_g
            b_coef[g, b, j] -= w / n_g
            c_coef[g, j] -= w * m_t / n_g
            # Controls: -w (Y_t - Y_b - m_c) / n_c
            b_coef[ctrl, t, j] -= w / n_c
            b_coef[ctrl, b, j] += w / n_c
            c_coef[ctrl, j] += w * m_c / n_c
            # Estimated cohort weights: (ATT_g - theta) / N_e for members of cohort g.
            c_coef[g, j] += (m_t - m_c - theta[j]) / n_total
    # Covariance: sum over persons of psi_i psi_i', grouped by cohort.
    vcov = np.zeros((n_e, n_e))
    for k in range(n_groups):
        if counts[k] == 0:
            continue
        bk, ck, sk = b_coef[k], c_coef[k], sums[k]
        cross = np.outer(bk.T @ sk, ck)
        vcov += bk.T @ gram[k] @ bk + cross + cross.T + counts[k] * np.outer(ck, ck)

    estimable = n_cohorts_e > 0
    se = np.sqrt(np.clip(np.diag(vcov), 0.0, None))
    with np.errstate(divide="ignore", invalid="ignore"):
        p = np.where(se > 0, 2 * stats.norm.sf(np.abs(theta / se)), np.nan)
    coefficients = pd.DataFrame(
        {
            "rel_month": rel,
            "att": theta,
            "se": se,
            "ci_low": theta - Z_95 * se,
            "ci_high": theta + Z_95 * se,
            "p_value": p,
            "n_treated": n_treated_e,
            "n_cohorts": n_cohorts_e,
        }
    )[estimable].reset_index(drop=True)
    vcov_kept = vcov[np.ix_(estimable, estimable)]

    post = (rel >= 0) & estimable
    overall = {"att": float("nan"), "se": float("nan"), "ci_low": float("nan"), "ci_high": float("nan")}
    if post.any():
        a = post / post.sum()
        att_bar, se_bar = float(a @ theta), float(np.sqrt(max(a @ vcov @ a, 0.0)))
        overall = {"att": att_bar, "se": se_bar, "ci_low": att_bar - Z_95 * se_bar, "ci_high": att_bar + Z_95 * se_bar}
    pre = (rel <= -2) & estimable
    chi2, df, p_pre = float("nan"), int(pre.sum()), float("nan")
    if df:
        v_pre = vcov[np.ix_(pre, pre)]
        chi2 = float(theta[pre] @ np.linalg.pinv(v_pre) @ theta[pre])
        df = int(np.linalg.matrix_rank(v_pre))
        p_pre = float(stats.chi2.sf(chi2, df)) if df else float("nan")

    gt = pd.DataFrame(gt_rows, columns=["g", "t", "rel_month", "att", "n_treated", "n_controls"])
    group_time = pd.DataFrame(
        {
            "cohort": months[gt["g"].to_numpy()] if len(gt) else pd.DatetimeIndex([]),
            "month": months[gt["t"].to_numpy()] if len(gt) else pd.DatetimeIndex([]),
            "rel_month": gt["rel_month"].to_numpy(),
            "att": gt["att"].to_numpy(),
            "n_treated": gt["n_treated"].to_numpy(),
            "n_controls": gt["n_controls"].to_numpy(),
        }
    )
    return EventStudyResult(
        outcome=outcome,
        control_group=control_group,
        coefficients=coefficients,
        group_time=group_time,
        overall=overall,
        pretrend_chi2=chi2,
        pretrend_df=df,
        pretrend_p=p_pre,
        n_persons=int(keep.sum()),
        n_treated_persons=int(counts[1:n_t].sum()),
        n_dropped_no_pre_period=int(no_pre.sum()),
        vcov=vcov_kept,
    )
