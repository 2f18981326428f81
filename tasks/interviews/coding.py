"""Deductive dictionary coding of Swedish transcript segments against a codebook.

Pipeline per segment, deterministic and explainable:

1. Normalise: Unicode NFC and lower case (``normalise``).
2. Tokenise with ``nltk.tokenize.RegexpTokenizer(r"\\w+")`` (``\\w`` keeps å ä ö; punctuation dropped).
3. Stem each token with the Snowball Swedish stemmer (``svenskan`` -> ``svensk``, ``kunderna`` -> ``kund``).
4. Match every codebook keyword, stemmed the same way, by one of three rules:

   - ``exact``: a one-word keyword whose stem equals the token stem;
   - ``phrase``: a multi-word keyword whose stems equal consecutive token stems within one clause;
   - ``compound``: a one-word keyword with a stem of >= 5 characters that begins or ends a longer token
     stem (``svenskkunskaper`` -> ``svensk``; ``kundbemötande`` -> ``bemöt``). A token that has an exact or
     phrase match for any code gets no compound matches, so ``kundkontakt`` (a service keyword) is not
     also read as ``kontakt``.

5. Negation: the words in ``NEGATION_WORDS`` within the 3 tokens before a match, in the same clause,
   negate it. A clause ends at ``. , ; : ! ?`` or at the conjunction ``men`` ("but"), so in "vi kräver inte
   körkort, men svenska är viktigt" only körkort is negated. An even number of negation words cancels
   out ("det går inte utan svenska" is an affirmative demand for Swedish).

A segment gets one row per code it mentions. ``negated`` is True only when *every* mention of the code
in the segment is negated; one affirmative mention makes the row affirmative.
"""

from __future__ import annotations

import bisect
import functools
import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

import pandas as pd
from nltk.stem.snowball import SnowballStemmer
from nltk.tokenize import RegexpTokenizer

from insats.tasks.interviews.codebook import Codebook

# "inget" (neuter of "ingen") added to the spec's list: "det är inget krav på körkort".
NEGATION_WORDS: frozenset[str] = frozenset({"inte", "ej", "inga", "ingen", "inget", "aldrig", "utan"})
NEGATION_WINDOW = 3
MIN_COMPOUND_STEM = 5
CLAUSE_BREAK_WORDS: frozenset[str] = frozenset({"men"})
CODED_COLUMNS = ["interview_id", "segment_id", "code_id", "matched", "negated"]
MATCH_COLUMNS = ["code_id", "keyword", "rule", "start_char", "end_char", "matched", "negated"]

_TOKENIZER = RegexpTokenizer(r"\w+")
_STEMMER = SnowballStemmer("swedish")
# The cache wraps the stemmer, not ``stem``: insats.fingerprint follows plain project functions (so a change
# to ``stem`` still re-keys the nodes using it); the stemmer's own code is keyed by nltk's version.
_cached_stem = functools.lru_cache(maxsize=1 << 17)(_STEMMER.stem)
_CLAUSE_PUNCT = re.compile(r"[.,;:!?]")


def normalise(text: str) -> str:
    """NFC and lower case (Swedish letters keep their identity: Å -> å)."""
    return unicodedata.normalize("NFC", text).lower()


def tokenize(text: str) -> list[str]:
    """Lower-cased word tokens (``\\w+``) of ``text``."""
    return _TOKENIZER.tokenize(normalise(text))


def stem(token: str) -> str:
    """Snowball Swedish stem of one (lower-case) token (cached: a corpus repeats its words, and TF-IDF refits
    in cross-validation stem every text again)."""
    return _cached_stem(token)


def keyword_stems(keyword: str) -> tuple[str, ...]:
    """Stems of a keyword or phrase, tokenised like the text.

    ``"prata svenska"`` -> ``("prat", "svensk")``.
    """
    return tuple(stem(t) for t in tokenize(keyword))


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    lower: str
    stem: str
    clause: int


def _tokens(text: str, cache: dict[str, str]) -> list[_Token]:
    spans = list(_TOKENIZER.span_tokenize(text))
    breaks = [m.start() for m in _CLAUSE_PUNCT.finditer(text)]
    out: list[_Token] = []
    extra_breaks = 0
    for start, end in spans:
        lower = normalise(text[start:end])
        if lower not in cache:
            cache[lower] = stem(lower)
        if lower in CLAUSE_BREAK_WORDS:
            extra_breaks += 1
        out.append(_Token(start, end, lower, cache[lower], bisect.bisect_left(breaks, start) + extra_breaks))
    return out


def _keyword_index(codebook: Codebook) -> list[tuple[str, str, tuple[str, ...]]]:
    index: list[tuple[str, str, tuple[str, ...]]] = []
    for code in codebook.codes:
        for kw in code.keywords:
            stems = keyword_stems(kw)
            if stems:
                index.append((code.id, kw, stems))
    return index


def _negated(tokens: list[_Token], first: int) -> bool:
    clause = tokens[first].clause
    window = tokens[max(0, first - NEGATION_WINDOW) : first]
    n = sum(1 for t in window if t.clause == clause and t.lower in NEGATION_WORDS)
    return n % 2 == 1


