"""One ``insats validate`` run: read, prepare (``insats.steward.prepare``), validate with the stored GX
suite, split the rows, and write the result, the provenance record and optional Data Docs."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import insats
from insats.steward.docs import build_data_docs, jsonable
from insats.steward.outputs import identity_columns, pseudonym_key, split_folders, without_clear_ids
from insats.steward.prepare import PARTICIPANT_SUITES, Prepared, prepare
from insats.steward.reading import (
    check_clear_ids_dir,
    check_output_dir,
    extra_columns,
    parquet_safe,
    read_source_checked,
    register_kind,
    repeated_header_rows,
    sha256_of,
)
from insats.steward.reasons import row_failures, table_failures
from insats.storage import protect_raw, write_json, write_parquet
from insats.validation import ValidationReport, codelists, identity_values_masked, load_suite, validate_frame

HEADER_ROW = "reason__repeated_header_row"
WHOLE_FILE = "reason__whole_file"
STREAM_BYTES = 64 * 1024**2  # CSV register extracts above this are validated in chunks (in memory: ~10x size)
CHUNK_ROWS = 1_000_000
SUMMARY_PROBLEMS = 20  # whole-file problems spelled out in the terminal summary; all go to the JSON result


@dataclass(frozen=True)
class TableProblem:
    """A failure beyond single expectations: missing or duplicated columns, unparseable values, value labels,
    row count. ``rows``: the source rows it concerns (0-based), quarantined; None: every row."""

    what: str
    rows: np.ndarray | None = None
    reason: str = ""

    def describe(self) -> str:
        return f"FAILED (whole file) {self.what}"


@dataclass
class StewardRun:
    """The outcome of one ``validate`` run; ``fit_for_use`` decides the exit code (0 fit, 1 not)."""

    file: Path
    suite: str
    n_rows: int
    report: ValidationReport | None
    table_problems: list[TableProblem]
    header_rows: np.ndarray  # positions (0-based data rows) of repeated header lines
    row_failed: np.ndarray  # bool per source row: fails at least one row-level check
    extra_columns: list[str]
    validation_path: Path
    provenance_path: Path
    passed_path: Path | None = None
    quarantine_path: Path | None = None
    docs_index: Path | None = None
    notes: list[str] = field(default_factory=list)  # warnings (e.g. unexpected extra columns)
    info: list[str] = field(default_factory=list)  # what the run used (e.g. which ladder)
    clear_passed_path: Path | None = None
    clear_quarantine_path: Path | None = None
    chunks: int = 0  # > 0: read and validated in this many chunks

    @property
    def n_quarantined(self) -> int:
        return int(self.row_failed.sum())

    @property
    def n_passed(self) -> int:
        return self.n_rows - self.n_quarantined

    @property
    def fit_for_use(self) -> bool:
        return not self.table_problems and self.n_quarantined == 0 and (self.report is None or self.report.success)

    def reconciliation(self) -> str:
        return f"{self.n_rows:,} rows in = {self.n_passed:,} passed + {self.n_quarantined:,} quarantined"

    def _header_line(self) -> list[str]:
        if not self.header_rows.size:
            return []
        shown = ", ".join(str(int(i) + 1) for i in self.header_rows[:5])
        more = f" and {self.header_rows.size - 5} more" if self.header_rows.size > 5 else ""
        return [
            f"FAILED repeated header row inside the data: {self.header_rows.size} row(s), data row(s) {shown}{more}"
        ]

    def headline(self) -> str:
        """The verdict line; it says what the exit code says (0 fit for use, 1 not)."""
        version = f" v{self.report.suite_version}" if self.report is not None else ""
        head = f"{self.file}: suite {self.suite}{version}, {self.n_rows:,} rows: "
        if self.fit_for_use:
            return head + "fit for use"
        why = []
        if self.report is None:
            why.append("not validated")
        elif self.report.failures:
            why.append(f"{len(self.report.failures)} expectation(s) failed")
        if self.table_problems:
            why.append(f"{len(self.table_problems)} whole-file problem(s)")
        if self.header_rows.size:
            why.append(f"{self.header_rows.size} repeated header row(s)")
        return head + f"NOT fit for use ({', '.join(why) or f'{self.n_quarantined:,} row(s) quarantined'})"

    def summary(self) -> str:
        """The terminal text: verdict, one line per expectation, whole-file problems (the first
        SUMMARY_PROBLEMS, then a count), reconciliation."""
        lines = [self.headline()]
        if self.report is not None:
            lines += [o.describe() for o in self.report.outcomes]
        lines += self._header_line()
        lines += [p.describe() for p in self.table_problems[:SUMMARY_PROBLEMS]]
        if len(self.table_problems) > SUMMARY_PROBLEMS:
            lines.append(f"... and {len(self.table_problems) - SUMMARY_PROBLEMS} more whole-file problem(s)")
        if self.table_problems or (self.report is not None and table_failures(self.report)):
            everywhere = any(p.rows is None for p in self.table_problems)
            lines.append(
                "The whole file is NOT fit for use: whole-file checks failed ("
                + ("every row is quarantined" if everywhere else "the rows they concern are quarantined")
                + ")"
            )
        lines += [f"Warning: {note}" for note in self.notes]
        lines += [f"Note: {note}" for note in self.info]
        lines.append(self.reconciliation())
        return "\n".join(lines)


@dataclass
class _Checked:
    report: ValidationReport | None
    problems: list[TableProblem]
    row_failed: np.ndarray
    masks: dict[str, np.ndarray]
    texts: dict[str, str]


def problem_masks(problems: list[TableProblem], n_rows: int) -> tuple[dict[str, np.ndarray], dict[str, str]]:
    """Quarantine masks (over source rows) and reasons for problems: one column per problem naming rows,
    ``reason__whole_file`` (every row) for problems without rows."""
    masks: dict[str, np.ndarray] = {}
    texts: dict[str, str] = {}
    everywhere = [p for p in problems if p.rows is None]
    if everywhere:
        more = f" (and {len(everywhere) - 1} more whole-file problem(s))" if len(everywhere) > 1 else ""
        masks[WHOLE_FILE] = np.ones(n_rows, dtype=bool)
        texts[WHOLE_FILE] = f"the whole file fails: {everywhere[0].reason or everywhere[0].what[:200]}{more}"
    for i, problem in enumerate(p for p in problems if p.rows is not None):
        name = f"reason__problem_{i + 1}"
        mask = np.zeros(n_rows, dtype=bool)
        mask[problem.rows] = True
        masks[name], texts[name] = mask, problem.reason or problem.what[:200]
    return masks, texts


def _check(
    prepared: Prepared,
    header: np.ndarray,
    suite: str,
    params: dict[str, Any],
    validate: Callable[[pd.DataFrame, str, dict[str, Any] | None], ValidationReport],
    read_problems: list[TableProblem],
) -> _Checked:
    """Validate the prepared frame; row masks over the SOURCE rows (header lines and the rows of whole-file
    problems included as failures)."""
    n_rows = header.size
    problems = [*read_problems, *(TableProblem(p.message, p.rows, p.reason) for p in prepared.problems)]
    checked = _Checked(None, problems, header.copy(), {}, {})
    if prepared.frame is not None:
        report = validate(prepared.frame, suite, params)
        checked.report = report
        checked.problems += [
            TableProblem(o.describe().removeprefix("FAILED").strip(), None, f"{o.expectation} failed for the table")
            for o in table_failures(report)
        ]
        _, frame_masks, checked.texts = row_failures(report, len(prepared.frame), params)
        for name, mask in frame_masks.items():
            full = np.zeros(n_rows, dtype=bool)
            full[prepared.positions[mask]] = True
            checked.masks[name] = full
            checked.row_failed |= full
    masks, texts = problem_masks(checked.problems, n_rows)
    for mask in masks.values():
        checked.row_failed |= mask
    checked.masks, checked.texts = {**masks, **checked.masks}, {**texts, **checked.texts}
    if header.any():
        checked.masks = {HEADER_ROW: header, **checked.masks}
        checked.texts = {HEADER_ROW: "a header line repeated inside the data", **checked.texts}
    return checked


def _write_split(
    run: StewardRun, source: pd.DataFrame, checked: _Checked, folder: Path, id_columns: list[str], key: bytes | None
) -> tuple[Path, Path]:
    """``<stem>.passed.parquet`` and ``<stem>.quarantine.parquet`` (source columns, a reason column each);
    the ``id_columns`` pseudonymised with ``key`` (none given: clear ids, for a folder outside the data tree)."""
    failed = checked.row_failed
    passed = source.loc[~failed].reset_index(drop=True) if failed.any() else source
    bad = source.loc[failed].reset_index(drop=True)
    if id_columns:
        assert key is not None, "identity columns need the pseudonymisation key"
        passed, bad = without_clear_ids(passed, id_columns, key), without_clear_ids(bad, id_columns, key)
    bad.insert(0, "source_row", np.flatnonzero(failed) + 1)  # 1-based data row, header excluded
    for name, mask in checked.masks.items():
        bad[name] = np.where(mask[failed], checked.texts[name], "")
    meta = {"source": str(run.file), "suite": run.suite, "fit_for_use": run.fit_for_use}
    meta["reconciliation"] = run.reconciliation()
    meta["identity_columns"] = (
        f"pseudonymised (HMAC-SHA256, the config's key): {', '.join(map(str, id_columns))}" if id_columns else "as read"
    )
    stem = run.file.stem
    return (
        write_parquet(parquet_safe(passed), Path(folder) / f"{stem}.passed.parquet", meta),
        write_parquet(parquet_safe(bad), Path(folder) / f"{stem}.quarantine.parquet", meta),
    )


def _default_parameters(config: Any, prepared: Prepared) -> dict[str, Any]:
    from insats.validation import input_parameters

    register = input_parameters(config) if getattr(config, "register", None) is not None else {}
    return {**register, **prepared.parameters}


def _output_folder(
    file: Path, config: Any, out: Path | None, *others: Path | None, clear_ids_to: Path | None = None
) -> Path:
    """``out`` (default ``paths.interim/validation``), after refusing folders beside or under the raw data, and
    a clear-ids folder inside the project's data tree."""
    raw_root = Path(config.paths.raw)
    protect_raw(raw_root)
    out = Path(out) if out is not None else Path(config.paths.interim) / "validation"
    for directory in (out, *others, clear_ids_to):
        if directory is not None:
            check_output_dir(directory, file, raw_root)
    if clear_ids_to is not None:
        check_clear_ids_dir(clear_ids_to, config)
    return out


