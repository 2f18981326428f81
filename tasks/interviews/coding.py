"""Deductive dictionary coding of Swedish transcript segments against a codebook.

Pipeline per segment, deterministic and explainable:

1. Normalise: Unicode NFC and lower case (``normalise``).
2. Tokenise with ``nltk.tokenize.RegexpTokenizer(r"\\w+")`` (``\\w`` keeps å ä ö; punctuation dropped).
3. Lemmatise each token with simplemma's Swedish dictionary (:mod:`insats.tasks.interviews.morphology`):
   ``svenskan`` -> ``svenska``, ``datorer`` -> ``dator``, ``kunderna`` -> ``kund``, ``körkortet`` -> ``körkort``.
4. Match every codebook keyword, lemmatised the same way, by one of three rules:

   - ``exact``: a one-word keyword whose lemma (or spelling) equals the token's;
   - ``phrase``: a multi-word keyword whose lemmas equal consecutive token lemmas within one clause;
   - ``compound``: a one-word keyword of >= 4 letters that is the head (``körkortskrav``, ``språkkrav``,
     ``datorvana``) or the tail (``undersköterskeutbildning``) of a longer token
     (:func:`insats.tasks.interviews.morphology.compound_parts`). A token with an exact or phrase match
     for any code gets no compound matches, so ``kundkontakt`` (a service keyword) is not also ``kontakt``.

5. Stance of each match, ``krav`` / ``inte_krav`` / ``neutral``, from its clause
   (:mod:`insats.tasks.interviews.stance`): negation anywhere in the clause, hedges, praise. A clause ends
   at ``. , ; : ! ?`` and before the conjunction ``men``.

A segment gets one row per code it mentions; its ``stance`` combines the mentions (krav > neutral >
inte_krav) and ``negated`` is ``stance == "inte_krav"`` (kept for readers of the old boolean).
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

import pandas as pd

from insats.tasks.interviews.codebook import Codebook
from insats.tasks.interviews.morphology import MIN_PART, compound_parts, lemma
from insats.tasks.interviews.stance import NEGATIONS, Word, answer_stance, combine_readings, mention_reading

NEGATION_WORDS: frozenset[str] = NEGATIONS
CLAUSE_BREAK_WORDS: frozenset[str] = frozenset({"men"})
CODED_COLUMNS = ["interview_id", "segment_id", "code_id", "matched", "negated", "stance"]
MATCH_COLUMNS = ["code_id", "keyword", "rule", "start_char", "end_char", "matched", "negated", "stance"]


@functools.cache
def _tokenizer() -> Any:
    """``RegexpTokenizer(r"\\w+")``, imported on first use: importing nltk costs seconds (it pulls in scipy.stats
    and sklearn), which a chain whose study 1 is cached never needs to pay."""
    from nltk.tokenize import RegexpTokenizer

    return RegexpTokenizer(r"\w+")


_CLAUSE_PUNCT = re.compile(r"[.,;:!?]")
_SENTENCE_PUNCT = re.compile(r"[.!?]")


def normalise(text: str) -> str:
    """NFC and lower case (Swedish letters keep their identity: Å -> å)."""
    return unicodedata.normalize("NFC", text).lower()


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens (``\\w+``) of ``text``."""
    return _tokenizer().tokenize(normalise(text))


def stem(token: str) -> str:
    """Lemma of one lower-case token (:func:`insats.tasks.interviews.morphology.lemma`; cached there).
    Kept under this name for callers such as TF-IDF features in ``suggest``."""
    return lemma(token)


def keyword_stems(keyword: str) -> tuple[str, ...]:
    """Lemmas of a keyword or phrase, tokenised like the text: ``"prata svenska"`` -> ``("prata", "svenska")``."""
    return tuple(lemma(t) for t in tokenize(keyword))


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    lower: str
    stem: str
    clause: int
    sentence: int


def _tokens(text: str) -> list[_Token]:
    spans = list(_tokenizer().span_tokenize(text))
    breaks = [m.start() for m in _CLAUSE_PUNCT.finditer(text)]
    stops = [m.start() for m in _SENTENCE_PUNCT.finditer(text)]
    out: list[_Token] = []
    extra = 0
    for start, end in spans:
        lower = normalise(text[start:end])
        clause = bisect.bisect_left(breaks, start) + extra
        if lower in CLAUSE_BREAK_WORDS:
            extra += 1
            clause += 1
        out.append(_Token(start, end, lower, lemma(lower), clause, bisect.bisect_left(stops, start)))
    return out


_Index = list[tuple[str, str, tuple[frozenset[str], ...]]]


def _words(tokens: list[_Token]) -> list[Word]:
    return [Word(t.lower, t.stem, t.clause, t.sentence) for t in tokens]


