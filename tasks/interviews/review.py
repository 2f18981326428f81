"""Study 1's checks on the coding: which coders to compare, their agreement, and the review project.

Pure functions of loaded tables: ``labels`` are segment decisions (:func:`.reliability.coded_to_labels` of
the dictionary coder, named :data:`AUTO_CODER`, plus :func:`.reliability.spans_to_labels` of human coders).
The review project shows researchers, in their QDA tool, what the tool coded and what it suggests.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import pandas as pd

from insats.tasks.interviews.codebook import Codebook
from insats.tasks.interviews.coding import match_spans
from insats.tasks.interviews.qdpx import project_from_coding, qdpx_bytes
from insats.tasks.interviews.reliability import QUALITY_COLUMNS, RELIABILITY_COLUMNS, coding_quality, reliability

AUTO_CODER = "auto"  # the dictionary coder's name in the labels

# Texts researchers read in their QDA tool (Swedish, as the transcripts are): coder names, the note on a
# negated mention ("not a demand"), the note on a suggestion ("suggestion, confidence 0.83") and the project.
REVIEW_AUTO_CODER = "insats-auto"
REVIEW_SUGGESTION_CODER = "insats-förslag"
NEGATED_NOTE = " (inte krav)"
SUGGESTION_NOTE = "förslag, säkerhet "
REVIEW_PROJECT_NAME = "insats: autokodning och förslag"
REVIEW_COLUMNS = ["interview_id", "start", "end", "code_id", "coder", "description"]
REVIEW_UNITS = ("turn", "sentence")  # what the dictionary coder's codings cover in the review project


def human_coders(labels: pd.DataFrame) -> list[str]:
    """The human coders in ``labels`` (every coder but :data:`AUTO_CODER`), sorted."""
    return sorted(set(labels["coder"]) - {AUTO_CODER})


def coder_pairs(labels: pd.DataFrame) -> list[tuple[str, str]]:
    """Pairs to compare: every two human coders (sorted), then each human coder with the dictionary coder
    (when it coded anything: a codebook without keywords gives it no decisions)."""
    humans = human_coders(labels)
    auto = [(h, AUTO_CODER) for h in humans] if (labels["coder"] == AUTO_CODER).any() else []
    return [(a, b) for i, a in enumerate(humans) for b in humans[i + 1 :]] + auto


def coder_agreement(labels: pd.DataFrame, n_boot: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(reliability, coding_quality): agreement of every pair of :func:`coder_pairs` (per code and overall,
    bootstrap CIs from ``n_boot`` resamples of interviews; the same ``seed`` for every pair) and precision /
    recall of the dictionary coder against each human coder. Empty tables (same columns) without humans."""
    rel = [reliability(labels, a, b, n_boot=n_boot, seed=seed) for a, b in coder_pairs(labels)]
    quality = [coding_quality(labels, AUTO_CODER, h) for h, b in coder_pairs(labels) if b == AUTO_CODER]
    return (
        pd.concat(rel or [pd.DataFrame(columns=RELIABILITY_COLUMNS)], ignore_index=True),
        pd.concat(quality or [pd.DataFrame(columns=QUALITY_COLUMNS)], ignore_index=True),
    )


_SENTENCE_END = re.compile(r"(?<=[.!?…])\s+")


def _sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of the sentences of ``text``, trailing white space excluded: split after . ! ? … followed
    by white space."""
    cuts = [0, *(m.end() for m in _SENTENCE_END.finditer(text)), len(text)]
    return [(a, a + len(text[a:b].rstrip())) for a, b in zip(cuts, cuts[1:], strict=False) if text[a:b].strip()]


def _note(matches: pd.DataFrame) -> str:
    """The matched words ("; "-joined, first occurrence order), marked when every match is a non-demand."""
    words = "; ".join(dict.fromkeys(matches["matched"].astype(str)))
    if "negated" in matches.columns:
        return words + (NEGATED_NOTE if bool(matches["negated"].all()) else "")
    return words


def auto_spans(segments: pd.DataFrame, codebook: Codebook, unit: str = "turn") -> pd.DataFrame:
    """The dictionary coder's codings as :data:`REVIEW_COLUMNS` over whole turns (``unit="turn"``) or over the
    sentences holding a match (``"sentence"``), one per (unit, code); description = the matched words."""
    if unit not in REVIEW_UNITS:
        raise ValueError(f"employer_interviews.review_unit: {unit!r} unknown; expected one of {list(REVIEW_UNITS)}")
    spans = match_spans(segments, codebook)
    seg = segments.set_index("segment_id")
    rows = []
    for (sid, code), m in spans.groupby(["segment_id", "code_id"], sort=False):
        s = seg.loc[sid]
        if unit == "turn":
            bounds = [(int(s["start_char"]), int(s["end_char"]), m)]
        else:
            offset = int(s["start_char"])
            sentences = [(a + offset, b + offset) for a, b in _sentences(str(s["text"]))]
            bounds = [(a, b, m[(m["start"] < b) & (m["end"] > a)]) for a, b in sentences]
            bounds = [(a, b, inside) for a, b, inside in bounds if len(inside)]
        rows += [[s["interview_id"], a, b, code, REVIEW_AUTO_CODER, _note(inside)] for a, b, inside in bounds]
    return pd.DataFrame(rows, columns=REVIEW_COLUMNS).astype({"start": "int64", "end": "int64"})


def review_spans(
    segments: pd.DataFrame,
    codebook: Codebook,
    suggestions: pd.DataFrame,
    labels: pd.DataFrame | None = None,
    unit: str = "turn",
) -> pd.DataFrame:
    """Spans for the review project, columns :data:`REVIEW_COLUMNS`: the dictionary coder's codings
    (:func:`auto_spans`, whole turns or sentences), every suggestion over its whole turn (with its confidence,
    2 decimals), and each human coder's decisions in ``labels`` (value 1) over whole turns, under the coder's
    own name, so the QDA tool shows every coder as a user.

    ``segments``: ``segment_turns`` output (offsets into the redacted text); ``suggestions``:
    ``suggest.suggest_codes`` output (interview_id, segment_id, code_id, confidence).
    """
    turns = segments[["segment_id", "start_char", "end_char"]]
    found = suggestions.merge(turns, on="segment_id")
    suggested = pd.DataFrame(
        {
            "interview_id": found["interview_id"],
            "start": found["start_char"],
            "end": found["end_char"],
            "code_id": found["code_id"],
            "coder": REVIEW_SUGGESTION_CODER,
            "description": SUGGESTION_NOTE + found["confidence"].astype("float64").round(2).astype(str),
        }
    )
    frames = [auto_spans(segments, codebook, unit), suggested]
    if labels is not None:
        human = labels[(labels["coder"] != AUTO_CODER) & (labels["value"] == 1)].merge(turns, on="segment_id")
        frames.append(
            pd.DataFrame(
                {
                    "interview_id": human["interview_id"],
                    "start": human["start_char"],
                    "end": human["end_char"],
                    "code_id": human["code_id"],
                    "coder": human["coder"].astype(str),
                    "description": "",
                }
            )  # fmt: skip
        )
    return pd.concat(frames, ignore_index=True).astype({"start": "int64", "end": "int64"})


def review_project(texts: Mapping[str, str], codebook: Codebook, spans: pd.DataFrame) -> bytes:
    """The review project as ``.qdpx`` bytes (checked against the REFI-QDA schema): ``texts`` are the
    redacted transcripts by interview_id (nothing unredacted leaves the tool), ``spans`` from
    :func:`review_spans`."""
    return qdpx_bytes(project_from_coding(REVIEW_PROJECT_NAME, codebook, texts, spans))
