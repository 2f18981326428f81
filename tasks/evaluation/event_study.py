"""Event-study difference-in-differences around the start of an intervention, robust to staggered entry.

This is the register's fast path (complete monthly person panel, no covariates, sufficient statistics). The
general estimator, for unbalanced panels, missing outcomes, yearly or other periods, varying base periods,
covariates (doubly robust) and the four aggregations, is ``insats.tasks.evaluation.did`` (equal to this one
on a complete panel: tests/test_event_study.py).

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


def outcome_matrix(panel: pd.DataFrame, outcome: str) -> tuple[np.ndarray, pd.Index, pd.DatetimeIndex]:
    """Person x month array of ``outcome`` (float64) from a rectangular long panel.

    ``panel``: columns person_id, month (first day of month) and ``outcome`` (numeric, no missing values),
    exactly one row per person and month over consecutive months (as ``build_person_month_panel`` makes).
    Returns ``(Y, person_ids, months)`` with ``Y[i, t]`` the outcome of ``person_ids[i]`` in ``months[t]``.
    """
    missing = [c for c in ("person_id", "month", outcome) if c not in panel.columns]
    if missing:
        raise ValueError(f"panel lacks column(s): {', '.join(missing)}")
    values = panel[outcome]
    if values.isna().any():
        raise ValueError(
            f"panel: outcome {outcome!r} has {int(values.isna().sum())} missing value(s); this fast path needs a "
            "complete person x month panel: use insats.tasks.evaluation.did.att_gt (missing outcomes allowed)"
        )
    p_codes, ids = pd.factorize(panel["person_id"])
    m_codes, months = pd.factorize(panel["month"], sort=True)
    if not pd.api.types.is_datetime64_any_dtype(months):
        raise ValueError(
            f"panel: column 'month' holds {months.dtype} values, not dates; for years, quarters or other whole-"
            "number periods use insats.tasks.evaluation.did.att_gt"
        )
    months = pd.DatetimeIndex(months)
    expected = pd.period_range(months[0].to_period("M"), months[-1].to_period("M"), freq="M")
    if len(expected) != len(months):
        raise ValueError(
            f"panel: the {len(months)} months are not consecutive calendar months ({len(expected)} from first to "
            "last); use insats.tasks.evaluation.did.att_gt for gaps, unbalanced panels or other periods"
        )
    n_p, n_m = len(ids), len(months)
    flat = p_codes.astype(np.int64) * n_m + m_codes
    if len(panel) != n_p * n_m or np.bincount(flat, minlength=n_p * n_m).max(initial=0) > 1:
        raise ValueError(f"panel: expected one row per person and month ({n_p} x {n_m}), got {len(panel)} rows")
    y = np.empty(n_p * n_m, dtype=np.float64)
    y[flat] = values.to_numpy(dtype=np.float64)
    ids = pd.Index(np.asarray(ids))  # plain (not categorical) index for look-ups
    return y.reshape(n_p, n_m), ids, months


def start_month_index(starts: pd.Series, ids: pd.Index, months: pd.DatetimeIndex) -> np.ndarray:
    """Month index (0 = ``months[0]``) of each person's first start; ``len(months)`` or more = never.

    ``starts``: first start date per person_id (Series indexed by person_id, e.g. ``design.first_starts``);
    persons not in ``ids`` are ignored, persons without an entry are never treated. Starts before the
    panel get a negative index.
    """
    never = np.full(len(ids), np.iinfo(np.int32).max, dtype=np.int64)
    if len(starts) == 0:
        return never
    dates = pd.DatetimeIndex(pd.to_datetime(starts.to_numpy()))
    if dates.isna().any():
        raise ValueError("starts: missing start date(s); pass only persons who started")
    codes = ids.get_indexer(pd.Index(starts.index))
    known = codes >= 0
    first = months[0].year * 12 + months[0].month - 1
    idx = (dates.year * 12 + dates.month - 1 - first).to_numpy().astype(np.int64)
    never[codes[known]] = idx[known]
    return never


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


def twfe_event_study(
    panel: pd.DataFrame,
    starts: pd.Series,
    outcome: str = "on_assistance",
    leads: int = 12,
    lags: int = 24,
    tol: float = 1e-10,
    max_iter: int = 1000,
) -> pd.DataFrame:
    """Naive dynamic two-way fixed-effects event study, for comparison only (biased under staggered entry
    with heterogeneous effects).

    OLS of ``outcome`` on relative-month dummies ``-leads .. lags`` (-1 omitted; months outside the window
    binned into the end dummies) with person and calendar-month fixed effects, by alternating-projection
    demeaning of the rectangular panel; SEs clustered by person (CR0). Returns rel_month, att, se.
    """
    y, ids, months = outcome_matrix(panel, outcome)
    n_p, n_t = y.shape
    g_idx = start_month_index(starts, ids, months)
    rel_all = np.arange(n_t)[None, :] - g_idx[:, None]
    treated = g_idx < n_t
    rel = np.arange(-leads, lags + 1)
    rel = rel[rel != -1]
    binned = np.clip(rel_all, -leads, lags)
    x_cols = []
    for e in rel:
        x_cols.append(((binned == e) & treated[:, None]).astype(np.float64))

    def demean(a: np.ndarray) -> np.ndarray:
        a = a - a.mean(axis=1, keepdims=True)
        for _ in range(max_iter):
            col = a.mean(axis=0, keepdims=True)
            a = a - col
            row = a.mean(axis=1, keepdims=True)
            a = a - row
            if max(np.abs(col).max(), np.abs(row).max()) < tol:
                break
        return a

    yd = demean(y).reshape(-1)
    xd = np.column_stack([demean(x).reshape(-1) for x in x_cols])
    keep = np.abs(xd).sum(axis=0) > 0
    xd = xd[:, keep]
    xtx_inv = np.linalg.pinv(xd.T @ xd)
    beta = xtx_inv @ xd.T @ yd
    resid = yd - xd @ beta
    scores = (xd * resid[:, None]).reshape(n_p, n_t, -1).sum(axis=1)
    v = xtx_inv @ (scores.T @ scores) @ xtx_inv
    return pd.DataFrame({"rel_month": rel[keep], "att": beta, "se": np.sqrt(np.diag(v))})


def matched_event_study(
    panel: pd.DataFrame,
    sample: pd.DataFrame,
    pairs: pd.DataFrame,
    outcome: str = "on_assistance",
    leads: int = 12,
    lags: int = 24,
) -> pd.DataFrame:
    """Event study on the MATCHED sample: each treated starter against its matched control(s), both followed
    around the treated's start month (the control's matching month is its pseudo-start), stacked by pair.

    This is the dynamic counterpart of the matched estimate: the pair difference removes calendar-month
    effects, the difference to relative month -1 removes fixed person differences, and each pair is compared
    at its own event time (no comparisons with already-treated units, so staggered entry is no problem).
    Selection on the observed history is handled by the matching, which is why the pre-period estimates
    should be close to zero (a check of the design, not a proof).

    ``sample``: the sequential matching sample (person_id, month, treated, ...), ``pairs``: treated_index,
    control_index, weight (row labels of ``sample``; the weights of one treated's controls sum to 1), as in
    ``EffectEstimate.pairs``. Returns one row per relative month -leads..lags: rel_month, att, se, ci_low,
    ci_high, p_value, n_treated (treated persons observed at that relative month). SE: between treated persons
    of their weighted pair differences (each starter is one person); treats the matched controls as fixed.
    """
    for col in ("treated_index", "control_index", "weight"):
        if col not in pairs.columns:
            raise ValueError(f"pairs lack column {col!r}")
    y, ids, months = outcome_matrix(panel, outcome)
    rel = np.arange(-leads, lags + 1)
    ref = int(np.flatnonzero(rel == -1)[0])

    def path(rows: pd.Index) -> np.ndarray:
        part = sample.loc[rows, ["person_id", "month"]]
        who = ids.get_indexer(pd.Index(part["person_id"].astype(str).to_numpy()))
        when = months.get_indexer(pd.DatetimeIndex(part["month"]))
        if (who < 0).any() or (when < 0).any():
            raise ValueError("matched rows refer to persons or months not in the panel")
        cols = when[:, None] + rel[None, :]
        inside = (cols >= 0) & (cols < len(months))
        out = np.full(cols.shape, np.nan)
        out[inside] = y[np.broadcast_to(who[:, None], cols.shape)[inside], cols[inside]]
        return out

    diff = path(pd.Index(pairs["treated_index"])) - path(pd.Index(pairs["control_index"]))
    diff -= diff[:, [ref]]
    weighted = diff * pairs["weight"].to_numpy(dtype=float)[:, None]
    by_treated = pd.DataFrame(weighted).groupby(pairs["treated_index"].to_numpy()).sum(min_count=1).to_numpy()
    n = np.sum(~np.isnan(by_treated), axis=0)
    att = np.nanmean(np.where(n > 0, by_treated, 0.0), axis=0, where=~np.isnan(by_treated))
    sd = np.array([np.nanstd(by_treated[:, j], ddof=1) if n[j] > 1 else np.nan for j in range(len(rel))])
    se = sd / np.sqrt(np.maximum(n, 1))
    se[ref] = 0.0
    z = np.divide(att, se, out=np.zeros_like(att), where=se > 0)
    p = 2 * stats.norm.sf(np.abs(z))
    p[ref] = 1.0
    table = pd.DataFrame(
        {
            "rel_month": rel,
            "att": att,
            "se": se,
            "ci_low": att - 1.959963984540054 * se,
            "ci_high": att + 1.959963984540054 * se,
            "p_value": p,
            "n_treated": n.astype(np.int64),
        }
    )
    return table[table["n_treated"] > 0].reset_index(drop=True)
