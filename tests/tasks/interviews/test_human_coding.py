"""Study 1 with human coding as researchers keep it: turn sheets (CSV/XLSX), .qdpx codings from QDA tools, a
.qdc codebook without keywords, suggestions trained on consensus / all coders, the review project's users."""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd
import pytest

from insats.tasks.interviews.codebook import load_codebook, parse_codebook
from insats.tasks.interviews.human import human_spans, qdpx_spans, read_turn_coding, turns_to_spans
from insats.tasks.interviews.qdpx import codebook_qdc, project_from_coding, qdpx_bytes, read_qdpx, write_qdpx
from insats.tasks.interviews.redaction import redact
from insats.tasks.interviews.review import AUTO_CODER, auto_spans, coder_agreement, coder_pairs, review_spans
from insats.tasks.interviews.study import (
    code_interviews,
    code_suggestions,
    coder_labels,
    read_interviews,
    review_export,
    segment_interviews,
    suggestion_quality,
)
from insats.tasks.interviews.suggest import MIN_POSITIVES, nothing_to_suggest, training_labels

BOOK = {
    "name": "Test",
    "version": "1",
    "codes": [
        {"id": "KOMP", "label": "Kompetenser"},
        {"id": "KOMP.SVENSKA", "label": "Svenska språket", "parent": "KOMP", "keywords": ["svenska"]},
        {"id": "KOMP.KORKORT", "label": "Körkort", "parent": "KOMP", "keywords": ["körkort"]},
        {"id": "KOMP.ÖVRIGT", "label": "Övriga förmågor", "parent": "KOMP"},  # no keywords: humans only
    ],
}
TEXTS = {
    "E01": "Intervju 1\nI: Vad krävs?\nR: Svenska är viktigt hos oss.\nI: Och körkort?\nR: Körkort krävs. "
    "Det är bra.\nI: Något mer?\nR: Man ska vara glad och ödmjuk, säger Kerstin.\n",
    "E02": "Intervju 2\nI: Vad krävs?\nR: Vi pratar svenska hela dagen.\nI: Körkort?\nR: Nej, inte här.\n"
    "I: Övrigt?\nR: Noggrannhet och tålamod.\n",
    "E03": "Intervju 3\nI: Vad krävs?\nR: Körkort, alltid. Och svenska.\nI: Annat?\nR: Att man är ödmjuk.\n",
}


@pytest.fixture(scope="module")
def study(tmp_path_factory):
    root = tmp_path_factory.mktemp("human")
    (root / "transcripts").mkdir()
    for iid, text in TEXTS.items():
        (root / "transcripts" / f"{iid}.txt").write_text(text, encoding="utf-8")
    pd.DataFrame(
        {
            "interview_id": list(TEXTS), "employer_id": ["AG1", "AG2", "AG3"], "sector": ["bygg", "handel", "vård"],
            "size_class": ["1-9", "10-49", "250+"], "municipality": ["0484"] * 3,
            "interview_date": ["2025-01-10", "2025-01-11", "2025-01-12"], "file": [f"{i}.txt" for i in TEXTS],
        }
    ).to_csv(root / "employers.csv", index=False)  # fmt: skip
    book = parse_codebook(BOOK, "test")
    (root / "codebook.qdc").write_bytes(codebook_qdc(book))
    import yaml

    (root / "codebook.yaml").write_text(yaml.safe_dump(BOOK, allow_unicode=True), encoding="utf-8")
    # Turn sheet: interview, turn, code (;-separated), coder; turn numbers count speaker labels from 1.
    (root / "turns.csv").write_text(
        "interview,turn,code,coder\n"
        "E01,2,KOMP.SVENSKA,åsa\nE01,4,KOMP.KORKORT,åsa\nE01,6,KOMP.ÖVRIGT,åsa\n"
        "E02,2,KOMP.SVENSKA,åsa\nE02,4,KOMP.KORKORT,åsa\nE02,6,KOMP.ÖVRIGT,åsa\n"
        "E03,2,KOMP.KORKORT;KOMP.SVENSKA,åsa\nE03,4,KOMP.ÖVRIGT,åsa\n"
        "E01.txt,2,KOMP.SVENSKA,örjan\nE01.txt,6,KOMP.ÖVRIGT,örjan\nE02.txt,2,KOMP.SVENSKA,örjan\n"
        "E02.txt,6,KOMP.ÖVRIGT,örjan\nE03.txt,2,KOMP.SVENSKA,örjan\n",
        encoding="utf-8",
    )
    files = dict(transcripts=root / "transcripts", employers=root / "employers.csv")
    segments = segment_interviews(**files, redact_names=[], speaker_pattern=None, speaker_roles={})
    return {"root": root, "files": files, "book": book, "segments": segments}


