"""A large .sav extract is parsed, checked and pseudonymised range by range: the same table, and the same errors,
as the whole-table ingest (chunking forced on a small register by shrinking the size threshold and ranges)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyarrow as pa
import pyreadstat
import pytest

from insats.demo.register import make_register, write_register
from insats.tasks.register import readers
from insats.tasks.register.ingest import ingest_extract
from insats.tasks.register.standardise import DEFAULT_COLUMNS
from insats.validation import GateError

N_MONTHS = 14
PARAMS = {"period_first": pd.Timestamp("2021-01-01"), "period_last": pd.Timestamp("2022-02-28"),
          "amount_ceiling": 1e5, "period_months": N_MONTHS}  # fmt: skip


@pytest.fixture(scope="module")
def register(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    frames, _ = make_register(seed=7, n_persons=50, n_months=N_MONTHS)
    return write_register(frames, tmp_path_factory.mktemp("register"))


def _ingest(kind: str, source: Path, monkeypatch: pytest.MonkeyPatch, chunk_rows: int | None) -> pd.DataFrame:
    """``ingest_extract`` whole (``chunk_rows`` None) or in ranges of ``chunk_rows`` rows."""
    monkeypatch.setattr(readers, "CHUNKED_READ_BYTES", 64 * 2**20 if chunk_rows is None else 0)
    monkeypatch.setattr(readers, "STAT_CHUNK_ROWS", chunk_rows or 2_000_000)
    return ingest_extract(kind, source, DEFAULT_COLUMNS[kind], "k", "INSATS_NO_SUCH_KEY", None, True, PARAMS)


def _error(kind: str, source: Path, monkeypatch: pytest.MonkeyPatch, chunk_rows: int | None) -> str:
    with pytest.raises((GateError, ValueError)) as err:
        _ingest(kind, source, monkeypatch, chunk_rows)
    return f"{type(err.value).__name__}: {err.value}"


@pytest.mark.parametrize(("kind", "rows"), [("outcomes", 150), ("assistance", 150), ("persons", 15)])
def test_ranges_give_the_whole_table_frame(
    register: dict[str, Path], monkeypatch: pytest.MonkeyPatch, kind: str, rows: int
) -> None:
    from insats.tasks.register import chunked_ingest

    whole = _ingest(kind, register[kind], monkeypatch, None)
    ranges = []

    def counted(*args: object) -> object:
        for chunk in readers.iter_stat_chunks(*args):
            ranges.append(len(chunk))
            yield chunk

    monkeypatch.setattr(chunked_ingest, "iter_stat_chunks", counted)
    chunked = _ingest(kind, register[kind], monkeypatch, rows)  # not a divisor: the last range is short
    assert len(ranges) == -(-len(whole) // rows) and sum(ranges) == len(whole)
    pd.testing.assert_frame_equal(chunked, whole, check_exact=True)
    as_arrow = [pa.Table.from_pandas(f, preserve_index=False).schema for f in (chunked, whole)]
    assert as_arrow[0].equals(as_arrow[1], check_metadata=True)
    assert len(whole) > rows and len(whole) % rows and whole["person_id"].str.fullmatch(r"[a-z]{16}").all()


def _outcomes_with(tmp_path: Path, register: dict[str, Path], change: dict[int, dict[str, object]]) -> Path:
    frame, meta = pyreadstat.read_sav(str(register["outcomes"]))
    for row, values in change.items():
        for column, value in values.items():
            frame.loc[row, column] = value
    path = tmp_path / "outcomes.sav"
    pyreadstat.write_sav(frame, str(path), variable_value_labels=meta.variable_value_labels)
    return path


def test_a_parse_error_lists_the_first_rows_of_the_file_and_the_total(
    tmp_path: Path, register: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    bad = {row: {"manad": 202113.0} for row in (3, 160, 161, 310, 450, 451, 600)}  # 7 rows in 5 ranges of 150
    path = _outcomes_with(tmp_path, register, bad)
    whole = _error("outcomes", path, monkeypatch, None)
    assert whole == _error("outcomes", path, monkeypatch, 150)
    assert "data row(s) 4 (202113" in whole and "and 2 more" in whole


def test_failed_row_checks_give_the_whole_table_message(
    tmp_path: Path, register: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Counts, percentages and the first five samples summed over the ranges; identity numbers masked."""
    bad = {row: {"sysselsatt": 7.0} for row in (5, 149, 300, 301, 460, 650)}
    path = _outcomes_with(tmp_path, register, bad)
    whole = _error("outcomes", path, monkeypatch, None)
    assert whole == _error("outcomes", path, monkeypatch, 150)
    assert whole.endswith(
        "expect_column_values_to_be_in_set on column 'employed': 6 unexpected (0.9%), e.g. 7, 7, 7, 7, 7"
    )

    frame, _ = pyreadstat.read_sav(str(register["outcomes"]))
    wrong = "19850612-1235"  # bad check digit, in the third range; its person then lacks a month
    path = _outcomes_with(tmp_path, register, {**bad, 400: {"personnummer": wrong}})
    whole = _error("outcomes", path, monkeypatch, None).split("; ")
    chunked = _error("outcomes", path, monkeypatch, 150).split("; ")
    every_month = "expect_column_values_to_occur_in_every_month_of_the_period"
    assert [c for c in chunked if every_month not in c] == [c for c in whole if every_month not in c]
    assert [c.split(", e.g.")[0] for c in chunked] == [c.split(", e.g.")[0] for c in whole]  # the same counts
    assert any("valid_swedish_identity_numbers" in c for c in chunked)
    assert not any(wrong in c or str(frame.loc[400, "personnummer"]) in c for c in chunked)


