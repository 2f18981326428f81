"""The steward's `insats validate` on awkward files: truncated, empty, encodings, separators, Excel dates.

Every test drives the real command (typer's CliRunner on ``insats.cli.app``) on small seeded demo extracts
and checks that the raw file is byte-for-byte unchanged afterwards.
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd
import pytest

from tests.helpers.steward import validate


def test_truncated_sav_exits_2(sav_files, tmp_path):
    file = tmp_path / "assistance.sav"
    data = sav_files["assistance"].read_bytes()
    file.write_bytes(data[: len(data) // 2])
    code, output, out = validate(file, "input.assistance", tmp_path)
    assert code == 2 and "cannot read" in output and "assistance.sav" in output
    assert not out.exists()


def test_text_file_renamed_sav_exits_2(tmp_path):
    file = tmp_path / "persons.sav"
    file.write_text("personnummer,kon\n19850612-1234,1\n", encoding="utf-8")
    code, output, _ = validate(file, "input.persons", tmp_path)
    assert code == 2 and "cannot read" in output and "persons.sav" in output


@pytest.mark.parametrize(
    ("name", "content", "reason"),
    [
        ("persons.sav", b"", "0 bytes"),
        ("persons.csv", b"", "0 bytes"),
        ("persons.csv", b"\r\n \n", "empty"),
        ("persons.csv", b"personnummer;kon\n", "no rows"),
    ],
)
def test_empty_files_exit_2_with_the_reason(tmp_path, name, content, reason):
    file = tmp_path / name
    file.write_bytes(content)
    code, output, _ = validate(file, "input.persons", tmp_path)
    assert code == 2 and reason in output and name in output


@pytest.mark.parametrize("given", [None, "cp1252"])
def test_cp1252_csv_with_swedish_letters_and_an_extra_column_warns(frames, tmp_path, given):
    df = frames["persons"].head(50).copy()
    df["anteckning"] = ["Åsa Öberg, Västerås"] * 50  # a column the config mapping does not know
    file = tmp_path / "personer.csv"
    file.write_bytes(df.to_csv(index=False, sep=";").encode("cp1252"))
    extra = ("--encoding", given) if given else ()
    code, output, _ = validate(file, "input.persons", tmp_path, "--quarantine", str(tmp_path / "q"), *extra)
    assert code == 0, output  # an extra column warns, it does not fail
    assert "Warning: unexpected extra column(s)" in output and "anteckning" in output
    passed = pd.read_parquet(tmp_path / "q" / "personer.passed.parquet")
    assert passed["anteckning"].iloc[0] == "Åsa Öberg, Västerås"


def test_semicolon_csv_with_decimal_commas(frames, tmp_path):
    df = frames["assistance"].head(100).copy()
    text = df.assign(belopp=[f"{v:,.2f}".replace(",", " ").replace(".", ",") for v in df["belopp"]])
    text.loc[7, "belopp"] = "-150,50"  # a negative payment: only this row is quarantined
    file = tmp_path / "utbetalningar.csv"
    file.write_text(text.to_csv(index=False, sep=";"), encoding="utf-8")
    q = tmp_path / "q"
    code, output, _ = validate(file, "input.assistance", tmp_path, "--quarantine", str(q))
    assert code == 1
    assert "100 rows in = 99 passed + 1 quarantined" in output
    bad = pd.read_parquet(q / "utbetalningar.quarantine.parquet")
    assert bad["source_row"].tolist() == [8] and bad["belopp"].tolist() == [-150.5]  # read with the decimal comma
    assert bad["reason__expect_column_values_to_be_between__amount"].iloc[0].startswith("amount outside [0")


def _spells_xlsx(df: pd.DataFrame, path: Path, serials: bool) -> None:
    wb = openpyxl.Workbook()
    ws = wb.active
    ws.append(list(df.columns))
    epoch = pd.Timestamp("1899-12-30")
    for row in df.itertuples(index=False):
        values = list(row)
        for i in (2, 3):
            if isinstance(values[i], str):
                pass  # text typed into a date cell stays text
            elif pd.isna(values[i]):
                values[i] = None
            elif serials:
                values[i] = int((values[i] - epoch).days)  # a number, as when the date format was lost
            else:
                values[i] = values[i].to_pydatetime()
        ws.append(values)
    wb.save(path)


def test_excel_dates_and_excel_date_serials_read_as_the_same_dates(frames, tmp_path):
    from insats.tasks.register.readers import read_extract
    from insats.tasks.register.standardise import DEFAULT_COLUMNS, standardise

    df = frames["spells"].head(40)
    good = tmp_path / "insatser.xlsx"
    _spells_xlsx(df, good, serials=False)
    code, output, _ = validate(good, "input.spells", tmp_path)
    assert code == 0, output
    serial = tmp_path / "insatser_serial.xlsx"
    _spells_xlsx(df, serial, serials=True)  # date cells whose format was lost: numbers of days since 1899-12-30
    code, output, _ = validate(serial, "input.spells", tmp_path)
    assert code == 0, output
    as_dates, as_serials = (
        standardise(read_extract(f), "spells", DEFAULT_COLUMNS["spells"], source=f.name) for f in (good, serial)
    )
    pd.testing.assert_frame_equal(as_dates, as_serials)
    bad = tmp_path / "insatser_text.xlsx"
    _spells_xlsx(df.assign(startdatum=["första mars"] + list(df["startdatum"].iloc[1:])), bad, serials=True)
    code, output, _ = validate(bad, "input.spells", tmp_path)
    assert code == 1
    assert "FAILED (whole file) values cannot be parsed" in output
    assert "'start_date' (source column 'startdatum'): expected a date" in output


def test_excel_serial_dates_with_blank_end_dates_validate(frames, tmp_path):
    df = frames["spells"].head(60).copy()
    for col in ("startdatum", "slutdatum"):
        dates = pd.to_datetime(df[col].astype("string"), format="mixed")
        df[col] = ((dates - pd.Timestamp("1899-12-30")).dt.days).astype("Int64")
    df.loc[[3, 7], "slutdatum"] = pd.NA  # ongoing spells: blank end dates
    file = tmp_path / "insatser.csv"
    df.to_csv(file, index=False)
    code, output, _ = validate(file, "input.spells", tmp_path)
    assert "boolean value of NA" not in output
    assert code == 0, output


def test_utf16_with_a_title_row_reads_every_row_and_column(frames, tmp_path):
    df = frames["persons"]
    file = tmp_path / "personer.csv"
    body = df.to_csv(index=False, sep=";")
    file.write_bytes(("Utdrag ur befolkningsregistret, Malmö 2026\n" + body).encode("utf-16"))
    code, output, out = validate(file, "input.persons", tmp_path)
    assert code == 0, output
    assert "200 rows in = 200 passed + 0 quarantined" in output and "unexpected extra column" not in output
    assert "Note: personer.csv: skipped 1 title row(s) above the header (line(s) 1); the header is line 2" in output
    assert json.loads((out / "personer.provenance.json").read_text(encoding="utf-8"))["rows"] == 200


def test_a_cp1252_guess_is_a_warning(frames, tmp_path):
    file = tmp_path / "personer.csv"
    file.write_bytes(frames["persons"].assign(ort="Malmö").to_csv(index=False, sep=";").encode("cp1252"))
    code, output, _ = validate(file, "input.persons", tmp_path)
    assert "Warning: personer.csv: not UTF-8" in output and "read as cp1252/latin-1 (a guess" in output


def test_quoted_thousands_separators_in_a_comma_file_are_refused_and_their_rows_quarantined(frames, tmp_path):
    df = frames["assistance"].head(40).copy()
    df["belopp"] = df["belopp"].round(0).astype(int).astype(str)
    df.loc[5, "belopp"] = "16,508"
    file = tmp_path / "utbetalningar.csv"
    df.to_csv(file, index=False)  # pandas quotes the value with a comma
    assert '"16,508"' in file.read_text(encoding="utf-8")
    code, output, _ = validate(file, "input.assistance", tmp_path, "--quarantine", str(tmp_path / "q"))
    assert code == 1
    assert "column 'belopp' holds quoted numbers with a comma" in output and "data row(s) 6 ('16,508')" in output
    assert "40 rows in = 39 passed + 1 quarantined" in output
    bad = pd.read_parquet(tmp_path / "q" / "utbetalningar.quarantine.parquet")
    assert bad["source_row"].tolist() == [6]


def test_unparseable_values_quarantine_their_rows_and_the_rest_is_validated(frames, tmp_path):
    df = frames["outcomes"].head(96).astype({"manad": object})
    df.loc[10, "manad"] = "2021x"
    df.loc[20, "sysselsatt"] = 7
    file = tmp_path / "utfall.csv"
    df.to_csv(file, index=False)
    code, output, _ = validate(file, "input.outcomes", tmp_path, "--quarantine", str(tmp_path / "q"))
    assert code == 1
    assert "values cannot be parsed" in output and "data row(s) 11 ('2021x')" in output
    bad = pd.read_parquet(tmp_path / "q" / "utfall.quarantine.parquet")
    assert 11 in bad["source_row"].tolist() and 21 in bad["source_row"].tolist()
    assert len(pd.read_parquet(tmp_path / "q" / "utfall.passed.parquet")) + len(bad) == 96
