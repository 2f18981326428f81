"""Person names and street addresses in Swedish transcripts, found without a list given in advance.

Shipped lists (``data/``, built by ``benchmarks/build_redaction_lists.py``, see ``data/README.md``): first
names and surnames (Sweden and the countries most of its foreign-born residents come from), the Swedish words
with a Zipf frequency >= 3 (wordfreq), and the names that are also ordinary words ("Per", "Inga", "Berg").

A capitalised token (first letter upper case, not all capitals) is a name when

1. it is in the name lists (a genitive ``-s`` is allowed): anywhere but at a sentence start; at a sentence
   start too unless it is an ordinary word (``ordinary_names.txt``) or the text uses it in lower case
   elsewhere ("Inga av dem ..." beside "inga"), or
2. it is in no list, not at a sentence start, not right after the locative "i" ("ute i Kjula" is a place),
   and rare in Swedish (not in ``common_words.txt``): a name the lists miss ("Ionut", "Zeynep"); or
3. it stands right next to a name found by 1 or 2 ("Göran Lund", "Anna-Karin Berg"): the whole run is one
   name.
4. it is rare, in no list and at a sentence start, but joined by "och"/"å" to a name found by 1 or 2
   ("Emir å Kalle e bäst på det"): a coordinated name (rule 2 skips sentence starts).

Sentence starts (after . ! ? : ; a line break, a dash or a quote, or the first word) are where Swedish
capitalises ordinary words. A speaker label (``Anna:`` at a line start) is left for the speaker pattern, so
turns still split; ``study.pseudonymise_speakers`` then replaces named labels in the speaker column. A named
label that ``speaker_pattern`` does not recognise would stay inside the previous turn's text: set the pattern.
Place and company names that are rare words mid-sentence are taken too: redaction prefers a false alarm to a
leak. Addresses: a street name ending in -gatan, -vägen, -gränd, ... (or "... väg", "... gata") with a
number ("Storgatan 12", "Kungsvägen 3B"), and a postcode with its town ("123 45 Eskilstuna").
"""

from __future__ import annotations

import re
from functools import cache
from hashlib import sha256
from importlib import resources

_WORD = re.compile(r"[^\W\d_]+(?:[-'’][^\W\d_]+)*")
_BREAK = re.compile(r"[.!?:;\n\"”“«»–—]|(?:^|\s)-(?:\s|$)")
_STREET_SUFFIX = (
    r"(?:gatan|vägen|gata|väg|gränd|gränden|stigen|stig|torget|torg|backen|backe|allén|allé|plan|leden|"
    r"esplanaden|parken|gången|platsen|stråket|kajen|kaj|viken|udden|tået|slingan|vägen)"
)
_ADDRESS = re.compile(
    r"(?<![\w])(?:[A-ZÅÄÖ][\wåäöéü]*\s+){0,2}"  # "Drottning Kristinas väg", "Sankt Eriksgatan"
    r"(?:[A-ZÅÄÖ][\wåäöéü]*" + _STREET_SUFFIX + r"|" + _STREET_SUFFIX + r")"
    r"\s+\d{1,4}(?:\s?[A-Za-z](?![\wåäö]))?(?:\s*,?\s*\d{3}\s?\d{2}(?:\s+[A-ZÅÄÖ][\wåäö]+)?)?"
)
# After a sentence-initial ordinary-word name ("Per", "Björn"), these verbs make it a person ("Per sa ...").
_PERSON_VERBS = frozenset(
    [
        "sa",
        "säger",
        "var",
        "är",
        "har",
        "hade",
        "kom",
        "kommer",
        "jobbar",
        "jobbade",
        "började",
        "slutade",
        "gick",
        "går",
        "ringde",
        "ringer",
        "fick",
        "får",
        "kan",
        "kunde",
        "ska",
        "skulle",
        "brukar",
        "tycker",
        "tyckte",
        "gör",
        "gjorde",
        "vet",
        "visste",
        "blev",
        "blir",
        "hjälper",
        "hjälpte",
        "berättade",
    ]
)
# Swedish words that read as a listed name's genitive ("Finn" + s) when capitalised at a sentence start.
_S_WORDS = frozenset({"finns", "fanns", "class", "trans", "paradis"})
_DEFINITE = ("en", "et", "na", "an", "n")
_POSTCODE = re.compile(r"(?<![\d\w])\d{3}\s?\d{2}\s+[A-ZÅÄÖ][a-zåäöé]+(?:[ -][A-ZÅÄÖ][a-zåäöé]+)?(?![\w])")