def _mapped_identity(config: Any, suite: str) -> str | None:
    register = getattr(config, "register", None)
    kind = suite.removeprefix("input.")
    return register.columns.get(kind, {}).get("personnummer") if register is not None else None


def identity_values(source: pd.DataFrame, columns: list[str]) -> list[object]:
    """The distinct clear values of the extract's identity columns (for masking them in every message)."""
    return [v for col in columns if col in source.columns for v in pd.unique(source[col].dropna().astype(str))]


def validate_extract(
    file: Path,
    suite: str,
    config: Any,
    *,
    out: Path | None = None,
    quarantine: Path | None = None,
    docs: Path | None = None,
    encoding: str | None = None,
    parameters: dict[str, Any] | None = None,
    validate: Callable[[pd.DataFrame, str, dict[str, Any] | None], ValidationReport] = validate_frame,
    clear_ids_to: Path | None = None,
    chunk_rows: int | None = None,
) -> StewardRun:
    """Validate one extract against ``suite`` and write the result, provenance and optional split/docs.

    ``config`` is a loaded ``insats.config.Config`` (column mapping, period, amount ceiling, raw folder, the
    participant ladder, the pseudonymisation key); ``out`` defaults to ``config.paths.interim / "validation"``.
    ``parameters`` default to ``insats.validation.input_parameters(config)`` plus what the input brings (the
    ladder's statuses). The split in ``quarantine`` carries pseudonyms instead of identity numbers;
    ``clear_ids_to`` (a folder outside ``paths.raw/interim/processed/reports``) gets the split with clear ids.
    A CSV register extract larger than ``STREAM_BYTES`` (or any, with ``chunk_rows``) is read and validated
    in chunks of ``chunk_rows`` rows (``insats.steward.chunked``), in bounded memory.
    Raises ``UnreadableExtractError`` when the file cannot be read (nothing is written then) and
    ``ValueError`` for an output folder beside the raw data or a clear-ids folder inside the data tree.
    """
    file = Path(file)
    out = _output_folder(file, config, out, quarantine, docs, clear_ids_to=clear_ids_to)
    load_suite(suite)  # unknown suite -> KeyError listing the known ones, before any work
    if streamed(file, suite, chunk_rows):
        from insats.steward.chunked import validate_in_chunks

        return validate_in_chunks(
            file, suite, config, out=out, quarantine=quarantine, docs=docs, encoding=encoding,
            parameters=parameters, clear_ids_to=clear_ids_to, chunk_rows=chunk_rows or CHUNK_ROWS,
        )  # fmt: skip
    sha_before = sha256_of(file) if file.is_file() else None
    read = read_source_checked(file, encoding)
    source = read.frame
    id_columns = identity_columns(source, _mapped_identity(config, suite))
    key = pseudonym_key(config) if quarantine is not None and id_columns else None  # refused key: stop here
    # Every value of the identity column is masked in every message, report and file, whatever its spelling.
    with identity_values_masked(identity_values(source, id_columns)):
        started = datetime.now(UTC)
        header = repeated_header_rows(source)
        prepared = prepare(file, suite, config, source, header)
        params = {**codelists(), **(parameters if parameters is not None else _default_parameters(config, prepared))}
        read_problems = [
            TableProblem(p.message, p.rows, p.message.split(", data row(s)")[0].split(" (a reader")[0])
            for p in read.problems
        ]
        checked = _check(prepared, header, suite, params, validate, read_problems)
        extras = extra_columns(source, suite, prepared.mapping) if suite not in PARTICIPANT_SUITES else []
        notes = [*read.warnings] + (
            [f"unexpected extra column(s) not in the config mapping/suite: {', '.join(extras)} "
             "(kept in the quarantine/passed files, not validated)"] if extras else []
        )  # fmt: skip
        run = StewardRun(
            file=file, suite=suite, n_rows=len(source), report=checked.report, table_problems=checked.problems,
            header_rows=np.flatnonzero(header), row_failed=checked.row_failed, extra_columns=extras,
            validation_path=out / f"{file.stem}.{suite}.validation.json",
            provenance_path=out / f"{file.stem}.provenance.json", notes=notes, info=[*read.notices, *prepared.notes],
        )  # fmt: skip
        del prepared
        for folder, clear in split_folders(quarantine, clear_ids_to):
            paths = _write_split(run, source, checked, folder, [] if clear else id_columns, key)
            if clear:
                run.clear_passed_path, run.clear_quarantine_path = paths
            else:
                run.passed_path, run.quarantine_path = paths
        finish(run, checked.report, config, docs, sha_before, started, encoding)
        return run


