"""Difference-in-differences for real panels: Callaway & Sant'Anna (2021) group-time ATTs.

``att_gt`` estimates ATT(g, t) for every treatment cohort ``g`` (the first treated period) and period ``t``
from a long data set, as R's ``did::att_gt`` does (``bstrap = FALSE``, analytic standard errors):

* **Data**: a panel (``unit`` given: one row per unit and period, unbalanced allowed) or repeated
  cross-sections (``unit=None``: every row is its own observation). Rows with a missing outcome are dropped
  and counted (``counts["n_missing_outcome"]``); in a panel each ATT(g, t) uses the units observed in both
  periods it compares. Periods are integers (years, quarters, ...) or dates (taken as calendar months);
  the group column is in the same units, with 0, missing or +inf for never treated. Units treated in (or
  before) the first period are dropped and counted; cohorts after the last period count as never treated.
* **Base period**: ``"varying"`` (R's default: pre-treatment cells compare ``t`` with the period before
  it, post-treatment cells with the last period before ``g - anticipation``) or ``"universal"`` (every cell
  against that one period; the reference cell is reported with att 0 and se NaN).
* **Comparison units**: ``"never_treated"`` or ``"not_yet_treated"`` (never treated, or first treated after
  ``max(t, base) + anticipation``, the cohort itself excluded).
* **Estimator per cell**: panels use the doubly-robust DiD of Sant'Anna & Zhao (2020, ``DRDID::drdid_panel``):
  an unpenalised logit propensity score and a linear regression of the outcome change among comparison
  units, both on an intercept and ``covariates`` (taken in the earlier of the two periods, as R does);
  comparison units with a score >= 0.995 get weight 0. Without covariates this is the plain 2x2 DiD of
  means. Repeated cross-sections: the 2x2 DiD of the four cell means (no covariates).
* **Inference**: the influence function of each ATT(g, t) (one value per unit, or per row for repeated
  cross-sections) is kept; standard errors are sqrt(sum of squared influence) / n, with ``cluster`` the
  influence is first summed within clusters (a unit's rows are always one cluster in a panel).
  ``insats.tasks.evaluation.did_aggregate`` turns the cells into simple, group, calendar and dynamic effects.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

Z_95 = float(stats.norm.ppf(0.975))
ControlGroup = Literal["never_treated", "not_yet_treated"]
BasePeriod = Literal["varying", "universal"]
PS_TRIM = 0.995  # comparison units with a propensity score at or above this get weight 0 (as DRDID)


@dataclass
class DidResult:
    """ATT(g, t) estimates and what aggregation needs.

    ``group_time``: one row per cell: group, time, base (period compared with), event (time - group, in the
    periods' units), att, se, ci_low, ci_high, p_value, n_treated, n_control (units or rows used).
    ``influence``: n x cells influence functions (n units, or rows for repeated cross-sections), scaled so
    that the covariance of the cells is ``influence' influence / n**2`` (after summing within clusters).
    ``unit_group``: each unit's (row's) cohort (np.inf = never treated); ``clusters``: int codes per unit.
    """

    group_time: pd.DataFrame
    influence: np.ndarray = field(repr=False)
    unit_group: np.ndarray = field(repr=False)
    clusters: np.ndarray = field(repr=False)
    panel: bool
    control_group: str
    base_period: str
    covariates: list[str]
    counts: dict[str, int]
    time_kind: str  # "integer" or "month"

    def vcov(self, influence: np.ndarray | None = None) -> np.ndarray:
        """Cluster-robust covariance of the columns of ``influence`` (default: the cells)."""
        inf = self.influence if influence is None else influence
        n = inf.shape[0]
        summed = pd.DataFrame(inf).groupby(self.clusters).sum().to_numpy()
        return summed.T @ summed / n**2


def period_codes(values: pd.Series, name: str) -> tuple[np.ndarray, str]:
    """Periods as float numbers: integers as they are, dates as calendar months (year * 12 + month - 1).

    Returns (codes with NaN for missing, "integer" or "month"). Raises naming ``name`` if the values are
    neither whole numbers nor dates."""
    if isinstance(values.dtype, pd.PeriodDtype):
        values = values.dt.to_timestamp()
    if pd.api.types.is_datetime64_any_dtype(values):
        d = pd.DatetimeIndex(values)
        return np.where(d.isna(), np.nan, d.year * 12.0 + d.month - 1), "month"
    num = pd.to_numeric(values, errors="coerce").to_numpy(dtype=float)
    bad = values.notna().to_numpy() & np.isnan(num)
    finite = np.isfinite(num)
    if bad.any() or np.any(num[finite] != np.round(num[finite])):
        raise ValueError(f"column {name!r}: periods must be whole numbers (years, quarters) or dates")
    return num, "integer"


def _logit(x: np.ndarray, d: np.ndarray, max_iter: int = 25, eps: float = 1e-8) -> tuple[np.ndarray, np.ndarray]:
    """Unpenalised maximum-likelihood logit of ``d`` on ``x`` (x includes the intercept) by Newton-Raphson,
    stopped as R's ``glm`` (what ``DRDID`` calls): relative change of the deviance below ``eps`` within
    ``max_iter`` iterations.

    Returns (fitted probabilities, inverse of the average Hessian: k x k). Raises when the deviance has not
    settled (a symptom of separation). Quasi-separation, where the deviance settles with some fitted
    probabilities at 0 or 1, passes as in R (the doubly-robust weights trim such comparison units)."""
    beta = np.zeros(x.shape[1])
    dev_old = np.inf
    for _ in range(max_iter):
        eta = np.clip(x @ beta, -30.0, 30.0)
        p = 1.0 / (1.0 + np.exp(-eta))
        dev = -2.0 * float(np.sum(d * np.log(p) + (1 - d) * np.log1p(-p)))
        if abs(dev - dev_old) / (abs(dev) + 0.1) < eps:
            break
        dev_old = dev
        w = p * (1 - p)
        beta += np.linalg.lstsq((x * w[:, None]).T @ x, x.T @ (d - p), rcond=None)[0]
    else:
        raise ValueError("propensity logit did not converge (separation? check the covariates)")
    w = p * (1 - p)
    return p, np.linalg.pinv((x * w[:, None]).T @ x / len(d))


def dr_did_panel(dy: np.ndarray, d: np.ndarray, x: np.ndarray, score: bool = True) -> tuple[float, np.ndarray]:
    """Sant'Anna & Zhao (2020) doubly-robust DiD for a 2-period panel (``DRDID::drdid_panel``, unit weights).

    ``dy``: outcome change per unit (n), ``d``: 1 treated / 0 comparison, ``x``: n x k covariates WITH the
    intercept column. Returns (att, influence function per unit, mean zero, var(att) = mean(if**2) / n).
    ``score=False``: a constant propensity score, i.e. the outcome-regression DiD (Heckman, Ichimura & Todd
    1997; R did's ``est_method="reg"``), with its exact influence function."""
    n = len(dy)
    if score and x.shape[1] > 1:
        ps, ps_hinv = _logit(x, d)
    else:  # intercept-only logit: the share treated
        ps, ps_hinv = np.full(n, d.mean()), np.zeros((x.shape[1], x.shape[1]))
        ps_hinv[0, 0] = 1 / (d.mean() * (1 - d.mean()))
    ps = np.minimum(ps, 1 - 1e-6)
    keep = np.where(d == 1, True, ps < PS_TRIM)
    xc = x[d == 0]
    xtx = xc.T @ xc
    beta = np.linalg.lstsq(xtx, xc.T @ dy[d == 0], rcond=None)[0]
    out = x @ beta
    w_t = keep * d
    w_c = keep * ps * (1 - d) / (1 - ps)
    resid = dy - out
    eta_t = np.mean(w_t * resid) / np.mean(w_t)
    eta_c = np.mean(w_c * resid) / np.mean(w_c)
    ols_lin = ((1 - d) * resid)[:, None] * x @ np.linalg.pinv(xtx / n)
    ps_lin = ((d - ps)[:, None] * x) @ ps_hinv
    inf_t = (w_t * resid - w_t * eta_t - ols_lin @ np.mean(w_t[:, None] * x, axis=0)) / np.mean(w_t)
    m2 = np.mean((w_c * (resid - eta_c))[:, None] * x, axis=0)
    inf_c1 = w_c * resid - w_c * eta_c
    inf_c = (inf_c1 + ps_lin @ m2 - ols_lin @ np.mean(w_c[:, None] * x, axis=0)) / np.mean(w_c)
    return float(eta_t - eta_c), inf_t - inf_c


def _did_rc(y: np.ndarray, d: np.ndarray, post: np.ndarray) -> tuple[float, np.ndarray]:
    """2x2 DiD of the four cell means from repeated cross-sections; (att, influence per row, var = mean/n)."""
    n = len(y)
    att, inf = 0.0, np.zeros(n)
    for treat, after, sign in ((1, 1, 1), (1, 0, -1), (0, 1, -1), (0, 0, 1)):
        cell = (d == treat) & (post == after)
        if not cell.any():
            return float("nan"), inf
        m = y[cell].mean()
        att += sign * m
        inf[cell] += sign * (y[cell] - m) / (cell.sum() / n)
    return float(att), inf


def att_gt(
    data: pd.DataFrame,
    outcome: str,
    time: str,
    group: str,
    unit: str | None = None,
    covariates: list[str] | tuple[str, ...] = (),
    control_group: ControlGroup = "never_treated",
    base_period: BasePeriod = "varying",
    cluster: str | None = None,
    anticipation: int = 0,
    events: tuple[float, float] | None = None,
    on_separation: Literal["raise", "skip", "regression"] = "raise",
    covariate_period: Literal["earlier", "base"] = "earlier",
    on_cell: Callable[[float, float, float, np.ndarray, np.ndarray], None] | None = None,
) -> DidResult:
    """Group-time ATTs (module docstring). ``data``: long, one row per unit and period (panel) or per
    observation (``unit=None``); ``group``: first treated period per row (constant within a unit).
    ``events``: (lowest, highest) event time t - g to estimate (in the periods' units; months for dates),
    None = all. ``on_separation``: what a cell whose propensity logit does not converge (separation) gets:
    an error ("raise"), left out ("skip", counted in ``counts["n_cells_failed"]``), or the outcome-regression
    DiD on the same covariates ("regression", counted in ``counts["n_cells_regression"]``).
    ``covariate_period``: time-varying covariates are taken
    in the earlier of the two periods compared ("earlier", as R's did) or in the base period ("base"; with a
    universal base period that is the period before ``g`` for every cell of cohort ``g``, so that a history
    covariate never includes the period ``t`` whose outcome it would then explain). ``on_cell``: called as
    ``on_cell(g, t, att, influence, unit_group)`` for every estimated cell; with it the influence functions are
    not kept (``influence`` has no columns: n x cells would not fit in memory for a register), the cells' SEs
    are."""
    cols = [outcome, time, group, *([unit] if unit else []), *covariates, *([cluster] if cluster else [])]
    missing = [c for c in dict.fromkeys(cols) if c not in data.columns]
    if missing:
        raise ValueError(f"data lacks column(s) {', '.join(missing)}; it has: {', '.join(map(str, data.columns))}")
    if control_group not in ("never_treated", "not_yet_treated"):
        raise ValueError(f"control_group must be 'never_treated' or 'not_yet_treated', got {control_group!r}")
    if base_period not in ("varying", "universal"):
        raise ValueError(f"base_period must be 'varying' or 'universal', got {base_period!r}")
    if covariates and unit is None:
        raise ValueError("covariates need a panel (unit=...); repeated cross-sections are estimated without")
    t_code, kind = period_codes(data[time], time)
    g_code, g_kind = period_codes(data[group].replace(0, np.nan) if kind == "integer" else data[group], group)
    if g_kind != kind and not np.isnan(g_code).all():
        raise ValueError(f"columns {time!r} and {group!r} must both be whole numbers or both dates")
    if np.isnan(t_code).any():
        raise ValueError(f"column {time!r} has {int(np.isnan(t_code).sum())} missing period(s)")
    g_code = np.where(np.isnan(g_code), np.inf, g_code)
    y_all = pd.to_numeric(data[outcome], errors="coerce").to_numpy(dtype=float)
    n_missing = int(np.isnan(y_all).sum())
    tlist = np.unique(t_code)
    g_code = np.where(g_code > tlist[-1], np.inf, g_code)  # treated after the last period: never treated
    always = g_code <= tlist[0] + anticipation
    counts = {"n_rows": len(data), "n_missing_outcome": n_missing}

    if unit is not None:
        ids, u_codes = np.unique(data[unit].astype(str).to_numpy(), return_inverse=True)
        per_unit = pd.Series(g_code).groupby(u_codes).agg(["min", "max"])
        if (per_unit["min"] != per_unit["max"]).any():
            bad = ids[(per_unit["min"] != per_unit["max"]).to_numpy()][0]
            raise ValueError(f"column {group!r} must be constant within a unit; unit {bad} has several values")
        ti = np.searchsorted(tlist, t_code)
        flat = u_codes * len(tlist) + ti
        if np.bincount(flat).max() > 1:
            raise ValueError(f"more than one row per {unit!r} and {time!r}")
        n_u = len(ids)
        keep_u = ~per_unit["min"].to_numpy().__le__(tlist[0] + anticipation)
        wide = np.full((n_u, len(tlist)), np.nan)
        wide[u_codes, ti] = y_all
        xw = []
        for c in covariates:
            m = np.full((n_u, len(tlist)), np.nan)
            m[u_codes, ti] = pd.to_numeric(data[c], errors="coerce").to_numpy(dtype=float)
            xw.append(m)
        ug = per_unit["min"].to_numpy()
        if cluster:
            cl_u = pd.Series(data[cluster].to_numpy()).groupby(u_codes).first().to_numpy()
            if (pd.Series(data[cluster].to_numpy()).groupby(u_codes).nunique() > 1).any():
                raise ValueError(f"column {cluster!r}: a unit's rows must be in one cluster")
        else:
            cl_u = np.arange(n_u)
        counts |= {"n_units": int(keep_u.sum()), "n_dropped_always_treated": int((~keep_u).sum())}
        wide, ug, cl_u, xw = wide[keep_u], ug[keep_u], cl_u[keep_u], [m[keep_u] for m in xw]
    else:
        keep_r = ~always & ~np.isnan(y_all)
        counts |= {"n_units": int(keep_r.sum()), "n_dropped_always_treated": int((always & ~np.isnan(y_all)).sum())}
        y_r, ti_r = y_all[keep_r], np.searchsorted(tlist, t_code[keep_r])
        ug = g_code[keep_r]
        cl_u = data[cluster].to_numpy()[keep_r] if cluster else np.arange(int(keep_r.sum()))
    n = len(ug)
    cl_codes = pd.factorize(pd.Series(cl_u))[0]
    glist = np.unique(ug[np.isfinite(ug)])
    if glist.size == 0 or not np.isinf(ug).any() and control_group == "never_treated":
        raise ValueError("need treated units and never-treated units (or control_group='not_yet_treated')")

    rows, infs, ses, failed, by_regression = [], [], [], 0, 0
    for g in glist:
        pre_idx = np.flatnonzero(tlist + anticipation < g)
        if pre_idx.size == 0:
            continue
        pret = int(pre_idx[-1])
        for j in range(0 if base_period == "universal" else 1, len(tlist)):
            if events is not None and not events[0] <= tlist[j] - g <= events[1]:
                continue
            b = pret
            if base_period == "varying" and tlist[j] + anticipation < g:
                b = j - 1
            if base_period == "universal" and j == pret:
                rows.append((g, tlist[j], tlist[b], 0.0, np.nan, 0, 0))
                ses.append(np.nan)
                if on_cell is None:
                    infs.append(np.zeros(n))
                continue
            treat = ug == g
            if control_group == "never_treated":
                ctrl = np.isinf(ug)
            else:
                ctrl = np.isinf(ug) | ((ug > tlist[max(j, b)] + anticipation) & (ug != g))
            full = np.zeros(n)
            if unit is not None:
                use = (treat | ctrl) & ~np.isnan(wide[:, j]) & ~np.isnan(wide[:, b])
                early = b if covariate_period == "base" else min(j, b)
                for m in xw:
                    use &= ~np.isnan(m[:, early])
                if not (use & treat).any() or not (use & ctrl).any():
                    continue
                x = np.column_stack([np.ones(int(use.sum()))] + [m[use, early] for m in xw])
                dy, dd = wide[use, j] - wide[use, b], treat[use].astype(float)
                try:
                    att, psi = dr_did_panel(dy, dd, x)
                except ValueError as exc:
                    if on_separation == "raise":
                        raise ValueError(f"ATT(g={g:g}, t={tlist[j]:g}): {exc}") from exc
                    if on_separation == "skip":
                        failed += 1
                        continue
                    att, psi = dr_did_panel(dy, dd, x, score=False)
                    by_regression += 1
            else:
                use = (treat | ctrl) & ((ti_r == j) | (ti_r == b))
                att, psi = _did_rc(y_r[use], treat[use].astype(float), (ti_r[use] == j).astype(float))
                if np.isnan(att):
                    continue
            n_cell = int(use.sum())
            full[use] = psi * n / n_cell
            rows.append((g, tlist[j], tlist[b], att, np.nan, int((use & treat).sum()), int((use & ctrl).sum())))
            summed = np.bincount(cl_codes, weights=full)
            ses.append(float(np.sqrt(summed @ summed)) / n)
            if on_cell is None:
                infs.append(full)
            else:
                on_cell(float(g), float(tlist[j]), float(att), full, ug)
    counts |= {"n_cells_failed": failed, "n_cells_regression": by_regression}
    gt = pd.DataFrame(rows, columns=["group", "time", "base", "att", "se", "n_treated", "n_control"])
    influence = np.column_stack(infs) if infs and on_cell is None else np.zeros((n, 0))
    result = DidResult(
        group_time=gt,
        influence=influence,
        unit_group=ug,
        clusters=cl_codes,
        panel=unit is not None,
        control_group=control_group,
        base_period=base_period,
        covariates=list(covariates),
        counts=counts,
        time_kind=kind,
    )
    gt["se"] = np.array(ses, dtype=float)
    gt.insert(3, "event", gt["time"] - gt["group"])
    gt["ci_low"], gt["ci_high"] = gt["att"] - Z_95 * gt["se"], gt["att"] + Z_95 * gt["se"]
    gt["p_value"] = 2 * stats.norm.sf(np.abs(gt["att"] / gt["se"]))
    result.group_time = gt[
        ["group", "time", "base", "event", "att", "se", "ci_low", "ci_high", "p_value", "n_treated", "n_control"]
    ]
    return result


def did_2x2(
    data: pd.DataFrame,
    outcome: str,
    treated: str,
    post: str,
    unit: str | None = None,
    covariates: list[str] | tuple[str, ...] = (),
    cluster: str | None = None,
) -> dict[str, float | int]:
    """Classic 2x2 DiD: ``treated`` (0/1 per unit or row) x ``post`` (0/1 period), by ``att_gt`` with one
    cohort (doubly robust on ``covariates`` in a panel; four means for repeated cross-sections).

    Returns att, se, ci_low, ci_high, p_value, n (units or rows used), n_treated, n_control,
    n_missing_outcome (rows dropped for a missing outcome)."""
    for c in (treated, post):
        if c not in data.columns:
            raise ValueError(f"data lacks column {c!r}; it has: {', '.join(map(str, data.columns))}")
        values = set(pd.unique(data[c].dropna().astype(float)))
        if not values <= {0.0, 1.0}:
            raise ValueError(f"column {c!r} must be 0/1, has {sorted(values)[:5]}")
    frame = data.assign(
        _period=data[post].astype(float).astype(int), _cohort=np.where(data[treated].astype(float) == 1, 1, 0)
    )
    res = att_gt(frame, outcome, "_period", "_cohort", unit=unit, covariates=covariates, cluster=cluster)
    row = res.group_time.iloc[0]
    keys = ("att", "se", "ci_low", "ci_high", "p_value")
    return {k: float(row[k]) for k in keys} | {
        "n": int(row["n_treated"] + row["n_control"]),
        "n_treated": int(row["n_treated"]),
        "n_control": int(row["n_control"]),
        "n_missing_outcome": res.counts["n_missing_outcome"],
    }
