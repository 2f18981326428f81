"""The data steward's ``insats validate`` workflow as plain functions (no Prefect).

One run: read an extract (any format ``insats.tasks.register.readers.read_extract`` knows), take out header lines
repeated inside the data, map register extracts (suites ``input.<register kind>``) to canonical columns or read
participant documentation (``input.participants``, ``input.status_documentation``) with the config's ladder,
validate with the stored GX suite, then write

* ``<out>/<stem>.<suite>.validation.json``: the GX validation result (identity numbers masked);
* ``<out>/<stem>.provenance.json``: what was validated (path, sha256, bytes, rows, suite and version, UTC
  time, insats version, config hash) and the verdict;
* with a quarantine folder: ``<stem>.passed.parquet`` (rows that pass every row-level expectation, the
  source columns as read) and ``<stem>.quarantine.parquet`` (failing rows, source columns plus one reason
  column ``reason__<expectation>__<column>`` per failed expectation; "" where that row did not fail it);
* with a docs folder: GX Data Docs (static HTML, built by GX's own site builder).

Row-level failures come from GX's ``unexpected_index_list`` (positions in the validated frame, mapped back to
source rows). Table-level expectations (row count, column set, aggregates) and problems the readers find have
no rows: they make the whole file unfit and quarantine nothing. Counts always reconcile: rows in = passed +
quarantined. The raw file is only read: its sha256 is taken before and after, and nothing is written beside
it or below the configured raw folder.

Modules: ``reading`` (files, columns, output folders), ``prepare`` (the frame a suite checks), ``reasons``
(why a row failed), ``docs`` (Data Docs), ``run`` (one run, its summary and provenance).
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
    register_kind,
    repeated_header_rows,
    sha256_of,
)
from insats.steward.reasons import reason_text, row_failures, table_failures
from insats.steward.run import HEADER_ROW, StewardRun, TableProblem, provenance, validate_extract

__all__ = [
    "HEADER_ROW", "PARTICIPANT_SUITES", "REGISTER_KINDS", "Prepared", "StewardRun", "TableProblem",
    "UnreadableExtractError", "build_data_docs", "extra_columns", "known_columns", "missing_columns",
    "participant_ladder", "prepare", "provenance", "read_source", "reason_text", "register_kind",
    "repeated_header_rows", "row_failures", "sha256_of", "table_failures", "validate_extract",
]  # fmt: skip
