"""Pass 1 of a chunked validation (:mod:`insats.steward.chunked`): read and validate the extract chunk by chunk,
keep a key per row, check what needs the whole table over the keys, and sum everything into one report."""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from insats.steward.prepare import renumber_rows
from insats.steward.reading import repeated_header_rows
from insats.steward.row_keys import duplicated_keys, row_keys, too_few_months
from insats.tasks.register.csvfiles import CsvLayout, iter_csv_chunks, thousands_problems
from insats.tasks.register.standardise import standardise_checked
from insats.validation import (
    N_SAMPLES,
    ValidationReport,
    codelists,
    identity_values_masked,
    load_suite,
    validate_frame,
)

WHOLE_TABLE = (  # expectations that need every row: computed over the keys, not per chunk
    "expect_column_values_to_be_unique",
    "expect_compound_columns_to_be_unique",
    "expect_column_values_to_occur_in_every_month_of_the_period",
    "expect_table_row_count_to_be_between",
)


@dataclass
class _Tally:
    """One expectation summed over the chunks."""

    outcome_count: int = 0
    elements: int = 0
    samples: list[str] = field(default_factory=list)
    rows: list[np.ndarray] = field(default_factory=list)  # failing SOURCE positions per chunk
    raw: dict[str, Any] | None = None


class ChunkedValidation:
    """Everything pass 1 learns; ``source`` positions are 0-based data rows of the file."""

    def __init__(self) -> None:
        self.n_rows = 0
        self.header: list[np.ndarray] = []
        self.keys = np.zeros(0, dtype=np.int64)  # one key per validated row, filled up to n_validated
        self.n_validated = 0
        self.excluded: list[np.ndarray] = []  # source positions NOT validated (header lines, unparseable rows)
        self.tallies: list[_Tally] = []
        self.problems: dict[str, tuple[str, list[np.ndarray], str]] = {}  # head -> (message, rows, reason)
        self.template: dict[str, Any] | None = None
        self.chunks = 0


def validate_chunks(
    file: Path, layout: CsvLayout, kind: str, mapping: dict[str, str], suite: str, params: dict[str, Any],
    id_columns: list[str], chunk_rows: int,
) -> ChunkedValidation:  # fmt: skip
    from insats.steward.run import identity_values

    state = ChunkedValidation()
    for chunk in iter_csv_chunks(file, layout, chunk_rows):
        chunk.columns = [str(c).strip() for c in chunk.columns]
        offset = state.n_rows
        state.n_rows += len(chunk)
        state.chunks += 1
        header = repeated_header_rows(chunk)
        state.header.append(np.flatnonzero(header) + offset)
        for message, rows in thousands_problems(chunk, layout.separator, offset):
            head = message.split(", data row(s)")[0]
            _add_problem(state, head, message, rows, head)
        body_pos = np.flatnonzero(~header)
        body = chunk.iloc[body_pos].reset_index(drop=True) if header.any() else chunk
        frame, parse_problems = standardise_checked(body, kind, mapping, source=file.name)
        unparsed = np.zeros(len(frame), dtype=bool)
        for message, bad in parse_problems:
            head = message.partition("; bad value(s)")[0]
            listed = renumber_rows(message, body_pos + offset + 1)
            text = "values cannot be parsed: " + re.sub(r" and \d+ more$", "", listed)
            _add_problem(state, head, text, body_pos[bad] + offset, "cannot be parsed: " + head.split(": ", 1)[-1])
            unparsed |= bad
        if unparsed.any():
            frame = frame.loc[~unparsed].reset_index(drop=True)
        positions = body_pos[~unparsed] + offset
        state.excluded.append(np.setdiff1d(np.arange(offset, state.n_rows), positions, assume_unique=True))
        _append_keys(state, row_keys(frame, offset), file, chunk_rows)
        with identity_values_masked(identity_values(chunk, id_columns)):
            report = validate_frame(frame, suite, params)
        _tally(state, report, positions)
    return state


