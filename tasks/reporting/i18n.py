"""English and Swedish texts and number/date formatting for the seminar brief and its figures.

Swedish conventions: decimal comma, narrow no-break space (U+202F) as thousands separator (``12 345,6``),
a space before the percent sign (``12,5 %``), dates as ``23 november 2025`` and times as ``kl. 12.50``;
confidence intervals are written ``[0,05; 0,21]`` because the comma is the decimal sign.
Missing values (including suppressed cells) are written with an en dash unless the caller says otherwise.
All functions are pure; unknown languages raise ValueError.
"""

from __future__ import annotations

import math
import re
from datetime import date, datetime
from typing import Any

import pandas as pd
from markupsafe import Markup, escape

LANGUAGES: tuple[str, ...] = ("en", "sv")
THOUSANDS_SEP_SV = "\u202f"  # narrow no-break space
MISSING = "–"
_EMPHASIS = re.compile(r"\*([^*]+)\*")

_MONTHS = {
    "en": (
        "January",
        "February",
        "March",
        "April",
        "May",
        "June",
        "July",
        "August",
        "September",
        "October",
        "November",
        "December",
    ),
    "sv": (
        "januari",
        "februari",
        "mars",
        "april",
        "maj",
        "juni",
        "juli",
        "augusti",
        "september",
        "oktober",
        "november",
        "december",
    ),
}


def check_lang(lang: str) -> str:
    """Return ``lang`` if supported, else raise ValueError listing the supported languages."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    return lang


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


def format_number(value: Any, lang: str, decimals: int = 2, missing: str = MISSING) -> str:
    """Format a number with ``decimals`` decimals and thousands separators in the language's style."""
    check_lang(lang)
    if _missing(value):
        return missing
    x = float(value)
    if math.isinf(x):
        return "∞" if x > 0 else "-∞"
    s = f"{x:,.{decimals}f}"
    if s.startswith("-") and float(s.replace(",", "")) == 0:
        s = s[1:]  # no "-0.00"
    if lang == "sv":
        s = s.replace(",", THOUSANDS_SEP_SV).replace(".", ",")
    return s


def format_int(value: Any, lang: str, missing: str = MISSING) -> str:
    """Format a whole number with thousands separators (``12,345`` / ``12 345``)."""
    return format_number(value, lang, decimals=0, missing=missing)


def format_percent(share: Any, lang: str, decimals: int = 1, missing: str = MISSING) -> str:
    """Format a share 0..1 as a percentage: ``12.5%`` (en) / ``12,5 %`` (sv)."""
    if _missing(share):
        check_lang(lang)
        return missing
    num = format_number(float(share) * 100, lang, decimals)
    return f"{num}\u00a0%" if lang == "sv" else f"{num}%"


def format_pvalue(p: Any, lang: str, missing: str = MISSING) -> str:
    """Format a p-value with 3 decimals, small values as ``<0.001`` / ``<0,001``."""
    if _missing(p):
        check_lang(lang)
        return missing
    if float(p) < 0.001:
        return "<" + format_number(0.001, lang, 3)
    return format_number(p, lang, 3)


def format_ci(low: Any, high: Any, lang: str, decimals: int = 3, missing: str = MISSING) -> str:
    """Format a confidence interval: ``[0.050, 0.210]`` (en) / ``[0,050; 0,210]`` (sv)."""
    check_lang(lang)
    if _missing(low) or _missing(high):
        return missing
    sep = "; " if lang == "sv" else ", "
    return f"[{format_number(low, lang, decimals)}{sep}{format_number(high, lang, decimals)}]"


def format_date(value: Any, lang: str, missing: str = MISSING) -> str:
    """Long date: ``23 November 2025`` (en) / ``23 november 2025`` (sv)."""
    check_lang(lang)
    if _missing(value):
        return missing
    ts = pd.Timestamp(value)
    return f"{ts.day} {_MONTHS[lang][ts.month - 1]} {ts.year}"


