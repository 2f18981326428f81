"""Study 3, participant flow: step progression, goal attainment and indicator progress from a project's
participant documentation (formats in docs/participant_flow.md)."""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from insats.flows.nodes import node
from insats.flows.steps import load_study_config, publish, published_dir, record_inputs, work_dir
from insats.tasks.participants.figures import km_figure
from insats.tasks.participants.study import (
    INDICATOR_TABLES,
    checked_documentation,
    enrolment_png,
    flow_measures,
    indicator_tables,
    progression,
    radar_png,
    status_png,
)

STUDY = "participant_flow"
FLOW_TABLES = ("measures", "enrolment", "time_to_step", "transitions", "status_by_quarter", "goal_attainment")
documentation_node = node(checked_documentation, ("participants", "statuses"))
steps_node = node(progression, "steps")
measures_node = node(flow_measures, FLOW_TABLES)
indicators_node = node(indicator_tables, INDICATOR_TABLES)
status_figure = node(status_png, "status_by_quarter")
enrolment_figure = node(enrolment_png, "enrolment")
km_plot = node(km_figure, "time_to_step")
radar_plot = node(radar_png, "indicators_radar")


@flow(name="participant-flow")
def participant_flow(config_path: str) -> dict[str, Path]:
    """Read the participant documentation, compute step progression, enrolment, time to the first upward step,
    transitions, goal attainment and indicator progress; publish the tables through the gate and draw the
    figures into the published folder's figures/."""
    config = load_study_config(config_path, STUDY)
    cfg = config.participant_flow
    inputs = [p for p in (cfg.participants, cfg.status_documentation, cfg.ladder, cfg.targets, cfg.indicators,
                          cfg.indicator_responses) if p is not None]  # fmt: skip
    record_inputs(STUDY, config, inputs)
    out = str(work_dir(config, STUDY))
    threshold = config.seminar.disclosure_threshold

    docs = documentation_node(
        participants=cfg.participants,
        status_documentation=cfg.status_documentation,
        ladder=cfg.ladder,
        end_date=cfg.end_date,
        out_dir=out,
    )
    steps = steps_node(
        participants=docs["participants"], statuses=docs["statuses"], ladder=cfg.ladder, as_of=cfg.as_of, out_dir=out
    )
    measures = measures_node.submit(
        participants=docs["participants"], statuses=docs["statuses"], steps=steps, ladder=cfg.ladder,
        targets=cfg.targets, as_of=cfg.as_of, threshold=threshold, out_dir=out,
    )  # fmt: skip
    indicators = indicators_node.submit(
        indicators=cfg.indicators, responses=cfg.indicator_responses, participants=docs["participants"],
        steps=steps, threshold=threshold, out_dir=out,
    )  # fmt: skip
    published = publish(STUDY, config, {**measures.result(), **indicators.result()}, inputs)

    # Figures are drawn from the validated, published tables only.
    figures, lang = str(published_dir(config, STUDY) / "figures"), config.seminar.lang
    drawn = [
        status_figure.submit(
            status_by_quarter=published["status_by_quarter"], ladder=cfg.ladder, lang=lang, out_dir=figures
        ),
        enrolment_figure.submit(enrolment=published["enrolment"], targets=cfg.targets, lang=lang, out_dir=figures),
        km_plot.submit(time_to_step=published["time_to_step"], lang=lang, out_dir=figures),
        radar_plot.submit(
            indicator_change=published["indicator_change"], indicators=cfg.indicators, lang=lang, out_dir=figures
        ),
    ]
    for future in drawn:
        future.result()
    return published
