"""The table catalog: every table a study publishes, named once, with its contract.

A table's contract is its great-expectations suite ``schemas/<study>.<table>.json``; the catalog reads the
column list from the suite's ``expect_table_columns_to_match_set`` / ``..._ordered_list`` expectation and the
person-count columns (what disclosure control suppresses) from the suite's ``meta.count_columns``. So a
column added to a table is written in one place: its suite.
"""

from __future__ import annotations

import functools
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from insats.validation import schemas_dir

_COLUMN_EXPECTATIONS = ("expect_table_columns_to_match_set", "expect_table_columns_to_match_ordered_list")


@dataclass(frozen=True)
class TableSpec:
    """One published table: ``<study>.<name>``, stored as ``<name>.parquet`` in the study's folder."""

    study: str
    name: str
    suite: Path
    columns: tuple[str, ...]
    count_columns: tuple[str, ...]
    description: str

    @property
    def suite_name(self) -> str:
        return f"{self.study}.{self.name}"

    @property
    def file(self) -> str:
        return f"{self.name}.parquet"


def _spec(path: Path) -> TableSpec:
    suite = json.loads(path.read_text(encoding="utf-8"))
    study, _, name = path.stem.partition(".")
    columns: tuple[str, ...] = ()
    required: list[str] = []  # without a column set, the columns the suite's expectations name
    for exp in suite.get("expectations", []):
        kwargs: dict[str, Any] = exp.get("kwargs", {})
        if exp.get("type") in _COLUMN_EXPECTATIONS:
            columns = tuple(kwargs.get("column_set") or kwargs.get("column_list") or ())
        elif kwargs.get("column") and kwargs["column"] not in required:
            required.append(kwargs["column"])
    columns = columns or tuple(required)
    meta = suite.get("meta", {})
    counts = tuple(meta.get("count_columns", ()))
    unknown = [c for c in counts if columns and c not in columns]
    if unknown:
        raise ValueError(f"{path}: meta.count_columns names columns the table does not have: {', '.join(unknown)}")
    return TableSpec(study, name, path, columns, counts, meta.get("description", ""))


@functools.lru_cache(maxsize=32)
def study_tables(study: str) -> dict[str, TableSpec]:
    """Table name -> spec for every table ``study`` publishes (suites named ``<study>.<table>.json``)."""
    return {spec.name: spec for spec in map(_spec, sorted(schemas_dir().glob(f"{study}.*.json")))}


def table_spec(study: str, name: str) -> TableSpec:
    tables = study_tables(study)
    if name not in tables:
        known = ", ".join(tables) or "none"
        raise KeyError(f"study {study!r} has no table {name!r} in the catalog (schemas/{study}.*.json: {known})")
    return tables[name]


def count_columns(study: str, name: str) -> list[str]:
    """The person-count columns of a published table (suppressed below the disclosure threshold)."""
    return list(table_spec(study, name).count_columns)
