"""Why a row failed: one short human reason per failed row-level expectation, and the row masks from GX's
``unexpected_index_list`` (positions in the validated frame)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from insats.validation import ExpectationOutcome, ValidationReport

MAX_LISTED = 8  # code-list values spelled out in a reason; longer lists are summarised


def _resolve(value: Any, parameters: dict[str, Any]) -> tuple[Any, str | None]:
    if isinstance(value, dict) and "$PARAMETER" in value:
        name = str(value["$PARAMETER"])
        return parameters.get(name, name), name
    return value, None


def _columns_of(kwargs: dict[str, Any]) -> list[str]:
    if kwargs.get("column"):
        return [str(kwargs["column"])]
    if kwargs.get("column_list"):
        return [str(c) for c in kwargs["column_list"]]
    return [str(kwargs[k]) for k in ("column_A", "column_B") if kwargs.get(k)]


def _in_set(col: str, kwargs: dict[str, Any], parameters: dict[str, Any]) -> str:
    values, pname = _resolve(kwargs.get("value_set"), parameters)
    values = list(values) if isinstance(values, list | tuple | set) else values
    if isinstance(values, list) and len(values) > MAX_LISTED:
        label = pname.removeprefix("codelist_") if pname else "allowed values"
        return f"{col} not in code list {label} ({len(values)} codes)"
    return f"{col} not in code list {values}"


def _between(col: str, kwargs: dict[str, Any], parameters: dict[str, Any]) -> str:
    low, _ = _resolve(kwargs.get("min_value"), parameters)
    high, _ = _resolve(kwargs.get("max_value"), parameters)
    return f"{col} outside [{low}, {high}]"


def _pair(col: str, kwargs: dict[str, Any], parameters: dict[str, Any]) -> str:
    cols = _columns_of(kwargs)
    op = ">=" if kwargs.get("or_equal") else ">"
    return f"not {cols[0]} {op} {cols[1]}" if len(cols) == 2 else f"{col} out of order"


_Reason = Callable[[str, dict[str, Any], dict[str, Any]], str]
REASONS: dict[str, _Reason] = {
    "expect_column_values_to_be_in_set": _in_set,
    "expect_column_values_to_not_be_null": lambda col, kw, p: f"{col} is missing",
    "expect_column_values_to_match_regex": lambda col, kw, p: f"{col} does not match {kw.get('regex')}",
    "expect_column_values_to_be_between": _between,
    "expect_column_values_to_be_unique": lambda col, kw, p: f"{col} duplicated",
    "expect_compound_columns_to_be_unique": lambda col, kw, p: f"{col} duplicated",
    "expect_column_pair_values_a_to_be_greater_than_b": _pair,
    "expect_column_values_to_be_valid_swedish_identity_numbers": lambda col, kw, p: (
        f"{col} is not a valid personnummer/samordningsnummer (date part or Luhn check digit)"
    ),
}


def reason_text(expectation: str, kwargs: dict[str, Any], parameters: dict[str, Any]) -> str:
    """A short human reason for a row failing ``expectation`` (e.g. ``sex not in code list [1, 2]``)."""
    col = ", ".join(_columns_of(kwargs)) or "row"
    reason = REASONS.get(expectation)
    return reason(col, kwargs, parameters) if reason else f"{col} fails {expectation}"


def reason_column(expectation: str, kwargs: dict[str, Any], taken: set[str]) -> str:
    """``reason__<expectation>__<columns>``, numbered when taken already (the name is added to ``taken``)."""
    base = f"reason__{expectation}__{'__'.join(_columns_of(kwargs)) or 'row'}"
    name, i = base, 2
    while name in taken:
        name, i = f"{base}__{i}", i + 1
    taken.add(name)
    return name


def table_failures(report: ValidationReport) -> list[ExpectationOutcome]:
    """Failed expectations without rows (row count, column set, aggregates): they fail the whole file."""
    return [o for o in report.failures if o.unexpected_count is None or not o.unexpected_rows]


def _failed_rows(outcome: ExpectationOutcome) -> np.ndarray:
    rows = np.unique(np.asarray(outcome.unexpected_rows, dtype=np.int64))
    if rows.size != outcome.unexpected_count:
        raise RuntimeError(
            f"{outcome.expectation} on {outcome.column}: GX reported {outcome.unexpected_count} unexpected "
            f"values but listed {rows.size} rows; refusing a split that would not reconcile"
        )
    return rows


def row_failures(
    report: ValidationReport, n_rows: int, parameters: dict[str, Any]
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, str]]:
    """Per failed row-level expectation, a bool row mask over the validated frame and its reason.

    Returns ``(any_failed, {reason column: mask}, {reason column: reason text})``. Raises ``RuntimeError``
    when GX did not list every unexpected row (the split would not reconcile).
    """
    configs = [r.get("expectation_config", {}) for r in report.raw.get("results", [])]
    masks: dict[str, np.ndarray] = {}
    texts: dict[str, str] = {}
    taken: set[str] = set()
    any_failed = np.zeros(n_rows, dtype=bool)
    for outcome, cfg in zip(report.outcomes, configs, strict=True):
        if outcome.success or not outcome.unexpected_count or not outcome.unexpected_rows:
            continue
        kwargs = cfg.get("kwargs", {})
        name = reason_column(outcome.expectation, kwargs, taken)
        mask = np.zeros(n_rows, dtype=bool)
        mask[_failed_rows(outcome)] = True
        masks[name] = mask
        texts[name] = reason_text(outcome.expectation, kwargs, parameters)
        any_failed |= mask
    return any_failed, masks, texts
