"""The quarterly seminar brief (underlag för återföringsseminarium) as one self-contained HTML page.

:func:`render_brief` turns a :class:`BriefContent` into HTML with inline CSS and PNG figures embedded as
base64 data URIs: no external links, no JavaScript, UTF-8. All data are escaped by Jinja2 autoescaping.

Disclosure control happens here, before anything is formatted: every person-count column shown
(``n_participants``, ``n_treated``, ``n_controls``, ``n_treated_unmatched``) passes
:func:`tasks.disclosure.suppress_small_counts` with ``content.disclosure_threshold``. A suppressed count is
shown as ``<T`` (e.g. ``<5``, meaning 1..T-1 persons); estimates computed from a suppressed count (ATT, SE,
CI, p-value, and the intervention's balance statistics) are shown as an en dash and left out of the figures.
The candidates' reason sentence is rebuilt from the suppressed count, so it cannot leak the number either.
The appendix explains the notation and prints the disclosure rule.

The optional participant-flow section (``goal_attainment``, ``enrolment``; omitted when both are None) takes
the published, already suppressed tables and suppresses them again with the brief's threshold: a count
hidden upstream (missing with ``suppressed`` true) is shown as ``<T`` like one hidden here. A target's
published paragraph is used unless the brief hid more of its row than the published table did; then the
paragraph is rewritten from the suppressed row (:func:`tasks.participants.goals.goal_paragraph`).

Expected input columns (extra columns are ignored):
- demand_profile: code_id, label, label_en, n_employers, n_employers_total, share_employers, rank
- alignment: intervention_id, name, method_family, alignment_score, matched_competencies, n_competencies
- candidates: intervention_id, name, method_family, n_participants, alignment_score, eligible, reason, rank
- effects: intervention_id, outcome, horizon_months, estimator, att, se, ci_low, ci_high, p_value,
  n_treated, n_controls, n_treated_unmatched
- balance: intervention_id, covariate, mean_treated, mean_control_before, mean_control_after, smd_before,
  smd_after
- history (runs of the quarter; the caller selects the quarter): flow_run_name, study, state, start_time,
  and optionally duration_seconds, config_hash, failure_reason
- goal_attainment (optional; schema participant_flow.goal_attainment): target, target_en, measure, project,
  operator, threshold, value, numerator, denominator, months_assessed, months_below, lowest_month,
  judgement, and optionally suppressed, paragraph_en, paragraph_sv, first_month, last_month (the
  enrolment target's window, YYYY-MM; without them the window is inferred as the last months_assessed
  months when that reproduces months_below and lowest_month, else the target line spans every month)
- enrolment (optional; schema participant_flow.enrolment): project, month, n_enrolled, optionally
  suppressed; the figure shows project "all" (or the sum over projects when there is no "all" row)
- manifests: study name -> manifest dict with ``inputs`` (a list of {"name"|"path"|"file", "sha256"} or a
  dict name -> sha256 / {"sha256": ...}), ``config_hash``, ``code_version``, ``flow_run_id``; missing keys
  are shown as an en dash.
"""

from __future__ import annotations

import base64
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from tasks.disclosure import SUPPRESSED_COLUMN, disclosure_rule_text, suppress_small_counts
from tasks.participants.figures import enrolment_figure
from tasks.participants.goals import JUDGEMENTS, MEASURE_TEXT, goal_paragraph
from tasks.participants.measures import ALL
from tasks.reporting import figures
from tasks.reporting.i18n import (
    MISSING,
    check_lang,
    column_label,
    format_ci,
    format_datetime,
    format_int,
    format_number,
    format_percent,
    format_pvalue,
    format_timestamp,
    judgement_label,
    method_family_label,
    outcome_label,
    state_label,
    t,
    t_html,
)

