"""The additive structure an attacker can use: which published count cells add up to which.

A table's structure is declared in its suite (``schemas/<study>.<table>.json``, ``meta.disclosure``) and read
into :class:`TableRules`:

- ``keys``: the columns that name a row (a cell is a row's count column);
- ``totals``: ``{dimension: code}``: the row whose ``dimension`` holds ``code`` (e.g. project ``"all"``) is the
  sum of the rows that agree with it on every other key (a margin of the table);
- ``row_sums``: ``{column: [parts]}``: on every row, ``column`` = sum of ``parts``;
- ``at_most``: ``{column: bound}``: on every row, ``column`` <= ``bound`` (e.g. persons <= transitions);
- ``same_within``: ``{column: [keys]}``: the count is one quantity repeated on every row that agrees on
  ``keys`` (e.g. ``n_treated`` repeated across outcomes and estimators); ``[]`` means the whole table;
- ``links``: the same quantity in another table of the study (shared margins): rows of this table filtered by
  ``where`` and rows of ``table`` filtered by ``other_where``, matched on ``on``, have ``column`` =
  ``other_column``; with ``sum_by`` (a list of this table's columns), the rows of each (``on`` + ``sum_by``)
  group add up to the matched cell instead (e.g. subgroup counts within a dimension add up to the total);
- ``shares``: ``{share column: [keys]}``: the share's denominator is the sum of the count over the rows that
  agree on ``keys``, so when one of those counts is hidden the share is hidden on every row of the group
  (a visible share and count would give the denominator, and the denominator the hidden count);
- ``derived``: ``{count column: [columns computed from it]}``, hidden with the count.

Every declared relation is checked on the unsuppressed values: one that holds exactly is an equation; one
that fails in one direction (e.g. a total larger than its listed parts, because a category is not published)
is kept as the inequality that does hold; one whose values are partly unknown (cells suppressed upstream) is
kept as declared. So a wrong declaration can only make the audit more cautious, never less.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np
import pandas as pd

from insats.tasks.disclosure.primary import SUPPRESSED_COLUMN


@dataclass(frozen=True)
class Link:
    """``column`` of this table equals ``other_column`` of ``table`` on rows matched on ``on``."""

    column: str
    table: str
    other_column: str
    on: tuple[str, ...] = ()
    where: Mapping[str, Any] = field(default_factory=dict)
    other_where: Mapping[str, Any] = field(default_factory=dict)
    sum_by: tuple[str, ...] | None = None


@dataclass(frozen=True)
class TableRules:
    """A table's additive structure (see the module docstring)."""

    keys: tuple[str, ...] = ()
    totals: Mapping[str, Any] = field(default_factory=dict)
    row_sums: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    at_most: Mapping[str, str] = field(default_factory=dict)
    same_within: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    links: tuple[Link, ...] = ()
    derived: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    shares: Mapping[str, tuple[str, ...]] = field(default_factory=dict)

    @classmethod
    def from_meta(cls, meta: Mapping[str, Any] | None) -> TableRules:
        """Rules from a suite's ``meta`` (its ``disclosure`` entry; none -> no relations)."""
        spec = dict((meta or {}).get("disclosure", {}))
        known = {"keys", "totals", "row_sums", "at_most", "same_within", "links", "derived", "shares"}
        unknown = sorted(set(spec) - known)
        if unknown:
            raise ValueError(f"meta.disclosure: unknown entries {unknown}; expected some of {sorted(known)}")
        return cls(
            keys=tuple(spec.get("keys", ())),
            totals=dict(spec.get("totals", {})),
            row_sums={k: tuple(v) for k, v in spec.get("row_sums", {}).items()},
            at_most=dict(spec.get("at_most", {})),
            same_within={k: tuple(v) for k, v in spec.get("same_within", {}).items()},
            links=tuple(
                Link(
                    column=x["column"],
                    table=x["table"],
                    other_column=x["other_column"],
                    on=tuple(x.get("on", ())),
                    where=dict(x.get("where", {})),
                    other_where=dict(x.get("other_where", {})),
                    sum_by=tuple(x["sum_by"]) if "sum_by" in x else None,
                )
                for x in spec.get("links", ())
            ),
            derived={k: tuple(v) for k, v in spec.get("derived", {}).items()},
            shares={k: tuple(v) for k, v in spec.get("shares", {}).items()},
        )


@dataclass(frozen=True)
class Relation:
    """sum(coefs[i] * x[cells[i]]) == 0 (``eq``) or <= 0 (``le``); ``origin`` says which rule made it."""

    cells: tuple[int, ...]
    coefs: tuple[float, ...]
    kind: Literal["eq", "le"]
    origin: str
    verified: bool = True  # False: some of its cells were unknown, so it is kept as declared


class CellIndex:
    """Every count cell of a set of tables, numbered: ``(table, row position, column) -> id``.

    ``values[id]`` is the unsuppressed count (NaN where unknown: missing, or suppressed upstream);
    ``upstream[id]`` is True for a count missing on a row flagged ``suppressed`` (hidden before it came here).
    """

    def __init__(self, frames: Mapping[str, pd.DataFrame], counts: Mapping[str, list[str]]) -> None:
        self.ids: dict[tuple[str, int, str], int] = {}
        values: list[float] = []
        upstream: list[bool] = []
        for table, df in frames.items():
            flag = (
                df[SUPPRESSED_COLUMN].fillna(False).astype(bool).to_numpy()
                if SUPPRESSED_COLUMN in df.columns
                else np.zeros(len(df), dtype=bool)
            )
            for col in counts.get(table, []):
                num = pd.to_numeric(df[col], errors="coerce").astype("Float64").to_numpy(dtype=float, na_value=np.nan)
                for pos in range(len(df)):
                    self.ids[(table, pos, col)] = len(values)
                    values.append(float(num[pos]))
                    upstream.append(bool(np.isnan(num[pos]) and flag[pos]))
        self.values = np.array(values, dtype=float)
        self.upstream = np.array(upstream, dtype=bool)
        self.keys = list(self.ids)

    def __len__(self) -> int:
        return len(self.values)

    def get(self, table: str, pos: int, column: str) -> int | None:
        return self.ids.get((table, pos, column))


