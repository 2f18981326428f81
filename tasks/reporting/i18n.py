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
    "share_ci": {"en": "95% CI", "sv": "95 % konfidensintervall"},
    "status": {"en": "Status", "sv": "Status"},
    "sha256_before": {"en": "SHA-256 before", "sv": "SHA-256 förut"},
    "sha256_now": {"en": "SHA-256 now", "sv": "SHA-256 nu"},
    "table": {"en": "Table", "sv": "Tabell"},
    "rows_before": {"en": "Rows before", "sv": "Rader förut"},
    "rows_now": {"en": "Rows now", "sv": "Rader nu"},
    "att_before": {"en": "ATT before", "sv": "ATT förut"},
    "ci_before": {"en": "95% CI before", "sv": "95 % KI förut"},
    "att_now": {"en": "ATT now", "sv": "ATT nu"},
    "ci_now": {"en": "95% CI now", "sv": "95 % KI nu"},
    "change": {"en": "Change", "sv": "Förändring"},
    "ci_overlap": {"en": "CIs overlap", "sv": "KI överlappar"},
    "runs": {"en": "Runs", "sv": "Körningar"},
    "item": {"en": "Input or table", "sv": "Indata eller tabell"},
    "kind": {"en": "Kind", "sv": "Typ"},
    "suite": {"en": "Validation suite", "sv": "Valideringsregler"},
    "rows": {"en": "Rows", "sv": "Rader"},
    "resolved": {"en": "Later run completed", "sv": "Senare körning slutförd"},
    "coder_a": {"en": "Coder A", "sv": "Kodare A"},
    "coder_b": {"en": "Coder B", "sv": "Kodare B"},
    "n_segments": {"en": "Segments", "sv": "Segment"},
    "agreement": {"en": "Agreement", "sv": "Överensstämmelse"},
    "kappa": {"en": "Cohen's κ", "sv": "Cohens κ"},
    "kappa_ci": {"en": "κ 95% CI", "sv": "κ 95 % KI"},
    "alpha": {"en": "Krippendorff's α", "sv": "Krippendorffs α"},
    "alpha_ci": {"en": "α 95% CI", "sv": "α 95 % KI"},
    "addressed_by_not_ongoing": {
        "en": "Addressed only by ended interventions",
        "sv": "Bara i avslutade insatser",
    },
    "n_studies": {"en": "Studies", "sv": "Studier"},
    "n_rct": {"en": "RCTs", "sv": "RCT"},
    "designs": {"en": "Designs", "sv": "Studiedesign"},
    "n_positive": {"en": "Positive", "sv": "Positiva"},
    "n_null": {"en": "No effect", "sv": "Ingen effekt"},
    "n_negative": {"en": "Negative", "sv": "Negativa"},
    "n_mixed": {"en": "Mixed", "sv": "Blandade"},
    "share_positive": {"en": "Share positive", "sv": "Andel positiva"},
    "countries": {"en": "Countries", "sv": "Länder"},
    "n_starters": {"en": "Starters", "sv": "Påbörjade deltagare"},
    "n_comparison": {"en": "Comparison persons", "sv": "Jämförelsepersoner"},
    "base_rate": {"en": "Base rate", "sv": "Basnivå"},
    "mde": {"en": "MDE (percentage points)", "sv": "MDE (procentenheter)"},
}

STATUS_LABELS: dict[str, dict[str, str]] = {
    "new": {"en": "New", "sv": "Ny"},
    "changed": {"en": "Changed", "sv": "Ändrad"},
    "unchanged": {"en": "Unchanged", "sv": "Oförändrad"},
    "removed": {"en": "Removed", "sv": "Borttagen"},
    "passed": {"en": "Passed", "sv": "Godkänd"},
    "failed": {"en": "Failed", "sv": "Underkänd"},
    "input": {"en": "Input", "sv": "Indata"},
    "output": {"en": "Published table", "sv": "Publicerad tabell"},
}

