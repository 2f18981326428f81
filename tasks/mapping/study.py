"""Study 2's steps that combine several modules, as plain functions the intervention-mapping flow wires.

Each reads at most the raw input it is given (inventory, reference exports, survey) and returns tables
(DataFrames) or a PNG (bytes); the flow passes earlier results as loaded DataFrames. Nothing here writes files.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from insats.config import InterventionMapping
from insats.tasks.interviews.codebook import load_codebook
from insats.tasks.mapping.candidates import CandidateRules
from insats.tasks.mapping.deduplication import deduplicate
from insats.tasks.mapping.figures import timeline_figure
from insats.tasks.mapping.inventory import check_inventory, read_inventory
from insats.tasks.mapping.references import read_references
from insats.tasks.mapping.survey import code_comments, comment_themes, read_survey, tool_usage
from insats.validation import gate


def checked_inventory(inventory: Path, demand_profile: pd.DataFrame) -> pd.DataFrame:
    """Read the inventory file (CSV/XLSX), gate it against ``input.inventory`` and check it
    (:func:`insats.tasks.mapping.inventory.check_inventory`); every competency id must be a ``code_id`` of
    study 1's ``demand_profile``. Raises GateError / ValueError naming the file, rows and columns."""
    raw = read_inventory(inventory)
    gate(raw, "input.inventory", table=str(inventory))
    known = set(demand_profile["code_id"])
    return check_inventory(raw, source=str(inventory), known_codes=known)


def review_references(references: list[Path]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read the literature exports (RIS / BibTeX / CSV, in this order) and remove duplicates (DOI, then
    title + year + first author): (unique references, merge report)."""
    return deduplicate(read_references(references))


def tool_usage_table(survey: Path, tools: list[str]) -> pd.DataFrame:
    """Usage and usefulness by tool and purpose from the assessment-tool survey (``tools``: allowed codes)."""
    return tool_usage(read_survey(survey, tuple(tools)))


def survey_comment_themes(survey: Path, codebook: Path, tools: list[str]) -> pd.DataFrame:
    """The survey's open comments coded with study 1's coder and ``codebook`` (YAML or .qdc), counted per
    theme (:func:`insats.tasks.mapping.survey.comment_themes`)."""
    answers = read_survey(survey, tuple(tools))
    book = load_codebook(codebook)
    return comment_themes(code_comments(answers, book), answers, book)


def candidate_rules(cfg: InterventionMapping) -> CandidateRules:
    """The candidate rules the config's ``intervention_mapping`` section states."""
    return CandidateRules(
        min_participants=cfg.min_participants,
        min_comparison=cfg.min_comparison,
        max_mde=cfg.max_mde,
        support=cfg.candidate_support,
        min_alignment=cfg.min_alignment,
        min_positive_studies=cfg.min_positive_studies,
        alpha=cfg.alpha,
        power=cfg.power,
    )


def timeline_png(inventory: pd.DataFrame, last_month: str) -> bytes:
    """The inventory timeline (PNG) as of the last day of ``last_month`` (YYYY-MM, the register period's end)."""
    as_of = pd.Period(last_month, freq="M").end_time.normalize()
    return timeline_figure(inventory, as_of)
