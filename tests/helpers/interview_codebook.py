"""The demo codebook, parsed, shared by the study-1 tests (tests/tasks/interviews)."""

from __future__ import annotations

from insats.demo.interviews import CODEBOOK
from insats.tasks.interviews.codebook import parse_codebook

BOOK = parse_codebook(CODEBOOK, source="demo-codebook")
