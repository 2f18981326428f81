"""What changed since the previous brief: inputs (new/changed/removed, short SHA-256), tables whose row count
changed, estimates before and now, and the quarter's runs by study and state.

Input ``changes`` (from insats.tasks.reporting.changes): ``inputs`` (study, input, status, sha256_before,
sha256_now), ``tables`` (study, table, rows_before, rows_now), ``estimates`` (intervention_id, outcome,
horizon_months, estimator, att/ci_low/ci_high _before and _now, change, ci_overlap), ``runs`` (study, state, runs).
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from insats.tasks.disclosure import hidden_column, protect_for_publication
from insats.tasks.reporting.brief.common import cell, header, present, require, short_hash, text
from insats.tasks.reporting.brief.outcome_evaluation import LINK_COUNT, link_count, treated_by_intervention
from insats.tasks.reporting.i18n import (
    MISSING,
    format_ci,
    format_int,
    format_number,
    outcome_label,
    state_label,
    status_label,
    t,
    yes_no,
)

EFFECT_KEYS: tuple[str, ...] = ("intervention_id", "outcome", "horizon_months", "estimator")
NOW_DERIVED: list[str] = ["att_now", "ci_low_now", "ci_high_now", "change", "ci_overlap"]


def _estimate_label(rec: dict[str, Any], lang: str) -> str:
    return (
        f"{rec['intervention_id']} · {outcome_label(rec['outcome'], lang)} · "
        f"{format_int(rec['horizon_months'], lang)} {t('months_short', lang)} · {rec['estimator']}"
    )


def _estimate_rows(
    estimates: pd.DataFrame, shown: pd.DataFrame, treated: pd.Series, threshold: int, lang: str
) -> tuple[dict[str, Any], list[str]]:
    """Estimates present before and now, and notes on new, no longer reported and further changed estimates.

    When the effects section shows estimates, only the same outcomes, horizons and estimators are listed (the
    brief's headline); the others are counted in a note. The current values (and the change) of an
    intervention whose count of treated is hidden in the effects are hidden too (en dash)."""
    cols = [*EFFECT_KEYS, "att_before", "ci_before", "att_now", "ci_now", "change", "ci_overlap"]
    est = estimates.copy()
    notes: list[str] = []
    headline = list(EFFECT_KEYS[1:])
    if len(est) and len(shown) and set(headline) <= set(shown.columns):
        keys = {tuple(str(v) for v in k) for k in shown[headline].itertuples(index=False)}
        in_brief = pd.Series(
            [tuple(str(v) for v in k) in keys for k in est[headline].itertuples(index=False)],
            index=est.index,
        )
        other = est[~in_brief]
        n_other = int((other["att_before"].isna() != other["att_now"].isna()).sum())
        n_other += int((other["change"].fillna(0) != 0).sum())
        est = est[in_brief]
        if n_other:
            notes.append(t("changes_other_estimates", lang, n=format_int(n_other, lang)))
    before, now = est["att_before"].notna(), est["att_now"].notna()
    new = [_estimate_label(r, lang) for r in est[now & ~before].to_dict("records")]
    gone = [_estimate_label(r, lang) for r in est[before & ~now].to_dict("records")]
    if new:
        notes.insert(0, t("changes_new_estimates", lang, items="; ".join(new)))
    if gone:
        notes.insert(1 if new else 0, t("changes_removed_estimates", lang, items="; ".join(gone)))
    both = protect_for_publication(
        link_count(est[before & now], treated), threshold, [LINK_COUNT], {LINK_COUNT: NOW_DERIVED}, table="estimates"
    )
    rows = []
    for rec in both.to_dict("records"):
        hide = bool(rec[hidden_column(LINK_COUNT)])
        overlap = rec["ci_overlap"]
        rows.append(
            [
                cell(str(rec["intervention_id"]), "intervention_id"),
                cell(outcome_label(rec["outcome"], lang), "outcome"),
                cell(format_int(rec["horizon_months"], lang), "horizon_months", True),
                cell(text(rec["estimator"]), "estimator"),
                cell(format_number(rec["att_before"], lang, 3), "att_before", True),
                cell(format_ci(rec["ci_low_before"], rec["ci_high_before"], lang), "ci_before", True),
                cell(MISSING if hide else format_number(rec["att_now"], lang, 3), "att_now", True),
                cell(MISSING if hide else format_ci(rec["ci_low_now"], rec["ci_high_now"], lang), "ci_now", True),
                cell(MISSING if hide else format_number(rec["change"], lang, 3), "change", True),
                cell(
                    MISSING if hide or not present(overlap) else yes_no(bool(overlap), lang),
                    "ci_overlap",
                ),
            ]
        )
    return {"header": header(cols, lang), "rows": rows}, notes


def section(
    previous: str | None,
    changes: dict[str, pd.DataFrame] | None,
    effects: pd.DataFrame | None,
    threshold: int,
    lang: str,
) -> dict[str, Any]:
    """What changed since the previous brief: inputs (new/changed/removed, short SHA-256), tables whose row
    count changed, estimates before and now, and the quarter's runs by study and state. Without a previous
    brief it says that this is the first one."""
    heading = t("changes", lang, previous=previous) if previous else t("changes_first_heading", lang)
    section: dict[str, Any] = {"heading": heading, "message": None, "parts": []}
    if previous is None and not changes:
        section["message"] = t("changes_first", lang)
        return section
    if not changes:
        section["message"] = t("changes_missing", lang)
        return section
    parts = section["parts"]
    inputs = changes.get("inputs")
    if inputs is not None:
        require(inputs, ("study", "input", "status", "sha256_before", "sha256_now"), "changes.inputs")
        moved = inputs[inputs["status"].astype(str) != "unchanged"]
        cols = ["study", "input", "status", "sha256_before", "sha256_now"]
        rows = [
            [
                cell(text(r["study"]), "study"),
                cell(text(r["input"]), "input"),
                cell(status_label(r["status"], lang), "status"),
                cell(short_hash(r["sha256_before"]), "sha256_before"),
                cell(short_hash(r["sha256_now"]), "sha256_now"),
            ]
            for r in moved.to_dict("records")
        ]
        notes = [] if rows else [t("changes_inputs_none", lang)]
        if len(inputs) - len(moved):
            notes.append(t("changes_unchanged", lang, n=format_int(len(inputs) - len(moved), lang)))
        parts.append(
            {
                "id": "inputs",
                "title": t("changes_inputs", lang),
                "table": {"header": header(cols, lang), "rows": rows} if rows else None,
                "notes": notes,
            }
        )
    tables = changes.get("tables")
    if tables is not None:
        require(tables, ("study", "table", "rows_before", "rows_now"), "changes.tables")
        cols = ["study", "table", "rows_before", "rows_now"]
        rows = [
            [
                cell(text(r["study"]), "study"),
                cell(text(r["table"]), "table"),
                cell(format_int(r["rows_before"], lang), "rows_before", True),
                cell(format_int(r["rows_now"], lang), "rows_now", True),
            ]
            for r in tables.to_dict("records")
            if not (present(r["rows_before"]) and present(r["rows_now"]) and r["rows_before"] == r["rows_now"])
        ]
        parts.append(
            {
                "id": "tables",
                "title": t("changes_tables", lang),
                "table": {"header": header(cols, lang), "rows": rows} if rows else None,
                "notes": [] if rows else [t("changes_tables_none", lang)],
            }
        )
    estimates = changes.get("estimates")
    if estimates is not None:
        require(
            estimates,
            (
                *EFFECT_KEYS,
                "att_before",
                "ci_low_before",
                "ci_high_before",
                "att_now",
                "ci_low_now",
                "ci_high_now",
                "change",
                "ci_overlap",
            ),
            "changes.estimates",
        )
        shown = effects if effects is not None else pd.DataFrame()
        table, notes = _estimate_rows(estimates, shown, treated_by_intervention(effects), threshold, lang)
        parts.append(
            {
                "id": "estimates",
                "title": t("changes_estimates", lang),
                "text": t("changes_estimates_text", lang),
                "table": table,
                "notes": notes,
            }
        )
    runs = changes.get("runs")
    if runs is not None:
        cols = ["study", "state", "runs"]
        rows = []
        if len(runs):
            require(runs, ("study", "state", "runs"), "changes.runs")
            rows = [
                [
                    cell(text(r["study"]), "study"),
                    cell(state_label(r["state"], lang), "state"),
                    cell(format_int(r["runs"], lang), "runs", True),
                ]
                for r in runs.sort_values(["study", "state"], kind="mergesort").to_dict("records")
            ]
        parts.append(
            {
                "id": "runs",
                "title": t("changes_runs", lang),
                "table": {"header": header(cols, lang), "rows": rows},
                "notes": [],
            }
        )
    return section
