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
from insats.steward.prepare import PARTICIPANT_SUITES, Prepared, prepare
from insats.steward.reading import (
    check_output_dir,
    extra_columns,
    parquet_safe,
    read_source,
    repeated_header_rows,
    sha256_of,
)
from insats.steward.reasons import row_failures, table_failures
from insats.storage import protect_raw, write_json, write_parquet
from insats.validation import ValidationReport, codelists, identity_values_masked, load_suite, validate_frame

HEADER_ROW = "reason__repeated_header_row"
SUMMARY_PROBLEMS = 20  # whole-file problems spelled out in the terminal summary; all go to the JSON result


@dataclass(frozen=True)
class TableProblem:
    """A failure of the whole file (no rows to quarantine): missing columns, unparseable values, row count."""

    what: str

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

    def summary(self) -> str:
        """The terminal text: verdict, one line per expectation, whole-file problems (the first
        SUMMARY_PROBLEMS, then a count), reconciliation."""
        if self.report is not None:
            lines = [self.report.summary(str(self.file))]
        else:
            lines = [f"{self.file}: suite {self.suite}, {self.n_rows} rows: NOT fit for use (not validated)"]
        lines += self._header_line()
        lines += [p.describe() for p in self.table_problems[:SUMMARY_PROBLEMS]]
        if len(self.table_problems) > SUMMARY_PROBLEMS:
            lines.append(f"... and {len(self.table_problems) - SUMMARY_PROBLEMS} more whole-file problem(s)")
        if self.table_problems or (self.report is not None and table_failures(self.report)):
            lines.append("The whole file is NOT fit for use: whole-file checks failed (they quarantine no rows)")
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


def _check(
    prepared: Prepared,
    header: np.ndarray,
    suite: str,
    params: dict[str, Any],
    validate: Callable[[pd.DataFrame, str, dict[str, Any] | None], ValidationReport],
) -> _Checked:
    """Validate the prepared frame; row masks over the SOURCE rows (header lines included as failures)."""
    n_rows = header.size
    checked = _Checked(None, [TableProblem(p) for p in prepared.problems], header.copy(), {}, {})
    if prepared.frame is not None:
        report = validate(prepared.frame, suite, params)
        checked.report = report
        checked.problems += [TableProblem(o.describe().removeprefix("FAILED").strip()) for o in table_failures(report)]
        _, frame_masks, checked.texts = row_failures(report, len(prepared.frame), params)
        for name, mask in frame_masks.items():
            full = np.zeros(n_rows, dtype=bool)
            full[prepared.positions[mask]] = True
            checked.masks[name] = full
            checked.row_failed |= full
    if header.any():
        checked.masks = {HEADER_ROW: header, **checked.masks}
        checked.texts = {HEADER_ROW: "a header line repeated inside the data", **checked.texts}
    return checked


def _write_split(run: StewardRun, source: pd.DataFrame, checked: _Checked, quarantine: Path) -> None:
    """``<stem>.passed.parquet`` and ``<stem>.quarantine.parquet`` (source columns, a reason column each)."""
    failed = checked.row_failed
    passed = source.loc[~failed].reset_index(drop=True) if failed.any() else source
    bad = source.loc[failed].reset_index(drop=True)
    bad.insert(0, "source_row", np.flatnonzero(failed) + 1)  # 1-based data row, header excluded
    for name, mask in checked.masks.items():
        bad[name] = np.where(mask[failed], checked.texts[name], "")
    meta = {"source": str(run.file), "suite": run.suite, "fit_for_use": run.fit_for_use}
    meta["reconciliation"] = run.reconciliation()
    stem = run.file.stem
    run.passed_path = write_parquet(parquet_safe(passed), Path(quarantine) / f"{stem}.passed.parquet", meta)
    run.quarantine_path = write_parquet(parquet_safe(bad), Path(quarantine) / f"{stem}.quarantine.parquet", meta)