def finish(
    run: StewardRun,
    report: ValidationReport | None,
    config: Any,
    docs: Path | None,
    sha_before: str | None,
    started: datetime,
    encoding: str | None,
) -> None:
    """Write the JSON result, optional Data Docs and the provenance record (after checking the raw file)."""
    result = report.raw if report is not None else {"success": False, "results": [], "suite_name": run.suite}
    whole = {"whole_file_problems": [p.what for p in run.table_problems], "fit_for_use": run.fit_for_use}
    write_json(jsonable({**result, "insats": whole}), run.validation_path)
    if docs is not None and report is not None:
        run.docs_index = build_data_docs(report, Path(docs), run.file.name, started)
    if sha256_of(run.file) != sha_before:  # pragma: no cover - would mean something else wrote to the raw file
        raise RuntimeError(f"The raw file {run.file} changed while it was validated (sha256 differs)")
    write_json(provenance(run, config, sha_before, started, encoding), run.provenance_path)


def streamed(file: Path, suite: str, chunk_rows: int | None) -> bool:
    """Read in chunks: a CSV register extract larger than ``STREAM_BYTES``, or any one when ``chunk_rows`` is given."""
    if file.suffix.lower() != ".csv" or register_kind(suite) is None or not file.is_file():
        return False
    return chunk_rows is not None or file.stat().st_size > STREAM_BYTES


