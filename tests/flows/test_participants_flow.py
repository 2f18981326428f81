"""The participant-flow study on the demo documentation set: its steps as plain functions
(insats.tasks.participants.study) give small-cell suppressed tables and the known goal answers; the flow run
through Prefect (slow) publishes every table through the gate with a manifest and draws the figures."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from insats.demo.participants import make_participant_demo, write_participant_demo
from insats.tasks.disclosure import assert_no_small_counts
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
from insats.tasks.participants.tables import INDICATOR_COLUMNS, SUPPRESSION
from tests.helpers import ROOT

AS_OF = "2023-12-31"  # configs/demo.yaml's participant_flow.as_of
FLOW_TABLES = {"measures", "enrolment", "time_to_step", "transitions", "status_by_quarter", "goal_attainment"}
TABLES = FLOW_TABLES | set(INDICATOR_TABLES)
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture(scope="module")
def steps_run(tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The flow's steps called in order, as the flow wires them, on the demo documentation set."""
    demo = make_participant_demo(2026)
    files = write_participant_demo(demo, tmp_path_factory.mktemp("pdocs"))
    people, statuses = checked_documentation(files["participants"], files["status_wide"], files["ladder"])
    steps = progression(people, statuses, files["ladder"], AS_OF)
    tables = flow_measures(people, statuses, steps, files["ladder"], files["targets"], AS_OF, threshold=5)
    tables |= indicator_tables(files["indicators"], files["indicator_responses"], people, steps, threshold=5)
    return {"files": files, "people": people, "steps": steps, "tables": tables, "truth": demo.truth}


def test_steps_give_every_published_table(steps_run: dict) -> None:
    assert set(steps_run["tables"]) == TABLES
    assert steps_run["steps"]["participant_id"].is_unique and len(steps_run["steps"]) == len(steps_run["people"])
    assert all(len(steps_run["tables"][name]) > 0 for name in TABLES)


def test_published_tables_hold_no_small_counts(steps_run: dict) -> None:
    tables = steps_run["tables"]
    for name, rules in SUPPRESSION.items():
        assert_no_small_counts(tables[name], list(rules), 5, table=name)
    measures = tables["measures"]
    # Vägen vidare has a single participant of gender A: the row's count and every share on it are hidden
    hidden = measures[measures["n_participants"].isna()]
    assert len(hidden) > 0 and hidden[["share_upward", "share_favourable", "mean_months_enrolled"]].isna().all().all()
    small_exits = measures[measures["n_exited"].isna()]
    assert len(small_exits) > 0 and small_exits["share_self_sufficient"].isna().all()


def test_goal_table_matches_the_truth(steps_run: dict) -> None:
    goals = steps_run["tables"]["goal_attainment"].set_index("measure", drop=False)
    truth = steps_run["truth"]["projects"]["all"]
    up = goals[(goals["measure"] == "share_upward") & (goals["project"] == "all")].iloc[0]
    assert (up["numerator"], up["denominator"], up["judgement"]) == (truth["upward"], truth["n"], "partly_met")
    enrol = goals.loc["enrolled_every_month"]
    assert enrol["months_below"] == len(steps_run["truth"]["enrolment"]["months_below"])
    assert "Delvis uppfyllt." in enrol["paragraph_sv"]


def test_without_targets_or_questionnaires_the_tables_are_empty(steps_run: dict) -> None:
    files, people, steps = steps_run["files"], steps_run["people"], steps_run["steps"]
    statuses = checked_documentation(files["participants"], files["status_wide"], files["ladder"])[1]
    goals = flow_measures(people, statuses, steps, files["ladder"], None, AS_OF, threshold=5)["goal_attainment"]
    assert len(goals) == 0
    empty = indicator_tables(None, files["indicator_responses"], people, steps, threshold=5)
    for name in INDICATOR_TABLES:
        assert len(empty[name]) == 0 and set(INDICATOR_COLUMNS[name]) <= set(empty[name].columns)


def test_figures_are_pngs(steps_run: dict) -> None:
    files, tables = steps_run["files"], steps_run["tables"]
    assert status_png(tables["status_by_quarter"], files["ladder"], "sv")[:8] == PNG
    assert enrolment_png(tables["enrolment"], files["targets"], "en")[:8] == PNG
    assert enrolment_png(tables["enrolment"], None, "en") != enrolment_png(tables["enrolment"], files["targets"], "en")
    assert radar_png(tables["indicator_change"], files["indicators"], "en")[:8] == PNG


def test_missing_section_is_a_clear_error(tmp_path: Path) -> None:
    from insats.config import ConfigError
    from insats.flows.participant_flow import participant_flow

    data = yaml.safe_load((ROOT / "configs" / "demo.yaml").read_text("utf-8"))
    data.pop("participant_flow")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigError, match="no `participant_flow:` section"):
        participant_flow.fn(str(cfg))


@pytest.mark.slow
def test_flow_publishes_every_table_through_the_gate(prefect_harness: None, tmp_path: Path, steps_run: dict) -> None:
    from insats.flows.participant_flow import participant_flow

    (tmp_path / "configs").mkdir()
    shutil.copy(ROOT / "configs" / "demo.yaml", tmp_path / "configs" / "demo.yaml")
    write_participant_demo(make_participant_demo(2026), tmp_path / "data" / "raw" / "demo" / "participants")
    outputs = participant_flow(str(tmp_path / "configs" / "demo.yaml"))
    assert set(outputs) == TABLES
    published = tmp_path / "data" / "processed" / "participant_flow"
    manifest = json.loads((published / "manifest.json").read_text("utf-8"))
    assert set(manifest["tables"]) == TABLES
    assert all(entry["suite"] == f"participant_flow.{name}" for name, entry in manifest["tables"].items())
    for name in TABLES:  # the published tables are what the steps give, less what disclosure control hid
        shown, given = pd.read_parquet(outputs[name]), steps_run["tables"][name]
        assert len(shown) == len(given)
        for column in given.columns.drop("suppressed", errors="ignore"):
            visible = shown[column].notna().to_numpy()
            pd.testing.assert_series_equal(
                shown[column][visible].reset_index(drop=True),
                given[column][visible].reset_index(drop=True),
                check_dtype=False,
            )
    for name in ("status_by_quarter", "enrolment", "time_to_step", "indicators_radar"):
        assert (published / "figures" / f"{name}.png").read_bytes()[:8] == PNG
