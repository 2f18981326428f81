"""Readers for participant-flow documentation: the participant list and the status documentation (long or
wide), as CSV or XLSX, with every problem reported by file, row and value.

Formats are documented in ``docs/participant_flow.md``. Row numbers in messages are spreadsheet rows: the
header is row 1, the first participant row 2. Dates are accepted as ``2021-03-01``, ``1/3/2021`` or
``1.3.2021`` (day first, as Swedish spreadsheets write them), ``20210301``, Excel serial day numbers
(``44256``) and real spreadsheet dates; anything else is an error, never a silent blank.

All problems of one kind of check are collected and raised together as one ``DocumentationError`` (a
``ValueError``) so that a coordinator can fix a file in one go. Nothing is dropped silently: the only
values not turned into rows are empty cells of a wide status sheet (a period without documentation).
"""

from __future__ import annotations

import re
from datetime import date, datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from insats.tasks.participants.ladder import Ladder
from insats.tasks.register.readers import read_extract

MAX_LISTED = 20
PERIOD_MONTHS = 3
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
PARTICIPANT_COLUMNS = (
    "participant_id",
    "project",
    "gender",
    "birth_year",
    "start_date",
    "end_date",
    "exit_status",
    "goal",
)
GENDER_CODES = {"k": "K", "kvinna": "K", "f": "K", "m": "M", "man": "M", "a": "A", "annat": "A", "annan": "A"}

_ISO = re.compile(r"^(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]\d{1,2}:\d{2}(?::\d{2}(?:\.\d+)?)?)?$")
_DMY = re.compile(r"^(\d{1,2})[/.](\d{1,2})[/.](\d{4})$")
_COMPACT = re.compile(r"^(\d{4})(\d{2})(\d{2})$")
_SERIAL = re.compile(r"^\d{5}(?:\.0+)?$")
_QUARTER = re.compile(r"^(\d{4})\s*[-_ ]?\s*(?:q|k|kv|kvartal)\s*([1-4])$", re.IGNORECASE)
_MONTH = re.compile(r"^(\d{4})-(\d{1,2})$")
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")
_SERIAL_RANGE = (18264, 73051)  # 1950-01-01 .. 2100-01-01: numbers outside are not dates here


class DocumentationError(ValueError):
    """Participant-flow documentation that cannot be used; the message lists every problem found."""


def _raise(source: str, what: str, problems: list[str]) -> None:
    if not problems:
        return
    shown = problems[:MAX_LISTED]
    more = f"\n  ... and {len(problems) - MAX_LISTED} more" if len(problems) > MAX_LISTED else ""
    lines = "\n".join(f"  - {p}" for p in shown)
    raise DocumentationError(f"{source}: {what} ({len(problems)} problem(s)):\n{lines}{more}")


def _rows(rows: list[int]) -> str:
    listed = ", ".join(str(r) for r in rows[:MAX_LISTED])
    return f"row{'s' if len(rows) > 1 else ''} {listed}{' ...' if len(rows) > MAX_LISTED else ''}"