def format_datetime(value: datetime | date | pd.Timestamp | str, lang: str, missing: str = MISSING) -> str:
    """Long date and time: ``23 November 2025, 12:50`` (en) / ``23 november 2025 kl. 12.50`` (sv), with the
    UTC offset appended when the value is time-zone aware."""
    check_lang(lang)
    if _missing(value):
        return missing
    ts = pd.Timestamp(value)
    tz = ""
    if ts.tzinfo is not None:
        tz = " " + (ts.strftime("%Z") if ts.strftime("%Z") in ("UTC", "CET", "CEST") else ts.strftime("%z"))
    if lang == "sv":
        return f"{format_date(ts, lang)} kl. {ts.hour:02d}.{ts.minute:02d}{tz}"
    return f"{format_date(ts, lang)}, {ts.hour:02d}:{ts.minute:02d}{tz}"


def format_timestamp(value: Any, missing: str = MISSING) -> str:
    """Compact ISO 8601 timestamp ``2025-11-23 12:50`` (same in both languages; ISO is standard in Sweden)."""
    if _missing(value):
        return missing
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")


# ------------------------------------------------------------------------------------------------ terms

METHOD_FAMILY_LABELS: dict[str, dict[str, str]] = {
    "supported_employment": {"en": "Supported Employment (IPS)", "sv": "Supported Employment (IPS)"},
    "coordinator": {"en": "Coordinator", "sv": "Samverkanskoordinator"},
    "joint_assessment": {"en": "Joint assessment team", "sv": "Bedömningsteam"},
    "indicator_work": {"en": "Indicator work (BIP)", "sv": "Indikatorarbete (BIP)"},
    "work_practice": {"en": "Work practice", "sv": "Arbetsträning och praktik"},
    "subsidised_employment": {"en": "Subsidised employment", "sv": "Subventionerad anställning"},
    "education": {"en": "Education", "sv": "Utbildning"},
    "language_training": {"en": "Language training", "sv": "Språkutbildning"},
    "health_rehabilitation": {"en": "Health and rehabilitation", "sv": "Hälsa och rehabilitering"},
    "service_design": {"en": "Service design", "sv": "Tjänstedesign"},
    "boundary_worker": {"en": "Boundary worker", "sv": "Gränsgångare"},
    "other": {"en": "Other", "sv": "Övrigt"},
}

OUTCOME_LABELS: dict[str, dict[str, str]] = {
    "self_sufficient": {"en": "Self-sufficiency", "sv": "Egenförsörjning"},
    "employed": {"en": "Employment", "sv": "Sysselsättning"},
    "studying": {"en": "Studies", "sv": "Studier"},
    "on_assistance": {"en": "Receiving social assistance", "sv": "Försörjningsstöd"},
}

STATE_LABELS: dict[str, dict[str, str]] = {
    "COMPLETED": {"en": "Completed", "sv": "Slutförd"},
    "FAILED": {"en": "Failed", "sv": "Misslyckad"},
    "CRASHED": {"en": "Crashed", "sv": "Kraschad"},
    "CANCELLED": {"en": "Cancelled", "sv": "Avbruten"},
    "CANCELLING": {"en": "Cancelling", "sv": "Avbryts"},
    "RUNNING": {"en": "Running", "sv": "Pågår"},
    "PENDING": {"en": "Pending", "sv": "Väntar"},
    "SCHEDULED": {"en": "Scheduled", "sv": "Schemalagd"},
    "PAUSED": {"en": "Paused", "sv": "Pausad"},
    "CACHED": {"en": "Cached", "sv": "Från cache"},
}