def _default_parameters(config: Any, prepared: Prepared) -> dict[str, Any]:
    from insats.validation import input_parameters

    register = input_parameters(config) if getattr(config, "register", None) is not None else {}
    return {**register, **prepared.parameters}


def _output_folder(file: Path, config: Any, out: Path | None, *others: Path | None) -> Path:
    """``out`` (default ``paths.interim/validation``), after refusing folders beside or under the raw data."""
    raw_root = Path(config.paths.raw)
    protect_raw(raw_root)
    out = Path(out) if out is not None else Path(config.paths.interim) / "validation"
    for directory in (out, *others):
        if directory is not None:
            check_output_dir(directory, file, raw_root)
    return out


def _identity_values(source: pd.DataFrame, config: Any, suite: str) -> list[object]:
    """The clear values of the extract's identity column (by the config's mapping, else by name)."""
    kind = suite.removeprefix("input.")
    register = getattr(config, "register", None)
    mapped = register.columns.get(kind, {}).get("personnummer") if register is not None else None
    for column in (mapped, "personnummer", "pnr"):
        if column and column in source.columns:
            return source[column].dropna().astype(str).tolist()
    return []


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
) -> StewardRun:
    """Validate one extract against ``suite`` and write the result, provenance and optional split/docs.

    ``config`` is a loaded ``insats.config.Config`` (column mapping, period, amount ceiling, raw folder, the
    participant ladder); ``out`` defaults to ``config.paths.interim / "validation"``. ``parameters`` default
    to ``insats.validation.input_parameters(config)`` plus what the input brings (the ladder's statuses).
    Raises ``UnreadableExtractError`` when the file cannot be read (nothing is written then) and
    ``ValueError`` for an output folder beside the raw data.
    """
    file = Path(file)
    out = _output_folder(file, config, out, quarantine, docs)
    load_suite(suite)  # unknown suite -> KeyError listing the known ones, before any work
    sha_before = sha256_of(file) if file.is_file() else None
    source = read_source(file, encoding)
    # Every value of the identity column is masked in every message, report and file, whatever its spelling.
    with identity_values_masked(_identity_values(source, config, suite)):
        started = datetime.now(UTC)
        header = repeated_header_rows(source)
        prepared = prepare(file, suite, config, source, header)
        params = {**codelists(), **(parameters if parameters is not None else _default_parameters(config, prepared))}
        checked = _check(prepared, header, suite, params, validate)
        extras = extra_columns(source, suite, prepared.mapping) if suite not in PARTICIPANT_SUITES else []
        notes = (
            [f"unexpected extra column(s) not in the config mapping/suite: {', '.join(extras)} "
             "(kept in the quarantine/passed files, not validated)"] if extras else []
        )  # fmt: skip
        run = StewardRun(
            file=file, suite=suite, n_rows=len(source), report=checked.report, table_problems=checked.problems,
            header_rows=np.flatnonzero(header), row_failed=checked.row_failed, extra_columns=extras,
            validation_path=out / f"{file.stem}.{suite}.validation.json",
            provenance_path=out / f"{file.stem}.provenance.json", notes=notes, info=prepared.notes,
        )  # fmt: skip
        del prepared
        if quarantine is not None:
            _write_split(run, source, checked, quarantine)
        result = (
            checked.report.raw if checked.report is not None else {"success": False, "results": [], "suite_name": suite}
        )
        write_json(jsonable({**result, "insats": {"whole_file_problems": [p.what for p in run.table_problems]}}),
                   run.validation_path)  # fmt: skip
        if docs is not None and checked.report is not None:
            run.docs_index = build_data_docs(checked.report, Path(docs), file.name, started)
        if sha256_of(file) != sha_before:  # pragma: no cover - would mean something else wrote to the raw file
            raise RuntimeError(f"The raw file {file} changed while it was validated (sha256 differs)")
        write_json(provenance(run, config, sha_before, started, encoding), run.provenance_path)
        return run


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
        "data_docs": str(run.docs_index) if run.docs_index else None,
        "raw_file_unchanged": True,
    }
