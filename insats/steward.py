"""The data steward's ``insats validate`` workflow as plain functions (no Prefect).

One run: read an extract (any format ``insats.tasks.register.readers.read_extract`` knows), take out header lines
repeated inside the data, map register extracts (suites ``input.<register kind>``) to canonical columns,
validate with the stored GX suite, then write

* ``<out>/<stem>.<suite>.validation.json``: the GX validation result (identity numbers masked);
* ``<out>/<stem>.provenance.json``: what was validated (path, sha256, bytes, rows, suite and version, UTC
  time, insats version, config hash) and the verdict;
* with a quarantine folder: ``<stem>.passed.parquet`` (rows that pass every row-level expectation, the
  source columns as read) and ``<stem>.quarantine.parquet`` (failing rows, source columns plus one reason
  column ``reason__<expectation>__<column>`` per failed expectation; "" where that row did not fail it);
* with a docs folder: GX Data Docs (static HTML, built by GX's own site builder).

Row-level failures come from GX's ``unexpected_index_list`` (positions in the validated frame, which keeps
the source's row order). Table-level expectations (row count, column set, aggregates) have no rows: they
make the whole file unfit and quarantine nothing. Counts always reconcile: rows in = passed + quarantined.
The raw file is only read: its sha256 is taken before and after, and nothing is written beside it or below
the configured raw folder.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

import insats
from insats.storage import protect_raw, publish_folder, write_json, write_parquet
from insats.validation import ExpectationOutcome, ValidationReport, codelists, load_suite, validate_frame

REGISTER_KINDS = ("persons", "assistance", "spells", "outcomes")
HEADER_ROW = "reason__repeated_header_row"
_MAX_LISTED = 8  # code-list values spelled out in a reason; longer lists are summarised


class UnreadableExtractError(ValueError):
    """The file cannot be read at all (missing, empty, truncated, not that format): exit code 2."""


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
    notes: list[str] = field(default_factory=list)

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

    def summary(self) -> str:
        """The terminal text: verdict, one line per expectation, whole-file problems, reconciliation."""
        lines: list[str] = []
        if self.report is not None:
            lines.append(self.report.summary(str(self.file)))
        else:
            lines.append(f"{self.file}: suite {self.suite}, {self.n_rows} rows: NOT fit for use (not validated)")
        if self.header_rows.size:
            shown = ", ".join(str(int(i) + 1) for i in self.header_rows[:5])
            more = f" and {self.header_rows.size - 5} more" if self.header_rows.size > 5 else ""
            lines.append(
                f"FAILED repeated header row inside the data: {self.header_rows.size} row(s), data row(s) {shown}{more}"
            )
        lines += [p.describe() for p in self.table_problems]
        if self.table_problems or (self.report is not None and _table_failures(self.report)):
            lines.append("The whole file is NOT fit for use: whole-file checks failed (they quarantine no rows)")
        lines += [f"Warning: {note}" for note in self.notes]
        lines.append(self.reconciliation())
        return "\n".join(lines)


# --- reading ----------------------------------------------------------------------------------------


def sha256_of(path: Path) -> str:
    """sha256 of the file's bytes, read now (not memoised: used to prove the raw file is unchanged)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def read_source(path: Path, encoding: str | None = None) -> pd.DataFrame:
    """Read an extract with its source columns; any failure -> ``UnreadableExtractError`` naming the file."""
    from insats.tasks.register.readers import read_extract

    path = Path(path)
    if not path.is_file():
        raise UnreadableExtractError(f"Cannot read {path}: no such file")
    try:
        return read_extract(path, encoding=encoding)
    except ValueError as exc:
        raise UnreadableExtractError(str(exc)) from exc
    except OSError as exc:
        raise UnreadableExtractError(f"Cannot read {path}: {exc}") from exc


