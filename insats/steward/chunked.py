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

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from insats.steward.chunked_validation import check_whole_table, count_rows, merged_report, validate_chunks
from insats.steward.outputs import identity_columns, pseudonym_key, split_folders, without_clear_ids
from insats.steward.reading import (
    UnreadableExtractError,
    extra_columns,
    missing_columns,
    register_kind,
    sha256_of,
)
from insats.steward.reasons import reason_column, reason_text
from insats.storage import atomic_path
from insats.tasks.register.csvfiles import CsvLayout, iter_csv_chunks, sniff_layout
from insats.validation import codelists


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
        state, report = count_rows(file, layout, chunk_rows), None
    else:
        try:
            state = validate_chunks(file, layout, kind, mapping, suite, params, id_columns, chunk_rows)
        except (pd.errors.ParserError, UnicodeDecodeError) as exc:
            raise UnreadableExtractError(f"Cannot read register extract {file.name}: malformed CSV: {exc}") from exc
        check_whole_table(state, params)
        version = str(load_suite(suite).get("meta", {}).get("version", "1"))
        report = merged_report(state, suite, version)
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