TEMPLATE_DIR = Path(__file__).parent / "templates"
TEMPLATE_NAME = "brief.html.j2"
COUNT_COLUMNS: tuple[str, ...] = ("n_participants", "n_treated", "n_controls", "n_treated_unmatched")
EFFECT_DERIVED: tuple[str, ...] = ("att", "se", "ci_low", "ci_high", "p_value")
BALANCE_DERIVED: tuple[str, ...] = (
    "mean_treated",
    "mean_control_before",
    "mean_control_after",
    "smd_before",
    "smd_after",
)
HISTORY_REQUIRED: tuple[str, ...] = ("flow_run_name", "study", "state", "start_time")
HISTORY_OPTIONAL: tuple[str, ...] = ("duration_seconds", "config_hash", "failure_reason")
SMD_TARGET = 0.1
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
ENROLMENT_REQUIRED: tuple[str, ...] = ("project", "month", "n_enrolled")
ENROLMENT_MEASURE = "enrolled_every_month"
OPERATOR_SIGNS = {">=": "≥", "<=": "≤"}
HASH_CHARS = 12
# Full column sets: an EMPTY table (e.g. study 3 has not run yet this quarter) may come without columns.
TABLE_COLUMNS: dict[str, tuple[str, ...]] = {
    "demand_profile": (
        "code_id",
        "label",
        "label_en",
        "n_employers",
        "n_employers_total",
        "share_employers",
        "rank",
    ),
    "alignment": ("intervention_id", "name", "method_family", "alignment_score", "matched_competencies"),
    "candidates": (
        "intervention_id",
        "name",
        "method_family",
        "n_participants",
        "alignment_score",
        "eligible",
        "reason",
        "rank",
    ),
    "effects": (
        "intervention_id",
        "outcome",
        "horizon_months",
        "estimator",
        "att",
        "se",
        "ci_low",
        "ci_high",
        "p_value",
        "n_treated",
        "n_controls",
        "n_treated_unmatched",
    ),
    "balance": (
        "intervention_id",
        "covariate",
        "mean_treated",
        "mean_control_before",
        "mean_control_after",
        "smd_before",
        "smd_after",
    ),
}


@dataclass
class BriefContent:
    """Everything the brief shows. DataFrames have the columns listed in the module docstring.

    ``min_participants`` is the eligibility threshold used by study 2 (only used to word the reasons).
    ``goal_attainment`` and ``enrolment`` are the participant-flow outputs; None (the default) leaves the
    participant-flow section out."""

    quarter: str
    generated_at: datetime
    demand_profile: pd.DataFrame
    alignment: pd.DataFrame
    candidates: pd.DataFrame
    effects: pd.DataFrame
    balance: pd.DataFrame
    history: pd.DataFrame
    manifests: dict[str, dict]
    disclosure_threshold: int = 5
    min_participants: int = 100
    goal_attainment: pd.DataFrame | None = None
    enrolment: pd.DataFrame | None = None


# ------------------------------------------------------------------------------------------ helpers


def _require(df: pd.DataFrame, cols: tuple[str, ...], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(
            f"brief: table '{what}' lacks column(s) {', '.join(missing)}; found {', '.join(map(str, df.columns))}"
        )


def _complete_if_empty(df: pd.DataFrame | None, table: str) -> pd.DataFrame:
    """An empty (or None) table gets all its expected columns so that the section renders "no data"."""
    if df is not None and len(df) > 0:
        return df
    out = pd.DataFrame() if df is None else df.copy()
    for col in TABLE_COLUMNS[table]:
        if col not in out.columns:
            out[col] = pd.Series(dtype=float)
    return out


def _cell(text: str, column: str, numeric: bool = False) -> dict[str, Any]:
    return {"text": text, "col": column, "num": numeric}


def _header(columns: list[str], lang: str) -> list[str]:
    return [column_label(c, lang) for c in columns]


def _suppress(df: pd.DataFrame, counts: list[str], threshold: int, derived: dict[str, list[str]]) -> pd.DataFrame:
    """Suppress small counts and mark, per count column, which cells were hidden (``_hidden_<col>``), so
    that a suppressed count ("<5") is told apart from a count that was missing in the input ("–")."""
    sup = suppress_small_counts(df, counts, threshold, derived_columns=derived)
    for col in counts:
        sup[f"_hidden_{col}"] = df[col].notna() & sup[col].isna()
    return sup


def _count_text(rec: dict[str, Any], column: str, threshold: int, lang: str) -> str:
    """A person count after suppression: hidden -> "<threshold", missing -> en dash, else the number."""
    if rec[f"_hidden_{column}"]:
        return f"<{threshold}"
    return format_int(rec[column], lang)


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def _short_hash(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)) or str(value) == "":
        return MISSING
    return str(value)[:HASH_CHARS]


