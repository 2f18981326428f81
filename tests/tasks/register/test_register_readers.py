"""Register ingestion, readers: SAV/DTA/XPT/Parquet/XLSX/CSV extracts, encodings, title rows, bad files."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from insats.tasks.register.readers import read_extract, read_value_labels
from insats.tasks.register.standardise import DEFAULT_COLUMNS, standardise
from tests.helpers.register_ids import PNR_1, PNR_2, PNR_3


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
