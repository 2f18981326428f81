"""The participant-flow study run through Prefect on the demo documentation set: tables pass the gate,
are published with a manifest, are small-cell suppressed, and the goal table holds the known answers."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pandas as pd
import pytest
import yaml

from insats.demo.participants import make_participant_demo, write_participant_demo

ROOT = Path(__file__).resolve().parents[1]
TABLES = {
    "measures", "enrolment", "time_to_step", "transitions", "status_by_quarter", "goal_attainment",
    "indicator_occasions", "indicator_change", "indicator_association",
}  # fmt: skip


@pytest.fixture(scope="module")
def flow_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict]:
    from prefect.testing.utilities import prefect_test_harness

    root = tmp_path_factory.mktemp("pflow")
    (root / "configs").mkdir()
    shutil.copy(ROOT / "configs" / "demo.yaml", root / "configs" / "demo.yaml")
    demo = make_participant_demo(2026)
    write_participant_demo(demo, root / "data" / "raw" / "demo" / "participants")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("DO_NOT_TRACK", "1")
    from insats.flows.participant_flow import participant_flow

    with prefect_test_harness(server_startup_timeout=90):
        outputs = participant_flow(str(root / "configs" / "demo.yaml"))
    return root, {"outputs": outputs, "truth": demo.truth}


def test_flow_publishes_every_table_through_the_gate(flow_run: tuple[Path, dict]) -> None:
    root, run = flow_run
    assert set(run["outputs"]) == TABLES
    manifest = json.loads((root / "data" / "processed" / "participant_flow" / "manifest.json").read_text("utf-8"))
    assert set(manifest["tables"]) == TABLES
    assert all(entry["suite"] == f"participant_flow.{name}" for name, entry in manifest["tables"].items())
    for name in ("status_by_quarter", "enrolment", "time_to_step", "indicators_radar"):
        png = root / "reports" / "participant_flow" / f"{name}.png"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_published_tables_hold_no_small_counts(flow_run: tuple[Path, dict]) -> None:
    from insats.tasks.disclosure import assert_no_small_counts
    from insats.tasks.participants.tables import SUPPRESSION

    _, run = flow_run
    for name, rules in SUPPRESSION.items():
        df = pd.read_parquet(run["outputs"][name])
        assert_no_small_counts(df, list(rules), 5, table=name)
    measures = pd.read_parquet(run["outputs"]["measures"])
    # Vägen vidare has a single participant of gender A: the row's count and every share on it are hidden
    hidden = measures[measures["n_participants"].isna()]
    assert len(hidden) > 0 and hidden[["share_upward", "share_favourable", "mean_months_enrolled"]].isna().all().all()
    small_exits = measures[measures["n_exited"].isna()]
    assert len(small_exits) > 0 and small_exits["share_self_sufficient"].isna().all()


def test_published_goal_table_matches_the_truth(flow_run: tuple[Path, dict]) -> None:
    _, run = flow_run
    goals = pd.read_parquet(run["outputs"]["goal_attainment"]).set_index("measure", drop=False)
    truth = run["truth"]["projects"]["all"]
    up = goals[(goals["measure"] == "share_upward") & (goals["project"] == "all")].iloc[0]
    assert (up["numerator"], up["denominator"], up["judgement"]) == (truth["upward"], truth["n"], "partly_met")
    enrol = goals.loc["enrolled_every_month"]
    assert enrol["months_below"] == len(run["truth"]["enrolment"]["months_below"])
    assert "Delvis uppfyllt." in enrol["paragraph_sv"]


def test_missing_section_is_a_clear_error(tmp_path: Path) -> None:
    from insats.config import ConfigError
    from insats.flows.participant_flow import participant_flow

    data = yaml.safe_load((ROOT / "configs" / "demo.yaml").read_text("utf-8"))
    data.pop("participant_flow")
    cfg = tmp_path / "c.yaml"
    cfg.write_text(yaml.safe_dump(data), encoding="utf-8")
    with pytest.raises(ConfigError, match="no participant_flow section"):
        participant_flow.fn(str(cfg))
