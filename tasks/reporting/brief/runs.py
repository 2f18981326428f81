"""The quarter's runs in the brief: the run history, failed runs with their reasons (and whether a later run of
the same study completed), and the validation status of every input and published table.

Columns: history (the caller selects the quarter's runs): flow_run_name, study, state, start_time, and
optionally duration_seconds, config_hash, failure_reason; validation: study, item, kind (input/output),
status (passed/failed), and optionally suite, rows, sha256.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from insats.tasks.reporting.brief.common import cell, header, require, short_hash, text
from insats.tasks.reporting.i18n import (
    format_int,
    format_number,
    format_timestamp,
    state_label,
    status_label,
    t,
    yes_no,
)

HISTORY_REQUIRED: tuple[str, ...] = ("flow_run_name", "study", "state", "start_time")
HISTORY_OPTIONAL: tuple[str, ...] = ("duration_seconds", "config_hash", "failure_reason")
FAILED_STATES: tuple[str, ...] = ("FAILED", "CRASHED")


def history_section(history: pd.DataFrame, lang: str) -> dict[str, Any]:
    cols = [*HISTORY_REQUIRED, *HISTORY_OPTIONAL]
    if history.empty:
        return {"header": header(cols, lang), "rows": []}
    require(history, HISTORY_REQUIRED, "history")
    hist = history.copy()
    for col in HISTORY_OPTIONAL:
        if col not in hist.columns:
            hist[col] = None
    hist["_start"] = pd.to_datetime(hist["start_time"], errors="coerce", utc=True)
    rows = []
    for rec in hist.sort_values("_start", kind="mergesort").to_dict("records"):
        rows.append(
            [
                cell(text(rec["flow_run_name"]), "flow_run_name"),
                cell(text(rec["study"]), "study"),
                cell(state_label(rec["state"], lang), "state"),
                cell(format_timestamp(rec["start_time"]), "start_time"),
                cell(format_number(rec["duration_seconds"], lang, 1), "duration_seconds", True),
                cell(short_hash(rec["config_hash"]), "config_hash"),
                cell(text(rec["failure_reason"]), "failure_reason"),
            ]
        )
    return {"header": header(cols, lang), "rows": rows}


def failures_section(history: pd.DataFrame | None, lang: str) -> dict[str, Any]:
    """Failed (or crashed) runs of the quarter with their reasons, and whether a later run of the same study
    completed."""
    cols = ["flow_run_name", "study", "start_time", "failure_reason", "resolved"]
    out: dict[str, Any] = {"header": header(cols, lang), "rows": []}
    if history is None or history.empty or "state" not in history.columns:
        return out
    require(history, HISTORY_REQUIRED, "history")
    hist = history.assign(_start=pd.to_datetime(history["start_time"], errors="coerce", utc=True))
    hist = hist.sort_values("_start", kind="mergesort")
    state = hist["state"].astype(str).str.upper()
    for rec in hist[state.isin(FAILED_STATES)].to_dict("records"):
        later = hist[(hist["study"] == rec["study"]) & (hist["_start"] > rec["_start"]) & (state == "COMPLETED")]
        out["rows"].append(
            [
                cell(text(rec["flow_run_name"]), "flow_run_name"),
                cell(text(rec["study"]), "study"),
                cell(format_timestamp(rec["start_time"]), "start_time"),
                cell(text(rec.get("failure_reason")), "failure_reason"),
                cell(yes_no(bool(len(later)), lang), "resolved"),
            ]
        )
    return out


def validation_section(validation: pd.DataFrame | None, failures: dict[str, Any], lang: str) -> dict | None:
    """Every input and published table with its suite and status (failed first), plus the open failures."""
    if validation is None:
        return None
    cols = ["study", "item", "kind", "suite", "rows", "sha256", "status"]
    rows, n_failed = [], 0
    if len(validation):
        require(validation, ("study", "item", "kind", "status"), "validation")
        val = validation.assign(**{c: None for c in ("suite", "rows", "sha256") if c not in validation.columns})
        failed = val["status"].astype(str).str.lower() != "passed"
        n_failed = int(failed.sum())
        val = val.assign(_order=(~failed).astype(int)).sort_values("_order", kind="mergesort")
        for rec in val.to_dict("records"):
            rows.append(
                [
                    cell(text(rec["study"]), "study"),
                    cell(text(rec["item"]), "item"),
                    cell(status_label(rec["kind"], lang), "kind"),
                    cell(text(rec["suite"]), "suite"),
                    cell(format_int(rec["rows"], lang), "rows", True),
                    cell(short_hash(rec["sha256"]), "sha256"),
                    cell(status_label(str(rec["status"]).lower(), lang), "status"),
                ]
            )
    summary = t(
        "validation_summary",
        lang,
        n=format_int(len(rows), lang),
        passed=format_int(len(rows) - n_failed, lang),
        failed=format_int(n_failed, lang),
    )
    return {"header": header(cols, lang), "rows": rows, "summary": summary, "failures": failures}
