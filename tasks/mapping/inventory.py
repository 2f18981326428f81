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
Files are read by :mod:`insats.tasks.mapping.sheet`; each row is checked by the pydantic model
:class:`InventoryRow`, and every problem is raised at once (``InventoryError``, config setting
``intervention_mapping.inventory``).
"""

from __future__ import annotations

import re
import unicodedata
from datetime import date, datetime
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from insats.errors import InputError, Problem, by_row, validate_rows
from insats.tasks.mapping.sheet import _is_empty, read_inventory

__all__ = [
    "INVENTORY_COLUMNS", "METHOD_FAMILIES", "PROVIDERS", "InventoryError", "InventoryRow", "check_inventory",
    "ongoing_mask", "parse_inventory_date", "read_inventory", "split_competencies",
]  # fmt: skip

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

SETTING = "intervention_mapping.inventory"
_EXCEL_EPOCH = pd.Timestamp("1899-12-30")


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


class InventoryError(InputError):
    """An inventory (or survey) that cannot be used: one problem per line, ``row <n>, column '<col>': ...``."""

    bullet = ""


def _coded(value: Any, allowed: tuple[str, ...]) -> str:
    raw = _text(value)
    if raw is None:
        raise ValueError(f"value is missing; allowed values: {', '.join(allowed)}")
    if _fold(raw) not in allowed:
        raise ValueError(f"unknown value {raw!r}; allowed values: {', '.join(allowed)}")
    return _fold(raw)


def _required_text(value: Any) -> str:
    text = _text(value)
    if text is None:
        raise ValueError("value is missing")
    return text


class InventoryRow(BaseModel):
    """One inventory row, typed; field validators give the messages (context ``known``: competency ids).

    ``end_date`` comes before ``start_date`` so that the start's check can compare with the end."""

    model_config = ConfigDict(extra="ignore")

    intervention_id: str
    name: str
    provider: str
    method_family: str
    target_group: str | None = None
    end_date: Any = None
    start_date: Any = None
    capacity: int | None = None
    competencies: str = ""

    _required = field_validator("intervention_id", "name", mode="before")(lambda v: _required_text(v))
    _optional = field_validator("target_group", mode="before")(lambda v: _text(v))
    _provider = field_validator("provider", mode="before")(lambda v: _coded(v, PROVIDERS))
    _family = field_validator("method_family", mode="before")(lambda v: _coded(v, METHOD_FAMILIES))
    _end = field_validator("end_date", mode="before")(lambda v: parse_inventory_date(v))
    _capacity = field_validator("capacity", mode="before")(lambda v: _parse_capacity(v))

    @field_validator("start_date", mode="before")
    @classmethod
    def _start(cls, value: Any, info: ValidationInfo) -> pd.Timestamp:
        start = parse_inventory_date(value)
        if start is None:
            raise ValueError("value is missing; expected a date YYYY-MM-DD")
        end = info.data.get("end_date")
        if end is not None and start > end:
            raise ValueError(f"start_date {start.date()} is after end_date {end.date()}")
        return start

    @field_validator("competencies", mode="before")
    @classmethod
    def _competencies(cls, value: Any, info: ValidationInfo) -> str:
        known = (info.context or {}).get("known")
        codes = list(dict.fromkeys(t.strip().upper() for t in (_text(value) or "").split(";") if t.strip()))
        unknown = [c for c in codes if known is not None and c not in known]
        if unknown:
            ids = ", ".join(repr(c) for c in unknown)
            raise ValueError(
                f"unknown competency id{'s' if len(unknown) > 1 else ''} {ids} (separate ids with ';'); "
                f"allowed values: {', '.join(sorted(known))}"
            )
        return ";".join(codes)


