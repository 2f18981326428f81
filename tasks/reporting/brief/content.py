"""What the seminar brief shows: :class:`BriefContent`, and which of its tables belong to which study."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

import pandas as pd

# Study -> the BriefContent fields that hold its tables; the first ones are the study's core tables: when all
# core tables are None the study has no validated outputs yet and the brief says so instead of its results.
STUDY_TABLES: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "employer_interviews": (("demand_profile",), ("reliability", "quotes")),
    "intervention_mapping": (("alignment", "candidates"), ("coverage_gaps", "evidence")),
    "outcome_evaluation": (("effects", "balance"), ("event_study",)),
    "participant_flow": (("goal_attainment", "enrolment"), ()),
}
# Studies every brief reports on (the participant flow is optional: its section is left out without tables).
MAIN_STUDIES: tuple[str, ...] = ("employer_interviews", "intervention_mapping", "outcome_evaluation")


@dataclass
class BriefContent:
    """Everything the brief shows. Each table is a study's validated, published table (columns: its suite
    ``schemas/<study>.<table>.json``) or None when that study has not published it.

    None for all of a study's core tables (:data:`STUDY_TABLES`) renders a "not yet available" line for the
    study; an empty table renders "no data". ``goal_attainment`` and ``enrolment`` both None leave the
    participant-flow section out; the other optional tables likewise add their part only when given.
    ``history``: runs of the quarter (flow_run_name, study, state, start_time, and optionally
    duration_seconds, config_hash, failure_reason). ``manifests``: study -> {"inputs", "config_hash",
    "code_version", "flow_run_id"}. ``disclosure_threshold`` (config ``seminar.disclosure_threshold``) applies
    to every table shown. ``min_participants`` (config ``intervention_mapping.min_participants``) words the
    study 2 introduction. ``changes`` (inputs, tables, estimates, runs; from insats.tasks.reporting.changes)
    with ``previous_quarter`` None says that this is the first brief."""

    quarter: str
    generated_at: datetime
    demand_profile: pd.DataFrame | None = None
    alignment: pd.DataFrame | None = None
    candidates: pd.DataFrame | None = None
    effects: pd.DataFrame | None = None
    balance: pd.DataFrame | None = None
    history: pd.DataFrame | None = None
    manifests: dict[str, dict] = field(default_factory=dict)
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
    event_study: pd.DataFrame | None = None

    def available(self, study: str) -> bool:
        """Whether ``study`` has at least one core table (:data:`STUDY_TABLES`)."""
        return any(getattr(self, name) is not None for name in STUDY_TABLES[study][0])

    def missing_studies(self) -> list[str]:
        """The main studies (:data:`MAIN_STUDIES`) without any validated output in this brief."""
        return [s for s in MAIN_STUDIES if not self.available(s)]
