"""Swedish word forms for dictionary coding: lemmas from ``simplemma`` and compound splitting.

``lemma`` maps an inflected (lower-case) token to its dictionary form with simplemma's Swedish data, which
ships inside the package (offline): ``svenskan`` -> ``svenska``, ``datorer`` -> ``dator``, ``körkortet`` ->
``körkort``, ``kunderna`` -> ``kund``; ``punktlighet`` stays ``punktlighet`` (not ``punkt``). A compound
simplemma does not know is lemmatised on its longest known tail: ``kundbemötandet`` -> ``kund`` +
``bemötande``. When simplemma is not installed the Snowball Swedish stemmer (nltk) is used instead, for
tokens and keywords alike, so matching stays consistent.

``compound_parts`` splits a token against a vocabulary (the codebook's keyword lemmas): a keyword that is
the *head* of the token followed by a known word (optionally after the linking ``s``: ``körkortskrav`` ->
``körkort`` + ``krav``; ``språkkrav`` -> ``språk``; ``datorvana`` -> ``dator``), or the *tail* of it after
at least :data:`MIN_PART` letters (``undersköterskeutbildning`` -> ``utbildning``; ``plockdatorn`` ->
``dator``). Keywords shorter than :data:`MIN_PART` letters are never matched inside compounds.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Generic, TypeVar

MIN_PART = 4  # letters of a compound part (keyword or the rest)
LINKING = ("s",)  # fogemorfem tried between the parts (körkort-s-krav)

try:  # simplemma ships its Swedish dictionary in the wheel; no download at run time
    import simplemma

    def _known(word: str) -> bool:
        return bool(simplemma.is_known(word, lang="sv"))

    def _lemmatize(word: str) -> str:
        return simplemma.lemmatize(word, lang="sv").lower()

    BACKEND = "simplemma"
except ImportError:  # pragma: no cover - exercised only without simplemma
    from nltk.stem.snowball import SnowballStemmer

    _SNOWBALL = SnowballStemmer("swedish")

    def _known(word: str) -> bool:
        return len(word) >= MIN_PART

    def _lemmatize(word: str) -> str:
        return _SNOWBALL.stem(word)

    BACKEND = "snowball"


T = TypeVar("T")


class _Memo(Generic[T]):
    """Memoise a one-argument function in a dict. Not ``functools.lru_cache``: insats.fingerprint follows a
    callable's ``fn`` attribute into its source (so a change to the cached function re-keys the nodes using
    it), and the fixed repr keeps the cache's contents out of the fingerprint."""

    def __init__(self, fn: Callable[[str], T]) -> None:
        self.fn = fn
        self.cache: dict[str, T] = {}

    def __call__(self, key: str) -> T:
        try:
            return self.cache[key]
        except KeyError:
            value = self.cache[key] = self.fn(key)
            return value

    def __repr__(self) -> str:
        return f"_Memo({self.fn.__qualname__})"


def lemma(token: str) -> str:
    """Dictionary form of one lower-case token (cached); unknown compounds are lemmatised on their longest
    known tail (``kundbemötandet`` -> ``kundbemötande``); other unknown words are returned unchanged."""
    return _LEMMA(token)


def _lemma(token: str) -> str:
    if BACKEND != "simplemma" or _known(token) or len(token) < 2 * MIN_PART:
        return _lemmatize(token)
    for i in range(MIN_PART - 1, len(token) - MIN_PART + 1):
        tail = token[i:]
        if _known(tail):
            return token[:i] + _lemmatize(tail)
    return token


def _stripped_heads(head: str) -> list[str]:
    return [head] + [head[: -len(s)] for s in LINKING if head.endswith(s) and len(head) - len(s) >= MIN_PART]


def _splits(token: str) -> tuple[tuple[str, str], ...]:
    """(candidate head, lemma of tail) for every split of ``token`` with parts of >= MIN_PART letters."""
    out: list[tuple[str, str]] = []
    for i in range(MIN_PART, len(token) - MIN_PART + 1):
        head, tail = token[:i], token[i:]
        for h in _stripped_heads(head):
            out.append((h, "" if not _known(tail) else tail))
        out.append(("", lemma(tail)))
    return tuple(out)


def compound_parts(token: str, vocabulary: frozenset[str] | set[str]) -> frozenset[str]:
    """Members of ``vocabulary`` (keyword lemmas) that ``token`` contains as a compound head followed by a
    known word, or as a compound tail (lemmatised); empty when the token is not such a compound."""
    found: set[str] = set()
    for head, tail in _SPLITS(token):
        if head and tail and head in vocabulary:
            found.add(head)
        elif not head and tail in vocabulary:
            found.add(tail)
    return frozenset(found)


_LEMMA: _Memo[str] = _Memo(_lemma)
_SPLITS: _Memo[tuple[tuple[str, str], ...]] = _Memo(_splits)
