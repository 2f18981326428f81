"""A large register extract (.sav/.zsav/.dta read in row ranges, e.g. 30M monthly outcomes) ingested chunk by
chunk end to end: each ``STAT_CHUNK_ROWS`` rows are read, parsed, validated against the input contract,
pseudonymised and validated against the pseudonymised contract before the next are read, so the clear table is
never whole in memory and GX never holds temporaries of the whole table.

Row-level expectations are GX's, per chunk; those that need every row (uniqueness of person or person-month,
every month of the period, the row count) are computed over one 8-byte key per row, the mechanism
``insats validate`` uses for large CSV files (:mod:`insats.steward.chunked_validation`, whose merged report
sums counts and samples over the chunks). The pseudonymised contract's whole-table checks reuse the input
keys: standardise normalises every valid identity number to 12 digits and a pseudonym is a keyed hash of those
digits, so (person_id, month) repeats exactly where (personnummer, month) does.

The result and the errors are those of :func:`insats.tasks.register.ingest.ingest_extract` on the whole table:
the same frame (same dtypes), a parse error listing the first five bad rows of the file and the total, then the
input contract, then the pseudonymised one. Differences in failure messages only: a failed whole-table
expectation shows ``****`` as samples, and percentages are of all rows (GX: of non-missing ones).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

from insats.steward.chunked_validation import (
    WHOLE_TABLE,
    ChunkedValidation,
    add_validated,
    check_whole_table,
    merged_report,
)
from insats.steward.prepare import renumber_rows
from insats.steward.row_keys import row_keys
from insats.tasks.identity import identity_masker
from insats.tasks.register.pseudonymise import pseudonymise
from insats.tasks.register.readers import iter_stat_chunks
from insats.tasks.register.standardise import CANONICAL_COLUMNS, standardise_checked
from insats.validation import GateError, identity_values_masked, load_suite, passed, validate_frame

_LISTING = re.compile(r"^(?P<head>.*?); bad value\(s\) in data row\(s\) (?P<rows>.*?)(?: and \d+ more)?$", re.S)
_COLUMN = re.compile(r"column '(?P<name>[^']+)' \(source column")
_N_SHOWN = 5


class _ParseProblems:
    """``standardise_checked`` problems of every chunk, joined per column into the message ``standardise`` gives
    for the whole table: the first five bad rows of the file (1-based data rows) and how many more."""

    def __init__(self, kind: str) -> None:
        self.order = CANONICAL_COLUMNS[kind]
        self.found: dict[str, tuple[list[str], int]] = {}  # message head -> (rows listed, number of bad rows)

    def add(self, problems: list[tuple[str, np.ndarray]], offset: int, n: int) -> None:
        to_file = np.arange(offset + 1, offset + n + 1)
        for message, bad in problems:
            match = _LISTING.match(renumber_rows(message, to_file))
            if match is None:  # not a row listing: keep the message whole
                self.found.setdefault(message, ([], 0))
                continue
            listed, count = self.found.get(match["head"], ([], 0))
            shown = re.split(r", (?=\d+ \()", match["rows"])
            self.found[match["head"]] = ([*listed, *shown][:_N_SHOWN], count + int(np.count_nonzero(bad)))

    def first(self) -> str | None:
        """The message ``standardise`` raises on the whole table (its first column with a problem, bad values
        before missing keys), or None."""
        if not self.found:
            return None

        def rank(head: str) -> tuple[int, int]:
            match = _COLUMN.search(head)
            column = self.order.index(match["name"]) if match and match["name"] in self.order else len(self.order)
            return column, int("a value in every row" in head)

        head = min(self.found, key=rank)
        listed, count = self.found[head]
        if not listed:
            return head
        more = f" and {count - _N_SHOWN} more" if count > _N_SHOWN else ""
        return f"{head}; bad value(s) in data row(s) {', '.join(listed)}{more}"


def _state(n_rows: int) -> ChunkedValidation:
    state = ChunkedValidation()
    state.keys = np.empty(n_rows, dtype=np.int64)
    return state


def _merged(state: ChunkedValidation, suite: str, params: dict[str, Any]) -> Any:
    check_whole_table(state, params)
    return merged_report(state, suite, str(load_suite(suite).get("meta", {}).get("version", "1")))


def _column(pieces: list[Any]) -> Any:
    """One column of the result from its chunks: Arrow strings as one chunked array (no copy), others joined."""
    if isinstance(pieces[0], pd.arrays.ArrowStringArray):
        chunks = [c for p in pieces for c in p.__arrow_array__().chunks]
        return pd.arrays.ArrowStringArray(pa.chunked_array(chunks, type=chunks[0].type))
    return pd.concat([pd.Series(p, copy=False) for p in pieces], ignore_index=True).array


def ingest_in_chunks(
    kind: str,
    source: Path,
    n_rows: int,
    columns: dict[str, str],
    key: Callable[[], bytes],
    suite_parameters: dict[str, Any],
) -> pd.DataFrame:
    """``ingest_extract`` of a .sav/.zsav/.dta file of ``n_rows`` rows (:func:`~insats.tasks.register.readers.
    large_stat_rows`), chunk by chunk (see the module); ``key`` gives the pseudonym key (read when first needed,
    as the whole-table path does). Returns the pseudonymised table (``n_rows`` rows,
    0..n-1 index); raises ValueError (parsing) or GateError (contracts) naming the file, values masked."""
    id_column = columns.get("personnummer")
    state_in, state_out = _state(n_rows), _state(n_rows)
    parse = _ParseProblems(kind)
    identities: list[np.ndarray] = []
    pieces: dict[str, list[Any]] = {}
    row_failed = False  # a row-level input expectation failed: nothing more is pseudonymised
    offset = 0
    try:
        for chunk in iter_stat_chunks(source, n_rows):
            n = len(chunk)
            ids = chunk[id_column] if id_column in chunk else chunk.iloc[:0, 0]
            identities.append(pd.unique(ids.dropna().to_numpy(dtype=object)))
            masker = identity_masker(ids)
            del ids
            with identity_values_masked(masker=masker):
                frame, problems = standardise_checked(chunk, kind, columns, source=str(source), consume=True)
                del chunk
                parse.add(problems, offset, n)
                if not parse.found:  # after a parse error only parsing goes on (to count every bad row)
                    positions = np.arange(offset, offset + n)
                    report = validate_frame(frame, f"input.{kind}", suite_parameters)
                    add_validated(state_in, report, row_keys(frame, offset), positions)
                    row_failed |= any(not o.success and o.expectation not in WHOLE_TABLE for o in report.outcomes)
                if not parse.found and not row_failed:
                    try:
                        pseudo = pseudonymise(frame, key())
                    except ValueError as exc:  # rows of the chunk -> rows of the file
                        raise ValueError(renumber_rows(str(exc), positions + 1)) from None
                    del frame
                    report = validate_frame(pseudo, f"register.{kind}")
                    add_validated(state_out, report, state_in.keys[offset : offset + n], positions)
                    for name in pseudo.columns:
                        pieces.setdefault(name, []).append(pseudo[name].array)
                    del pseudo
            offset += n
        message = parse.first()
        if message is not None:
            raise ValueError(message)
        passed(_merged(state_in, f"input.{kind}", suite_parameters), str(source))
        passed(_merged(state_out, f"register.{kind}", {}), f"pseudonymised {kind}")
    except (ValueError, GateError, KeyError) as exc:
        masked = identity_masker(np.concatenate(identities) if identities else [])(str(exc))
        if masked == str(exc):
            raise
        raise (GateError if isinstance(exc, GateError) else ValueError)(masked) from None
    out = {}
    for name in list(pieces):
        out[name] = _column(pieces.pop(name))
    return pd.DataFrame(out, index=pd.RangeIndex(n_rows), copy=False)
