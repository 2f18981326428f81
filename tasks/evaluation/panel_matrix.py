"""The person x month outcome array and the month index of each person's first start, from a complete
monthly person panel: the input of the register's fast event-study and survival estimators."""

from __future__ import annotations

import numpy as np
import pandas as pd


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
