"""Intervention inventory (study 2): reading and validating the list of local interventions.

An inventory is one row per intervention (insats) with the columns in :data:`INVENTORY_COLUMNS`:

- ``intervention_id`` (str, unique, e.g. ``INS01``), ``name`` (str), ``provider`` (one of :data:`PROVIDERS`),
  ``method_family`` (one of :data:`METHOD_FAMILIES`), ``target_group`` (str, may be missing),
- ``start_date`` (datetime64[ns], required), ``end_date`` (datetime64[ns], NaT while the intervention is
  ongoing),
- ``capacity`` (Int64, places at a time, may be missing),
- ``competencies`` (str): ";"-separated codebook ids the intervention addresses
  (e.g. ``KOMP.SVENSKA;KOMP.MOTIVATION``), normalised to upper case without spaces; ``""`` if none.
  It is kept as a string, not split.

Files come as CSV (UTF-8 with or without BOM, cp1252 as a fallback; ``,`` or ``;`` separated) or XLSX (first
sheet unless told otherwise). A title row above the header is tolerated: the header is the first row that
contains a cell ``intervention_id``. Row numbers in error messages count as a spreadsheet user does: the first
row of the file is row 1 (so with no title row the header is row 1 and the first data row is row 2).
"""

from __future__ import annotations

import csv
import io
import math
import re
import unicodedata
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd

METHOD_FAMILIES: tuple[str, ...] = (
    "supported_employment",
    "coordinator",
    "joint_assessment",
    "indicator_work",
    "work_practice",
    "subsidised_employment",
    "education",
    "language_training",
    "health_rehabilitation",
    "service_design",
    "boundary_worker",
    "other",
)

PROVIDERS: tuple[str, ...] = (
    "kommun",
    "arbetsformedlingen",
    "forsakringskassan",
    "region",
    "samordningsforbund",
)

INVENTORY_COLUMNS: tuple[str, ...] = (
    "intervention_id",
    "name",
    "provider",
    "method_family",
    "target_group",
    "start_date",
    "end_date",
    "capacity",
    "competencies",
)
REQUIRED_COLUMNS: tuple[str, ...] = (
    "intervention_id",
    "name",
    "provider",
    "method_family",
    "start_date",
    "competencies",
)
# Optional columns are added (all missing) when absent so that the output always has INVENTORY_COLUMNS.
OPTIONAL_COLUMNS: tuple[str, ...] = ("target_group", "end_date", "capacity")

# How far down a sheet we look for the header row (title rows above it are common in Excel exports).
_HEADER_SEARCH_ROWS = 20
_MAX_REPORTED_PROBLEMS = 50
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")


# --------------------------------------------------------------------------------------------- reading


