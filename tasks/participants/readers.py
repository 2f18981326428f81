"""Readers for participant-flow documentation: the participant list and the status documentation (long or
wide), as CSV or XLSX, with every problem reported by file, row and value.

Formats are documented in ``docs/participant_flow.md``. Row numbers in messages are spreadsheet rows: the
header is row 1, the first participant row 2. Cells (dates, ids, period headers) are parsed by
``insats.tasks.participants.cells``.

``read_documentation`` reads and cross-checks both files in one pass: every problem of both files (and
of the two together) is raised at once as one ``DocumentationError`` (an ``insats.errors.InputError``,
a ``ValueError``), so that a coordinator can fix the files in one go. Nothing is dropped silently: the
only values not turned into rows are empty cells of a wide status sheet (a period without documentation).

``end_date`` is the participant's last enrolled day ("inclusive", the default). A project that writes the
first day after enrolment ("exclusive", config ``participant_flow.end_date``) has its end dates read as the
day before, so every later step (enrolled months, enrolment per month) sees the last enrolled day.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

import pandas as pd

from insats.errors import Problem
from insats.tasks.participants.cells import (
    MAX_LISTED,
    SOURCE_COLUMN,
    SOURCE_ROW,
    DocumentationError,
    blank,
    dates,
    duplicated_groups,
    empty_cells,
    ids,
    missing_columns,
    parse_date,
    parse_period_label,
    read_sheet,
    rows_text,
    texts,
)
from insats.tasks.participants.ladder import SETTING as LADDER_SETTING
from insats.tasks.participants.ladder import Ladder, status_key

__all__ = [
    "DocumentationError", "SOURCE_COLUMN", "SOURCE_ROW", "check_documentation", "documentation_problems",
    "last_enrolled_day", "parse_date", "parse_participants", "parse_period_label", "parse_status_documentation",
    "period_end", "read_documentation", "read_participants", "read_status_documentation",
]  # fmt: skip

EndDate = Literal["inclusive", "exclusive"]
END_DATE_SETTING = "participant_flow.end_date"
PERIOD_MONTHS = 3
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
REQUIRED_PARTICIPANT_COLUMNS = ("participant_id", "project", "gender", "start_date", "end_date", "exit_status")
GENDER_CODES = {"k": "K", "kvinna": "K", "f": "K", "m": "M", "man": "M", "a": "A", "annat": "A", "annan": "A"}
Parsed = tuple[pd.DataFrame | None, list[Problem]]


def last_enrolled_day(end: pd.Series, end_date: EndDate = "inclusive") -> pd.Series:
    """End dates as the last enrolled day: unchanged when ``inclusive``, the day before when ``exclusive``."""
    if end_date not in ("inclusive", "exclusive"):
        raise ValueError(f"{END_DATE_SETTING} must be 'inclusive' or 'exclusive', got {end_date!r}")
    return end - pd.Timedelta(days=1) if end_date == "exclusive" else end


def map_statuses(
    raw: pd.Series, where: pd.Series, allowed: list[str], ladder: Ladder, source: str, what: str
) -> tuple[pd.Series, list[Problem]]:
    """Map raw statuses to the ladder's spelling (its own or an alias, ignoring case and spaces).

    Returns the statuses (None for blanks and unknown values) and one problem per unknown value listing
    all its places (``where``), then one listing the allowed statuses and the ladder's setting."""
    lookup = ladder.lookup(allowed)
    unknown: dict[str, list[str]] = {}
    out = []
    for loc, value in zip(where, raw, strict=True):
        canon = None if blank(value) else lookup.get(status_key(value))
        if canon is None and not blank(value):
            unknown.setdefault(str(value), []).append(str(loc))
        out.append(canon)
    problems = [
        Problem(f"unknown {what} {value!r} in {'; '.join(locs[:MAX_LISTED])}{' ...' if len(locs) > MAX_LISTED else ''}",
                source)
        for value, locs in unknown.items()
    ]  # fmt: skip
    if problems:
        aliases = " (or an alias the ladder lists)" if ladder.aliases else ""
        problems.append(
            Problem(f"allowed{aliases}, from {LADDER_SETTING} {ladder.name!r}: {'; '.join(allowed)}", source)
        )
    return pd.Series(out, index=raw.index, dtype=object), problems


# --- the participant list -----------------------------------------------------------------------------------


