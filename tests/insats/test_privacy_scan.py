"""``insats privacy-scan`` finds identity numbers planted in every spelling in every kind of file, and nothing in
a clean folder (checksums, numbers failing the check digit, timestamps, phone numbers)."""

from __future__ import annotations

import bz2
import gzip
import hashlib
import io
import json
import lzma
import sqlite3
import zipfile
from collections import Counter
from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from typer.testing import CliRunner

from insats.cli import app
from insats.privacy_scan import scan_paths
from insats.tasks.identity import luhn_check_digit, mask_identity_number

EN_DASH = "\u2013"


def _number(date8: str, serial: str) -> tuple[str, str]:
    """(date8, serial + check digit) of a valid number."""
    return date8, serial + str(luhn_check_digit(date8[2:] + serial))


def planted() -> list[str]:
    """One valid number per spelling, each with its own date so every finding is told apart."""
    spell = {
        "12 digits": lambda d, t: d + t,
        "10 digits": lambda d, t: d[2:] + t,
        "12 with -": lambda d, t: f"{d}-{t}",
        "10 with -": lambda d, t: f"{d[2:]}-{t}",
        "12 with en dash": lambda d, t: f"{d}{EN_DASH}{t}",
        "10 with en dash": lambda d, t: f"{d[2:]}{EN_DASH}{t}",
        "12 with space": lambda d, t: f"{d} {t}",
        "dashed date": lambda d, t: f"{d[:4]}-{d[4:6]}-{d[6:]}-{t}",
        "dashed date, en dash": lambda d, t: f"{d[:4]}-{d[4:6]}-{d[6:]}{EN_DASH}{t}",
    }
    out = [fmt(*_number(f"19{60 + i:02d}0{1 + i % 9}1{i}", "482")) for i, fmt in enumerate(spell.values())]
    out.append("{}+{}".format(*(lambda d, t: (d[2:], t))(*_number("19230405", "271"))))  # aged 100+: '+'
    out.append("{}-{}".format(*_number("19850672", "123")))  # samordningsnummer (12 June + 60)
    out.append("{}{}".format(*(lambda d, t: (d[2:], t))(*_number("19910883", "555"))))  # samordningsnummer, 10
    return out


NUMBERS = planted()
INTEGERS = [int(n) for n in NUMBERS if n.isdigit()]


def expected(numbers: list[str]) -> Counter[str]:
    return Counter(mask_identity_number(n) for n in numbers)


def found(result, file: Path | str) -> Counter[str]:  # type: ignore[no-untyped-def]
    return Counter(f.masked for f in result.findings if f.file == str(file))


def _parquet_bytes(table: pa.Table) -> bytes:
    sink = io.BytesIO()
    pq.write_table(table, sink)
    return sink.getvalue()


def _sqlite(path: Path, texts: list[str], integers: list[int]) -> None:
    with sqlite3.connect(path) as con:
        con.execute("CREATE TABLE log (id INTEGER PRIMARY KEY, message TEXT, payload BLOB)")
        con.executemany(
            "INSERT INTO log (message, payload) VALUES (?, ?)",
            [(f"Table failed: sample {n}", json.dumps({"n": n}).encode()) for n in texts],
        )
        con.execute("CREATE TABLE people (pnr INTEGER)")
        con.executemany("INSERT INTO people VALUES (?)", [(i,) for i in integers])
    con.close()


@pytest.fixture
def leaky(tmp_path: Path) -> Path:
    """A folder with every kind of file, each holding every spelling (files hold them in different ways)."""
    root = tmp_path / "leaky"
    (root / "nested" / ".hidden").mkdir(parents=True)
    text = "\n".join(f"rad {i}: personnummer {n} saknas" for i, n in enumerate(NUMBERS)) + "\n"
    (root / "notes.txt").write_text(text, encoding="utf-8")
    (root / "notes.utf16.txt").write_text(text, encoding="utf-16")
    pd.DataFrame({"pnr": NUMBERS, "kommun": "0484"}).to_csv(root / "nested" / "table.csv", index=False)
    (root / "nested" / ".hidden" / "report.json").write_text(json.dumps({"samples": NUMBERS}), encoding="utf-8")
    cells = "".join(f"<td>{n.replace(EN_DASH, '&ndash;')}</td>" for n in NUMBERS)
    (root / "docs.html").write_text(f"<html><body><table><tr>{cells}</tr></table></body></html>", encoding="utf-8")
    table = pa.table(
        {
            "pnr": pa.array(NUMBERS).dictionary_encode(),
            "nested": pa.array([[n] for n in NUMBERS]),
            "amount": pa.array(range(len(NUMBERS)), pa.int64()),
        }
    ).replace_schema_metadata({"insats": json.dumps({"failure": NUMBERS[0]})})
    pq.write_table(table, root / "table.parquet")
    pq.write_table(
        pa.table({"pnr": pa.array(INTEGERS, pa.int64()), "as_float": pa.array(INTEGERS, pa.float64())}),
        root / "integers.parquet",
    )
    _sqlite(root / "prefect.db", NUMBERS, INTEGERS)
    (root / "notes.txt.gz").write_bytes(gzip.compress(text.encode("utf-8")))
    (root / "notes.txt.bz2").write_bytes(bz2.compress(text.encode("utf-8")))
    (root / "report.json.xz").write_bytes(lzma.compress(json.dumps(NUMBERS).encode("utf-8")))
    (root / "table.parquet.gz").write_bytes(gzip.compress((root / "table.parquet").read_bytes()))
    with zipfile.ZipFile(root / "bundle.zip", "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a/table.csv", (root / "nested" / "table.csv").read_text(encoding="utf-8"))
        archive.writestr("a/table.parquet", _parquet_bytes(pa.table({"pnr": NUMBERS})))
        archive.writestr("prefect.db", (root / "prefect.db").read_bytes())
        archive.writestr("inner.gz", gzip.compress(text.encode("utf-8")))
    return root


