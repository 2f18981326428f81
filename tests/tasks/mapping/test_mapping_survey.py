"""Study 2 assessment tools: the caseworker survey, coded comments (study 1's coder), and the figures."""

from __future__ import annotations

import json
from pathlib import Path

import pandas as pd
import pytest

from insats.demo.inventory import make_inventory
from insats.demo.mapping_extra import write_mapping_extras
from insats.demo.mapping_survey import SURVEY_TOOLS
from insats.tasks.interviews.codebook import load_codebook
from insats.tasks.mapping.figures import (
    alignment_heatmap,
    alignment_matrix,
    coverage_by_family_provider,
    recall_curve_figure,
    timeline_figure,
)
from insats.tasks.mapping.survey import code_comments, comment_themes, read_survey, tool_usage

TOOLS = tuple(t for t in SURVEY_TOOLS if t != "annat")


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    paths = write_mapping_extras(tmp_path_factory.mktemp("mapping"))
    truth = json.loads(paths["truth"].read_text(encoding="utf-8"))
    return {"paths": paths, "truth": truth, "survey": read_survey(paths["survey"], TOOLS)}


def test_comments_coded_by_study_1_machinery_recover_planted_themes(demo: dict) -> None:
    book = load_codebook(demo["paths"]["survey_codebook"])
    coded = code_comments(demo["survey"], book)
    themes = comment_themes(coded, demo["survey"], book).set_index("code_id")
    assert themes["n_comments"].to_dict() == demo["truth"]["comment_codes"]
    assert set(coded["tool"]) <= set(SURVEY_TOOLS)
    assert (themes["share_respondents"] <= 1).all()


def test_tool_usage_by_tool_and_purpose(demo: dict) -> None:
    survey = demo["survey"]
    usage = tool_usage(survey)
    assert survey["respondent_id"].nunique() == demo["truth"]["n_respondents"]
    bip = usage[(usage["tool"] == "bip_indikatorer") & (usage["purpose"] == "progression")].iloc[0]
    rows = survey[survey["tool"] == "bip_indikatorer"]
    assert bip["n_respondents"] == rows["respondent_id"].nunique()
    assert bip["mean_usefulness"] == pytest.approx(rows["usefulness"].astype(float).mean())
    assert usage["tool"].str.startswith("annat: Motiverande").any()  # free-text tools kept by name
    assert usage.duplicated(["tool", "purpose"]).sum() == 0


def test_survey_errors_name_row_column_and_allowed_values(tmp_path: Path) -> None:
    path = tmp_path / "enkät.csv"
    path.write_text(
        "respondent_id;tool;tool_other;purpose;frequency;usefulness;comment\n"
        "H1;BIP-indikatorer;;progression;weekly;4;Bra för uppföljning\n"
        "H1;bip indikatorer;;mapping;weekly;4;\n"
        "H2;Lathund;;kartläggning;ibland;7;\n"
        "H3;annat;;mapping;daily;;\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError) as err:
        read_survey(path, TOOLS)
    msg = str(err.value)
    assert "enkät.csv" in msg
    assert "row 3, column 'tool': respondent 'H1' lists 'bip_indikatorer' twice (first in row 2)" in msg
    assert (
        "row 4, column 'tool': unknown value 'Lathund'; allowed values (intervention_mapping.survey_tools, "
        "or annat/other): bip_indikatorer" in msg
    )
    assert "row 4, column 'purpose'" in msg and "mapping, work_capacity, progression" in msg
    assert "row 4, column 'frequency': unknown value 'ibland'" in msg
    assert "row 4, column 'usefulness': expected a whole number 1..5, got '7'" in msg
    assert "row 5, column 'tool_other'" in msg


def test_figures_are_png_and_matrix_is_right() -> None:
    inv = make_inventory()
    prof = pd.DataFrame({"code_id": ["KOMP.SVENSKA", "KOMP.KORKORT"], "share_employers": [0.8, 0.3], "rank": [1, 2]})
    mat = alignment_matrix(inv, prof)
    assert mat.loc["INS01", "KOMP.SVENSKA"] == 0.8 and mat.loc["INS06", "KOMP.KORKORT"] == 0.3
    assert mat.loc["INS02"].sum() == 0 and list(mat.columns) == ["KOMP.SVENSKA", "KOMP.KORKORT"]
    curve = pd.DataFrame({"n_screened": [1, 2], "recall": [0.5, 1.0], "recall_random": [0.5, 1.0]})
    for png in (
        timeline_figure(inv, pd.Timestamp("2024-12-31")),
        alignment_heatmap(inv, prof),
        recall_curve_figure(curve),
    ):
        assert png.startswith(b"\x89PNG\r\n\x1a\n") and len(png) > 5000
    cov = coverage_by_family_provider(inv)
    assert cov["n_interventions"].sum() == 10
    assert cov.set_index("method_family").loc["supported_employment", "n_ongoing"] == 1


def test_every_problem_of_a_row_is_reported_with_file_and_setting(tmp_path: Path) -> None:
    path = tmp_path / "enkät.csv"
    path.write_text(
        "respondent_id;tool;tool_other;purpose;frequency;usefulness;comment\n"
        ";annat;;;varje år;1,5;\n",  # five problems in one row: all reported, not the first only
        encoding="utf-8",
    )
    with pytest.raises(ValueError) as err:
        read_survey(path, TOOLS)
    exc = err.value
    assert exc.file == str(path) and exc.setting == "intervention_mapping.survey"
    assert [p.message.split(":")[0] for p in exc.problems] == [
        "row 2, column 'respondent_id'",
        "row 2, column 'tool_other'",
        "row 2, column 'purpose'",
        "row 2, column 'frequency'",
        "row 2, column 'usefulness'",
    ]
    assert str(exc).startswith(
        f"{path}: survey is not usable (5 problem(s); config setting intervention_mapping.survey)"
    )


def test_inventory_rows_report_every_problem_with_file_and_setting(tmp_path: Path) -> None:
    from insats.tasks.mapping.inventory import check_inventory, read_inventory

    path = tmp_path / "insatser.csv"
    path.write_text(
        "intervention_id,name,provider,method_family,target_group,start_date,end_date,capacity,competencies\n"
        "INS01,,kommunen,jobbcoach,,2022-01-01,2021-01-01,tio,KOMP.X;KOMP.Y\n"
        "INS01,Andra,kommun,other,,2021-01-01,,5,\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError) as err:
        check_inventory(read_inventory(path), str(path), {"KOMP.SVENSKA"})
    msg = str(err.value)
    assert msg.startswith(f"{path}: intervention inventory is not usable")
    assert "config setting intervention_mapping.inventory" in msg
    for expected in (
        "row 2, column 'name': value is missing",
        "row 2, column 'provider': unknown value 'kommunen'; allowed values: kommun,",
        "row 2, column 'method_family': unknown value 'jobbcoach'",
        "row 2, column 'start_date': start_date 2022-01-01 is after end_date 2021-01-01",
        "row 2, column 'capacity': expected a whole number >= 0, got 'tio'",
        "row 2, column 'competencies': unknown competency ids 'KOMP.X', 'KOMP.Y' (separate ids with ';'); "
        "allowed values: KOMP.SVENSKA",
        "row 3, column 'intervention_id': duplicate value 'INS01' (first in row 2)",
    ):
        assert f"\n{expected}" in msg, expected
