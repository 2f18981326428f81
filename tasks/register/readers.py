"""Readers for register extracts in the formats municipalities and agencies deliver.

``read_extract`` returns the table with its codes (never value labels) and source column names; renaming
and type parsing happen in ``insats.tasks.register.standardise``. Any problem raises ``ValueError`` naming the
file and the reason, so a pipeline log says which delivery is broken.
"""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

STAT_SUFFIXES = (".sav", ".zsav", ".dta", ".sas7bdat", ".xpt")
SUPPORTED_SUFFIXES = (*STAT_SUFFIXES, ".csv", ".parquet", ".xlsx")

_CSV_ENCODINGS = ("utf-8-sig", "cp1252")  # utf-8-sig also reads plain UTF-8
# Numbers as Swedish Excel writes them: optional sign, thousands separated by space / NBSP, decimal comma.
_NUMBER_COMMA = re.compile(r"^[-+]?\d{1,3}(?:[ \u00a0\u202f]\d{3})*(?:,\d+)?$|^[-+]?\d+(?:,\d+)?$")
_NUMBER_POINT = re.compile(r"^[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$")
_LEADING_ZERO = re.compile(r"^0\d")


def _fail(path: Path, reason: str) -> ValueError:
    return ValueError(f"Cannot read register extract {path.name} ({path}): {reason}")


def _whole_floats_to_int(df: pd.DataFrame) -> pd.DataFrame:
    """Cast float columns whose non-missing values are all whole numbers to nullable ``Int64``.

    Statistical formats store every number as a double; codes such as ``kon`` should come back as
    integers. All-missing columns stay float. (An amount column of whole kronor becomes Int64 too;
    ``standardise`` casts amounts to float.)
    """
    out = df  # freshly read frames only: cast in place, no copy of a 30M-row table
    for col in out.columns:
        s = out[col]
        if not pd.api.types.is_float_dtype(s):
            continue
        values = s.to_numpy(dtype=float, na_value=np.nan)
        finite = values[~np.isnan(values)]
        if finite.size == 0 or not np.all(np.isfinite(finite)):
            continue
        if np.all(finite == np.round(finite)) and np.all(np.abs(finite) < 2**53):
            out[col] = s.astype("Int64")
    return out


def _read_stat(path: Path, encoding: str | None) -> pd.DataFrame:
    suffix = path.suffix.lower()
    readers: dict[str, Callable[..., tuple[pd.DataFrame, object]]] = {
        ".sav": pyreadstat.read_sav,
        ".zsav": pyreadstat.read_sav,
        ".dta": pyreadstat.read_dta,
        ".sas7bdat": pyreadstat.read_sas7bdat,
        ".xpt": pyreadstat.read_xport,
    }
    kwargs: dict[str, object] = {"dates_as_pandas_datetime": True}
    if encoding is not None:
        kwargs["encoding"] = encoding
    if suffix in (".sav", ".zsav", ".dta"):
        kwargs["apply_value_formats"] = False
    df, _ = readers[suffix](str(path), **kwargs)
    # Display formats are no guide (pyreadstat writes every number as F8.2), so decide by the values.
    return _whole_floats_to_int(df)


def _decode(raw: bytes, path: Path, encoding: str | None) -> str:
    if encoding is not None:
        try:
            return raw.decode(encoding)
        except (UnicodeDecodeError, LookupError) as exc:
            raise _fail(path, f"not readable as {encoding}: {exc}") from exc
    for enc in _CSV_ENCODINGS:
        try:
            return raw.decode(enc)
        except UnicodeDecodeError:
            continue
    raise _fail(path, "neither UTF-8 nor cp1252 text")  # pragma: no cover - cp1252 decodes almost anything


def _sniff_delimiter(text: str) -> str:
    """Pick ``,``, ``;`` or tab from the first lines (csv.Sniffer, else the most frequent in the header)."""
    sample = "\n".join(text.splitlines()[:50])
    try:
        return csv.Sniffer().sniff(sample, delimiters=",;\t").delimiter
    except csv.Error:
        header = sample.splitlines()[0] if sample else ""
        counts = {d: header.count(d) for d in (";", "\t", ",")}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] > 0 else ","


def _infer_csv_column(s: pd.Series, decimal_comma: bool) -> pd.Series:
    """Parse a column read as text into Int64 / float64 when every non-empty value is a number.

    Values with a leading zero (``0484``, 10-digit personnummer of people born in the 2000s) keep the
    column as text, so codes and identity numbers are never mangled.
    """
    text = s.dropna().astype(str).str.strip()
    text = text[text != ""]
    if text.empty or text.str.match(_LEADING_ZERO).any():
        return s
    if text.str.fullmatch(_NUMBER_POINT).all():
        cleaned = s.astype(str).str.strip()
    elif decimal_comma and text.str.fullmatch(_NUMBER_COMMA).all():
        cleaned = s.astype(str).str.strip().str.replace(r"[ \u00a0\u202f]", "", regex=True)
        cleaned = cleaned.str.replace(",", ".", regex=False)
    else:
        return s
    numbers = pd.to_numeric(cleaned.where(s.notna() & (cleaned != ""), None), errors="coerce")
    return _whole_floats_to_int(numbers.to_frame("x"))["x"].rename(s.name)


