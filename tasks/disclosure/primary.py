"""Primary suppression of small person counts (the first half of :mod:`insats.tasks.disclosure`).

Rule: a count of persons between 1 and ``threshold - 1`` (default 1..4) is not published; it is replaced by a
missing value (<NA>) and so is every statistic derived from it on the same row (shares, means, effect
estimates). A count of 0 is kept: it reveals nothing about an individual. Suppressed rows are flagged in a
boolean column ``suppressed`` so that reports can show a notation (e.g. "<5") and explain it.

Reports apply it where a table leaves for publication: :func:`protect_for_publication`, idempotent on tables
that were already protected (a count missing on a row flagged ``suppressed`` stays hidden). Secondary
suppression (cells that totals or related tables would reveal) is :mod:`insats.tasks.disclosure.secondary`.
"""

from __future__ import annotations

from collections.abc import Iterable

import pandas as pd

DEFAULT_THRESHOLD = 5
SUPPRESSED_COLUMN = "suppressed"


def disclosure_rule_text(lang: str = "en", threshold: int = DEFAULT_THRESHOLD) -> str:
    """The disclosure rule as a sentence for reports, in ``lang`` ("en" or "sv"), for ``threshold``
    (text: ``disclosure.rule`` in the brief's catalogues, ``insats/tasks/reporting/texts/<lang>.yaml``)."""
    from insats.tasks.reporting.i18n import lookup  # texts are data of the reporting package

    return lookup("disclosure", "rule", lang).format(threshold=threshold, max_hidden=threshold - 1)


def _check_columns(df: pd.DataFrame, columns: Iterable[str], what: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: column(s) {', '.join(missing)} not in the table; found {', '.join(df.columns)}")


def _small_mask(values: pd.Series, threshold: int, column: str) -> pd.Series:
    num = pd.to_numeric(values, errors="coerce")
    bad = values.notna() & num.isna()
    if bad.any():
        raise ValueError(
            f"count column '{column}', row {values.index[bad.to_numpy()][0]!r}: not a number ({values[bad].iloc[0]!r})"
        )
    if (num < 0).any():
        raise ValueError(f"count column '{column}': negative count in row {values.index[(num < 0).to_numpy()][0]!r}")
    return ((num >= 1) & (num < threshold)).fillna(False).astype(bool)


def suppress_small_counts(
    df: pd.DataFrame,
    count_columns: list[str],
    threshold: int = DEFAULT_THRESHOLD,
    derived_columns: dict[str, list[str]] | None = None,
) -> pd.DataFrame:
    """Return a copy of ``df`` with person counts 1..threshold-1 replaced by <NA>.

    ``count_columns`` are columns of person counts (they become nullable Int64). ``derived_columns`` maps a
    count column to columns computed from it (shares, means, estimates); those are set missing on the rows
    where that count is suppressed (numeric columns become nullable Float64/Int64, others get <NA>).
    Adds or updates (OR-ed with an existing one) the boolean column ``suppressed``: True on rows where any
    cell was suppressed. ``out.attrs["disclosure"]`` records the threshold, the columns and the number of
    suppressed count cells. Raises ValueError for unknown columns, non-numeric or negative counts.
    """
    if threshold < 1:
        raise ValueError(f"threshold must be >= 1, got {threshold}")
    derived_columns = derived_columns or {}
    _check_columns(df, count_columns, "suppress_small_counts count_columns")
    unknown_keys = [k for k in derived_columns if k not in count_columns]
    if unknown_keys:
        raise ValueError(f"derived_columns keys {unknown_keys} are not among count_columns {count_columns}")
    _check_columns(df, [c for cols in derived_columns.values() for c in cols], "suppress_small_counts derived")

    out = df.copy()
    any_row = pd.Series(False, index=df.index)
    n_cells = 0
    for col in count_columns:
        small = _small_mask(df[col], threshold, col)
        n_cells += int(small.sum())
        any_row |= small
        out[col] = pd.to_numeric(df[col], errors="coerce").round().astype("Int64").mask(small)
        for dcol in derived_columns.get(col, []):
            series = out[dcol]
            if pd.api.types.is_bool_dtype(series):
                series = series.astype("boolean")
            elif pd.api.types.is_integer_dtype(series):
                series = series.astype("Int64")
            elif pd.api.types.is_float_dtype(series):
                series = series.astype("Float64")
            else:
                series = series.astype(object)
            out[dcol] = series.mask(small, pd.NA)
    if SUPPRESSED_COLUMN in out.columns:
        any_row |= out[SUPPRESSED_COLUMN].fillna(False).astype(bool)
    out[SUPPRESSED_COLUMN] = any_row.astype(bool)
    out.attrs["disclosure"] = {
        "threshold": threshold,
        "count_columns": list(count_columns),
        "derived_columns": {k: list(v) for k, v in derived_columns.items()},
        "n_suppressed_cells": n_cells,
    }
    return out


def assert_no_small_counts(
    df: pd.DataFrame,
    count_columns: list[str],
    threshold: int = DEFAULT_THRESHOLD,
    table: str = "table",
) -> None:
    """Raise ValueError if any count column holds a count 1..threshold-1 (missing values pass: they are
    suppressed). The message names ``table``, the column, the row (index label) and the threshold."""
    _check_columns(df, count_columns, table)
    for col in count_columns:
        small = _small_mask(df[col], threshold, col)
        if small.any():
            pos = int(small.to_numpy().nonzero()[0][0])
            raise ValueError(
                f"{table}: column '{col}', row {df.index[pos]!r} has a count of persons "
                f"({df[col].iloc[pos]}) below the disclosure threshold {threshold}; "
                f"{int(small.sum())} such cell(s) in that column. Apply suppress_small_counts first."
            )


HIDDEN_PREFIX = "_hidden_"


def hidden_column(column: str) -> str:
    """Name of the boolean column :func:`protect_for_publication` adds for count column ``column``."""
    return HIDDEN_PREFIX + column


def protect_for_publication(
    df: pd.DataFrame,
    threshold: int,
    count_columns: Iterable[str],
    derived_columns: dict[str, list[str]] | None = None,
    *,
    table: str = "table",
) -> pd.DataFrame:
    """The one disclosure step a table passes where it leaves for publication (the seminar brief's sections
    call it on every table they show, with the configured ``seminar.disclosure_threshold``).

    Applies :func:`suppress_small_counts` to the ``count_columns`` present in ``df`` (a published table's count
    columns come from its suite, :func:`insats.catalog.count_columns`) and their ``derived_columns``, and adds,
    per count column, a boolean column :func:`hidden_column` that tells a hidden count (show ``<threshold``)
    from an unknown one (show a dash): True where the count was suppressed here, or is missing on a row that
    arrived already flagged ``suppressed`` (hidden upstream, possibly at a lower threshold). Derived columns
    of a count that is absent from ``df`` are ignored. Raises ValueError (naming ``table``) for non-numeric
    or negative counts and unknown derived columns.
    """
    counts = [c for c in count_columns if c in df.columns]
    derived = {k: list(v) for k, v in (derived_columns or {}).items() if k in counts and v}
    upstream = (
        df[SUPPRESSED_COLUMN].fillna(False).astype(bool)
        if SUPPRESSED_COLUMN in df.columns
        else pd.Series(False, index=df.index)
    )
    try:
        out = suppress_small_counts(df, counts, threshold, derived_columns=derived)
    except ValueError as exc:
        raise ValueError(f"{table}: {exc}") from exc
    for col in counts:
        out[hidden_column(col)] = (df[col].notna() & out[col].isna()) | (df[col].isna() & upstream)
    return out
