"""Stance of a keyword mention: ``krav`` (required / expected), ``inte_krav`` (explicitly not required) or
``neutral`` (hedged, a merit, hypothetical).

Rules, applied to the tokens of one text with their clause numbers (a clause ends at ``. , ; : ! ?`` and
before ``men``; see :mod:`insats.tasks.interviews.coding`). ``utan`` is a negation ("without") except at
the start of a clause within a sentence, where it is the conjunction ("inte prata, utan jobba"):

1. Hedge: a hedge word or phrase (:data:`HEDGES`, e.g. "meriterande", "bra om", "bra att ha", "gärna",
   "underlättar") in the mention's clause, or a following clause made only of hedge adverbs ("körkort,
   helst") -> ``neutral``. A hypothetical clause (``om`` ... ``skulle``) -> ``neutral``.
2. Negation: the negation words of the clause on *both* sides of the keyword are counted (``NEGATIONS``;
   "körkort spelar ingen roll för oss", "svenskan är faktiskt inte det viktigaste"); an odd count ->
   ``inte_krav``, an even count is affirmative ("det går inte utan svenska"). The answer particles "nej"/"nä"
   are not counted ("nej, det kräver vi inte" has one negation).
3. Praise and litotes: a negation of a negative trait in the clause (:data:`NEGATIVE_TRAITS`: "sen", "rädd",
   "ovan", ...) affirms the quality -> ``krav`` ("hon är aldrig sen", "han är aldrig sjuk", "man ska inte
   vara rädd för datorer").
4. Otherwise ``krav``: *explicit* when the clause has a requirement word (:data:`REQUIREMENT`: "måste",
   "krav", "kräver", "behöver", "viktig", ...) or opens with the contrast "men", *plain* when the keyword is
   only mentioned.

Several mentions of one code in a segment or turn combine by :func:`combine_readings`: the explicit readings
(hedged, negated, praised or required) decide when there are any, else the plain ones; among them krav >
neutral > inte_krav (:func:`combine`; a turn that requires the code for some roles and not for others still
states a requirement). So "vi har appen i mobilen ... datorvana är inget vi bryr oss om" is ``inte_krav``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

STANCES: tuple[str, ...] = ("krav", "neutral", "inte_krav")
NEGATIONS: frozenset[str] = frozenset(
    {"inte", "int", "ej", "icke", "ingen", "inget", "inga", "inge", "aldrig", "utan", "knappt", "ingenting"}
)
HEDGES: tuple[tuple[str, ...], ...] = (
    ("meriterande",), ("meritera",), ("merit",), ("bra", "om"), ("bra", "att", "ha"), ("gärna",), ("helst",),
    ("underlätta",), ("fördel",), ("önskvärd",), ("plus", "i", "kanten"), ("skada", "inte"),
)  # fmt: skip
TRAILING_HEDGES: frozenset[str] = frozenset({"helst", "gärna", "kanske", "eventuellt", "möjligen"})
HYPOTHETICAL: tuple[str, str] = ("om", "skulle")
NEGATIVE_TRAITS: frozenset[str] = frozenset(
    {"sen", "sena", "sent", "försenad", "frånvarande", "borta", "sjuk", "rädd", "ovan", "slarvig", "otrevlig"}
)
REQUIREMENT: frozenset[str] = frozenset(
    {"måste", "krav", "kräva", "krävs", "behöva", "behövs", "viktig", "viktigt", "viktigast", "nödvändig",
     "förutsättning", "lagkrav", "ska", "skall", "grej", "tvungen"}
)  # fmt: skip


@dataclass(frozen=True)
class Word:
    """One token for stance reading: ``lower`` surface form, ``lemma``, ``clause`` and ``sentence`` numbers."""

    lower: str
    lemma: str
    clause: int
    sentence: int = 0


def _has(seq: Sequence[str], pattern: tuple[str, ...]) -> bool:
    k = len(pattern)
    return any(tuple(seq[i : i + k]) == pattern for i in range(len(seq) - k + 1))


def _forms(words: Sequence[Word]) -> tuple[list[str], list[str]]:
    return [w.lower for w in words], [w.lemma for w in words]


def _negation(words: Sequence[Word], i: int) -> bool:
    w = words[i]
    if w.lower == "utan" and i > 0 and words[i - 1].clause != w.clause and words[i - 1].sentence == w.sentence:
        return False  # "utan" opening a clause inside a sentence is the conjunction ("inte prata, utan jobba")
    return w.lower in NEGATIONS or w.lemma in NEGATIONS


def mention_stance(words: Sequence[Word], first: int, last: int) -> str:
    """Stance of the keyword mention covering ``words[first:last]`` (module docstring, rules 1-4)."""
    return mention_reading(words, first, last)[0]


def mention_reading(words: Sequence[Word], first: int, last: int) -> tuple[str, bool]:
    """(stance, explicit) of the mention covering ``words[first:last]``; ``explicit`` is False only for a
    ``krav`` read from a bare mention (no hedge, negation, praise or requirement word in the clause)."""
    clause = words[first].clause
    span = [w for w in words if w.clause == clause]
    lowers, lemmas = _forms(span)
    if any(_has(lowers, h) or _has(lemmas, h) for h in HEDGES):
        return "neutral", True
    following = [w for w in words if w.clause == clause + 1]
    if following and all(w.lower in TRAILING_HEDGES for w in following):
        return "neutral", True
    if HYPOTHETICAL[0] in lowers and HYPOTHETICAL[1] in lowers:
        return "neutral", True
    keyword = set(range(first, last))
    negations = sum(1 for i, w in enumerate(words) if w.clause == clause and i not in keyword and _negation(words, i))
    if negations % 2 == 0:
        contrast = span[0].lower == "men"  # "inte för lagret, men körkort är bra för chaufförerna" asserts
        return "krav", contrast or any(w.lower in REQUIREMENT or w.lemma in REQUIREMENT for w in span)
    if any(w.lower in NEGATIVE_TRAITS or w.lemma in NEGATIVE_TRAITS for w in span):
        return "krav", True
    return "inte_krav", True


def combine(stances: Iterable[str]) -> str:
    """One stance for several mentions: ``krav`` if any, else ``neutral`` if any, else ``inte_krav``.
    Raises ValueError for an empty iterable or an unknown stance."""
    seen = list(stances)
    unknown = sorted(set(seen) - set(STANCES))
    if unknown or not seen:
        raise ValueError(f"stances must be a non-empty list of {STANCES}, got {seen!r}")
    return next(s for s in STANCES if s in seen)


def combine_readings(readings: Iterable[tuple[str, bool]]) -> str:
    """One stance for several (stance, explicit) readings: :func:`combine` of the explicit ones if any, else of
    all. Raises ValueError for an empty iterable."""
    seen = list(readings)
    explicit = [s for s, e in seen if e]
    return combine(explicit or [s for s, _ in seen])


ANSWER_NO: frozenset[str] = frozenset({"nej", "nä", "näe", "nää", "nix", "nope"})
ANSWER_HEDGE: frozenset[str] = frozenset({"nja", "jein", "kanske", "delvis"})


def answer_stance(words: Sequence[Word]) -> str:
    """Stance of an answer to a question about a code, from its first clause: "nej"/"nä" first or an odd
    number of negations -> ``inte_krav``; "nja" or a hedge -> ``neutral``; otherwise ``krav``
    ("Självklart.", "Vi börjar halv sju."). An empty answer is ``neutral``."""
    if not words:
        return "neutral"
    first = [w for w in words if w.clause == words[0].clause]
    if first[0].lower in ANSWER_NO:
        return "inte_krav"
    lowers, lemmas = _forms(first)
    if first[0].lower in ANSWER_HEDGE or any(_has(lowers, h) or _has(lemmas, h) for h in HEDGES):
        return "neutral"
    return "inte_krav" if sum(_negation(words, i) for i in range(len(first))) % 2 else "krav"
