"""Participant flow: the status ladder and the readers (long/wide, CSV/XLSX, Swedish date forms, aliases,
exclusive end dates)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from insats.demo.participants import LADDER
from insats.tasks.participants.goals import load_targets
from insats.tasks.participants.ladder import ladder_from_dict, load_ladder
from insats.tasks.participants.measures import (
    enrolment_by_month,
    participant_steps,
)
from insats.tasks.participants.readers import (
    DocumentationError,
    parse_date,
    read_participants,
    read_status_documentation,
)
from tests.helpers import ROOT
from tests.helpers.participant_files import LAD, PEOPLE_HEADER, _people, _write


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


def test_read_documentation_matches_the_separate_readers(demo_set: dict) -> None:
    from insats.tasks.participants.readers import read_documentation

    paths = demo_set["paths"]
    people, statuses = read_documentation(paths["participants"], paths["status_wide"], demo_set["ladder"])
    pd.testing.assert_frame_equal(people, demo_set["people"])
    pd.testing.assert_frame_equal(statuses, demo_set["statuses"])
