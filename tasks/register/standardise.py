"""Rename a register extract's source columns to canonical names and parse their types.

Canonical tables (one per ``kind``; identity numbers are still in clear, ``insats.tasks.register.pseudonymise``
replaces them next):

* ``persons``: personnummer (str), sex (Int64 1 man / 2 woman), birth_year (Int64), born_abroad
  (Int64 0/1), education (Int64 1 compulsory / 2 upper secondary / 3 post-secondary), household_type
  (Int64 1..4: single without / with children, couple without / with children), municipality (str, 4
  digits, zero-padded).
* ``assistance``: personnummer, household_id (str), month (datetime64, first of month), amount (float SEK).
* ``spells``: personnummer, intervention_id (str), start_date, end_date (datetime64; end NaT = ongoing).
* ``outcomes``: personnummer, month (datetime64, first of month), employed (Int64 0/1), studying (Int64 0/1).

Codes may be missing (``<NA>``) except in key columns (personnummer, month, intervention_id, start_date).
This module only PARSES: a value that cannot be read as its type (text in a code column, an unparseable
month or date) raises ``ValueError`` naming the source file, the column (canonical and source name) and the
first offending rows. Whether a readable value is allowed (code lists, ranges, end on or after start) is
the input contract's business: the ``input.<kind>`` suites in ``schemas/``, so there is one place for it.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

import numpy as np
import pandas as pd

from insats.tasks.register.pseudonymise import normalise_identity_numbers

DEFAULT_COLUMNS: dict[str, dict[str, str]] = {
    "persons": {
        "personnummer": "personnummer",
        "sex": "kon",
        "birth_year": "fodelsear",
        "born_abroad": "utrikes_fodd",
        "education": "utbildning",
        "household_type": "hushallstyp",
        "municipality": "kommunkod",
    },
    "assistance": {
        "personnummer": "personnummer",
        "household_id": "hushall_id",
        "month": "manad",
        "amount": "belopp",
    },
    "spells": {
        "personnummer": "personnummer",
        "intervention_id": "insats_id",
        "start_date": "startdatum",
        "end_date": "slutdatum",
    },
    "outcomes": {
        "personnummer": "personnummer",
        "month": "manad",
        "employed": "sysselsatt",
        "studying": "studerar",
    },
}

CANONICAL_COLUMNS: dict[str, tuple[str, ...]] = {k: tuple(v) for k, v in DEFAULT_COLUMNS.items()}

_WHOLE_NUMBERS = ("sex", "born_abroad", "education", "household_type", "employed", "studying", "birth_year")
_KEYS = ("personnummer", "month", "intervention_id", "start_date")
_MAX_SHOWN = 5
DATETIME_DTYPE = "datetime64[ns]"


class _Column:
    """Context for error messages: canonical name, source column name, file."""

    def __init__(self, canonical: str, source_col: str, source: str) -> None:
        self.canonical, self.source_col, self.source = canonical, source_col, source

    def error(self, expected: str, original: pd.Series, bad: np.ndarray) -> ValueError:
        """ValueError listing the first offending rows (1-based data rows, header excluded)."""
        idx = np.flatnonzero(bad)
        values = original.iloc[idx[:_MAX_SHOWN]].tolist()  # plain Python values for a readable repr
        rows = ", ".join(f"{int(i) + 1} ({v!r})" for i, v in zip(idx[:_MAX_SHOWN], values, strict=True))
        more = f" and {idx.size - _MAX_SHOWN} more" if idx.size > _MAX_SHOWN else ""
        return ValueError(
            f"{self.source}: column {self.canonical!r} (source column {self.source_col!r}): expected "
            f"{expected}; bad value(s) in data row(s) {rows}{more}"
        )


# A parser takes the DISTINCT values of a column and returns (parsed values, bad mask) for them.
Parser = Callable[[pd.Series], tuple[pd.Series, np.ndarray]]


def _on_uniques(s: pd.Series, parse: Parser) -> tuple[pd.Series, np.ndarray]:
    """Run ``parse`` on the distinct non-missing values of ``s`` and broadcast back to the rows.

    Months, ids and dates repeat a lot (30M person-months hold a few dozen months), so this turns
    string parsing of a whole column into parsing of its distinct values. Returns the parsed column
    (missing where ``s`` is missing) and a row mask of bad values.
    """
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    parsed_u, bad_u = parse(pd.Series(uniques))
    parsed_u = parsed_u.reset_index(drop=True)
    # Append one missing value for the NA sentinel (-1 indexes the last element).
    filler = pd.Series([pd.NA if parsed_u.dtype != DATETIME_DTYPE else pd.NaT]).astype(parsed_u.dtype)
    table = pd.concat([parsed_u, filler], ignore_index=True)
    parsed = table.take(codes).set_axis(s.index)
    bad = np.append(np.asarray(bad_u, dtype=bool), False)[codes]
    return parsed, bad


def _as_text(s: pd.Series) -> pd.Series:
    """Text (``string`` dtype) version of a column: whole floats print without ``.0``; blanks -> <NA>."""
    if pd.api.types.is_float_dtype(s):
        values = s.to_numpy(dtype=float, na_value=np.nan)
        finite = values[~np.isnan(values)]
        if np.all(finite == np.round(finite)):
            s = s.astype("Int64")
    out = s.astype("string").str.strip()
    return out.mask(out == "")


def _text_parser(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    return _as_text(s), np.zeros(len(s), dtype=bool)


def _identity_parser(numeric: bool) -> Parser:
    """Identity numbers as text; a numeric column lost the leading zero of 10-digit numbers: pad to 10.

    A valid number is normalised to its 12-digit form (``normalise_identity_number``), so ``19850612-1234``
    and ``8506121234`` are the same person for uniqueness checks; an invalid one is kept as written, for the
    suite's identity-number check to flag. ``pseudonymise`` never echoes a clear number in its errors."""

    def parse(u: pd.Series) -> tuple[pd.Series, np.ndarray]:
        text = _as_text(u)
        if numeric:
            text = text.where(text.str.len() > 10, text.str.zfill(10))
        valid = pd.Series(normalise_identity_numbers(text.fillna("").tolist()), index=text.index, dtype="string")
        return valid.fillna(text), np.zeros(len(u), dtype=bool)

    return parse


