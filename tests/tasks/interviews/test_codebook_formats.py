"""Codebooks in the researchers' formats: definition / include / exclude / examples, flat parent: links or
nested children (or both), codes without keywords; a .qdc from a QDA tool loads with its ids."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from insats.tasks.interviews.codebook import load_codebook, parse_codebook
from insats.tasks.interviews.qdpx import codebook_qdc

FLAT = """
name: Platt kodbok
version: "2"
codes:
  - id: KOMP.SVENSKA
    parent: KOMP
    label: Svenska språket
    definition: Krav på att kunna tala och förstå svenska.
    include: Krav, önskemål eller beröm av språkkunskaper hos en anställd.
    exclude: Att intervjun hålls på svenska; språket i kundkontakt utan krav.
    examples:
      - "Man måste kunna prata svenska med de äldre."
      - "Svenskan är viktigast."
    keywords: [svenska]
  - id: KOMP
    label: Kompetenser
  - id: KOMP.ÖVRIGT
    parent: KOMP
    label: Övrigt
    examples: "Att man är ödmjuk."
  - id: SYN
    label: Syn på insatser
    children:
      - id: SYN.POSITIV
        label: Positiv
      - id: SYN.NEGATIV
        label: Negativ
        parent: SYN
"""


def test_flat_parent_links_and_standard_fields(tmp_path: Path):
    path = tmp_path / "kodbok.yaml"
    path.write_text(FLAT, encoding="utf-8")
    book = load_codebook(path)
    assert book.ids == ["KOMP", "KOMP.SVENSKA", "KOMP.ÖVRIGT", "SYN", "SYN.POSITIV", "SYN.NEGATIV"]
    assert [c.level for c in book.codes] == [1, 2, 2, 1, 2, 2]
    assert [c.id for c in book.children("KOMP")] == ["KOMP.SVENSKA", "KOMP.ÖVRIGT"]
    svenska = book.get("KOMP.SVENSKA")
    assert svenska.include.startswith("Krav, önskemål") and svenska.exclude.startswith("Att intervjun")
    assert svenska.examples == ("Man måste kunna prata svenska med de äldre.", "Svenskan är viktigast.")
    assert book.get("KOMP.ÖVRIGT").examples == ("Att man är ödmjuk.",) and book.get("KOMP.ÖVRIGT").keywords == ()


@pytest.mark.parametrize(
    ("codes", "message"),
    [
        ([{"id": "A", "label": "a", "parent": "B"}], "names parent 'B', which is not in the codebook"),
        ([{"id": "A", "label": "a", "parent": "B"}, {"id": "B", "label": "b", "parent": "A"}], "form a cycle"),
        ([{"id": "A", "label": "a", "children": [{"id": "B", "label": "b", "parent": "C"}]}, {"id": "C", "label": "c"}],
         "nested under 'A' but says parent: 'C'"),
        ([{"id": "A", "label": "a", "include": ["x"]}], "'include' must be a string"),
        ([{"id": "A", "label": "a", "examples": [1]}], "'examples' must be a string or a list"),
        ([{"id": "A", "label": "a", "inklusion": "x"}], r"unknown key\(s\) \['inklusion'\]"),
    ],
)  # fmt: skip
def test_bad_links_and_fields_name_the_code(codes, message):
    with pytest.raises(ValueError, match=message):
        parse_codebook({"codes": codes}, source="kodbok.yaml")


def test_qdc_round_trip_keeps_ids_of_codes_without_definitions(tmp_path: Path):
    book = parse_codebook(yaml.safe_load(FLAT), "flat")
    path = tmp_path / "kodbok.qdc"
    path.write_bytes(codebook_qdc(book))
    back = load_codebook(path)
    assert back.ids == book.ids and [c.parent for c in back.codes] == [c.parent for c in book.codes]
    assert back.get("KOMP.SVENSKA").definition == "Krav på att kunna tala och förstå svenska."
    xml = path.read_text(encoding="utf-8")
    assert 'name="Övrigt" isCodable="true"' in xml  # a leaf without keywords: humans code it
    assert 'name="Kompetenser" isCodable="false"' in xml  # a parent that only groups
