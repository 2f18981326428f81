"""Register ingestion, standardise: canonical column names, codes, months, amounts and dates."""

from __future__ import annotations

import pandas as pd
import pytest

from insats.tasks.register.standardise import DEFAULT_COLUMNS, standardise
from tests.helpers import ROOT
from tests.helpers.register_ids import PNR_1, PNR_2, PNR_3, _pnr


def test_standardise_persons_renames_and_parses() -> None:
    raw = pd.DataFrame(
        {
            "Personnummer": [PNR_1, PNR_2],  # case differs from the mapping
            "kon": [1.0, 2.0],
            "fodelsear": ["1985", "2003"],
            "utrikes_fodd": [0, 1],
            "utbildning": [1, None],
            "hushallstyp": [4, 2],
            "kommunkod": [484, 482],  # numeric: leading zero lost in Excel
            "extra": ["x", "y"],
        }
    )
    out = standardise(raw, "persons", DEFAULT_COLUMNS["persons"], "personer.csv")
    assert list(out.columns) == list(DEFAULT_COLUMNS["persons"])
    assert list(out["municipality"]) == ["0484", "0482"]
    assert list(out["sex"]) == [1, 2] and out["sex"].dtype == "Int64"
    assert list(out["birth_year"]) == [1985, 2003]
    assert out["education"].isna().tolist() == [False, True]
    assert list(out["personnummer"]) == [PNR_1.replace("-", ""), PNR_2.replace("-", "")]  # normalised: 12 digits


def test_standardise_missing_columns_lists_canonical_source_and_file() -> None:
    raw = pd.DataFrame({"personnummer": [PNR_1], "hushall_id": ["H1"]})
    with pytest.raises(ValueError) as info:
        standardise(raw, "assistance", DEFAULT_COLUMNS["assistance"], "utbetalningar_2024.csv")
    message = str(info.value)
    assert "utbetalningar_2024.csv" in message
    assert "month (source column 'manad')" in message
    assert "amount (source column 'belopp')" in message


def test_standardise_unreadable_code_names_row_column_and_file() -> None:
    raw = pd.DataFrame(
        {
            "personnummer": [PNR_1, PNR_2, PNR_3],
            "kon": ["1", "2", "k"],
            "fodelsear": [1985, 2003, 1979],
            "utrikes_fodd": [0, 1, 0],
            "utbildning": [1, 2, 3],
            "hushallstyp": [1, 2, 3],
            "kommunkod": ["0484"] * 3,
        }
    )
    expected = r"persons\.sav: column 'sex' \(source column 'kon'\).*row\(s\) 3 \('k'\)"
    with pytest.raises(ValueError, match=expected):
        standardise(raw, "persons", DEFAULT_COLUMNS["persons"], "persons.sav")


def test_code_outside_its_list_is_left_to_the_input_suite() -> None:
    from insats.validation import validate_frame

    raw = pd.DataFrame(
        {
            "personnummer": [PNR_1, PNR_2, PNR_3],
            "kon": [1, 2, 3],
            "fodelsear": [1985, 2003, 1979],
            "utrikes_fodd": [0, 1, 0],
            "utbildning": [1, 2, 3],
            "hushallstyp": [1, 2, 3],
            "kommunkod": [484, 484, 484],
        }
    )
    out = standardise(raw, "persons", DEFAULT_COLUMNS["persons"], "persons.sav")
    assert list(out["municipality"]) == ["0484"] * 3
    report = validate_frame(out, "input.persons")
    assert [(o.column, o.unexpected_count, o.samples) for o in report.failures] == [("sex", 1, ["3"])]


@pytest.mark.parametrize(
    "value", [202103, "202103", "2021-03", "2021-03-15", "20210315", pd.Timestamp("2021-03-15 10:30")]
)
def test_month_formats(value: object) -> None:
    raw = pd.DataFrame({"personnummer": [PNR_1], "manad": pd.Series([value]), "sysselsatt": [1], "studerar": [0]})
    out = standardise(raw, "outcomes", DEFAULT_COLUMNS["outcomes"], "o.csv")
    assert out["month"].iloc[0] == pd.Timestamp("2021-03-01")
    assert pd.api.types.is_datetime64_any_dtype(out["month"])


def test_bad_month_is_reported_with_row() -> None:
    raw = pd.DataFrame(
        {
            "personnummer": [PNR_1, PNR_2],
            "manad": [202103, 202113],
            "hushall_id": ["a", "b"],
            "belopp": ["100,5", "200"],
        }
    )
    with pytest.raises(ValueError, match=r"a\.csv: column 'month' \(source column 'manad'\).*row\(s\) 2"):
        standardise(raw, "assistance", DEFAULT_COLUMNS["assistance"], "a.csv")


def test_amount_with_decimal_comma_and_spells_dates() -> None:
    raw = pd.DataFrame({"personnummer": [PNR_1], "manad": ["2021-03"], "hushall_id": [7], "belopp": ["1 200,50"]})
    out = standardise(raw, "assistance", DEFAULT_COLUMNS["assistance"], "a.csv")
    assert out["amount"].iloc[0] == pytest.approx(1200.5)
    assert out["household_id"].iloc[0] == "7"
    spells = pd.DataFrame(
        {
            "personnummer": [PNR_1, PNR_2],
            "insats_id": ["INS01", "INS02"],
            "startdatum": ["20210301", "2021-04-01"],
            "slutdatum": ["2021-06-30", None],
        }
    )
    out = standardise(spells, "spells", DEFAULT_COLUMNS["spells"], "s.csv")
    assert list(out["start_date"]) == [pd.Timestamp("2021-03-01"), pd.Timestamp("2021-04-01")]
    assert out["end_date"].iloc[0] == pd.Timestamp("2021-06-30") and pd.isna(out["end_date"].iloc[1])


def test_end_before_start_is_rejected_by_the_input_suite() -> None:
    from insats.validation import validate_frame

    spells = pd.DataFrame(
        {
            "personnummer": [PNR_1, PNR_2],
            "insats_id": ["INS01", "INS01"],
            "startdatum": ["2021-03-01", "2021-03-01"],
            "slutdatum": ["2021-02-01", None],
        }
    )
    from insats.config import load_config
    from insats.validation import input_parameters

    params = input_parameters(load_config(ROOT / "configs" / "demo.yaml"))
    report = validate_frame(standardise(spells, "spells", DEFAULT_COLUMNS["spells"], "s.csv"), "input.spells", params)
    assert [(o.expectation, o.unexpected_count) for o in report.failures] == [
        ("expect_column_pair_values_a_to_be_greater_than_b", 1)
    ]


def test_missing_key_value_is_rejected() -> None:
    spells = pd.DataFrame(
        {"personnummer": [PNR_1], "insats_id": [None], "startdatum": ["2021-03-01"], "slutdatum": [None]}
    )
    with pytest.raises(ValueError, match="intervention_id.*every row"):
        standardise(spells, "spells", DEFAULT_COLUMNS["spells"], "s.csv")


def test_numeric_personnummer_gets_leading_zero_back() -> None:
    ten = _pnr("20050612", "931").replace("-", "")[2:]  # 0506129314-like, 10 digits with leading 0
    raw = pd.DataFrame({"personnummer": [int(ten)], "manad": [202101], "sysselsatt": [0], "studerar": [1]})
    out = standardise(raw, "outcomes", DEFAULT_COLUMNS["outcomes"], "o.sav")
    assert out["personnummer"].iloc[0] == "20" + ten  # the leading zero back, normalised to 12 digits