def _parse_whole(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Whole numbers (codes, years) as Int64; flags values that are not whole numbers."""
    numbers = pd.to_numeric(_as_text(s), errors="coerce") if not pd.api.types.is_numeric_dtype(s) else s
    values = numbers.to_numpy(dtype=float, na_value=np.nan)
    present = ~np.asarray(pd.isna(s))
    ok = ~np.isnan(values) & (values == np.round(values))
    return pd.Series(np.where(ok, values, np.nan), index=s.index).astype("Int64"), present & ~ok


def _parse_amount(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        values = s.astype("float64")
        return values, np.zeros(len(s), dtype=bool)
    text = _as_text(s)
    numbers = pd.to_numeric(text, errors="coerce").astype("float64")
    rest = (numbers.isna() & text.notna()).to_numpy()
    if rest.any():  # decimal commas, space thousands separators: cleaned only where plain parsing failed
        cleaned = text[rest].str.replace(r"[ \u00a0\u202f]", "", regex=True).str.replace(",", ".", regex=False)
        numbers[rest] = pd.to_numeric(cleaned, errors="coerce").astype("float64").to_numpy()
    return numbers, (numbers.isna() & text.notna()).to_numpy()


def _parse_municipality(u: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Zero-pad numeric codes that lost their leading zero (484 -> '0484'); the suite checks the format."""
    text = _as_text(u)
    digits = text.str.fullmatch(r"\d{1,4}").fillna(False)
    return text.where(~digits, text.str.zfill(4)), np.zeros(len(u), dtype=bool)


def _is_date_objects(u: pd.Series) -> bool:
    """True for an object column of ``date``/``datetime`` values (pyreadstat without conversion)."""
    return u.dtype == object and len(u) > 0 and bool(u.map(lambda v: hasattr(v, "year")).all())


def _parse_by_patterns(u: pd.Series, patterns: tuple[tuple[str, str], ...]) -> tuple[pd.Series, np.ndarray]:
    text = _as_text(u)
    out = pd.Series(pd.NaT, index=u.index, dtype=DATETIME_DTYPE)
    for pattern, fmt in patterns:
        hit = text.str.fullmatch(pattern).fillna(False).to_numpy(dtype=bool)
        if hit.any():
            parsed = pd.to_datetime(text[hit], format=fmt, errors="coerce").astype(DATETIME_DTYPE)
            out.iloc[np.flatnonzero(hit)] = parsed.to_numpy()
    return out, (out.isna() & text.notna()).to_numpy()


def _month_parser(u: pd.Series) -> tuple[pd.Series, np.ndarray]:
    if _is_date_objects(u):
        dates = pd.to_datetime(u, errors="coerce").astype(DATETIME_DTYPE)
        bad = (dates.isna() & u.notna()).to_numpy()
    else:
        patterns = (
            (r"\d{6}", "%Y%m"),
            (r"\d{4}-\d{1,2}", "%Y-%m"),
            (r"\d{4}-\d{2}-\d{2}", "%Y-%m-%d"),
            (r"\d{8}", "%Y%m%d"),
            (r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}", "%Y-%m-%d %H:%M:%S"),
        )
        dates, bad = _parse_by_patterns(u, patterns)
    return dates.dt.to_period("M").dt.to_timestamp().astype(DATETIME_DTYPE), bad


def _date_parser(u: pd.Series) -> tuple[pd.Series, np.ndarray]:
    if _is_date_objects(u):
        dates = pd.to_datetime(u, errors="coerce").dt.normalize().astype(DATETIME_DTYPE)
        return dates, (dates.isna() & u.notna()).to_numpy()
    patterns = (
        (r"\d{4}-\d{2}-\d{2}", "%Y-%m-%d"),
        (r"\d{8}", "%Y%m%d"),
        (r"\d{4}-\d{2}-\d{2}[ T]\d{2}:\d{2}:\d{2}", "%Y-%m-%d %H:%M:%S"),
    )
    dates, bad = _parse_by_patterns(u, patterns)
    return dates.dt.normalize(), bad


def _parse_month(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    """Months as YYYYMM numbers (arithmetic, fast), or text/dates via the distinct values."""
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.dt.to_period("M").dt.to_timestamp().astype(DATETIME_DTYPE), np.zeros(len(s), dtype=bool)
    if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_bool_dtype(s):
        # In place where possible: a 30M-row column is 240 MB per temporary.
        values = s.to_numpy(dtype=float, na_value=np.nan)
        year = np.floor_divide(values, 100)
        month = values - 100 * year  # == np.mod(values, 100), floor semantics
        ok = (values == np.round(values)) & (year >= 1800) & (year <= 2200) & (month >= 1) & (month <= 12)
        bad = ~np.isnan(values) & ~ok
        del values
        year -= 1970
        year *= 12
        year += month
        year -= 1  # months since 1970-01
        del month
        year[~ok] = 0
        months = year.astype(np.int64).view("datetime64[M]").astype(DATETIME_DTYPE)
        del year
        months[~ok] = np.datetime64("NaT")
        return pd.Series(months, index=s.index, copy=False), bad
    return _on_uniques(s, _month_parser)


EXCEL_EPOCH = pd.Timestamp("1899-12-30")  # Excel's day 0 (it counts 1900-02-29, so day 60 onward is right)
EXCEL_SERIALS = (1, 99_999)  # 1900-01-01 .. 2173-10-14; an 8-digit YYYYMMDD number is far above


def _parse_date(s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    if pd.api.types.is_datetime64_any_dtype(s):
        return s.dt.normalize().astype(DATETIME_DTYPE), np.zeros(len(s), dtype=bool)
    numbers = pd.to_numeric(s, errors="coerce") if s.dtype == object else s
    if pd.api.types.is_numeric_dtype(numbers) and not pd.api.types.is_bool_dtype(numbers):
        # Blank end dates are <NA> in a nullable column: a comparison with them is <NA>, not False.
        serial = (numbers.between(*EXCEL_SERIALS) & (numbers == numbers.round())).fillna(False).astype(bool)
        if serial.any():  # Excel date serials, as date cells exported to CSV or read without formats
            out = pd.Series(pd.NaT, index=s.index, dtype=DATETIME_DTYPE)
            out[serial] = EXCEL_EPOCH + pd.to_timedelta(numbers[serial].astype("float64"), unit="D")
            rest, bad = _parse_date(s[~serial]) if (~serial).any() else (out[~serial], np.zeros(0, dtype=bool))
            out[~serial] = rest
            flags = np.zeros(len(s), dtype=bool)
            flags[np.flatnonzero(~serial.to_numpy())] = bad
            return out, flags
        if s.dtype != object:
            s = _as_text(s)  # YYYYMMDD stored as a number
    return _on_uniques(s, _date_parser)


_EXPECTED = {
    **{name: "a whole number (a code)" for name in _WHOLE_NUMBERS},
    "birth_year": "a year as a whole number",
    "month": "a month as YYYYMM, YYYY-MM or a date",
    "start_date": "a date as YYYY-MM-DD, YYYYMMDD or an Excel date serial",
    "end_date": "a date as YYYY-MM-DD, YYYYMMDD or an Excel date serial",
    "amount": "an amount in SEK (number, decimal point or comma)",
}


def _parse_column(canonical: str, s: pd.Series) -> tuple[pd.Series, np.ndarray]:
    if canonical == "personnummer":
        return _on_uniques(s, _identity_parser(pd.api.types.is_numeric_dtype(s)))
    if canonical in _WHOLE_NUMBERS:
        return _parse_whole(s)
    if canonical == "municipality":
        return _on_uniques(s, _parse_municipality)
    if canonical == "month":
        return _parse_month(s)
    if canonical in ("start_date", "end_date"):
        return _parse_date(s)
    if canonical == "amount":
        return _parse_amount(s)
    return _on_uniques(s, _text_parser)  # household_id, intervention_id


def _resolve_columns(df: pd.DataFrame, kind: str, columns: Mapping[str, str], source: str) -> dict[str, str]:
    """canonical -> actual column in ``df`` (exact name, else a unique case-insensitive match)."""
    lower: dict[str, list[str]] = {}
    for c in df.columns:
        lower.setdefault(str(c).strip().lower(), []).append(c)
    found: dict[str, str] = {}
    missing: list[str] = []
    for canonical in CANONICAL_COLUMNS[kind]:
        wanted = columns.get(canonical, canonical)
        if wanted in df.columns:
            found[canonical] = wanted
        elif len(lower.get(wanted.strip().lower(), [])) == 1:
            found[canonical] = lower[wanted.strip().lower()][0]
        else:
            missing.append(f"{canonical} (source column {wanted!r})")
    if missing:
        raise ValueError(
            f"{source}: the {kind} extract lacks required column(s): {', '.join(missing)}. "
            f"Columns present: {', '.join(map(str, df.columns))}. Map them in the site config "
            f"(register.columns.{kind})."
        )
    return found


def standardise_checked(
    df: pd.DataFrame, kind: str, columns: dict[str, str], source: str, consume: bool = False
) -> tuple[pd.DataFrame, list[tuple[str, np.ndarray]]]:
    """Like ``standardise``, but a value that cannot be parsed (or a missing key value) does not raise: it
    is returned as a problem ``(message naming column and first rows, bool row mask)``, one per column, and
    the value is left missing in the frame. Missing columns and an unknown ``kind`` still raise ``ValueError``.
    ``consume``: each source column is removed from ``df`` (in place) once parsed, so the frame as read and the
    parsed one are never both whole in memory (30M rows: ~1.5 GB each).
    """
    if kind not in CANONICAL_COLUMNS:
        known = list(CANONICAL_COLUMNS)
        raise ValueError(f"{source}: unknown register kind {kind!r}; expected one of {known}")
    found = _resolve_columns(df, kind, columns, source)
    if consume:
        df.index = pd.RangeIndex(len(df))  # as reset_index(drop=True), in place (no copy of the columns)
    data = df if consume else df.reset_index(drop=True)
    out: dict[str, pd.Series] = {}
    problems: list[tuple[str, np.ndarray]] = []
    uses = list(found.values())
    for canonical, source_col in found.items():
        s = data[source_col]
        uses.remove(source_col)
        if consume and source_col not in uses:  # the last canonical column read from it
            del data[source_col]
        col = _Column(canonical, str(source_col), source)
        parsed, bad = _parse_column(canonical, s)
        if bad.any():
            problems.append((str(col.error(_EXPECTED.get(canonical, "a valid value"), s, bad)), bad))
            parsed = parsed.mask(bad)
        if canonical in _KEYS:
            empty = parsed.isna().to_numpy() & ~bad
            if empty.any():
                problems.append((str(col.error("a value in every row (key column)", s, empty)), empty))
        out[canonical] = parsed
    return pd.DataFrame(out), problems


def standardise(
    df: pd.DataFrame, kind: str, columns: dict[str, str], source: str, consume: bool = False
) -> pd.DataFrame:
    """Return the extract with canonical column names (in canonical order) and parsed types.

    ``columns`` maps canonical -> source column name (a canonical name absent from it is looked up under
    its own name); matching falls back to a unique case-insensitive match. Source columns not mapped are
    dropped. ``source`` (usually the file name) is used in error messages. Row order is kept, the index
    reset to 0..n-1. See the module docstring for canonical types. Missing key values and values that
    cannot be parsed raise ``ValueError`` (the first such column); allowed values are checked by the
    ``input.<kind>`` suites. Months may be YYYYMM (int or text), ``YYYY-MM`` or dates; dates ``YYYY-MM-DD``,
    ``YYYYMMDD``, Excel serials or datetime values. Valid identity numbers are normalised to 12 digits
    (``YYYYMMDDNNNC``), so one person written two ways is one person. String parsing runs on distinct values
    only, so 30M-row outcome tables are cheap. ``consume``: see ``standardise_checked``.
    """
    frame, problems = standardise_checked(df, kind, columns, source, consume=consume)
    if problems:
        raise ValueError(problems[0][0])
    return frame
