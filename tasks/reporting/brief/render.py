"""Render the seminar brief (underlag för återföringsseminarium) as one self-contained HTML page.

:func:`render_brief` turns a :class:`~insats.tasks.reporting.brief.content.BriefContent` into HTML with inline CSS
and PNG figures embedded as base64 data URIs: no external links, no JavaScript, UTF-8, all data escaped by
Jinja2 autoescaping. Each study's part is built by its own module; every table passes disclosure control
(:func:`insats.tasks.disclosure.protect_for_publication`, threshold ``content.disclosure_threshold``) in its
section before anything is formatted. A hidden count is shown as ``<T`` (1..T-1 persons), figures computed
from it as an en dash, and they are left out of the figures; the appendix explains the notation.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from insats.tasks.disclosure import disclosure_rule_text
from insats.tasks.reporting.brief import (
    changes,
    employer_interviews,
    intervention_mapping,
    outcome_evaluation,
    participant_flow,
    provenance,
    runs,
)
from insats.tasks.reporting.brief.content import BriefContent
from insats.tasks.reporting.i18n import (
    check_lang,
    column_label,
    format_datetime,
    format_int,
    hidden_mark,
    t,
    t_html,
)

TEMPLATE_DIR = Path(__file__).resolve().parent.parent / "templates"
TEMPLATE_NAME = "brief.html.j2"
# Fixed texts the template shows (study2_text is formatted with min_participants).
TEMPLATE_TEXTS: tuple[str, ...] = (
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
    "event_study_heading",
    "event_study_text",
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
    "table_not_available",
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


def _environment() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(TEMPLATE_DIR), encoding="utf-8"),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _study_name(study: str, lang: str) -> str:
    return t(f"study_{study}", lang)


def _studies(content: BriefContent, threshold: int, lang: str) -> dict[str, Any]:
    """The three studies' parts of the context; a study without validated outputs gets only its
    "not yet available" line (``missing``), a missing core table inside an available study is None."""
    out: dict[str, Any] = {"missing": {}}
    for key, study in (("study1", "employer_interviews"), ("study2", "intervention_mapping")):
        out["missing"][key] = (
            None if content.available(study) else t("not_available", lang, study=_study_name(study, lang))
        )
    out["missing"]["study3"] = (
        None
        if content.available("outcome_evaluation")
        else t("not_available", lang, study=_study_name("outcome_evaluation", lang))
    )
    profile = content.demand_profile
    study1 = (
        employer_interviews.section(profile, content.reliability, content.quotes, lang)
        if profile is not None
        else {"profile": None, "reliability": None, "quotes": None}
    )
    out.update(study1)
    out["alignment"] = (
        intervention_mapping.alignment_section(content.alignment, profile, lang)
        if content.alignment is not None
        else None
    )
    out["candidates"] = (
        intervention_mapping.candidates_section(content.candidates, threshold, lang)
        if content.candidates is not None
        else None
    )
    out["coverage_gaps"] = intervention_mapping.coverage_gaps_section(content.coverage_gaps, lang)
    out["evidence"] = intervention_mapping.evidence_section(content.evidence, lang)
    effects = content.effects
    out["effects"] = outcome_evaluation.effects_section(effects, threshold, lang) if effects is not None else None
    treated = outcome_evaluation.treated_by_intervention(effects)
    out["balance"] = (
        outcome_evaluation.balance_section(content.balance, treated, threshold, lang)
        if content.balance is not None
        else None
    )
    out["event_study"] = (
        outcome_evaluation.event_study_section(content.event_study, threshold, lang)
        if content.event_study is not None
        else None
    )
    return out


def render_brief(content: BriefContent, lang: str = "en") -> str:
    """Render the seminar brief as one self-contained HTML page (str) in ``lang`` ("en" or "sv").

    Sections: what changed since the previous brief, study 1 (demand profile, reliability, quotes), study 2
    (alignment, coverage gaps, evidence, evaluation candidates), study 3 (effects, balance), the participant
    flow (only when ``goal_attainment`` or ``enrolment`` is given), validation status and open failures, the
    quarter's run history, and a provenance appendix with the disclosure rule. A study whose tables are all
    None renders a "not yet available" line and is named in the header; an empty table renders "no data";
    a non-empty table lacking required columns raises ValueError naming the table, as does an unknown language.
    """
    check_lang(lang)
    threshold = int(content.disclosure_threshold)
    history = content.history if content.history is not None else pd.DataFrame()
    failures = runs.failures_section(history, lang)
    missing = content.missing_studies()
    context = {
        "lang": lang,
        "title": t("title", lang, quarter=content.quarter),
        "generated": t("generated", lang, when=format_datetime(content.generated_at, lang)),
        "intro": t_html("intro", lang),
        "missing_studies": t("missing_studies", lang, studies="; ".join(_study_name(s, lang) for s in missing))
        if missing
        else None,
        "texts": {
            key: t_html(key, lang, min_participants=format_int(content.min_participants, lang))
            if key == "study2_text"
            else t_html(key, lang)
            for key in TEMPLATE_TEXTS
        },
        "col_input": column_label("input", lang),
        "col_sha": column_label("sha256", lang),
        **_studies(content, threshold, lang),
        "participant_flow": participant_flow.section(content.goal_attainment, content.enrolment, threshold, lang),
        "changes": changes.section(content.previous_quarter, content.changes, content.effects, threshold, lang),
        "validation": runs.validation_section(content.validation, failures, lang),
        "failure_alert": t("open_failures_alert", lang, n=format_int(len(failures["rows"]), lang))
        if failures["rows"]
        else None,
        "history": runs.history_section(history, lang),
        "provenance": provenance.section(content.manifests, lang),
        "disclosure_rule": disclosure_rule_text(lang, threshold),
        "notation": t("notation", lang, mark=hidden_mark(lang), max_hidden=threshold - 1),
    }
    return _environment().get_template(TEMPLATE_NAME).render(**context).lstrip()