def repeated_header_rows(df: pd.DataFrame) -> np.ndarray:
    """Bool per row: the row repeats the header (at least half the columns, and 2, hold their own name).

    Concatenated exports often carry a second header line inside the data; such a row is not data.
    """
    hits = np.zeros(len(df), dtype=np.int64)
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
            continue
        name = str(col).strip().lower()
        hits += (s.astype("string").str.strip().str.lower() == name).fillna(False).to_numpy(dtype=bool)
    needed = max(2, (df.shape[1] + 1) // 2) if df.shape[1] > 1 else 1
    return hits >= needed


def register_kind(suite: str) -> str | None:
    """``input.persons`` -> ``persons``; None for suites that do not read a register extract."""
    kind = suite.split(".", 1)[1] if suite.startswith("input.") else None
    return kind if kind in REGISTER_KINDS else None


def _suite_columns(suite: str) -> set[str]:
    """Every column a suite names (column, column_list, column_A/B, column_set)."""
    names: set[str] = set()
    for exp in load_suite(suite).get("expectations", []):
        kw = exp.get("kwargs", {})
        for key in ("column", "column_A", "column_B"):
            if isinstance(kw.get(key), str):
                names.add(kw[key])
        for key in ("column_list", "column_set"):
            if isinstance(kw.get(key), list):
                names.update(map(str, kw[key]))
    return names


def known_columns(suite: str, mapping: dict[str, str] | None) -> set[str]:
    """Lower-cased source column names the run knows: the config mapping, else the suite's columns."""
    names = set(mapping.values()) | set(mapping) if mapping is not None else _suite_columns(suite)
    return {n.strip().lower() for n in names}


def extra_columns(df: pd.DataFrame, suite: str, mapping: dict[str, str] | None) -> list[str]:
    """Source columns that neither the config mapping nor the suite knows (a warning, not a failure)."""
    known = known_columns(suite, mapping)
    if not known:
        return []
    return [str(c) for c in df.columns if str(c).strip().lower() not in known]


def missing_columns(df: pd.DataFrame, mapping: dict[str, str], kind: str) -> list[str]:
    """Canonical columns of ``kind`` whose source column is absent (exact or case-insensitive)."""
    from insats.tasks.register.standardise import CANONICAL_COLUMNS

    present = {str(c).strip().lower() for c in df.columns}
    return [
        f"{canonical} (source column {mapping.get(canonical, canonical)!r})"
        for canonical in CANONICAL_COLUMNS[kind]
        if mapping.get(canonical, canonical).strip().lower() not in present
    ]


# --- reasons ----------------------------------------------------------------------------------------


def _resolve(value: Any, parameters: dict[str, Any]) -> tuple[Any, str | None]:
    if isinstance(value, dict) and "$PARAMETER" in value:
        name = str(value["$PARAMETER"])
        return parameters.get(name, name), name
    return value, None


def _columns_of(kwargs: dict[str, Any]) -> list[str]:
    if kwargs.get("column"):
        return [str(kwargs["column"])]
    if kwargs.get("column_list"):
        return [str(c) for c in kwargs["column_list"]]
    return [str(kwargs[k]) for k in ("column_A", "column_B") if kwargs.get(k)]


def reason_text(expectation: str, kwargs: dict[str, Any], parameters: dict[str, Any]) -> str:
    """A short human reason for a row failing ``expectation`` (e.g. ``sex not in code list [1, 2]``)."""
    cols = _columns_of(kwargs)
    col = ", ".join(cols) or "row"
    if expectation == "expect_column_values_to_be_in_set":
        values, pname = _resolve(kwargs.get("value_set"), parameters)
        values = list(values) if isinstance(values, list | tuple | set) else values
        if isinstance(values, list) and len(values) > _MAX_LISTED:
            label = pname.removeprefix("codelist_") if pname else "allowed values"
            return f"{col} not in code list {label} ({len(values)} codes)"
        return f"{col} not in code list {values}"
    if expectation == "expect_column_values_to_not_be_null":
        return f"{col} is missing"
    if expectation == "expect_column_values_to_match_regex":
        return f"{col} does not match {kwargs.get('regex')}"
    if expectation == "expect_column_values_to_be_between":
        low, _ = _resolve(kwargs.get("min_value"), parameters)
        high, _ = _resolve(kwargs.get("max_value"), parameters)
        return f"{col} outside [{low}, {high}]"
    if expectation in ("expect_column_values_to_be_unique", "expect_compound_columns_to_be_unique"):
        return f"{col} duplicated"
    if expectation == "expect_column_pair_values_a_to_be_greater_than_b":
        op = ">=" if kwargs.get("or_equal") else ">"
        return f"not {cols[0]} {op} {cols[1]}" if len(cols) == 2 else f"{col} out of order"
    if expectation == "expect_column_values_to_be_valid_swedish_identity_numbers":
        return f"{col} is not a valid personnummer/samordningsnummer (date part or Luhn check digit)"
    return f"{col} fails {expectation}"


def _reason_column(expectation: str, kwargs: dict[str, Any], taken: set[str]) -> str:
    base = f"reason__{expectation}__{'__'.join(_columns_of(kwargs)) or 'row'}"
    name, i = base, 2
    while name in taken:
        name, i = f"{base}__{i}", i + 1
    taken.add(name)
    return name


def _table_failures(report: ValidationReport) -> list[ExpectationOutcome]:
    """Failed expectations without rows (row count, column set, aggregates): they fail the whole file."""
    return [o for o in report.failures if o.unexpected_count is None or not o.unexpected_rows]


def row_failures(
    report: ValidationReport, n_rows: int, parameters: dict[str, Any]
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, str]]:
    """Per failed row-level expectation, a bool row mask over the validated frame and its reason.

    Returns ``(any_failed, {reason column: mask}, {reason column: reason text})``. Raises ``RuntimeError``
    when GX did not list every unexpected row (the split would not reconcile).
    """
    configs = [r.get("expectation_config", {}) for r in report.raw.get("results", [])]
    masks: dict[str, np.ndarray] = {}
    texts: dict[str, str] = {}
    taken: set[str] = set()
    any_failed = np.zeros(n_rows, dtype=bool)
    for outcome, cfg in zip(report.outcomes, configs, strict=True):
        if outcome.success or not outcome.unexpected_count or not outcome.unexpected_rows:
            continue
        rows = np.unique(np.asarray(outcome.unexpected_rows, dtype=np.int64))
        if rows.size != outcome.unexpected_count:
            raise RuntimeError(
                f"{outcome.expectation} on {outcome.column}: GX reported {outcome.unexpected_count} unexpected "
                f"values but listed {rows.size} rows; refusing a split that would not reconcile"
            )
        kwargs = cfg.get("kwargs", {})
        name = _reason_column(outcome.expectation, kwargs, taken)
        mask = np.zeros(n_rows, dtype=bool)
        mask[rows] = True
        masks[name] = mask
        texts[name] = reason_text(outcome.expectation, kwargs, parameters)
        any_failed |= mask
    return any_failed, masks, texts


