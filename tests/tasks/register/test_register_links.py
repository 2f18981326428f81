"""person_links: the hash anti-join reports what GX's suite ``crosstable.person_exists`` reports."""

from __future__ import annotations

import pandas as pd
import pytest

from insats.tasks.register.ingest import person_links
from insats.validation import GateError, gate

A, B, C, D = ("aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb", "cccccccccccccccc", "dddddddddddddddd")


def _gx_message(ids: list[str | None], known: list[str], kind: str) -> str:
    frame = pd.DataFrame({"person_id": pd.Series(ids, dtype="string")})
    with pytest.raises(GateError) as gx:
        gate(frame, "crosstable.person_exists", table=f"pseudonymised {kind}", parameters={"known_person_ids": known})
    return str(gx.value)


@pytest.mark.parametrize(
    "ids",
    [
        [A, D, B, C, D, D, D, D, D, D, D],  # unknown persons, more than five: counts, percent, first five in order
        [A, None, B, None, C],  # missing ids only
        [None, D, A, None, C, D],  # both
    ],
)
def test_person_links_fail_with_the_words_of_the_gx_suite(ids):
    persons = pd.DataFrame({"person_id": pd.Series([A, B, C], dtype="string")})
    table = pd.DataFrame({"person_id": pd.Series(ids, dtype="string")})
    with pytest.raises(GateError) as ours:
        person_links(persons, {"spells": pd.DataFrame({"person_id": pd.Series([A], dtype="string")}),
                               "outcomes": table})  # fmt: skip
    assert str(ours.value) == _gx_message(ids, [A, B, C], "outcomes")


def test_person_links_count_rows_and_persons_when_every_person_is_known():
    persons = pd.DataFrame({"person_id": pd.Series([A, B, C], dtype="string")})
    tables = {"assistance": pd.DataFrame({"person_id": [A, A, B]}), "spells": pd.DataFrame({"person_id": [C]})}
    out = person_links(persons, tables)
    assert out.to_dict("records") == [
        {"table": "assistance", "n_rows": 3, "n_persons": 2},
        {"table": "spells", "n_rows": 1, "n_persons": 1},
    ]
