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

Refinements (round 2, from the dev half's errors; general Swedish patterns):

- Counterfactual: a sentence opening with "hade" ("Hade vi kunnat välja hade vi tagit folk med
  restaurangutbildning") or with ``om`` ... ``hade`` -> ``neutral`` (as ``om`` ... ``skulle``).
- Coordinated negation: a negation right after "och"/"å"/"samt" that follows the keyword negates the next
  conjunct, not the keyword ("att de vill lära sig och inte ger upp" is a requirement).
- Conditional inversion: a clause opening with a finite verb and a subject pronoun is a condition ("Har man
  det inte ...", "Kan man inte svenska, så ..."); a negation in it states what is needed -> ``krav``.
- Relative clause: when every negation of the clause opens a relative clause ("dom som inte har nåt
  körkort bär"), it describes some people, not the requirement: a plain ``krav``.
- Learned on the job: a bare mention (plain ``krav``) in a turn that says it is learned quickly without a
  negation ("Det lär sig alla på en eftermiddag", "man lär sig på jobbet") -> ``inte_krav``; with one
  ("Hä ä int nåt man lär sig på en vecka") it stays ``krav``.

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
CONDITION_VERBS: frozenset[str] = frozenset(
    {"har", "hade", "kan", "kunde", "är", "e", "ä", "förstår", "pratar", "talar", "klarar", "saknar", "får"}
)  # a clause opening "<verb> <pronoun>" in an answer is a condition ("Har man inte körkort, ...")
PRONOUNS: frozenset[str] = frozenset({"man", "du", "ni", "han", "hon", "de", "dom", "den", "personen", "nån"})
CONJUNCTIONS: frozenset[str] = frozenset({"och", "å", "samt"})
OPENERS: frozenset[str] = frozenset({"fast", "men", "och", "å", "så"})  # skipped before a sentence's first word
LEARN_TIME: frozenset[str] = frozenset(
    {"dag", "förmiddag", "eftermiddag", "kväll", "vecka", "timme", "halvdag", "morgon", "minut", "jobb", "plats"}
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


def _opening(words: Sequence[Word]) -> list[Word]:
    """``words`` without leading discourse openers ("Fast", "Men", "Å")."""
    k = 0
    while k < len(words) - 1 and words[k].lower in OPENERS:
        k += 1
    return list(words[k:])


def _counterfactual(sentence: Sequence[Word]) -> bool:
    lowers = [w.lower for w in _opening(sentence)]
    return bool(lowers) and (lowers[0] == "hade" or ("om" in lowers and "hade" in lowers[lowers.index("om") :]))


def _conditional(span: Sequence[Word]) -> bool:
    opened = _opening(span)
    return len(opened) > 2 and opened[0].lower in CONDITION_VERBS and opened[1].lower in PRONOUNS


def learned_quickly(words: Sequence[Word]) -> bool:
    """True when a clause says something is learned quickly or on the job, without a negation: "lära sig"
    with "på (en|ett|nån) <dag/förmiddag/vecka/jobbet/plats...>" ("Det lär sig alla på en eftermiddag")."""
    for clause in dict.fromkeys(w.clause for w in words):
        idx = [i for i, w in enumerate(words) if w.clause == clause]
        span = [words[i] for i in idx]
        lemmas = [w.lemma for w in span]
        learn = any(w.lemma == "lära" or w.lower in ("lär", "lära", "lärt", "lärde") for w in span)
        if not learn or "sig" not in [w.lower for w in span] or "på" not in lemmas:
            continue
        after = lemmas[lemmas.index("på") + 1 :]
        after = after[1:] if after and after[0] in {"en", "nån", "någon", "några"} else after
        if after and after[0] in LEARN_TIME and sum(_negation(words, i) for i in idx) % 2 == 0:
            return True
    return False


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
    if _counterfactual([w for w in words if w.sentence == words[first].sentence]):
        return "neutral", True
    keyword = set(range(first, last))
    counted = [
        i for i, w in enumerate(words)
        if w.clause == clause and i not in keyword and _negation(words, i)
        and not (i > last and words[i - 1].lower in CONJUNCTIONS)  # "vill lära sig och inte ger upp"
    ]  # fmt: skip
    if len(counted) % 2 == 0:
        contrast = span[0].lower == "men"  # "inte för lagret, men körkort är bra för chaufförerna" asserts
        explicit = contrast or any(w.lower in REQUIREMENT or w.lemma in REQUIREMENT for w in span)
        if not explicit and learned_quickly(words):
            return "inte_krav", True
        return "krav", explicit
    if any(w.lower in NEGATIVE_TRAITS or w.lemma in NEGATIVE_TRAITS for w in span):
        return "krav", True
    if _conditional(span):  # "Har man det inte kan vi bekosta utbildningen": what is needed
        return "krav", True
    if all(i > 0 and words[i - 1].lower == "som" for i in counted):  # "dom som inte har nåt körkort bär"
        return "krav", False
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