def _genders(df: pd.DataFrame, source: str) -> tuple[pd.Series, list[Problem]]:
    codes, problems = [], []
    for row, value in zip(df[SOURCE_ROW], df["gender"], strict=True):
        code = None if blank(value) else GENDER_CODES.get(str(value).strip().lower())
        if code is None:
            problems.append(
                Problem(f"row {row}, column 'gender': {value!r} is not K, M or A (kvinna/man/annat)", source)
            )
        codes.append(code)
    return pd.Series(codes, index=df.index, dtype=object), problems


def _birth_years(df: pd.DataFrame, source: str) -> tuple[pd.Series, list[Problem]]:
    if "birth_year" not in df.columns:
        return pd.Series(pd.array([pd.NA] * len(df), dtype="Int64"), index=df.index), []
    years = pd.to_numeric(df["birth_year"], errors="coerce")
    bad = (df["birth_year"].notna() & years.isna()) | (years.notna() & ~years.between(1930, 2015))
    problems = [
        Problem(f"row {row}, column 'birth_year': {value!r} is not a year 1930..2015", source)
        for row, value in zip(df.loc[bad, SOURCE_ROW], df.loc[bad, "birth_year"], strict=True)
    ]
    return years.where(~bad).round().astype("Int64"), problems


def _id_problems(out: pd.DataFrame, source: str) -> list[Problem]:
    problems = empty_cells(out, out["participant_id"], "participant_id", source)
    for pid, rows in duplicated_groups(out, ["participant_id"]):
        problems.append(Problem(f"participant {pid!r} is listed more than once ({rows_text(rows)})", source))
    return problems


def _end_problems(out: pd.DataFrame, raw_exit: pd.Series, end_date: EndDate, source: str) -> list[Problem]:
    """End before start; an end date without an exit status or the reverse."""
    note = f" (read as exclusive, {END_DATE_SETTING}: the last enrolled day)" if end_date == "exclusive" else ""
    problems = [
        Problem(f"row {r.source_row}: participant {r.participant_id!r} ends {r.end_date:%Y-%m-%d}{note}, "
                f"before the start {r.start_date:%Y-%m-%d}", source)
        for r in out.loc[out["end_date"] < out["start_date"]].itertuples()
    ]  # fmt: skip
    has_exit = ~raw_exit.map(blank)
    for r in out.loc[out["end_date"].notna() & ~has_exit].itertuples():
        problems.append(
            Problem(f"row {r.source_row}: participant {r.participant_id!r} has an end date but no exit status "
                    "(write the ladder's status for an unknown outcome rather than leaving it empty)", source)
        )  # fmt: skip
    problems += [
        Problem(f"row {r.source_row}: participant {r.participant_id!r} has an exit status but no end date", source)
        for r in out.loc[out["_end_blank"] & has_exit].itertuples()
    ]
    return problems


def parse_participants(path: Path, ladder: Ladder, *, end_date: EndDate = "inclusive") -> Parsed:
    """The participant list and every problem in it (the frame is None when the file cannot be used at all).

    Columns: participant_id (str), project (str), gender (K/M/A), birth_year (Int64, may be missing),
    start_date, end_date (datetime64: the last enrolled day, see ``end_date``; NaT while ongoing),
    exit_status (ladder spelling or None), goal (str or None), source_row."""
    source = str(path)
    try:
        df = read_sheet(Path(path))
    except DocumentationError as exc:
        return None, exc.problems or [Problem(exc.what, source)]
    problems = missing_columns(df, REQUIRED_PARTICIPANT_COLUMNS, source)
    if problems:
        return None, problems
    out = pd.DataFrame({SOURCE_ROW: df[SOURCE_ROW], "participant_id": ids(df["participant_id"])})
    problems += _id_problems(out, source)
    out["project"] = texts(df["project"])
    problems += empty_cells(out, out["project"], "project", source)
    out["gender"], found = _genders(df, source)
    problems += found
    out["birth_year"], found = _birth_years(df, source)
    problems += found
    out["start_date"] = dates(df, "start_date", source, problems, required=True)
    out["end_date"] = last_enrolled_day(dates(df, "end_date", source, problems, required=False), end_date)
    out["_end_blank"] = df["end_date"].map(blank)
    problems += _end_problems(out, df["exit_status"], end_date, source)
    out["exit_status"], found = map_statuses(
        df["exit_status"],
        "row " + df[SOURCE_ROW].astype(str),
        list(ladder.exit_category),
        ladder,
        source,
        "exit status",
    )
    problems += found
    out["goal"] = texts(df["goal"]) if "goal" in df.columns else None
    return out[[*PARTICIPANT_COLUMNS, SOURCE_ROW]], problems


