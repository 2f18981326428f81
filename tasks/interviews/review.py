"""Study 1's checks on the coding: which coders to compare, their agreement, and the review project.

Pure functions of loaded tables: ``labels`` are segment decisions (:func:`.reliability.coded_to_labels` of
the dictionary coder, named :data:`AUTO_CODER`, plus :func:`.reliability.spans_to_labels` of human coders).
The review project shows researchers, in their QDA tool, what the tool coded and what it suggests.
"""

from __future__ import annotations

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


def human_coders(labels: pd.DataFrame) -> list[str]:
    """The human coders in ``labels`` (every coder but :data:`AUTO_CODER`), sorted."""
    return sorted(set(labels["coder"]) - {AUTO_CODER})


def coder_pairs(labels: pd.DataFrame) -> list[tuple[str, str]]:
    """Pairs to compare: every two human coders (sorted), then each human coder with the dictionary coder."""
    humans = human_coders(labels)
    return [(a, b) for i, a in enumerate(humans) for b in humans[i + 1 :]] + [(h, AUTO_CODER) for h in humans]


def coder_agreement(labels: pd.DataFrame, n_boot: int, seed: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(reliability, coding_quality): agreement of every pair of :func:`coder_pairs` (per code and overall,
    bootstrap CIs from ``n_boot`` resamples of interviews; the same ``seed`` for every pair) and precision /
    recall of the dictionary coder against each human coder. Empty tables (same columns) without humans."""
    rel = [reliability(labels, a, b, n_boot=n_boot, seed=seed) for a, b in coder_pairs(labels)]
    quality = [coding_quality(labels, AUTO_CODER, h) for h in human_coders(labels)]
    return (
        pd.concat(rel or [pd.DataFrame(columns=RELIABILITY_COLUMNS)], ignore_index=True),
        pd.concat(quality or [pd.DataFrame(columns=QUALITY_COLUMNS)], ignore_index=True),
    )


def review_spans(segments: pd.DataFrame, codebook: Codebook, suggestions: pd.DataFrame) -> pd.DataFrame:
    """Spans for the review project, columns :data:`REVIEW_COLUMNS`: every dictionary match (the matched words,
    marked when negated), then every suggestion over its whole segment (with its confidence, 2 decimals).

    ``segments``: ``segment_turns`` output (offsets into the redacted text); ``suggestions``:
    ``suggest.suggest_codes`` output (interview_id, segment_id, code_id, confidence).
    """
    spans = match_spans(segments, codebook)
    auto = spans.assign(
        coder=REVIEW_AUTO_CODER, description=spans["matched"] + spans["negated"].map({True: NEGATED_NOTE, False: ""})
    )
    found = suggestions.merge(segments[["segment_id", "start_char", "end_char"]], on="segment_id")
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
    return pd.concat([auto[REVIEW_COLUMNS], suggested], ignore_index=True)


def review_project(texts: Mapping[str, str], codebook: Codebook, spans: pd.DataFrame) -> bytes:
    """The review project as ``.qdpx`` bytes (checked against the REFI-QDA schema): ``texts`` are the
    redacted transcripts by interview_id (nothing unredacted leaves the tool), ``spans`` from
    :func:`review_spans`."""
    return qdpx_bytes(project_from_coding(REVIEW_PROJECT_NAME, codebook, texts, spans))