# --- Data Docs --------------------------------------------------------------------------------------


def build_data_docs(report: ValidationReport, docs_dir: Path, run_name: str, run_time: datetime) -> Path:
    """Build GX Data Docs for this one run into ``docs_dir`` (replaced as a whole); return ``index.html``.

    Uses a fresh ephemeral GX context with a local ``SiteBuilder`` site; the (masked) validation result is
    put in its in-memory store, so the site shows this run only. Nothing is fetched while building; the
    HTML links Bootstrap/jQuery from CDNs, so it renders unstyled without network.
    """
    import great_expectations as gx
    from great_expectations.core.expectation_validation_result import ExpectationSuiteValidationResultSchema
    from great_expectations.core.run_identifier import RunIdentifier
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.data_context.types.resource_identifiers import (
        ExpectationSuiteIdentifier,
        ValidationResultIdentifier,
    )

    import insats.expectations  # noqa: F401 - registers the custom expectations the suites use

    raw = _jsonable(report.raw)
    result = ExpectationSuiteValidationResultSchema().load(raw)

    def fill(staging: Path) -> None:
        ctx = gx.get_context(mode="ephemeral")
        ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
        ctx.add_data_docs_site(
            "steward",
            {
                "class_name": "SiteBuilder",
                "store_backend": {"class_name": "TupleFilesystemStoreBackend", "base_directory": str(staging)},
                "site_index_builder": {"class_name": "DefaultSiteIndexBuilder"},
            },
        )
        suite = load_suite(report.suite)
        suite.pop("id", None)
        ctx.suites.add(gx.ExpectationSuite(**suite))
        key = ValidationResultIdentifier(
            expectation_suite_identifier=ExpectationSuiteIdentifier(name=report.suite),
            run_id=RunIdentifier(run_name=run_name, run_time=run_time),
            batch_identifier=run_name,
        )
        ctx.validation_results_store.set(key, result)
        ctx.build_data_docs(site_names=["steward"])

    publish_folder(docs_dir, fill)
    return Path(docs_dir) / "index.html"


