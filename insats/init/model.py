"""What ``insats init`` proposes: one ``Choice`` per config value, with where it came from."""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from insats.init.sniff import SniffedFile


@dataclass
class Choice:
    """One proposed config value. ``value`` None = nothing found (the config gets a TODO instead)."""

    value: Any
    source: str = ""  # where it came from (file, column, labels seen, encoding) -> the YAML comment
    todo: str = ""  # something the user must check or do before a run
    alternatives: list[str] = field(default_factory=list)  # other files that fit as well
    file: SniffedFile | None = None


@dataclass
class Proposal:
    """Everything proposed for one site folder. ``inputs``: section -> key -> Choice (paths and settings)."""

    folder: Path
    files: list[SniffedFile]
    inputs: dict[str, dict[str, Choice]] = field(default_factory=dict)
    register_files: dict[str, Choice] = field(default_factory=dict)
    register_columns: dict[str, dict[str, Choice]] = field(default_factory=dict)
    period: Choice | None = None  # value (first_month, last_month) as YYYY-MM

    def used(self) -> set[Path]:
        """Paths of the files (and folders) the proposal uses."""
        chosen = [c for section in self.inputs.values() for c in section.values()]
        chosen += list(self.register_files.values())
        out: set[Path] = set()
        for c in chosen:
            values = c.value.values() if isinstance(c.value, dict) else [c.value]
            out.update(v for v in values if isinstance(v, Path))
        return out


def norm(name: object) -> str:
    """Column-name key: case-folded, accents dropped (å ä ö -> a a o), only letters and digits kept."""
    text = unicodedata.normalize("NFKD", str(name)).casefold()
    return "".join(ch for ch in text if ch.isalnum() and not unicodedata.combining(ch))


def one_line(text: object, limit: int = 60) -> str:
    """A value fit for a YAML comment: one line, shortened to ``limit`` characters."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 1] + "…"