def test_a_duplicated_person_month_across_ranges_fails_the_input_contract(
    tmp_path: Path, register: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    """Uniqueness needs the whole table: computed over the row keys, the count as GX gives it."""
    frame, _ = pyreadstat.read_sav(str(register["outcomes"]))
    copy = {600: {"personnummer": frame.loc[2, "personnummer"], "manad": frame.loc[2, "manad"]}}
    path = _outcomes_with(tmp_path, register, copy)
    whole = _error("outcomes", path, monkeypatch, None)
    chunked = _error("outcomes", path, monkeypatch, 150)
    assert "expect_compound_columns_to_be_unique on column 'personnummer,month': 2 unexpected" in chunked
    assert "expect_compound_columns_to_be_unique on column 'personnummer,month': 2 unexpected" in whole
    assert str(frame.loc[2, "personnummer"]) not in chunked


@pytest.mark.parametrize("kind", ["outcomes", "persons"])
def test_a_large_pseudonymised_table_is_gated_in_chunks_with_gx_counts(
    register: dict[str, Path], monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    """``gate`` of a table over CHUNK_ROWS rows (publish re-gates the register's tables): GX per chunk, uniqueness
    of person_id (and month) over keys of the whole column; the same counts as GX on the whole table."""
    from insats import validation

    table = _ingest(kind, register[kind], monkeypatch, None)
    bad = table.copy()
    bad.loc[[3, len(bad) - 2], "person_id"] = bad.loc[1, "person_id"]  # duplicates in the first and last chunk
    if "month" in bad:
        bad.loc[[3, len(bad) - 2], "month"] = bad.loc[1, "month"]
    bad.loc[len(bad) // 2, "person_id"] = "NOT-A-PSEUDONYM"
    whole = _gate_error(bad, kind)
    assert validation.gate(table, f"register.{kind}", "t").n_rows == len(table)
    monkeypatch.setattr(validation, "CHUNK_ROWS", 13 if kind == "persons" else 150)
    assert validation.gate(table, f"register.{kind}", "t").success
    chunked = _gate_error(bad, kind)
    assert [c.split(", e.g.")[0] for c in chunked] == [c.split(", e.g.")[0] for c in whole]
    assert [c for c in chunked if "unique" not in c] == [c for c in whole if "unique" not in c]
    assert any("unique" in c and "3 unexpected" in c and "****" in c for c in chunked)  # keys: no values shown


def _gate_error(frame: pd.DataFrame, kind: str) -> list[str]:
    from insats import validation

    with pytest.raises(GateError) as err:
        validation.gate(frame, f"register.{kind}", "t")
    return str(err.value).split("; ")