# SHA-256 (first 16 hex digits) of each shipped list. name_lists() checks them, and because its code names
# them, the content-cached study-1 nodes recompute when a list changes (update these with the list).
_CHECKSUMS = {
    "first_names.txt": "90378ca2d057e3fa",
    "surnames.txt": "81cea058b11e9e1c",
    "ordinary_names.txt": "ab3d1f4cf2913d76",
    "common_words.txt": "1156c467e1390500",
    "not_names.txt": "0198a21f81ecd86f",
}


@cache
def _read(name: str) -> tuple[frozenset[str], str]:
    """(the non-comment lines of data/<name>, the file's SHA-256 prefix)."""
    data = resources.files("insats.tasks").joinpath("interviews", "data", name).read_bytes()
    lines = data.decode("utf-8").splitlines()
    return frozenset(w.strip() for w in lines if w.strip() and not w.startswith("#")), sha256(data).hexdigest()[:16]


def _lines(name: str) -> frozenset[str]:
    words, digest = _read(name)
    if digest != _CHECKSUMS[name]:
        raise ValueError(
            f"tasks/interviews/data/{name} changed (sha256 {digest}); set its entry in names._CHECKSUMS to that "
            "value so that cached study-1 results are recomputed"
        )
    return words


def name_lists() -> tuple[frozenset[str], frozenset[str], frozenset[str]]:
    """(names, ordinary names, common words): the shipped first names and surnames together, the names that
    are also ordinary Swedish words, and the common Swedish words (lower case) with the organisations of
    ``not_names.txt`` (lower-cased: never names)."""
    common = _lines("common_words.txt") | {w.lower() for w in _lines("not_names.txt")}
    names = (_lines("first_names.txt") | _lines("surnames.txt")) - _lines("not_names.txt")
    return names, _lines("ordinary_names.txt"), common


def find_addresses(text: str) -> list[tuple[int, int]]:
    """``(start, end)`` of street addresses (with number, optionally postcode and town) and of postcodes
    followed by a town, sorted, not overlapping."""
    spans = [m.span() for m in _ADDRESS.finditer(text)]
    for m in _POSTCODE.finditer(text):
        if all(m.end() <= a or m.start() >= b for a, b in spans):
            spans.append(m.span())
    return sorted(spans)


def _base(token: str, names: frozenset[str]) -> str | None:
    """The listed name ``token`` is (itself, or its genitive without -s / -'s), or None."""
    for form in (token, token[:-1] if token.endswith("s") else "", token[:-2] if token.endswith(("'s", "’s")) else ""):
        if form and form in names:
            return form
        if form and "-" in form and all(part in names for part in form.split("-")):
            return form  # "Anna-Karin", "Jan-Erik"
    return None


