"""Study 1 in the brief: the demand profile (table and figure), inter-coder reliability and employers' quotes.

Columns (suites ``schemas/employer_interviews.<table>.json``):
- demand_profile: code_id, label, label_en, n_employers, n_employers_total, share_employers, rank, and
  optionally ci_low, ci_high (shown as a CI of the share) and n_employers_neutral, n_employers_inte_krav
  (employers who named the competency only as a merit / said it is not required; shown beside the demand)
- reliability: code_id, coder_a, coder_b, n_segments, agreement, kappa, kappa_ci_low, kappa_ci_high, alpha,
  alpha_ci_low, alpha_ci_high (code "(alla koder)" = all codes pooled; coder "auto" = automatic coding)
- quotes: code_id, quote_no, negated, quote, and optionally interview_id
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from insats.tasks.interviews.redaction import redact
from insats.tasks.interviews.reliability import ALL as ALL_CODES
from insats.tasks.reporting import figures
from insats.tasks.reporting.brief.common import (
    cell,
    code_labels,
    complete_if_empty,
    data_uri,
    header,
    present,
    require,
    text,
)
from insats.tasks.reporting.i18n import (
    MISSING,
    format_ci,
    format_int,
    format_interval,
    format_number,
    format_percent,
    t,
)

STUDY = "employer_interviews"
AUTO_CODER = "auto"
QUOTE_CODES = 3  # competencies (by demand rank) that get quotes
QUOTES_PER_CODE = 3
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


def percent_ci(low: Any, high: Any, lang: str) -> str:
    """A CI of a share as percentages: ``[63.9%, 94.8%]`` / ``[63,9 %; 94,8 %]``."""
    if not (present(low) and present(high)):
        return MISSING
    return format_interval(format_percent(low, lang), format_percent(high, lang), lang)


def profile_section(profile: pd.DataFrame, lang: str) -> dict[str, Any]:
    """The demand profile by rank (share of employers requiring each competency, with its CI when published;
    the hedged and the denying employers beside it when published) and its bar chart."""
    profile = complete_if_empty(profile, STUDY, "demand_profile")
    require(profile, ("code_id", "share_employers", "rank"), "demand_profile")
    prof = profile.sort_values(["rank", "code_id"], kind="mergesort")
    label_col = "label" if lang == "sv" else "label_en"
    with_ci = len(prof) > 0 and {"ci_low", "ci_high"} <= set(prof.columns)
    stance_cols = [c for c in ("n_employers_neutral", "n_employers_inte_krav") if len(prof) > 0 and c in prof.columns]
    cols = ["rank", "label", "code_id", "n_employers", "share_employers", *(["share_ci"] if with_ci else [])]
    cols += stance_cols
    rows = []
    for rec in prof.to_dict("records"):
        n, total = rec.get("n_employers"), rec.get("n_employers_total")
        n_text = format_int(n, lang)
        if present(total) and present(n):
            n_text = f"{format_int(n, lang)} / {format_int(total, lang)}"
        rows.append(
            [
                cell(format_int(rec["rank"], lang), "rank", True),
                cell(text(rec.get(label_col, rec.get("label"))), "label"),
                cell(str(rec["code_id"]), "code_id"),
                cell(n_text, "n_employers", True),
                cell(format_percent(rec["share_employers"], lang), "share_employers", True),
                *([cell(percent_ci(rec["ci_low"], rec["ci_high"], lang), "share_ci", True)] if with_ci else []),
                *[cell(format_int(rec[c], lang), c, True) for c in stance_cols],
            ]
        )
    return {
        "header": header(cols, lang),
        "rows": rows,
        "figure": data_uri(figures.demand_profile_figure(prof, lang)),
        "alt": t("figure_alt_demand", lang),
    }


def _stat_cells(rec: dict[str, Any], lang: str) -> list[dict[str, Any]]:
    return [
        cell(format_int(rec["n_segments"], lang), "n_segments", True),
        cell(format_percent(rec["agreement"], lang), "agreement", True),
        cell(format_number(rec["kappa"], lang, 2), "kappa", True),
        cell(format_ci(rec["kappa_ci_low"], rec["kappa_ci_high"], lang, 2), "kappa_ci", True),
        cell(format_number(rec["alpha"], lang, 2), "alpha", True),
        cell(format_ci(rec["alpha_ci_low"], rec["alpha_ci_high"], lang, 2), "alpha_ci", True),
    ]


def reliability_section(reliability: pd.DataFrame | None, profile: pd.DataFrame | None, lang: str) -> dict | None:
    """Kappa and alpha with CIs per code between the first pair of human coders (overall row last), and the
    pooled row of every coder pair (human-human and human-auto). None without a reliability table."""
    if reliability is None:
        return None
    stats = ["n_segments", "agreement", "kappa", "kappa_ci", "alpha", "alpha_ci"]
    out: dict[str, Any] = {
        "header": header(["label", "code_id", *stats], lang),
        "rows": [],
        "text": t("reliability_no_pair", lang),
        "pairs": {"header": header(["coder_a", "coder_b", *stats], lang), "rows": []},
    }
    if reliability.empty:
        return out
    require(reliability, RELIABILITY_REQUIRED, "reliability")
    rel = reliability.assign(coder_a=reliability["coder_a"].astype(str), coder_b=reliability["coder_b"].astype(str))
    overall = rel["code_id"].astype(str) == ALL_CODES
    human = (rel["coder_a"].str.lower() != AUTO_CODER) & (rel["coder_b"].str.lower() != AUTO_CODER)
    labels = code_labels(profile, lang)
    if human.any():
        a, b = rel.loc[human, "coder_a"].iloc[0], rel.loc[human, "coder_b"].iloc[0]
        pair = rel[(rel["coder_a"] == a) & (rel["coder_b"] == b)]
        pair = pair.assign(_overall=overall[pair.index]).sort_values(["_overall"], kind="mergesort")
        for rec in pair.to_dict("records"):
            code = str(rec["code_id"])
            label = t("all_codes", lang) if rec["_overall"] else labels.get(code, code)
            out["rows"].append(
                [cell(label, "label"), cell("" if rec["_overall"] else code, "code_id"), *_stat_cells(rec, lang)]
            )
        out["text"] = t("reliability_text", lang, a=a, b=b)
    for rec in rel[overall].to_dict("records"):
        out["pairs"]["rows"].append(
            [cell(rec["coder_a"], "coder_a"), cell(rec["coder_b"], "coder_b"), *_stat_cells(rec, lang)]
        )
    return out


def quotes_section(quotes: pd.DataFrame | None, profile: pd.DataFrame | None, lang: str) -> dict | None:
    """Up to QUOTES_PER_CODE non-negated quotes for each of the QUOTE_CODES most demanded competencies. The
    quotes come redacted; they are passed through the redaction again as a safety net."""
    if quotes is None:
        return None
    groups: list[dict[str, Any]] = []
    if len(quotes) and profile is not None and len(profile):
        require(quotes, ("code_id", "quote_no", "negated", "quote"), "quotes")
        labels = code_labels(profile, lang)
        top = profile.sort_values(["rank", "code_id"], kind="mergesort")["code_id"].astype(str).head(QUOTE_CODES)
        negated = quotes["negated"].fillna(False).astype(bool)
        for code in top:
            mine = quotes[(quotes["code_id"].astype(str) == code) & ~negated & quotes["quote"].notna()]
            mine = mine.sort_values("quote_no", kind="mergesort").head(QUOTES_PER_CODE)
            items = [
                {
                    "text": redact(str(rec["quote"]))[0],
                    "source": t("interview", lang, id=rec["interview_id"]) if present(rec.get("interview_id")) else "",
                }
                for rec in mine.to_dict("records")
            ]
            if items:
                groups.append({"label": labels.get(code, code), "code_id": code, "quotes": items})
    return {"groups": groups}


def section(demand_profile: pd.DataFrame, reliability: pd.DataFrame | None, quotes: pd.DataFrame | None, lang: str):
    """Study 1's part of the template context (``profile``, ``reliability``, ``quotes``)."""
    return {
        "profile": profile_section(demand_profile, lang),
        "reliability": reliability_section(reliability, demand_profile, lang),
        "quotes": quotes_section(quotes, demand_profile, lang),
    }