def _duplicate_ids(df: pd.DataFrame, row_numbers: list[int]) -> list[Problem]:
    first_seen: dict[str, int] = {}
    problems = []
    for row, value in zip(row_numbers, df["intervention_id"], strict=True):
        iid = _text(value)
        if iid is not None and iid in first_seen:
            problems.append(
                Problem(
                    f"row {row}, column 'intervention_id': duplicate value {iid!r} (first in row {first_seen[iid]})"
                )
            )
        elif iid is not None:
            first_seen[iid] = row
    return problems


def _header_problems(df: pd.DataFrame, source: str, header_row: int) -> None:
    missing = [c for c in REQUIRED_COLUMNS if c not in df.columns]
    if missing:
        raise InventoryError(
            f"missing required column(s) {', '.join(missing)} in the header (row {header_row}); "
            f"required: {', '.join(REQUIRED_COLUMNS)}; found: {', '.join(map(str, df.columns))}",
            file=source,
            setting=SETTING,
        )


def check_inventory(df: pd.DataFrame, source: str, known_codes: set[str] | None = None) -> pd.DataFrame:
    """Validate and type a raw inventory (from :func:`read_inventory` or built in memory).

    Column names are matched case-insensitively. Returns a new frame with the columns of
    :data:`INVENTORY_COLUMNS` first (typed as described in the module docstring), then any extra columns
    unchanged, with a fresh RangeIndex and the input row order. ``provider`` and ``method_family`` are
    matched ignoring case and Swedish accents (``Arbetsförmedlingen`` -> ``arbetsformedlingen``).
    ``known_codes`` is the set of codebook ids that competencies may use; None skips that check.

    Each row is checked by the pydantic model :class:`InventoryRow`. Raises one ``InventoryError`` (a ValueError)
    naming ``source`` and listing every problem as ``row <n>, column '<col>': <what is wrong>; allowed
    values: ...`` for: missing required columns, missing required values, unknown method_family/provider,
    unknown competency ids, duplicate intervention_id, unreadable dates or capacity, and start_date after
    end_date.
    """
    df = df.rename(columns=lambda c: str(c).strip().lower())
    header_row = int(df.attrs.get("header_row", 1))
    _header_problems(df, source, header_row)
    row_numbers = df.attrs.get("row_numbers")
    if row_numbers is None or len(row_numbers) != len(df):
        row_numbers = list(range(header_row + 1, header_row + 1 + len(df)))
    for col in OPTIONAL_COLUMNS:
        if col not in df.columns:
            df[col] = None
    known = {str(c).strip().upper() for c in known_codes} if known_codes is not None else None
    records = df[list(INVENTORY_COLUMNS)].to_dict("records")
    rows, problems = validate_rows(InventoryRow, records, row_numbers, {"known": known})
    problems = by_row(problems + _duplicate_ids(df, row_numbers))
    if problems:
        raise InventoryError(
            f"intervention inventory is not usable (row numbers count the header as row {header_row})",
            problems,
            file=source,
            setting=SETTING,
        )
    result = _typed([r.model_dump() for r in rows])
    for col in (c for c in df.columns if c not in INVENTORY_COLUMNS):
        result[col] = df[col].to_numpy()
    return result


def _typed(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The checked rows as the inventory frame (module docstring's dtypes), in INVENTORY_COLUMNS order."""
    col = {c: [r[c] for r in rows] for c in INVENTORY_COLUMNS}
    return pd.DataFrame(
        {
            "intervention_id": pd.Series(col["intervention_id"], dtype=object).astype(str),
            "name": pd.Series(col["name"], dtype=object).astype(str),
            "provider": pd.Series(col["provider"], dtype=object).astype(str),
            "method_family": pd.Series(col["method_family"], dtype=object).astype(str),
            "target_group": _optional_text(col["target_group"]),
            "start_date": pd.to_datetime(pd.Series(col["start_date"], dtype=object)).astype("datetime64[ns]"),
            "end_date": pd.to_datetime(pd.Series(col["end_date"], dtype=object)).astype("datetime64[ns]"),
            "capacity": pd.array(col["capacity"], dtype="Int64"),
            "competencies": pd.Series(col["competencies"], dtype=object).astype(str),
        }
    )


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