def _text(value: Any) -> str:
    if value is None or (not isinstance(value, str) and pd.isna(value)) or str(value) == "":
        return MISSING
    return str(value)


# ------------------------------------------------------------------------------------------ sections


def _profile_section(profile: pd.DataFrame, lang: str) -> dict[str, Any]:
    _require(profile, ("code_id", "share_employers", "rank"), "demand_profile")
    prof = profile.sort_values(["rank", "code_id"], kind="mergesort")
    label_col = "label" if lang == "sv" else "label_en"
    cols = ["rank", "label", "code_id", "n_employers", "share_employers"]
    rows = []
    for rec in prof.to_dict("records"):
        n = rec.get("n_employers")
        total = rec.get("n_employers_total")
        n_text = format_int(n, lang) if n is not None else MISSING
        if total is not None and not pd.isna(total) and n is not None and not pd.isna(n):
            n_text = f"{format_int(n, lang)} / {format_int(total, lang)}"
        rows.append(
            [
                _cell(format_int(rec["rank"], lang), "rank", True),
                _cell(_text(rec.get(label_col, rec.get("label"))), "label"),
                _cell(str(rec["code_id"]), "code_id"),
                _cell(n_text, "n_employers", True),
                _cell(format_percent(rec["share_employers"], lang), "share_employers", True),
            ]
        )
    return {
        "header": _header(cols, lang),
        "rows": rows,
        "figure": _data_uri(figures.demand_profile_figure(prof, lang)),
        "alt": t("figure_alt_demand", lang),
    }


def _code_labels(profile: pd.DataFrame, lang: str) -> dict[str, str]:
    col = "label" if lang == "sv" else "label_en"
    if col not in profile.columns or "code_id" not in profile.columns:
        return {}
    return {str(c): str(v) for c, v in zip(profile["code_id"], profile[col], strict=True) if not pd.isna(v)}


def _alignment_section(alignment: pd.DataFrame, profile: pd.DataFrame, lang: str) -> dict[str, Any]:
    _require(alignment, ("intervention_id", "name", "method_family", "alignment_score"), "alignment")
    labels = _code_labels(profile, lang)
    cols = ["intervention_id", "name", "method_family", "alignment_score", "matched_competencies"]
    rows = []
    al = alignment.sort_values(["alignment_score", "intervention_id"], ascending=[False, True], kind="mergesort")
    for rec in al.to_dict("records"):
        matched = [c for c in str(rec.get("matched_competencies") or "").split(";") if c]
        rows.append(
            [
                _cell(str(rec["intervention_id"]), "intervention_id"),
                _cell(_text(rec["name"]), "name"),
                _cell(method_family_label(rec["method_family"], lang), "method_family"),
                _cell(format_number(rec["alignment_score"], lang, 2), "alignment_score", True),
                _cell("; ".join(labels.get(c, c) for c in matched) or MISSING, "matched_competencies"),
            ]
        )
    return {
        "header": _header(cols, lang),
        "rows": rows,
        "figure": _data_uri(figures.alignment_figure(al, lang)),
        "alt": t("figure_alt_alignment", lang),
    }


def _reason(rec: dict[str, Any], eligible: bool, threshold: int, min_participants: int, lang: str) -> str:
    """The candidate's reason in ``lang``, rebuilt from the suppressed count (never the hidden number)."""
    n = rec["n_participants"]
    if rec["_hidden_n_participants"]:
        return t("reason_suppressed", lang, threshold=format_int(threshold, lang))
    if eligible:
        return t("reason_eligible", lang, n=format_int(n, lang), min=format_int(min_participants, lang))
    if n is None or pd.isna(n):
        return MISSING
    if int(n) == 0:
        return t("reason_none", lang, min=format_int(min_participants, lang))
    return t("reason_too_few", lang, n=format_int(n, lang), min=format_int(min_participants, lang))


