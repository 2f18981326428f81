"""REFI-QDA export/import: XSD validity, exact character positions for å/ä/ö, lossless round trips."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pandas as pd
import pytest

from insats.demo.interviews import CODEBOOK, make_interviews, write_interviews
from insats.tasks.interviews.codebook import parse_codebook
from insats.tasks.interviews.coding import match_spans
from insats.tasks.interviews.qdpx import (
    REFI_QDA_XSD,
    codebook_qdc,
    coding_from_project,
    guid_for,
    project_from_coding,
    project_xml,
    read_qdc,
    read_qdpx,
    validate_qde,
    write_qdpx,
)
from insats.tasks.interviews.redaction import redact
from insats.tasks.interviews.transcripts import read_transcript, segment_turns
from tests.helpers import ROOT

XSD = REFI_QDA_XSD  # the copy shipped in schemas/
SHARED_XSD = ROOT.parent / "shared" / "refi-qda" / "Project-mrt2019.xsd"
BOOK = parse_codebook(CODEBOOK, source="demo-codebook")
needs_xsd = pytest.mark.skipif(not XSD.is_file(), reason="REFI-QDA XSD not available")


@pytest.fixture(scope="module")
def exported(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("qdpx")
    bundle = make_interviews(seed=2026, n_employers=8)
    paths = write_interviews(bundle, tmp / "demo")
    texts, frames = {}, []
    for row in bundle.employers.itertuples():
        texts[row.interview_id], _ = redact(read_transcript(paths["transcripts"] / row.file), ["Anna Lindqvist"])
        frames.append(segment_turns(texts[row.interview_id], row.interview_id))
    spans = match_spans(pd.concat(frames, ignore_index=True), BOOK)
    codings = spans.assign(
        coder="insats-auto", description=spans["matched"] + spans["negated"].map({True: " (inte krav)", False: ""})
    )
    project = project_from_coding("Arbetsgivarintervjuer – autokodning", BOOK, texts, codings)
    path = write_qdpx(project, tmp / "auto.qdpx")
    return {"project": project, "path": path, "texts": texts, "spans": spans, "tmp": tmp}


@needs_xsd
def test_export_validates_against_the_refi_qda_xsd(exported):
    with zipfile.ZipFile(exported["path"]) as z:
        xml = z.read("project.qde")
        names = z.namelist()
    assert validate_qde(xml, XSD) == []
    assert len([n for n in names if n.startswith("sources/") and n.endswith(".txt")]) == 8
    # A broken document is reported, so the check can fail.
    assert validate_qde(xml.replace(b'isCodable="true"', b'isCodable="kanske"', 1), XSD)


def test_positions_are_exact_characters_for_swedish_letters(exported):
    back = read_qdpx(exported["path"])
    flat = coding_from_project(back, BOOK)
    texts = dict(zip(back.sources["name"], back.sources["text"], strict=True))
    assert texts == exported["texts"]  # sources are the redacted transcripts, unchanged
    matched = exported["spans"]["matched"].tolist()
    assert [texts[d][a:b] for d, a, b in zip(flat["document"], flat["start"], flat["end"], strict=True)] == matched
    # At least one span starts after an å/ä/ö, where byte and character offsets differ.
    row = next(r for r in flat.itertuples() if any(ch in texts[r.document][: r.start] for ch in "åäö"))
    assert len(texts[row.document][: row.start].encode("utf-8")) > row.start
    assert any(ch in m for m in matched for ch in "åäö")  # e.g. "Körkort", "språket"
    assert set(flat["code"]) <= set(BOOK.ids) and set(flat["coder"]) == {"insats-auto"}
    assert flat["description"].str.endswith("(inte krav)").any()


def test_import_export_import_round_trips_without_loss(exported):
    first = read_qdpx(exported["path"])
    assert first == exported["project"]
    again = read_qdpx(write_qdpx(first, exported["tmp"] / "again.qdpx"))
    assert again == first
    assert again.codes["parent_guid"].eq(guid_for("code", "KOMP")).sum() == len(BOOK.children("KOMP"))
    # Deterministic guids: exporting the same coding twice gives the same project document, and the same file.
    assert project_xml(first) == project_xml(again)
    assert (exported["tmp"] / "again.qdpx").read_bytes() == exported["path"].read_bytes()


def test_foreign_project_with_human_coders_and_added_code(tmp_path: Path):
    """A project as a QDA tool would send it back: another coder, a new code, overlapping selections."""
    text = "R: Vi kräver körkort och bra svenska. Språket är viktigt för säkerheten på lagret."
    xml = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="från NVivo">
 <Users><User guid="{guid_for("user", "Åsa")}" name="Åsa Öberg"/></Users>
 <CodeBook><Codes>
  <Code guid="{guid_for("code", "KOMP.KORKORT")}" name="Körkort" isCodable="true"/>
  <Code guid="11111111-2222-3333-4444-555555555555" name="Säkerhet" isCodable="true" color="#AA00FF">
   <Description>Ny kod från forskaren</Description></Code>
 </Codes></CodeBook>
 <Sources><TextSource guid="{guid_for("source", "E01")}" name="E01"><PlainTextContent>{text}</PlainTextContent>
  <PlainTextSelection guid="{guid_for("sel", "1")}" startPosition="13" endPosition="20">
   <Coding guid="{guid_for("c", "1")}" creatingUser="{guid_for("user", "Åsa")}">
    <CodeRef targetGUID="{guid_for("code", "KOMP.KORKORT")}"/></Coding></PlainTextSelection>
  <PlainTextSelection guid="{guid_for("sel", "2")}" startPosition="38" endPosition="82">
   <Coding guid="{guid_for("c", "2")}" creatingUser="{guid_for("user", "Åsa")}">
    <CodeRef targetGUID="11111111-2222-3333-4444-555555555555"/></Coding></PlainTextSelection>
 </TextSource></Sources>
</Project>"""
    path = tmp_path / "nvivo.qdpx"
    with zipfile.ZipFile(path, "w") as z:
        z.writestr("project.qde", xml.encode("utf-8"))
    project = read_qdpx(path)
    flat = coding_from_project(project, BOOK)
    assert list(flat["code"]) == ["KOMP.KORKORT", "Säkerhet"] and set(flat["coder"]) == {"Åsa Öberg"}
    assert text[13:20] == "körkort" and text[38:82] == "Språket är viktigt för säkerheten på lagret."
    assert read_qdpx(write_qdpx(project, tmp_path / "back.qdpx")) == project
    if XSD.is_file():
        assert validate_qde(project_xml(project), XSD) == []


