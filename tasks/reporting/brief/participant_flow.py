"""The participant flow in the brief: goal attainment (table and a paragraph per target) and enrolment per
month (figure of project "all" with the enrolment target). Left out when neither table is given.

The published tables (already suppressed upstream) are protected again with the brief's threshold: a count
hidden upstream (missing on a row flagged ``suppressed``) is shown as ``<T`` like one hidden here. A target's
published paragraph is used unless the brief hid more of its row than the published table did; then the
paragraph is rewritten from the protected row (:func:`insats.tasks.participants.goals.goal_paragraph`).

Columns (suites ``schemas/participant_flow.<table>.json``):
- goal_attainment: target, target_en, measure, project, operator, threshold, value, numerator, denominator,
  judgement, and optionally suppressed, months_assessed, months_below, lowest_month, paragraph_en,
  paragraph_sv, first_month, last_month (the enrolment target's window, YYYY-MM; without them the window is
  inferred as the last months_assessed months when that reproduces months_below and lowest_month, else the
  target line spans every month)
- enrolment: project, month, n_enrolled, optionally suppressed; the figure shows project "all" (or the sum
  over projects when there is no "all" row)
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from insats.tasks.disclosure import hidden_column
from insats.tasks.participants.figures import enrolment_figure
from insats.tasks.participants.goals import JUDGEMENTS, MEASURE_TEXT, goal_paragraph
from insats.tasks.participants.measures import ALL
from insats.tasks.reporting.brief.common import cell, data_uri, header, present, protect, require, text
from insats.tasks.reporting.i18n import (
    MISSING,
    format_int,
    format_percent,
    hidden_mark,
    judgement_label,
    t,
)

STUDY = "participant_flow"
GOAL_REQUIRED: tuple[str, ...] = (
    "target",
    "target_en",
    "measure",
    "project",
    "operator",
    "threshold",
    "value",
    "numerator",
    "denominator",
    "judgement",
)
GOAL_OPTIONAL: tuple[str, ...] = ("months_assessed", "months_below", "lowest_month", "paragraph_en", "paragraph_sv")
GOAL_DERIVED: dict[str, list[str]] = {"numerator": ["value"], "denominator": ["value"]}
ENROLMENT_REQUIRED: tuple[str, ...] = ("project", "month", "n_enrolled")
ENROLMENT_MEASURE = "enrolled_every_month"
OPERATOR_SIGNS = {">=": "≥", "<=": "≤"}


def _goal_protect(goals: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Disclosure control of the goal table with the brief's threshold, plus ``_rewrite``: the brief hid a
    count the published table showed, so the published paragraphs may carry the number."""
    goals = goals.reset_index(drop=True)
    sup = protect(goals, STUDY, "goal_attainment", threshold, GOAL_DERIVED)
    sup["_rewrite"] = (goals["numerator"].notna() & sup["numerator"].isna()) | (
        goals["denominator"].notna() & sup["denominator"].isna()
    )
    return sup


def _goal_value(rec: dict[str, Any], threshold: int, lang: str) -> tuple[str, str]:
    """(value, basis) cells of a goal row: a share with "numerator / denominator", a count, or the lowest
    monthly enrolment with the months below target."""
    measure = str(rec["measure"])
    mark = hidden_mark(lang)
    num = mark if rec[hidden_column("numerator")] else format_int(rec["numerator"], lang)
    if measure.startswith("share_"):
        den = mark if rec[hidden_column("denominator")] else format_int(rec["denominator"], lang)
        basis = MISSING if num == MISSING and den == MISSING else f"{num} / {den}"
        return format_percent(rec["value"], lang), basis
    if measure == ENROLMENT_MEASURE:
        if not present(rec.get("months_assessed")):
            return num, t("no_months", lang)
        basis = t(
            "months_below",
            lang,
            below=format_int(rec.get("months_below"), lang),
            months=format_int(rec["months_assessed"], lang),
            lowest=text(rec.get("lowest_month")),
        )
        return num, basis
    return num, MISSING


def _goal_threshold(rec: dict[str, Any], lang: str) -> str:
    value = rec["threshold"]
    if not present(value):
        return MISSING
    text = format_percent(value, lang, 0) if str(rec["measure"]).startswith("share_") else format_int(value, lang)
    return f"{OPERATOR_SIGNS.get(str(rec['operator']), str(rec['operator']))} {text}"


def _goal_paragraph(rec: dict[str, Any], threshold: int, lang: str) -> str:
    published = rec.get(f"paragraph_{lang}")
    if rec["_rewrite"] or not present(published):
        return goal_paragraph(pd.Series(rec), lang, threshold)
    return str(published)


