"""The status ladder of a participant-flow project: ordered steps towards work or studies, and what each
status at exit counts as.

A ladder is read from YAML (format in ``docs/participant_flow.md``; the Swedish default is
``configs/ladder.sv.yaml``)::

    name: Svensk standardstege
    steps:                      # ordered, lowest first; a plain string or {status, en}
      - {status: Ej aktuell för insats just nu, en: Not currently able to take part}
      - {status: Kartläggning/utredning, en: Mapping/assessment}
      ...
    exit:                       # every status allowed at exit, in exactly one category
      self_sufficient: [Arbete, Studier]
      favourable: [Subventionerad anställning, Aktivt arbetssökande]
      unclear: [Okänt, Flyttat]
      other: [Sjukskriven]      # optional: neither favourable nor unclear
    labels_en: {Okänt: Unknown} # optional English labels of exit-only statuses

Exit statuses need not be ladder steps (``Flyttat``); exit statuses that are steps also count as the last
documented position on the ladder. Self-sufficient exits are favourable too (``favourable_exit``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

EXIT_CATEGORIES: tuple[str, ...] = ("self_sufficient", "favourable", "unclear", "other")
ONGOING = "ongoing"
FAVOURABLE_CATEGORIES: frozenset[str] = frozenset({"self_sufficient", "favourable"})


@dataclass(frozen=True)
class Ladder:
    """Ordered ``steps`` (lowest first), ``exit_category`` (exit status -> category) and English labels."""

    name: str
    steps: tuple[str, ...]
    exit_category: dict[str, str]
    labels_en: dict[str, str] = field(default_factory=dict)

    @property
    def rank(self) -> dict[str, int]:
        """Step -> rank, 1 for the lowest step."""
        return {s: i + 1 for i, s in enumerate(self.steps)}

    @property
    def statuses(self) -> list[str]:
        """Every status the ladder knows: its steps, then exit-only statuses (the ``ladder_statuses`` of the
        input suites)."""
        extra = [s for s in self.exit_category if s not in self.steps]
        return [*self.steps, *extra]

    def label(self, status: str, lang: str = "sv") -> str:
        """The status as written in ``lang`` ("sv": as documented; "en": the ladder's English label)."""
        return self.labels_en.get(status, status) if lang == "en" else status


def _fail(source: str, reason: str) -> ValueError:
    return ValueError(f"Ladder {source}: {reason}")


def ladder_from_dict(data: Any, source: str = "<ladder>") -> Ladder:
    """Build and check a ladder from its parsed YAML (see module docstring). Raises ValueError naming
    ``source`` for missing keys, duplicated steps, unknown exit categories or a status in two categories."""
    if not isinstance(data, dict):
        raise _fail(source, f"expected a mapping with 'steps' and 'exit', got {type(data).__name__}")
    raw_steps = data.get("steps")
    if not isinstance(raw_steps, list) or len(raw_steps) < 2:
        raise _fail(source, "'steps' must list at least two statuses, lowest first")
    steps: list[str] = []
    labels: dict[str, str] = {}
    for i, item in enumerate(raw_steps, start=1):
        if isinstance(item, dict):
            status = item.get("status")
            if item.get("en"):
                labels[str(status)] = str(item["en"])
        else:
            status = item
        if not isinstance(status, str) or not status.strip():
            raise _fail(source, f"step {i} has no status text ({item!r})")
        status = status.strip()
        if status in steps:
            raise _fail(source, f"step {status!r} is listed twice")
        steps.append(status)
    exits = data.get("exit")
    if not isinstance(exits, dict) or not exits:
        raise _fail(source, f"'exit' must map categories ({', '.join(EXIT_CATEGORIES)}) to lists of statuses")
    unknown = [k for k in exits if k not in EXIT_CATEGORIES]
    if unknown:
        raise _fail(source, f"unknown exit categor(y/ies) {unknown}; expected {', '.join(EXIT_CATEGORIES)}")
    category: dict[str, str] = {}
    for cat in EXIT_CATEGORIES:
        for status in exits.get(cat) or []:
            status = str(status).strip()
            if status in category:
                raise _fail(source, f"exit status {status!r} is in both {category[status]!r} and {cat!r}")
            category[status] = cat
    if not any(c == "self_sufficient" for c in category.values()):
        raise _fail(source, "no exit status counts as self_sufficient")
    for status, label in (data.get("labels_en") or {}).items():
        labels[str(status)] = str(label)
    return Ladder(name=str(data.get("name", source)), steps=tuple(steps), exit_category=category, labels_en=labels)


def load_ladder(path: Path) -> Ladder:
    """Read a ladder YAML file (UTF-8). Raises ValueError naming the file if it is unreadable or invalid."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise _fail(str(path), f"cannot be read as UTF-8 YAML: {exc}") from exc
    return ladder_from_dict(data, source=str(path))
