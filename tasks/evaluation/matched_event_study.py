"""Event study on the matched sample: each treated starter against its matched control(s) around the start."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from insats.tasks.evaluation.panel_matrix import outcome_matrix


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
