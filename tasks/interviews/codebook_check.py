"""``insats codebook check``: which words each codebook keyword matches in a corpus, and which it misses.

For every keyword: the forms the coder compares (spelling and simplemma lemma of each word), the surface forms
it matched in the corpus's respondent turns with their counts and rules (exact / phrase / compound), and the
frequent *near misses*: corpus words that look like the keyword (they share its first
:data:`NEAR_PREFIX` letters, contain it, or are within a small edit distance) but that no rule matched. A
researcher reads the near misses to add keywords (a missed inflection or compound) and the matched forms to
drop ambiguous ones (``sen`` = "late" also matches ``sen`` = "then").
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from insats.tasks.interviews.codebook import Codebook
from insats.tasks.interviews.coding import explain_matches, tokenize
from insats.tasks.interviews.morphology import lemma
from insats.tasks.interviews.transcripts import read_transcript, segment_turns

CHECK_COLUMNS = ["code_id", "keyword", "forms", "n_matches", "matched", "near_misses"]
NEAR_PREFIX = 5  # letters a near miss shares with the keyword's start (fewer for shorter keywords)
NEAR_RATIO = 0.8  # difflib similarity for a near miss of a short keyword
TOP = 6  # matched forms and near misses listed per keyword


def _near(word: str, keyword: str) -> bool:
    prefix = min(NEAR_PREFIX, len(keyword))
    if len(keyword) < 3 or word == keyword:
        return False
    return (
        word[:prefix] == keyword[:prefix]
        or (len(keyword) >= 4 and keyword in word)
        or (len(word) >= 4 and difflib.SequenceMatcher(None, word, keyword).ratio() >= NEAR_RATIO)
    )


def check_keywords(codebook: Codebook, texts: Mapping[str, str] | None = None) -> pd.DataFrame:
    """One row per keyword of ``codebook`` (codes in document order): columns :data:`CHECK_COLUMNS`.

    ``forms``: the words the keyword is compared as ("dator: dator|data"); with ``texts`` (name -> text,
    e.g. respondent turns) ``n_matches`` (int), ``matched`` ("körkortet ×3 (exact), körkortskrav ×1
    (compound)") and ``near_misses`` ("körkortsutbildningen ×2") are filled, otherwise 0 and "".
    """
    matches: dict[tuple[str, str], Counter[tuple[str, str]]] = {}
    matched_positions: dict[tuple[str, str], set[str]] = {}
    words: Counter[str] = Counter()
    for text in (texts or {}).values():
        words.update(tokenize(text))
        for r in explain_matches(text, codebook).itertuples():
            key = (str(r.code_id), str(r.keyword))
            matches.setdefault(key, Counter())[(str(r.matched).lower(), str(r.rule))] += 1
            matched_positions.setdefault(key, set()).update(tokenize(str(r.matched)))
    rows = []
    for code in codebook.codes:
        code_hits = set().union(*(matched_positions.get((code.id, k), set()) for k in code.keywords))
        for kw in code.keywords:
            kw_words = tokenize(kw)
            forms = "; ".join(f"{w}: {'|'.join(sorted({w, lemma(w)}))}" for w in kw_words)
            got = matches.get((code.id, kw), Counter())
            misses = Counter(
                {w: n for w, n in words.items() if w not in code_hits and any(_near(w, k) for k in kw_words)}
            )
            rows.append(
                {
                    "code_id": code.id,
                    "keyword": kw,
                    "forms": forms,
                    "n_matches": int(sum(got.values())),
                    "matched": ", ".join(f"{m} ×{n} ({rule})" for (m, rule), n in got.most_common(TOP)),
                    "near_misses": ", ".join(f"{w} ×{n}" for w, n in misses.most_common(TOP)),
                }
            )
    return pd.DataFrame(rows, columns=CHECK_COLUMNS).astype({"n_matches": "int64"})


def read_corpus(directory: Path) -> dict[str, str]:
    """Respondent turns of every ``.txt``/``.docx`` transcript in ``directory`` (segment_id -> text); a file
    without speaker labels counts as one text. Raises ValueError for a directory without transcripts."""
    directory = Path(directory)
    if not directory.is_dir():
        raise ValueError(f"{directory}: not a directory of transcripts (.txt/.docx)")
    files = sorted(p for p in directory.iterdir() if p.suffix.lower() in (".txt", ".docx"))
    if not files:
        raise ValueError(f"{directory}: no .txt or .docx transcripts found")
    texts: dict[str, str] = {}
    for path in files:
        text = read_transcript(path)
        try:
            seg = segment_turns(text, path.stem)
        except ValueError:  # no speaker labels: an open answer, a memo
            texts[path.stem] = text
            continue
        mine = seg[seg["speaker_role"] == "respondent"]
        texts.update(zip(mine["segment_id"], mine["text"], strict=True))
    return texts


def format_report(check: pd.DataFrame, with_corpus: bool) -> str:
    """Plain-text report of :func:`check_keywords` output, one block per code, keywords that matched nothing
    in the corpus flagged "NO MATCH"."""
    lines: list[str] = []
    for code_id, rows in check.groupby("code_id", sort=False):
        lines.append(str(code_id))
        for r in rows.itertuples():
            lines.append(f"  {r.keyword!r}  forms {r.forms}")
            if with_corpus:
                lines.append(f"      matched ({r.n_matches}): {r.matched or 'NO MATCH'}")
                if r.near_misses:
                    lines.append(f"      near misses, not matched: {r.near_misses}")
    return "\n".join(lines)
