"""The participant-flow demo documentation set, read and measured (module-scoped: built once per test module)."""

from __future__ import annotations

import pytest

from insats.demo.participants import make_participant_demo, write_participant_demo
from insats.tasks.participants.goals import goal_attainment, load_targets
from insats.tasks.participants.ladder import load_ladder
from insats.tasks.participants.measures import (
    default_as_of,
    enrolment_by_month,
    participant_steps,
    project_measures,
)
from insats.tasks.participants.readers import (
    check_documentation,
    read_participants,
    read_status_documentation,
)


@pytest.fixture(scope="module")
def demo_set(tmp_path_factory: pytest.TempPathFactory) -> dict:
    demo = make_participant_demo(2026)
    paths = write_participant_demo(demo, tmp_path_factory.mktemp("pf") / "participants")
    ladder = load_ladder(paths["ladder"])
    people = read_participants(paths["participants"], ladder)
    statuses = read_status_documentation(paths["status_wide"], ladder)
    check_documentation(people, statuses, "participants.csv", "status_wide.xlsx")
    as_of = default_as_of(people, statuses)
    steps = participant_steps(people, statuses, ladder, as_of)
    measures = project_measures(steps)
    enrolment = enrolment_by_month(people, as_of)
    goals = goal_attainment(load_targets(paths["targets"]), measures, enrolment)
    return {
        "demo": demo, "paths": paths, "ladder": ladder, "people": people, "statuses": statuses, "as_of": as_of,
        "steps": steps, "measures": measures, "enrolment": enrolment, "goals": goals,
    }  # fmt: skip