def _text(values: pd.Series) -> pd.Series:
    return values.astype(object).map(lambda v: "<NA>" if pd.isna(v) else str(v))


def _filter(df: pd.DataFrame, where: Mapping[str, Any]) -> np.ndarray:
    keep = np.ones(len(df), dtype=bool)
    for col, value in where.items():
        keep &= (_text(df[col]) == str(value)).to_numpy()
    return keep


def _groups(df: pd.DataFrame, by: list[str]) -> list[np.ndarray]:
    if not by:
        return [np.arange(len(df))]
    keys = pd.DataFrame({c: _text(df[c]) for c in by}).reset_index(drop=True)
    return [np.asarray(rows) for rows in keys.groupby(by, sort=False).indices.values()]


def _checked(cells: list[int], coefs: list[float], kind: str, origin: str, values: np.ndarray) -> Relation | None:
    """The relation as it holds on the unsuppressed values (see the module docstring)."""
    vals = values[cells]
    if np.isnan(vals).any():
        return Relation(tuple(cells), tuple(coefs), kind, origin, verified=False)  # type: ignore[arg-type]
    s = float(np.dot(coefs, vals))
    if kind == "eq" and abs(s) < 1e-6:
        return Relation(tuple(cells), tuple(coefs), "eq", origin)
    if s <= 1e-6:
        return Relation(tuple(cells), tuple(coefs), "le", origin)
    if kind == "eq":
        return Relation(tuple(cells), tuple(-c for c in coefs), "le", origin)
    return None


def build_relations(
    frames: Mapping[str, pd.DataFrame], rules: Mapping[str, TableRules], index: CellIndex
) -> list[Relation]:
    """Every relation the rules declare among the count cells in ``index``, checked on their values."""
    out: list[Relation] = []

    def add(cells: list[int | None], coefs: list[float], kind: str, origin: str) -> None:
        if any(c is None for c in cells) or len(set(cells)) != len(cells):
            return
        rel = _checked([int(c) for c in cells if c is not None], coefs, kind, origin, index.values)
        if rel is not None:
            out.append(rel)

    for table, df in frames.items():
        rule = rules.get(table, TableRules())
        counts = [col for (t, _, col) in index.keys if t == table]
        counts = list(dict.fromkeys(counts))
        for dim, code in rule.totals.items():
            others = [k for k in rule.keys if k != dim]
            is_total = (_text(df[dim]) == str(code)).to_numpy()
            for rows in _groups(df, others):
                totals, parts = rows[is_total[rows]], rows[~is_total[rows]]
                if len(totals) != 1 or len(parts) == 0:
                    continue
                for col in counts:
                    cells = [index.get(table, int(totals[0]), col)] + [index.get(table, int(p), col) for p in parts]
                    add(cells, [1.0] + [-1.0] * len(parts), "eq", f"{table}: {col} total over {dim}={code}")
        for pos in range(len(df)):
            for col, parts in rule.row_sums.items():
                cells = [index.get(table, pos, col)] + [index.get(table, pos, p) for p in parts]
                add(cells, [1.0] + [-1.0] * len(parts), "eq", f"{table}: {col} = {' + '.join(parts)}")
            for col, bound in rule.at_most.items():
                add(
                    [index.get(table, pos, col), index.get(table, pos, bound)],
                    [1.0, -1.0],
                    "le",
                    f"{table}: {col} <= {bound}",
                )
        for col, by in rule.same_within.items():
            for rows in _groups(df, list(by)):
                for a, b in zip(rows[:-1], rows[1:], strict=True):
                    add(
                        [index.get(table, int(a), col), index.get(table, int(b), col)],
                        [1.0, -1.0],
                        "eq",
                        f"{table}: {col} repeated",
                    )
        for link in rule.links:
            if link.table not in frames:
                continue
            other = frames[link.table]
            mine = np.flatnonzero(_filter(df, link.where))
            theirs = np.flatnonzero(_filter(other, link.other_where))
            left = pd.DataFrame({c: _text(df[c]).to_numpy()[mine] for c in link.on} | {"_a": mine})
            right = pd.DataFrame({c: _text(other[c]).to_numpy()[theirs] for c in link.on} | {"_b": theirs})
            pairs = left.merge(right, on=list(link.on), how="inner") if link.on else left.merge(right, how="cross")
            if link.sum_by is not None:
                for b, group in pairs.groupby("_b", sort=False):
                    sub = df.iloc[group["_a"].to_numpy()]
                    for rows in _groups(sub, list(link.sum_by)):
                        parts = group["_a"].to_numpy()[rows]
                        cells = [index.get(link.table, int(b), link.other_column)]
                        cells += [index.get(table, int(a), link.column) for a in parts]
                        add(
                            cells,
                            [1.0] + [-1.0] * len(parts),
                            "eq",
                            f"{link.table}.{link.other_column} = sum of {table}.{link.column}",
                        )
                continue
            for a, b in zip(pairs["_a"], pairs["_b"], strict=True):
                cells = [index.get(table, int(a), link.column), index.get(link.table, int(b), link.other_column)]
                add(cells, [1.0, -1.0], "eq", f"{table}.{link.column} = {link.table}.{link.other_column}")
    return out
