import pandas as pd
import pytest

from insats.validation import GateError, gate, list_suites, validate_frame
from tasks.identity import luhn_check_digit


def _pnr(yymmdd: str, serial: str) -> str:
    return f"19{yymmdd}-{serial}{luhn_check_digit(yymmdd + serial)}"


def test_every_suite_has_a_description():
    suites = list_suites()
    assert {
        "input.persons",
        "interim.persons",
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
    report = validate_frame(df, "interim.persons")
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
