"""Study 3, participant flow: step progression, goal attainment and indicator progress from a project's
participant documentation (formats in docs/participant_flow.md)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from prefect import flow

from insats.config import ConfigError, load_config
from insats.flows.steps import Outputs, publish, record_inputs, run_step, step, written
from insats.storage import atomic_path, write_parquet
from insats.tasks.participants.figures import enrolment_figure, km_figure, radar_figure, status_by_quarter_figure
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
from insats.tasks.participants.readers import (
    SOURCE_COLUMN,
    SOURCE_ROW,
    check_documentation,
    read_participants,
    read_status_documentation,
)
from insats.tasks.participants.tables import empty_indicator_table, suppress_table
from insats.validation import gate

STUDY = "participant_flow"


@step
def read_documentation(participants: Path, status_documentation: Path, ladder: Path, out_dir: str) -> dict:
    """Read and cross-check the participant list and the status documentation; gate both as inputs."""
    lad = load_ladder(ladder)
    people = read_participants(participants, lad)
    statuses = read_status_documentation(status_documentation, lad)
    check_documentation(people, statuses, str(participants), str(status_documentation))
    params = {"ladder_statuses": lad.statuses}
    gate(people.drop(columns=[SOURCE_ROW]), "input.participants", table=str(participants), parameters=params)
    gate(
        statuses.drop(columns=[SOURCE_ROW, SOURCE_COLUMN]),
        "input.status_documentation",
        table=str(status_documentation),
        parameters=params,
    )
    out = Path(out_dir)
    return written(
        participants=write_parquet(people, out / "participants.parquet"),
        statuses=write_parquet(statuses, out / "statuses.parquet"),
    )


@step
def flow_measures(
    participants: Path,
    statuses: Path,
    ladder: Path,
    targets: Path | None,
    as_of: str | None,
    threshold: int,
    out_dir: str,
) -> dict:
    """Per-participant steps (interim only) and the published measures, suppressed."""
    lad = load_ladder(ladder)
    people, docs = pd.read_parquet(participants), pd.read_parquet(statuses)
    date = pd.Timestamp(as_of) if as_of else default_as_of(people, docs)
    steps = participant_steps(people, docs, lad, date)
    measures = project_measures(steps)
    enrolment = enrolment_by_month(people, date)
    tables = {
        "measures": measures,
        "enrolment": enrolment,
        "time_to_step": time_to_first_step(steps),
        "transitions": transition_matrix(docs, people, lad),
        "status_by_quarter": statuses_by_quarter(docs, people, lad),
    }
    out = Path(out_dir)
    paths = {
        name: write_parquet(suppress_table(name, df, threshold), out / f"{name}.parquet") for name, df in tables.items()
    }
    goal_list = load_targets(targets) if targets is not None else []
    goals = publishable_goal_table(goal_attainment(goal_list, measures, enrolment), threshold)
    paths["goal_attainment"] = write_parquet(goals, out / "goal_attainment.parquet")
    paths["steps"] = write_parquet(steps, out / "steps.parquet")
    return written(**paths)


@step
def indicator_progress(
    indicators: Path | None, responses: Path | None, participants: Path, steps: Path, threshold: int, out_dir: str
) -> dict:
    """Indicator scores per occasion, first-to-latest change and association with a favourable exit."""
    out = Path(out_dir)
    if indicators is None or responses is None:
        tables = {
            name: empty_indicator_table(name)
            for name in ("indicator_occasions", "indicator_change", "indicator_association")
        }
    else:
        spec = load_indicator_spec(indicators)
        people = pd.read_parquet(participants)
        scores = indicator_scores(read_indicator_responses(responses, spec, people), spec)
        tables = {
            "indicator_occasions": occasion_means(scores, people),
            "indicator_change": indicator_change(scores, people, spec),
            "indicator_association": exit_association(scores, pd.read_parquet(steps), spec),
        }
    return written(
        **{
            name: write_parquet(suppress_table(name, df, threshold), out / f"{name}.parquet")
            for name, df in tables.items()
        }
    )


@step
def draw_figures(
    status_by_quarter: Path, enrolment: Path, time_to_step: Path, indicator_change: Path, ladder: Path,
    targets: Path | None, indicators: Path | None, lang: str, out_dir: str,
) -> dict:  # fmt: skip
    """PNG figures from the suppressed tables: statuses by quarter, enrolment against its target, the
    Kaplan-Meier curve and the indicator radar (all projects)."""
    lad = load_ladder(ladder)
    enrol_targets = [t for t in (load_targets(targets) if targets else []) if t.measure == "enrolled_every_month"]
    target = enrol_targets[0] if enrol_targets else None
    scale = (1.0, 5.0)
    if indicators is not None:
        spec = load_indicator_spec(indicators)
        scale = (float(spec.likert_min), float(spec.likert_max))
    images = {
        "status_by_quarter": status_by_quarter_figure(pd.read_parquet(status_by_quarter), lad, ALL, lang),
        "enrolment": enrolment_figure(
            pd.read_parquet(enrolment),
            target.threshold if target else None,
            (target.first_month, target.last_month) if target else (None, None),
            target.project if target else ALL,
            lang,
        ),
        "time_to_step": km_figure(pd.read_parquet(time_to_step), lang),
        "indicators_radar": radar_figure(pd.read_parquet(indicator_change), ALL, scale, lang),
    }
    paths = {}
    for name, png in images.items():
        target_path = Path(out_dir) / f"{name}.png"
        with atomic_path(target_path) as tmp:
            tmp.write_bytes(png)
        paths[f"figure_{name}"] = target_path
    return written(**paths)


@flow(name="participant-flow")
def participant_flow(config_path: str) -> Outputs:
    """Read the participant documentation, compute step progression, enrolment, time to the first upward step,
    transitions, goal attainment and indicator progress; publish the tables through the gate and draw the
    figures under reports/participant_flow/."""
    config = load_config(config_path)
    cfg = config.participant_flow
    if cfg is None:
        raise ConfigError(f"{config.source}: no participant_flow section (see configs/site-template.yaml)")
    inputs = [p for p in (cfg.participants, cfg.status_documentation, cfg.ladder, cfg.targets, cfg.indicators,
                          cfg.indicator_responses) if p is not None]  # fmt: skip
    record_inputs(STUDY, config, inputs)
    interim = str(config.interim_dir(STUDY))
    threshold = config.seminar.disclosure_threshold

    docs = run_step(
        read_documentation,
        participants=cfg.participants,
        status_documentation=cfg.status_documentation,
        ladder=cfg.ladder,
        out_dir=interim,
    )
    measures = run_step(
        flow_measures,
        participants=Path(docs["participants"]),
        statuses=Path(docs["statuses"]),
        ladder=cfg.ladder,
        targets=cfg.targets,
        as_of=cfg.as_of,
        threshold=threshold,
        out_dir=interim,
    )
    indicators = run_step(
        indicator_progress,
        indicators=cfg.indicators,
        responses=cfg.indicator_responses,
        participants=Path(docs["participants"]),
        steps=Path(measures["steps"]),
        threshold=threshold,
        out_dir=interim,
    )
    published = {k: v for k, v in measures.items() if k != "steps"}
    published.update(indicators)
    outputs = publish(
        STUDY,
        config,
        published,
        inputs,
        artifact_table="goal_attainment",
        count_columns=["numerator", "denominator"],
    )
    # Figures are drawn from the validated, published tables only.
    run_step(
        draw_figures,
        status_by_quarter=Path(outputs["status_by_quarter"]),
        enrolment=Path(outputs["enrolment"]),
        time_to_step=Path(outputs["time_to_step"]),
        indicator_change=Path(outputs["indicator_change"]),
        ladder=cfg.ladder,
        targets=cfg.targets,
        indicators=cfg.indicators,
        lang=config.seminar.lang,
        out_dir=str(config.paths.reports / STUDY),
    )
    return outputs
