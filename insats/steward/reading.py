"""Reading an extract for the steward: the file's bytes (sha256), its rows, header lines repeated inside the
data, which columns the run knows, and where output may go (never beside the raw file or under raw/)."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from insats.tasks.register.readers import ReadResult
from insats.validation import load_suite

REGISTER_KINDS = ("persons", "assistance", "spells", "outcomes")


class UnreadableExtractError(ValueError):
    """The file cannot be read at all (missing, empty, truncated, not that format): exit code 2."""


def sha256_of(path: Path) -> str:
    """sha256 of the file's bytes, read now (not memoised: used to prove the raw file is unchanged)."""
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()


def read_source_checked(path: Path, encoding: str | None = None) -> ReadResult:
    """Read an extract with its source columns, the reader's notes and problems (duplicated column names,
    ambiguous thousands separators); any failure -> ``UnreadableExtractError`` naming the file."""
    from insats.tasks.register.readers import read_extract_checked

    path = Path(path)
    if not path.is_file():
        raise UnreadableExtractError(f"Cannot read {path}: no such file")
    try:
        return read_extract_checked(path, encoding=encoding)
    except ValueError as exc:
        raise UnreadableExtractError(str(exc)) from exc
    except OSError as exc:
        raise UnreadableExtractError(f"Cannot read {path}: {exc}") from exc


def read_source(path: Path, encoding: str | None = None) -> pd.DataFrame:
    """The frame of ``read_source_checked``; a reader's problem makes the file unreadable here."""
    result = read_source_checked(path, encoding)
    if result.problems:
        raise UnreadableExtractError(f"Cannot read {path}: " + "; ".join(p.message for p in result.problems))
    return result.frame


def repeated_header_rows(df: pd.DataFrame) -> np.ndarray:
    """Bool per row: the row repeats the header (at least half the columns, and 2, hold their own name).

    Concatenated exports often carry a second header line inside the data; such a row is not data.
    """
    hits = np.zeros(len(df), dtype=np.int64)
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
            continue
        name = str(col).strip().lower()
        hits += (s.astype("string").str.strip().str.lower() == name).fillna(False).to_numpy(dtype=bool)
    needed = max(2, (df.shape[1] + 1) // 2) if df.shape[1] > 1 else 1
    return hits >= needed


def register_kind(suite: str) -> str | None:
    """``input.persons`` -> ``persons``; None for suites that do not read a register extract."""
    kind = suite.split(".", 1)[1] if suite.startswith("input.") else None
    return kind if kind in REGISTER_KINDS else None


def _suite_columns(suite: str) -> set[str]:
    """Every column a suite names (column, column_list, column_A/B, column_set)."""
    names: set[str] = set()
    for exp in load_suite(suite).get("expectations", []):
        kw = exp.get("kwargs", {})
        names.update(kw[key] for key in ("column", "column_A", "column_B") if isinstance(kw.get(key), str))
        for key in ("column_list", "column_set"):
            if isinstance(kw.get(key), list):
                names.update(map(str, kw[key]))
    return names


def known_columns(suite: str, mapping: dict[str, str] | None) -> set[str]:
    """Lower-cased source column names the run knows: the config mapping, else the suite's columns."""
    names = set(mapping.values()) | set(mapping) if mapping is not None else _suite_columns(suite)
    return {n.strip().lower() for n in names}


def extra_columns(df: pd.DataFrame, suite: str, mapping: dict[str, str] | None) -> list[str]:
    """Source columns that neither the config mapping nor the suite knows (a warning, not a failure)."""
    known = known_columns(suite, mapping)
    if not known:
        return []
    return [str(c) for c in df.columns if str(c).strip().lower() not in known]


def missing_columns(df: pd.DataFrame, mapping: dict[str, str], kind: str) -> list[str]:
    """Canonical columns of ``kind`` whose source column is absent (exact or case-insensitive)."""
    from insats.tasks.register.standardise import CANONICAL_COLUMNS

    present = {str(c).strip().lower() for c in df.columns}
    return [
        f"{canonical} (source column {mapping.get(canonical, canonical)!r})"
        for canonical in CANONICAL_COLUMNS[kind]
        if mapping.get(canonical, canonical).strip().lower() not in present
    ]


def check_clear_ids_dir(directory: Path, config: Any) -> None:
    """Refuse a folder for clear identity numbers inside the project's data tree (``paths.raw``, ``interim``,
    ``processed``, ``reports``): clear ids may only leave to a place the steward chose outside it."""
    target = Path(directory).resolve()
    for setting in ("raw", "interim", "processed", "reports"):
        root = Path(getattr(config.paths, setting)).resolve()
        if target == root or root in target.parents:
            raise ValueError(
                f"Refusing to write clear identity numbers to {directory}: it is under paths.{setting} ({root}), "
                "the project's data tree; give --clear-ids-to a folder outside it"
            )


def check_output_dir(directory: Path, raw_file: Path, raw_root: Path | None) -> None:
    """Refuse output folders beside the raw file or below the configured raw folder."""
    target = Path(directory).resolve()
    beside = target == raw_file.resolve().parent
    root = raw_root.resolve() if raw_root is not None else None
    below = root is not None and (target == root or root in target.parents)
    if beside or below:
        where = "the raw extract's own folder" if beside else f"under the raw-data folder {root}"
        raise ValueError(
            f"Refusing to write to {directory}: it is {where}; give another --out/--quarantine/--docs folder"
        )


def parquet_safe(df: pd.DataFrame) -> pd.DataFrame:
    """Object columns holding mixed types (e.g. text and numbers) become text so Parquet can store them."""
    out = df.copy(deep=False)  # copy-on-write: only the columns converted below are new
    for col in out.columns:
        if out[col].dtype == object:
            kinds = {type(v) for v in out[col].dropna().head(10_000)}
            if len(kinds) > 1:
                out[col] = out[col].astype("string")
    return out
