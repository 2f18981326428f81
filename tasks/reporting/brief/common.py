"""Helpers shared by the brief's sections: table cells, headers, column checks, counts after disclosure control.

A section returns plain dicts for the template: a table is ``{"header": [str], "rows": [[cell]]}`` where a cell
is ``{"text": str, "col": column name (the HTML data-col), "num": right-aligned}``.
"""

from __future__ import annotations

import base64
from typing import Any

import pandas as pd

from insats.catalog import table_spec
from insats.tasks.disclosure import hidden_column, protect_for_publication
from insats.tasks.reporting.i18n import MISSING, column_label, format_int, hidden_mark

HASH_CHARS = 12


def cell(text: str, column: str, numeric: bool = False) -> dict[str, Any]:
    return {"text": text, "col": column, "num": numeric}


def header(columns: list[str], lang: str) -> list[str]:
    return [column_label(c, lang) for c in columns]


def require(df: pd.DataFrame, cols: tuple[str, ...], what: str) -> None:
    """Raise ValueError naming the table ``what`` when ``df`` lacks any of ``cols``."""
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(
            f"brief: table '{what}' lacks column(s) {', '.join(missing)}; found {', '.join(map(str, df.columns))}"
        )


def complete_if_empty(df: pd.DataFrame, study: str, table: str) -> pd.DataFrame:
    """An empty table gets every column of its suite (``schemas/<study>.<table>.json``, via
    :mod:`insats.catalog`) so that its section renders "no data"; a non-empty table is returned as is."""
    if len(df) > 0:
        return df
    out = df.copy()
    for col in table_spec(study, table).columns:
        if col not in out.columns:
            out[col] = pd.Series(dtype=float)
    return out


def protect(df: pd.DataFrame, study: str, table: str, threshold: int, derived: dict[str, list[str]]) -> pd.DataFrame:
    """Disclosure control for a published table before it is shown: its suite's count columns and the
    ``derived`` columns computed from them (:func:`insats.tasks.disclosure.protect_for_publication`)."""
    counts = table_spec(study, table).count_columns
    return protect_for_publication(df, threshold, counts, derived, table=f"{study}.{table}")


def count_text(rec: dict[str, Any], column: str, threshold: int, lang: str) -> str:
    """A person count after disclosure control: hidden -> "..", missing -> en dash, else the number."""
    if rec.get(hidden_column(column)):
        return hidden_mark(lang)
    return format_int(rec[column], lang)


def data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def present(value: Any) -> bool:
    return value is not None and value is not pd.NA and not (not isinstance(value, str) and pd.isna(value))


def short_hash(value: Any) -> str:
    return str(value)[:HASH_CHARS] if present(value) and str(value) != "" else MISSING


def text(value: Any) -> str:
    return str(value) if present(value) and str(value) != "" else MISSING


def code_labels(profile: pd.DataFrame | None, lang: str) -> dict[str, str]:
    """Competency code -> label in ``lang`` from the demand profile (empty without one)."""
    col = "label" if lang == "sv" else "label_en"
    if profile is None or col not in profile.columns or "code_id" not in profile.columns:
        return {}
    return {str(c): str(v) for c, v in zip(profile["code_id"], profile[col], strict=True) if not pd.isna(v)}
