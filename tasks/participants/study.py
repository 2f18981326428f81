"""The participant-flow study's steps as plain functions the flow wires: documentation in, suppressed tables
and PNG figures out.

Each reads at most the raw inputs it is given (participant list, status documentation, ladder, targets,
indicator spec and responses) and returns DataFrames or PNG bytes; earlier results arrive as loaded
DataFrames. Published tables are small-cell suppressed here (:func:`insats.tasks.participants.tables.suppress_table`
with ``threshold`` = ``seminar.disclosure_threshold``); the per-participant ``steps`` table is not published.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from insats.tasks.participants.figures import enrolment_figure, radar_figure, status_by_quarter_figure
from insats.tasks.participants.goals import goal_attainment, load_targets, publishable_goal_table
from insats.tasks.participants.indicators import (
    exit_association,
    indicator_change,
    indicator_scores,
    load_indicator_spec,
    occasion_means,
    read_indicator_responses,
)
from insats.tasks.participants.ladder import load_ladder
from insats.tasks.participants.measures import (
    ALL,
    default_as_of,
    enrolment_by_month,
    participant_steps,
    project_measures,
    statuses_by_quarter,
    time_to_first_step,
    transition_matrix,
)
from insats.tasks.participants.readers import SOURCE_COLUMN, SOURCE_ROW, EndDate, read_documentation
from insats.tasks.participants.tables import empty_indicator_table, suppress_table
from insats.validation import gate

INDICATOR_TABLES: tuple[str, ...] = ("indicator_occasions", "indicator_change", "indicator_association")


def checked_documentation(
    participants: Path, status_documentation: Path, ladder: Path, end_date: EndDate = "inclusive"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read and cross-check the participant list and the status documentation against the ``ladder`` (YAML),
    then gate both as inputs (``input.participants``, ``input.status_documentation``): (participants,
    statuses) as :func:`insats.tasks.participants.readers.read_documentation` returns them. ``end_date`` is
    the config's ``participant_flow.end_date``. Raises DocumentationError / GateError naming files and rows."""
    lad = load_ladder(ladder)
    people, statuses = read_documentation(participants, status_documentation, lad, end_date=end_date)
    params = {"ladder_statuses": lad.statuses}
    gate(people.drop(columns=[SOURCE_ROW]), "input.participants", table=str(participants), parameters=params)
    gate(
        statuses.drop(columns=[SOURCE_ROW, SOURCE_COLUMN]),
        "input.status_documentation",
        table=str(status_documentation),
        parameters=params,
    )
    return people, statuses


def _date(as_of: str | None, participants: pd.DataFrame, statuses: pd.DataFrame) -> pd.Timestamp:
    return pd.Timestamp(as_of) if as_of else default_as_of(participants, statuses)


def progression(participants: pd.DataFrame, statuses: pd.DataFrame, ladder: Path, as_of: str | None) -> pd.DataFrame:
    """Per-participant steps on the ladder up to ``as_of`` (YYYY-MM-DD; default the documentation's last
    date): :func:`insats.tasks.participants.measures.participant_steps`. Person-level: never published."""
    return participant_steps(participants, statuses, load_ladder(ladder), _date(as_of, participants, statuses))


def flow_measures(
    participants: pd.DataFrame,
    statuses: pd.DataFrame,
    steps: pd.DataFrame,
    ladder: Path,
    targets: Path | None,
    as_of: str | None,
    threshold: int,
) -> dict[str, pd.DataFrame]:
    """The published flow tables, each suppressed below ``threshold`` persons: ``measures``, ``enrolment``
    (per month up to ``as_of``), ``time_to_step``, ``transitions``, ``status_by_quarter`` and
    ``goal_attainment`` (the funder's ``targets`` YAML judged on the unsuppressed measures; no rows without
    targets)."""
    lad = load_ladder(ladder)
    measures = project_measures(steps)
    enrolment = enrolment_by_month(participants, _date(as_of, participants, statuses))
    tables = {
        "measures": measures,
        "enrolment": enrolment,
        "time_to_step": time_to_first_step(steps),
        "transitions": transition_matrix(statuses, participants, lad),
        "status_by_quarter": statuses_by_quarter(statuses, participants, lad),
    }
    out = {name: suppress_table(name, df, threshold) for name, df in tables.items()}
    goals = goal_attainment(load_targets(targets) if targets is not None else [], measures, enrolment)
    out["goal_attainment"] = publishable_goal_table(goals, threshold)
    return out


def indicator_tables(
    indicators: Path | None,
    responses: Path | None,
    participants: pd.DataFrame,
    steps: pd.DataFrame,
    threshold: int,
) -> dict[str, pd.DataFrame]:
    """Indicator scores per occasion (``indicator_occasions``), first-to-latest change (``indicator_change``)
    and association with a favourable exit (``indicator_association``), suppressed below ``threshold``;
    empty tables with their columns when the config names no questionnaire spec or responses."""
    if indicators is None or responses is None:
        tables = {name: empty_indicator_table(name) for name in INDICATOR_TABLES}
    else:
        spec = load_indicator_spec(indicators)
        scores = indicator_scores(read_indicator_responses(responses, spec, participants), spec)
        tables = {
            "indicator_occasions": occasion_means(scores, participants),
            "indicator_change": indicator_change(scores, participants, spec),
            "indicator_association": exit_association(scores, steps, spec),
        }
    return {name: suppress_table(name, df, threshold) for name, df in tables.items()}


def status_png(status_by_quarter: pd.DataFrame, ladder: Path, lang: str = "en") -> bytes:
    """Statuses by quarter, all projects (PNG), from the published table."""
    return status_by_quarter_figure(status_by_quarter, load_ladder(ladder), ALL, lang)


def enrolment_png(enrolment: pd.DataFrame, targets: Path | None, lang: str = "en") -> bytes:
    """Enrolment per month (PNG) against the first ``enrolled_every_month`` target in ``targets``, if any."""
    wanted = [t for t in (load_targets(targets) if targets is not None else []) if t.measure == "enrolled_every_month"]
    target = wanted[0] if wanted else None
    if target is None:
        return enrolment_figure(enrolment, None, (None, None), ALL, lang)
    return enrolment_figure(enrolment, target.threshold, (target.first_month, target.last_month), target.project, lang)


def radar_png(indicator_change: pd.DataFrame, indicators: Path | None, lang: str = "en") -> bytes:
    """Indicator radar, all projects (PNG), on the questionnaire's Likert scale (1..5 without a spec)."""
    scale = (1.0, 5.0)
    if indicators is not None:
        spec = load_indicator_spec(indicators)
        scale = (float(spec.likert_min), float(spec.likert_max))
    return radar_figure(indicator_change, ALL, scale, lang)
