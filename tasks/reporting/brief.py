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

from tasks.disclosure import disclosure_rule_text, suppress_small_counts
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

    ``min_participants`` is the eligibility threshold used by study 2 (only used to word the reasons)."""

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
    candidates), study 3 (effect estimates + figure, balance summary + Love plot), the quarter's run history,
    and a provenance appendix with the disclosure rule. Person counts are suppressed first (module docstring).
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
        "history": _history_section(content.history if content.history is not None else pd.DataFrame(), lang),
        "provenance": _provenance_section(content.manifests, lang),
        "disclosure_rule": disclosure_rule_text(lang, threshold),
        "notation": t("notation", lang, mark=f"<{threshold}", max_hidden=threshold - 1),
    }
    return _environment().get_template(TEMPLATE_NAME).render(**context).lstrip()