COLUMN_LABELS: dict[str, dict[str, str]] = {
    "rank": {"en": "Rank", "sv": "Rang"},
    "code_id": {"en": "Code", "sv": "Kod"},
    "label": {"en": "Competency", "sv": "Kompetens"},
    "n_employers": {"en": "Employers", "sv": "Arbetsgivare"},
    "share_employers": {"en": "Share of employers", "sv": "Andel arbetsgivare"},
    "intervention_id": {"en": "Intervention", "sv": "Insats"},
    "name": {"en": "Name", "sv": "Namn"},
    "method_family": {"en": "Method family", "sv": "Metodfamilj"},
    "alignment_score": {"en": "Alignment", "sv": "Matchning"},
    "matched_competencies": {"en": "Matched competencies", "sv": "Matchade kompetenser"},
    "n_participants": {"en": "Participants", "sv": "Deltagare"},
    "eligible": {"en": "Eligible", "sv": "Utvärderingsbar"},
    "reason": {"en": "Reason", "sv": "Motivering"},
    "outcome": {"en": "Outcome", "sv": "Utfall"},
    "horizon_months": {"en": "Horizon (months)", "sv": "Horisont (mån)"},
    "estimator": {"en": "Estimator", "sv": "Skattningsmetod"},
    "att": {"en": "Effect (ATT)", "sv": "Effekt (ATT)"},
    "ci": {"en": "95% CI", "sv": "95 % konfidensintervall"},
    "p_value": {"en": "p-value", "sv": "p-värde"},
    "n_treated": {"en": "Treated", "sv": "Deltagare (behandlade)"},
    "n_controls": {"en": "Controls", "sv": "Kontroller"},
    "n_treated_unmatched": {"en": "Treated without match", "sv": "Deltagare utan matchning"},
    "n_covariates": {"en": "Covariates", "sv": "Kovariater"},
    "max_smd_before": {"en": "Max |SMD| before", "sv": "Max |SMD| före"},
    "max_smd_after": {"en": "Max |SMD| after", "sv": "Max |SMD| efter"},
    "n_imbalanced_after": {"en": "|SMD| ≥ 0.1 after", "sv": "|SMD| ≥ 0,1 efter"},
    "flow_run_name": {"en": "Flow run", "sv": "Körning"},
    "study": {"en": "Study", "sv": "Studie"},
    "state": {"en": "State", "sv": "Status"},
    "start_time": {"en": "Start", "sv": "Start"},
    "duration_seconds": {"en": "Duration (s)", "sv": "Tid (s)"},
    "config_hash": {"en": "Config hash", "sv": "Konfigurationshash"},
    "failure_reason": {"en": "Failure reason", "sv": "Orsak till fel"},
    "input": {"en": "Input", "sv": "Indata"},
    "sha256": {"en": "SHA-256 (short)", "sv": "SHA-256 (kort)"},
    "code_version": {"en": "Code version", "sv": "Kodversion"},
    "flow_run_id": {"en": "Flow run id", "sv": "Körnings-id"},
    "target": {"en": "Target", "sv": "Mål"},
    "project": {"en": "Project", "sv": "Projekt"},
    "measure": {"en": "Measure", "sv": "Mått"},
    "value": {"en": "Value", "sv": "Värde"},
    "basis": {"en": "Basis (N)", "sv": "Underlag (N)"},
    "threshold": {"en": "Target level", "sv": "Målnivå"},
    "judgement": {"en": "Judgement", "sv": "Bedömning"},
}

JUDGEMENT_LABELS: dict[str, dict[str, str]] = {
    "met": {"en": "Met", "sv": "Uppfyllt"},
    "partly_met": {"en": "Partly met", "sv": "Delvis uppfyllt"},
    "not_met": {"en": "Not met", "sv": "Inte uppfyllt"},
    "not_assessable": {"en": "Not assessable", "sv": "Kan inte bedömas"},
}