def _append_keys(state: ChunkedValidation, keys: np.ndarray, file: Path, chunk_rows: int) -> None:
    """Keys go into one preallocated array (sized from the file's bytes per row in the first chunk, grown by
    half when short), so no list of chunks is concatenated into a second copy at the end."""
    end = state.n_validated + keys.size
    if end > state.keys.size:
        if state.keys.size == 0:
            per_row = max(file.stat().st_size / max(state.n_rows, 1), 1.0) if state.chunks == 1 else 1.0
            estimate = int(file.stat().st_size / per_row * 1.02) + chunk_rows if state.chunks == 1 else 0
            capacity = max(end, estimate)
        else:
            capacity = max(end, int(state.keys.size * 1.5))
        grown = np.empty(capacity, dtype=np.int64)
        grown[: state.n_validated] = state.keys[: state.n_validated]
        state.keys = grown
    state.keys[state.n_validated : end] = keys
    state.n_validated = end


def add_validated(state: ChunkedValidation, report: ValidationReport, keys: np.ndarray, positions: np.ndarray) -> None:
    """One chunk validated outside this module (an extract read in row ranges by the register's ingest): its
    keys go into ``state.keys`` (preallocated to the table's row count by the caller) and its report's outcomes
    into the tallies; ``positions``: the chunk's 0-based rows in the whole table."""
    end = state.n_validated + keys.size
    state.keys[state.n_validated : end] = keys
    state.n_validated = end
    state.n_rows += keys.size
    state.chunks += 1
    _tally(state, report, positions)


def keyed_suite(suite: str, columns: Iterable[str]) -> bool:
    """Whether every whole-table expectation of ``suite`` is one ``row_keys`` of a frame with ``columns`` decides:
    uniqueness of the person (no month column) or of person-month, every month of the period, the row count."""
    columns = set(columns)
    person = "personnummer" if "personnummer" in columns else "person_id"
    for exp in load_suite(suite).get("expectations", []):
        kind, kw = exp.get("type"), exp.get("kwargs", {})
        if kind not in WHOLE_TABLE or kind == "expect_table_row_count_to_be_between":
            continue
        if kind == "expect_column_values_to_be_unique":
            ok = kw.get("column") == person and "month" not in columns
        elif kind == "expect_compound_columns_to_be_unique":
            ok = list(kw.get("column_list") or []) == [person, "month"]
        else:  # every month of the period: person-month keys
            ok = kw.get("column") == person and "month" in columns
        if not ok or person not in columns:
            return False
    return True


def validate_frame_in_chunks(
    df: pd.DataFrame, suite: str, parameters: dict[str, Any] | None, chunk_rows: int
) -> ValidationReport:
    """``validate_frame`` of a large in-memory table (``keyed_suite`` must hold), ``chunk_rows`` rows at a time:
    GX's row-level expectations per chunk, the whole-table ones over ``row_keys`` of the whole frame (8 bytes a
    row, plus a sorted copy), merged into one report (``merged_report``), so GX never holds temporaries of every
    row. Failures of whole-table expectations show ``****`` as samples."""
    params = {**codelists(), **(parameters or {})}
    state = ChunkedValidation()
    state.keys = row_keys(df, 0)
    state.n_rows = state.n_validated = len(df)
    for start in range(0, len(df), chunk_rows):
        part = df.iloc[start : start + chunk_rows]
        _tally(state, validate_frame(part, suite, params), np.arange(start, start + len(part)))
        state.chunks += 1
    check_whole_table(state, params)
    return merged_report(state, suite, str(load_suite(suite).get("meta", {}).get("version", "1")))


def _source_positions(state: ChunkedValidation, frame_rows: np.ndarray) -> np.ndarray:
    """Source positions of validated rows given by their index among the validated rows (the few excluded
    source positions shift the rest)."""
    excluded = np.concatenate(state.excluded) if state.excluded else np.zeros(0, dtype=np.int64)
    shifted = excluded - np.arange(excluded.size)  # validated rows before each excluded position
    return frame_rows + np.searchsorted(shifted, frame_rows, side="right")


def _add_problem(state: ChunkedValidation, head: str, message: str, rows: np.ndarray, reason: str) -> None:
    """Problems of the same kind (same column) are joined over the chunks; the first message is kept."""
    first, rows_so_far, _ = state.problems.get(head, (message, [], reason))
    state.problems[head] = (first, [*rows_so_far, np.asarray(rows, dtype=np.int64)], reason)