def test_every_spelling_is_found_in_every_kind_of_file(leaky: Path) -> None:
    result = scan_paths([leaky])
    assert result.errors == []
    assert result.exit_code == 1
    want = expected(NUMBERS)
    assert len(want) == len(NUMBERS) == 12  # every planted number is told apart from the others
    for name in [
        "notes.txt",
        "notes.utf16.txt",
        "nested/table.csv",
        "nested/.hidden/report.json",
        "docs.html",
        "notes.txt.gz!gunzip",
        "notes.txt.bz2!bunzip2",
        "report.json.xz!unxz",
        "bundle.zip!a/table.csv",
        "bundle.zip!a/table.parquet",
        "bundle.zip!inner.gz!gunzip",
    ]:
        assert found(result, f"{leaky}/{name}") == want, name
    # Parquet: the string column, the same numbers inside lists, and the key-value metadata.
    for name in ["table.parquet", "table.parquet.gz!gunzip"]:
        assert found(result, f"{leaky}/{name}") == want + want + expected(NUMBERS[:1]), name
    ints = expected([str(i) for i in INTEGERS])
    assert found(result, leaky / "integers.parquet") == ints + ints  # int64 and float64 columns
    # SQLite: the text column, the JSON blob and the integer column; also inside a zip.
    for name in ["prefect.db", "bundle.zip!prefect.db"]:
        assert found(result, f"{leaky}/{name}") == want + want + ints, name
    located = {f.location for f in result.findings if f.file == str(leaky / "prefect.db")}
    assert "table 'log', column 'message', row 1" in located and "table 'people', column 'pnr', row 2" in located
    located = {f.location for f in result.findings if f.file == str(leaky / "table.parquet")}
    assert {"column 'pnr', row 1", "column 'nested[]', row 12", "metadata 'insats'"} <= located
    assert {f.location for f in result.findings if f.file == str(leaky / "notes.txt")} == {
        f"line {i + 1}" for i in range(len(NUMBERS))
    }


def test_the_command_prints_masked_findings_only(leaky: Path) -> None:
    result = CliRunner().invoke(app, ["privacy-scan", str(leaky / "notes.txt"), str(leaky / "prefect.db")])
    assert result.exit_code == 1, result.output
    lines = [line for line in result.stdout.splitlines() if line.strip()]
    assert len(lines) == 3 * len(NUMBERS) + len(INTEGERS)
    assert lines[0] == f"{leaky / 'notes.txt'}: line 1: {mask_identity_number(NUMBERS[0])}"
    for number in NUMBERS:
        assert number[-4:] not in result.output.replace("****", "")


@pytest.fixture
def clean(tmp_path: Path) -> Path:
    """Look-alikes only: sha256 digests (with digit runs that pass the check), 10-digit runs that fail it,
    dates, timestamps, phone numbers and amounts, in the same kinds of files."""
    root = tmp_path / "clean"
    root.mkdir()
    date8, tail = _number("19850612", "123")
    failing = [f"{date8[2:]}{tail[:3]}{(int(tail[3]) + d) % 10}" for d in range(1, 10)]  # wrong check digit
    digests = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(200)]
    digests.append(f"ec66fadef{date8[2:]}{tail}b0e6291f")  # a valid number inside a hex run
    other = ["2026-12-01 05:10:07", "070-123 45 67", "+46 8 123 456 78", "16 508 kr", "1234567890", "2026Q4"]
    text = "\n".join(digests + failing + other) + "\n"
    (root / "clean.txt").write_text(text, encoding="utf-8")
    (root / "clean.json").write_text(json.dumps({"sha256": digests, "ids": failing}), encoding="utf-8")
    pq.write_table(
        pa.table({"sha256": digests[:9], "id": pa.array([int(f) for f in failing], pa.int64())}),
        root / "clean.parquet",
    )
    _sqlite(root / "clean.db", digests + other, [int(f) for f in failing])
    (root / "clean.txt.gz").write_bytes(gzip.compress(text.encode("utf-8")))
    with zipfile.ZipFile(root / "clean.zip", "w") as archive:
        archive.writestr("clean.txt", text)
    return root


def test_a_clean_folder_has_no_findings_and_exits_0(clean: Path) -> None:
    result = scan_paths([clean])
    assert (result.findings, result.errors, result.files) == ([], [], 6)
    assert result.exit_code == 0
    cli = CliRunner().invoke(app, ["privacy-scan", str(clean)])
    assert cli.exit_code == 0 and cli.stdout == ""


def test_unreadable_input_exits_2(tmp_path: Path, leaky: Path) -> None:
    (tmp_path / "broken.gz").write_bytes(b"\x1f\x8b" + b"not really gzip")
    (tmp_path / "broken.parquet").write_bytes(b"PAR1 truncated")
    result = scan_paths([tmp_path / "broken.gz", tmp_path / "broken.parquet", tmp_path / "missing"])
    assert len(result.errors) == 3 and result.exit_code == 2
    cli = CliRunner().invoke(app, ["privacy-scan", str(tmp_path / "missing"), str(leaky / "notes.txt")])
    assert cli.exit_code == 2  # unreadable input wins over findings: the scan was incomplete
    assert "no such file or folder" in cli.stderr
