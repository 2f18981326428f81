import pandas as pd
import pytest

from insats.tasks.identity import luhn_check_digit
from insats.validation import GateError, gate, list_suites, validate_frame
from tests.helpers import ROOT


def _pnr(yymmdd: str, serial: str) -> str:
    return f"19{yymmdd}-{serial}{luhn_check_digit(yymmdd + serial)}"


def test_every_suite_has_a_description():
    suites = list_suites()
    assert {
        "input.persons",
        "register.persons",
        "employer_interviews.demand_profile",
        "outcome_evaluation.effects",
    } <= set(suites)
    assert all(suites.values())


def test_gate_names_table_expectation_and_masked_samples():
    pnr = _pnr("850612", "981")
    persons = pd.DataFrame(
        {
            "personnummer": [pnr, _pnr("900101", "982")],
            "sex": [1, 7],
            "birth_year": [1985, 1990],
            "born_abroad": [0, 1],
            "education": [1, 2],
            "household_type": [1, 2],
            "municipality": ["0484", "0484"],
        }
    )
    with pytest.raises(GateError) as err:
        gate(persons, "input.persons", table="persons.sav")
    message = str(err.value)
    assert "persons.sav" in message and "expect_column_values_to_be_in_set" in message and "'sex'" in message
    assert "7" in message


def test_identity_numbers_are_masked_in_reports():
    pnr = _pnr("850612", "983")
    df = pd.DataFrame(
        {
            "person_id": [pnr],
            "sex": [1],
            "birth_year": [1985],
            "born_abroad": [0],
            "education": [1],
            "household_type": [1],
            "municipality": ["0484"],
        }
    )
    report = validate_frame(df, "register.persons")
    assert not report.success
    text = report.summary("t") + str(report.raw)
    assert pnr not in text and pnr[:8] + "-****" in text


def test_validations_on_parallel_threads_do_not_mix_up_frames():
    from concurrent.futures import ThreadPoolExecutor

    good = pd.DataFrame({"employer_id": ["AG01"] * 50, "code_id": [f"K{i}" for i in range(50)], "n_segments": 1})
    bad = good.assign(n_segments=0)
    with ThreadPoolExecutor(4) as pool:
        results = list(
            pool.map(lambda df: validate_frame(df, "employer_interviews.code_frequencies").success, [good, bad] * 6)
        )
    assert results == [True, False] * 6


def _persons(pnrs, **over):
    n = len(pnrs)
    base = {
        "personnummer": pnrs,
        "sex": [1] * n,
        "birth_year": [1985] * n,
        "born_abroad": [0] * n,
        "education": [1] * n,
        "household_type": [1] * n,
        "municipality": ["0484"] * n,
    }
    return pd.DataFrame({**base, **over})


def test_wrong_check_digit_and_impossible_date_fail_the_identity_expectation():
    good = _pnr("850612", "981")
    wrong = good[:-1] + str((int(good[-1]) + 1) % 10)
    samordning = _pnr("850672", "982")  # day + 60
    report = validate_frame(_persons([good, wrong, samordning, "19851332-1234"]), "input.persons")
    failure = next(o for o in report.failures if o.column == "personnummer")
    assert failure.expectation == "expect_column_values_to_be_valid_swedish_identity_numbers"
    assert failure.unexpected_count == 2 and failure.unexpected_rows == [1, 3]
    assert wrong not in str(failure.samples)  # masked


def test_codes_come_from_the_shipped_code_lists():
    from insats.validation import codelists

    lists = codelists()
    assert len(lists["codelist_municipality"]) == 290 and "0484" in lists["codelist_municipality"]
    report = validate_frame(
        _persons([_pnr("850612", "981"), _pnr("900101", "982")], municipality=["0484", "0499"]), "input.persons"
    )
    assert [(o.column, o.samples) for o in report.failures] == [("municipality", ["0499"])]


def test_months_outside_the_stated_period_fail():
    from insats.config import load_config
    from insats.validation import input_parameters

    params = input_parameters(load_config(ROOT / "configs" / "demo.yaml"))
    df = pd.DataFrame(
        {
            "personnummer": [_pnr("850612", "981")] * 2,
            "month": pd.to_datetime(["2024-12-01", "2025-01-01"]),
            "employed": [0, 1],
            "studying": [0, 0],
        }
    )
    report = validate_frame(df, "input.outcomes", params)
    assert [(o.column, o.unexpected_rows) for o in report.failures if o.column == "month"] == [("month", [1])]
    with pytest.raises(ValueError, match="needs the parameter"):
        validate_frame(df, "input.outcomes")


def test_value_labels_must_agree_with_the_code_lists():
    from insats.validation import value_label_problems

    columns = {"sex": "kon", "education": "utb"}
    assert value_label_problems({"kon": {1: "Man", 2: "Kvinna"}, "utb": {1: "Förgymnasial"}}, columns) == []
    problems = value_label_problems({"kon": {1: "Man", 2: "Kvinna", 3: "Okänt"}}, columns)
    assert len(problems) == 1 and "'kon'" in problems[0] and "3='Okänt'" in problems[0]


