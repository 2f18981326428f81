"""The steward's `insats validate`: provenance, JSON result, quarantine split, Data Docs, usage errors.

Every test drives the real command (typer's CliRunner on ``insats.cli.app``) on small seeded demo extracts
and checks that the raw file is byte-for-byte unchanged afterwards.
"""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from insats.cli import app
from insats.tasks.identity import luhn_check_digit
from tests.helpers import ROOT
from tests.helpers.steward import bad_check_digit, runner, sha, validate


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
