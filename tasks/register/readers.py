"""Readers for register extracts in the formats municipalities and agencies deliver.

``read_extract`` returns the table with its codes (never value labels) and source column names; renaming
and type parsing happen in ``insats.tasks.register.standardise``. Any problem raises ``ValueError`` naming the
file and the reason, so a pipeline log says which delivery is broken.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from insats.tasks.register.csvfiles import CsvLayout, read_csv_frame, sniff_layout, thousands_problems

STAT_SUFFIXES = (".sav", ".zsav", ".dta", ".sas7bdat", ".xpt")
SUPPORTED_SUFFIXES = (*STAT_SUFFIXES, ".csv", ".parquet", ".xlsx")

# Numbers as Swedish Excel writes them: optional sign, thousands separated by space / NBSP, decimal comma.
_NUMBER_COMMA = re.compile(r"^[-+]?\d{1,3}(?:[ \u00a0\u202f]\d{3})*(?:,\d+)?$|^[-+]?\d+(?:,\d+)?$")
_NUMBER_POINT = re.compile(r"^[-+]?\d+(?:\.\d+)?(?:[eE][-+]?\d+)?$")
_LEADING_ZERO = re.compile(r"^0\d")
# .sav/.dta files larger than this are read in row ranges of STAT_CHUNK_ROWS rows (pyreadstat's row_offset/
# row_limit): reading a 30M-row file whole holds ~3x the frame in readstat's temporaries.
CHUNKED_READ_BYTES = 64 * 2**20
STAT_CHUNK_ROWS = 2_000_000


@dataclass(frozen=True)
class ReadProblem:
    """Something that makes the extract unfit as read: a message, and the 0-based data rows it concerns
    (None: the whole file, e.g. a duplicated column name)."""

    message: str
    rows: np.ndarray | None = None


@dataclass
class ReadResult:
    """An extract as read: the frame, warnings (the encoding was guessed), notices (title rows skipped),
    problems (duplicated column names, ambiguous thousands separators) and, for a CSV, its layout."""

    frame: pd.DataFrame
    warnings: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    problems: list[ReadProblem] = field(default_factory=list)
    layout: CsvLayout | None = None


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


def _read_stat_in_ranges(
    reader: Callable[..., tuple[pd.DataFrame, object]], path: Path, n_rows: int, kwargs: dict[str, object]
) -> pd.DataFrame:
    """The file read ``STAT_CHUNK_ROWS`` rows at a time (pyreadstat's ``row_offset``/``row_limit``): readstat's
    temporaries stay one chunk large, numeric and date columns are filled into arrays of the final length
    (no second copy of the table at the end), text columns (Arrow-backed) are concatenated without copying."""
    filled: dict[str, np.ndarray] = {}
    pieces: dict[str, list[pd.Series]] = {}
    columns: list[str] = []
    done = 0
    for start in range(0, n_rows, STAT_CHUNK_ROWS):
        chunk, _ = reader(str(path), row_offset=start, row_limit=STAT_CHUNK_ROWS, **kwargs)
        columns = columns or list(chunk.columns)
        if len(chunk) == 0 or done + len(chunk) > n_rows:
            break
        for col in columns:
            values = chunk[col]
            if col not in pieces and isinstance(values.dtype, np.dtype) and values.dtype.kind in "fiuM":
                if col not in filled:
                    filled[col] = np.empty(n_rows, dtype=values.dtype)
                if filled[col].dtype == values.dtype:
                    filled[col][done : done + len(values)] = values.to_numpy()
                    continue
                pieces[col] = [pd.Series(filled.pop(col)[:done])]  # the type changed: collect pieces instead
            pieces.setdefault(col, []).append(values)
        done += len(chunk)
    if done != n_rows:
        raise ValueError(f"read {done} rows in row ranges where the file header promises {n_rows}")
    out = {col: filled[col] if col in filled else pd.concat(pieces[col], ignore_index=True) for col in columns}
    return pd.DataFrame(out, copy=False)


_STAT_READERS: dict[str, Callable[..., tuple[pd.DataFrame, object]]] = {
    ".sav": pyreadstat.read_sav,
    ".zsav": pyreadstat.read_sav,
    ".dta": pyreadstat.read_dta,
    ".sas7bdat": pyreadstat.read_sas7bdat,
    ".xpt": pyreadstat.read_xport,
}


def _stat_kwargs(suffix: str, encoding: str | None) -> dict[str, object]:
    kwargs: dict[str, object] = {"dates_as_pandas_datetime": True}
    if encoding is not None:
        kwargs["encoding"] = encoding
    if suffix in (".sav", ".zsav", ".dta"):
        kwargs["apply_value_formats"] = False
    return kwargs


def _large_stat_rows(path: Path, reader: Callable[..., tuple[pd.DataFrame, object]], kwargs: dict) -> int | None:
    """The row count of a .sav/.zsav/.dta file read in row ranges (over ``CHUNKED_READ_BYTES`` and more than
    ``STAT_CHUNK_ROWS`` rows, from the file's header), else None."""
    if path.suffix.lower() not in (".sav", ".zsav", ".dta") or path.stat().st_size <= CHUNKED_READ_BYTES:
        return None
    n_rows = reader(str(path), metadataonly=True, **kwargs)[1].number_rows
    return n_rows if n_rows and n_rows > STAT_CHUNK_ROWS else None


def large_stat_rows(path: Path, encoding: str | None = None) -> int | None:
    """Rows of an extract that is read in row ranges (see ``_large_stat_rows``), else None; ``ValueError``
    naming the file if its header cannot be read."""
    path = Path(path)
    reader = _STAT_READERS.get(path.suffix.lower())
    if reader is None or not path.is_file():
        return None
    try:
        return _large_stat_rows(path, reader, _stat_kwargs(path.suffix.lower(), encoding))
    except Exception as exc:  # readstat raises its own types
        raise _fail(path, f"{type(exc).__name__}: {exc}") from exc


def iter_stat_chunks(path: Path, n_rows: int, encoding: str | None = None) -> Iterator[pd.DataFrame]:
    """The ``n_rows`` rows of a .sav/.zsav/.dta file, ``STAT_CHUNK_ROWS`` at a time, each chunk as
    ``read_extract`` reads a file (codes, dates, whole-number float columns as ``Int64``, decided per chunk),
    with a 0..k-1 index. ``ValueError`` naming the file if a range cannot be read or the rows fall short."""
    path = Path(path)
    reader, kwargs = _STAT_READERS[path.suffix.lower()], _stat_kwargs(path.suffix.lower(), encoding)
    for start in range(0, n_rows, STAT_CHUNK_ROWS):
        try:
            chunk, _ = reader(str(path), row_offset=start, row_limit=min(STAT_CHUNK_ROWS, n_rows - start), **kwargs)
        except Exception as exc:  # readstat raises its own types
            raise _fail(path, f"{type(exc).__name__}: {exc}") from exc
        if len(chunk) != min(STAT_CHUNK_ROWS, n_rows - start):
            raise _fail(path, f"read {start + len(chunk)} rows in row ranges where the file header promises {n_rows}")
        yield _whole_floats_to_int(chunk)


def _read_stat(path: Path, encoding: str | None) -> pd.DataFrame:
    suffix = path.suffix.lower()
    kwargs = _stat_kwargs(suffix, encoding)
    reader = _STAT_READERS[suffix]
    n_rows = _large_stat_rows(path, reader, kwargs)
    if not n_rows:
        df, _ = reader(str(path), **kwargs)
    else:
        df = _read_stat_in_ranges(reader, path, n_rows, kwargs)
    # Display formats are no guide (pyreadstat writes every number as F8.2), so decide by the values.
    return _whole_floats_to_int(df)


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


def _read_csv(path: Path, encoding: str | None) -> ReadResult:
    """The CSV with its layout found by ``csvfiles.sniff_layout``: encoding (BOM, else UTF-8, else cp1252 as a
    guess), separator, title rows skipped; duplicated column names and ambiguous thousands separators are
    problems, not silent renames or misreadings."""
    try:
        layout = sniff_layout(path, encoding)
    except ValueError as exc:
        raise _fail(path, str(exc)) from exc
    try:
        df = read_csv_frame(path, layout)
    except ValueError as exc:
        raise _fail(path, str(exc)) from exc
    df.columns = [str(c).strip() for c in df.columns]
    problems = [ReadProblem(p, None) for p in layout.duplicated_problems()]
    problems += [ReadProblem(m, rows) for m, rows in thousands_problems(df, layout.separator)]
    decimal_comma = layout.separator != ","
    for col in df.columns:
        df[col] = _infer_csv_column(df[col], decimal_comma)
    return ReadResult(df, list(layout.warnings), list(layout.notices), problems, layout)


def _read_xlsx(path: Path) -> ReadResult:
    """First sheet; a title row above the header is skipped (header = first row as wide as the widest)."""
    raw = pd.read_excel(path, header=None, dtype=object, engine="openpyxl")
    if raw.dropna(how="all").empty:
        raise _fail(path, "the first sheet is empty")
    filled = raw.notna().sum(axis=1).to_numpy()
    head = raw.head(20)
    widest = int(filled[: len(head)].max())
    header_row = int(np.flatnonzero(filled[: len(head)] == widest)[0])
    header = [str(v).strip() if pd.notna(v) else f"unnamed_{i}" for i, v in enumerate(raw.iloc[header_row])]
    seen: dict[str, list[int]] = {}
    for i, name in enumerate(header, start=1):
        seen.setdefault(name.lower(), []).append(i)
    problems = [
        ReadProblem(f"duplicated column name {header[pos[0] - 1]!r} at header positions {', '.join(map(str, pos))}; "
                    "rename or drop one in the extract")
        for pos in seen.values() if len(pos) > 1
    ]  # fmt: skip
    header = [name if seen[name.lower()][0] == i else f"{name}.{seen[name.lower()].index(i)}"
              for i, name in enumerate(header, start=1)]  # fmt: skip
    notes = [f"{path.name}: skipped {header_row} title row(s) above the header"] if header_row else []
    df = raw.iloc[header_row + 1 :].reset_index(drop=True)
    df.columns = header
    df = df.dropna(how="all")
    df = df.loc[:, [not (c.startswith("unnamed_") and df[c].isna().all()) for c in df.columns]]
    out = df.infer_objects()
    return ReadResult(_whole_floats_to_int(out), [], notes, problems)


def read_extract_checked(path: Path, encoding: str | None = None) -> ReadResult:
    """Read one register extract: the frame (source column names and codes), notes and problems.

    Supported: ``.sav``/``.zsav`` (SPSS), ``.dta`` (Stata), ``.sas7bdat``, ``.xpt`` (SAS), ``.csv``,
    ``.parquet``, ``.xlsx``. Statistical formats: codes are kept (no value labels applied), dates become
    ``datetime64``, float columns whose values are all whole numbers become ``Int64``. CSV: separator
    sniffed among ``,`` ``;`` tab; encoding from the byte-order mark (UTF-8-SIG, UTF-16, UTF-32), else UTF-8,
    else cp1252 (a guess, said in the notes) unless ``encoding`` is given; title rows above the header
    skipped (a note); with ``;``/tab separators a decimal comma (and space thousands separators) is accepted;
    columns with leading-zero values stay text. XLSX: first sheet, title rows above the header skipped.
    ``encoding`` applies to CSV and the statistical formats. Problems: duplicated column names (CSV, XLSX) and
    quoted amounts with comma thousands separators in a comma-separated file.

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
            result = ReadResult(_read_stat(path, encoding))
        elif suffix == ".csv":
            result = _read_csv(path, encoding)
        elif suffix == ".parquet":
            result = ReadResult(pd.read_parquet(path))
        else:
            result = _read_xlsx(path)
    except Exception as exc:  # readstat, pyarrow, openpyxl and zipfile all raise their own types
        if isinstance(exc, ValueError) and str(exc).startswith("Cannot read register extract"):
            raise
        raise _fail(path, f"{type(exc).__name__}: {exc}") from exc
    if result.frame.shape[0] == 0:
        raise _fail(path, "the table has no rows")
    return result


def read_extract(path: Path, encoding: str | None = None) -> pd.DataFrame:
    """``read_extract_checked``'s frame; its problems (duplicated column names, ambiguous thousands
    separators) raise ``ValueError`` naming the file, so the pipeline never reads such an extract wrongly."""
    result = read_extract_checked(path, encoding)
    if result.problems:
        raise _fail(Path(path), "; ".join(p.message for p in result.problems))
    return result.frame


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
