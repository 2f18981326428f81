"""Reading interview transcripts and splitting them into speaker turns.

Transcripts are ``.txt`` (UTF-8, UTF-8 with BOM, or cp1252 as exported by older Windows tools) or
``.docx`` (one paragraph per turn is typical, but any layout works because turns are found by the
speaker pattern, not by paragraphs). Turns start at the beginning of a line with a speaker label and a
colon: ``I:`` / ``R:`` or ``Intervjuare:`` / ``Respondent:`` by default; a turn runs until the next label,
so wrapped continuation lines belong to the turn. Text before the first label (a header) is ignored.

Order of operations in the pipeline: ``read_transcript`` -> ``redaction.redact`` -> ``segment_turns``.
Segment offsets therefore refer to the normalised, *redacted* text, never to the raw file.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

# A label at the start of a line (leading blanks allowed) followed by a colon. Longer labels come first
# in the alternation so that "Intervjuare" is not read as "I". Digits allow several respondents (R1, R2).
DEFAULT_SPEAKER_PATTERN = (
    r"^[ \t]*(?P<speaker>Intervjuare|Interviewer|Int|Respondent\d*|Informant\d*|IP\d*|I|R\d*)[ \t]*:"
)

# Labels (lower case, trailing digits removed) -> role. Extend per call with ``speaker_roles``.
DEFAULT_SPEAKER_ROLES: dict[str, str] = {
    "i": "interviewer",
    "int": "interviewer",
    "intervjuare": "interviewer",
    "interviewer": "interviewer",
    "r": "respondent",
    "ip": "respondent",
    "respondent": "respondent",
    "informant": "respondent",
}

SEGMENT_COLUMNS = [
    "interview_id",
    "segment_id",
    "turn",
    "speaker",
    "speaker_role",
    "start_char",
    "end_char",
    "text",
]
_ROLES = {"interviewer", "respondent"}


def normalise_transcript_text(text: str) -> str:
    """Unicode NFC, line endings to ``\\n``, BOM removed. All offsets downstream refer to this form."""
    text = text.replace("\ufeff", "")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text)


def _read_txt(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        pass
    try:
        # Windows exports of Swedish text: å ä ö are single bytes 0xE5 0xE4 0xF6 in cp1252.
        return raw.decode("cp1252")
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: transcript is neither UTF-8 nor cp1252 text ({exc})") from exc


def _read_docx(path: Path) -> str:
    import docx  # python-docx; imported here because only .docx transcripts need it

    try:
        document = docx.Document(str(path))
    except Exception as exc:  # python-docx raises several unrelated types for a corrupt package
        raise ValueError(f"{path}: cannot be opened as a .docx document ({exc})") from exc
    return "\n".join(p.text for p in document.paragraphs)


def read_transcript(path: Path) -> str:
    """Return the transcript text of a ``.txt`` or ``.docx`` file, NFC-normalised with ``\\n`` line ends.

    ``.txt``: UTF-8 (BOM optional), falling back to cp1252. ``.docx``: the body paragraphs joined by
    ``\\n`` (tables, headers and footnotes are not read). Any other suffix raises ValueError naming
    the file; a missing file raises FileNotFoundError.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in {".txt", ".docx"}:
        raise ValueError(f"{path}: unsupported transcript format {path.suffix!r}; expected .txt or .docx")
    if not path.is_file():
        raise FileNotFoundError(f"{path}: transcript not found")
    text = _read_txt(path) if suffix == ".txt" else _read_docx(path)
    return normalise_transcript_text(text)


def speaker_role(speaker: str, speaker_roles: Mapping[str, str] | None = None) -> str | None:
    """Role ("interviewer"/"respondent") of a speaker label, or None if unknown.

    ``speaker_roles`` (exact labels, case-insensitive) is consulted first, then the defaults on the
    label with trailing digits removed (``R2`` -> ``r``).
    """
    key = speaker.strip().lower()
    if speaker_roles:
        lowered = {k.strip().lower(): v for k, v in speaker_roles.items()}
        if key in lowered:
            return lowered[key]
    return DEFAULT_SPEAKER_ROLES.get(key.rstrip("0123456789"))


def segment_turns(
    text: str,
    interview_id: str,
    speaker_pattern: str = DEFAULT_SPEAKER_PATTERN,
    speaker_roles: Mapping[str, str] | None = None,
) -> pd.DataFrame:
    """Split a (normalised, redacted) transcript into one segment per speaker turn.

    ``speaker_pattern`` is a regular expression applied with ``re.MULTILINE`` that must define a named
    group ``speaker`` and match the whole label including the colon; the turn text runs from the end of
    the match to the start of the next match, with surrounding whitespace trimmed.

    Returns columns: interview_id (str), segment_id (``f"{interview_id}-{turn:03d}"``), turn (int,
    1-based order of labels in the file), speaker (the label as written), speaker_role
    ("interviewer"/"respondent"), start_char, end_char (int offsets into ``text`` such that
    ``text[start_char:end_char] == text`` column), text. Turns with no text after the label are dropped
    (their turn numbers are skipped), so ``end_char > start_char`` always holds.

    Raises ValueError when no turn is found, when the pattern lacks a ``speaker`` group, or when a label
    maps to no role (pass ``speaker_roles`` to map custom labels).
    """
    pattern = re.compile(speaker_pattern, re.MULTILINE)
    if "speaker" not in pattern.groupindex:
        raise ValueError(f"speaker_pattern {speaker_pattern!r} must define a named group (?P<speaker>...)")
    matches = list(pattern.finditer(text))
    if not matches:
        raise ValueError(
            f"interview {interview_id}: no speaker turns found; expected lines starting with a speaker label "
            f"such as 'I:' / 'R:' or 'Intervjuare:' / 'Respondent:' (pattern {speaker_pattern!r})"
        )
    rows: list[dict[str, object]] = []
    for n, m in enumerate(matches, start=1):
        speaker = m.group("speaker")
        role = speaker_role(speaker, speaker_roles)
        if role not in _ROLES:
            raise ValueError(
                f"interview {interview_id}, turn {n}: speaker label {speaker!r} has no role; expected one of "
                f"{sorted(DEFAULT_SPEAKER_ROLES)} or a speaker_roles mapping to 'interviewer'/'respondent'"
            )
        stop = matches[n].start() if n < len(matches) else len(text)
        chunk = text[m.end() : stop]
        stripped = chunk.strip()
        if not stripped:
            continue
        start = m.end() + (len(chunk) - len(chunk.lstrip()))
        end = start + len(stripped)
        rows.append(
            {
                "interview_id": interview_id,
                "segment_id": f"{interview_id}-{n:03d}",
                "turn": n,
                "speaker": speaker,
                "speaker_role": role,
                "start_char": start,
                "end_char": end,
                "text": stripped,
            }
        )
    if not rows:
        raise ValueError(f"interview {interview_id}: speaker labels found but every turn is empty")
    return pd.DataFrame(rows, columns=SEGMENT_COLUMNS).astype(
        {"turn": "int64", "start_char": "int64", "end_char": "int64"}
    )
