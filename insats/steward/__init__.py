"""The data steward's ``insats validate`` workflow as plain functions (no Prefect).

One run: read an extract (any format ``insats.tasks.register.readers.read_extract`` knows), take out header lines
repeated inside the data, map register extracts (suites ``input.<register kind>``) to canonical columns or read
participant documentation (``input.participants``, ``input.status_documentation``) with the config's ladder,
validate with the stored GX suite, then write

* ``<out>/<stem>.<suite>.validation.json``: the GX validation result (identity numbers masked);
* ``<out>/<stem>.provenance.json``: what was validated (path, sha256, bytes, rows, suite and version, UTC
  time, insats version, config hash) and the verdict;
* with a quarantine folder: ``<stem>.passed.parquet`` (rows that pass every check, the source columns as
  read, identity columns replaced by ``<column>__pseudonym``) and ``<stem>.quarantine.parquet`` (failing
  rows, the same columns plus one reason column ``reason__<expectation>__<column>`` per failed expectation
  or problem; "" where that row did not fail it); the same with clear identity numbers only in a
  ``--clear-ids-to`` folder outside the project's data tree;
* with a docs folder: GX Data Docs (static HTML, built by GX's own site builder).

Row-level failures come from GX's ``unexpected_index_list`` (positions in the validated frame, mapped back to
source rows). Problems the readers find quarantine the rows they name (an unparseable value, an ambiguous
thousands separator); those without rows (a missing or duplicated column, value labels that disagree with
the code lists, a failed table-level expectation) quarantine every row. Counts always reconcile: rows in =
passed + quarantined; the headline's verdict is the exit code's. CSV register extracts above
``run.STREAM_BYTES`` are validated in chunks (``chunked``), with the same report. The raw file is only
read: its sha256 is taken before and after, and nothing is written beside it or below the raw folder.

Modules: ``reading`` (files, columns, output folders), ``prepare`` (the frame a suite checks), ``reasons``
(why a row failed), ``outputs`` (pseudonymised split files), ``docs`` (Data Docs), ``run`` (one run, its
summary and provenance), ``chunked`` (large CSVs in bounded memory: the run and its split files),
``chunked_validation`` (its first pass: chunks validated and summed into one report), ``row_keys`` (the
whole-table checks over a compact key per row).
"""

from insats.steward.docs import build_data_docs
from insats.steward.prepare import PARTICIPANT_SUITES, Prepared, participant_ladder, prepare
from insats.steward.reading import (
    REGISTER_KINDS,
    UnreadableExtractError,
    extra_columns,
    known_columns,
    missing_columns,
    read_source,
    read_source_checked,
    register_kind,
    repeated_header_rows,
    sha256_of,
)
from insats.steward.reasons import reason_text, row_failures, table_failures
from insats.steward.run import HEADER_ROW, StewardRun, TableProblem, provenance, validate_extract

__all__ = [
    "HEADER_ROW", "PARTICIPANT_SUITES", "REGISTER_KINDS", "Prepared", "StewardRun", "TableProblem",
    "UnreadableExtractError", "build_data_docs", "extra_columns", "known_columns", "missing_columns",
    "participant_ladder", "prepare", "provenance", "read_source", "read_source_checked", "reason_text", "register_kind",
    "repeated_header_rows", "row_failures", "sha256_of", "table_failures", "validate_extract",
]  # fmt: skip