def test_value_label_text_is_compared_with_the_code_lists_code_and_label():
    """Swapped labels (1=Kvinna, 2=Man) are caught; the code list's labels in either language, in any case and
    without accents, are accepted; a 0/1 born-abroad column may say Nej/Ja."""
    from insats.validation import value_label_problems

    columns = {"sex": "kon", "education": "utb", "born_abroad": "utr"}
    (problem,) = value_label_problems({"kon": {1: "Kvinna", 2: "Man"}}, columns)
    assert "1='Kvinna' but the code list says 1='Man' (that is code 2 in sex.csv: swapped coding?)" in problem
    assert "2='Man' but the code list says 2='Kvinna'" in problem
    fine = {"kon": {1: "MAN", 2: "woman"}, "utb": {1: "forgymnasial", 3: "Post-secondary"}, "utr": {0: "Nej", 1: "ja"}}
    assert value_label_problems(fine, columns) == []
    (problem,) = value_label_problems({"utb": {3: "Högskola"}}, columns)
    assert "3='Högskola' but the code list says 3='Eftergymnasial'" in problem and "swapped" not in problem


def test_cross_table_suite_finds_persons_missing_from_the_persons_table():
    df = pd.DataFrame({"person_id": ["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb"]})
    report = validate_frame(df, "crosstable.person_exists", {"known_person_ids": ["aaaaaaaaaaaaaaaa"]})
    assert [(o.column, o.unexpected_rows) for o in report.failures] == [("person_id", [1])]


def test_digit_runs_inside_checksums_are_not_taken_for_identity_numbers():
    from insats.tasks.identity import find_identity_numbers

    pnr = _pnr("130111", "965")
    assert find_identity_numbers(f"sha256 ec66fadef{pnr[2:].replace('-', '')}b0e6291f") == []
    assert find_identity_numbers(f"pnr: {pnr}, tel") == [(5, 5 + len(pnr))]
    assert find_identity_numbers(f"({pnr[2:]})") == [(1, 1 + len(pnr) - 2)]


def test_a_person_with_a_gap_in_the_monthly_outcomes_is_flagged():
    from insats.config import load_config
    from insats.validation import input_parameters

    params = input_parameters(load_config(ROOT / "configs" / "demo.yaml"))
    months = pd.date_range("2021-01-01", "2024-12-01", freq="MS")
    a, b = _pnr("850612", "981"), _pnr("900101", "982")
    df = pd.DataFrame(
        {
            "personnummer": [a] * len(months) + [b] * (len(months) - 1),
            "month": list(months) + list(months[:20]) + list(months[21:]),
            "employed": 0,
            "studying": 0,
        }
    )
    report = validate_frame(df, "input.outcomes", params)
    failure = next(o for o in report.failures)
    assert failure.expectation == "expect_column_values_to_occur_in_every_month_of_the_period"
    assert failure.unexpected_count == len(months) - 1 and min(failure.unexpected_rows) == len(months)


# --- errors that keep their detail (issue 11) ------------------------------------------------------------


def test_input_error_lists_every_problem_grouped_by_file_and_survives_pickling():
    import pickle

    from insats.errors import InputError, Problem

    exc = InputError(
        "participant documentation is not usable",
        [Problem("row 2, column 'gender': 'X'", "a.csv"), Problem("unknown status 'Arbte' in row 3", "b.csv")],
        setting="participant_flow.ladder",
    )
    assert str(exc).splitlines() == [
        "participant documentation is not usable (2 problem(s); config setting participant_flow.ladder):",
        "  a.csv:",
        "    - row 2, column 'gender': 'X'",
        "  b.csv:",
        "    - unknown status 'Arbte' in row 3",
    ]
    again = pickle.loads(pickle.dumps(exc))
    assert isinstance(again, ValueError) and again.problems == exc.problems and str(again) == str(exc)


def test_validation_problems_name_the_field_counting_items_from_one():
    from pydantic import BaseModel, ValidationError

    from insats.errors import validation_problems

    class Item(BaseModel):
        threshold: float

    class Spec(BaseModel):
        items: list[Item]

    with pytest.raises(ValidationError) as err:
        Spec.model_validate({"items": [{"threshold": 1}, {"threshold": "many"}]})
    (problem,) = validation_problems(err.value, file="t.yaml")
    assert problem.file == "t.yaml"
    assert (
        problem.message.startswith("items[2].threshold: Input should be a valid number")
        and "got 'many'" in problem.message
    )


def test_the_cli_prints_the_whole_problem_list_capped_not_the_first_line(tmp_path):
    import typer
    from typer.testing import CliRunner

    from insats.cli import user_errors
    from insats.errors import InputError

    app = typer.Typer()

    @app.command()
    def boom(n: int, plain: bool = False) -> None:
        with user_errors():
            if plain:
                raise ValueError("unknown exit status values:\n" + "\n".join(f"  - value {i}" for i in range(n)))
            raise InputError("unknown exit status values", [f"value {i}" for i in range(n)], file="p.csv")

    result = CliRunner().invoke(app, ["5"])
    assert result.exit_code == 1
    lines = result.output.splitlines()
    assert lines[0] == "Error: p.csv: unknown exit status values (5 problem(s)):"
    assert lines[1:6] == [f"  - value {i}" for i in range(5)]
    assert "(InputError); set INSATS_DEBUG=1 for the traceback" in lines[6]
    result = CliRunner().invoke(app, ["30"])
    lines = result.output.splitlines()
    assert (
        lines[20] == "  - value 19" and lines[21] == "  ... and 10 more problem(s)" and "value 20" not in result.output
    )
    result = CliRunner().invoke(app, ["3", "--plain"])  # any multi-line message is printed whole, as plain lines
    assert result.output.splitlines()[:4] == [
        "Error: unknown exit status values:",
        "  - value 0",
        "  - value 1",
        "  - value 2",
    ]