def text_stance(text: str) -> str:
    """The stance (``krav`` / ``inte_krav`` / ``neutral``) of a whole answer that names no keyword itself."""
    return answer_stance(_words(_tokens(text)))


def _keyword_index(codebook: Codebook) -> _Index:
    """(code_id, keyword, per keyword word its forms {spelling, lemma}): simplemma lemmatises the base form
    of some words differently from their inflections (``dator`` -> ``data``, ``datorer`` -> ``dator``), so a
    keyword word matches a token when any of their forms agree."""
    index: _Index = []
    for code in codebook.codes:
        for kw in code.keywords:
            words = tokenize(kw)
            if words:
                index.append((code.id, kw, tuple(frozenset({w, lemma(w)}) for w in words)))
    return index


def _find_matches(tokens: list[_Token], index: _Index) -> list[tuple[str, str, str, int, int, tuple[str, bool]]]:
    """(code_id, keyword, rule, first_token, last_token_exclusive, (stance, explicit)) for one text, deduplicated."""
    keys = [{t.stem, t.lower} for t in tokens]
    found: list[tuple[str, str, str, int, int]] = []
    direct: set[int] = set()  # tokens covered by an exact or phrase match
    present = set().union(*keys) if keys else set()
    for code_id, kw, kst in index:
        k = len(kst)
        if not kst[0] & present:  # cheap pre-check: the keyword's first word occurs nowhere in the text
            continue
        for i in range(len(tokens) - k + 1):
            if all(kst[j] & keys[i + j] for j in range(k)) and tokens[i].clause == tokens[i + k - 1].clause:
                found.append((code_id, kw, "exact" if k == 1 else "phrase", i, i + k))
                direct.update(range(i, i + k))
    vocabulary = frozenset(f for _, _, kst in index if len(kst) == 1 for f in kst[0] if len(f) >= MIN_PART)
    for i, t in enumerate(tokens):
        if i in direct or len(t.lower) < 2 * MIN_PART:
            continue
        parts = compound_parts(t.lower, vocabulary)
        for code_id, kw, kst in index:
            if len(kst) == 1 and kst[0] & parts:
                found.append((code_id, kw, "compound", i, i + 1))
    # Drop a match contained in another match of the same code ("svenska" inside "prata svenska"),
    # and repeated hits of the same span by several keywords of one code.
    found.sort(key=lambda m: (m[3], -(m[4] - m[3])))
    kept: list[tuple[str, str, str, int, int]] = []
    for m in found:
        if any(k[0] == m[0] and k[3] <= m[3] and m[4] <= k[4] for k in kept):
            continue
        kept.append(m)
    words = _words(tokens)
    return [(c, kw, rule, a, b, mention_reading(words, a, b)) for c, kw, rule, a, b in kept]


def _spans(text: str, index: _Index) -> list[dict]:
    tokens = _tokens(text)
    rows = []
    for code_id, kw, rule, a, b, (stance, explicit) in _find_matches(tokens, index):
        start, end = tokens[a].start, tokens[b - 1].end
        rows.append(
            {
                "code_id": code_id,
                "keyword": kw,
                "rule": rule,
                "start_char": start,
                "end_char": end,
                "matched": text[start:end],
                "negated": stance == "inte_krav",
                "stance": stance,
                "explicit": explicit,
            }
        )
    return rows


def explain_matches(text: str, codebook: Codebook) -> pd.DataFrame:
    """Every keyword match in one text, for auditing the coding.

    Columns: code_id, keyword (as written in the codebook), rule ("exact"/"phrase"/"compound"),
    start_char, end_char (offsets into ``text``), matched (``text[start_char:end_char]``), negated,
    stance ("krav"/"inte_krav"/"neutral"). Sorted by position.
    """
    rows = _spans(text, _keyword_index(codebook))
    return pd.DataFrame(rows, columns=MATCH_COLUMNS).astype(
        {"start_char": "int64", "end_char": "int64", "negated": "bool"}
    )


def _unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for v in values:
        seen.setdefault(v, None)
    return list(seen)


