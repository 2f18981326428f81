"""Study 1: reading transcripts (TXT encodings, DOCX), segmenting them into turns, and redaction."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pytest

from insats.tasks.interviews.redaction import redact
from insats.tasks.interviews.transcripts import read_transcript, segment_turns


def test_read_txt_encodings_and_normalisation(tmp_path: Path):
    body = "I: Vad krävs?\r\nR: Körkort och språket, två måsten.\r\n"
    (tmp_path / "bom.txt").write_bytes(body.encode("utf-8-sig"))
    (tmp_path / "win.txt").write_bytes(body.encode("cp1252"))
    (tmp_path / "nfd.txt").write_text(unicodedata.normalize("NFD", body), encoding="utf-8")
    expected = "I: Vad krävs?\nR: Körkort och språket, två måsten.\n"
    for name in ("bom.txt", "win.txt", "nfd.txt"):
        assert read_transcript(tmp_path / name) == expected, name


def test_read_docx(tmp_path: Path):
    import docx

    document = docx.Document()
    for line in ("Intervju X", "Intervjuare: Hur går det?", "Respondent: Jättebra, tack för frågan."):
        document.add_paragraph(line)
    document.save(str(tmp_path / "x.docx"))
    text = read_transcript(tmp_path / "x.docx")
    assert text == "Intervju X\nIntervjuare: Hur går det?\nRespondent: Jättebra, tack för frågan."


def test_read_rejects_unknown_suffix_and_bad_docx(tmp_path: Path):
    (tmp_path / "a.pdf").write_bytes(b"%PDF")
    with pytest.raises(ValueError, match=r"a\.pdf.*expected \.txt or \.docx"):
        read_transcript(tmp_path / "a.pdf")
    (tmp_path / "b.docx").write_text("not a zip", encoding="utf-8")
    with pytest.raises(ValueError, match=r"b\.docx"):
        read_transcript(tmp_path / "b.docx")
    with pytest.raises(FileNotFoundError):
        read_transcript(tmp_path / "missing.txt")


def test_segment_turns_multiline_and_empty_turns():
    text = "Rubrik\n\nI: Första frågan?\nR: Svar som\nfortsätter här.\n\nI:\nR2: Andra svaret."
    seg = segment_turns(text, "X1")
    assert list(seg["segment_id"]) == ["X1-001", "X1-002", "X1-004"]  # empty turn 3 dropped
    assert list(seg["speaker_role"]) == ["interviewer", "respondent", "respondent"]
    assert seg.loc[1, "text"] == "Svar som\nfortsätter här."
    for row in seg.itertuples():
        assert text[row.start_char : row.end_char] == row.text


def test_segment_turns_without_turns_raises():
    with pytest.raises(ValueError, match=r"interview E99: no speaker turns found.*'I:'"):
        segment_turns("Bara löptext utan talare.\nIngen struktur.", "E99")


def test_segment_turns_custom_pattern_and_roles():
    text = "F: Hur är läget?\nS: Bra."
    with pytest.raises(ValueError, match="speaker label 'F' has no role"):
        segment_turns(text, "C1", speaker_pattern=r"^(?P<speaker>[FS]):")
    seg = segment_turns(
        text,
        "C1",
        speaker_pattern=r"^(?P<speaker>[FS]):",
        speaker_roles={"F": "interviewer", "S": "respondent"},
    )
    assert list(seg["speaker_role"]) == ["interviewer", "respondent"] and list(seg["text"]) == [
        "Hur är läget?",
        "Bra.",
    ]
    with pytest.raises(ValueError, match="named group"):
        segment_turns(text, "C1", speaker_pattern=r"^[FS]:")


@pytest.mark.parametrize(
    "phone",
    ["070-123 45 67", "0701234567", "070 123 45 67", "+46 70 123 45 67", "+46701234567", "016-12 34 56",
     "+46 (0)16 12 34 56"],
)  # fmt: skip
def test_redact_phone_formats(phone):
    text, log = redact(f"Ring mig på {phone} efter lunch.")
    assert text == "Ring mig på [TELEFON] efter lunch." and [e["kind"] for e in log] == ["phone"]


def test_redact_identity_numbers_but_not_lookalikes():
    text, log = redact("Han har 850612-9884, hon 19850672-9881 (samordningsnummer).")
    assert text == "Han har [PERSONNUMMER], hon [PERSONNUMMER] (samordningsnummer)."
    keep = "Möte 2025-03-14, kommun 0484, order 19850612-9881 (fel kontrollsiffra), 12 500 kr, år 2024."
    assert redact(keep) == (keep, [])


def test_redact_email_and_names_case_insensitive_with_genitive():
    text, log = redact("Maila Per.Olsson@firma.se eller fråga Kalle; kalles chef vet.", names=["Kalle", ""])
    assert text == "Maila [E-POST] eller fråga [NAMN]; [NAMN] chef vet."
    assert [e["kind"] for e in log] == ["email", "name", "name"]
    assert all("Kalle" not in str(v) and "Olsson" not in str(v) for e in log for v in e.values())
    with pytest.raises(ValueError, match=r"names\[0\]"):
        redact("x", names=[None])  # type: ignore[list-item]


def test_a_site_speaker_pattern_segments_named_speakers():
    from insats.tasks.interviews.transcripts import segment_turns

    text = "Moderator: Vad krävs?\nAnna: Svenska.\nModerator: Något mer?\nBo: Körkort.\n"
    pattern = r"^(?P<speaker>Moderator|Anna|Bo):"
    seg = segment_turns(
        text, "FG9", pattern, speaker_roles={"Moderator": "interviewer", "Anna": "respondent", "Bo": "respondent"}
    )
    assert list(seg["speaker"]) == ["Moderator", "Anna", "Moderator", "Bo"]
    assert list(seg["speaker_role"]) == ["interviewer", "respondent", "interviewer", "respondent"]
