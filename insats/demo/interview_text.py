"""The study-1 demo's phrase data (``data/interviews.yaml``) and the text form of its interviews.

Shared by the generator (:mod:`insats.demo.interviews`) and the extra material built on its interviews
(:mod:`insats.demo.interview_material`). The YAML holds every phrase and table of the demo (codebook,
sentences per code, neutral answers, questions, planted shares and weights, simulated coders); the constants
below are its sections, in the YAML's order (the generator draws from a seeded stream in that order).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib import resources
from typing import Any

import numpy as np
import pandas as pd
import yaml


def _load_phrases() -> dict[str, Any]:
    text = resources.files("insats.demo").joinpath("data", "interviews.yaml").read_text(encoding="utf-8")
    return yaml.safe_load(text)


PHRASES: dict[str, Any] = _load_phrases()
MUNICIPALITY = "0484"  # Eskilstuna
SIZE_CLASSES = ("1-9", "10-49", "50-249", "250+")
SECTORS: tuple[str, ...] = tuple(PHRASES["sectors"])
CODEBOOK: dict[str, Any] = PHRASES["codebook"]
TOP_COMPETENCY = "KOMP.SVENSKA"
TARGET_SHARES: dict[str, float] = PHRASES["target_shares"]
SECTOR_WEIGHTS: dict[str, dict[str, float]] = PHRASES["sector_weights"]
SIZE_WEIGHTS: dict[str, tuple[float, float, float, float]] = {k: tuple(v) for k, v in PHRASES["size_weights"].items()}
SIZE_RANGES: dict[str, tuple[int, int]] = {k: tuple(v) for k, v in PHRASES["size_ranges"].items()}
AFFIRMATIVE: dict[str, list[str]] = PHRASES["affirmative"]
NEGATED: dict[str, list[str]] = PHRASES["negated"]
CERTIFICATES: dict[str, str] = PHRASES["certificates"]
SECTOR_DESCRIPTIONS: dict[str, list[str]] = PHRASES["sector_descriptions"]
NEUTRAL: dict[str, list[str]] = PHRASES["neutral"]
QUESTIONS: dict[str, list[str]] = PHRASES["questions"]
PII_NAME: str = PHRASES["pii"]["name"]
PII_PHONE: str = PHRASES["pii"]["phone"]
PII_EMAIL: str = PHRASES["pii"]["email"]
PII_SENTENCE: str = PHRASES["pii"]["sentence"]
SPEAKER_LABELS: dict[str, dict[str, str]] = PHRASES["speaker_labels"]


@dataclass(frozen=True)
class Interview:
    """One synthetic interview. ``turns`` are ``(role, text)`` with role "interviewer"/"respondent"."""

    interview_id: str
    employer_id: str
    sector: str
    size_class: str
    n_employees: int
    interview_date: str
    file_format: str  # "txt" or "docx"
    speaker_style: str  # "short" (I:/R:) or "long" (Intervjuare:/Respondent:)
    wrap_lines: bool  # txt only: multi-sentence respondent turns wrapped over several lines
    turns: tuple[tuple[str, str], ...]

    @property
    def file(self) -> str:
        return f"{self.interview_id}.{self.file_format}"


@dataclass
class DemoInterviews:
    """Bundle returned by :func:`insats.demo.interviews.make_interviews`; unpacks as ``interviews, employers,
    codebook, truth``."""

    interviews: list[Interview]
    employers: pd.DataFrame
    codebook: dict[str, Any]
    truth: dict[str, Any] = field(default_factory=dict)
    # Added material (see insats.demo.interview_material: make_human_coding, make_focus_group, make_survey);
    # empty frames / None when not generated. Not part of the 4-tuple unpacking, for backward compatibility.
    human_coding: pd.DataFrame = field(default_factory=pd.DataFrame)
    focus_group: Interview | None = None
    survey: pd.DataFrame = field(default_factory=pd.DataFrame)

    def __iter__(self) -> Iterator[Any]:
        return iter((self.interviews, self.employers, self.codebook, self.truth))


def pick(rng: np.random.Generator, options: list[str]) -> str:
    """One of ``options``, drawn with one integer from ``rng``."""
    return options[int(rng.integers(len(options)))]


def sentences(rng: np.random.Generator, code: str, k: int, sector: str) -> list[str]:
    """``k`` different affirmative sentences for ``code`` (fewer if the pool is smaller), {cert} filled in."""
    pool = AFFIRMATIVE[code]
    idx = rng.choice(len(pool), size=min(k, len(pool)), replace=False)
    return [pool[int(i)].format(cert=CERTIFICATES[sector]) for i in idx]


SENTENCE_BREAK = re.compile(r"(?<=[.!?]) (?=[A-ZÅÄÖ])")


def render_text(interview: Interview) -> str:
    """The ``.txt`` form of a transcript: three header lines, a blank line, then one turn per paragraph
    (``Label: text``, blank line between turns); with ``wrap_lines`` respondent turns put each sentence on
    its own line (continuation lines carry no speaker label)."""
    labels = SPEAKER_LABELS[interview.speaker_style]
    lines = [
        f"Intervju {interview.interview_id}",
        f"Bransch: {interview.sector}",
        f"Datum: {interview.interview_date}",
        "",
    ]
    for role, text in interview.turns:
        if interview.wrap_lines and role == "respondent":
            text = SENTENCE_BREAK.sub("\n", text)
        lines += [f"{labels[role]}: {text}", ""]
    return "\n".join(lines)


def document_text(interview: Interview) -> str:
    """Exactly the text ``transcripts.read_transcript`` returns for the file ``write_interviews`` writes
    (for ``.docx``: the header paragraph and one paragraph per turn joined by ``\\n``). Offsets of the human
    coding and of ``planted_codes`` refer to this text (before redaction)."""
    if interview.file_format == "txt":
        return render_text(interview)
    labels = SPEAKER_LABELS[interview.speaker_style]
    header = f"Intervju {interview.interview_id} – {interview.sector} – {interview.interview_date}"
    return "\n".join([header] + [f"{labels[role]}: {text}" for role, text in interview.turns])
