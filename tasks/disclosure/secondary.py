"""Primary and secondary suppression of a study's published tables, jointly (see :mod:`insats.tasks.disclosure`).

1. Primary: every person count 1..threshold-1 is hidden.
2. Audit (:mod:`insats.tasks.disclosure.audit`): each hidden count's feasible interval given the published
   cells and the declared relations (:mod:`insats.tasks.disclosure.relations`) within and across the tables.
3. Secondary: while some hidden count's interval is narrower than the protection width (default: the
   threshold), hide one more published cell, the cheapest (cost = its count, as τ-ARGUS's default cell-value
   cost; zeros last, since an empty cell is usually known to be empty) among those in a relation where the
   hidden cell is the only unknown (the equation that gives it away), else among the published cells nearest
   to it through relations.
   Cells that repeat one quantity (``same_within``, links) are hidden together. Then audit again.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from insats.tasks.disclosure.audit import Auditor, Interval
from insats.tasks.disclosure.primary import SUPPRESSED_COLUMN
from insats.tasks.disclosure.relations import CellIndex, Relation, TableRules, build_relations

ZERO_COST = 1e9  # hide an empty cell only when nothing else will do


@dataclass
class ControlReport:
    """What disclosure control did to a set of tables (kept in the manifest)."""

    threshold: int
    protection: int
    primary: dict[str, int] = field(default_factory=dict)  # table -> cells hidden by the threshold
    secondary: dict[str, int] = field(default_factory=dict)  # table -> complementary cells hidden
    upstream: dict[str, int] = field(default_factory=dict)  # table -> cells already hidden on arrival
    relations: int = 0
    unprotected: list[str] = field(default_factory=list)  # cells no suppression could protect (should be empty)

    def as_dict(self) -> dict[str, Any]:
        return {
            "applied": True,
            "threshold": self.threshold,
            "protection_width": self.protection,
            "method": "primary threshold rule + secondary suppression audited by linear programming",
            "relations": self.relations,
            "primary_cells": self.primary,
            "secondary_cells": self.secondary,
            "hidden_on_arrival": self.upstream,
            "unprotected": self.unprotected,
        }


def _small(values: np.ndarray, threshold: int) -> np.ndarray:
    return (values >= 1) & (values < threshold)


def _check_counts(frames: Mapping[str, pd.DataFrame], counts: Mapping[str, list[str]]) -> None:
    for table, cols in counts.items():
        df = frames[table]
        for col in cols:
            if col not in df.columns:
                raise ValueError(f"{table}: count column '{col}' not in the table; found {', '.join(df.columns)}")
            num = pd.to_numeric(df[col], errors="coerce")
            bad = df[col].notna() & num.isna()
            if bad.any():
                raise ValueError(f"{table}: count column '{col}', row {int(bad.to_numpy().argmax())}: not a number")
            if (num < 0).any():
                raise ValueError(
                    f"{table}: count column '{col}': negative count in row {int((num < 0).to_numpy().argmax())}"
                )


def _equal_partners(relations: list[Relation]) -> dict[int, set[int]]:
    """Cells that are the same quantity (two-cell equations ``a - b = 0``): hidden together."""
    partners: dict[int, set[int]] = {}
    for rel in relations:
        if rel.kind == "eq" and len(rel.cells) == 2 and sorted(rel.coefs) == [-1.0, 1.0]:
            a, b = rel.cells
            partners.setdefault(a, set()).add(b)
            partners.setdefault(b, set()).add(a)
    return partners


def _close(cells: set[int], partners: dict[int, set[int]]) -> set[int]:
    todo, seen = list(cells), set(cells)
    while todo:
        for p in partners.get(todo.pop(), ()):
            if p not in seen:
                seen.add(p)
                todo.append(p)
    return seen


def _nearest_published(cell: int, by_cell: dict[int, list[Relation]], unknown: np.ndarray) -> set[int]:
    """The published cells closest to ``cell`` through relations: those sharing a relation with it, else
    (when all of those are hidden already) those sharing a relation with its hidden neighbours, and so on."""
    frontier, seen = {cell}, {cell}
    while frontier:
        near = {o for c in frontier for rel in by_cell.get(c, []) for o in rel.cells}
        published = {o for o in near if not unknown[o]}
        if published:
            return published
        frontier = near - seen
        seen |= near
    return set()


def choose_suppressions(
    values: np.ndarray,
    hidden: np.ndarray,
    unknown: np.ndarray,
    relations: list[Relation],
    protection: int,
    max_rounds: int = 500,
) -> tuple[np.ndarray, dict[int, Interval], list[int]]:
    """Secondary suppression over numbered cells.

    ``values``: the counts (NaN where unknown); ``hidden``: cells that must be protected (primary, or hidden
    upstream); ``unknown``: cells the attacker does not see (hidden or missing). Returns the final hidden mask,
    the audited interval of every hidden cell, and the cells that could not be protected (none in practice:
    a failing cell always shares a relation with a published cell, or it would not fail).
    """
    partners = _equal_partners(relations)
    auditor = Auditor(values, relations)
    hidden = hidden.copy()
    hidden[sorted(_close(set(np.flatnonzero(hidden).tolist()), partners))] = True
    unknown = unknown | hidden
    by_cell: dict[int, list[Relation]] = {}
    for rel in relations:
        for c in rel.cells:
            by_cell.setdefault(c, []).append(rel)
    stuck: list[int] = []
    for _ in range(max_rounds):
        intervals = auditor.intervals(unknown, np.flatnonzero(hidden).tolist())
        failing = sorted((c for c, (lo, hi) in intervals.items() if hi - lo < protection and c not in stuck),
                         key=lambda c: intervals[c][1] - intervals[c][0])  # fmt: skip
        if not failing:
            return hidden, intervals, stuck
        added: set[int] = set()
        for cell in failing:
            if any(o in added for rel in by_cell.get(cell, []) for o in rel.cells):
                continue  # a cell added this round may already protect it: audit first
            pinning = [rel for rel in by_cell.get(cell, []) if sum(bool(unknown[o]) for o in rel.cells) == 1]
            candidates = {o for rel in pinning for o in rel.cells if o != cell}  # break the equations that give it
            candidates = candidates or _nearest_published(cell, by_cell, unknown)
            if not candidates:
                stuck.append(cell)
                continue
            best = min(candidates, key=lambda o: (values[o] if values[o] > 0 else ZERO_COST, o))
            added |= _close({best}, partners)
        hidden[sorted(added)] = True
        unknown = unknown | hidden
    raise RuntimeError(f"secondary suppression did not converge in {max_rounds} rounds")


def _blank(series: pd.Series, mask: np.ndarray) -> pd.Series:
    if pd.api.types.is_bool_dtype(series):
        series = series.astype("boolean")
    elif pd.api.types.is_integer_dtype(series):
        series = series.astype("Int64")
    elif pd.api.types.is_float_dtype(series):
        series = series.astype("Float64")
    else:
        series = series.astype(object)
    return series.mask(pd.Series(mask, index=series.index), pd.NA)


def _groups_hit(df: pd.DataFrame, keys: list[str], mask: np.ndarray) -> np.ndarray:
    """Rows whose group (same values on ``keys``) holds a row in ``mask``."""
    if not keys:
        return np.full(len(df), bool(mask.any()))
    labels = df[keys].astype(str).agg("\x1f".join, axis=1).to_numpy()
    return np.isin(labels, labels[mask])


def protect_tables(
    frames: Mapping[str, pd.DataFrame],
    counts: Mapping[str, list[str]],
    rules: Mapping[str, TableRules],
    threshold: int,
    protection: int | None = None,
) -> tuple[dict[str, pd.DataFrame], ControlReport]:
    """Disclosure-controlled copies of a study's tables (name -> frame) and what was done.

    ``counts``: each table's person-count columns; ``rules``: each table's relations (absent: none).
    ``protection`` (default ``threshold``): the narrowest feasible interval an attacker may be left with for a
    hidden count. Hidden counts become <NA> (nullable Int64), so do the ``derived`` columns on their rows; the
    boolean column ``suppressed`` is True on every row with a hidden cell. Idempotent: a protected set of
    tables passes without new primary cells (a count missing on a row flagged ``suppressed`` counts as hidden),
    but relations whose cells are partly hidden cannot be checked and count as equations, so apply it once, to
    the unsuppressed tables.
    """
    if threshold < 1:
        raise ValueError(f"disclosure threshold must be >= 1 (seminar.disclosure_threshold), got {threshold}")
    protection = threshold if protection is None else protection
    counts = {t: [c for c in cols] for t, cols in counts.items() if t in frames and cols}
    _check_counts(frames, counts)
    index = CellIndex(frames, counts)
    relations = build_relations(frames, rules, index)
    primary = _small(np.nan_to_num(index.values, nan=0.0), threshold)
    unknown = np.isnan(index.values) | primary
    hidden, _, stuck = choose_suppressions(index.values, primary | index.upstream, unknown, relations, protection)
    report = ControlReport(threshold=threshold, protection=protection, relations=len(relations))
    report.unprotected = [f"{t} row {p} {c}" for t, p, c in (index.keys[i] for i in stuck)]
    out: dict[str, pd.DataFrame] = {}
    for table, df in frames.items():
        result = df.copy()
        if table not in counts:
            out[table] = result
            continue
        rule = rules.get(table, TableRules())
        row_flag = np.zeros(len(df), dtype=bool)
        n_primary = n_secondary = n_upstream = 0
        for col in counts[table]:
            ids = np.array([index.ids[(table, pos, col)] for pos in range(len(df))], dtype=int)
            mask = hidden[ids] if len(ids) else np.zeros(0, dtype=bool)
            n_primary += int(primary[ids].sum()) if len(ids) else 0
            n_upstream += int(index.upstream[ids].sum()) if len(ids) else 0
            n_secondary += int((mask & ~primary[ids] & ~index.upstream[ids]).sum()) if len(ids) else 0
            row_flag |= mask
            result[col] = (
                pd.to_numeric(df[col], errors="coerce").round().astype("Int64").mask(pd.Series(mask, index=df.index))
            )
            for dcol in rule.derived.get(col, ()):
                if dcol in result.columns:
                    result[dcol] = _blank(result[dcol], mask)
                if dcol in rule.shares and mask.any():  # the whole group's shares would give the denominator
                    group = _groups_hit(df, list(rule.shares[dcol]), mask)
                    result[dcol] = _blank(result[dcol], group)
        if SUPPRESSED_COLUMN in df.columns:
            row_flag |= df[SUPPRESSED_COLUMN].fillna(False).astype(bool).to_numpy()
        result[SUPPRESSED_COLUMN] = row_flag
        report.primary[table], report.secondary[table], report.upstream[table] = n_primary, n_secondary, n_upstream
        out[table] = result
    return out, report
