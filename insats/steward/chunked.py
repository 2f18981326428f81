"""``insats validate`` of a large CSV register extract in bounded memory: two passes over chunks of rows.

Pass 1 reads ``chunk_rows`` rows at a time (pandas' chunked C reader on the layout ``csvfiles.sniff_layout``
found), parses them with ``standardise_checked`` and validates each chunk with the stored GX suite. Row-level
expectations (not null, in set, between, identity numbers, pairs) are exact per chunk; the expectations that
need the whole table are computed over compact keys kept for every row (8 bytes a row): uniqueness of the
person (``personnummer``, normalised to 12 digits) or of person-month, every month of the period present,
and the row count. Counts, samples (the first five, masked) and failing rows are summed over the chunks into
one ``ValidationReport`` shaped like GX's own result. Pass 2 (only with a quarantine or clear-ids folder)
reads the chunks again and streams passed and quarantined rows into Parquet files; the counts reconcile.

Peak memory ~ one chunk (GX validation included) + 16 bytes per row (keys and a sorted copy) + a bool per row.
"""

from __future__ import annotations

import re
import zlib
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from insats.steward.outputs import identity_columns, pseudonym_key, split_folders, without_clear_ids
from insats.steward.prepare import renumber_rows
from insats.steward.reading import (
    UnreadableExtractError,
    extra_columns,
    missing_columns,
    register_kind,
    repeated_header_rows,
    sha256_of,
)
from insats.steward.reasons import reason_column, reason_text
from insats.storage import atomic_path
from insats.tasks.register.csvfiles import CsvLayout, iter_csv_chunks, sniff_layout, thousands_problems
from insats.tasks.register.standardise import standardise_checked
from insats.validation import N_SAMPLES, ValidationReport, codelists, identity_values_masked, validate_frame

WHOLE_TABLE = (  # expectations that need every row: computed over the keys, not per chunk
    "expect_column_values_to_be_unique",
    "expect_compound_columns_to_be_unique",
    "expect_column_values_to_occur_in_every_month_of_the_period",
    "expect_table_row_count_to_be_between",
)
_MONTH_BITS = 12  # months since 1900 fit in 12 bits; a 12-digit personnummer in 38
_INVALID_BASE = 1 << 39  # keys of invalid identity numbers (a hash) lie above every valid one


@dataclass
class _Tally:
    """One expectation summed over the chunks."""

    outcome_count: int = 0
    elements: int = 0
    samples: list[str] = field(default_factory=list)
    rows: list[np.ndarray] = field(default_factory=list)  # failing SOURCE positions per chunk
    raw: dict[str, Any] | None = None


def _person_keys(ids: pd.Series, first: int) -> np.ndarray:
    """int64 key per identity number: the 12 digits of a valid (normalised) one, else a 32-bit hash above them;
    a missing one gets a key of its own below zero (-(row + 1); ``first``: the first row's number), as GX
    skips missing values in uniqueness checks."""
    text = ids.astype("string")
    missing = text.isna().to_numpy(dtype=bool)
    text = text.fillna("")
    digits = text.str.fullmatch(r"\d{12}").fillna(False).to_numpy(dtype=bool)
    keys = np.zeros(len(text), dtype=np.int64)
    if digits.any():
        keys[digits] = pd.to_numeric(text[digits]).to_numpy(dtype=np.int64)
    for i in np.flatnonzero(~digits & ~missing):
        keys[i] = _INVALID_BASE + zlib.crc32(str(text.iloc[i]).encode("utf-8"))
    keys[missing] = -(np.flatnonzero(missing) + first + 1)
    return keys


def _keys(frame: pd.DataFrame, first: int) -> np.ndarray:
    """Person key, or person-month key (person << 12 | months since 1900) when the frame has a month."""
    person = _person_keys(frame["personnummer"], first)
    if "month" not in frame.columns:
        return person
    month = frame["month"]
    index = ((month.dt.year - 1900) * 12 + month.dt.month - 1).fillna(0).to_numpy(dtype=np.int64)
    return (person << _MONTH_BITS) | index


def _duplicated(keys: np.ndarray) -> np.ndarray:
    """Bool per key: the key occurs more than once (a sorted copy, then a membership test in blocks)."""
    ordered = np.sort(keys)
    repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    del ordered
    return _member(keys, repeated, shift=0)


def _member(keys: np.ndarray, values: np.ndarray, shift: int, block: int = 1 << 24) -> np.ndarray:
    out = np.zeros(keys.size, dtype=bool)
    if values.size:
        for start in range(0, keys.size, block):
            out[start : start + block] = np.isin(keys[start : start + block] >> shift, values)
    return out


def _too_few_months(keys: np.ndarray, months: int) -> np.ndarray:
    """Bool per person-month key: its person has fewer than ``months`` rows."""
    persons = np.sort(keys)
    np.right_shift(persons, _MONTH_BITS, out=persons)  # in place: one copy of the keys, not two
    uniques, counts = np.unique(persons, return_counts=True)
    del persons
    return _member(keys, uniques[(counts < int(months)) & (uniques >= 0)], shift=_MONTH_BITS)


