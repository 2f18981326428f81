"""Participant flow, bad input: each a clear message naming file, row and value (problem lists are capped
and both files' problems come in one error)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from insats.tasks.participants.readers import (
    DocumentationError,
    check_documentation,
    read_participants,
    read_status_documentation,
)
from tests.helpers.participant_files import LAD, _people, _write


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


def test_indicator_answer_off_scale(tmp_path: Path) -> None:
    from insats.tasks.participants.indicators import indicator_spec_from_dict, read_indicator_responses

    spec = indicator_spec_from_dict(
        {"likert": {"min": 1, "max": 5, "labels": {"Stämmer helt": 5}},
         "indicators": [{"id": "a", "items": ["q1", "q2"]}]}
    )  # fmt: skip
    path = _write(tmp_path / "ind.csv", ["participant_id,date,q1,q2", "p1,1/3/2021,Stämmer helt,3", "p1,1/6/2021,7,2"])
    with pytest.raises(DocumentationError, match=r"(?s)ind\.csv.*row 3, column 'q1': '7' is not an answer 1\.\.5"):
        read_indicator_responses(path, spec)


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
