"""The steward's `insats validate` on register extracts that break a rule: columns, header rows, identity
numbers, duplicates, value labels.

Every test drives the real command (typer's CliRunner on ``insats.cli.app``) on small seeded demo extracts
and checks that the raw file is byte-for-byte unchanged afterwards.
"""

from __future__ import annotations

import json

import pandas as pd
import pyreadstat

from tests.helpers.steward import bad_check_digit, validate


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


def test_value_labels_that_disagree_with_the_code_lists_fail_the_file(frames, tmp_path):
    file = tmp_path / "personer.sav"
    labels = {"kon": {1: "Man", 2: "Kvinna", 9: "Okänt kön"}, "utbildning": {1: "Förgymnasial", 2: "Gymnasial"}}
    pyreadstat.write_sav(frames["persons"], str(file), variable_value_labels=labels)
    code, output, _ = validate(file, "input.persons", tmp_path)
    assert code == 1
    assert "FAILED (whole file) value labels disagree with the code lists" in output
    assert "9='Okänt kön'" in output and "'kon'" in output


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