def code_segments(
    segments: pd.DataFrame,
    codebook: Codebook,
    roles: tuple[str, ...] = ("respondent",),
    question_context: bool = False,
) -> pd.DataFrame:
    """Code each segment spoken by one of ``roles`` against every keyword of ``codebook``.

    ``segments`` needs columns interview_id, segment_id, speaker_role, text (as from
    ``transcripts.segment_turns``). Returns one row per (segment, code) mentioned, in segment order and
    then codebook order, with columns interview_id, segment_id, code_id, matched (the matched words as
    written, unique, "; "-joined in order of appearance), stance (the mentions combined by
    :func:`insats.tasks.interviews.stance.combine_readings`: explicit readings first; "krav" if any is, else
    "neutral" if any, else "inte_krav") and negated (bool, ``stance == "inte_krav"``). Codes without keywords
    (e.g. parents) are never assigned.

    ``question_context``: a code the preceding turn of another role (the interviewer's question, "Och
    körkort?") matched and the answer does not is given to the answer too, with matched ``"I: <words>"`` and
    the stance of the answer's opening (:func:`insats.tasks.interviews.stance.answer_stance`: "Nej." ->
    inte_krav). Off by default: answers often change the subject.
    """
    if not isinstance(roles, tuple) or not all(isinstance(r, str) for r in roles):
        raise ValueError(f"roles must be a tuple of role names such as ('respondent',), got {roles!r}")
    missing = [c for c in ("interview_id", "segment_id", "speaker_role", "text") if c not in segments.columns]
    if missing:
        raise ValueError(f"segments: missing column(s) {missing}; expected the output of segment_turns")
    if segments["segment_id"].duplicated().any():
        dup = segments.loc[segments["segment_id"].duplicated(), "segment_id"].iloc[0]
        raise ValueError(f"segments: segment_id {dup!r} occurs more than once")
    index = _keyword_index(codebook)
    order = {cid: i for i, cid in enumerate(codebook.ids)}
    rows: list[dict[str, object]] = []
    asked: dict[str, list[dict]] = {}  # codes of the last other-role turn (the question)
    previous = None
    for interview_id, segment_id, role, text in zip(
        segments["interview_id"], segments["segment_id"], segments["speaker_role"], segments["text"], strict=True
    ):
        if not isinstance(text, str):
            raise ValueError(f"segments: segment {segment_id!r} has non-text 'text' ({text!r})")
        if interview_id != previous:
            asked, previous = {}, interview_id
        if role not in roles:
            if question_context:
                asked = {}
                for m in _spans(text, index):
                    asked.setdefault(str(m["code_id"]), []).append(m)
            continue
        per_code: dict[str, list[dict]] = {}
        for m in _spans(text, index):
            per_code.setdefault(str(m["code_id"]), []).append(m)
        inherited = {c: ms for c, ms in asked.items() if c not in per_code}
        asked = {}
        for code_id in sorted([*per_code, *inherited], key=order.__getitem__):
            if code_id in inherited:
                stance = text_stance(text)
                matched = "I: " + "; ".join(_unique(str(m["matched"]) for m in inherited[code_id]))
                rows.append({"interview_id": interview_id, "segment_id": segment_id, "code_id": code_id,
                             "matched": matched, "negated": stance == "inte_krav", "stance": stance})  # fmt: skip
                continue
            ms = per_code[code_id]
            stance = combine_readings((str(m["stance"]), bool(m["explicit"])) for m in ms)
            rows.append(
                {
                    "interview_id": interview_id,
                    "segment_id": segment_id,
                    "code_id": code_id,
                    "matched": "; ".join(_unique(str(m["matched"]) for m in ms)),
                    "negated": stance == "inte_krav",
                    "stance": stance,
                }
            )
    return pd.DataFrame(rows, columns=CODED_COLUMNS).astype({"negated": "bool"})


SPAN_COLUMNS = ["interview_id", "segment_id", "start", "end", "code_id", "matched", "negated", "stance"]


def match_spans(segments: pd.DataFrame, codebook: Codebook, roles: tuple[str, ...] = ("respondent",)) -> pd.DataFrame:
    """Every keyword match as a span of the transcript (for export to QDA tools and for quotes).

    ``segments`` as for :func:`code_segments`, plus start_char. Columns: interview_id, segment_id, start,
    end (offsets into the transcript text the segments were cut from: ``start_char`` + offset in the
    segment), code_id, matched (the words), negated, stance (of this mention). One row per match (a code can
    match a segment twice).
    """
    missing = [c for c in ("interview_id", "segment_id", "speaker_role", "start_char", "text") if c not in segments]
    if missing:
        raise ValueError(f"segments: missing column(s) {missing}; expected the output of segment_turns")
    index = _keyword_index(codebook)
    rows = []
    chosen = segments[segments["speaker_role"].isin(roles)]
    for iid, sid, offset, text in zip(
        chosen["interview_id"], chosen["segment_id"], chosen["start_char"], chosen["text"], strict=True
    ):
        for m in _spans(str(text), index):
            rows.append((iid, sid, int(offset) + int(m["start_char"]), int(offset) + int(m["end_char"]),
                         m["code_id"], m["matched"], m["negated"], m["stance"]))  # fmt: skip
    return pd.DataFrame(rows, columns=SPAN_COLUMNS).astype({"start": "int64", "end": "int64", "negated": "bool"})