def read_inventory(path: Path, sheet: str | int = 0) -> pd.DataFrame:
    """Read an inventory file as raw cells (no validation; pass the result to :func:`check_inventory`).

    Supports ``.csv`` (UTF-8 / UTF-8-BOM, cp1252 fallback; ``,``, ``;`` or tab separated, sniffed from the
    header line) and ``.xlsx`` (``sheet`` = name or 0-based index). Returns one row per non-empty data row,
    columns named as in the header (stripped), values as read (str for CSV, Excel cell values for XLSX,
    None for empty cells). ``df.attrs["row_numbers"]`` holds the spreadsheet row number (1-based) of each
    row and ``df.attrs["header_row"]`` the header's, so that later errors can point to the right row.

    Raises ValueError naming the file for an unknown suffix, an empty file or a duplicated header name.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        rows = _read_csv_rows(path)
    elif suffix == ".xlsx":
        rows = _read_xlsx_rows(path, sheet)
    else:
        raise ValueError(f"{path}: unsupported inventory file type {suffix!r}; expected .csv or .xlsx")
    return _rows_to_frame(rows, source=str(path))


def _read_csv_rows(path: Path) -> list[list[Any]]:
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")  # also plain UTF-8
    except UnicodeDecodeError:
        text = raw.decode("cp1252")  # Excel's "CSV" on Swedish Windows
    lines = text.splitlines()
    header_line = next((ln for ln in lines if "intervention_id" in ln.lower()), None)
    if header_line is None:
        header_line = next((ln for ln in lines if ln.strip()), "")
    counts = {d: header_line.count(d) for d in (";", ",", "\t")}
    delimiter = max(counts, key=lambda d: counts[d]) if any(counts.values()) else ","
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    # One csv record = one spreadsheet row, even when a quoted cell spans several lines.
    return [[cell if cell != "" else None for cell in record] for record in reader]


def _read_xlsx_rows(path: Path, sheet: str | int) -> list[list[Any]]:
    from openpyxl import load_workbook  # imported here: only needed for .xlsx

    try:
        wb = load_workbook(path, read_only=True, data_only=True)
    except Exception as exc:  # openpyxl raises several types for corrupt files
        raise ValueError(f"{path}: cannot read as .xlsx ({exc})") from exc
    try:
        ws = wb[sheet] if isinstance(sheet, str) else wb.worksheets[sheet]
        # min_row=1 so that enumerate() gives the row numbers Excel shows, even above the used range.
        return [list(r) for r in ws.iter_rows(min_row=1, values_only=True)]
    except (KeyError, IndexError) as exc:
        raise ValueError(f"{path}: sheet {sheet!r} not found") from exc
    finally:
        wb.close()


def _is_empty(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    if isinstance(value, float) and math.isnan(value):
        return True
    return isinstance(value, str) and value.strip() == ""


def _rows_to_frame(rows: list[list[Any]], source: str) -> pd.DataFrame:
    nonempty = [i for i, r in enumerate(rows) if any(not _is_empty(v) for v in r)]
    if not nonempty:
        raise ValueError(f"{source}: the file is empty (no header row found)")
    header_idx = next(
        (
            i
            for i in nonempty[:_HEADER_SEARCH_ROWS]
            if any(isinstance(v, str) and v.strip().lower() == "intervention_id" for v in rows[i])
        ),
        nonempty[0],
    )
    header = ["" if _is_empty(v) else str(v).strip() for v in rows[header_idx]]
    while header and header[-1] == "":
        header.pop()
    named = [h for h in header if h]
    dupes = sorted({h for h in named if named.count(h) > 1})
    if dupes:
        raise ValueError(f"{source}: row {header_idx + 1} (header): duplicated column name(s) {dupes}")
    records: list[list[Any]] = []
    row_numbers: list[int] = []
    for i in range(header_idx + 1, len(rows)):
        row = rows[i]
        if all(_is_empty(v) for v in row):
            continue
        extra = [v for v in row[len(header) :] if not _is_empty(v)]
        if extra:
            raise ValueError(
                f"{source}: row {i + 1}: {len(row)} cells but the header (row {header_idx + 1}) "
                f"has {len(header)} columns (a cell that contains the separator must be quoted)"
            )
        cells = list(row[: len(header)]) + [None] * max(0, len(header) - len(row))
        records.append([None if _is_empty(v) else v for v in cells])
        row_numbers.append(i + 1)
    keep = [j for j, h in enumerate(header) if h]  # unnamed, empty columns are dropped
    df = pd.DataFrame([[r[j] for j in keep] for r in records], columns=[header[j] for j in keep], dtype=object)
    df.attrs["row_numbers"] = row_numbers
    df.attrs["header_row"] = header_idx + 1
    return df


# ------------------------------------------------------------------------------------------ validation


def _fold(value: str) -> str:
    """Lower-case, strip accents (å->a, ä->a, ö->o) and turn spaces/hyphens into '_' for code matching."""
    s = unicodedata.normalize("NFKD", value.strip().lower())
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return re.sub(r"[\s\-]+", "_", s)


def _text(value: Any) -> str | None:
    if _is_empty(value):
        return None
    if isinstance(value, float) and value.is_integer():
        value = int(value)  # an id typed as a number in Excel
    return unicodedata.normalize("NFC", str(value).strip())


def parse_inventory_date(value: Any) -> pd.Timestamp | None:
    """Parse one date cell: date/datetime objects, ``YYYY-MM-DD`` (optionally with a midnight time part),
    ``YYYYMMDD`` or an Excel serial day number. Returns None for an empty cell; raises ValueError otherwise.
    """
    if _is_empty(value):
        return None
    if isinstance(value, datetime | date):
        return pd.Timestamp(value).normalize()
    if isinstance(value, int | float) and not isinstance(value, bool):
        if float(value).is_integer() and 19000101 <= value <= 21001231:
            return parse_inventory_date(str(int(value)))
        if 1 <= value < 80000:  # Excel serial day (1900 date system); 80000 is year 2119
            return (_EXCEL_EPOCH + pd.Timedelta(days=int(value))).normalize()
        raise ValueError(f"cannot read {value!r} as a date")
    s = str(value).strip()
    m = re.fullmatch(r"(\d{4})-(\d{1,2})-(\d{1,2})(?:[ T]00:00(?::00)?)?", s) or re.fullmatch(
        r"(\d{4})(\d{2})(\d{2})", s
    )
    if m is None:
        raise ValueError(f"cannot read {s!r} as a date; expected YYYY-MM-DD or YYYYMMDD")
    try:
        return pd.Timestamp(date(int(m.group(1)), int(m.group(2)), int(m.group(3))))
    except ValueError as exc:
        raise ValueError(f"{s!r} is not a valid calendar date") from exc


def _parse_capacity(value: Any) -> int | None:
    if _is_empty(value):
        return None
    if isinstance(value, bool):
        raise ValueError(f"expected a whole number >= 0, got {value!r}")
    if isinstance(value, int | float):
        if float(value).is_integer() and value >= 0:
            return int(value)
        raise ValueError(f"expected a whole number >= 0, got {value!r}")
    s = re.sub(r"[\s\u00a0\u202f]", "", str(value))
    if re.fullmatch(r"\d+", s):
        return int(s)
    raise ValueError(f"expected a whole number >= 0, got {str(value)!r}")


def check_inventory(df: pd.DataFrame, source: str, known_codes: set[str] | None = None) -> pd.DataFrame:
    """Validate and type a raw inventory (from :func:`read_inventory` or built in memory).

    Column names are matched case-insensitively. Returns a new frame with the columns of
    :data:`INVENTORY_COLUMNS` first (typed as described in the module docstring), then any extra columns
    unchanged, with a fresh RangeIndex and the input row order. ``provider`` and ``method_family`` are
    matched ignoring case and Swedish accents (``Arbetsförmedlingen`` -> ``arbetsformedlingen``).
    ``known_codes`` is the set of codebook ids that competencies may use; None skips that check.

    Raises one ValueError listing every problem found (up to 50), each as
    ``row <n>, column '<col>': <what is wrong>; allowed values: ...`` and prefixed by ``source``, for: missing
    required columns, missing required values, unknown method_family/provider, unknown competency ids,
    duplicate intervention_id, unreadable dates or capacity, and start_date after end_date.
    """
    df = df.rename(columns=lambda c: str(c).strip().lower())
    header_row = int(df.attrs.get("header_row", 1))
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(
            f"{source}: missing required column(s) {', '.join(missing)} in the header (row {header_row}); "
            f"required: {', '.join(REQUIRED_COLUMNS)}; found: {', '.join(map(str, df.columns))}"
        )
    row_numbers = df.attrs.get("row_numbers")
    if row_numbers is None or len(row_numbers) != len(df):
        row_numbers = list(range(header_row + 1, header_row + 1 + len(df)))
    for col in OPTIONAL_COLUMNS:
        if col not in df.columns:
            df[col] = None

    problems: list[str] = []

    def problem(row: int, col: str, msg: str) -> None:
        problems.append(f"row {row}, column '{col}': {msg}")

    out: dict[str, list[Any]] = {c: [] for c in INVENTORY_COLUMNS}
    first_seen: dict[str, int] = {}
    known = {str(c).strip().upper() for c in known_codes} if known_codes is not None else None
    allowed_codes = ", ".join(sorted(known)) if known is not None else ""
    for row, rec in zip(row_numbers, df[list(INVENTORY_COLUMNS)].itertuples(index=False), strict=True):
        r = rec._asdict()
        iid = _text(r["intervention_id"])
        if iid is None:
            problem(row, "intervention_id", "value is missing")
        elif iid in first_seen:
            problem(row, "intervention_id", f"duplicate value {iid!r} (first in row {first_seen[iid]})")
        else:
            first_seen[iid] = row
        name = _text(r["name"])
        if name is None:
            problem(row, "name", "value is missing")

        coded: dict[str, str | None] = {}
        for col, allowed in (("provider", PROVIDERS), ("method_family", METHOD_FAMILIES)):
            raw = _text(r[col])
            coded[col] = None
            if raw is None:
                problem(row, col, f"value is missing; allowed values: {', '.join(allowed)}")
            elif _fold(raw) not in allowed:
                problem(row, col, f"unknown value {raw!r}; allowed values: {', '.join(allowed)}")
            else:
                coded[col] = _fold(raw)

        dates: dict[str, pd.Timestamp | None] = {}
        for col in ("start_date", "end_date"):
            try:
                dates[col] = parse_inventory_date(r[col])
            except ValueError as exc:
                dates[col] = None
                problem(row, col, str(exc))
        if dates["start_date"] is None and _is_empty(r["start_date"]):
            problem(row, "start_date", "value is missing; expected a date YYYY-MM-DD")
        start, end = dates["start_date"], dates["end_date"]
        if start is not None and end is not None and start > end:
            problem(
                row,
                "start_date",
                f"start_date {start.date()} is after end_date {end.date()}",
            )

        try:
            capacity = _parse_capacity(r["capacity"])
        except ValueError as exc:
            capacity = None
            problem(row, "capacity", str(exc))

        comp_raw = _text(r["competencies"]) or ""
        codes: list[str] = []
        for token in comp_raw.split(";"):
            code = token.strip().upper()
            if not code:
                continue
            if known is not None and code not in known:
                problem(
                    row,
                    "competencies",
                    f"unknown competency id {token.strip()!r} (separate ids with ';'); allowed values: {allowed_codes}",
                )
            elif code not in codes:
                codes.append(code)

        out["intervention_id"].append(iid)
        out["name"].append(name)
        out["provider"].append(coded["provider"])
        out["method_family"].append(coded["method_family"])
        out["target_group"].append(_text(r["target_group"]))
        out["start_date"].append(start)
        out["end_date"].append(end)
        out["capacity"].append(capacity)
        out["competencies"].append(";".join(codes))

    if problems:
        shown = problems[:_MAX_REPORTED_PROBLEMS]
        more = len(problems) - len(shown)
        tail = f"\n... and {more} more problem(s)" if more else ""
        raise ValueError(
            f"{source}: {len(problems)} problem(s) in the intervention inventory "
            f"(row numbers count the header as row {header_row}):\n" + "\n".join(shown) + tail
        )

    result = pd.DataFrame(
        {
            "intervention_id": pd.Series(out["intervention_id"], dtype=object).astype(str),
            "name": pd.Series(out["name"], dtype=object).astype(str),
            "provider": pd.Series(out["provider"], dtype=object).astype(str),
            "method_family": pd.Series(out["method_family"], dtype=object).astype(str),
            "target_group": _optional_text(out["target_group"]),
            "start_date": pd.to_datetime(pd.Series(out["start_date"], dtype=object)).astype("datetime64[ns]"),
            "end_date": pd.to_datetime(pd.Series(out["end_date"], dtype=object)).astype("datetime64[ns]"),
            "capacity": pd.array(out["capacity"], dtype="Int64"),
            "competencies": pd.Series(out["competencies"], dtype=object).astype(str),
        }
    )
    extras = [c for c in df.columns if c not in INVENTORY_COLUMNS]
    for col in extras:
        result[col] = df[col].to_numpy()
    return result


def _optional_text(values: list[str | None]) -> pd.Series:
    """Text column with missing values: same dtype as the required text columns, missing as NA."""
    s = pd.Series(["" if v is None else v for v in values], dtype=object).astype(str)
    return s.mask(pd.Series([v is None for v in values]))


def ongoing_mask(inventory: pd.DataFrame, as_of: pd.Timestamp | None = None) -> pd.Series:
    """Boolean Series: is each intervention ongoing? Without ``as_of``: ``end_date`` is missing.

    With ``as_of``: started on or before it and not ended before it.
    """
    if as_of is None:
        return inventory["end_date"].isna()
    as_of = pd.Timestamp(as_of)
    return (inventory["start_date"] <= as_of) & (inventory["end_date"].isna() | (inventory["end_date"] >= as_of))


def split_competencies(value: Any) -> list[str]:
    """Split a ";"-separated competency string into ids (stripped, upper case, no empties, order kept)."""
    if _is_empty(value):
        return []
    return [t.strip().upper() for t in str(value).split(";") if t.strip()]