def _blank(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and np.isnan(value):
        return True
    return isinstance(value, str) and not value.strip()


def parse_date(value: Any) -> pd.Timestamp | None:
    """One date as a spreadsheet may hold it -> Timestamp (midnight), or None if blank.

    Accepted: datetime/date objects, ``YYYY-MM-DD`` (optionally with a time), ``D/M/YYYY`` and ``D.M.YYYY``
    (day first), ``YYYYMMDD``, Excel serial day numbers 18264..73051 (1950..2100) as numbers or text.
    Raises ValueError("...") describing the expected forms otherwise.
    """
    if _blank(value):
        return None
    if isinstance(value, pd.Timestamp | datetime | date | np.datetime64):
        return pd.Timestamp(value).normalize()
    if isinstance(value, bool):
        raise ValueError("expected a date, got a yes/no value")
    text = str(value).strip()
    try:
        if isinstance(value, int | float | np.integer | np.floating) or _SERIAL.match(text):
            serial = float(text)
            if not float(serial).is_integer() or not _SERIAL_RANGE[0] <= serial <= _SERIAL_RANGE[1]:
                raise ValueError(f"the number {text} is not an Excel date serial (18264..73051, 1950..2100)")
            return _EXCEL_EPOCH + pd.Timedelta(days=int(serial))
        if m := _ISO.match(text):
            y, mo, d = int(m[1]), int(m[2]), int(m[3])
        elif m := _DMY.match(text):
            d, mo, y = int(m[1]), int(m[2]), int(m[3])
        elif m := _COMPACT.match(text):
            y, mo, d = int(m[1]), int(m[2]), int(m[3])
        else:
            raise ValueError("not a date; expected 2021-03-01, 1/3/2021 (day first) or an Excel date")
        return pd.Timestamp(year=y, month=mo, day=d)
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


def _read(path: Path) -> pd.DataFrame:
    """Read a CSV/XLSX file with columns renamed to canonical names and a ``source_row`` column."""
    path = Path(path)
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise DocumentationError(f"{path}: expected a .csv or .xlsx file, got {path.suffix or 'no suffix'!r}")
    df = read_extract(path)
    lookup = {alias: canon for canon, aliases in ALIASES.items() for alias in aliases}
    renamed: dict[str, str] = {}
    for col in df.columns:
        key = str(col).strip().lower().replace(" ", "_")
        canon = lookup.get(key)
        if canon is not None:
            if canon in renamed.values():
                raise DocumentationError(f"{path}: two columns mean {canon!r} ({col!r} and another); keep one")
            renamed[col] = canon
    df = df.rename(columns=renamed)
    df[SOURCE_ROW] = (df.index.to_numpy() + 2).astype("int64")
    return df.reset_index(drop=True)


def _require(df: pd.DataFrame, columns: tuple[str, ...], source: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        found = ", ".join(str(c) for c in df.columns if c != SOURCE_ROW)
        raise DocumentationError(f"{source}: missing column(s) {', '.join(missing)}; found {found}")


def _ids(series: pd.Series) -> pd.Series:
    """Participant ids as text (numeric ids read as numbers become '12', not '12.0')."""
    return series.map(lambda v: None if _blank(v) else str(v).strip()).astype(object)


def _dates(df: pd.DataFrame, column: str, source: str, problems: list[str], required: bool) -> pd.Series:
    out: list[pd.Timestamp | None] = []
    for row, value in zip(df[SOURCE_ROW], df[column], strict=True):
        try:
            parsed = parse_date(value)
        except ValueError as exc:
            problems.append(f"row {row}, column {column!r}: {value!r} is {exc}")
            parsed = None
        else:
            if parsed is None and required:
                problems.append(f"row {row}, column {column!r}: empty (a date is required)")
        out.append(parsed)
    return pd.Series(pd.to_datetime(pd.Series(out, dtype=object)), index=df.index, name=column)


def _status_lookup(statuses: list[str]) -> dict[str, str]:
    """Case- and whitespace-insensitive lookup of a ladder's status spellings."""
    return {" ".join(s.lower().split()): s for s in statuses}


def _statuses(
    df: pd.DataFrame, column: str, allowed: list[str], source: str, what: str, rows_of: pd.Series | None = None
) -> pd.Series:
    """Map a status column to the ladder's spelling; unknown values listed with their rows, then raised."""
    lookup = _status_lookup(allowed)
    where = rows_of if rows_of is not None else df[SOURCE_ROW].astype(str)
    unknown: dict[str, list[str]] = {}
    out = []
    for loc, value in zip(where, df[column], strict=True):
        if _blank(value):
            out.append(None)
            continue
        canon = lookup.get(" ".join(str(value).lower().split()))
        if canon is None:
            unknown.setdefault(str(value), []).append(str(loc))
        out.append(canon)
    problems = [
        f"unknown {what} {value!r} in {'; '.join(locs[:MAX_LISTED])}{' ...' if len(locs) > MAX_LISTED else ''}"
        for value, locs in unknown.items()
    ]
    if problems:
        problems.append(f"allowed: {'; '.join(allowed)}")
    _raise(source, f"unknown {what} values", problems)
    return pd.Series(out, index=df.index, dtype=object, name=column)


def read_participants(path: Path, ladder: Ladder) -> pd.DataFrame:
    """Read the participant list (one row per participant).

    Returns columns participant_id (str), project (str), gender (K/M/A), birth_year (Int64, may be missing),
    start_date, end_date (datetime64, NaT while ongoing), exit_status (ladder spelling or None), goal (str or
    None) and source_row. Raises DocumentationError naming the file, rows and values for missing or
    duplicated ids, missing projects, unknown genders, impossible birth years, unparseable dates, end before
    start, an end without an exit status (or the reverse) and exit statuses the ladder does not categorise.
    """
    source = str(path)
    df = _read(Path(path))
    _require(df, ("participant_id", "project", "gender", "start_date", "end_date", "exit_status"), source)
    problems: list[str] = []
    out = pd.DataFrame({SOURCE_ROW: df[SOURCE_ROW]})
    out["participant_id"] = _ids(df["participant_id"])
    for row in df.loc[out["participant_id"].isna(), SOURCE_ROW]:
        problems.append(f"row {row}, column 'participant_id': empty")
    dup = out["participant_id"].notna() & out["participant_id"].duplicated(keep=False)
    for pid, rows in out.loc[dup].groupby("participant_id")[SOURCE_ROW]:
        problems.append(f"participant {pid!r} is listed more than once ({_rows(rows.tolist())})")
    out["project"] = df["project"].map(lambda v: None if _blank(v) else str(v).strip()).astype(object)
    for row in df.loc[out["project"].isna(), SOURCE_ROW]:
        problems.append(f"row {row}, column 'project': empty")
    genders = []
    for row, value in zip(df[SOURCE_ROW], df["gender"], strict=True):
        code = None if _blank(value) else GENDER_CODES.get(str(value).strip().lower())
        if code is None:
            problems.append(f"row {row}, column 'gender': {value!r} is not K, M or A (kvinna/man/annat)")
        genders.append(code)
    out["gender"] = pd.Series(genders, index=df.index, dtype=object)
    if "birth_year" in df.columns:
        years = pd.to_numeric(df["birth_year"], errors="coerce")
        bad = (df["birth_year"].notna() & years.isna()) | (years.notna() & ~years.between(1930, 2015))
        for row, value in zip(df.loc[bad, SOURCE_ROW], df.loc[bad, "birth_year"], strict=True):
            problems.append(f"row {row}, column 'birth_year': {value!r} is not a year 1930..2015")
        out["birth_year"] = years.where(~bad).round().astype("Int64")
    else:
        out["birth_year"] = pd.array([pd.NA] * len(df), dtype="Int64")
    out["start_date"] = _dates(df, "start_date", source, problems, required=True)
    out["end_date"] = _dates(df, "end_date", source, problems, required=False)
    before = out["end_date"].notna() & out["start_date"].notna() & (out["end_date"] < out["start_date"])
    for r in out.loc[before].itertuples():
        problems.append(
            f"row {r.source_row}: participant {r.participant_id!r} ends {r.end_date:%Y-%m-%d}, "
            f"before the start {r.start_date:%Y-%m-%d}"
        )
    _raise(source, "participant list is not usable", problems)

    out["exit_status"] = _statuses(df, "exit_status", list(ladder.exit_category), source, "exit status")
    problems = []
    for r in out.loc[out["end_date"].notna() & out["exit_status"].isna()].itertuples():
        problems.append(
            f"row {r.source_row}: participant {r.participant_id!r} has an end date but no exit status "
            "(write the ladder's status for an unknown outcome rather than leaving it empty)"
        )
    for r in out.loc[out["end_date"].isna() & out["exit_status"].notna()].itertuples():
        problems.append(f"row {r.source_row}: participant {r.participant_id!r} has an exit status but no end date")
    _raise(source, "end dates and exit statuses do not match", problems)
    out["goal"] = (
        df["goal"].map(lambda v: None if _blank(v) else str(v).strip()).astype(object) if "goal" in df.columns else None
    )
    return out[[*PARTICIPANT_COLUMNS, SOURCE_ROW]]


def read_status_documentation(path: Path, ladder: Ladder) -> pd.DataFrame:
    """Read status documentation, long or wide, into long form.

    Long: columns participant_id, period_start, status (one row per participant and three-month period).
    Wide: participant_id and one column per period headed by its first day or quarter (``2021-01-01``,
    ``2021-Q1``, ``2021K1``, ``2021-01``); other participant columns (project, gender, ...) are ignored,
    any other header is an error. Empty cells of a wide sheet are periods without documentation.

    Returns participant_id, period_start (datetime64), status (ladder step spelling), source_row,
    source_column (the wide sheet's header, or "status"). Raises DocumentationError listing unknown statuses
    with their rows, unparseable periods, empty cells in the long form and duplicated participant-periods.
    """
    source = str(path)
    df = _read(Path(path))
    _require(df, ("participant_id",), source)
    problems: list[str] = []
    if "status" in df.columns or "period_start" in df.columns:
        _require(df, ("participant_id", "period_start", "status"), source)
        long = pd.DataFrame({SOURCE_ROW: df[SOURCE_ROW], "participant_id": _ids(df["participant_id"])})
        long["period_start"] = _dates(df, "period_start", source, problems, required=True)
        long["_raw_status"] = df["status"]
        long[SOURCE_COLUMN] = "status"
        for row in df.loc[df["status"].map(_blank), SOURCE_ROW]:
            problems.append(f"row {row}, column 'status': empty (drop the row or write the status)")
    else:
        ignored = set(PARTICIPANT_COLUMNS) | {SOURCE_ROW}
        periods: dict[str, pd.Timestamp] = {}
        for col in df.columns:
            if col in ignored:
                continue
            try:
                periods[col] = parse_period_label(col)
            except ValueError as exc:
                problems.append(f"column {col!r}: not a period header ({exc}); expected e.g. 2021-Q1 or 2021-01-01")
        _raise(source, "wide status sheet has headers that are not periods", problems)
        if not periods:
            raise DocumentationError(
                f"{source}: neither a long sheet (participant_id, period_start, status) nor a wide sheet "
                "(participant_id and one column per period)"
            )
        base = pd.DataFrame({SOURCE_ROW: df[SOURCE_ROW], "participant_id": _ids(df["participant_id"])})
        parts = []
        for col, start in periods.items():
            part = base.copy()
            part["period_start"] = start
            part["_raw_status"] = df[col]
            part[SOURCE_COLUMN] = str(col)
            parts.append(part[~df[col].map(_blank).to_numpy()])
        long = pd.concat(parts, ignore_index=True)
        long["period_start"] = pd.to_datetime(long["period_start"])
    for row in long.loc[long["participant_id"].isna(), SOURCE_ROW].unique():
        problems.append(f"row {row}, column 'participant_id': empty")
    _raise(source, "status documentation is not usable", problems)

    where = "row " + long[SOURCE_ROW].astype(str)
    if (long[SOURCE_COLUMN] != "status").any():
        where = where + " column " + long[SOURCE_COLUMN].astype(str)
    long["status"] = _statuses(long, "_raw_status", list(ladder.steps), source, "status", rows_of=where)
    dup = long.duplicated(["participant_id", "period_start"], keep=False)
    problems = []
    for (pid, start), rows in long.loc[dup].groupby(["participant_id", "period_start"])[SOURCE_ROW]:
        problems.append(f"participant {pid!r}, period {start:%Y-%m-%d} documented twice ({_rows(sorted(rows))})")
    _raise(source, "duplicated participant-period rows", problems)
    out = long[["participant_id", "period_start", "status", SOURCE_ROW, SOURCE_COLUMN]]
    return out.sort_values(["participant_id", "period_start"], kind="mergesort").reset_index(drop=True)


def period_end(period_start: pd.Series) -> pd.Series:
    """Last day of each three-month period starting at ``period_start``."""
    return period_start + pd.DateOffset(months=PERIOD_MONTHS) - pd.Timedelta(days=1)


def check_documentation(
    participants: pd.DataFrame, statuses: pd.DataFrame, participants_source: str, status_source: str
) -> None:
    """Cross-file checks. Raises DocumentationError for participants documented in one file but not the
    other (listed with rows) and for periods that fall wholly outside the participant's enrolment (a period
    ending before the start date, or starting after the end date)."""
    known = set(participants["participant_id"])
    documented = set(statuses["participant_id"])
    problems = []
    stray = statuses.loc[~statuses["participant_id"].isin(known)]
    for pid, rows in stray.groupby("participant_id")[SOURCE_ROW]:
        problems.append(f"participant {pid!r} ({_rows(sorted(set(rows)))}) is not in {participants_source}")
    _raise(status_source, "participants missing from the participant list", problems)
    problems = [
        f"row {r.source_row}: participant {r.participant_id!r} has no status documented in {status_source}"
        for r in participants.loc[~participants["participant_id"].isin(documented)].itertuples()
    ]
    _raise(participants_source, "participants without any status documentation", problems)
    merged = statuses.merge(participants[["participant_id", "start_date", "end_date"]], on="participant_id")
    outside = (period_end(merged["period_start"]) < merged["start_date"]) | (
        merged["end_date"].notna() & (merged["period_start"] > merged["end_date"])
    )
    problems = []
    for r in merged.loc[outside].itertuples():
        end = "ongoing" if pd.isna(r.end_date) else f"{r.end_date:%Y-%m-%d}"
        col = "" if r.source_column == "status" else f", column {r.source_column!r}"
        problems.append(
            f"row {r.source_row}{col}: participant {r.participant_id!r}, period starting {r.period_start:%Y-%m-%d} "
            f"lies outside the enrolment {r.start_date:%Y-%m-%d} .. {end}"
        )
    _raise(status_source, "periods outside the participant's enrolment", problems)