def _read_csv(path: Path, encoding: str | None) -> pd.DataFrame:
    text = _decode(path.read_bytes(), path, encoding)
    if not text.strip():
        raise _fail(path, "the file is empty")
    sep = _sniff_delimiter(text)
    try:
        df = pd.read_csv(io.StringIO(text), sep=sep, dtype=str, keep_default_na=False, na_values=[""])
    except (pd.errors.ParserError, ValueError) as exc:
        raise _fail(path, f"malformed CSV (separator {sep!r}): {exc}") from exc
    df.columns = [str(c).strip() for c in df.columns]
    decimal_comma = sep != ","
    for col in df.columns:
        df[col] = _infer_csv_column(df[col], decimal_comma)
    return df


def _read_xlsx(path: Path) -> pd.DataFrame:
    """First sheet; a title row above the header is skipped (header = first row as wide as the widest)."""
    raw = pd.read_excel(path, header=None, dtype=object, engine="openpyxl")
    if raw.dropna(how="all").empty:
        raise _fail(path, "the first sheet is empty")
    filled = raw.notna().sum(axis=1).to_numpy()
    head = raw.head(20)
    widest = int(filled[: len(head)].max())
    header_row = int(np.flatnonzero(filled[: len(head)] == widest)[0])
    header = [str(v).strip() if pd.notna(v) else f"unnamed_{i}" for i, v in enumerate(raw.iloc[header_row])]
    df = raw.iloc[header_row + 1 :].reset_index(drop=True)
    df.columns = header
    df = df.dropna(how="all")
    df = df.loc[:, [not (c.startswith("unnamed_") and df[c].isna().all()) for c in df.columns]]
    out = df.infer_objects()
    return _whole_floats_to_int(out)


def read_extract(path: Path, encoding: str | None = None) -> pd.DataFrame:
    """Read one register extract into a DataFrame with the source's column names and codes.

    Supported: ``.sav``/``.zsav`` (SPSS), ``.dta`` (Stata), ``.sas7bdat``, ``.xpt`` (SAS), ``.csv``,
    ``.parquet``, ``.xlsx``. Statistical formats: codes are kept (no value labels applied), dates become
    ``datetime64``, float columns whose values are all whole numbers become ``Int64``. CSV: separator
    sniffed among ``,`` ``;`` tab; encoding UTF-8 (with or without BOM) else cp1252 unless ``encoding`` is
    given; with ``;``/tab separators a decimal comma (and space thousands separators) is accepted; columns
    with leading-zero values stay text. XLSX: first sheet, title rows above the header skipped.
    ``encoding`` applies to CSV and the statistical formats.

    Raises ``ValueError`` naming the file for an unknown suffix, a missing, empty (no bytes or no rows) or
    unreadable file.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise _fail(
            path, f"unknown file type {suffix or '(no suffix)'!r}; expected one of {', '.join(SUPPORTED_SUFFIXES)}"
        )
    if not path.is_file():
        raise _fail(path, "no such file")
    if path.stat().st_size == 0:
        raise _fail(path, "the file is empty (0 bytes)")
    try:
        if suffix in STAT_SUFFIXES:
            df = _read_stat(path, encoding)
        elif suffix == ".csv":
            df = _read_csv(path, encoding)
        elif suffix == ".parquet":
            df = pd.read_parquet(path)
        else:
            df = _read_xlsx(path)
    except Exception as exc:  # readstat, pyarrow, openpyxl and zipfile all raise their own types
        if isinstance(exc, ValueError) and str(exc).startswith("Cannot read register extract"):
            raise
        raise _fail(path, f"{type(exc).__name__}: {exc}") from exc
    if df.shape[0] == 0:
        raise _fail(path, "the table has no rows")
    return df


def read_value_labels(path: Path) -> dict[str, dict]:
    """Value labels of a ``.sav``/``.zsav``/``.dta`` file: ``{column: {code: label}}``.

    Whole-number codes come back as ``int``. Formats without embedded value labels (CSV, Parquet, XLSX,
    SAS) give ``{}``. Unknown suffix or unreadable file -> ``ValueError`` naming the file.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in SUPPORTED_SUFFIXES:
        raise _fail(path, f"unknown file type {suffix or '(no suffix)'!r}")
    if suffix not in (".sav", ".zsav", ".dta"):
        return {}
    if not path.is_file() or path.stat().st_size == 0:
        raise _fail(path, "no such file or the file is empty")
    reader = pyreadstat.read_dta if suffix == ".dta" else pyreadstat.read_sav
    try:
        _, meta = reader(str(path), metadataonly=True)
    except (pyreadstat.ReadstatError, OSError) as exc:
        raise _fail(path, f"{type(exc).__name__}: {exc}") from exc
    labels: dict[str, dict] = {}
    for col, mapping in (meta.variable_value_labels or {}).items():
        labels[col] = {(int(k) if isinstance(k, float) and k.is_integer() else k): v for k, v in mapping.items()}
    return labels
