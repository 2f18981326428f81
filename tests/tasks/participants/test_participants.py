"""Participant flow: readers (long/wide, CSV/XLSX, Swedish date forms), the ladder, per-participant steps,
project measures and the goal-attainment table checked against a documentation set with known answers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml

from insats.demo.participants import LADDER, make_participant_demo, write_participant_demo
from insats.tasks.participants.goals import goal_attainment, load_targets, publishable_goal_table, targets_from_dict
from insats.tasks.participants.ladder import ladder_from_dict, load_ladder
from insats.tasks.participants.measures import (
    default_as_of,
    enrolment_by_month,
    participant_steps,
    project_measures,
    time_to_first_step,
    transition_matrix,
)
from insats.tasks.participants.readers import (
    DocumentationError,
    check_documentation,
    parse_date,
    read_participants,
    read_status_documentation,
)
from tests.helpers import ROOT

LAD = ladder_from_dict(LADDER)


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


def test_shipped_default_ladder_is_the_demo_ladder() -> None:
    shipped = load_ladder(ROOT / "configs" / "ladder.sv.yaml")
    assert shipped == LAD
    assert shipped.steps[0] == "Ej aktuell för aktivitet just nu" and shipped.steps[-1] == "Arbete"
    assert shipped.exit_category["Studier"] == "self_sufficient" and shipped.exit_category["Flyttat"] == "unclear"


def test_templates_parse() -> None:
    targets = load_targets(ROOT / "configs" / "targets.template.yaml")
    assert {t.measure for t in targets} >= {"share_upward", "share_self_sufficient", "enrolled_every_month"}
    from insats.tasks.participants.indicators import load_indicator_spec

    spec = load_indicator_spec(ROOT / "configs" / "indicators.template.yaml")
    assert len(spec.indicators) == 6


def test_ladder_rejects_a_status_in_two_exit_categories() -> None:
    bad = {"steps": ["A", "B"], "exit": {"self_sufficient": ["B"], "unclear": ["B"]}}
    with pytest.raises(ValueError, match="'B' is in both 'self_sufficient' and 'unclear'"):
        ladder_from_dict(bad, "x.yaml")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2021-03-01", "2021-03-01"),
        ("1/3/2021", "2021-03-01"),  # Swedish: day first
        ("01.03.2021", "2021-03-01"),
        ("20210301", "2021-03-01"),
        (44256, "2021-03-01"),  # Excel serial
        ("44256", "2021-03-01"),
        ("2021-03-01 00:00:00", "2021-03-01"),
        (pd.Timestamp("2021-03-01 13:00"), "2021-03-01"),
    ],
)
def test_parse_date_accepts_spreadsheet_forms(value: object, expected: str) -> None:
    assert parse_date(value) == pd.Timestamp(expected)


@pytest.mark.parametrize("value", ["31/2/2021", "March 2021", "12345", "2021-13-01"])
def test_parse_date_rejects_the_rest(value: str) -> None:
    with pytest.raises(ValueError):
        parse_date(value)


def test_long_and_wide_csv_and_xlsx_read_alike(demo_set: dict) -> None:
    paths, ladder = demo_set["paths"], demo_set["ladder"]
    long = read_status_documentation(paths["status_long"], ladder)
    cols = ["participant_id", "period_start", "status"]
    pd.testing.assert_frame_equal(long[cols], demo_set["statuses"][cols])
    xlsx = read_participants(paths["participants_xlsx"], ladder)
    pd.testing.assert_frame_equal(xlsx.drop(columns="source_row"), demo_set["people"].drop(columns="source_row"))
    assert "Vägen vidare" in set(demo_set["people"]["project"])  # å/ä/ö survive


def test_nothing_is_dropped(demo_set: dict) -> None:
    demo = demo_set["demo"]
    assert len(demo_set["steps"]) == len(demo.participants)
    assert len(demo_set["statuses"]) == len(demo.statuses)


def test_per_participant_steps_on_a_hand_made_case() -> None:
    people = pd.DataFrame(
        {
            "participant_id": ["a", "b", "c"],
            "project": ["P", "P", "P"],
            "gender": ["K", "M", "K"],
            "start_date": pd.to_datetime(["2021-01-01", "2021-01-01", "2021-04-01"]),
            "end_date": pd.to_datetime(["2021-12-31", None, "2021-09-30"]),
            "exit_status": ["Arbete", None, "Okänt"],
        }
    )
    statuses = pd.DataFrame(
        {
            "participant_id": ["a", "a", "b", "b", "b", "c"],
            "period_start": pd.to_datetime(
                ["2021-01-01", "2021-04-01", "2021-01-01", "2021-04-01", "2021-07-01", "2021-04-01"]
            ),
            "status": ["Kartläggning/utredning", "Arbetsträning/praktik", "Förberedande insats", "Arbetsprövning",
                       "Kartläggning/utredning", "Förberedande insats"],
        }
    )  # fmt: skip
    steps = participant_steps(people, statuses, LAD, pd.Timestamp("2021-12-31")).set_index("participant_id")
    # a: 2 -> 5 -> exit to work (8): 6 rungs up, first step at the second period
    assert steps.loc["a", "steps_up"] == 6 and steps.loc["a", "highest_status"] == "Arbete"
    assert steps.loc["a", "exit_category"] == "self_sufficient" and steps.loc["a", "favourable_exit"]
    assert steps.loc["a", "months_to_first_upward"] == pytest.approx(90 / 30.4375, abs=0.01)
    # b: 3 -> 4 -> 2: one up, two down, ongoing, censored at as_of
    assert (steps.loc["b", "steps_up"], steps.loc["b", "steps_down"], steps.loc["b", "net_steps"]) == (1, 2, -1)
    assert steps.loc["b", "exit_category"] == "ongoing" and not steps.loc["b", "favourable_exit"]
    # c: one period, exit off the ladder: no upward step, censored at the end date
    assert not steps.loc["c", "any_upward"] and steps.loc["c", "exit_category"] == "unclear"
    assert steps.loc["c", "months_to_first_upward"] == pytest.approx(182 / 30.4375, abs=0.01)
    trans = transition_matrix(statuses, people, LAD)
    p = trans[trans["project"] == "P"].set_index(["from_status", "to_status"])
    assert p.loc[("Arbetsprövning", "Kartläggning/utredning"), "direction"] == "down"
    assert p["n_transitions"].sum() == 3


def test_kaplan_meier_known_values() -> None:
    # 4 participants: steps at 2 and 4 months, censored at 3 and 10: S(3)=1/2... KM: S(2)=3/4, S(4)=3/4*1/2
    steps = pd.DataFrame(
        {
            "project": ["P"] * 4,
            "months_to_first_upward": [2.0, 3.0, 4.0, 10.0],
            "any_upward": [True, False, True, False],
        }
    )
    km = time_to_first_step(steps, grid_months=3)
    p = km[km["project"] == "P"].set_index("month")
    assert p.loc[0, "share_stepped"] == 0
    assert p.loc[3, "share_stepped"] == pytest.approx(0.25)
    assert p.loc[6, "share_stepped"] == pytest.approx(1 - 0.75 * 0.5)
    assert p.loc[6, "n_at_risk"] == 1 and p.loc[6, "n_events_cum"] == 2
    assert 9 in p.index and 12 not in p.index  # nobody followed 12 months


def test_measures_match_the_planted_truth(demo_set: dict) -> None:
    truth = demo_set["demo"].truth["projects"]
    m = demo_set["measures"].set_index(["project", "gender"])
    for project, t in truth.items():
        row = m.loc[(project, "all")]
        exited = t["n"] - t["ongoing"]
        assert row["n_participants"] == t["n"]
        assert row["n_upward"] == t["upward"] and row["n_participants"] - row["n_upward"] == t["no_upward"]
        assert row["n_exited"] == exited and row["n_ongoing"] == t["ongoing"]
        assert row["n_self_sufficient"] == t["self_sufficient"]
        assert row["n_favourable"] == t["self_sufficient"] + t["favourable"]
        assert row["n_unclear"] == t["unclear"]
        assert row["share_self_sufficient"] == pytest.approx(t["self_sufficient"] / exited)
    # gender rows add up to the totals
    by_gender = demo_set["measures"].query("gender != 'all'").groupby("project")["n_participants"].sum()
    assert (by_gender == m.xs("all", level="gender")["n_participants"]).all()


def test_enrolment_matches_the_independent_count(demo_set: dict) -> None:
    truth = demo_set["demo"].truth["enrolment"]["monthly_all"]
    got = demo_set["enrolment"].query("project == 'all'")
    assert dict(zip(got["month"].dt.strftime("%Y-%m"), got["n_enrolled"], strict=True)) == truth


def test_goal_attainment_every_number_and_judgement(demo_set: dict) -> None:
    truth = demo_set["demo"].truth
    t, s, e = truth["projects"]["all"], truth["projects"]["Steget"], truth["enrolment"]
    exited = t["n"] - t["ongoing"]
    goals = demo_set["goals"]
    expected = [
        # measure, project, value, numerator, denominator, judgement
        ("share_upward", "all", t["upward"] / t["n"], t["upward"], t["n"], "partly_met"),  # 68% vs 100%, partly >= 60%
        ("share_self_sufficient", "all", t["self_sufficient"] / exited, t["self_sufficient"], exited, "met"),
        ("share_unclear", "all", t["unclear"] / exited, t["unclear"], exited, "partly_met"),  # 28.6% vs <= 25%
        ("enrolled_every_month", "all", e["lowest"], e["lowest"], None, "partly_met"),  # 4 of 24 months below
        ("n_participants", "all", t["n"], t["n"], None, "not_met"),  # 120 of 200, under 3/4
        ("share_upward", "Steget", s["upward"] / s["n"], s["upward"], s["n"], "met"),
    ]
    assert len(goals) == len(expected)
    for (_, row), (measure, project, value, num, den, judgement) in zip(goals.iterrows(), expected, strict=True):
        assert (row["measure"], row["project"]) == (measure, project)
        assert row["value"] == pytest.approx(value)
        assert row["numerator"] == num
        assert pd.isna(row["denominator"]) if den is None else row["denominator"] == den
        assert row["judgement"] == judgement, row["target"]
    enrol = goals.iloc[3]
    assert enrol["months_assessed"] == e["months_assessed"] == 24
    assert enrol["months_below"] == len(e["months_below"]) == 4
    assert enrol["lowest_month"] == e["lowest_month"]
    # the demo's enrolment dips under the target after nearly reaching it
    assert "2022-04" in e["months_below"] and e["monthly_all"]["2022-03"] < 40


def test_goal_paragraphs_state_evidence_and_judgement(demo_set: dict) -> None:
    table = publishable_goal_table(demo_set["goals"], 5)
    assert (
        table["paragraph_en"]
        .iloc[0]
        .endswith("82 of 120 participants have a documented upward step (68.3%). Partly met.")
    )
    assert "82 av 120 deltagare" in table["paragraph_sv"].iloc[0] and "68,3\u00a0%" in table["paragraph_sv"].iloc[0]
    assert table["paragraph_sv"].iloc[4].endswith("Inte uppfyllt.")
    assert "lägst 36 i 2022-01" in table["paragraph_sv"].iloc[3]


def test_goal_table_suppresses_small_counts_in_numbers_and_text() -> None:
    measures = pd.DataFrame(
        [{"project": "all", "gender": "all", "n_participants": 30, "n_upward": 3, "n_exited": 12,
          "n_self_sufficient": 0, "n_favourable": 6, "n_unclear": 2}]
    )  # fmt: skip
    enrolment = pd.DataFrame({"project": "all", "month": pd.to_datetime(["2022-01-01"]), "n_enrolled": [3]})
    targets = targets_from_dict(
        {"targets": [{"name": "Steg", "measure": "share_upward", "threshold": 0.5},
                     {"name": "Egen", "measure": "share_self_sufficient", "threshold": 0.2},
                     {"name": "Inskrivna", "measure": "enrolled_every_month", "threshold": 10}]}
    )  # fmt: skip
    table = publishable_goal_table(goal_attainment(targets, measures, enrolment), 5)
    assert pd.isna(table.loc[0, "numerator"]) and pd.isna(table.loc[0, "value"]) and table.loc[0, "suppressed"]
    assert table.loc[0, "judgement"] == "not_met"
    assert ".. of 30" in table.loc[0, "paragraph_en"] and " 3 " not in table.loc[0, "paragraph_en"]
    assert table.loc[1, "numerator"] == 0 and table.loc[1, "judgement"] == "not_met"  # zero is shown
    assert "lowest .." in table.loc[2, "paragraph_en"]


def test_unknown_measure_in_targets_is_named() -> None:
    with pytest.raises(
        ValueError, match=r"t\.yaml.*participant_flow\.targets(?s:.*)target 1 \('X'\): measure: .*'share_happy'"
    ):
        targets_from_dict({"targets": [{"name": "X", "measure": "share_happy", "threshold": 0.5}]}, "t.yaml")


# ---- bad input: each a clear message naming file, row and value ------------------------------------------


def _write(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


PEOPLE_HEADER = "participant_id;project;gender;birth_year;start_date;end_date;exit_status;goal"


def _people(tmp_path: Path, *rows: str) -> Path:
    return _write(tmp_path / "deltagare.csv", [PEOPLE_HEADER, *rows])


def test_dates_in_swedish_forms_are_read(tmp_path: Path) -> None:
    path = _people(
        tmp_path,
        "p1;Steget;K;1990;2021-03-01;;;",
        "p2;Steget;M;1985;1/3/2021;15/9/2021;Arbete;Jobb",
        "p3;Steget;A;;44256;44454;Okänt;",
    )
    people = read_participants(path, LAD)
    assert (people["start_date"] == pd.Timestamp("2021-03-01")).all()
    assert people.loc[1, "end_date"] == pd.Timestamp("2021-09-15")
    assert people.loc[2, "end_date"] == pd.Timestamp("1899-12-30") + pd.Timedelta(days=44454)


def test_bad_date_names_file_row_and_value(tmp_path: Path) -> None:
    path = _people(tmp_path, "p1;Steget;K;1990;2021-03-01;;;", "p2;Steget;M;1985;mars 2021;;;")
    with pytest.raises(DocumentationError, match=r"(?s)deltagare\.csv.*row 3, column 'start_date': 'mars 2021'"):
        read_participants(path, LAD)


def test_end_before_start(tmp_path: Path) -> None:
    path = _people(tmp_path, "p1;Steget;K;1990;2021-03-01;2021-02-01;Arbete;")
    with pytest.raises(
        DocumentationError, match=r"row 2: participant 'p1' ends 2021-02-01, before the start 2021-03-01"
    ):
        read_participants(path, LAD)


def test_unknown_exit_status_and_end_without_exit(tmp_path: Path) -> None:
    path = _people(
        tmp_path, "p1;Steget;K;1990;2021-03-01;2021-06-01;Jobb;", "p2;Steget;K;1990;2021-03-01;2021-06-01;Jobb;"
    )
    with pytest.raises(DocumentationError, match=r"unknown exit status 'Jobb' in row 2; row 3"):
        read_participants(path, LAD)
    path = _people(tmp_path, "p1;Steget;K;1990;2021-03-01;2021-06-01;;")
    with pytest.raises(DocumentationError, match="row 2: participant 'p1' has an end date but no exit status"):
        read_participants(path, LAD)


def test_unknown_statuses_listed_with_rows(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "status.csv",
        ["participant_id,period_start,status", "p1,2021-01-01,Kartläggning/utredning", "p1,2021-04-01,Arbte",
         "p2,2021-01-01,Arbte", "p2,2021-04-01,Semester"],
    )  # fmt: skip
    with pytest.raises(DocumentationError) as err:
        read_status_documentation(path, LAD)
    msg = str(err.value)
    assert "status.csv" in msg and "unknown status 'Arbte' in row 3; row 4" in msg and "'Semester' in row 5" in msg
    assert "allowed, from participant_flow.ladder 'Svensk standardstege': Ej aktuell för aktivitet just nu" in msg


def test_unknown_status_in_wide_sheet_names_row_and_column(tmp_path: Path) -> None:
    path = tmp_path / "status.xlsx"
    pd.DataFrame(
        {"deltagar_id": ["p1", "p2"], "2021-Q1": ["Arbete", "Kartläggning/utredning"], "2021K2": [None, "Sjuk"]}
    ).to_excel(path, index=False)
    with pytest.raises(DocumentationError, match=r"unknown status 'Sjuk' in row 3 column 2021K2"):
        read_status_documentation(path, LAD)


def test_wide_sheet_header_that_is_not_a_period(tmp_path: Path) -> None:
    path = _write(tmp_path / "wide.csv", ["participant_id,2021-Q1,kommentar", "p1,Arbete,bra"])
    with pytest.raises(DocumentationError, match="column 'kommentar': not a period header"):
        read_status_documentation(path, LAD)


def test_duplicated_participant_period(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "status.csv",
        ["participant_id,period_start,status", "p1,2021-01-01,Arbete", "p1,1/1/2021,Studier"],
    )
    with pytest.raises(DocumentationError, match=r"participant 'p1', period 2021-01-01 documented twice \(rows 2, 3\)"):
        read_status_documentation(path, LAD)


def test_participants_in_one_file_but_not_the_other(tmp_path: Path) -> None:
    people = read_participants(
        _people(tmp_path, "p1;Steget;K;1990;2021-01-01;;;", "p2;Steget;K;1990;2021-01-01;;;"), LAD
    )
    status = _write(
        tmp_path / "status.csv",
        ["participant_id,period_start,status", "p1,2021-01-01,Arbete", "p9,2021-01-01,Arbete"],
    )
    docs = read_status_documentation(status, LAD)
    with pytest.raises(
        DocumentationError, match=r"(?s)status\.csv.*participant 'p9' \(row 3\) is not in deltagare\.csv"
    ):
        check_documentation(people, docs, "deltagare.csv", "status.csv")
    docs = docs[docs["participant_id"] != "p9"]
    with pytest.raises(
        DocumentationError, match=r"(?s)deltagare\.csv.*row 3: participant 'p2' has no status documented"
    ):
        check_documentation(people, docs, "deltagare.csv", "status.csv")


def test_period_outside_enrolment(tmp_path: Path) -> None:
    people = read_participants(_people(tmp_path, "p1;Steget;K;1990;2021-02-15;2021-08-31;Arbete;"), LAD)
    status = _write(
        tmp_path / "status.csv",
        ["participant_id,period_start,status", "p1,2021-01-01,Arbetsprövning", "p1,2021-07-01,Arbetsprövning",
         "p1,2021-10-01,Arbete", "p1,2020-10-01,Arbetsprövning"],
    )  # fmt: skip
    docs = read_status_documentation(status, LAD)
    with pytest.raises(DocumentationError) as err:
        check_documentation(people, docs, "deltagare.csv", "status.csv")
    msg = str(err.value)
    assert "2 problem(s)" in msg
    assert (
        "row 4: participant 'p1', period starting 2021-10-01 lies outside the enrolment 2021-02-15 .. 2021-08-31" in msg
    )
    assert "row 5: participant 'p1', period starting 2020-10-01" in msg


def test_indicator_change_recovers_the_planted_gain(demo_set: dict) -> None:
    from insats.tasks.participants.indicators import (
        exit_association,
        indicator_change,
        indicator_scores,
        load_indicator_spec,
        read_indicator_responses,
    )

    paths = demo_set["paths"]
    spec = load_indicator_spec(paths["indicators"])
    scores = indicator_scores(read_indicator_responses(paths["indicator_responses"], spec, demo_set["people"]), spec)
    change = indicator_change(scores, demo_set["people"], spec)
    total = change[change["project"] == "all"]
    assert len(total) == 6 and (total["ci_low"] > 0).all() and (total["effect_size"] > 0.5).all()
    # participants without upward steps do not improve: compare the gain by planted group
    up = set(demo_set["steps"].loc[demo_set["steps"]["any_upward"], "participant_id"])
    s = scores.dropna(subset=["score"])
    first_last = s.sort_values("occasion").groupby(["participant_id", "indicator"])["score"].agg(["first", "last"])
    gain = (first_last["last"] - first_last["first"]).groupby(level=0).mean()
    assert gain[gain.index.isin(up)].mean() > 0.5 > abs(gain[~gain.index.isin(up)].mean())
    assoc = exit_association(scores, demo_set["steps"], spec)
    assert assoc["estimated"].all() and (assoc["odds_ratio"] > 1).sum() >= 5
    # with N too small the association is not estimated, and says why
    few = demo_set["steps"].head(8)
    small = exit_association(scores[scores["participant_id"].isin(few["participant_id"])], few, spec)
    assert not small["estimated"].any() and small["note"].str.startswith("not estimated").all()


def test_indicator_answer_off_scale(tmp_path: Path) -> None:
    from insats.tasks.participants.indicators import indicator_spec_from_dict, read_indicator_responses

    spec = indicator_spec_from_dict(
        {"likert": {"min": 1, "max": 5, "labels": {"Stämmer helt": 5}},
         "indicators": [{"id": "a", "items": ["q1", "q2"]}]}
    )  # fmt: skip
    path = _write(tmp_path / "ind.csv", ["participant_id,date,q1,q2", "p1,1/3/2021,Stämmer helt,3", "p1,1/6/2021,7,2"])
    with pytest.raises(DocumentationError, match=r"(?s)ind\.csv.*row 3, column 'q1': '7' is not an answer 1\.\.5"):
        read_indicator_responses(path, spec)


def test_demo_is_deterministic() -> None:
    a, b = make_participant_demo(7), make_participant_demo(7)
    pd.testing.assert_frame_equal(a.participants, b.participants)
    pd.testing.assert_frame_equal(a.indicators, b.indicators)
    assert not make_participant_demo(8).participants["start_date"].equals(a.participants["start_date"])
    assert np.isfinite(a.indicators[["h1", "h2"]].astype(float)).any().all()
    assert yaml.safe_dump(LADDER, allow_unicode=True)


def test_a_group_too_small_to_show_gets_no_judgement() -> None:
    measures = pd.DataFrame(
        [{"project": "pilot", "gender": "all", "n_participants": 3, "n_upward": 3, "n_exited": 3,
          "n_self_sufficient": 3, "n_favourable": 3, "n_unclear": 0}]
    )  # fmt: skip
    enrolment = pd.DataFrame({"project": "pilot", "month": pd.to_datetime(["2022-01-01"]), "n_enrolled": [3]})
    targets = targets_from_dict(
        {"targets": [{"name": "Steg", "measure": "share_upward", "threshold": 1.0, "project": "pilot"}]}
    )
    raw = goal_attainment(targets, measures, enrolment)
    assert raw.loc[0, "judgement"] == "met"  # all three moved up: publishing "met" would tell each outcome
    table = publishable_goal_table(raw, 5)
    assert table.loc[0, "judgement"] == "not_assessable" and pd.isna(table.loc[0, "value"])


# ---- issue 11: problem lists, aliases, end-date semantics, target windows, one pass over both files ------------


def test_every_unknown_exit_status_is_listed_with_its_rows_and_the_setting(tmp_path: Path) -> None:
    from insats.errors import format_error

    bad = ["Jobb", "Semester", "Föräldraledig", "Utvandrat", "Pension"]
    rows = [f"p{i};Steget;K;1990;2021-03-01;2021-06-01;{v};" for i, v in enumerate(bad)]
    with pytest.raises(DocumentationError) as err:
        read_participants(_people(tmp_path, *rows), LAD)
    exc = err.value
    assert exc.file.endswith("deltagare.csv") and len(exc.problems) == 6  # five values and the allowed list
    lines = format_error(exc)
    assert lines[0].startswith(f"{tmp_path / 'deltagare.csv'}: participant list is not usable (6 problem(s)")
    for i, value in enumerate(bad):
        assert f"  - unknown exit status {value!r} in row {i + 2}" in lines
    assert any("participant_flow.ladder" in line and "Okänt" in line for line in lines)


def test_a_long_problem_list_is_capped_for_the_terminal(tmp_path: Path) -> None:
    from insats.errors import format_error

    rows = [f"p{i};Steget;K;1990;mars 2021;;;" for i in range(30)]
    with pytest.raises(DocumentationError) as err:
        read_participants(_people(tmp_path, *rows), LAD)
    lines = format_error(err.value, limit=20)
    assert len(err.value.problems) == 30 and len(lines) == 22
    assert lines[-1] == "  ... and 10 more problem(s)" and "row 2, column 'start_date'" in lines[1]
    assert "row 31, column 'start_date'" in str(err.value)  # the full text keeps every problem


def test_ladder_aliases_map_case_insensitively_to_the_status(tmp_path: Path) -> None:
    data = {**LADDER, "aliases": {"Arbete": ["arbete heltid", "Anställd"], "Okänt": "vet ej"}}
    data["steps"] = [*LADDER["steps"][:-1], {"status": "Arbete", "en": "Work", "aliases": ["Jobb"]}]
    ladder = ladder_from_dict(data, "ladder.yaml")
    assert ladder.canonical("ANSTÄLLD") == "Arbete" and ladder.canonical("arbete  Heltid") == "Arbete"
    assert ladder.canonical("jobb") == "Arbete" and ladder.canonical("Vet ej") == "Okänt"
    assert ladder.canonical("vet ej", ladder.steps) is None  # an exit-only status is no step
    rows = ["p1;Steget;K;1990;2021-01-01;2021-06-30;anställd;", "p2;Steget;M;1990;2021-01-01;2021-06-30;VET EJ;"]
    people = read_participants(_people(tmp_path, *rows), ladder)
    assert list(people["exit_status"]) == ["Arbete", "Okänt"]
    status = _write(tmp_path / "status.csv", ["participant_id,period_start,status", "p1,2021-01-01,Arbete Heltid"])
    assert read_status_documentation(status, ladder)["status"].tolist() == ["Arbete"]


def test_ladder_aliases_must_be_unambiguous() -> None:
    data = {**LADDER, "aliases": {"Arbete": ["studier"]}}
    with pytest.raises(
        ValueError, match=r"(?s)l\.yaml: not a valid ladder.*participant_flow\.ladder.*'studier' cannot mean"
    ):
        ladder_from_dict(data, "l.yaml")
    with pytest.raises(ValueError, match=r"aliases: 'Semester' is not a status of the ladder"):
        ladder_from_dict({**LADDER, "aliases": {"Semester": ["ledig"]}}, "l.yaml")


def test_bad_ladder_names_every_field_at_fault() -> None:
    bad = {"steps": ["A", "", "A"], "exit": {"self_sufficient": ["A"], "happy": ["B"]}}
    with pytest.raises(ValueError) as err:
        ladder_from_dict(bad, "l.yaml")
    msg = str(err.value)
    assert "steps[2].status: expected a status as text, got ''" in msg
    assert "exit: unknown exit categor(y/ies) ['happy']" in msg


def test_exclusive_end_dates_give_the_months_of_the_inclusive_equivalent(tmp_path: Path) -> None:
    rows_incl = ["p1;Steget;K;1990;2021-01-15;2021-06-30;Arbete;", "p2;Steget;M;1990;2021-03-01;2021-03-31;Okänt;",
                 "p3;Steget;A;1990;2021-02-01;;;"]  # fmt: skip
    rows_excl = ["p1;Steget;K;1990;2021-01-15;2021-07-01;Arbete;", "p2;Steget;M;1990;2021-03-01;2021-04-01;Okänt;",
                 "p3;Steget;A;1990;2021-02-01;;;"]  # fmt: skip
    incl = read_participants(_people(tmp_path, *rows_incl), LAD)
    excl = read_participants(_write(tmp_path / "excl.csv", [PEOPLE_HEADER, *rows_excl]), LAD, end_date="exclusive")
    pd.testing.assert_frame_equal(incl, excl)
    as_of = pd.Timestamp("2021-08-31")
    enrolment = enrolment_by_month(excl, as_of).query("project == 'all'")
    assert enrolment["n_enrolled"].tolist() == [1, 2, 3, 2, 2, 2, 1, 1]  # Jan..Aug: July is not enrolled by p1
    # read as inclusive, the exclusive dates would add July for p1 and April for p2
    wrong = enrolment_by_month(read_participants(tmp_path / "excl.csv", LAD), as_of).query("project == 'all'")
    assert wrong["n_enrolled"].tolist() == [1, 2, 3, 3, 2, 2, 2, 1]
    statuses = pd.DataFrame(
        {"participant_id": ["p1", "p2", "p3"], "period_start": pd.to_datetime(["2021-01-01"] * 2 + ["2021-02-01"]),
         "status": ["Arbetsprövning"] * 3}
    )  # fmt: skip
    steps = participant_steps(excl, statuses, LAD, as_of).set_index("participant_id")
    assert steps.loc["p2", "months_enrolled"] == pytest.approx(31 / 30.4375, abs=0.01)  # March, both ends counted


def test_exclusive_end_on_the_start_day_is_an_error(tmp_path: Path) -> None:
    path = _people(tmp_path, "p1;Steget;K;1990;2021-03-01;2021-03-01;Arbete;")
    with pytest.raises(DocumentationError, match=r"ends 2021-02-28 \(read as exclusive, participant_flow\.end_date"):
        read_participants(path, LAD, end_date="exclusive")


def test_a_target_window_outside_the_data_warns_naming_window_and_period() -> None:
    from insats.tasks.participants.goals import TargetWindowWarning

    enrolment = pd.DataFrame(
        {"project": "all", "month": pd.date_range("2021-03-01", "2023-12-01", freq="MS"), "n_enrolled": 50}
    )
    measures = pd.DataFrame(columns=["project", "gender"])
    targets = targets_from_dict(
        {"targets": [
            {"name": "Förr", "measure": "enrolled_every_month", "threshold": 40, "from": "2019-01", "to": "2019-12"},
            {"name": "Delvis", "measure": "enrolled_every_month", "threshold": 40, "from": "2023-01", "to": "2024-06"},
            {"name": "Inne", "measure": "enrolled_every_month", "threshold": 40, "from": "2022-01", "to": "2022-12"},
        ]}
    )  # fmt: skip
    with pytest.warns(TargetWindowWarning) as caught:
        table = goal_attainment(targets, measures, enrolment)
    texts = [str(w.message) for w in caught]
    assert len(texts) == 2
    assert (
        "'Förr'" in texts[0]
        and "2019-01 .. 2019-12 lies wholly outside the data's period 2021-03 .. 2023-12" in texts[0]
    )
    assert "'Delvis'" in texts[1] and "2023-01 .. 2024-06 reaches outside" in texts[1]
    assert table["judgement"].tolist() == ["not_assessable", "met", "met"]
    assert table.loc[1, "months_assessed"] == 12


def test_both_files_problems_come_in_one_error(tmp_path: Path) -> None:
    from insats.tasks.participants.readers import read_documentation

    people = _people(tmp_path, "p1;Steget;K;1990;2021-01-01;;;", "p2;Steget;X;1990;mars 2021;;;")
    status = _write(
        tmp_path / "status.csv",
        ["participant_id,period_start,status", "p1,2021-01-01,Arbte", "p1,2021-01-01,Arbete", "p9,2021-01-01,Arbete"],
    )
    with pytest.raises(DocumentationError) as err:
        read_documentation(people, status, LAD)
    by_file: dict[str | None, list[str]] = {}
    for p in err.value.problems:
        by_file.setdefault(p.file, []).append(p.message)
    assert set(by_file) == {str(people), str(status)}
    assert any("column 'gender': 'X'" in m for m in by_file[str(people)])
    assert any("column 'start_date': 'mars 2021'" in m for m in by_file[str(people)])
    assert any("unknown status 'Arbte' in row 2" in m for m in by_file[str(status)])
    assert any("period 2021-01-01 documented twice (rows 2, 3)" in m for m in by_file[str(status)])
    assert any("participant 'p9' (row 4) is not in" in m for m in by_file[str(status)])
    text = str(err.value)
    assert text.startswith("participant documentation is not usable (") and f"  {status}:" in text


def test_read_documentation_matches_the_separate_readers(demo_set: dict) -> None:
    from insats.tasks.participants.readers import read_documentation

    paths = demo_set["paths"]
    people, statuses = read_documentation(paths["participants"], paths["status_wide"], demo_set["ladder"])
    pd.testing.assert_frame_equal(people, demo_set["people"])
    pd.testing.assert_frame_equal(statuses, demo_set["statuses"])


def test_bad_indicator_spec_names_file_setting_and_fields() -> None:
    from insats.tasks.participants.indicators import indicator_spec_from_dict

    bad = {"likert": {"min": 5, "max": 1}, "indicators": [{"id": "a", "items": ["q1"], "reverse": ["q9"]},
                                                          {"id": "b", "items": ["q1"]}]}  # fmt: skip
    with pytest.raises(ValueError) as err:
        indicator_spec_from_dict(bad, "ind.yaml")
    msg = str(err.value)
    assert msg.startswith(
        "ind.yaml: not a valid indicator spec (2 problem(s); config setting participant_flow.indicators)"
    )
    assert "likert: max (1) must exceed min (5)" in msg
    assert "indicators[1]: 'a' reverses items it lacks: ['q9']" in msg
    good_items = {
        **bad,
        "likert": {"min": 1, "max": 5},
        "indicators": [{"id": "a", "items": ["q1"]}, {"id": "b", "items": ["q1"]}],
    }
    with pytest.raises(ValueError, match=r"indicators: item 'q1' belongs to 'a' and 'b'"):
        indicator_spec_from_dict(good_items, "ind.yaml")
