"""Cox proportional-hazards fit on aggregated monthly risk sets (durations are whole months).

Rows that share (stratum, duration, covariate pattern) contribute identically to the partial likelihood, so
the fit works on those cells with their row and event counts: risk-set sums S0 = sum n e^{x'b}, S1, S2 are
reverse cumulative sums over the distinct months within a stratum, and ties use Efron's (or Breslow's)
correction over each month's d events, expanded only as d scalars per month. Newton-Raphson with step
halving from b = 0. The cost is linear in rows (one grouping pass and one residual pass); the likelihood
work grows with the number of cells, not rows.

The robust covariance is statsmodels PHReg's (0.15) exactly: H^-1 (sum_g U_g U_g') H^-1 with H the Efron
(or Breslow) Hessian and U_g the sum over cluster g of the rows' Breslow-form score residuals
``delta_i (x_i - xbar(t_i)) - e^{x_i'b} sum_{t_j <= t_i} (d_j / S0(t_j)) (x_i - xbar(t_j))``; the
model-based covariance is -H^-1. A row censored before its stratum's first event is in no risk set and has a
zero residual (statsmodels gives NaN there; callers drop such rows first).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd


@dataclass
class CoxFit:
    """``params`` (p,), ``cov`` (p, p), ``loglike`` (partial log-likelihood), ``iterations``, ``n_cells``."""

    params: np.ndarray
    cov: np.ndarray
    loglike: float
    iterations: int
    n_cells: int


def _cells(duration: np.ndarray, exog: np.ndarray, strata: np.ndarray) -> tuple[np.ndarray, pd.DataFrame]:
    """Cell code per row and the cells (s, t, x0.., n rows), sorted by stratum, then duration, then x."""
    cols = {"s": strata, "t": duration, **{f"x{j}": exog[:, j] for j in range(exog.shape[1])}}
    grouped = pd.DataFrame(cols).groupby(list(cols), sort=True, observed=True)
    return grouped.ngroup().to_numpy(), grouped.size().reset_index(name="n")


def _group_sum(codes: np.ndarray, values: np.ndarray, size: int) -> np.ndarray:
    """Sum of ``values`` (rows, any trailing shape) per code 0..size-1, by bincount column by column."""
    flat = values.reshape(len(values), -1)
    out = np.column_stack([np.bincount(codes, weights=flat[:, c], minlength=size) for c in range(flat.shape[1])])
    return out.reshape((size, *values.shape[1:]))


def _segment_cumsum(values: np.ndarray, segment_start: np.ndarray) -> np.ndarray:
    """Cumulative sum along axis 0 restarting where ``segment_start`` is True (the first element must be)."""
    total = np.cumsum(values, axis=0)
    first = np.maximum.accumulate(np.where(segment_start, np.arange(len(values)), 0))
    before = np.where((first > 0).reshape(-1, *[1] * (values.ndim - 1)), total[np.maximum(first - 1, 0)], 0.0)
    return total - before


def fit_cox(
    duration: np.ndarray,
    event: np.ndarray,
    exog: np.ndarray,
    strata: np.ndarray | None = None,
    groups: np.ndarray | None = None,
    ties: str = "efron",
    max_iter: int = 50,
    tol: float = 1e-10,
) -> CoxFit:
    """Cox model of ``duration`` (whole months, n) / ``event`` (0/1, n) on ``exog`` (n, p).

    ``strata``: integer codes of a stratified baseline (None: one stratum); ``groups``: integer cluster codes
    for the robust covariance (None: model-based). ``ties``: "efron" or "breslow". Raises ValueError when
    Newton-Raphson does not converge in ``max_iter`` steps.
    """
    if ties not in ("efron", "breslow"):
        raise ValueError(f"ties must be 'efron' or 'breslow', got {ties!r}")
    n, p = exog.shape
    duration = np.asarray(duration, dtype=np.int64)
    event = np.asarray(event, dtype=np.int64)
    strata = np.zeros(n, dtype=np.int64) if strata is None else np.asarray(strata, dtype=np.int64)
    codes, cells = _cells(duration, exog, strata)
    x = cells[[f"x{j}" for j in range(p)]].to_numpy(dtype=float)
    n_rows = cells["n"].to_numpy(dtype=float)
    d_cell = np.bincount(codes, weights=event, minlength=len(cells))
    s_cell, t_cell = cells["s"].to_numpy(), cells["t"].to_numpy()

    # (stratum, month) keys: stratum ascending, month DESCENDING, so a key's risk set (the stratum's cells with
    # duration >= its month) is a running sum from the stratum's first key.
    key_code, key_frame = _cells(-t_cell, np.zeros((len(cells), 0)), s_cell)
    n_keys = len(key_frame)
    key_s = key_frame["s"].to_numpy()
    stratum_start = np.r_[True, key_s[1:] != key_s[:-1]]
    d_key = np.bincount(key_code, weights=d_cell, minlength=n_keys)
    is_event = d_key > 0
    ev = np.flatnonzero(is_event)
    d_ev = d_key[ev].astype(np.int64)
    sum_dx = d_cell @ x
    # Efron: an event month with d events contributes d terms, J = l/d for l = 0..d-1 (Breslow: J = 0).
    rep = np.repeat(np.arange(ev.size), d_ev)
    first = np.r_[0, np.cumsum(d_ev)[:-1]]
    j_frac = (np.arange(rep.size) - first[rep]) / d_ev[rep] if ties == "efron" else np.zeros(rep.size)
    xx = x[:, :, None] * x[:, None, :]

    def pieces(beta: np.ndarray) -> tuple[float, np.ndarray, np.ndarray, dict[str, np.ndarray]]:
        eta = x @ beta
        eta -= eta.max()  # a common shift cancels in the partial likelihood
        e = np.exp(eta)
        w0, wd = n_rows * e, d_cell * e
        s0 = _segment_cumsum(np.bincount(key_code, weights=w0, minlength=n_keys), stratum_start)
        s1 = _segment_cumsum(_group_sum(key_code, w0[:, None] * x, n_keys), stratum_start)
        s2e = _segment_cumsum(_group_sum(key_code, w0[:, None, None] * xx, n_keys), stratum_start)[ev]
        f0e = np.bincount(key_code, weights=wd, minlength=n_keys)[ev]
        f1e = _group_sum(key_code, wd[:, None] * x, n_keys)[ev]
        f2e = _group_sum(key_code, wd[:, None, None] * xx, n_keys)[ev]
        s1e = s1[ev]
        c0 = s0[ev][rep] - j_frac * f0e[rep]
        a0, a1, b0, b1, b2 = (
            np.bincount(rep, weights=w, minlength=ev.size)
            for w in (1 / c0, j_frac / c0, 1 / c0**2, j_frac / c0**2, j_frac**2 / c0**2)
        )
        loglike = float(d_cell @ eta - np.log(c0).sum())
        score = sum_dx - (s1e * a0[:, None] - f1e * a1[:, None]).sum(axis=0)
        outer = (
            np.einsum("k,ki,kj->ij", b0, s1e, s1e)
            - np.einsum("k,ki,kj->ij", b1, s1e, f1e)
            - np.einsum("k,ki,kj->ij", b1, f1e, s1e)
            + np.einsum("k,ki,kj->ij", b2, f1e, f1e)
        )
        hess = -(np.einsum("k,kij->ij", a0, s2e) - np.einsum("k,kij->ij", a1, f2e) - outer)
        return loglike, score, hess, {"s0": s0, "s1": s1, "e": e}

    beta = np.zeros(p)
    loglike, score, hess, parts = pieces(beta)
    iterations = 0
    for iterations in range(1, max_iter + 1):  # noqa: B007 - the count is reported
        step = np.linalg.solve(hess, -score)
        for _ in range(30):  # step halving keeps the likelihood from decreasing
            new = beta + step
            new_ll, new_score, new_hess, new_parts = pieces(new)
            if new_ll >= loglike - 1e-12 * abs(loglike):
                break
            step /= 2
        beta, loglike, score, hess, parts = new, new_ll, new_score, new_hess, new_parts
        if np.max(np.abs(step)) < tol or np.max(np.abs(score)) < tol:
            break
    else:
        raise ValueError(f"Cox model: Newton-Raphson did not converge in {max_iter} iterations")

    hess_inv = np.linalg.inv(hess)
    if groups is None:
        return CoxFit(beta, -hess_inv, loglike, iterations, len(cells))
    # Breslow-form score residuals per cell (statsmodels PHReg.score_residuals), summed per cluster.
    s0, s1, e = parts["s0"], parts["s1"], parts["e"]
    xbar = np.where(is_event[:, None], s1 / np.where(s0 > 0, s0, 1.0)[:, None], 0.0)
    dchaz = np.where(is_event, d_key / np.where(s0 > 0, s0, 1.0), 0.0)
    # Sums over event months <= t: keys reversed run by month ascending within a stratum.
    stratum_end = np.r_[key_s[1:] != key_s[:-1], True]
    a_cum = _segment_cumsum(dchaz[::-1], stratum_end[::-1])[::-1]
    b_cum = _segment_cumsum((dchaz[:, None] * xbar)[::-1], stratum_end[::-1])[::-1]
    lev = x - xbar[key_code]  # used only for rows with an event (their month is an event month)
    comp = e[:, None] * (x * a_cum[key_code][:, None] - b_cum[key_code])
    resid = np.asarray(event, dtype=float)[:, None] * lev[codes] - comp[codes]
    g_codes, _ = pd.factorize(np.asarray(groups))
    u = _group_sum(g_codes, resid, int(g_codes.max()) + 1)
    cov = hess_inv @ (u.T @ u) @ hess_inv
    return CoxFit(beta, cov, loglike, iterations, len(cells))