def _candidates_section(candidates: pd.DataFrame, threshold: int, min_participants: int, lang: str) -> dict:
    _require(
        candidates,
        ("intervention_id", "name", "n_participants", "alignment_score", "eligible", "rank"),
        "candidates",
    )
    sup = _suppress(candidates, ["n_participants"], threshold, {})
    cols = ["rank", "intervention_id", "name", "n_participants", "alignment_score", "eligible", "reason"]
    rows = []
    for rec in sup.sort_values("rank", kind="mergesort").to_dict("records"):
        eligible = bool(rec["eligible"]) and not rec["_hidden_n_participants"]
        rows.append(
            [
                _cell(format_int(rec["rank"], lang), "rank", True),
                _cell(str(rec["intervention_id"]), "intervention_id"),
                _cell(_text(rec["name"]), "name"),
                _cell(_count_text(rec, "n_participants", threshold, lang), "n_participants", True),
                _cell(format_number(rec["alignment_score"], lang, 2), "alignment_score", True),
                _cell(t("yes" if eligible else "no", lang), "eligible"),
                _cell(_reason(rec, eligible, threshold, min_participants, lang), "reason"),
            ]
        )
    return {"header": _header(cols, lang), "rows": rows}


def _effects_section(effects: pd.DataFrame, threshold: int, lang: str) -> tuple[dict[str, Any], set[str]]:
    _require(
        effects,
        (
            "intervention_id",
            "outcome",
            "horizon_months",
            "estimator",
            "att",
            "ci_low",
            "ci_high",
            "p_value",
            "n_treated",
            "n_controls",
            "n_treated_unmatched",
        ),
        "effects",
    )
    derived = [c for c in EFFECT_DERIVED if c in effects.columns]
    sup = _suppress(effects, list(COUNT_COLUMNS[1:]), threshold, {"n_treated": derived, "n_controls": derived})
    suppressed_ids = set(sup.loc[sup["_hidden_n_treated"], "intervention_id"].astype(str))
    cols = [
        "intervention_id",
        "outcome",
        "horizon_months",
        "estimator",
        "att",
        "ci",
        "p_value",
        *COUNT_COLUMNS[1:],
    ]
    rows = []
    for rec in sup.to_dict("records"):
        rows.append(
            [
                _cell(str(rec["intervention_id"]), "intervention_id"),
                _cell(outcome_label(rec["outcome"], lang), "outcome"),
                _cell(format_int(rec["horizon_months"], lang), "horizon_months", True),
                _cell(_text(rec["estimator"]), "estimator"),
                _cell(format_number(rec["att"], lang, 3), "att", True),
                _cell(format_ci(rec["ci_low"], rec["ci_high"], lang), "ci", True),
                _cell(format_pvalue(rec["p_value"], lang), "p_value", True),
                *[_cell(_count_text(rec, c, threshold, lang), c, True) for c in COUNT_COLUMNS[1:]],
            ]
        )
    section = {
        "header": _header(cols, lang),
        "rows": rows,
        "figure": _data_uri(figures.effect_figure(sup, lang)),
        "alt": t("figure_alt_effect", lang),
    }
    return section, suppressed_ids


def _balance_section(balance: pd.DataFrame, suppressed_ids: set[str], lang: str) -> dict[str, Any]:
    _require(balance, ("intervention_id", "covariate", "smd_before", "smd_after"), "balance")
    bal = balance.copy()
    hide = bal["intervention_id"].astype(str).isin(suppressed_ids)
    for col in (c for c in BALANCE_DERIVED if c in bal.columns):
        bal[col] = pd.to_numeric(bal[col], errors="coerce").astype(float).mask(hide)
    cols = ["intervention_id", "n_covariates", "max_smd_before", "max_smd_after", "n_imbalanced_after"]
    rows = []
    for iid, grp in bal.groupby(bal["intervention_id"].astype(str), sort=False):
        before = grp["smd_before"].abs()
        after = grp["smd_after"].abs()
        shown = after.notna().any()
        rows.append(
            [
                _cell(iid, "intervention_id"),
                _cell(format_int(grp["covariate"].nunique(), lang), "n_covariates", True),
                _cell(format_number(before.max(), lang, 3) if shown else MISSING, "max_smd_before", True),
                _cell(format_number(after.max(), lang, 3) if shown else MISSING, "max_smd_after", True),
                _cell(
                    format_int(int((after >= SMD_TARGET).sum()), lang) if shown else MISSING,
                    "n_imbalanced_after",
                    True,
                ),
            ]
        )
    return {
        "header": _header(cols, lang),
        "rows": rows,
        "figure": _data_uri(figures.balance_figure(bal, lang)),
        "alt": t("figure_alt_balance", lang),
    }