class _Pass1:
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


def _pass1(
    file: Path, layout: CsvLayout, kind: str, mapping: dict[str, str], suite: str, params: dict[str, Any],
    id_columns: list[str], chunk_rows: int,
) -> _Pass1:  # fmt: skip
    from insats.steward.run import identity_values

    state = _Pass1()
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
        _append_keys(state, _keys(frame, offset), file, chunk_rows)
        with identity_values_masked(identity_values(chunk, id_columns)):
            report = validate_frame(frame, suite, params)
        _tally(state, report, positions)
    return state


def _append_keys(state: _Pass1, keys: np.ndarray, file: Path, chunk_rows: int) -> None:
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


def _source_positions(state: _Pass1, frame_rows: np.ndarray) -> np.ndarray:
    """Source positions of validated rows given by their index among the validated rows (the few excluded
    source positions shift the rest)."""
    excluded = np.concatenate(state.excluded) if state.excluded else np.zeros(0, dtype=np.int64)
    shifted = excluded - np.arange(excluded.size)  # validated rows before each excluded position
    return frame_rows + np.searchsorted(shifted, frame_rows, side="right")


def _add_problem(state: _Pass1, head: str, message: str, rows: np.ndarray, reason: str) -> None:
    """Problems of the same kind (same column) are joined over the chunks; the first message is kept."""
    first, rows_so_far, _ = state.problems.get(head, (message, [], reason))
    state.problems[head] = (first, [*rows_so_far, np.asarray(rows, dtype=np.int64)], reason)


def _tally(state: _Pass1, report: ValidationReport, positions: np.ndarray) -> None:
    if state.template is None:
        state.template = report.raw
        state.tallies = [_Tally() for _ in report.outcomes]
    for tally, outcome, raw in zip(state.tallies, report.outcomes, report.raw.get("results", []), strict=True):
        tally.raw = tally.raw or raw
        tally.elements += int((raw.get("result") or {}).get("element_count") or 0)
        if outcome.expectation in WHOLE_TABLE or outcome.success:
            continue
        tally.outcome_count += int(outcome.unexpected_count or 0)
        tally.samples += outcome.samples[: max(0, N_SAMPLES - len(tally.samples))]
        if outcome.unexpected_rows:
            tally.rows.append(positions[np.unique(np.asarray(outcome.unexpected_rows, dtype=np.int64))])


def _whole_table(state: _Pass1, params: dict[str, Any]) -> None:
    """The expectations that need every row, from the keys of every validated row."""
    keys = state.keys[: state.n_validated]
    for tally in state.tallies:
        cfg = (tally.raw or {}).get("expectation_config", {})
        kind = cfg.get("type")
        if kind in ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"):
            bad = _duplicated(keys)
        elif kind == "expect_column_values_to_occur_in_every_month_of_the_period":
            bad = _too_few_months(keys, params["period_months"])
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


def _merged_report(state: _Pass1, suite: str, version: str) -> ValidationReport:
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