def _goal_rows(goals: pd.DataFrame, threshold: int, lang: str) -> tuple[list[list[dict]], list[str]]:
    require(goals, GOAL_REQUIRED, "goal_attainment")
    bad = ~goals["judgement"].isin(JUDGEMENTS)
    if bad.any():
        row = goals.index[bad.to_numpy()][0]
        raise ValueError(
            f"brief: table 'goal_attainment', row {row!r}: judgement {goals.loc[row, 'judgement']!r} is not one of "
            f"{', '.join(JUDGEMENTS)}"
        )
    goals = goals.assign(**{c: None for c in GOAL_OPTIONAL if c not in goals.columns})
    rows, paragraphs = [], []
    for rec in _goal_protect(goals, threshold).to_dict("records"):
        measure = str(rec["measure"])
        value, basis = _goal_value(rec, threshold, lang)
        project = str(rec["project"])
        rows.append(
            [
                cell(text(rec["target_en"] if lang == "en" else rec["target"]), "target"),
                cell(t("all_projects", lang) if project == ALL else project, "project"),
                cell(MEASURE_TEXT[measure][lang][0] if measure in MEASURE_TEXT else measure, "measure"),
                cell(value, "value", True),
                cell(basis, "basis", True),
                cell(_goal_threshold(rec, lang), "threshold", True),
                cell(judgement_label(rec["judgement"], lang), "judgement"),
            ]
        )
        paragraphs.append(_goal_paragraph(rec, threshold, lang))
    return rows, paragraphs


def _enrolment_total(enrolment: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Project "all" of the enrolment table, suppressed with the brief's threshold. Without "all" rows the
    total is summed over projects (a month with a hidden project count stays hidden)."""
    require(enrolment, ENROLMENT_REQUIRED, "enrolment")
    total = enrolment.loc[enrolment["project"] == ALL, list(ENROLMENT_REQUIRED)]
    if total.empty and not enrolment.empty:
        counts = pd.to_numeric(enrolment["n_enrolled"], errors="coerce").astype("Float64")
        summed = counts.groupby(enrolment["month"], sort=True).agg(lambda s: s.sum(skipna=False))
        total = pd.DataFrame({"project": ALL, "month": summed.index, "n_enrolled": summed.to_numpy()})
    total = total.assign(month=pd.to_datetime(total["month"], errors="coerce"))
    return protect(total.reset_index(drop=True), STUDY, "enrolment", threshold, {})


def _trailing_window(rec: pd.Series, total: pd.DataFrame, target: float) -> tuple[str | None, str | None]:
    """The enrolment target's window when the goal table does not carry it: the last ``months_assessed``
    months, accepted only if that window reproduces the row's ``months_below`` and ``lowest_month`` (a
    month hidden by suppression counts as below: it holds fewer than the disclosure threshold, at most the
    target). Otherwise (None, None): the target line then spans every month."""
    n_months, n_below, lowest = rec.get("months_assessed"), rec.get("months_below"), rec.get("lowest_month")
    if not (present(n_months) and present(n_below) and present(lowest)) or int(n_months) < 1:
        return None, None
    shown = total.dropna(subset=["month"]).sort_values("month", kind="mergesort")
    if len(shown) < int(n_months):
        return None, None
    window = shown.tail(int(n_months))
    months = window["month"].dt.strftime("%Y-%m")
    counts = window["n_enrolled"].astype("Float64")
    below = int((counts.isna() | (counts < target).fillna(False)).sum())
    if below != int(n_below) or str(lowest) not in set(months):
        return None, None
    return str(months.iloc[0]), str(months.iloc[-1])


def _enrolment_target(
    goals: pd.DataFrame | None, total: pd.DataFrame
) -> tuple[float | None, tuple[str | None, str | None]]:
    """Threshold and window (YYYY-MM, inclusive) of the first enrolled-every-month target for all projects,
    if any. The window comes from ``first_month``/``last_month`` when the table has them, else from
    :func:`_trailing_window`."""
    if goals is None or goals.empty or "measure" not in goals.columns or "project" not in goals.columns:
        return None, (None, None)
    rows = goals[(goals["measure"] == ENROLMENT_MEASURE) & (goals["project"] == ALL)]
    if rows.empty or not present(rows.iloc[0].get("threshold")):
        return None, (None, None)
    rec = rows.iloc[0]
    target = float(rec["threshold"])
    first, last = (str(rec[c]) if present(rec.get(c)) else None for c in ("first_month", "last_month"))
    if first or last:
        return target, (first, last)
    return target, _trailing_window(rec, total, target)


def section(
    goals: pd.DataFrame | None, enrolment: pd.DataFrame | None, threshold: int, lang: str
) -> dict[str, Any] | None:
    """The goal-attainment table, a paragraph per target and the enrolment figure (project "all", with the
    enrolment target). None when neither table was given."""
    if goals is None and enrolment is None:
        return None
    cols = ["target", "project", "measure", "value", "basis", "threshold", "judgement"]
    rows, paragraphs = ([], []) if goals is None or goals.empty else _goal_rows(goals, threshold, lang)
    figure = None
    if enrolment is not None:
        total = _enrolment_total(enrolment, threshold)
        target, window = _enrolment_target(goals, total)
        figure = data_uri(enrolment_figure(total, target, window, ALL, lang))
    return {
        "header": header(cols, lang),
        "rows": rows,
        "paragraphs": paragraphs,
        "figure": figure,
        "alt": t("figure_alt_enrolment", lang),
    }