def _history_section(history: pd.DataFrame, lang: str) -> dict[str, Any]:
    cols = [*HISTORY_REQUIRED, *HISTORY_OPTIONAL]
    if history.empty:
        return {"header": _header(cols, lang), "rows": []}
    _require(history, HISTORY_REQUIRED, "history")
    hist = history.copy()
    for col in HISTORY_OPTIONAL:
        if col not in hist.columns:
            hist[col] = None
    hist["_start"] = pd.to_datetime(hist["start_time"], errors="coerce", utc=True)
    rows = []
    for rec in hist.sort_values("_start", kind="mergesort").to_dict("records"):
        rows.append(
            [
                _cell(_text(rec["flow_run_name"]), "flow_run_name"),
                _cell(_text(rec["study"]), "study"),
                _cell(state_label(rec["state"], lang), "state"),
                _cell(format_timestamp(rec["start_time"]), "start_time"),
                _cell(format_number(rec["duration_seconds"], lang, 1), "duration_seconds", True),
                _cell(_short_hash(rec["config_hash"]), "config_hash"),
                _cell(_text(rec["failure_reason"]), "failure_reason"),
            ]
        )
    return {"header": _header(cols, lang), "rows": rows}


def _present(value: Any) -> bool:
    return value is not None and value is not pd.NA and not (not isinstance(value, str) and pd.isna(value))