# --- the status documentation ------------------------------------------------------------------------------


def _long_form(df: pd.DataFrame, source: str, problems: list[Problem]) -> pd.DataFrame | None:
    found = missing_columns(df, ("participant_id", "period_start", "status"), source)
    if found:
        problems += found
        return None
    long = pd.DataFrame({SOURCE_ROW: df[SOURCE_ROW], "participant_id": ids(df["participant_id"])})
    long["period_start"] = dates(df, "period_start", source, problems, required=True)
    long["_raw_status"] = df["status"]
    long[SOURCE_COLUMN] = "status"
    problems += [
        Problem(f"row {row}, column 'status': empty (drop the row or write the status)", source)
        for row in df.loc[df["status"].map(blank), SOURCE_ROW]
    ]
    return long


def _wide_form(df: pd.DataFrame, source: str, problems: list[Problem]) -> pd.DataFrame | None:
    ignored = set(PARTICIPANT_COLUMNS) | {SOURCE_ROW}
    periods: dict[str, pd.Timestamp] = {}
    bad_headers = []
    for col in (c for c in df.columns if c not in ignored):
        try:
            periods[col] = parse_period_label(col)
        except ValueError as exc:
            bad_headers.append(
                Problem(f"column {col!r}: not a period header ({exc}); expected e.g. 2021-Q1 or 2021-01-01", source)
            )
    problems += bad_headers
    if not periods and not bad_headers:
        problems.append(Problem("neither a long sheet (participant_id, period_start, status) nor a wide sheet "
                                "(participant_id and one column per period)", source))  # fmt: skip
    if bad_headers or not periods:
        return None
    base = pd.DataFrame({SOURCE_ROW: df[SOURCE_ROW], "participant_id": ids(df["participant_id"])})
    parts = [
        base.assign(period_start=start, _raw_status=df[col], **{SOURCE_COLUMN: str(col)})[
            ~df[col].map(blank).to_numpy()
        ]
        for col, start in periods.items()
    ]
    long = pd.concat(parts, ignore_index=True)
    long["period_start"] = pd.to_datetime(long["period_start"])
    return long


def parse_status_documentation(path: Path, ladder: Ladder) -> Parsed:
    """Status documentation, long or wide, in long form, and every problem in it (the frame is None when
    the file cannot be used at all).

    Long: columns participant_id, period_start, status (one row per participant and three-month period).
    Wide: participant_id and one column per period headed by its first day or quarter (``2021-01-01``,
    ``2021-Q1``, ``2021K1``, ``2021-01``); other participant columns (project, gender, ...) are ignored,
    any other header is a problem. Empty cells of a wide sheet are periods without documentation.
    Columns: participant_id, period_start (datetime64), status (ladder step spelling, None if unknown),
    source_row, source_column (the wide sheet's header, or "status")."""
    source = str(path)
    try:
        df = read_sheet(Path(path))
    except DocumentationError as exc:
        return None, exc.problems or [Problem(exc.what, source)]
    problems = missing_columns(df, ("participant_id",), source)
    if problems:
        return None, problems
    is_long = "status" in df.columns or "period_start" in df.columns
    long = (_long_form if is_long else _wide_form)(df, source, problems)
    if long is None:
        return None, problems
    problems += [
        Problem(f"row {row}, column 'participant_id': empty", source)
        for row in long.loc[long["participant_id"].isna(), SOURCE_ROW].unique()
    ]
    where = "row " + long[SOURCE_ROW].astype(str)
    if (long[SOURCE_COLUMN] != "status").any():
        where = where + " column " + long[SOURCE_COLUMN].astype(str)
    long["status"], found = map_statuses(long["_raw_status"], where, list(ladder.steps), ladder, source, "status")
    problems += found
    for (pid, start), rows in duplicated_groups(long, ["participant_id", "period_start"]):
        problems.append(
            Problem(f"participant {pid!r}, period {start:%Y-%m-%d} documented twice ({rows_text(rows)})", source)
        )
    out = long[["participant_id", "period_start", "status", SOURCE_ROW, SOURCE_COLUMN]]
    return out.sort_values(["participant_id", "period_start"], kind="mergesort").reset_index(drop=True), problems


