"""The quarterly seminar brief: :class:`BriefContent` in, one self-contained HTML page out (:func:`render_brief`).

One module per part: ``employer_interviews``, ``intervention_mapping``, ``outcome_evaluation``,
``participant_flow``, ``changes``, ``runs`` (history, failures, validation), ``provenance``; ``render`` puts them
into ``templates/brief.html.j2``; ``common`` holds the cell helpers.
"""

from insats.tasks.reporting.brief.content import MAIN_STUDIES, STUDY_TABLES, BriefContent
from insats.tasks.reporting.brief.intervention_mapping import candidate_reason
from insats.tasks.reporting.brief.outcome_evaluation import SHOWN_COUNTS as COUNT_COLUMNS_EFFECTS
from insats.tasks.reporting.brief.render import render_brief

# Person-count columns (HTML data-col) the brief shows: candidates' participants, starters and comparison
# persons, and the effects' treated, controls and treated without a match.
COUNT_COLUMNS: tuple[str, ...] = ("n_participants", *COUNT_COLUMNS_EFFECTS)
PERSON_COUNT_COLUMNS: tuple[str, ...] = (*COUNT_COLUMNS, "n_starters", "n_comparison")

__all__ = [
    "COUNT_COLUMNS",
    "MAIN_STUDIES",
    "PERSON_COUNT_COLUMNS",
    "STUDY_TABLES",
    "BriefContent",
    "candidate_reason",
    "render_brief",
]