TEXTS: dict[str, dict[str, str]] = {
    "title": {"en": "Seminar brief {quarter}", "sv": "Underlag för återföringsseminarium {quarter}"},
    "generated": {"en": "Generated {when}", "sv": "Skapat {when}"},
    "intro": {
        "en": (
            "Results so far from the three studies of interventions (*insatser*) for people receiving social "
            "assistance (*försörjningsstöd*), for the quarterly feedback seminar (*återföringsseminarium*)."
        ),
        "sv": (
            "Resultat hittills från projektets tre delstudier om insatser för personer med försörjningsstöd, "
            "som underlag för kvartalets återföringsseminarium."
        ),
    },
    "study1": {"en": "Study 1 – Employers' demand", "sv": "Delstudie 1 – Arbetsgivarnas efterfrågan"},
    "study1_text": {
        "en": "Share of interviewed employers who asked for each competency (coded employer interviews).",
        "sv": ("Andel av de intervjuade arbetsgivarna som efterfrågar respektive kompetens (kodade intervjuer)."),
    },
    "study2": {"en": "Study 2 – Intervention mapping", "sv": "Delstudie 2 – Kartläggning av insatser"},
    "study2_text": {
        "en": (
            "Alignment (*matchning*) = share of total employer demand covered by the competencies an "
            "intervention (*insats*) addresses (0–1). An intervention is eligible for evaluation when the "
            "register holds at least {min_participants} participants."
        ),
        "sv": (
            "Matchning = andel av arbetsgivarnas totala efterfrågan som täcks av de kompetenser insatsen "
            "arbetar med (0–1). En insats är utvärderingsbar när registret har minst {min_participants} "
            "deltagare."
        ),
    },
    "alignment_heading": {
        "en": "Alignment with employers' demand",
        "sv": "Matchning mot arbetsgivarnas efterfrågan",
    },
    "candidates_heading": {"en": "Evaluation candidates", "sv": "Kandidater för utvärdering"},
    "study3": {"en": "Study 3 – Outcome evaluation", "sv": "Delstudie 3 – Effektutvärdering"},
    "study3_text": {
        "en": (
            "Average effect on the treated (ATT) with 95% confidence intervals, from propensity-score "
            "matching (*matchning*) on register data. Self-sufficiency (*egenförsörjning*) = no social "
            "assistance in the last months up to the horizon."
        ),
        "sv": (
            "Genomsnittlig effekt för deltagarna (ATT) med 95 % konfidensintervall, skattad med matchning på "
            "benägenhetspoäng i registerdata. Egenförsörjning = inget försörjningsstöd de sista månaderna "
            "fram till horisonten."
        ),
    },
    "effects_heading": {"en": "Effect estimates", "sv": "Effektskattningar"},
    "balance_heading": {"en": "Covariate balance", "sv": "Balans i bakgrundsvariabler"},
    "balance_text": {
        "en": "Standardised mean differences (SMD) before and after matching; |SMD| below 0.1 is the target.",
        "sv": "Standardiserade medelvärdesskillnader (SMD) före och efter matchning; målet är |SMD| < 0,1.",
    },
    "participant_flow": {
        "en": "Participant flow and goal attainment",
        "sv": "Deltagarflöde och måluppfyllelse",
    },
    "participant_flow_text": {
        "en": (
            "The projects' targets with the measured value, its basis (for a share: persons with the outcome / "
            "participants, or participants who have left, it is a share of) and the judgement."
        ),
        "sv": (
            "Projektens mål med uppmätt värde, underlag (för en andel: personer med utfallet / deltagare, "
            "eller avslutade deltagare, som andelen avser) och bedömning."
        ),
    },
    "goals_heading": {"en": "Goal attainment", "sv": "Måluppfyllelse"},
    "enrolment_heading": {"en": "Enrolment per month", "sv": "Inskrivna deltagare per månad"},
    "all_projects": {"en": "All projects", "sv": "Alla projekt"},
    "months_below": {
        "en": "below target in {below} of {months} months (lowest in {lowest})",
        "sv": "under målet {below} av {months} månader (lägst {lowest})",
    },
    "no_months": {"en": "no months in the period", "sv": "inga månader i perioden"},
    "figure_alt_enrolment": {
        "en": "Line chart of participants enrolled per month against the enrolment target",
        "sv": "Linjediagram över inskrivna deltagare per månad mot målet",
    },
    "history": {"en": "Run history of the quarter", "sv": "Körningar under kvartalet"},
    "appendix": {"en": "Appendix: provenance", "sv": "Bilaga: spårbarhet"},
    "appendix_text": {
        "en": "Inputs (with the start of their SHA-256 checksum), configuration hash, code version and flow "
        "run of each study's latest result.",
        "sv": "Indata (med början av kontrollsumman SHA-256), konfigurationshash, kodversion och körning för "
        "varje delstudies senaste resultat.",
    },
    "disclosure": {"en": "Disclosure control", "sv": "Röjandekontroll"},
    "notation": {
        "en": 'In count columns, "{mark}" means 1–{max_hidden} persons; an en dash (–) marks a missing or '
        "suppressed value.",
        "sv": 'I kolumner med antal betyder "{mark}" 1–{max_hidden} personer; tankstreck (–) markerar ett '
        "saknat eller undertryckt värde.",
    },
    "no_data": {"en": "No data for this quarter.", "sv": "Inga uppgifter för kvartalet."},
    "no_manifest": {"en": "No manifest recorded.", "sv": "Inget manifest registrerat."},
    "yes": {"en": "Yes", "sv": "Ja"},
    "no": {"en": "No", "sv": "Nej"},
    "reason_eligible": {
        "en": "Enough participants in the register ({n} ≥ {min})",
        "sv": "Tillräckligt många deltagare i registret ({n} ≥ {min})",
    },
    "reason_too_few": {
        "en": "Too few participants in the register ({n} < {min})",
        "sv": "För få deltagare i registret ({n} < {min})",
    },
    "reason_suppressed": {
        "en": "Too few participants in the register (fewer than {threshold})",
        "sv": "För få deltagare i registret (färre än {threshold})",
    },
    "reason_none": {
        "en": "No participants in the register (0 < {min})",
        "sv": "Inga deltagare i registret (0 < {min})",
    },
    "figure_demand_title": {"en": "Employers' demand", "sv": "Arbetsgivarnas efterfrågan"},
    "figure_demand_x": {"en": "Share of employers (%)", "sv": "Andel arbetsgivare (%)"},
    "figure_alignment_title": {
        "en": "Alignment with employers' demand",
        "sv": "Insatsernas matchning mot efterfrågan",
    },
    "figure_alignment_x": {"en": "Alignment score (0–1)", "sv": "Matchning (0–1)"},
    "figure_effect_title": {
        "en": "Effect on the treated (ATT) with 95% CI",
        "sv": "Effekt (ATT) med 95 % KI",
    },
    "figure_effect_x": {"en": "ATT (difference in share)", "sv": "ATT (skillnad i andel)"},
    "figure_balance_title": {"en": "Covariate balance (Love plot)", "sv": "Balans i bakgrundsvariabler"},
    "figure_balance_x": {
        "en": "|Standardised mean difference|",
        "sv": "|Standardiserad medelvärdesskillnad|",
    },
    "before": {"en": "Before matching", "sv": "Före matchning"},
    "after": {"en": "After matching", "sv": "Efter matchning"},
    "months_short": {"en": "mo", "sv": "mån"},
    "figure_alt_demand": {"en": "Bar chart of employers' demand", "sv": "Stapeldiagram över efterfrågan"},
    "figure_alt_alignment": {"en": "Bar chart of alignment scores", "sv": "Stapeldiagram över matchning"},
    "figure_alt_effect": {
        "en": "Effect estimates with confidence intervals",
        "sv": "Effekter med konfidensintervall",
    },
    "figure_alt_balance": {"en": "Love plot of covariate balance", "sv": "Balansdiagram (Love plot)"},
}


