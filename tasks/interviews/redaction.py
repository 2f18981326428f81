"""Redaction of personal data in transcripts before they are segmented, coded or stored.

What is replaced (placeholder):

- Swedish personnummer / samordningsnummer with a valid date and check digit (``insats.tasks.identity``),
  10 or 12 digits, with or without ``-``/``+``: ``[PERSONNUMMER]``
- e-mail addresses: ``[E-POST]``
- Swedish phone numbers: ``07x-xxx xx xx``, ``070 123 45 67``, ``0701234567``, landlines such as
  ``016-12 34 56`` (a leading 0 followed by 7-9 digits with single spaces or hyphens between groups) and
  international ``+46 70 123 45 67`` / ``+46 (0)16 12 34 56``: ``[TELEFON]``
- street addresses ("Storgatan 12", "Kungsvägen 3B", "Drottning Kristinas väg 4, 123 45 Eskilstuna") and
  postcodes with their town (``names.find_addresses``): ``[ADRESS]``
- person names, found without a list given in advance (``names.find_names``: the shipped Swedish and
  other first-name and surname lists, and capitalised words mid-sentence that are rare in Swedish), plus the
  caller's names (whole words, case-insensitive, genitive ``-s`` included): ``[NAMN]``. ``detect_names=False``
  keeps only the caller's list.

Redaction runs on the normalised transcript (``transcripts.read_transcript``) and *before*
``transcripts.segment_turns``: segment offsets refer to the redacted text. The log records kind and the
span of each placeholder in the redacted text; it never contains the replaced value. :func:`redaction_counts`
sums a log by kind.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from insats.tasks.identity import find_identity_numbers
from insats.tasks.interviews.names import find_addresses, find_names

PLACEHOLDERS: dict[str, str] = {
    "identity_number": "[PERSONNUMMER]",
    "email": "[E-POST]",
    "phone": "[TELEFON]",
    "address": "[ADRESS]",
    "name": "[NAMN]",
}
KINDS = tuple(PLACEHOLDERS)

EMAIL_PATTERN = re.compile(r"(?<![\w.+-])[\w.+-]+@[\w-]+(?:\.[\w-]+)*\.[A-Za-z]{2,}(?![\w-])")
# Domestic: 0 + 7..9 digits (area code and number), single space/hyphen allowed between digits.
# International: +46, optional "(0)", then 7..9 digits. Not inside a longer digit run or word.
PHONE_PATTERN = re.compile(
    r"(?<![\w+])(?:\+46[ -]?(?:\(0\)[ -]?)?[1-9](?:[ -]?\d){6,8}|0[1-9](?:[ -]?\d){6,8})(?![\d])"
)


def _name_pattern(names: Sequence[str]) -> re.Pattern[str] | None:
    cleaned: list[str] = []
    for i, name in enumerate(names):
        if not isinstance(name, str):
            raise ValueError(f"names[{i}] must be a string, got {type(name).__name__}")
        if name.strip():
            cleaned.append(name.strip())
    if not cleaned:
        return None
    # Longest first so "Anna Lindqvist" wins over "Anna"; any whitespace between name parts.
    parts = [r"\s+".join(re.escape(p) for p in n.split()) for n in sorted(set(cleaned), key=len, reverse=True)]
    return re.compile(r"(?<!\w)(?:" + "|".join(parts) + r")s?(?!\w)", re.IGNORECASE)


def find_personal_data(
    text: str, names: Sequence[str] = (), detect_names: bool = True
) -> list[tuple[int, int, str, str]]:
    """Non-overlapping ``(start, end, kind, rule)`` spans of personal data in ``text``, sorted by start.

    Priority when spans overlap: identity number, e-mail, phone, address, configured name, detected name (a
    longer/more specific finding is never cut by a later kind). ``rule`` says how a name was found:
    "configured", "list" or "rare" (see ``names.find_names``); "" for the other kinds.
    """
    candidates: list[tuple[str, str, list[tuple[int, int]]]] = [
        ("identity_number", "", find_identity_numbers(text)),
        ("email", "", [m.span() for m in EMAIL_PATTERN.finditer(text)]),
        ("phone", "", [m.span() for m in PHONE_PATTERN.finditer(text)]),
        ("address", "", find_addresses(text)),
    ]
    name_re = _name_pattern(names)
    if name_re is not None:
        candidates.append(("name", "configured", [m.span() for m in name_re.finditer(text)]))
    if detect_names:
        extra = frozenset(p for n in names if isinstance(n, str) for p in n.split() if p[:1].isupper())
        found = find_names(text, extra)
        for rule in ("list", "rare"):
            candidates.append(("name", rule, [(a, b) for a, b, r in found if r == rule]))
    accepted: list[tuple[int, int, str, str]] = []
    for kind, rule, spans in candidates:
        for start, end in spans:
            if all(end <= a or start >= b for a, b, _, _ in accepted):
                accepted.append((start, end, kind, rule))
    return sorted(accepted)


def redact(text: str, names: Sequence[str] = (), detect_names: bool = True) -> tuple[str, list[dict[str, object]]]:
    """Replace personal data in ``text`` by placeholders; return ``(redacted_text, log)``.

    ``log`` has one dict per replacement: ``kind`` (one of :data:`KINDS`), ``placeholder``, and
    ``start``/``end`` of the placeholder in the *redacted* text. The replaced value is never logged (how a name
    was found: :func:`find_personal_data`).
    """
    pieces: list[str] = []
    log: list[dict[str, object]] = []
    cursor = 0
    out_len = 0
    for start, end, kind, _rule in find_personal_data(text, names, detect_names):
        kept = text[cursor:start]
        pieces.append(kept)
        out_len += len(kept)
        placeholder = PLACEHOLDERS[kind]
        pieces.append(placeholder)
        log.append({"kind": kind, "placeholder": placeholder, "start": out_len, "end": out_len + len(placeholder)})
        out_len += len(placeholder)
        cursor = end
    pieces.append(text[cursor:])
    return "".join(pieces), log


def redaction_counts(log: Sequence[dict[str, object]]) -> dict[str, int]:
    """Replacements per kind (every kind of :data:`KINDS`, 0 when none) in one or more concatenated logs."""
    counts = dict.fromkeys(KINDS, 0)
    for entry in log:
        counts[str(entry["kind"])] += 1
    return counts


def map_offsets(text: str, positions: Sequence[int], names: Sequence[str] = (), detect_names: bool = True) -> list[int]:
    """Map character offsets in the *unredacted* ``text`` to offsets in ``redact(text, names)[0]``.

    Used to carry human coding made on the original transcript (NVivo, a CSV of spans) onto the redacted
    text that segments refer to. An offset inside a redacted value maps into its placeholder (clamped to
    the placeholder's length); offsets outside move by the length change of the replacements before them.
    Raises ValueError for an offset outside ``0..len(text)``.
    """
    found = find_personal_data(text, names, detect_names)
    out: list[int] = []
    for pos in positions:
        if not 0 <= int(pos) <= len(text):
            raise ValueError(f"offset {pos} outside the text (0..{len(text)})")
        shift = 0
        mapped = int(pos)
        for start, end, kind, _rule in found:
            delta = len(PLACEHOLDERS[kind]) - (end - start)
            if end <= pos:
                shift += delta
            elif start < pos:  # inside a redacted value
                mapped = start + min(int(pos) - start, len(PLACEHOLDERS[kind]))
                break
        out.append(mapped + shift)
    return out