def test_read_turn_sheet_csv_and_xlsx(study, tmp_path: Path):
    turns = read_turn_coding(study["root"] / "turns.csv")
    assert list(turns.columns) == ["document", "turn", "code", "coder"]
    assert len(turns) == 14 and set(turns["coder"]) == {"åsa", "örjan"}  # E03 turn 2 split on ";"
    sheet = pd.DataFrame({"interview_id": ["E01", "E02"], "turn": [2, 4], "code_id": ["KOMP.ÖVRIGT", "KOMP.KORKORT"]})
    sheet.to_excel(tmp_path / "kodning_märta.xlsx", index=False)
    xl = read_turn_coding(tmp_path / "kodning_märta.xlsx")
    assert list(xl["coder"]) == ["kodning_märta"] * 2 and list(xl["code"]) == ["KOMP.ÖVRIGT", "KOMP.KORKORT"]


def test_turn_sheet_errors_name_file_row_and_column(study, tmp_path: Path):
    bad = tmp_path / "blad.csv"
    bad.write_text("interview,turn,code\nE01,två,KOMP.SVENSKA\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"blad\.csv: row 2, column 'turn': expected an integer >= 1, got 'två'"):
        read_turn_coding(bad)
    bad.write_text("interview,code\nE01,KOMP\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"needs columns interview .* turn and code"):
        read_turn_coding(bad)
    meta = pd.read_csv(study["files"]["employers"], dtype=str)
    turns = pd.DataFrame({"document": ["E01"], "turn": [9], "code": ["KOMP"], "coder": ["x"]})
    with pytest.raises(ValueError, match="interview 'E01' has no turn 9 with text"):
        turns_to_spans(turns, study["segments"], meta)


def test_turns_cover_whole_segments(study):
    meta = pd.read_csv(study["files"]["employers"], dtype=str)
    spans = turns_to_spans(read_turn_coding(study["root"] / "turns.csv"), study["segments"], meta)
    seg = study["segments"].set_index(["interview_id", "turn"])
    first = spans.iloc[0]
    assert (first["start"], first["end"]) == tuple(seg.loc[("E01", 2), ["start_char", "end_char"]])


def test_qdc_without_keywords_works_for_human_coding_and_reliability(study):
    qdc = study["root"] / "codebook.qdc"
    assert not any(c.keywords for c in load_codebook(qdc).codes)
    coded = code_interviews(study["segments"], qdc)
    assert coded.empty  # nothing for the dictionary coder
    labels = coder_labels(study["segments"], coded, **study["files"], codebook=qdc,
                          human_coding=study["root"] / "turns.csv", redact_names=[])  # fmt: skip
    assert set(labels["coder"]) == {"åsa", "örjan"}
    assert coder_pairs(labels) == [("åsa", "örjan")]  # no pair with the coder that coded nothing
    rel, quality = coder_agreement(labels, n_boot=50, seed=1)
    assert set(rel["code_id"]) == {"KOMP.SVENSKA", "KOMP.KORKORT", "KOMP.ÖVRIGT", "(alla koder)"}
    svenska = rel.set_index("code_id").loc["KOMP.SVENSKA"]
    assert svenska["agreement"] == 1.0 and quality.empty


def test_yaml_codebook_compares_humans_on_codes_without_keywords_and_auto_on_the_rest(study):
    book = study["root"] / "codebook.yaml"
    coded = code_interviews(study["segments"], book)
    labels = coder_labels(study["segments"], coded, **study["files"], codebook=book,
                          human_coding=study["root"] / "turns.csv", redact_names=[])  # fmt: skip
    auto = labels[labels["coder"] == AUTO_CODER]
    assert set(auto["code_id"]) == {"KOMP.SVENSKA", "KOMP.KORKORT"}
    human = labels[labels["coder"] == "åsa"]
    assert set(human["code_id"]) == {"KOMP.SVENSKA", "KOMP.KORKORT", "KOMP.ÖVRIGT"}
    _rel, quality = coder_agreement(labels, n_boot=20, seed=1)
    assert set(quality["reference"]) == {"åsa", "örjan"}


def test_unknown_code_in_the_sheet_names_the_setting(study, tmp_path: Path):
    sheet = tmp_path / "fel.csv"
    sheet.write_text("interview,turn,code,coder\nE01,2,KOMP.OKÄND,a\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"KOMP\.OKÄND.*employer_interviews\.human_coding"):
        coder_labels(study["segments"], code_interviews(study["segments"], study["root"] / "codebook.qdc"),
                     **study["files"], codebook=study["root"] / "codebook.qdc", human_coding=sheet,
                     redact_names=[])  # fmt: skip


def test_qdpx_codings_from_a_qda_tool_on_original_or_redacted_text(study, tmp_path: Path):
    meta, originals = read_interviews(**study["files"])
    book = study["book"]
    # A project a researcher coded in NVivo on the transcripts as imported (unredacted: E01 names Kerstin).
    start = originals["E01"].index("Man ska")
    end = originals["E01"].index("Kerstin.") + len("Kerstin.")
    codings = pd.DataFrame({"interview_id": ["E01", "E01"], "start": [start, start], "end": [end, end],
                            "code_id": ["KOMP.ÖVRIGT", "KOMP.ÖVRIGT"], "coder": ["Åsa K", "Örjan L"]})  # fmt: skip
    project = project_from_coding("nvivo", book, {"E01.txt": originals["E01"]}, codings.assign(interview_id="E01.txt"))
    write_qdpx(project, tmp_path / "nvivo.qdpx")
    spans = qdpx_spans(tmp_path / "nvivo.qdpx", book, originals, meta)
    redacted = redact(originals["E01"])[0]
    assert "[NAMN]" in redacted
    assert redacted[spans.loc[0, "start"] : spans.loc[0, "end"]] == "Man ska vara glad och ödmjuk, säger [NAMN]."
    assert set(spans["coder"]) == {"Åsa K", "Örjan L"}
    # The same through the file dispatcher, and a project coded on the redacted text keeps its offsets.
    via = human_spans(tmp_path / "nvivo.qdpx", study["segments"], book, originals, meta)
    pd.testing.assert_frame_equal(via, spans)
    r0 = redacted.index("Man ska")
    red = project_from_coding("r", book, {"E01": redacted},
                              codings.assign(start=r0, end=r0 + 10).iloc[:1])  # fmt: skip
    write_qdpx(red, tmp_path / "red.qdpx")
    assert qdpx_spans(tmp_path / "red.qdpx", book, originals, meta).loc[0, "start"] == r0
    changed = project_from_coding("x", book, {"E01": originals["E01"] + "tillägg"}, codings.iloc[:1])
    write_qdpx(changed, tmp_path / "changed.qdpx")
    with pytest.raises(ValueError, match="differs from interview E01's transcript"):
        qdpx_spans(tmp_path / "changed.qdpx", book, originals, meta)


def test_training_labels_consensus_all_and_one_coder():
    labels = pd.DataFrame({
        "coder": ["a", "b", "c", "a", "b", AUTO_CODER], "interview_id": ["E1"] * 6,
        "segment_id": ["s1", "s1", "s1", "s2", "s2", "s1"], "code_id": ["K"] * 6, "value": [1, 1, 0, 1, 0, 1],
    })  # fmt: skip
    cons = training_labels(labels, "consensus").set_index("segment_id")["value"]
    assert cons.to_dict() == {"s1": 1, "s2": 0}  # 2 of 3; a tie of 1 of 2 is not a majority
    assert len(training_labels(labels, "all")) == 5  # every human decision, the auto coder left out
    assert set(training_labels(labels, "b")["coder"]) == {"b"}
    with pytest.raises(ValueError, match="suggestions_train_on: 'zz' is neither"):
        training_labels(labels, "zz")
    assert "no human coding" in nothing_to_suggest(training_labels(labels[labels["coder"] == AUTO_CODER], "all"), ["K"])
    assert f"no code has {MIN_POSITIVES} or more" in nothing_to_suggest(training_labels(labels, "all"), ["K"])


def test_suggestions_say_why_there_is_nothing_to_suggest(study, caplog):
    qdc = study["root"] / "codebook.qdc"
    labels = coder_labels(study["segments"], code_interviews(study["segments"], qdc), **study["files"],
                          codebook=qdc, human_coding=study["root"] / "turns.csv", redact_names=[])  # fmt: skip
    with caplog.at_level(logging.WARNING, logger="insats.interviews"):
        found = code_suggestions(study["segments"], labels, seed=0, train_on="all")
    assert found.empty and "no code has 4 or more human-coded segments" in caplog.text
    assert set(
        suggestion_quality(study["segments"], labels, seed=0, train_on="all")["suggestion_quality"]["coder"]
    ) == {"åsa+örjan"}


def test_review_project_codes_turns_or_sentences_and_carries_human_coders(study, tmp_path: Path):
    book, seg = study["book"], study["segments"]
    turns = auto_spans(seg, book, "turn")
    keys = dict(left_on=["interview_id", "start", "end"], right_on=["interview_id", "start_char", "end_char"])
    assert len(turns) == 5 and len(turns.merge(seg, **keys)) == len(turns)  # every coding is a whole turn
    sentences = auto_spans(seg, book, "sentence")
    e03 = sentences[sentences["interview_id"] == "E03"]
    assert len(e03) == 2 and (e03["end"] - e03["start"]).max() < turns[turns["interview_id"] == "E03"]["end"].max()
    with pytest.raises(ValueError, match="review_unit"):
        auto_spans(seg, book, "paragraph")
    yaml_book = study["root"] / "codebook.yaml"
    labels = coder_labels(seg, code_interviews(seg, yaml_book), **study["files"], codebook=yaml_book,
                          human_coding=study["root"] / "turns.csv", redact_names=[])  # fmt: skip
    empty = pd.DataFrame(columns=["interview_id", "segment_id", "code_id", "confidence"])
    data = review_export(seg, empty, **study["files"], codebook=yaml_book, redact_names=[], labels=labels)
    (tmp_path / "review.qdpx").write_bytes(data)
    project = read_qdpx(tmp_path / "review.qdpx")  # qdpx_bytes validated it against the REFI-QDA XSD
    assert set(project.users["name"]) == {"insats-auto", "åsa", "örjan"}
    assert "Kerstin" not in "".join(project.sources["text"])
    spans = review_spans(seg, load_codebook(yaml_book), empty, labels)
    human = spans[spans["coder"] == "åsa"]
    whole = human.merge(
        seg, left_on=["interview_id", "start", "end"], right_on=["interview_id", "start_char", "end_char"]
    )
    assert len(human) == 9 and len(whole) == 9
    assert qdpx_bytes(project)  # still valid after the round trip


def test_foreign_qde_with_the_coder_on_the_selection_and_codes_by_label(study, tmp_path: Path):
    """As some tools write it: the user on <PlainTextSelection creatingUser>, none on <Coding>, the code known
    only by its name (the codebook's label), the text inline; the sheet is read through human_spans."""
    from xml.sax.saxutils import escape

    meta, originals = read_interviews(**study["files"])
    text = originals["E02"]
    start = text.index("Noggrannhet")
    end = start + len("Noggrannhet och tålamod.")
    qde = f"""<?xml version="1.0" encoding="utf-8"?>
<Project xmlns="urn:QDA-XML:project:1.0" name="atlas">
  <Users><User guid="aaaaaaaa-0000-0000-0000-000000000001" name="Märta"/></Users>
  <CodeBook><Codes><Code guid="bbbbbbbb-0000-0000-0000-000000000001" name="Övriga förmågor" isCodable="true"/></Codes>
  </CodeBook>
  <Sources><TextSource guid="cccccccc-0000-0000-0000-000000000001" name="E02.txt">
    <PlainTextContent>{escape(text)}</PlainTextContent>
    <PlainTextSelection guid="dddddddd-0000-0000-0000-000000000001" startPosition="{start}" endPosition="{end}"
        creatingUser="aaaaaaaa-0000-0000-0000-000000000001">
      <Coding guid="eeeeeeee-0000-0000-0000-000000000001">
        <CodeRef targetGUID="bbbbbbbb-0000-0000-0000-000000000001"/></Coding>
    </PlainTextSelection>
  </TextSource></Sources>
</Project>"""
    path = tmp_path / "atlas.qde"
    path.write_text(qde, encoding="utf-8")
    spans = human_spans(path, study["segments"], study["book"], originals, meta)
    assert spans.iloc[0][["interview_id", "code", "coder"]].tolist() == ["E02", "KOMP.ÖVRIGT", "Märta"]
    redacted = redact(text)[0]
    assert redacted[spans.loc[0, "start"] : spans.loc[0, "end"]] == "Noggrannhet och tålamod."
