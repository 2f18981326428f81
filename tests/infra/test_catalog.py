"""The catalog reads each published table's columns and person-count columns from its suite."""

from __future__ import annotations

import json

import pytest

from insats.catalog import count_columns, study_tables, table_spec
from insats.studies import STUDIES
from insats.validation import schemas_dir


def test_every_study_suite_is_in_the_catalog_with_its_columns() -> None:
    for study in STUDIES:
        for path in schemas_dir().glob(f"{study.name}.*.json"):
            spec = study_tables(study.name)[path.stem.partition(".")[2]]
            suite = json.loads(path.read_text(encoding="utf-8"))
            assert spec.suite == path and spec.suite_name == suite["name"]
            assert spec.columns, f"{path.name} declares no column set"


def test_count_columns_come_from_suite_meta() -> None:
    assert "n_treated_unmatched" in count_columns("outcome_evaluation", "effects")
    assert count_columns("employer_interviews", "segments") == []


def test_unknown_table_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="effects"):
        table_spec("outcome_evaluation", "efects")
