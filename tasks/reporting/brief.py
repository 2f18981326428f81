"""The quarterly seminar brief (underlag för återföringsseminarium) as one self-contained HTML page.

:func:`render_brief` turns a :class:`BriefContent` into HTML with inline CSS and PNG figures embedded as
base64 data URIs: no external links, no JavaScript, UTF-8. All data are escaped by Jinja2 autoescaping.

Disclosure control happens here, before anything is formatted: every person-count column shown
(``n_participants``, ``n_treated``, ``n_controls``, ``n_treated_unmatched``) passes
:func:`insats.tasks.disclosure.suppress_small_counts` with ``content.disclosure_threshold``. A suppressed count is
shown as ``<T`` (e.g. ``<5``, meaning 1..T-1 persons); estimates computed from a suppressed count (ATT, SE,
CI, p-value, and the intervention's balance statistics) are shown as an en dash and left out of the figures.
The candidates' reason sentence is rebuilt from the suppressed count, so it cannot leak the number either.
The appendix explains the notation and prints the disclosure rule.

The optional participant-flow section (``goal_attainment``, ``enrolment``; omitted when both are None) takes
the published, already suppressed tables and suppresses them again with the brief's threshold: a count
hidden upstream (missing with ``suppressed`` true) is shown as ``<T`` like one hidden here. A target's
published paragraph is used unless the brief hid more of its row than the published table did; then the
paragraph is rewritten from the suppressed row (:func:`insats.tasks.participants.goals.goal_paragraph`).

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
import re
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from insats.tasks.disclosure import SUPPRESSED_COLUMN, disclosure_rule_text, suppress_small_counts
from insats.tasks.interviews.redaction import redact
from insats.tasks.interviews.reliability import ALL as ALL_CODES
from insats.tasks.mapping.figures import alignment_heatmap
from insats.tasks.participants.figures import enrolment_figure
from insats.tasks.participants.goals import JUDGEMENTS, MEASURE_TEXT, goal_paragraph
from insats.tasks.participants.measures import ALL
from insats.tasks.reporting import figures
from insats.tasks.reporting.i18n import (
    MISSING,
    check_lang,
    column_label,
    countries_label,
    designs_label,
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
    reason_text,
    state_label,
    status_label,
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
# Candidates' person counts: participants, starters (n_treated) and eligible comparison persons.
CANDIDATE_COUNTS: tuple[str, ...] = ("n_participants", "n_treated", "n_comparison")
# Every person-count column the brief can show (candidates' n_treated is shown under data-col "n_starters").
PERSON_COUNT_COLUMNS: tuple[str, ...] = (*COUNT_COLUMNS, "n_starters", "n_comparison")
FAILED_STATES: tuple[str, ...] = ("FAILED", "CRASHED")
AUTO_CODER = "auto"
QUOTE_CODES = 3  # competencies (by demand rank) that get quotes
QUOTES_PER_CODE = 3
EFFECT_KEYS: tuple[str, ...] = ("intervention_id", "outcome", "horizon_months", "estimator")
RELIABILITY_REQUIRED: tuple[str, ...] = (
    "code_id",
    "coder_a",
    "coder_b",
    "n_segments",
    "agreement",
    "kappa",
    "kappa_ci_low",
    "kappa_ci_high",
    "alpha",
    "alpha_ci_low",
    "alpha_ci_high",
)
# Person counts inside a published reason sentence (insats.tasks.mapping.candidates): "<n> starters", "<n> comparison
# persons", "<n> participants", and "(<n> < <min>)" / "(<n> >= <min>)" comparisons of whole numbers.
_REASON_COUNTS = (
    re.compile(r"(?<![\d.,])(\d+)(?= (?:starters|comparison persons|participants|persons)\b)"),
    re.compile(r"(?<=\()(\d+)(?= (?:<|>=|≥|>|<=|≤) \d+\))"),
)
_REASON_MDE = re.compile(r"(minimum detectable effect (?:too large \()?)\d+(?:\.\d+)? pp")
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
    participant-flow section out. The other optional tables (module docstring) likewise add their section
    only when given; ``previous_quarter`` None says that this is the first brief."""

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
    previous_quarter: str | None = None
    changes: dict[str, pd.DataFrame] | None = None
    validation: pd.DataFrame | None = None
    reliability: pd.DataFrame | None = None
    quotes: pd.DataFrame | None = None
    coverage_gaps: pd.DataFrame | None = None
    evidence: pd.DataFrame | None = None


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
    with_ci = "ci_low" in prof.columns and "ci_high" in prof.columns
    cols = ["rank", "label", "code_id", "n_employers", "share_employers", *(["share_ci"] if with_ci else [])]
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
                *([_cell(_percent_ci(rec["ci_low"], rec["ci_high"], lang), "share_ci", True)] if with_ci else []),
            ]
        )
    return {
        "header": _header(cols, lang),
        "rows": rows,
        "figure": _data_uri(figures.demand_profile_figure(prof, lang)),
        "alt": t("figure_alt_demand", lang),
    }