def _jsonable(value: Any) -> Any:
    """JSON-safe copy (timestamps and numpy scalars as text/numbers) of a validation result dict."""
    import json

    return json.loads(json.dumps(value, default=str))


# --- the run ----------------------------------------------------------------------------------------


def _check_output_dir(directory: Path, raw_file: Path, raw_root: Path | None) -> None:
    """Refuse output folders beside the raw file or below the configured raw folder."""
    target = Path(directory).resolve()
    beside = target == raw_file.resolve().parent
    root = raw_root.resolve() if raw_root is not None else None
    below = root is not None and (target == root or root in target.parents)
    if beside or below:
        where = "the raw extract's own folder" if beside else f"under the raw-data folder {root}"
        raise ValueError(
            f"Refusing to write to {directory}: it is {where}; give another --out/--quarantine/--docs folder"
        )


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

    ``config`` is a loaded ``insats.config.Config`` (column mapping, period, amount ceiling, raw folder);
    ``out`` defaults to ``config.paths.interim / "validation"``. ``parameters`` default to
    ``insats.validation.input_parameters(config)``. Raises ``UnreadableExtractError`` when the file cannot
    be read (nothing is written then) and ``ValueError`` for an output folder beside the raw data.
    """
    from insats.validation import input_parameters

    file = Path(file)
    raw_root = Path(config.paths.raw)
    protect_raw(raw_root)
    out = Path(out) if out is not None else Path(config.paths.interim) / "validation"
    for directory in (out, quarantine, docs):
        if directory is not None:
            _check_output_dir(directory, file, raw_root)
    load_suite(suite)  # unknown suite -> KeyError listing the known ones, before any work

    sha_before = sha256_of(file) if file.is_file() else None
    source = read_source(file, encoding)
    n_rows = len(source)
    started = datetime.now(UTC)
    params = {**codelists(), **(parameters if parameters is not None else input_parameters(config))}

    header = repeated_header_rows(source)
    body_pos = np.flatnonzero(~header)
    # No copy of a clean (usually huge) extract: the reader's frame already has a 0..n-1 index.
    body = source.iloc[body_pos].reset_index(drop=True) if header.any() else source.reset_index(drop=True)
    kind = register_kind(suite)
    mapping = dict(config.register.columns[kind]) if kind else None
    notes: list[str] = []
    extras = extra_columns(source, suite, mapping)
    if extras:
        notes.append(
            f"unexpected extra column(s) not in the config mapping/suite: {', '.join(extras)} "
            "(kept in the quarantine/passed files, not validated)"
        )
    problems: list[TableProblem] = []
    report: ValidationReport | None = None
    frame: pd.DataFrame | None = body
    if kind and file.suffix.lower() in (".sav", ".zsav", ".dta"):
        from insats.tasks.register.readers import read_value_labels
        from insats.validation import value_label_problems

        problems += [
            TableProblem(f"value labels disagree with the code lists: {p}")
            for p in value_label_problems(read_value_labels(file), mapping or {})
        ]
    if kind:
        assert mapping is not None
        missing = missing_columns(body, mapping, kind)
        if missing:
            problems.append(
                TableProblem(
                    f"missing required column(s): {', '.join(missing)}; columns present: "
                    f"{', '.join(map(str, source.columns))} (map them in register.columns.{kind})"
                )
            )
            frame = None
        else:
            from insats.tasks.register.standardise import standardise

            try:
                frame = standardise(body, kind, mapping, source=file.name)
            except ValueError as exc:
                problems.append(TableProblem(f"values cannot be parsed: {exc}"))
                frame = None
    row_failed = header.copy()
    masks: dict[str, np.ndarray] = {}
    texts: dict[str, str] = {}
    if frame is not None:
        report = validate(frame, suite, params)
        problems += [TableProblem(o.describe().removeprefix("FAILED").strip()) for o in _table_failures(report)]
        body_failed, body_masks, texts = row_failures(report, len(frame), params)
        row_failed[body_pos] |= body_failed
        for name, mask in body_masks.items():
            full = np.zeros(n_rows, dtype=bool)
            full[body_pos] = mask
            masks[name] = full
    del frame, body  # free the canonical copy before the split is written
    if header.any():
        masks = {HEADER_ROW: header, **masks}
        texts = {HEADER_ROW: "a header line repeated inside the data", **texts}

    run = StewardRun(
        file=file,
        suite=suite,
        n_rows=n_rows,
        report=report,
        table_problems=problems,
        header_rows=np.flatnonzero(header),
        row_failed=row_failed,
        extra_columns=extras,
        validation_path=out / f"{file.stem}.{suite}.validation.json",
        provenance_path=out / f"{file.stem}.provenance.json",
        notes=notes,
    )
    if run.n_passed + run.n_quarantined != n_rows:  # pragma: no cover - arithmetic guard
        raise RuntimeError(f"counts do not reconcile: {run.reconciliation()}")

    if quarantine is not None:
        quarantine = Path(quarantine)
        passed = source.loc[~row_failed].reset_index(drop=True) if row_failed.any() else source
        bad = source.loc[row_failed].reset_index(drop=True)
        bad.insert(0, "source_row", np.flatnonzero(row_failed) + 1)  # 1-based data row, header excluded
        for name, mask in masks.items():
            bad[name] = np.where(mask[row_failed], texts[name], "")
        meta = {"source": str(file), "suite": suite, "fit_for_use": run.fit_for_use}
        meta["reconciliation"] = run.reconciliation()
        run.passed_path = write_parquet(_parquet_safe(passed), quarantine / f"{file.stem}.passed.parquet", meta)
        run.quarantine_path = write_parquet(_parquet_safe(bad), quarantine / f"{file.stem}.quarantine.parquet", meta)

    result = report.raw if report is not None else {"success": False, "results": [], "suite_name": suite}
    result = {**result, "insats": {"whole_file_problems": [p.what for p in problems]}}
    write_json(_jsonable(result), run.validation_path)
    if docs is not None and report is not None:
        run.docs_index = build_data_docs(report, Path(docs), file.name, started)

    sha_after = sha256_of(file)
    if sha_after != sha_before:  # pragma: no cover - would mean something else wrote to the raw file
        raise RuntimeError(f"The raw file {file} changed while it was validated (sha256 differs)")
    write_json(_provenance(run, config, sha_before, started, encoding), run.provenance_path)
    return run


def _parquet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Object columns holding mixed types (e.g. text and numbers) become text so Parquet can store them."""
    out = df.copy(deep=False)  # copy-on-write: only the columns converted below are new
    for col in out.columns:
        if out[col].dtype == object:
            kinds = {type(v) for v in out[col].dropna().head(10_000)}
            if len(kinds) > 1:
                out[col] = out[col].astype("string")
    return out


def _provenance(
    run: StewardRun, config: Any, sha256: str | None, started: datetime, encoding: str | None
) -> dict[str, Any]:
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
        "rows_passed": run.n_passed,
        "rows_quarantined": run.n_quarantined,
        "reconciliation": run.reconciliation(),
        "validation_result": str(run.validation_path),
        "passed_file": str(run.passed_path) if run.passed_path else None,
        "quarantine_file": str(run.quarantine_path) if run.quarantine_path else None,
        "data_docs": str(run.docs_index) if run.docs_index else None,
        "raw_file_unchanged": True,
    }