def test_qdc_codebook_round_trip(tmp_path: Path):
    path = tmp_path / "kodbok.qdc"
    path.write_bytes(codebook_qdc(BOOK))
    codes = read_qdc(path)
    assert len(codes) == len(BOOK.codes) and codes["name"].tolist() == [c.label for c in BOOK.codes]
    assert codes.set_index("guid").loc[guid_for("code", "KOMP.SVENSKA"), "parent_guid"] == guid_for("code", "KOMP")
    assert not codes.set_index("name").loc["Kompetenser och egenskaper", "is_codable"]


def test_bad_input_is_rejected(tmp_path: Path, exported):
    (tmp_path / "x.qdpx").write_text("inte en zip", encoding="utf-8")
    with pytest.raises(ValueError, match=r"x\.qdpx: not a \.qdpx"):
        read_qdpx(tmp_path / "x.qdpx")
    project = exported["project"]
    broken = project.selections.copy()
    broken.loc[0, "end"] = 10**7
    with pytest.raises(ValueError, match="lies outside its source text"):
        write_qdpx(
            type(project)(project.name, project.users, project.codes, project.sources, broken), tmp_path / "b.qdpx"
        )
    with pytest.raises(ValueError, match=r"code id\(s\) \['NOPE'\]"):
        project_from_coding("x", BOOK, {"E01": "text"}, pd.DataFrame(
            {"interview_id": ["E01"], "start": [0], "end": [2], "code_id": ["NOPE"], "coder": ["a"]}))  # fmt: skip


@pytest.mark.skipif(not SHARED_XSD.is_file(), reason="the project's shared/ folder is not beside this checkout")
def test_the_shipped_schema_is_the_standard_one():
    assert REFI_QDA_XSD.read_bytes() == SHARED_XSD.read_bytes()


def test_a_qdc_codebook_loads_as_a_codebook(tmp_path):
    from insats.tasks.interviews.codebook import load_codebook
    from insats.tasks.interviews.qdpx import codebook_qdc

    original = BOOK
    qdc = tmp_path / "kodbok.qdc"
    qdc.write_bytes(codebook_qdc(original))
    loaded = load_codebook(qdc)
    assert loaded.ids == original.ids
    assert [loaded.get(i).parent for i in loaded.ids] == [original.get(i).parent for i in original.ids]
    assert [loaded.get(i).label for i in loaded.ids] == [original.get(i).label for i in original.ids]


def test_codebook_module_does_not_import_the_project_module():
    # The layers: qdc (code trees) <- codebook <- qdpx; no import of qdpx anywhere in codebook, not even inside
    # a function (a .qdc file loads through the qdc layer).
    import ast
    import inspect

    import insats.tasks.interviews.codebook as codebook

    imported = set()
    for n in ast.walk(ast.parse(inspect.getsource(codebook))):
        if isinstance(n, ast.ImportFrom):
            imported.add(n.module or "")
        elif isinstance(n, ast.Import):
            imported.update(a.name for a in n.names)
    assert "insats.tasks.interviews.qdc" in imported
    assert not any(m.endswith(".qdpx") for m in imported)