def _find_matches(
    tokens: list[_Token], index: list[tuple[str, str, tuple[str, ...]]]
) -> list[tuple[str, str, str, int, int, bool]]:
    """(code_id, keyword, rule, first_token, last_token_exclusive, negated) for one text, deduplicated."""
    stems = [t.stem for t in tokens]
    found: list[tuple[str, str, str, int, int]] = []
    direct: set[int] = set()  # tokens covered by an exact or phrase match
    for code_id, kw, kst in index:
        k = len(kst)
        if k == 1:
            for i, s in enumerate(stems):
                if s == kst[0]:
                    found.append((code_id, kw, "exact", i, i + 1))
                    direct.add(i)
        else:
            for i in range(len(tokens) - k + 1):
                if tuple(stems[i : i + k]) == kst and tokens[i].clause == tokens[i + k - 1].clause:
                    found.append((code_id, kw, "phrase", i, i + k))
                    direct.update(range(i, i + k))
    for code_id, kw, kst in index:
        if len(kst) != 1 or len(kst[0]) < MIN_COMPOUND_STEM:
            continue
        ks = kst[0]
        for i, s in enumerate(stems):
            if i not in direct and s != ks and (s.startswith(ks) or s.endswith(ks)):
                found.append((code_id, kw, "compound", i, i + 1))
    # Drop a match contained in another match of the same code ("svenska" inside "prata svenska"),
    # and repeated hits of the same span by several keywords of one code.
    found.sort(key=lambda m: (m[3], -(m[4] - m[3])))
    kept: list[tuple[str, str, str, int, int]] = []
    for m in found:
        if any(k[0] == m[0] and k[3] <= m[3] and m[4] <= k[4] for k in kept):
            continue
        kept.append(m)
    return [(c, kw, rule, a, b, _negated(tokens, a)) for c, kw, rule, a, b in kept]


def _spans(text: str, cache: dict[str, str], index: list[tuple[str, str, tuple[str, ...]]]) -> list[dict]:
    tokens = _tokens(text, cache)
    rows = []
    for code_id, kw, rule, a, b, neg in _find_matches(tokens, index):
        start, end = tokens[a].start, tokens[b - 1].end
        rows.append(
            {
                "code_id": code_id,
                "keyword": kw,
                "rule": rule,
                "start_char": start,
                "end_char": end,
                "matched": text[start:end],
                "negated": neg,
            }
        )
    return rows


def explain_matches(text: str, codebook: Codebook) -> pd.DataFrame:
    """Every keyword match in one text, for auditing the coding.

    Columns: code_id, keyword (as written in the codebook), rule ("exact"/"phrase"/"compound"),
    start_char, end_char (offsets into ``text``), matched (``text[start_char:end_char]``), negated.
    Sorted by position.
    """
    rows = _spans(text, {}, _keyword_index(codebook))
    return pd.DataFrame(rows, columns=MATCH_COLUMNS).astype(
        {"start_char": "int64", "end_char": "int64", "negated": "bool"}
    )


def _unique(values: Iterable[str]) -> list[str]:
    seen: dict[str, None] = {}
    for v in values:
        seen.setdefault(v, None)
    return list(seen)


def code_segments(segments: pd.DataFrame, codebook: Codebook, roles: tuple[str, ...] = ("respondent",)) -> pd.DataFrame:
    """Code each segment spoken by one of ``roles`` against every keyword of ``codebook``.

    ``segments`` needs columns interview_id, segment_id, speaker_role, text (as from
    ``transcripts.segment_turns``). Returns one row per (segment, code) mentioned, in segment order and
    then codebook order, with columns interview_id, segment_id, code_id, matched (the matched words as
    written, unique, "; "-joined in order of appearance) and negated (bool; True only if every mention of
    the code in the segment is negated). Codes without keywords (e.g. parents) are never assigned.
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
    cache: dict[str, str] = {}
    rows: list[dict[str, object]] = []
    chosen = segments[segments["speaker_role"].isin(roles)]
    for interview_id, segment_id, text in zip(
        chosen["interview_id"], chosen["segment_id"], chosen["text"], strict=True
    ):
        if not isinstance(text, str):
            raise ValueError(f"segments: segment {segment_id!r} has non-text 'text' ({text!r})")
        per_code: dict[str, list[dict]] = {}
        for m in _spans(text, cache, index):
            per_code.setdefault(str(m["code_id"]), []).append(m)
        for code_id in sorted(per_code, key=order.__getitem__):
            ms = per_code[code_id]
            rows.append(
                {
                    "interview_id": interview_id,
                    "segment_id": segment_id,
                    "code_id": code_id,
                    "matched": "; ".join(_unique(str(m["matched"]) for m in ms)),
                    "negated": all(bool(m["negated"]) for m in ms),
                }
            )
    return pd.DataFrame(rows, columns=CODED_COLUMNS).astype({"negated": "bool"})


SPAN_COLUMNS = ["interview_id", "segment_id", "start", "end", "code_id", "matched", "negated"]


def match_spans(segments: pd.DataFrame, codebook: Codebook, roles: tuple[str, ...] = ("respondent",)) -> pd.DataFrame:
    """Every keyword match as a span of the transcript (for export to QDA tools and for quotes).

    ``segments`` as for :func:`code_segments`, plus start_char. Columns: interview_id, segment_id, start,
    end (offsets into the transcript text the segments were cut from: ``start_char`` + offset in the
    segment), code_id, matched (the words), negated. One row per match (a code can match a segment twice).
    """
    missing = [c for c in ("interview_id", "segment_id", "speaker_role", "start_char", "text") if c not in segments]
    if missing:
        raise ValueError(f"segments: missing column(s) {missing}; expected the output of segment_turns")
    index = _keyword_index(codebook)
    cache: dict[str, str] = {}
    rows = []
    chosen = segments[segments["speaker_role"].isin(roles)]
    for iid, sid, offset, text in zip(
        chosen["interview_id"], chosen["segment_id"], chosen["start_char"], chosen["text"], strict=True
    ):
        for m in _spans(str(text), cache, index):
            rows.append((iid, sid, int(offset) + int(m["start_char"]), int(offset) + int(m["end_char"]),
                         m["code_id"], m["matched"], m["negated"]))  # fmt: skip
    return pd.DataFrame(rows, columns=SPAN_COLUMNS).astype({"start": "int64", "end": "int64", "negated": "bool"})
