"""Study 2's flow steps as plain functions (insats.tasks.mapping.study, power.inventory_design): each does what
its parts do, with the config's values and the inventory's interventions, without Prefect."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd
import pytest

from insats.config import InterventionMapping
from insats.demo.mapping_extra import write_mapping_extras
from insats.tasks.mapping.candidates import CandidateRules
from insats.tasks.mapping.figures import timeline_figure
from insats.tasks.mapping.inventory import check_inventory, read_inventory
from insats.tasks.mapping.power import design_counts, inventory_design
from insats.tasks.mapping.study import (
    candidate_rules,
    checked_inventory,
    survey_comment_themes,
    timeline_png,
    tool_usage_table,
)
from insats.tasks.mapping.survey import read_survey, tool_usage

HEADER = "intervention_id,name,provider,method_family,target_group,start_date,end_date,capacity,competencies"
ROWS = [
    "INS02,Samverkan,samordningsforbund,coordinator,Unga,2021-01-01,2022-12-31,40,KOMP.MOTIVATION",
    "INS01,Jobbspåret,kommun,supported_employment,Vuxna,2021-03-01,,120,KOMP.SVENSKA;KOMP.MOTIVATION",
]


@pytest.fixture
def inventory_file(tmp_path: Path) -> Path:
    path = tmp_path / "insatser.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n", encoding="utf-8")
    return path


def test_checked_inventory_uses_the_demand_profiles_codes(inventory_file: Path) -> None:
    profile = pd.DataFrame({"code_id": ["KOMP.SVENSKA", "KOMP.MOTIVATION"]})
    got = checked_inventory(inventory_file, profile)
    want = check_inventory(read_inventory(inventory_file), str(inventory_file), set(profile["code_id"]))
    pd.testing.assert_frame_equal(got, want)
    assert list(got["name"]) == ["Samverkan", "Jobbspåret"]
    with pytest.raises(ValueError, match=r"(?s)insatser\.csv.*unknown competency id 'KOMP.SVENSKA'"):
        checked_inventory(inventory_file, profile[profile["code_id"] != "KOMP.SVENSKA"])


def test_candidate_rules_take_every_value_from_the_config() -> None:
    cfg = InterventionMapping(
        inventory=Path("x.csv"), min_participants=7, min_comparison=11, max_mde=0.12,
        candidate_support="evidence_or_alignment", min_alignment=0.4, min_positive_studies=3, alpha=0.1, power=0.9,
    )  # fmt: skip
    rules = candidate_rules(cfg)
    config_name = {"support": "candidate_support"}
    for field in dataclasses.fields(CandidateRules):
        assert getattr(rules, field.name) == getattr(cfg, config_name.get(field.name, field.name)), field.name
    assert rules != CandidateRules()


def test_inventory_design_has_one_row_per_inventory_intervention_in_its_order(inventory_file: Path) -> None:
    inventory = checked_inventory(inventory_file, pd.DataFrame({"code_id": ["KOMP.SVENSKA", "KOMP.MOTIVATION"]}))
    months = pd.period_range("2021-01", "2021-12", freq="M").to_timestamp()
    assistance = pd.DataFrame(
        {"person_id": [p for p in ("a", "b", "c") for _ in months], "month": [m for _ in range(3) for m in months]}
    )
    spells = pd.DataFrame(
        {
            "person_id": ["a", "b"],
            "intervention_id": ["INS01", "INS09"],
            "start_date": pd.to_datetime(["2021-03-10"] * 2),
        }
    )
    got = inventory_design(inventory, assistance, spells, "2021-01", "2021-12", horizon=3, window=1)
    pd.testing.assert_frame_equal(
        got, design_counts(assistance, spells, "2021-01", "2021-12", 3, 1, ["INS02", "INS01"])
    )
    assert list(got["intervention_id"]) == ["INS02", "INS01"]  # INS09 is not in the inventory; INS02 has no starts
    assert got.set_index("intervention_id").loc["INS02", "n_treated"] == 0
    assert got.set_index("intervention_id").loc["INS01", "n_treated"] == 1


def test_survey_steps_match_their_parts(tmp_path: Path) -> None:
    paths = write_mapping_extras(tmp_path / "mapping")
    tools = InterventionMapping(inventory=Path("x.csv")).survey_tools
    pd.testing.assert_frame_equal(
        tool_usage_table(paths["survey"], tools), tool_usage(read_survey(paths["survey"], tuple(tools)))
    )
    themes = survey_comment_themes(paths["survey"], paths["survey_codebook"], tools)
    assert len(themes) > 0 and themes["n_comments"].sum() > 0


def test_timeline_is_drawn_as_of_the_last_day_of_the_period(inventory_file: Path) -> None:
    inventory = checked_inventory(inventory_file, pd.DataFrame({"code_id": ["KOMP.SVENSKA", "KOMP.MOTIVATION"]}))
    png = timeline_png(inventory, "2024-02")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png == timeline_figure(inventory, pd.Timestamp("2024-02-29"))