def _percent_ci(low: Any, high: Any, lang: str) -> str:
    """A CI of a share as percentages: ``[63.9%, 94.8%]`` / ``[63,9 %; 94,8 %]``."""
    if not (_present(low) and _present(high)):
        return MISSING
    sep = "; " if lang == "sv" else ", "
    return f"[{format_percent(low, lang)}{sep}{format_percent(high, lang)}]"


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
    heatmap = len(al) > 0 and len(profile) > 0 and {"rank", "share_employers"} <= set(profile.columns)
    if heatmap:
        # The heatmap only draws demanded competencies, so the matched ones stand in for the inventory's list.
        inventory = pd.DataFrame(
            {"intervention_id": al["intervention_id"].astype(str), "competencies": al["matched_competencies"]}
        )
        png = alignment_heatmap(inventory, profile.assign(code_id=profile["code_id"].astype(str)))
    else:
        png = figures.alignment_figure(al, lang)
    return {
        "header": _header(cols, lang),
        "rows": rows,
        "figure": _data_uri(png),
        "alt": t("figure_alt_heatmap" if heatmap else "figure_alt_alignment", lang),
        "caption": t("heatmap_caption", lang) if heatmap else None,
    }


def suppress_reason(reason: str, threshold: int, hidden: tuple[int, ...] = (), hide_mde: bool = False) -> str:
    """A published candidate reason with every person count 1..threshold-1 written ``<threshold``.

    Person counts are the numbers before "starters", "comparison persons", "participants" or "persons" and
    the left side of a whole-number comparison such as "(3 < 100)". ``hidden`` are this row's suppressed
    counts: any standalone occurrence of them is replaced too. ``hide_mde`` replaces the minimum detectable
    effect (computed from a hidden count) by an en dash. Zero counts stay.
    """
    mark = f"<{threshold}"

    def small(match: re.Match[str]) -> str:
        return mark if 1 <= int(match.group(1)) < threshold else match.group(1)

    for pattern in _REASON_COUNTS:
        reason = pattern.sub(small, reason)
    for value in sorted(set(hidden), reverse=True):
        reason = re.sub(rf"(?<![\d.,<]){value}(?![\d.,])", mark, reason)
    if hide_mde:
        reason = _REASON_MDE.sub(rf"\g<1>{MISSING}", reason)
    return reason


def _candidate_reason(rec: dict[str, Any], counts: list[str], threshold: int, lang: str) -> str:
    """The published reason, small counts suppressed, in ``lang``."""
    reason = rec.get("reason")
    if not _present(reason) or not str(reason).strip():
        return MISSING
    hidden = tuple(int(rec[f"_orig_{c}"]) for c in counts if rec[f"_hidden_{c}"])
    hide_mde = any(rec[f"_hidden_{c}"] for c in ("n_treated", "n_comparison") if c in counts)
    return reason_text(suppress_reason(str(reason), threshold, hidden, hide_mde), lang)


