"""Helpers the tests share (import them as ``from tests.helpers... import ...``; tests never import each other)."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
"""The repository root (the folder holding tasks/, flows/, insats/, configs/ and tests/)."""