# --- both files ------------------------------------------------------------------------------------------------


def period_end(period_start: pd.Series) -> pd.Series:
    """Last day of each three-month period starting at ``period_start``."""
    return period_start + pd.DateOffset(months=PERIOD_MONTHS) - pd.Timedelta(days=1)


def documentation_problems(
    participants: pd.DataFrame, statuses: pd.DataFrame, participants_source: str, status_source: str
) -> list[Problem]:
    """Cross-file problems: participants documented in one file but not the other (listed with rows) and
    periods wholly outside the participant's enrolment (ending before the start date, or starting after
    the end date, the last enrolled day)."""
    known = set(participants["participant_id"].dropna())
    documented = set(statuses["participant_id"].dropna())
    stray = statuses.loc[statuses["participant_id"].notna() & ~statuses["participant_id"].isin(known)]
    problems = [
        Problem(f"participant {pid!r} ({rows_text(sorted(set(rows)))}) is not in {participants_source}", status_source)
        for pid, rows in stray.groupby("participant_id")[SOURCE_ROW]
    ]
    lacking = participants["participant_id"].notna() & ~participants["participant_id"].isin(documented)
    problems += [
        Problem(f"row {r.source_row}: participant {r.participant_id!r} has no status documented in {status_source}",
                participants_source)
        for r in participants.loc[lacking].itertuples()
    ]  # fmt: skip
    merged = statuses.merge(participants[["participant_id", "start_date", "end_date"]], on="participant_id")
    outside = (period_end(merged["period_start"]) < merged["start_date"]) | (
        merged["period_start"] > merged["end_date"]
    )
    for r in merged.loc[outside].itertuples():
        end = "ongoing" if pd.isna(r.end_date) else f"{r.end_date:%Y-%m-%d}"
        col = "" if r.source_column == "status" else f", column {r.source_column!r}"
        problems.append(
            Problem(f"row {r.source_row}{col}: participant {r.participant_id!r}, period starting "
                    f"{r.period_start:%Y-%m-%d} lies outside the enrolment {r.start_date:%Y-%m-%d} .. {end}",
                    status_source)
        )  # fmt: skip
    return problems


def read_documentation(
    participants: Path, status_documentation: Path, ladder: Ladder, *, end_date: EndDate = "inclusive"
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Read both files and check them together, in one pass: (participants, statuses) as
    ``parse_participants`` / ``parse_status_documentation`` return them. Raises one DocumentationError with
    every problem of both files and between them, each naming its file."""
    people, problems = parse_participants(participants, ladder, end_date=end_date)
    statuses, found = parse_status_documentation(status_documentation, ladder)
    problems += found
    if people is not None and statuses is not None:
        problems += documentation_problems(people, statuses, str(participants), str(status_documentation))
    if problems or people is None or statuses is None:
        raise DocumentationError("participant documentation is not usable", problems)
    return people, statuses


def read_participants(path: Path, ladder: Ladder, *, end_date: EndDate = "inclusive") -> pd.DataFrame:
    """The participant list alone (``parse_participants``); raises DocumentationError naming the file, rows
    and values for missing or duplicated ids, missing projects, unknown genders, impossible birth years,
    unparseable dates, end before start, an end without an exit status (or the reverse) and exit statuses
    the ladder does not categorise."""
    people, problems = parse_participants(path, ladder, end_date=end_date)
    if problems or people is None:
        raise DocumentationError("participant list is not usable", problems, file=str(path))
    return people


def read_status_documentation(path: Path, ladder: Ladder) -> pd.DataFrame:
    """The status documentation alone (``parse_status_documentation``); raises DocumentationError listing
    unknown statuses with their rows, unparseable periods, empty cells in the long form and duplicated
    participant-periods."""
    statuses, problems = parse_status_documentation(path, ladder)
    if problems or statuses is None:
        raise DocumentationError("status documentation is not usable", problems, file=str(path))
    return statuses


def check_documentation(
    participants: pd.DataFrame, statuses: pd.DataFrame, participants_source: str, status_source: str
) -> None:
    """Cross-file checks (``documentation_problems``), all raised together as one DocumentationError."""
    problems = documentation_problems(participants, statuses, participants_source, status_source)
    if problems:
        raise DocumentationError("participant list and status documentation do not match", problems)