def t(key: str, lang: str, **fmt: Any) -> str:
    """Plain text ``key`` in ``lang``, formatted with ``fmt`` (``*term*`` emphasis marks removed).

    Raises KeyError for an unknown key."""
    text = TEXTS[key][check_lang(lang)]
    text = text.format(**fmt) if fmt else text
    return _EMPHASIS.sub(r"\1", text)


def t_html(key: str, lang: str, **fmt: Any) -> Markup:
    """Text ``key`` as HTML: escaped, with ``*term*`` (used for Swedish terms in English text) in <em>.

    Only the fixed texts of this module are marked up; format arguments are escaped too."""
    text = TEXTS[key][check_lang(lang)]
    escaped = str(escape(text))
    if fmt:
        escaped = escaped.format(**{k: escape(v) for k, v in fmt.items()})
    return Markup(_EMPHASIS.sub(r"<em>\1</em>", escaped))


def _label(table: dict[str, dict[str, str]], code: Any, lang: str) -> str:
    check_lang(lang)
    if _missing(code):
        return MISSING
    entry = table.get(str(code)) or table.get(str(code).upper())
    return entry[lang] if entry else str(code)


def method_family_label(code: Any, lang: str) -> str:
    """Readable method family (unknown codes are returned as given)."""
    return _label(METHOD_FAMILY_LABELS, code, lang)


def outcome_label(code: Any, lang: str) -> str:
    """Readable outcome name, e.g. self_sufficient -> Egenförsörjning (unknown codes as given)."""
    return _label(OUTCOME_LABELS, code, lang)


def state_label(code: Any, lang: str) -> str:
    """Readable Prefect state name, e.g. COMPLETED -> Slutförd (unknown states as given)."""
    return _label(STATE_LABELS, code, lang)


def column_label(column: str, lang: str) -> str:
    """Table header for a column name (unknown columns as given)."""
    return _label(COLUMN_LABELS, column, lang)


def judgement_label(code: Any, lang: str) -> str:
    """Goal judgement in words: met / partly_met / not_met / not_assessable -> "Partly met" / "Delvis
    uppfyllt" etc. (unknown codes as given)."""
    return _label(JUDGEMENT_LABELS, code, lang)