def _candidates_section(candidates: pd.DataFrame, threshold: int, lang: str) -> dict:
    """Candidates with their person counts suppressed (participants, starters, comparison persons); MDE and
    base rate are hidden with the count they are computed from; the published reason is shown suppressed."""
    _require(
        candidates,
        ("intervention_id", "name", "n_participants", "alignment_score", "eligible", "rank"),
        "candidates",
    )
    counts = [c for c in CANDIDATE_COUNTS if c in candidates.columns]
    derived = {
        "n_treated": [c for c in ("mde",) if c in candidates.columns],
        "n_comparison": [c for c in ("mde", "base_rate") if c in candidates.columns],
    }
    sup = _suppress(candidates, counts, threshold, {k: v for k, v in derived.items() if k in counts and v})
    for col in counts:
        sup[f"_orig_{col}"] = candidates[col].to_numpy()
    extra = [c for c in ("n_treated", "n_comparison", "base_rate", "mde") if c in candidates.columns]
    data_col = {"n_treated": "n_starters"}
    cols = ["rank", "intervention_id", "name", "n_participants", *[data_col.get(c, c) for c in extra]]
    cols += ["alignment_score", "eligible", "reason"]
    rows = []
    for rec in sup.sort_values("rank", kind="mergesort").to_dict("records"):
        eligible = bool(rec["eligible"]) and not any(rec[f"_hidden_{c}"] for c in counts)
        cells = []
        for col in extra:
            if col in counts:
                cells.append(_cell(_count_text(rec, col, threshold, lang), data_col.get(col, col), True))
            elif col == "base_rate":
                cells.append(_cell(format_percent(rec[col], lang), col, True))
            else:
                mde = rec[col] * 100 if _present(rec[col]) else None
                cells.append(_cell(format_number(mde, lang, 1), col, True))
        rows.append(
            [
                _cell(format_int(rec["rank"], lang), "rank", True),
                _cell(str(rec["intervention_id"]), "intervention_id"),
                _cell(_text(rec["name"]), "name"),
                _cell(_count_text(rec, "n_participants", threshold, lang), "n_participants", True),
                *cells,
                _cell(format_number(rec["alignment_score"], lang, 2), "alignment_score", True),
                _cell(t("yes" if eligible else "no", lang), "eligible"),
                _cell(_candidate_reason(rec, counts, threshold, lang), "reason"),
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


# ------------------------------------------------------------------------------- what changed, validation


def _estimate_label(rec: dict[str, Any], lang: str) -> str:
    return (
        f"{rec['intervention_id']} · {outcome_label(rec['outcome'], lang)} · "
        f"{format_int(rec['horizon_months'], lang)} {t('months_short', lang)} · {rec['estimator']}"
    )


def _estimate_rows(
    estimates: pd.DataFrame, shown: pd.DataFrame, suppressed_ids: set[str], lang: str
) -> tuple[dict[str, Any], list[str]]:
    """Estimates present before and now, and notes on new, no longer reported and further changed estimates.

    When the effects section shows estimates, only the same outcomes, horizons and estimators are listed (the
    brief's headline); the others are counted in a note. An intervention whose current estimate is
    suppressed has its current values (and the change) shown as an en dash."""
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
    rows = []
    for rec in est[before & now].to_dict("records"):
        hide = str(rec["intervention_id"]) in suppressed_ids
        overlap = rec["ci_overlap"]
        rows.append(
            [
                _cell(str(rec["intervention_id"]), "intervention_id"),
                _cell(outcome_label(rec["outcome"], lang), "outcome"),
                _cell(format_int(rec["horizon_months"], lang), "horizon_months", True),
                _cell(_text(rec["estimator"]), "estimator"),
                _cell(format_number(rec["att_before"], lang, 3), "att_before", True),
                _cell(format_ci(rec["ci_low_before"], rec["ci_high_before"], lang), "ci_before", True),
                _cell(MISSING if hide else format_number(rec["att_now"], lang, 3), "att_now", True),
                _cell(MISSING if hide else format_ci(rec["ci_low_now"], rec["ci_high_now"], lang), "ci_now", True),
                _cell(MISSING if hide else format_number(rec["change"], lang, 3), "change", True),
                _cell(
                    MISSING if hide or not _present(overlap) else t("yes" if bool(overlap) else "no", lang),
                    "ci_overlap",
                ),
            ]
        )
    return {"header": _header(cols, lang), "rows": rows}, notes


def _changes_section(
    previous: str | None,
    changes: dict[str, pd.DataFrame] | None,
    effects: pd.DataFrame,
    suppressed_ids: set[str],
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
        _require(inputs, ("study", "input", "status", "sha256_before", "sha256_now"), "changes.inputs")
        moved = inputs[inputs["status"].astype(str) != "unchanged"]
        cols = ["study", "input", "status", "sha256_before", "sha256_now"]
        rows = [
            [
                _cell(_text(r["study"]), "study"),
                _cell(_text(r["input"]), "input"),
                _cell(status_label(r["status"], lang), "status"),
                _cell(_short_hash(r["sha256_before"]), "sha256_before"),
                _cell(_short_hash(r["sha256_now"]), "sha256_now"),
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
                "table": {"header": _header(cols, lang), "rows": rows} if rows else None,
                "notes": notes,
            }
        )
    tables = changes.get("tables")
    if tables is not None:
        _require(tables, ("study", "table", "rows_before", "rows_now"), "changes.tables")
        cols = ["study", "table", "rows_before", "rows_now"]
        rows = [
            [
                _cell(_text(r["study"]), "study"),
                _cell(_text(r["table"]), "table"),
                _cell(format_int(r["rows_before"], lang), "rows_before", True),
                _cell(format_int(r["rows_now"], lang), "rows_now", True),
            ]
            for r in tables.to_dict("records")
            if not (_present(r["rows_before"]) and _present(r["rows_now"]) and r["rows_before"] == r["rows_now"])
        ]
        parts.append(
            {
                "id": "tables",
                "title": t("changes_tables", lang),
                "table": {"header": _header(cols, lang), "rows": rows} if rows else None,
                "notes": [] if rows else [t("changes_tables_none", lang)],
            }
        )
    estimates = changes.get("estimates")
    if estimates is not None:
        _require(
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
        table, notes = _estimate_rows(estimates, effects, suppressed_ids, lang)
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
            _require(runs, ("study", "state", "runs"), "changes.runs")
            rows = [
                [
                    _cell(_text(r["study"]), "study"),
                    _cell(state_label(r["state"], lang), "state"),
                    _cell(format_int(r["runs"], lang), "runs", True),
                ]
                for r in runs.sort_values(["study", "state"], kind="mergesort").to_dict("records")
            ]
        parts.append(
            {
                "id": "runs",
                "title": t("changes_runs", lang),
                "table": {"header": _header(cols, lang), "rows": rows},
                "notes": [],
            }
        )
    return section


def _failures(history: pd.DataFrame | None, lang: str) -> dict[str, Any]:
    """Failed (or crashed) runs of the quarter with their reasons, and whether a later run of the same study
    completed."""
    cols = ["flow_run_name", "study", "start_time", "failure_reason", "resolved"]
    out: dict[str, Any] = {"header": _header(cols, lang), "rows": []}
    if history is None or history.empty or "state" not in history.columns:
        return out
    _require(history, HISTORY_REQUIRED, "history")
    hist = history.assign(_start=pd.to_datetime(history["start_time"], errors="coerce", utc=True))
    hist = hist.sort_values("_start", kind="mergesort")
    state = hist["state"].astype(str).str.upper()
    for rec in hist[state.isin(FAILED_STATES)].to_dict("records"):
        later = hist[(hist["study"] == rec["study"]) & (hist["_start"] > rec["_start"]) & (state == "COMPLETED")]
        out["rows"].append(
            [
                _cell(_text(rec["flow_run_name"]), "flow_run_name"),
                _cell(_text(rec["study"]), "study"),
                _cell(format_timestamp(rec["start_time"]), "start_time"),
                _cell(_text(rec.get("failure_reason")), "failure_reason"),
                _cell(t("yes" if len(later) else "no", lang), "resolved"),
            ]
        )
    return out


def _validation_section(validation: pd.DataFrame | None, failures: dict[str, Any], lang: str) -> dict | None:
    """Every input and published table with its suite and status (failed first), plus the open failures."""
    if validation is None:
        return None
    cols = ["study", "item", "kind", "suite", "rows", "sha256", "status"]
    rows, n_failed = [], 0
    if len(validation):
        _require(validation, ("study", "item", "kind", "status"), "validation")
        val = validation.assign(**{c: None for c in ("suite", "rows", "sha256") if c not in validation.columns})
        failed = val["status"].astype(str).str.lower() != "passed"
        n_failed = int(failed.sum())
        val = val.assign(_order=(~failed).astype(int)).sort_values("_order", kind="mergesort")
        for rec in val.to_dict("records"):
            rows.append(
                [
                    _cell(_text(rec["study"]), "study"),
                    _cell(_text(rec["item"]), "item"),
                    _cell(status_label(rec["kind"], lang), "kind"),
                    _cell(_text(rec["suite"]), "suite"),
                    _cell(format_int(rec["rows"], lang), "rows", True),
                    _cell(_short_hash(rec["sha256"]), "sha256"),
                    _cell(status_label(str(rec["status"]).lower(), lang), "status"),
                ]
            )
    summary = t(
        "validation_summary",
        lang,
        n=format_int(len(rows), lang),
        passed=format_int(len(rows) - n_failed, lang),
        failed=format_int(n_failed, lang),
    )
    return {"header": _header(cols, lang), "rows": rows, "summary": summary, "failures": failures}


# ------------------------------------------------------------------------------- study 1 and 2 details


def _stat_cells(rec: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    return [
        _cell(format_int(rec["n_segments"], lang), "n_segments", True),
        _cell(format_percent(rec["agreement"], lang), "agreement", True),
        _cell(format_number(rec["kappa"], lang, 2), "kappa", True),
        _cell(format_ci(rec["kappa_ci_low"], rec["kappa_ci_high"], lang, 2), "kappa_ci", True),
        _cell(format_number(rec["alpha"], lang, 2), "alpha", True),
        _cell(format_ci(rec["alpha_ci_low"], rec["alpha_ci_high"], lang, 2), "alpha_ci", True),
    ]


def _reliability_section(reliability: pd.DataFrame | None, profile: pd.DataFrame, lang: str) -> dict | None:
    """Kappa and alpha with CIs per code between the first pair of human coders (overall row last), and the
    pooled row of every coder pair (human-human and human-auto)."""
    if reliability is None:
        return None
    stats = ["n_segments", "agreement", "kappa", "kappa_ci", "alpha", "alpha_ci"]
    out: dict[str, Any] = {
        "header": _header(["label", "code_id", *stats], lang),
        "rows": [],
        "text": t("reliability_no_pair", lang),
        "pairs": {"header": _header(["coder_a", "coder_b", *stats], lang), "rows": []},
    }
    if reliability.empty:
        return out
    _require(reliability, RELIABILITY_REQUIRED, "reliability")
    rel = reliability.assign(coder_a=reliability["coder_a"].astype(str), coder_b=reliability["coder_b"].astype(str))
    overall = rel["code_id"].astype(str) == ALL_CODES
    human = (rel["coder_a"].str.lower() != AUTO_CODER) & (rel["coder_b"].str.lower() != AUTO_CODER)
    labels = _code_labels(profile, lang)
    if human.any():
        a, b = rel.loc[human, "coder_a"].iloc[0], rel.loc[human, "coder_b"].iloc[0]
        pair = rel[(rel["coder_a"] == a) & (rel["coder_b"] == b)]
        pair = pair.assign(_overall=overall[pair.index]).sort_values(["_overall"], kind="mergesort")
        for rec in pair.to_dict("records"):
            code = str(rec["code_id"])
            label = t("all_codes", lang) if rec["_overall"] else labels.get(code, code)
            out["rows"].append(
                [_cell(label, "label"), _cell("" if rec["_overall"] else code, "code_id"), *_stat_cells(rec, lang)]
            )
        out["text"] = t("reliability_text", lang, a=a, b=b)
    for rec in rel[overall].to_dict("records"):
        out["pairs"]["rows"].append(
            [_cell(rec["coder_a"], "coder_a"), _cell(rec["coder_b"], "coder_b"), *_stat_cells(rec, lang)]
        )
    return out


def _quotes_section(quotes: pd.DataFrame | None, profile: pd.DataFrame, lang: str) -> dict | None:
    """Up to QUOTES_PER_CODE non-negated quotes for each of the QUOTE_CODES most demanded competencies. The
    quotes come redacted; they are passed through the redaction again as a safety net."""
    if quotes is None:
        return None
    groups: list[dict[str, Any]] = []
    if len(quotes) and len(profile):
        _require(quotes, ("code_id", "quote_no", "negated", "quote"), "quotes")
        labels = _code_labels(profile, lang)
        top = profile.sort_values(["rank", "code_id"], kind="mergesort")["code_id"].astype(str).head(QUOTE_CODES)
        negated = quotes["negated"].fillna(False).astype(bool)
        for code in top:
            mine = quotes[(quotes["code_id"].astype(str) == code) & ~negated & quotes["quote"].notna()]
            mine = mine.sort_values("quote_no", kind="mergesort").head(QUOTES_PER_CODE)
            items = [
                {
                    "text": redact(str(rec["quote"]))[0],
                    "source": t("interview", lang, id=rec["interview_id"]) if _present(rec.get("interview_id")) else "",
                }
                for rec in mine.to_dict("records")
            ]
            if items:
                groups.append({"label": labels.get(code, code), "code_id": code, "quotes": items})
    return {"groups": groups}


def _coverage_gaps_section(gaps: pd.DataFrame | None, lang: str) -> dict | None:
    if gaps is None:
        return None
    cols = ["rank", "label", "code_id", "share_employers", "addressed_by_not_ongoing"]
    rows = []
    if len(gaps):
        _require(gaps, ("code_id", "share_employers", "rank"), "coverage_gaps")
        label_col = "label" if lang == "sv" else "label_en"
        for rec in gaps.sort_values(["rank", "code_id"], kind="mergesort").to_dict("records"):
            ended = rec.get("addressed_by_not_ongoing")
            ended = "; ".join(x.strip() for x in str(ended).split(";") if x.strip()) if _present(ended) else ""
            rows.append(
                [
                    _cell(format_int(rec["rank"], lang), "rank", True),
                    _cell(_text(rec.get(label_col, rec.get("label"))), "label"),
                    _cell(str(rec["code_id"]), "code_id"),
                    _cell(format_percent(rec["share_employers"], lang), "share_employers", True),
                    _cell(ended or t("none", lang), "addressed_by_not_ongoing"),
                ]
            )
    return {"header": _header(cols, lang), "rows": rows}


def _evidence_section(evidence: pd.DataFrame | None, lang: str) -> dict | None:
    if evidence is None:
        return None
    counts = ["n_studies", "n_rct", "n_positive", "n_null", "n_negative", "n_mixed"]
    cols = ["method_family", "n_studies", "n_rct", "designs", *counts[2:], "share_positive", "countries"]
    rows = []
    if len(evidence):
        _require(evidence, ("method_family", "n_studies"), "evidence")
        ev = evidence.assign(**{c: None for c in cols if c not in evidence.columns})
        for rec in ev.sort_values(["n_studies", "method_family"], ascending=[False, True], kind="mergesort").to_dict(
            "records"
        ):
            rows.append(
                [
                    _cell(method_family_label(rec["method_family"], lang), "method_family"),
                    _cell(format_int(rec["n_studies"], lang), "n_studies", True),
                    _cell(format_int(rec["n_rct"], lang), "n_rct", True),
                    _cell(designs_label(rec["designs"], lang), "designs"),
                    *[_cell(format_int(rec[c], lang), c, True) for c in counts[2:]],
                    _cell(format_percent(rec["share_positive"], lang, 0), "share_positive", True),
                    _cell(countries_label(rec["countries"], lang), "countries"),
                ]
            )
    return {"header": _header(cols, lang), "rows": rows}


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
    failures = _failures(content.history, lang)
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
                "validation",
                "validation_text",
                "open_failures",
                "open_failures_text",
                "open_failures_none",
                "reliability_heading",
                "reliability_pairs",
                "quotes_heading",
                "quotes_text",
                "coverage_gaps_heading",
                "coverage_gaps_text",
                "evidence_heading",
                "evidence_text",
            )
        },
        "col_input": column_label("input", lang),
        "col_sha": column_label("sha256", lang),
        "profile": _profile_section(tables["demand_profile"], lang),
        "alignment": _alignment_section(tables["alignment"], tables["demand_profile"], lang),
        "candidates": _candidates_section(tables["candidates"], threshold, lang),
        "effects": effects,
        "balance": _balance_section(tables["balance"], suppressed_ids, lang),
        "participant_flow": _participant_flow_section(content.goal_attainment, content.enrolment, threshold, lang),
        "changes": _changes_section(content.previous_quarter, content.changes, tables["effects"], suppressed_ids, lang),
        "validation": _validation_section(content.validation, failures, lang),
        "failure_alert": t("open_failures_alert", lang, n=format_int(len(failures["rows"]), lang))
        if failures["rows"]
        else None,
        "reliability": _reliability_section(content.reliability, tables["demand_profile"], lang),
        "quotes": _quotes_section(content.quotes, tables["demand_profile"], lang),
        "coverage_gaps": _coverage_gaps_section(content.coverage_gaps, lang),
        "evidence": _evidence_section(content.evidence, lang),
        "history": _history_section(content.history if content.history is not None else pd.DataFrame(), lang),
        "provenance": _provenance_section(content.manifests, lang),
        "disclosure_rule": disclosure_rule_text(lang, threshold),
        "notation": t("notation", lang, mark=f"<{threshold}", max_hidden=threshold - 1),
    }
    return _environment().get_template(TEMPLATE_NAME).render(**context).lstrip()