def provenance(
    run: StewardRun, config: Any, sha256: str | None, started: datetime, encoding: str | None
) -> dict[str, Any]:
    """The provenance record: what was validated, with what, when, and the verdict."""
    file = run.file.resolve()
    report = run.report
    return {
        "file": str(file),
        "sha256": sha256,
        "bytes": file.stat().st_size,
        "rows": run.n_rows,
        "suite": run.suite,
        "suite_version": report.suite_version if report else str(load_suite(run.suite).get("meta", {}).get("version")),
        "validated_at": started.isoformat(timespec="seconds"),
        "insats_version": insats.__version__,
        "config": str(getattr(config, "source", "")),
        "config_sha256": getattr(config, "sha256", ""),
        "encoding": encoding or "detected",
        "fit_for_use": run.fit_for_use,
        "expectations_failed": [o.describe() for o in report.failures] if report else [],
        "whole_file_problems": [p.what for p in run.table_problems],
        "repeated_header_rows": int(run.header_rows.size),
        "extra_columns": run.extra_columns,
        "notes": run.info,
        "rows_passed": run.n_passed,
        "rows_quarantined": run.n_quarantined,
        "reconciliation": run.reconciliation(),
        "validation_result": str(run.validation_path),
        "passed_file": str(run.passed_path) if run.passed_path else None,
        "quarantine_file": str(run.quarantine_path) if run.quarantine_path else None,
        "identity_numbers_in_split": "pseudonymised" if run.passed_path else None,
        "clear_ids_files": [str(p) for p in (run.clear_passed_path, run.clear_quarantine_path) if p],
        "chunks": run.chunks,
        "data_docs": str(run.docs_index) if run.docs_index else None,
        "raw_file_unchanged": True,
    }
