"""What changed since the previous quarter's brief: new data, changed estimates, new and failed runs.

A brief keeps a snapshot of what it showed (key tables and the checksums of the inputs behind them); the next
quarter's brief compares itself with the latest earlier snapshot. Pure functions of DataFrames.
"""

from __future__ import annotations

import pandas as pd

EFFECT_KEYS = ["intervention_id", "outcome", "horizon_months", "estimator"]
INPUT_COLUMNS = ["study", "input", "status", "sha256_before", "sha256_now"]
ESTIMATE_COLUMNS = [
    *EFFECT_KEYS,
    "att_before",
    "ci_low_before",
    "ci_high_before",
    "att_now",
    "ci_low_now",
    "ci_high_now",
    "change",
    "ci_overlap",
]
TABLE_COLUMNS = ["study", "table", "rows_before", "rows_now"]


def input_changes(before: pd.DataFrame, now: pd.DataFrame) -> pd.DataFrame:
    """Inputs (columns study, input (file name), sha256) compared: status new / changed / unchanged / removed.

    Returns INPUT_COLUMNS, changed and new inputs first.
    """
    merged = before.merge(now, on=["study", "input"], how="outer", suffixes=("_before", "_now"))
    status = pd.Series("unchanged", index=merged.index)
    status[merged["sha256_before"].isna()] = "new"
    status[merged["sha256_now"].isna()] = "removed"
    changed = merged["sha256_before"].notna() & merged["sha256_now"].notna()
    status[changed & (merged["sha256_before"] != merged["sha256_now"])] = "changed"
    merged["status"] = status
    order = {"changed": 0, "new": 1, "removed": 2, "unchanged": 3}
    merged = merged.sort_values(["status", "study", "input"], key=lambda c: c.map(order) if c.name == "status" else c)
    return merged[INPUT_COLUMNS].reset_index(drop=True)


def estimate_changes(before: pd.DataFrame, now: pd.DataFrame) -> pd.DataFrame:
    """Effect estimates (EFFECT_KEYS, att, ci_low, ci_high) before and now, with the change in the estimate
    and whether the two 95% CIs overlap (a rough flag for the seminar, not a test). Rows present in only one
    of the two have missing values on the other side."""
    cols = [*EFFECT_KEYS, "att", "ci_low", "ci_high"]
    merged = before[cols].merge(now[cols], on=EFFECT_KEYS, how="outer", suffixes=("_before", "_now"))
    merged["change"] = merged["att_now"] - merged["att_before"]
    overlap = (merged["ci_low_now"] <= merged["ci_high_before"]) & (merged["ci_low_before"] <= merged["ci_high_now"])
    merged["ci_overlap"] = overlap.where(merged[["att_before", "att_now"]].notna().all(axis=1))
    return merged[ESTIMATE_COLUMNS].sort_values(EFFECT_KEYS).reset_index(drop=True)


def table_changes(before: pd.DataFrame, now: pd.DataFrame) -> pd.DataFrame:
    """Row counts of published tables (columns study, table, rows) before and now, changed ones only."""
    merged = before.merge(now, on=["study", "table"], how="outer", suffixes=("_before", "_now"))
    differs = merged["rows_before"].ne(merged["rows_now"])
    return merged.loc[differs, TABLE_COLUMNS].sort_values(["study", "table"]).reset_index(drop=True)


def run_summary(history: pd.DataFrame) -> pd.DataFrame:
    """Runs of the quarter by study and state (columns study, state, runs), and every failure with its reason
    is in the history table itself."""
    if history.empty:
        return pd.DataFrame(columns=["study", "state", "runs"])
    return history.groupby(["study", "state"]).size().rename("runs").reset_index()