def _tally(state: ChunkedValidation, report: ValidationReport, positions: np.ndarray) -> None:
    if state.template is None:
        state.template = report.raw
        state.tallies = [_Tally() for _ in report.outcomes]
    for tally, outcome, raw in zip(state.tallies, report.outcomes, report.raw.get("results", []), strict=True):
        tally.raw = tally.raw or raw
        tally.elements += int((raw.get("result") or {}).get("element_count") or 0)
        if outcome.expectation in WHOLE_TABLE or outcome.success:
            continue
        if outcome.unexpected_count is None:  # a table-level failure (e.g. the column set): no rows, kept as such
            tally.outcome_count, tally.samples = -1, list(outcome.samples)
            continue
        tally.outcome_count += int(outcome.unexpected_count or 0)
        tally.samples += outcome.samples[: max(0, N_SAMPLES - len(tally.samples))]
        if outcome.unexpected_rows:
            tally.rows.append(positions[np.unique(np.asarray(outcome.unexpected_rows, dtype=np.int64))])


def check_whole_table(state: ChunkedValidation, params: dict[str, Any]) -> None:
    """The expectations that need every row, from the keys of every validated row."""
    keys = state.keys[: state.n_validated]
    for tally in state.tallies:
        cfg = (tally.raw or {}).get("expectation_config", {})
        kind = cfg.get("type")
        if kind in ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"):
            bad = duplicated_keys(keys)
        elif kind == "expect_column_values_to_occur_in_every_month_of_the_period":
            bad = too_few_months(keys, params["period_months"])
        elif kind == "expect_table_row_count_to_be_between":
            low, high = cfg.get("kwargs", {}).get("min_value"), cfg.get("kwargs", {}).get("max_value")
            ok = (low is None or keys.size >= low) and (high is None or keys.size <= high)
            tally.outcome_count = -1 if not ok else 0  # a table failure: no rows
            continue
        else:
            continue
        tally.rows = [_source_positions(state, np.flatnonzero(bad))]
        tally.outcome_count = int(bad.sum())
        tally.samples = ["****"] * min(N_SAMPLES, tally.outcome_count)  # identity values: never in clear


def merged_report(state: ChunkedValidation, suite: str, version: str) -> ValidationReport:
    """One report shaped like GX's, with counts, samples and (source) rows summed over the chunks."""
    from insats.validation import ExpectationOutcome

    raw = dict(state.template or {"results": []})
    results, outcomes = [], []
    for tally in state.tallies:
        entry = dict(tally.raw or {})
        cfg = entry.get("expectation_config", {})
        kw = cfg.get("kwargs", {})
        result = dict(entry.get("result") or {})
        table_failed = tally.outcome_count < 0  # the row count, failed
        count = max(tally.outcome_count, 0)
        success = count == 0 and not table_failed
        rows = np.unique(np.concatenate(tally.rows)) if tally.rows else np.zeros(0, dtype=np.int64)
        if "unexpected_count" in result:
            pct = 100.0 * count / tally.elements if tally.elements else 0.0
            result.update(
                element_count=tally.elements, unexpected_count=count, unexpected_percent=pct,
                unexpected_percent_total=pct, partial_unexpected_list=tally.samples, unexpected_list=tally.samples,
                unexpected_index_list=rows[:1000].tolist(),
            )  # fmt: skip
        if cfg.get("type") == "expect_table_row_count_to_be_between":
            result["observed_value"] = state.n_validated
        entry.update(success=success, result=result)
        results.append(entry)
        column = kw.get("column") or ",".join(kw.get("column_list", []) or []) or None
        outcomes.append(ExpectationOutcome(
            cfg.get("type", "?"), column, success, count if "unexpected_count" in result else None,
            100.0 * count / tally.elements if tally.elements else None, tally.samples, rows.tolist(),
        ))  # fmt: skip
    n_ok = sum(r["success"] for r in results)
    raw.update(results=results, success=n_ok == len(results))
    raw["statistics"] = {
        "evaluated_expectations": len(results), "successful_expectations": n_ok,
        "unsuccessful_expectations": len(results) - n_ok,
        "success_percent": 100.0 * n_ok / len(results) if results else 100.0,
    }  # fmt: skip
    n = state.n_validated
    return ValidationReport(suite, version, n, n_ok == len(results), outcomes, raw)


def count_rows(file: Path, layout: CsvLayout, chunk_rows: int) -> ChunkedValidation:
    """Pass 1 when required columns are missing: nothing is validated, the rows and chunks are only counted."""
    state = ChunkedValidation()
    for chunk in iter_csv_chunks(file, layout, chunk_rows):
        state.n_rows += len(chunk)
        state.chunks += 1
    return state
