"""The steward's `insats validate` workflow: provenance, JSON result, quarantine split, Data Docs, bad input.

Every test drives the real command (typer's CliRunner on ``insats.cli.app``) on small seeded demo extracts
and checks that the raw file is byte-for-byte unchanged afterwards.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import numpy as np
import openpyxl
import pandas as pd
import pyreadstat
import pytest
from typer.testing import CliRunner

from insats.cli import app
from insats.demo.register import make_register, write_register
from insats.tasks.identity import luhn_check_digit
from tests.helpers import ROOT

runner = CliRunner()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    frames, _ = make_register(seed=11, n_persons=200)
    return frames


@pytest.fixture(scope="module")
def sav_files(frames, tmp_path_factory) -> dict[str, Path]:
    return write_register(frames, tmp_path_factory.mktemp("raw") / "register")


def validate(file: Path, suite: str, tmp: Path, *extra: str) -> tuple[int, str, Path]:
    """Run `insats validate` with --out under tmp; return (exit code, output, out folder). Checks sha256."""
    out = tmp / "out"
    before = sha(file) if file.exists() else None
    result = runner.invoke(app, ["validate", str(file), "--suite", suite, "--out", str(out), *extra])
    if before is not None:
        assert sha(file) == before, "the raw file was modified"
    return result.exit_code, result.output, out


def bad_check_digit(pnr: str) -> str:
    return pnr[:-1] + str((int(pnr[-1]) + 1) % 10)


# --- the happy path: provenance, JSON result, docs --------------------------------------------------


def test_demo_extract_fit_for_use_with_provenance_result_and_docs(sav_files, tmp_path):
    file = sav_files["persons"]
    code, output, out = validate(file, "input.persons", tmp_path, "--docs", str(tmp_path / "docs"))
    assert code == 0, output
    assert "fit for use" in output and "200 rows in = 200 passed + 0 quarantined" in output
    prov = json.loads((out / "persons.provenance.json").read_text(encoding="utf-8"))
    assert prov["sha256"] == sha(file) and prov["bytes"] == file.stat().st_size and prov["rows"] == 200
    assert prov["suite"] == "input.persons" and prov["suite_version"]
    assert prov["validated_at"].endswith("+00:00") and prov["insats_version"] and len(prov["config_sha256"]) == 64
    result = json.loads((out / "persons.input.persons.validation.json").read_text(encoding="utf-8"))
    assert result["success"] is True and len(result["results"]) >= 5
    # Nothing beside the raw file; Data Docs built offline for this run.
    assert sorted(p.name for p in file.parent.iterdir()) == sorted(p.name for p in sav_files.values())
    index = tmp_path / "docs" / "index.html"
    assert index.is_file()
    pages = list((tmp_path / "docs" / "validations").rglob("*.html"))
    assert len(pages) == 1 and "input.persons" in pages[0].read_text(encoding="utf-8")


def test_refuses_to_write_beside_the_raw_file(sav_files, tmp_path):
    file = sav_files["persons"]
    result = runner.invoke(app, ["validate", str(file), "--suite", "input.persons", "--out", str(file.parent)])
    assert result.exit_code == 2 and "Refusing to write" in result.output  # a usage error, not a verdict
    assert not list(file.parent.glob("*.json"))


# --- quarantine ---------------------------------------------------------------------------------------


def test_quarantine_splits_exactly_with_reasons_and_pseudonymised_identity_numbers(frames, tmp_path):
    df = frames["persons"].copy()
    df.loc[[5, 17], "kon"] = 9  # not in the sex code list
    df.loc[40, "personnummer"] = df.loc[41, "personnummer"]  # a duplicated person: both rows go
    df.loc[60, "personnummer"] = bad_check_digit(df.loc[60, "personnummer"])
    file = tmp_path / "raw" / "personer.sav"
    file.parent.mkdir()
    pyreadstat.write_sav(df, str(file))
    q = tmp_path / "q"
    code, output, out = validate(file, "input.persons", tmp_path, "--quarantine", str(q))
    assert code == 1
    assert "200 rows in = 195 passed + 5 quarantined" in output
    assert "expect_column_values_to_be_in_set on column 'sex': 2 unexpected" in output
    assert df.loc[41, "personnummer"] not in output  # masked on the terminal
    passed = pd.read_parquet(q / "personer.passed.parquet")
    bad = pd.read_parquet(q / "personer.quarantine.parquet")
    assert len(passed) + len(bad) == 200 and len(bad) == 5
    assert bad["source_row"].tolist() == [6, 18, 41, 42, 61]
    # Source columns as read, the identity column replaced by the pipeline's pseudonyms (demo key).
    assert list(passed.columns) == ["personnummer__pseudonym", *df.columns[1:]]
    sex = bad["reason__expect_column_values_to_be_in_set__sex"]
    assert sex.tolist() == ["sex not in code list [1, 2]", "sex not in code list [1, 2]", "", "", ""]
    assert (bad["reason__expect_column_values_to_be_unique__personnummer"] != "").tolist() == [0, 0, 1, 1, 0]
    # No clear identity number in the split files (issue 15): pseudonyms, and a masked invalid number.
    from insats.tasks.register.pseudonymise import DEMO_KEY, pseudonym

    assert bad["personnummer__pseudonym"].tolist()[2] == pseudonym(df.loc[41, "personnummer"], DEMO_KEY)
    assert bad["personnummer__pseudonym"].tolist()[4] == df.loc[60, "personnummer"][:8] + "-****"
    for split in (q / "personer.passed.parquet", q / "personer.quarantine.parquet"):
        table = pd.read_parquet(split)
        assert not set(df["personnummer"]) & set(table.astype(str).to_numpy().ravel())
    saved = (out / "personer.input.persons.validation.json").read_text(encoding="utf-8")
    assert df.loc[41, "personnummer"] not in saved and df.loc[60, "personnummer"] not in saved
    prov = json.loads((out / "personer.provenance.json").read_text(encoding="utf-8"))
    assert (prov["rows_passed"], prov["rows_quarantined"], prov["fit_for_use"]) == (195, 5, False)


def test_quarantine_may_not_go_under_the_raw_folder(sav_files, tmp_path):
    from insats.config import load_config

    raw = load_config(ROOT / "configs" / "demo.yaml").paths.raw
    result = runner.invoke(
        app,
        [
            "validate",
            str(sav_files["persons"]),
            "--suite",
            "input.persons",
            "--out",
            str(tmp_path / "o"),
            "--quarantine",
            str(raw / "quarantine"),
        ],
    )
    assert result.exit_code == 2 and "Refusing to write" in result.output and "raw-data folder" in result.output


# --- unreadable files: exit 2, nothing written ------------------------------------------------------


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


# --- encodings, separators, Excel ---------------------------------------------------------------------


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


# --- columns and rows ---------------------------------------------------------------------------------


def test_missing_required_column_fails_the_whole_file(frames, tmp_path):
    file = tmp_path / "personer.parquet"
    frames["persons"].drop(columns=["kon"]).to_parquet(file)
    code, output, out = validate(file, "input.persons", tmp_path, "--quarantine", str(tmp_path / "q"))
    assert code == 1
    assert "missing required column(s): sex (source column 'kon')" in output
    # A whole-file failure quarantines the rows it concerns: here every row (nothing "passes" into passed.parquet).
    assert "The whole file is NOT fit for use" in output and "200 rows in = 0 passed + 200 quarantined" in output
    assert output.splitlines()[0].endswith("NOT fit for use (not validated, 1 whole-file problem(s))")  # = exit 1
    bad = pd.read_parquet(tmp_path / "q" / "personer.quarantine.parquet")
    assert len(bad) == 200 and pd.read_parquet(tmp_path / "q" / "personer.passed.parquet").empty
    assert set(bad["reason__whole_file"]) == {"the whole file fails: missing required column(s) sex"}
    assert json.loads((out / "personer.provenance.json").read_text(encoding="utf-8"))["fit_for_use"] is False


def test_duplicated_header_row_fails_those_rows(frames, tmp_path):
    df = frames["persons"].head(100)
    lines = df.to_csv(index=False).splitlines()
    lines.insert(31, lines[0])  # a second header line as data row 31 (a concatenated export)
    file = tmp_path / "personer.csv"
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    q = tmp_path / "q"
    code, output, _ = validate(file, "input.persons", tmp_path, "--quarantine", str(q))
    assert code == 1
    assert "FAILED repeated header row inside the data: 1 row(s), data row(s) 31" in output
    assert "101 rows in = 100 passed + 1 quarantined" in output
    bad = pd.read_parquet(q / "personer.quarantine.parquet")
    assert bad["source_row"].tolist() == [31] and bad["personnummer__pseudonym"].iloc[0] == "****"
    assert bad["reason__repeated_header_row"].iloc[0] == "a header line repeated inside the data"


def test_wrong_check_digit_fails_the_personnummer_column(frames, tmp_path):
    df = frames["persons"].copy()
    df.loc[[3, 150], "personnummer"] = [bad_check_digit(df.loc[i, "personnummer"]) for i in (3, 150)]
    file = tmp_path / "personer.parquet"
    df.to_parquet(file)
    q = tmp_path / "q"
    code, output, _ = validate(file, "input.persons", tmp_path, "--quarantine", str(q))
    assert code == 1
    luhn = "expect_column_values_to_be_valid_swedish_identity_numbers"
    assert f"FAILED {luhn} on column 'personnummer': 2 unexpected" in output
    assert df.loc[3, "personnummer"] not in output and df.loc[3, "personnummer"][:8] + "-****" in output
    bad = pd.read_parquet(q / "personer.quarantine.parquet")
    assert bad["source_row"].tolist() == [4, 151]


def test_person_month_twice_quarantines_both_rows(frames, tmp_path):
    df = frames["outcomes"].head(480)
    df = pd.concat([df, df.iloc[[100]]], ignore_index=True)  # person-month 100 delivered twice
    file = tmp_path / "utfall.parquet"
    df.to_parquet(file)
    q = tmp_path / "q"
    code, output, _ = validate(file, "input.outcomes", tmp_path, "--quarantine", str(q))
    assert code == 1
    assert "expect_compound_columns_to_be_unique on column 'personnummer,month': 2 unexpected" in output
    assert "481 rows in = 479 passed + 2 quarantined" in output
    bad = pd.read_parquet(q / "utfall.quarantine.parquet")
    assert bad["source_row"].tolist() == [101, 481]
    assert set(bad["reason__expect_compound_columns_to_be_unique__personnummer__month"]) == {
        "personnummer, month duplicated"
    }


def _identity_numbers(n: int, rng: np.random.Generator) -> np.ndarray:
    year = rng.integers(1960, 2000, n)
    month = rng.integers(1, 13, n)
    day = rng.integers(1, 29, n)
    serial = np.arange(n) % 1000
    out = []
    for y, m, d, s in zip(year, month, day, serial, strict=True):
        nine = f"{y % 100:02d}{m:02d}{d:02d}{s:03d}"
        out.append(f"{y}{m:02d}{d:02d}-{s:03d}{luhn_check_digit(nine)}")
    return np.unique(np.asarray(out))


def test_two_million_rows_exactly_three_quarantined(tmp_path):
    rng = np.random.default_rng(3)
    pnr = _identity_numbers(52_000, rng)[:50_000]
    period = pd.period_range("2021-01", periods=40, freq="M")  # inside the demo config's stated period
    months = (period.year * 100 + period.month).to_numpy()
    df = pd.DataFrame(
        {
            "personnummer": np.repeat(pnr, 40),
            "manad": np.tile(months, pnr.size),
            "sysselsatt": rng.integers(0, 2, pnr.size * 40),
            "studerar": rng.integers(0, 2, pnr.size * 40),
        }
    )
    assert len(df) == 2_000_000
    df.loc[123_456, "sysselsatt"] = 7
    df.loc[1_000_000, "studerar"] = -1
    df.loc[1_999_999, "studerar"] = 5
    file = tmp_path / "utfall.parquet"
    df.to_parquet(file)
    q = tmp_path / "q"
    config = tmp_path / "forty_months.yaml"  # the extract states a 40-month period: 2021-01 .. 2024-04
    demo = (ROOT / "configs" / "demo.yaml").read_text(encoding="utf-8")
    config.write_text(
        demo.replace('last_month: "2024-12"', 'last_month: "2024-04"').replace("root: ..", f"root: {ROOT}"),
        encoding="utf-8",
    )
    code, output, _ = validate(file, "input.outcomes", tmp_path, "--quarantine", str(q), "--config", str(config))
    assert code == 1
    assert "2,000,000 rows in = 1,999,997 passed + 3 quarantined" in output
    bad = pd.read_parquet(q / "utfall.quarantine.parquet")
    assert bad["source_row"].tolist() == [123_457, 1_000_001, 2_000_000]
    assert pd.read_parquet(q / "utfall.passed.parquet", columns=["manad"]).shape[0] == 1_999_997


def test_value_labels_that_disagree_with_the_code_lists_fail_the_file(frames, tmp_path):
    file = tmp_path / "personer.sav"
    labels = {"kon": {1: "Man", 2: "Kvinna", 9: "Okänt kön"}, "utbildning": {1: "Förgymnasial", 2: "Gymnasial"}}
    pyreadstat.write_sav(frames["persons"], str(file), variable_value_labels=labels)
    code, output, _ = validate(file, "input.persons", tmp_path)
    assert code == 1
    assert "FAILED (whole file) value labels disagree with the code lists" in output
    assert "9='Okänt kön'" in output and "'kon'" in output


# --- participant documentation: the ladder comes from the config (issue 11) -------------------------------


def _participant_config(tmp_path: Path, ladder: dict | None, end_date: str = "inclusive") -> Path:
    """A config with paths under tmp_path and, given a ladder, a participant_flow section using it."""
    import yaml

    (tmp_path / "raw").mkdir(exist_ok=True)
    cfg: dict = {
        "project": "steward-test",
        "paths": {k: k for k in ("raw", "interim", "processed", "reports")} | {"prefect_home": "prefect"},
    }
    if ladder is not None:
        (tmp_path / "ladder.yaml").write_text(yaml.safe_dump(ladder, allow_unicode=True), encoding="utf-8")
        cfg["participant_flow"] = {
            "participants": "raw/deltagare.csv",
            "status_documentation": "raw/status.csv",
            "ladder": "ladder.yaml",
            "end_date": end_date,
        }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path


def _participants_file(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "raw" / "deltagare.csv"
    path.parent.mkdir(exist_ok=True)
    header = "deltagar_id;projekt;kön;födelseår;startdatum;slutdatum;status_vid_avslut;mål"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_participants_validate_with_the_configs_ladder_and_its_aliases(tmp_path):
    from insats.demo.participants import LADDER

    ladder = {**LADDER, "aliases": {"Arbete": ["Anställd", "arbete heltid"]}}
    config = _participant_config(tmp_path, ladder)
    file = _participants_file(
        tmp_path, "p1;Vägen vidare;K;1990;2021-03-01;2021-06-30;anställd;", "p2;Steget;M;1985;1/3/2021;;;"
    )
    code, output, out = validate(file, "input.participants", tmp_path, "--config", str(config))
    assert code == 0, output
    assert "fit for use" in output and f"ladder {tmp_path / 'ladder.yaml'} (participant_flow.ladder)" in output
    assert json.loads((out / "deltagare.provenance.json").read_text())["fit_for_use"] is True


def test_participants_with_unknown_statuses_list_every_value_and_quarantine_nothing_silently(tmp_path):
    from insats.demo.participants import LADDER

    config = _participant_config(tmp_path, LADDER)
    bad = ["Jobb", "Semester", "Föräldraledig", "Utvandrat", "Pension"]
    rows = [f"p{i};Steget;K;1990;2021-03-01;2021-06-30;{v};" for i, v in enumerate(bad)]
    file = _participants_file(tmp_path, *rows, "p9;Steget;K;1990;2021-03-01;;;")
    code, output, out = validate(file, "input.participants", tmp_path, "--config", str(config))
    assert code == 1
    for i, value in enumerate(bad):
        assert f"FAILED (whole file) unknown exit status {value!r} in row {i + 2}" in output
    assert "participant_flow.ladder 'Svensk standardstege': Arbete; Studier; " in output
    result = json.loads((out / "deltagare.input.participants.validation.json").read_text())
    assert len(result["insats"]["whole_file_problems"]) == 6


def test_status_documentation_rows_failing_the_suite_map_back_to_source_rows(tmp_path):
    from insats.demo.participants import LADDER

    config = _participant_config(tmp_path, LADDER)
    file = tmp_path / "raw" / "status.xlsx"
    sheet = [["participant_id", "2021-Q1", "2021-Q2"], ["p1", "Arbete", "Arbete"], ["p2", "Studier", None]]
    wb = openpyxl.Workbook()
    for r in sheet:
        wb.active.append(r)
    wb.save(file)
    args = ("--config", str(config), "--quarantine", str(tmp_path / "q"))
    code, output, _ = validate(file, "input.status_documentation", tmp_path, *args)
    assert code == 0, output
    assert "2 rows in = 2 passed + 0 quarantined" in output  # two sheet rows, three documented periods
    # p1's second sheet row documents the same quarters again: the reader lists it, GX flags its periods,
    # and both p1 sheet rows (not the three long rows) are quarantined
    wb = openpyxl.Workbook()
    for r in [*sheet, ["p1", None, "Studier"]]:
        wb.active.append(r)
    wb.save(file)
    code, output, _ = validate(file, "input.status_documentation", tmp_path, *args)
    assert code == 1
    assert "participant 'p1', period 2021-04-01 documented twice (rows 2, 4)" in output
    assert "3 rows in = 1 passed + 2 quarantined" in output
    bad = pd.read_parquet(tmp_path / "q" / "status.quarantine.parquet")
    assert bad["source_row"].tolist() == [1, 3] and bad["participant_id"].tolist() == ["p1", "p1"]
    reason = "reason__expect_compound_columns_to_be_unique__participant_id__period_start"
    assert bad[reason].tolist() == ["participant_id, period_start duplicated"] * 2


def test_a_config_without_participant_flow_uses_the_shipped_ladder_and_says_so(tmp_path):
    config = _participant_config(tmp_path, None)
    file = _participants_file(tmp_path, "p1;Steget;K;1990;2021-03-01;2021-06-30;Arbete;")
    code, output, _ = validate(file, "input.participants", tmp_path, "--config", str(config))
    assert code == 0, output
    assert "sets no participant_flow.ladder: used the shipped ladder" in output and "ladder.sv.yaml" in output


def test_exclusive_end_dates_from_the_config_are_checked_as_such(tmp_path):
    from insats.demo.participants import LADDER

    file = _participants_file(tmp_path, "p1;Steget;K;1990;2021-03-01;2021-03-01;Arbete;")
    code, output, _ = validate(
        file, "input.participants", tmp_path, "--config", str(_participant_config(tmp_path, LADDER, "exclusive"))
    )
    assert code == 1 and "ends 2021-02-28 (read as exclusive, participant_flow.end_date" in output
    code, output, _ = validate(
        file, "input.participants", tmp_path, "--config", str(_participant_config(tmp_path, LADDER, "inclusive"))
    )
    assert code == 0, output


def test_a_bad_ladder_in_the_config_is_named_with_every_problem(tmp_path):
    config = _participant_config(tmp_path, {"steps": ["A"], "exit": {"happy": ["B"]}})
    file = _participants_file(tmp_path, "p1;Steget;K;1990;2021-03-01;;;")
    code, output, _ = validate(file, "input.participants", tmp_path, "--config", str(config))
    assert code == 2  # a config error, not the verdict "not fit for use"
    assert (
        f"Error: {tmp_path / 'ladder.yaml'}: not a valid ladder (2 problem(s); config setting participant_flow.ladder)"
        in output
    )
    assert "  - steps: List should have at least 2 items" in output
    assert "  - exit: unknown exit categor(y/ies) ['happy']" in output


def test_identity_values_in_unrecognised_spellings_are_masked_everywhere(frames, tmp_path):
    """A mistyped identity number no pattern knows (a slash, a dot) is still masked: it is masked by column."""
    df = frames["persons"].copy()
    odd = [
        df.loc[0, "personnummer"].replace("-", "/"),
        df.loc[1, "personnummer"][:8] + "." + df.loc[1, "personnummer"][9:],
    ]
    df.loc[0, "personnummer"], df.loc[1, "personnummer"] = odd
    file = tmp_path / "personer.csv"
    df.to_csv(file, index=False, encoding="utf-8")
    code, output, out = validate(file, "input.persons", tmp_path, "--docs", str(tmp_path / "docs"))
    assert code == 1
    written = output + "".join(p.read_text(encoding="utf-8", errors="ignore") for p in out.rglob("*.json"))
    written += "".join(p.read_text(encoding="utf-8", errors="ignore") for p in (tmp_path / "docs").rglob("*.html"))
    for value in odd:
        assert value not in written
        assert value.replace("/", "").replace(".", "") not in written


# --- issue 15: a validator that misreads nothing ------------------------------------------------------------


def test_one_person_written_with_12_and_with_10_digits_is_a_duplicate(frames, tmp_path):
    df = frames["persons"].copy()
    df.loc[40, "personnummer"] = df.loc[41, "personnummer"].replace("-", "")[2:]  # 10 digits, same person
    file = tmp_path / "personer.csv"
    df.to_csv(file, index=False)
    code, output, _ = validate(file, "input.persons", tmp_path, "--quarantine", str(tmp_path / "q"))
    assert code == 1
    assert "expect_column_values_to_be_unique on column 'personnummer': 2 unexpected" in output
    assert pd.read_parquet(tmp_path / "q" / "personer.quarantine.parquet")["source_row"].tolist() == [41, 42]


def test_duplicated_column_names_fail_the_file_naming_column_and_positions(frames, tmp_path):
    df = frames["persons"].head(50)
    text = df.to_csv(index=False).splitlines()
    text = [line + ("," + ("kon" if i == 0 else "2")) for i, line in enumerate(text)]  # a second 'kon' column
    file = tmp_path / "personer.csv"
    file.write_text("\n".join(text) + "\n", encoding="utf-8")
    code, output, _ = validate(file, "input.persons", tmp_path, "--quarantine", str(tmp_path / "q"))
    assert code == 1
    assert "FAILED (whole file) duplicated column name 'kon' at header positions 2, 8" in output
    assert output.splitlines()[0].endswith("NOT fit for use (1 whole-file problem(s))")
    assert "50 rows in = 0 passed + 50 quarantined" in output


def test_swapped_value_labels_fail_and_the_headline_agrees_with_the_exit_code(frames, tmp_path):
    file = tmp_path / "personer.sav"
    pyreadstat.write_sav(frames["persons"], str(file), variable_value_labels={"kon": {1: "Kvinna", 2: "Man"}})
    code, output, _ = validate(file, "input.persons", tmp_path)
    assert code == 1
    assert "1='Kvinna' but the code list says 1='Man' (that is code 2 in sex.csv: swapped coding?)" in output
    assert "fit for use" not in output.splitlines()[0].replace("NOT fit for use", "")  # every expectation passed
    assert output.splitlines()[0].endswith("NOT fit for use (1 whole-file problem(s))")
    # The same labels in English and without accents or case are the code list's own: fit for use.
    labels = {"kon": {1: "MALE", 2: "woman"}, "utbildning": {1: "forgymnasial", 2: "Gymnasial", 3: "Eftergymnasial"}}
    pyreadstat.write_sav(frames["persons"], str(file), variable_value_labels=labels)
    code, output, _ = validate(file, "input.persons", tmp_path)
    assert code == 1 and "1='MALE'" in output  # 'Male' is not the code list's 'Man'
    labels["kon"] = {1: "MAN", 2: "woman"}
    pyreadstat.write_sav(frames["persons"], str(file), variable_value_labels=labels)
    code, output, _ = validate(file, "input.persons", tmp_path)
    assert code == 0, output


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


@pytest.mark.parametrize(
    "args, message",
    [
        (["--suite", "persons"], "No suite named 'persons'"),
        (["--suite", "input.persons", "--config", "no/such/config.yaml"], "config"),
        (["--suite", "input.persons", "--clear-ids-to", "{interim}/clear"], "paths.interim"),
    ],
)
def test_usage_and_config_errors_exit_2_not_1(sav_files, tmp_path, args, message):
    from insats.config import load_config

    interim = load_config(ROOT / "configs" / "demo.yaml").paths.interim
    args = [a.replace("{interim}", str(interim)) for a in args]
    result = runner.invoke(app, ["validate", str(sav_files["persons"]), "--out", str(tmp_path / "o"), *args])
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_clear_ids_only_with_an_explicit_folder_outside_the_data_tree(frames, tmp_path):
    df = frames["persons"].copy()
    df.loc[[5], "kon"] = 9
    file = tmp_path / "raw" / "personer.sav"
    file.parent.mkdir()
    pyreadstat.write_sav(df, str(file))
    clear = tmp_path / "steward_only"
    code, output, _ = validate(
        file, "input.persons", tmp_path, "--quarantine", str(tmp_path / "q"), "--clear-ids-to", str(clear)
    )
    assert code == 1 and "With CLEAR identity numbers" in output
    assert pd.read_parquet(clear / "personer.quarantine.parquet")["personnummer"].tolist() == [
        df.loc[5, "personnummer"]
    ]
    pseudo = pd.read_parquet(tmp_path / "q" / "personer.quarantine.parquet")
    assert "personnummer" not in pseudo.columns and pseudo["personnummer__pseudonym"].str.fullmatch("[a-z]{16}").all()


def test_chunked_validation_reports_and_splits_exactly_like_the_in_memory_one(frames, tmp_path):
    """A CSV read in chunks (as every CSV above 64 MB is) gives the same verdict, counts and quarantine:
    duplicates and gaps across chunk borders included."""
    from insats.config import load_config
    from insats.steward import validate_extract

    df = frames["outcomes"].copy().astype({"manad": object})
    df = pd.concat([df, df.iloc[[100]]], ignore_index=True)  # a person-month twice, far apart
    df.loc[5, "sysselsatt"] = 7
    df.loc[700, "personnummer"] = bad_check_digit(df.loc[700, "personnummer"])  # also a gap for that person
    df.loc[900, "manad"] = "2021x"
    df.loc[1000, "personnummer"] = df.loc[1000, "personnummer"].replace("-", "")[2:]  # 10 digits: same person
    file = tmp_path / "utfall.csv"
    lines = df.to_csv(index=False).splitlines()
    lines.insert(31, lines[0])  # a repeated header line
    file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    cfg = load_config(ROOT / "configs" / "demo.yaml")
    runs = {}
    # 701 rows a chunk: the person of row 700 (rows 672-719) straddles the first border, so the gap the bad
    # check digit makes is seen across it; the duplicate of row 100 is 13 chunks away.
    for name, chunk_rows in (("memory", None), ("chunks", 701)):
        q = tmp_path / name
        run = validate_extract(file, "input.outcomes", cfg, out=q / "out", quarantine=q, chunk_rows=chunk_rows)
        runs[name] = (
            run,
            pd.read_parquet(q / "utfall.quarantine.parquet"),
            pd.read_parquet(q / "utfall.passed.parquet"),
        )
    (mem, mem_bad, mem_ok), (chk, chk_bad, chk_ok) = runs["memory"], runs["chunks"]
    assert chk.chunks == 14 and mem.chunks == 0  # 9,602 rows in chunks of 701
    assert (chk.n_rows, chk.n_passed, chk.n_quarantined) == (mem.n_rows, mem.n_passed, mem.n_quarantined)
    assert chk.fit_for_use is mem.fit_for_use is False
    assert chk_bad["source_row"].tolist() == mem_bad["source_row"].tolist()
    assert list(chk_bad.columns) == list(mem_bad.columns)
    for column in [c for c in mem_bad.columns if c.startswith("reason__")]:
        assert chk_bad[column].tolist() == mem_bad[column].tolist(), column
    assert chk_ok["personnummer__pseudonym"].tolist() == mem_ok["personnummer__pseudonym"].tolist()
    counts = {(o.expectation, o.column): o.unexpected_count for o in mem.report.outcomes}
    assert {(o.expectation, o.column): o.unexpected_count for o in chk.report.outcomes} == counts
    assert [p.what for p in chk.table_problems] == [p.what + " (1 row(s) in all)" for p in mem.table_problems]
