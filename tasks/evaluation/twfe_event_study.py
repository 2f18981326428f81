"""Naive dynamic two-way fixed-effects event study around the start of an intervention, for comparison with
the Callaway-Sant'Anna estimator of :mod:`insats.tasks.evaluation.event_study` only."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats.tasks.evaluation.panel_matrix import outcome_matrix, start_month_index


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
