"""Cells of participant-flow spreadsheets: reading a CSV/XLSX file with canonical column names, and parsing
ids, dates and period headers, each problem collected as an ``insats.errors.Problem`` naming the file, the
spreadsheet row (header = row 1) and the value.

Dates are accepted as ``2021-03-01``, ``1/3/2021`` or ``1.3.2021`` (day first, as Swedish spreadsheets
write them), ``20210301``, Excel serial day numbers (``44256``) and real spreadsheet dates; anything else
is a problem, never a silent blank.
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from insats.errors import InputError, Problem
from insats.tasks.register.readers import read_extract

MAX_LISTED = 20
SOURCE_ROW = "source_row"
SOURCE_COLUMN = "source_column"

ALIASES: dict[str, tuple[str, ...]] = {
    "participant_id": ("participant_id", "deltagar_id", "deltagarid", "deltagare", "deltagarnummer", "id"),
    "project": ("project", "projekt", "delprojekt", "sub_project", "subproject"),
    "gender": ("gender", "kön", "kon", "sex"),
    "birth_year": ("birth_year", "födelseår", "fodelsear"),
    "start_date": ("start_date", "startdatum", "inskrivningsdatum", "start"),
    "end_date": ("end_date", "slutdatum", "avslutsdatum", "end"),
    "exit_status": ("exit_status", "status_vid_avslut", "avslutsstatus", "status_at_exit"),
    "goal": ("goal", "mål", "mal"),
    "period_start": ("period_start", "periodstart", "period", "period_start_date"),
    "status": ("status",),
}

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_DMY = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL = re.compile(r"^\d{5}(?:\.0+)?$")
_QUARTER = re.compile(r"^(\d{4})\s*[-_ ]?\s*(?:q|k|kv|kvartal)\s*([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_SERIAL_RANGE = (18264, 73051)  # 1950-01-01 .. 2100-01-01: numbers outside are not dates here


class DocumentationError(InputError):
    """Participant-flow documentation that cannot be used; ``problems`` lists every problem found."""


def rows_text(rows: list[int]) -> str:
    """``row 3`` or ``rows 3, 4, 9`` (at most MAX_LISTED, then ``...``)."""
    listed = ", ".join(str(r) for r in rows[:MAX_LISTED])
    return f"row{'s' if len(rows) > 1 else ''} {listed}{' ...' if len(rows) > MAX_LISTED else ''}"


def blank(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def _serial_date(text: str) -> pd.Timestamp:
    serial = float(text)
    if not float(serial).is_integer() or not _SERIAL_RANGE[0] <= serial <= _SERIAL_RANGE[1]:
        raise ValueError(f"the number {text} is not an Excel date serial (18264..73051, 1950..2100)")
    return _EXCEL_EPOCH + pd.Timedelta(days=int(serial))


def _text_date(text: str) -> pd.Timestamp:
    if m := _ISO.match(text):
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
    elif m := _DMY.match(text):
        d, mo, y = int(m[1]), int(m[2]), int(m[3])
    elif m := _COMPACT.match(text):
        y, mo, d = int(m[1]), int(m[2]), int(m[3])
    else:
        raise ValueError("not a date; expected 2021-03-01, 1/3/2021 (day first) or an Excel date")
    return pd.Timestamp(year=y, month=mo, day=d)


def parse_date(value: Any) -> pd.Timestamp | None:
    """One date as a spreadsheet may hold it -> Timestamp (midnight), or None if blank.

    Accepted: datetime/date objects, ``YYYY-MM-DD`` (optionally with a time), ``D/M/YYYY`` and ``D.M.YYYY``
    (day first), ``YYYYMMDD``, Excel serial day numbers 18264..73051 (1950..2100) as numbers or text.
    Raises ValueError("...") describing the expected forms otherwise.
    """
    if blank(value):
        return None
    if isinstance(value, pd.Timestamp | datetime | date | np.datetime64):
        return pd.Timestamp(value).normalize()
    if isinstance(value, bool):
        raise ValueError("expected a date, got a yes/no value")
    text = str(value).strip()
    try:
        if isinstance(value, int | float | np.integer | np.floating) or _SERIAL.match(text):
            return _serial_date(text)
        return _text_date(text)
    except (ValueError, OverflowError) as exc:
        msg = str(exc)
        if "expected" not in msg and "serial" not in msg:
            msg = f"not a valid calendar date ({msg})"
        raise ValueError(msg) from exc


def parse_period_label(value: Any) -> pd.Timestamp:
    """A wide sheet's period header -> the period's first day: ``2021-Q1``/``2021K1``/``2021 kv 1`` (quarter),
    ``2021-03`` (month), or any date ``parse_date`` accepts. Raises ValueError otherwise."""
    text = str(value).strip()
    if m := _QUARTER.match(text):
        return pd.Timestamp(year=int(m[1]), month=3 * int(m[2]) - 2, day=1)
    if m := _MONTH.match(text):
        if not 1 <= int(m[2]) <= 12:
            raise ValueError(f"month {m[2]} out of range")
        return pd.Timestamp(year=int(m[1]), month=int(m[2]), day=1)
    parsed = parse_date(value)
    if parsed is None:
        raise ValueError("empty header")
    return parsed


def read_sheet(path: Path) -> pd.DataFrame:
    """Read a CSV/XLSX file with columns renamed to canonical names (``ALIASES``) and a ``source_row``
    column (spreadsheet row, header = 1). Raises DocumentationError naming the file when it cannot be read
    or two columns mean the same thing."""
    path = Path(path)
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise DocumentationError(f"expected a .csv or .xlsx file, got {path.suffix or 'no suffix'!r}", file=str(path))
    try:
        df = read_extract(path)
    except (OSError, ValueError) as exc:
        raise DocumentationError(f"cannot be read: {exc}", file=str(path)) from exc
    lookup = {alias: canon for canon, aliases in ALIASES.items() for alias in aliases}
    renamed: dict[str, str] = {}
    for col in df.columns:
        canon = lookup.get(str(col).strip().lower().replace(" ", "_"))
        if canon is not None:
            if canon in renamed.values():
                raise DocumentationError(f"two columns mean {canon!r} ({col!r} and another); keep one", file=str(path))
            renamed[col] = canon
    df = df.rename(columns=renamed)
    df[SOURCE_ROW] = (df.index.to_numpy() + 2).astype("int64")
    return df.reset_index(drop=True)


def missing_columns(df: pd.DataFrame, columns: tuple[str, ...], source: str) -> list[Problem]:
    """One problem naming the required columns ``df`` lacks (and those it has), or none."""
    missing = [c for c in columns if c not in df.columns]
    if not missing:
        return []
    found = ", ".join(str(c) for c in df.columns if c != SOURCE_ROW)
    return [Problem(f"missing column(s) {', '.join(missing)}; found {found}", source)]


def ids(series: pd.Series) -> pd.Series:
    """Participant ids as text (numeric ids read as numbers become '12', not '12.0')."""
    return series.map(lambda v: None if blank(v) else str(v).strip()).astype(object)


def texts(series: pd.Series) -> pd.Series:
    """Free text, stripped; None for empty cells."""
    return series.map(lambda v: None if blank(v) else str(v).strip()).astype(object)


def empty_cells(df: pd.DataFrame, values: pd.Series, column: str, source: str, why: str = "empty") -> list[Problem]:
    """A problem per row where ``values`` is missing: ``row N, column 'c': empty``."""
    return [Problem(f"row {row}, column {column!r}: {why}", source) for row in df.loc[values.isna(), SOURCE_ROW]]


def dates(df: pd.DataFrame, column: str, source: str, problems: list[Problem], required: bool) -> pd.Series:
    """Parse a date column (datetime64, NaT when blank or unreadable); problems appended to ``problems``."""
    out: list[pd.Timestamp | None] = []
    for row, value in zip(df[SOURCE_ROW], df[column], strict=True):
        try:
            parsed = parse_date(value)
        except ValueError as exc:
            problems.append(Problem(f"row {row}, column {column!r}: {value!r} is {exc}", source))
            parsed = None
        else:
            if parsed is None and required:
                problems.append(Problem(f"row {row}, column {column!r}: empty (a date is required)", source))
        out.append(parsed)
    return pd.Series(pd.to_datetime(pd.Series(out, dtype=object)), index=df.index, name=column)


def duplicated_groups(df: pd.DataFrame, keys: list[str]) -> list[tuple[Any, list[int]]]:
    """(key value(s), sorted source rows) for every group of ``keys`` that occurs more than once."""
    valid = df.dropna(subset=keys)
    dup = valid.duplicated(keys, keep=False)
    by = keys[0] if len(keys) == 1 else keys
    return [(key, sorted(set(rows))) for key, rows in valid.loc[dup].groupby(by)[SOURCE_ROW]]
