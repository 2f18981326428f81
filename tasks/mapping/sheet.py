"""Spreadsheets as the inventory and the survey come (CSV or XLSX, a title row above the header tolerated):
raw cells with the spreadsheet row number of each row, so that later errors can point to the right row.

CSV: UTF-8 with or without BOM, cp1252 as a fallback; ``,``, ``;`` or tab separated (sniffed from the header
line). XLSX: the first sheet unless told otherwise. The header is the first row that contains a cell
``intervention_id`` (else the first non-empty row); the first row of the file is row 1.
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path
from typing import Any

import pandas as pd

# How far down a sheet we look for the header row (title rows above it are common in Excel exports).
_HEADER_SEARCH_ROWS = 20


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