def _goal_suppress(goals: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Suppress numerator/denominator (and the value computed from them) with the brief's threshold and add
    ``_hidden_numerator``, ``_hidden_denominator`` (hidden here or upstream) and ``_rewrite`` (the brief hid
    a count the published table showed, so its paragraphs may carry the number)."""
    goals = goals.reset_index(drop=True)
    if SUPPRESSED_COLUMN not in goals.columns:
        goals = goals.assign(**{SUPPRESSED_COLUMN: False})
    sup = suppress_small_counts(
        goals,
        ["numerator", "denominator"],
        threshold,
        derived_columns={"numerator": ["value"], "denominator": ["value"]},
    )
    flagged = sup[SUPPRESSED_COLUMN].astype(bool)
    share = sup["measure"].astype(str).str.startswith("share_")
    # Same reading as goal_paragraph: a missing count on a suppressed row was hidden, not unknown.
    sup["_hidden_numerator"] = sup["numerator"].isna() & flagged
    sup["_hidden_denominator"] = sup["denominator"].isna() & flagged & share
    sup["_rewrite"] = (goals["numerator"].notna() & sup["numerator"].isna()) | (
        goals["denominator"].notna() & sup["denominator"].isna()
    )
    return sup


def _goal_value(rec: dict[str, Any], threshold: int, lang: str) -> tuple[str, str]:
    """(value, basis) cells of a goal row: a share with "numerator / denominator", a count, or the lowest
    monthly enrolment with the months below target."""
    measure = str(rec["measure"])
    num = f"<{threshold}" if rec["_hidden_numerator"] else format_int(rec["numerator"], lang)
    if measure.startswith("share_"):
        den = f"<{threshold}" if rec["_hidden_denominator"] else format_int(rec["denominator"], lang)
        basis = MISSING if num == MISSING and den == MISSING else f"{num} / {den}"
        return format_percent(rec["value"], lang), basis
    if measure == ENROLMENT_MEASURE:
        if not _present(rec.get("months_assessed")):
            return num, t("no_months", lang)
        basis = t(
            "months_below",
            lang,
            below=format_int(rec.get("months_below"), lang),
            months=format_int(rec["months_assessed"], lang),
            lowest=_text(rec.get("lowest_month")),
        )
        return num, basis
    return num, MISSING


def _goal_threshold(rec: dict[str, Any], lang: str) -> str:
    value = rec["threshold"]
    if not _present(value):
        return MISSING
    text = format_percent(value, lang, 0) if str(rec["measure"]).startswith("share_") else format_int(value, lang)
    return f"{OPERATOR_SIGNS.get(str(rec['operator']), str(rec['operator']))} {text}"


def _goal_paragraph(rec: dict[str, Any], threshold: int, lang: str) -> str:
    published = rec.get(f"paragraph_{lang}")
    if rec["_rewrite"] or not _present(published):
        return goal_paragraph(pd.Series(rec), lang, threshold)
    return str(published)


def _goal_rows(goals: pd.DataFrame, threshold: int, lang: str) -> tuple[list[list[dict]], list[str]]:
    _require(goals, GOAL_REQUIRED, "goal_attainment")
    bad = ~goals["judgement"].isin(JUDGEMENTS)
    if bad.any():
        row = goals.index[bad.to_numpy()][0]
        raise ValueError(
            f"brief: table 'goal_attainment', row {row!r}: judgement {goals.loc[row, 'judgement']!r} is not one of "
            f"{', '.join(JUDGEMENTS)}"
        )
    goals = goals.assign(**{c: None for c in GOAL_OPTIONAL if c not in goals.columns})
    rows, paragraphs = [], []
    for rec in _goal_suppress(goals, threshold).to_dict("records"):
        measure = str(rec["measure"])
        value, basis = _goal_value(rec, threshold, lang)
        project = str(rec["project"])
        rows.append(
            [
                _cell(_text(rec["target_en"] if lang == "en" else rec["target"]), "target"),
                _cell(t("all_projects", lang) if project == ALL else project, "project"),
                _cell(MEASURE_TEXT[measure][lang][0] if measure in MEASURE_TEXT else measure, "measure"),
                _cell(value, "value", True),
                _cell(basis, "basis", True),
                _cell(_goal_threshold(rec, lang), "threshold", True),
                _cell(judgement_label(rec["judgement"], lang), "judgement"),
            ]
        )
        paragraphs.append(_goal_paragraph(rec, threshold, lang))
    return rows, paragraphs


def _enrolment_total(enrolment: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Project "all" of the enrolment table, suppressed with the brief's threshold. Without "all" rows the
    total is summed over projects (a month with a hidden project count stays hidden)."""
    _require(enrolment, ENROLMENT_REQUIRED, "enrolment")
    total = enrolment.loc[enrolment["project"] == ALL, list(ENROLMENT_REQUIRED)]
    if total.empty and not enrolment.empty:
        counts = pd.to_numeric(enrolment["n_enrolled"], errors="coerce").astype("Float64")
        summed = counts.groupby(enrolment["month"], sort=True).agg(lambda s: s.sum(skipna=False))
        total = pd.DataFrame({"project": ALL, "month": summed.index, "n_enrolled": summed.to_numpy()})
    total = total.assign(month=pd.to_datetime(total["month"], errors="coerce"))
    return suppress_small_counts(total.reset_index(drop=True), ["n_enrolled"], threshold)


def _trailing_window(rec: pd.Series, total: pd.DataFrame, target: float) -> tuple[str | None, str | None]:
    """The enrolment target's window when the goal table does not carry it: the last ``months_assessed``
    months, accepted only if that window reproduces the row's ``months_below`` and ``lowest_month`` (a
    month hidden by suppression counts as below: it holds fewer than the disclosure threshold, at most the
    target). Otherwise (None, None): the target line then spans every month."""
    n_months, n_below, lowest = rec.get("months_assessed"), rec.get("months_below"), rec.get("lowest_month")
    if not (_present(n_months) and _present(n_below) and _present(lowest)) or int(n_months) < 1:
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
    if rows.empty or not _present(rows.iloc[0].get("threshold")):
        return None, (None, None)
    rec = rows.iloc[0]
    target = float(rec["threshold"])
    first, last = (str(rec[c]) if _present(rec.get(c)) else None for c in ("first_month", "last_month"))
    if first or last:
        return target, (first, last)
    return target, _trailing_window(rec, total, target)


def _participant_flow_section(
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
        figure = _data_uri(enrolment_figure(total, target, window, ALL, lang))
    return {
        "header": _header(cols, lang),
        "rows": rows,
        "paragraphs": paragraphs,
        "figure": figure,
        "alt": t("figure_alt_enrolment", lang),
    }


def _manifest_inputs(manifest: dict) -> list[tuple[str, str]]:
    inputs = manifest.get("inputs") or []
    out: list[tuple[str, str]] = []
    if isinstance(inputs, dict):
        for name, value in inputs.items():
            sha = value.get("sha256") if isinstance(value, dict) else value
            out.append((str(name), _short_hash(sha)))
    else:
        for item in inputs:
            if isinstance(item, dict):
                name = item.get("name") or item.get("path") or item.get("file") or MISSING
                out.append((str(name), _short_hash(item.get("sha256"))))
            else:
                out.append((str(item), MISSING))
    return out


def _provenance_section(manifests: dict[str, dict], lang: str) -> list[dict[str, Any]]:
    studies = []
    for study, manifest in manifests.items():
        manifest = manifest or {}
        studies.append(
            {
                "study": str(study),
                "inputs": _manifest_inputs(manifest),
                "facts": [
                    (column_label("config_hash", lang), _short_hash(manifest.get("config_hash"))),
                    (column_label("code_version", lang), _text(manifest.get("code_version"))),
                    (column_label("flow_run_id", lang), _text(manifest.get("flow_run_id"))),
                ],
                "empty": not manifest,
            }
        )
    return studies


# ------------------------------------------------------------------------------------------ render


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR), encoding="utf-8"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def render_brief(content: BriefContent, lang: str = "en") -> str:
    """Render the seminar brief as one self-contained HTML page (str) in ``lang`` ("en" or "sv").

    Sections: study 1 (demand profile table + figure), study 2 (alignment table + figure, evaluation
    candidates), study 3 (effect estimates + figure, balance summary + Love plot), participant flow (goal
    attainment table, a paragraph per target, enrolment figure; only when ``goal_attainment`` or
    ``enrolment`` is given), the quarter's run history, and a provenance appendix with the disclosure rule.
    Person counts are suppressed first (module docstring).
    An empty table (any columns, e.g. study 3 not yet run) renders as "no data"; a non-empty table lacking
    required columns raises ValueError naming the table, as does an unknown language.
    """
    check_lang(lang)
    threshold = int(content.disclosure_threshold)
    tables = {name: _complete_if_empty(getattr(content, name), name) for name in TABLE_COLUMNS}
    effects, suppressed_ids = _effects_section(tables["effects"], threshold, lang)
    context = {
        "lang": lang,
        "title": t("title", lang, quarter=content.quarter),
        "generated": t("generated", lang, when=format_datetime(content.generated_at, lang)),
        "intro": t_html("intro", lang),
        "texts": {
            key: t_html(key, lang, min_participants=format_int(content.min_participants, lang))
            if key == "study2_text"
            else t_html(key, lang)
            for key in (
                "study1",
                "study1_text",
                "study2",
                "study2_text",
                "alignment_heading",
                "candidates_heading",
                "study3",
                "study3_text",
                "effects_heading",
                "balance_heading",
                "balance_text",
                "participant_flow",
                "participant_flow_text",
                "goals_heading",
                "enrolment_heading",
                "history",
                "appendix",
                "appendix_text",
                "disclosure",
                "no_data",
                "no_manifest",
            )
        },
        "col_input": column_label("input", lang),
        "col_sha": column_label("sha256", lang),
        "profile": _profile_section(tables["demand_profile"], lang),
        "alignment": _alignment_section(tables["alignment"], tables["demand_profile"], lang),
        "candidates": _candidates_section(tables["candidates"], threshold, content.min_participants, lang),
        "effects": effects,
        "balance": _balance_section(tables["balance"], suppressed_ids, lang),
        "participant_flow": _participant_flow_section(content.goal_attainment, content.enrolment, threshold, lang),
        "history": _history_section(content.history if content.history is not None else pd.DataFrame(), lang),
        "provenance": _provenance_section(content.manifests, lang),
        "disclosure_rule": disclosure_rule_text(lang, threshold),
        "notation": t("notation", lang, mark=f"<{threshold}", max_hidden=threshold - 1),
    }
    return _environment().get_template(TEMPLATE_NAME).render(**context).lstrip()