DESIGN_LABELS: dict[str, dict[str, str]] = {
    "rct": {"en": "RCT", "sv": "RCT"},
    "quasi_experimental": {"en": "quasi-experimental", "sv": "kvasiexperimentell"},
    "observational": {"en": "observational", "sv": "observationsstudie"},
    "qualitative": {"en": "qualitative", "sv": "kvalitativ"},
    "systematic_review": {"en": "systematic review", "sv": "systematisk översikt"},
    "other": {"en": "other", "sv": "övrig"},
}

COUNTRY_LABELS_SV: dict[str, str] = {
    "Denmark": "Danmark",
    "Finland": "Finland",
    "Norway": "Norge",
    "Sweden": "Sverige",
    "Netherlands": "Nederländerna",
    "Germany": "Tyskland",
    "United Kingdom": "Storbritannien",
    "UK": "Storbritannien",
    "USA": "USA",
    "Canada": "Kanada",
    "Australia": "Australien",
    "Iceland": "Island",
    "Switzerland": "Schweiz",
    "Belgium": "Belgien",
    "France": "Frankrike",
}

# The published candidate reasons are English sentences (insats.tasks.mapping.candidates); these phrases turn them
# into Swedish, longest first. Anything not listed stays in English.
REASON_PHRASES_SV: tuple[tuple[str, str], ...] = (
    ("Not chosen: ", "Inte vald: "),
    ("Chosen: ", "Vald: "),
    ("too few starters in the register", "för få deltagare som påbörjat insatsen i registret"),
    ("too few eligible comparison persons", "för få jämförelsepersoner"),
    ("minimum detectable effect too large", "minsta detekterbara effekt för stor"),
    ("minimum detectable effect", "minsta detekterbara effekt"),
    ("not estimable", "kan inte skattas"),
    ("not supported by the evidence or employers' demand", "saknar stöd i forskningen och i efterfrågan"),
    ("positive stud(ies) of the method family", "positiva studier av metodfamiljen"),
    ("positive stud(ies)", "positiva studier"),
    (" starters and ", " deltagare som påbörjat insatsen och "),
    ("comparison persons in the register", "jämförelsepersoner i registret"),
    ("Enough participants in the register", "Tillräckligt många deltagare i registret"),
    ("Too few participants in the register", "För få deltagare i registret"),
    ("No participants in the register", "Inga deltagare i registret"),
    ("alignment score", "matchning"),
    ("alignment", "matchning"),
    ("; need ", "; krav: "),
    (" or ", " eller "),
    (" pp", " procentenheter"),
    (">=", "≥"),
    ("<=", "≤"),
)

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
            "intervention (*insats*) addresses (0–1). Interventions are chosen for evaluation by the rules in the "
            "configuration (at least {min_participants} starters in the register, enough comparison persons, a "
            "small enough minimum detectable effect (MDE) and, where required, support from research or "
            "employers' demand); the reason names every rule."
        ),
        "sv": (
            "Matchning = andel av arbetsgivarnas totala efterfrågan som täcks av de kompetenser insatsen "
            "arbetar med (0–1). Insatser väljs för utvärdering enligt reglerna i konfigurationen (minst "
            "{min_participants} deltagare som påbörjat insatsen i registret, tillräckligt många "
            "jämförelsepersoner, tillräckligt liten minsta detekterbara effekt (MDE) och vid behov stöd i "
            "forskningen eller i arbetsgivarnas efterfrågan); motiveringen nämner varje regel."
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
    "figure_alt_heatmap": {
        "en": "Heatmap of each intervention's competencies against employers' demand",
        "sv": "Värmekarta över insatsernas kompetenser mot arbetsgivarnas efterfrågan",
    },
    "heatmap_caption": {
        "en": "Darker cell: the intervention addresses a competency that more employers demand (share of "
        "employers); blank: not addressed.",
        "sv": "Mörkare ruta: insatsen arbetar med en kompetens som fler arbetsgivare efterfrågar (andel "
        "arbetsgivare); tom ruta: kompetensen ingår inte i insatsen. Figurens etiketter är på engelska.",
    },
    "changes": {"en": "What changed since {previous}", "sv": "Förändringar sedan {previous}"},
    "changes_first_heading": {"en": "What changed", "sv": "Förändringar"},
    "changes_first": {
        "en": "This is the first brief: there is no earlier brief to compare with.",
        "sv": "Detta är det första underlaget: det finns inget tidigare underlag att jämföra med.",
    },
    "changes_missing": {
        "en": "No comparison with the previous brief is available.",
        "sv": "Ingen jämförelse med föregående underlag finns.",
    },
    "changes_inputs": {"en": "New, changed and removed inputs", "sv": "Nya, ändrade och borttagna indata"},
    "changes_inputs_none": {
        "en": "No input is new, changed or removed.",
        "sv": "Inga indata är nya, ändrade eller borttagna.",
    },
    "changes_unchanged": {"en": "{n} input(s) unchanged.", "sv": "{n} indatafil(er) oförändrade."},
    "changes_tables": {
        "en": "Published tables with changed row counts",
        "sv": "Publicerade tabeller med ändrat antal rader",
    },
    "changes_tables_none": {
        "en": "No published table changed its number of rows.",
        "sv": "Ingen publicerad tabell har ändrat antal rader.",
    },
    "changes_estimates": {"en": "Effect estimates before and now", "sv": "Effektskattningar förut och nu"},
    "changes_estimates_text": {
        "en": "Estimates shown in both briefs; overlapping 95% CIs are a rough sign that the change is within "
        "sampling noise, not a test.",
        "sv": "Skattningar som finns i båda underlagen; överlappande 95 % konfidensintervall är ett grovt tecken "
        "på att förändringen ryms inom slumpvariationen, inte ett test.",
    },
    "changes_new_estimates": {
        "en": "New estimates this quarter: {items}.",
        "sv": "Nya skattningar detta kvartal: {items}.",
    },
    "changes_removed_estimates": {
        "en": "Estimates no longer reported: {items}.",
        "sv": "Skattningar som inte längre redovisas: {items}.",
    },
    "changes_other_estimates": {
        "en": "{n} further estimate(s) for other outcomes, horizons or estimators are in the published effects table.",
        "sv": "Ytterligare {n} skattning(ar) för andra utfall, horisonter eller skattningsmetoder finns i den "
        "publicerade effekttabellen.",
    },
    "changes_runs": {
        "en": "Runs this quarter by study and state",
        "sv": "Körningar detta kvartal per delstudie och status",
    },
    "validation": {"en": "Data validation status", "sv": "Validering av data"},
    "validation_text": {
        "en": "Every input the studies read and every table they published, with the validation suite it passed.",
        "sv": "Alla indata som delstudierna läst och alla tabeller de publicerat, med de valideringsregler de klarat.",
    },
    "validation_summary": {
        "en": "{n} item(s) checked: {passed} passed, {failed} failed.",
        "sv": "{n} poster kontrollerade: {passed} godkända, {failed} underkända.",
    },
    "open_failures": {"en": "Open failures", "sv": "Öppna fel"},
    "open_failures_text": {
        "en": "Failed runs of the quarter with their reasons.",
        "sv": "Misslyckade körningar under kvartalet och orsakerna.",
    },
    "open_failures_none": {"en": "No failed runs this quarter.", "sv": "Inga misslyckade körningar detta kvartal."},
    "open_failures_alert": {
        "en": "{n} failed run(s) this quarter – see Data validation status.",
        "sv": "{n} misslyckad(e) körning(ar) detta kvartal – se Validering av data.",
    },
    "reliability_heading": {"en": "Inter-coder reliability", "sv": "Samstämmighet mellan kodare"},
    "reliability_text": {
        "en": "Agreement between the two human coders {a} and {b} per code, on the segments both coded, with "
        "bootstrap 95% CIs over interviews. κ or α of 0.8 or more is usually taken as good.",
        "sv": "Samstämmighet mellan de två mänskliga kodarna {a} och {b} per kod, på segment som båda kodat, med "
        "bootstrap-konfidensintervall (95 %) över intervjuer. κ eller α på minst 0,8 brukar räknas som god.",
    },
    "reliability_pairs": {
        "en": "All codes pooled, for every pair of coders (auto = the automatic coding)",
        "sv": "Alla koder sammantagna, för varje par av kodare (auto = den automatiska kodningen)",
    },
    "reliability_no_pair": {
        "en": "No pair of human coders in the reliability table.",
        "sv": "Reliabilitetstabellen saknar ett par av mänskliga kodare.",
    },
    "all_codes": {"en": "All codes", "sv": "Alla koder"},
    "quotes_heading": {"en": "What employers say", "sv": "Vad arbetsgivarna säger"},
    "quotes_text": {
        "en": "Redacted quotes (in the original Swedish) for the most demanded competencies; statements "
        "that a competency is not required are left out.",
        "sv": "Avidentifierade citat för de mest efterfrågade kompetenserna; uttalanden om att en kompetens "
        "inte krävs är inte med.",
    },
    "interview": {"en": "interview {id}", "sv": "intervju {id}"},
    "coverage_gaps_heading": {"en": "Coverage gaps", "sv": "Luckor i utbudet"},
    "coverage_gaps_text": {
        "en": "Competencies employers demand that no current intervention addresses.",
        "sv": "Kompetenser som arbetsgivarna efterfrågar men som ingen pågående insats arbetar med.",
    },
    "none": {"en": "none", "sv": "ingen"},
    "evidence_heading": {"en": "Research evidence per method family", "sv": "Forskningsstöd per metodfamilj"},
    "evidence_text": {
        "en": "Included studies of the evidence review by method family, their designs and the direction of the "
        "effects they report.",
        "sv": "Inkluderade studier i forskningsöversikten per metodfamilj, deras design och riktningen på de "
        "effekter de redovisar.",
    },
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


def status_label(code: Any, lang: str) -> str:
    """Status or kind in words: new / changed / unchanged / removed / passed / failed / input / output."""
    return _label(STATUS_LABELS, code, lang)


def designs_label(value: Any, lang: str) -> str:
    """A "design n; design n" string with each design in words (unknown designs as given)."""
    if _missing(value) or not str(value).strip():
        return MISSING
    parts = []
    for item in str(value).split(";"):
        name, _, count = item.strip().rpartition(" ")
        if not name:
            name, count = count, ""
        entry = DESIGN_LABELS.get(name)
        parts.append(f"{entry[check_lang(lang)] if entry else name} {count}".strip())
    return "; ".join(parts)


def countries_label(value: Any, lang: str) -> str:
    """A "; "-separated list of English country names, in Swedish when ``lang`` is "sv"."""
    check_lang(lang)
    if _missing(value) or not str(value).strip():
        return MISSING
    names = [c.strip() for c in str(value).split(";") if c.strip()]
    return "; ".join(COUNTRY_LABELS_SV.get(c, c) if lang == "sv" else c for c in names)


def reason_text(reason: str, lang: str) -> str:
    """A published (English) candidate reason in ``lang``: Swedish phrases and decimal commas for "sv"."""
    if check_lang(lang) == "en":
        return reason
    for en, sv in REASON_PHRASES_SV:
        reason = reason.replace(en, sv)
    return re.sub(r"(?<=\d)\.(?=\d)", ",", reason)


def judgement_label(code: Any, lang: str) -> str:
    """Goal judgement in words: met / partly_met / not_met / not_assessable -> "Partly met" / "Delvis
    uppfyllt" etc. (unknown codes as given)."""
    return _label(JUDGEMENT_LABELS, code, lang)
