"""Register ingestion: readers, standardise, pseudonymise, key loading."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from insats.tasks.identity import luhn_check_digit
from insats.tasks.register.pseudonymise import DEMO_KEY, PSEUDONYM_PATTERN, load_key, pseudonymise
from insats.tasks.register.readers import read_extract, read_value_labels
from insats.tasks.register.standardise import DEFAULT_COLUMNS, standardise
from tests.helpers import ROOT

KEY_A = b"0123456789abcdef-key-a"
KEY_B = b"0123456789abcdef-key-b"


def _pnr(date: str, serial: str) -> str:
    """A valid 12-digit personnummer with hyphen from ``YYYYMMDD`` and a 3-digit serial."""
    return f"{date}-{serial}{luhn_check_digit(date[2:] + serial)}"


PNR_1 = _pnr("19850612", "912")
PNR_2 = _pnr("20030101", "934")
PNR_3 = _pnr("19790375", "981")  # samordningsnummer (day 15 + 60)


@pytest.fixture()
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "personnummer": [PNR_1, PNR_2, PNR_3],
            "kon": [1, 2, 2],
            "kommunkod": ["0484", "0482", "0484"],
            "ort": ["Eskilstuna", "Västerås", "Torshälla"],
            "belopp": [1234.5, 800.25, 10000.0],
        }
    )


# ----------------------------------------------------------------------------------------------- readers


def test_sav_round_trip_with_labels_and_dates(frame: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "persons.sav"
    df = frame.assign(start=pd.to_datetime(["2021-03-01", "2022-12-31", None]))
    pyreadstat.write_sav(
        df,
        str(path),
        variable_value_labels={"kon": {1: "Man", 2: "Kvinna"}},
        column_labels={"ort": "Ort (kommundel)", "kon": "Kön"},
    )
    out = read_extract(path)
    assert out["kon"].dtype == "Int64"  # whole floats come back as integers
    assert list(out["kon"]) == [1, 2, 2]  # codes, not labels
    assert list(out["ort"]) == ["Eskilstuna", "Västerås", "Torshälla"]
    assert list(out["kommunkod"]) == ["0484", "0482", "0484"]
    assert out["belopp"].dtype == "float64"
    assert pd.api.types.is_datetime64_any_dtype(out["start"])
    assert out["start"].iloc[1] == pd.Timestamp("2022-12-31") and pd.isna(out["start"].iloc[2])
    assert read_value_labels(path) == {"kon": {1: "Man", 2: "Kvinna"}}


def test_dta_round_trip(frame: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "persons.dta"
    pyreadstat.write_dta(frame, str(path), variable_value_labels={"kon": {1: "Man", 2: "Kvinna"}})
    out = read_extract(path)
    assert list(out["kon"]) == [1, 2, 2] and out["kon"].dtype == "Int64"
    assert list(out["ort"]) == ["Eskilstuna", "Västerås", "Torshälla"]
    assert read_value_labels(path)["kon"] == {1: "Man", 2: "Kvinna"}


def test_xpt_round_trip(frame: pd.DataFrame, tmp_path: Path) -> None:
    path = tmp_path / "persons.xpt"
    pyreadstat.write_xport(frame.drop(columns=["ort"]), str(path))
    out = read_extract(path)
    assert list(out["personnummer"]) == [PNR_1, PNR_2, PNR_3]
    assert list(out["kon"]) == [1, 2, 2]
    assert np.allclose(out["belopp"], [1234.5, 800.25, 10000.0])


def test_cp1252_semicolon_csv_with_decimal_comma(tmp_path: Path) -> None:
    path = tmp_path / "utbetalningar.csv"
    text = (
        "personnummer;manad;belopp;ort;kommunkod\r\n"
        f"{PNR_1};202103;1 234,50;Västerås;0484\r\n"
        f"{PNR_2};202104;800,25;Örebro;0482\r\n"
        f"{PNR_3};202105;10000;Torshälla;0484\r\n"
    )
    path.write_bytes(text.encode("cp1252"))
    out = read_extract(path)
    assert list(out.columns) == ["personnummer", "manad", "belopp", "ort", "kommunkod"]
    assert list(out["ort"]) == ["Västerås", "Örebro", "Torshälla"]
    assert np.allclose(out["belopp"].astype(float), [1234.5, 800.25, 10000.0])
    assert list(out["manad"]) == [202103, 202104, 202105]
    assert list(out["kommunkod"]) == ["0484", "0482", "0484"]  # leading zeros kept
    assert list(out["personnummer"]) == [PNR_1, PNR_2, PNR_3]


def test_utf8_bom_comma_csv_and_tab_csv(tmp_path: Path) -> None:
    path = tmp_path / "personer.csv"
    path.write_bytes("\ufeffpersonnummer,kon,namn\n".encode() + f"{PNR_1},1,Åsa\n{PNR_2},2,Björn\n".encode())
    out = read_extract(path)
    assert list(out.columns) == ["personnummer", "kon", "namn"]  # BOM not glued to the first name
    assert list(out["namn"]) == ["Åsa", "Björn"]
    assert list(out["kon"]) == [1, 2]
    tab = tmp_path / "tab.csv"
    tab.write_text("a\tb\n1\t2,5\n3\t4\n", encoding="utf-8")
    out = read_extract(tab)
    assert list(out["a"]) == [1, 3] and np.allclose(out["b"].astype(float), [2.5, 4.0])


def test_parquet_and_xlsx_with_title_row(frame: pd.DataFrame, tmp_path: Path) -> None:
    pq = tmp_path / "persons.parquet"
    frame.to_parquet(pq)
    pd.testing.assert_frame_equal(read_extract(pq), frame)
    xlsx = tmp_path / "persons.xlsx"
    with pd.ExcelWriter(xlsx) as writer:
        pd.DataFrame([["Uttag ur verksamhetssystemet 2025-01-31"]]).to_excel(
            writer, header=False, index=False, startrow=0
        )
        frame.to_excel(writer, index=False, startrow=2)
    out = read_extract(xlsx)
    assert list(out.columns) == list(frame.columns)
    assert list(out["ort"]) == ["Eskilstuna", "Västerås", "Torshälla"]
    assert list(out["kon"]) == [1, 2, 2]


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("extract.txt", b"a,b\n1,2\n", "unknown file type"),
        ("empty.csv", b"", "empty"),
        ("empty.sav", b"", "empty"),
        ("header_only.csv", b"a;b\n", "no rows"),
        ("not_parquet.parquet", b"personnummer,kon\n1,2\n", "ArrowInvalid|Parquet|parquet"),
        ("not_excel.xlsx", b"this is not a zip archive", "zip|Zip"),
        ("garbage.sas7bdat", b"\x00" * 64, "Readstat|Error|error"),
    ],
)
def test_bad_files_raise_value_error_naming_the_file(tmp_path: Path, name: str, content: bytes, reason: str) -> None:
    path = tmp_path / name
    path.write_bytes(content)
    with pytest.raises(ValueError, match=re.escape(name)) as info:
        read_extract(path)
    assert re.search(reason, str(info.value))


def test_truncated_sav_raises(frame: pd.DataFrame, tmp_path: Path) -> None:
    full = tmp_path / "full.sav"
    pyreadstat.write_sav(frame, str(full))
    cut = tmp_path / "cut.sav"
    cut.write_bytes(full.read_bytes()[:300])
    with pytest.raises(ValueError, match="cut.sav"):
        read_extract(cut)


def test_missing_file_raises(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="nowhere.sav.*no such file"):
        read_extract(tmp_path / "nowhere.sav")


# ----------------------------------------------------------------------------------------------- standardise


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


# ----------------------------------------------------------------------------------------------- pseudonymise


def test_pseudonyms_deterministic_per_key_and_letters_only(frame: pd.DataFrame) -> None:
    a1 = pseudonymise(frame, KEY_A)
    a2 = pseudonymise(frame, KEY_A)
    b = pseudonymise(frame, KEY_B)
    assert list(a1.columns) == ["person_id", "kon", "kommunkod", "ort", "belopp"]
    assert "personnummer" not in a1.columns
    assert a1["person_id"].tolist() == a2["person_id"].tolist()
    assert not set(a1["person_id"]) & set(b["person_id"])
    assert a1["person_id"].str.fullmatch(PSEUDONYM_PATTERN).all()
    assert not a1["person_id"].str.contains(r"\d").any()
    assert a1["person_id"].is_unique


def test_same_person_in_any_format_gets_the_same_pseudonym() -> None:
    digits = PNR_1.replace("-", "")
    df = pd.DataFrame({"personnummer": [PNR_1, digits, digits[2:8] + "-" + digits[8:]]})
    out = pseudonymise(df, KEY_A)
    assert out["person_id"].nunique() == 1


def test_invalid_number_error_names_row_and_hides_number() -> None:
    bad = PNR_1[:-1] + str((int(PNR_1[-1]) + 1) % 10)  # wrong check digit
    df = pd.DataFrame({"personnummer": [PNR_1, PNR_2, bad, None]})
    with pytest.raises(ValueError) as info:
        pseudonymise(df, KEY_A)
    message = str(info.value)
    assert "row(s) 3 (19850612-****), 4 (missing)" in message
    assert bad not in message and bad.replace("-", "") not in message
    assert bad[-4:] not in message


def test_short_key_rejected(frame: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="too short"):
        pseudonymise(frame, b"short")


def test_load_key_sources(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INSATS_TEST_KEY", raising=False)
    with pytest.raises(ValueError, match="INSATS_TEST_KEY"):
        load_key("INSATS_TEST_KEY")
    assert load_key("INSATS_TEST_KEY", demo=True) == DEMO_KEY
    key_file = tmp_path / "key.txt"
    key_file.write_bytes(b"a-long-enough-file-key-of-32-chars\n")
    assert load_key("INSATS_TEST_KEY", key_file=key_file) == b"a-long-enough-file-key-of-32-chars"
    monkeypatch.setenv("INSATS_TEST_KEY", "environment-key-0123456789-abcdef")
    assert load_key("INSATS_TEST_KEY", key_file=key_file) == b"environment-key-0123456789-abcdef"
    monkeypatch.setenv("INSATS_TEST_KEY", "short")
    with pytest.raises(ValueError, match="too short") as info:
        load_key("INSATS_TEST_KEY")
    assert "short" not in str(info.value).replace("too short", "")
    monkeypatch.delenv("INSATS_TEST_KEY")
    with pytest.raises(ValueError, match="cannot read"):
        load_key("INSATS_TEST_KEY", key_file=tmp_path / "missing.key")


def test_ingest_failure_message_masks_the_identity_column_in_any_spelling(tmp_path: Path) -> None:
    """A spell whose end precedes its start fails the gate; the message must not show the person in clear."""
    from insats.tasks.register.ingest import ingest_extract
    from insats.validation import GateError

    clear = "20021006–9761"  # en dash: a spelling the old pattern missed
    src = tmp_path / "spells.csv"
    src.write_text(
        "personnummer;insats_id;startdatum;slutdatum\n"
        f"{clear};INS01;2023-05-01;2023-01-01\n"
        "19850612-1234;INS01;2023-01-01;2023-03-01\n",
        encoding="utf-8",
    )
    columns = {"personnummer": "personnummer", "intervention_id": "insats_id", "start_date": "startdatum",
               "end_date": "slutdatum"}  # fmt: skip
    params = {"period_first": pd.Timestamp("2021-01-01"), "period_last": pd.Timestamp("2024-12-31"),
              "amount_ceiling": 1e5, "period_months": 48}  # fmt: skip
    with pytest.raises((GateError, ValueError)) as err:
        ingest_extract("spells", src, columns, "k", "INSATS_NO_SUCH_KEY", None, True, params)
    message = str(err.value)
    for spelling in ("20021006–9761", "200210069761", "021006-9761", "0210069761", "19850612-1234"):
        assert spelling not in message


def test_one_person_in_ten_and_twelve_digits_is_one_person() -> None:
    """Identity numbers are normalised before any uniqueness check: 19850612-9124 and 8506129124 are equal."""
    twelve = PNR_1
    ten = PNR_1.replace("-", "")[2:]
    raw = pd.DataFrame({"personnummer": [twelve, ten, "19850612-0000"], "kon": [1, 1, 2], "fodelsear": [1985] * 3})
    columns = {**DEFAULT_COLUMNS["persons"]}
    out = standardise(raw.assign(utrikes_fodd=0, utbildning=1, hushallstyp=1, kommunkod="0484"), "persons",
                      columns, "p.csv")  # fmt: skip
    assert out["personnummer"].iloc[0] == out["personnummer"].iloc[1] == PNR_1.replace("-", "")
    assert out["personnummer"].iloc[2] == "19850612-0000"  # invalid: kept as written, for the suite to flag
    assert out["personnummer"].duplicated().sum() == 1


def test_excel_serial_end_dates_with_blanks_parse(tmp_path: Path) -> None:
    """A spells extract with Excel serial dates and blank (ongoing) end dates: no 'boolean value of NA'."""
    text = f"personnummer,insats_id,startdatum,slutdatum\n{PNR_1},A1,44197,44256\n{PNR_2},A2,44200,\n"
    path = tmp_path / "spells.csv"
    path.write_text(text, encoding="utf-8")
    out = standardise(read_extract(path), "spells", DEFAULT_COLUMNS["spells"], path.name)
    assert out["start_date"].tolist() == [pd.Timestamp("2021-01-01"), pd.Timestamp("2021-01-04")]
    assert out["end_date"].iloc[0] == pd.Timestamp("2021-03-01") and pd.isna(out["end_date"].iloc[1])


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-be", "utf-32", "utf-8-sig"])
def test_csv_encoding_from_the_byte_order_mark_keeps_every_row_and_column(tmp_path: Path, encoding: str) -> None:
    from insats.tasks.register.readers import read_extract_checked

    rows = [f"{PNR_1},Malmö,{i}" for i in range(3000)]
    path = tmp_path / "x.csv"
    bom = {"utf-16-be": "\ufeff"}.get(encoding, "")
    path.write_bytes((bom + "\n".join(["personnummer;kommun;belopp".replace(";", ","), *rows]) + "\n").encode(encoding))
    result = read_extract_checked(path)
    assert result.frame.shape == (3000, 3) and result.frame["kommun"].iloc[0] == "Malmö"
    assert not result.warnings and not result.notices and not result.problems


def test_csv_without_bom_in_cp1252_is_a_stated_guess(tmp_path: Path) -> None:
    from insats.tasks.register.readers import read_extract_checked

    path = tmp_path / "x.csv"
    path.write_bytes("namn;kön\nÅsa;2\n".encode("cp1252"))
    result = read_extract_checked(path)
    assert result.frame["namn"].iloc[0] == "Åsa" and list(result.frame.columns) == ["namn", "kön"]
    assert any("cp1252" in n and "a guess" in n for n in result.warnings)


def test_title_rows_above_the_csv_header_are_skipped_with_a_notice(tmp_path: Path) -> None:
    from insats.tasks.register.readers import read_extract_checked

    path = tmp_path / "x.csv"
    body = "\n".join(f"{PNR_1};{i};2021-01" for i in range(3000))
    path.write_text(f"Utdrag ur ekonomiskt bistånd 2026\n\npersonnummer;belopp;manad\n{body}\n", encoding="utf-8")
    result = read_extract_checked(path)
    assert result.frame.shape == (3000, 3) and list(result.frame.columns) == ["personnummer", "belopp", "manad"]
    assert any("skipped 1 title row(s)" in n and "header is line 3" in n for n in result.notices)


def test_duplicated_column_names_are_a_problem_naming_the_column_and_positions(tmp_path: Path) -> None:
    from insats.tasks.register.readers import read_extract_checked

    path = tmp_path / "x.csv"
    path.write_text(f"personnummer;kon;fodelsear;kon\n{PNR_1};1;1985;2\n", encoding="utf-8")
    result = read_extract_checked(path)
    assert [p.message for p in result.problems] == [
        "duplicated column name 'kon' at header positions 2, 4 (a reader would rename the second one 'kon.1'); "
        "rename or drop one in the extract"
    ]
    with pytest.raises(ValueError, match="duplicated column name 'kon'"):
        read_extract(path)


def test_quoted_thousands_separators_in_a_comma_file_are_refused(tmp_path: Path) -> None:
    from insats.tasks.register.readers import read_extract_checked

    path = tmp_path / "x.csv"
    path.write_text(f'personnummer,manad,belopp\n{PNR_1},202101,"16,508"\n{PNR_2},202101,1200\n', encoding="utf-8")
    result = read_extract_checked(path)
    (problem,) = result.problems
    assert "column 'belopp'" in problem.message and "data row(s) 1 ('16,508')" in problem.message
    assert problem.rows.tolist() == [0]
    with pytest.raises(ValueError, match="thousands separator"):
        read_extract(path)


def test_vectorised_pseudonyms_are_the_scalar_ones() -> None:
    """The vectorised normalisation, HMAC and base-26 encoding give exactly what the one-at-a-time functions
    give: every spelling, valid and invalid numbers, samordningsnummer, leap days, keys longer than a block."""
    import hashlib
    import hmac
    import random

    from stdnum import luhn

    from insats.tasks.identity import normalise_identity_number
    from insats.tasks.register.pseudonymise import _encode, normalise_identity_numbers, pseudonym, pseudonyms

    rng = random.Random(7)
    values: list[object] = ["20000229-0005", "19000229-0005", "20240229", "", " 198506121234", 198506121234]
    for _ in range(3000):
        year, month, day = rng.randint(1890, 2099), rng.randint(0, 13), rng.randint(0, 95)
        nine = f"{year % 100:02d}{month:02d}{day:02d}{rng.randint(0, 999):03d}"
        check = luhn.calc_check_digit(nine) if rng.random() < 0.8 else str(rng.randint(0, 9))
        sep = rng.choice(["", "", "-", "+", " ", "\u2013"])
        century = f"{year // 100}" if rng.random() < 0.7 else ""
        values.append(f"{century}{nine[:6]}{sep}{nine[6:]}{check}")
    expected = [normalise_identity_number(str(v)) for v in values]
    assert normalise_identity_numbers(values) == expected
    valid = [v for v in expected if v is not None]
    assert len(valid) > 1000
    for key in (DEMO_KEY, b"k" * 100):  # what pseudonymise wrote before: hmac.new and _encode per value
        scalar = [_encode(hmac.new(key, v.encode("ascii"), hashlib.sha256).digest()) for v in valid]
        assert list(pseudonyms(valid, key)) == scalar
        assert (
            pseudonyms([v for v in valid if v[:2] in ("19", "20")][:50], key).tolist()
            == [pseudonym(v, key) for v in valid if v[:2] in ("19", "20")][:50]
        )