def validate_in_chunks(
    file: Path, suite: str, config: Any, *, out: Path, quarantine: Path | None, docs: Path | None,
    encoding: str | None, parameters: dict[str, Any] | None, clear_ids_to: Path | None, chunk_rows: int,
) -> Any:  # fmt: skip
    """``insats.steward.run.validate_extract`` for a CSV register extract, chunk by chunk (see the module)."""
    from insats.steward.run import HEADER_ROW, StewardRun, TableProblem, finish, problem_masks
    from insats.validation import input_parameters, load_suite

    sha_before = sha256_of(file)
    try:
        layout = sniff_layout(file, encoding)
    except (ValueError, OSError) as exc:
        raise UnreadableExtractError(f"Cannot read register extract {file.name} ({file}): {exc}") from exc
    kind = register_kind(suite)
    assert kind is not None
    mapping = dict(config.register.columns[kind])
    started = datetime.now(UTC)
    columns = pd.DataFrame(columns=[c.strip() for c in layout.header])
    id_columns = identity_columns(columns, mapping.get("personnummer", "personnummer"))
    key = pseudonym_key(config) if quarantine is not None and id_columns else None
    params = {**codelists(), **(parameters if parameters is not None else input_parameters(config))}
    missing = missing_columns(columns, mapping, kind)
    problems = [TableProblem(p, None, "duplicated column name") for p in layout.duplicated_problems()]
    if missing:
        problems.append(TableProblem(
            f"missing required column(s): {', '.join(missing)}; columns present: {', '.join(columns.columns)} "
            f"(map them in register.columns.{kind})", None, "missing required column(s)",
        ))  # fmt: skip
        state, report = _count_rows(file, layout, chunk_rows), None
    else:
        try:
            state = _pass1(file, layout, kind, mapping, suite, params, id_columns, chunk_rows)
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise UnreadableExtractError(f"Cannot read register extract {file.name}: malformed CSV: {exc}") from exc
        _whole_table(state, params)
        version = str(load_suite(suite).get("meta", {}).get("version", "1"))
        report = _merged_report(state, suite, version)
    if state.n_rows == 0:
        raise UnreadableExtractError(f"Cannot read register extract {file.name} ({file}): the table has no rows")
    for first, rows, reason in state.problems.values():
        where = np.unique(np.concatenate(rows))
        problems.append(TableProblem(f"{first} ({where.size:,} row(s) in all)", where, reason[:160]))
    n = state.n_rows
    header = np.zeros(n, dtype=bool)
    for rows in state.header:
        header[rows] = True
    if report is not None:
        problems += [
            TableProblem(f"{o.expectation}: {'; '.join(o.samples)}", None, f"{o.expectation} failed for the table")
            for o in report.outcomes
            if o.unexpected_count is None and not o.success
        ]
    masks, texts = problem_masks(problems, n)
    taken = set(masks)
    for tally, outcome in zip(state.tallies, report.outcomes if report else [], strict=False):
        if outcome.success or not outcome.unexpected_count:
            continue
        cfg = (tally.raw or {}).get("expectation_config", {})
        name = reason_column(outcome.expectation, cfg.get("kwargs", {}), taken)
        mask = np.zeros(n, dtype=bool)
        mask[np.concatenate(tally.rows)] = True
        masks[name], texts[name] = mask, reason_text(outcome.expectation, cfg.get("kwargs", {}), params)
    if header.any():
        masks, texts = {HEADER_ROW: header, **masks}, {HEADER_ROW: "a header line repeated inside the data", **texts}
    failed = header.copy()
    for mask in masks.values():
        failed |= mask
    extras = extra_columns(columns, suite, mapping)
    notes = [*layout.warnings] + (
        [f"unexpected extra column(s) not in the config mapping/suite: {', '.join(extras)} "
         "(kept in the quarantine/passed files, not validated)"] if extras else []
    )  # fmt: skip
    run = StewardRun(
        file=file, suite=suite, n_rows=n, report=report, table_problems=problems, header_rows=np.flatnonzero(header),
        row_failed=failed, extra_columns=extras, validation_path=out / f"{file.stem}.{suite}.validation.json",
        provenance_path=out / f"{file.stem}.provenance.json", notes=notes,
        info=[*layout.notices, f"read and validated in {state.chunks} chunk(s) of up to {chunk_rows:,} rows"],
        chunks=state.chunks,
    )  # fmt: skip
    for folder, clear in split_folders(quarantine, clear_ids_to):
        paths = _write_split(run, layout, chunk_rows, masks, texts, folder, [] if clear else id_columns, key)
        if clear:
            run.clear_passed_path, run.clear_quarantine_path = paths
        else:
            run.passed_path, run.quarantine_path = paths
    finish(run, report, config, docs, sha_before, started, encoding)
    return run


def _count_rows(file: Path, layout: CsvLayout, chunk_rows: int) -> _Pass1:
    state = _Pass1()
    for chunk in iter_csv_chunks(file, layout, chunk_rows):
        state.n_rows += len(chunk)
        state.chunks += 1
    return state


def _write_split(
    run: Any, layout: CsvLayout, chunk_rows: int, masks: dict[str, np.ndarray], texts: dict[str, str],
    folder: Path, id_columns: list[str], key: bytes | None,
) -> tuple[Path, Path]:  # fmt: skip
    """Pass 2: stream ``<stem>.passed.parquet`` and ``<stem>.quarantine.parquet`` chunk by chunk."""
    import json

    meta = {
        "source": str(run.file),
        "suite": run.suite,
        "fit_for_use": run.fit_for_use,
        "reconciliation": run.reconciliation(),
        "identity_columns": "pseudonymised" if id_columns else "as read",
    }
    schema_meta = {b"insats": json.dumps(meta, ensure_ascii=False).encode("utf-8")}
    stem = run.file.stem
    targets = (Path(folder) / f"{stem}.passed.parquet", Path(folder) / f"{stem}.quarantine.parquet")
    with atomic_path(targets[0]) as tmp_passed, atomic_path(targets[1]) as tmp_bad:
        writers: dict[str, pq.ParquetWriter] = {}
        offset = 0
        for chunk in iter_csv_chunks(run.file, layout, chunk_rows):
            chunk.columns = [str(c).strip() for c in chunk.columns]
            rows = slice(offset, offset + len(chunk))
            failed = run.row_failed[rows]
            if id_columns:
                chunk = without_clear_ids(chunk, id_columns, key or b"")
            bad = chunk.loc[failed].reset_index(drop=True)
            bad.insert(0, "source_row", np.flatnonzero(failed) + offset + 1)
            for name, mask in masks.items():
                bad[name] = np.where(mask[rows][failed], texts[name], "")
            for name, part, tmp in (("passed", chunk.loc[~failed], tmp_passed), ("bad", bad, tmp_bad)):
                table = pa.Table.from_pandas(part.astype({c: "string" for c in part.columns if c != "source_row"}),
                                             preserve_index=False)  # fmt: skip
                if name not in writers:
                    writers[name] = pq.ParquetWriter(tmp, table.schema.with_metadata(schema_meta))
                writers[name].write_table(table.replace_schema_metadata(schema_meta))
            offset += len(chunk)
        for writer in writers.values():
            writer.close()
    return targets