def find_names(text: str, extra: frozenset[str] = frozenset()) -> list[tuple[int, int, str]]:
    """``(start, end, rule)`` of person names in ``text`` (see module docstring), sorted; a run of adjacent
    name tokens is one span. ``rule``: "list" (rule 1), "rare" (rule 2); ``extra``: names to add to the lists
    (e.g. configured names' parts)."""
    listed, ordinary, common = name_lists()
    listed = listed | extra
    lower_used = {t.lower() for t in _WORD.findall(text) if t.islower()}
    tokens = list(_WORD.finditer(text))
    found: list[list] = []  # [start, end, rule, token index]
    prev_end = 0
    for i, m in enumerate(tokens):
        token, gap = m.group(), text[prev_end : m.start()]
        prev_end = m.end()
        initial = i == 0 or bool(_BREAK.search(gap))
        if not token[0].isupper() or token.isupper() or len(token) < 2:
            continue
        line_start = text.rfind("\n", 0, m.start()) + 1
        if not text[line_start : m.start()].strip() and text[m.end() : m.end() + 3].lstrip(" \t").startswith(":"):
            continue  # a speaker label
        base = _base(token, listed)
        if base is not None:
            follower = tokens[i + 1].group() if i + 1 < len(tokens) else ""
            ordinary_word = base in ordinary or base.lower() in lower_used or token.lower() in _S_WORDS
            sure = not initial or not ordinary_word or follower in _PERSON_VERBS
            found.append([m.start(), m.end(), "list", i, sure])
        elif (
            not initial
            and token.lower() not in common
            and token.lower().rstrip("s") not in common
            and all(_capitalised(part) and len(part) > 1 for part in token.split("-"))  # not "B-körkort"
            and not (i > 0 and tokens[i - 1].group() == "i" and text[tokens[i - 1].end() : m.start()] == " ")
        ):  # "ute i Kjula": after the locative "i" an unlisted word is a place, not a person
            found.append([m.start(), m.end(), "rare", i, True])
    found += _coordinated(text, tokens, found, listed, common)
    found.sort(key=lambda f: f[3])
    return _merge_runs(text, tokens, found, common)


_AND = frozenset({"och", "å", "o"})


def _coordinated(
    text: str, tokens: list[re.Match[str]], found: list[list], listed: frozenset[str], common: frozenset[str]
) -> list[list]:
    """Rule 4: an unlisted, rare capitalised word at a sentence start joined by "och"/"å" to a name found by
    rules 1-2 ("Emir å Kalle e bäst på det") is a name too; mid-sentence, rule 2 already takes it."""
    sure, taken = {f[3] for f in found if f[4]}, {f[3] for f in found}
    out = []
    for i in range(len(tokens) - 2):
        token = tokens[i].group()
        if (
            i + 2 in sure
            and i not in taken
            and tokens[i + 1].group() in _AND
            and text[tokens[i].end() : tokens[i + 1].start()] == " "
            and text[tokens[i + 1].end() : tokens[i + 2].start()] == " "
            and _capitalised(token)
            and len(token) > 1
            and _base(token, listed) is None
            and token.lower() not in common
            and token.lower().rstrip("s") not in common
        ):
            out.append([tokens[i].start(), tokens[i].end(), "rare", i, True])
    return out


def _capitalised(token: str) -> bool:
    return token[0].isupper() and not token.isupper()


def _merge_runs(
    text: str, tokens: list[re.Match[str]], found: list[list], common: frozenset[str]
) -> list[tuple[int, int, str]]:
    """Join name tokens separated by a single space or hyphen into one span; an ambiguous token (an ordinary
    word at a sentence start) counts only in a run with another name; a capitalised neighbour joins a run
    after it ("Göran Lund"), and before it when it is no common word ("Zeynep Lindqvist" at a sentence start)."""
    by_index = {f[3]: f for f in found}
    out: list[tuple[int, int, str]] = []
    i = 0
    while i < len(tokens):
        if i not in by_index:
            i += 1
            continue
        j = i
        while (
            j + 1 < len(tokens)
            and _adjacent(text, tokens[j], tokens[j + 1])
            and (j + 1 in by_index or _capitalised(tokens[j + 1].group()))
        ):
            j += 1
        run = [by_index[k] for k in range(i, j + 1) if k in by_index]
        if any(f[4] for f in run) or j > i:
            first = i
            before = tokens[i - 1].group() if i > 0 else ""
            if (
                _capitalised(before or "x")
                and before.lower() not in common
                and not before.lower().endswith(_DEFINITE)  # "Jobbcoachen Patrik": a title, not a name
                and _adjacent(text, tokens[i - 1], tokens[i])
            ):
                first = i - 1
            if not out or tokens[first].start() >= out[-1][1]:
                rule = "rare" if all(f[2] == "rare" for f in run) else "list"
                out.append((tokens[first].start(), tokens[j].end(), rule))
        i = j + 1
    return out


def _adjacent(text: str, a: re.Match[str], b: re.Match[str]) -> bool:
    return text[a.end() : b.start()] in (" ", "-")
