"""The status ladder of a participant-flow project: ordered steps towards work or studies, what each status
at exit counts as, and other spellings (aliases) of the statuses.

A ladder is read from YAML (format in ``docs/participant_flow.md``; the Swedish default is
``configs/ladder.sv.yaml``) and checked by the pydantic model ``LadderSpec``::

    name: Svensk standardstege
    steps:                      # ordered, lowest first; a plain string or {status, en, aliases}
      - {status: Ej aktuell för insats just nu, en: Not currently able to take part}
      - {status: Arbete, en: Work, aliases: [Anställd]}
      ...
    exit:                       # every status allowed at exit, in exactly one category
      self_sufficient: [Arbete, Studier]
      favourable: [Subventionerad anställning, Aktivt arbetssökande]
      unclear: [Okänt, Flyttat]
      other: [Sjukskriven]      # optional: neither favourable nor unclear
    labels_en: {Okänt: Unknown} # optional English labels of exit-only statuses
    aliases: {Arbete: [arbete heltid], Okänt: [vet ej]}   # optional: other spellings -> the status

Exit statuses need not be ladder steps (``Flyttat``); exit statuses that are steps also count as the last
documented position on the ladder. Self-sufficient exits are favourable too (``favourable_exit``). Statuses
and aliases are matched ignoring case and repeated spaces.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from insats.errors import InputError, validation_problems

EXIT_CATEGORIES: tuple[str, ...] = ("self_sufficient", "favourable", "unclear", "other")
ONGOING = "ongoing"
FAVOURABLE_CATEGORIES: frozenset[str] = frozenset({"self_sufficient", "favourable"})
SETTING = "participant_flow.ladder"


def status_key(value: Any) -> str:
    """How statuses and aliases are compared: lower case, runs of white space as one space."""
    return " ".join(str(value).lower().split())


@dataclass(frozen=True)
class Ladder:
    """Ordered ``steps`` (lowest first), ``exit_category`` (exit status -> category), English labels and
    ``aliases`` (``status_key`` of another spelling -> the status)."""

    name: str
    steps: tuple[str, ...]
    exit_category: dict[str, str]
    labels_en: dict[str, str] = field(default_factory=dict)
    aliases: dict[str, str] = field(default_factory=dict)

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

    def lookup(self, allowed: list[str] | tuple[str, ...] | None = None) -> dict[str, str]:
        """``status_key`` of every spelling (the status itself or an alias) -> the status, for the statuses
        in ``allowed`` (default: every status)."""
        allowed = self.statuses if allowed is None else allowed
        out = {key: status for key, status in self.aliases.items() if status in allowed}
        out.update({status_key(s): s for s in allowed})
        return out

    def canonical(self, value: Any, allowed: list[str] | tuple[str, ...] | None = None) -> str | None:
        """The status ``value`` means (its own spelling or an alias, ignoring case and spaces), or None when
        it is not one of ``allowed`` (default: every status)."""
        return self.lookup(allowed).get(status_key(value))

    def label(self, status: str, lang: str = "sv") -> str:
        """The status as written in ``lang`` ("sv": as documented; "en": the ladder's English label)."""
        return self.labels_en.get(status, status) if lang == "en" else status


# --- the YAML as pydantic models ------------------------------------------------------------------------


def _text(value: Any) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"expected a status as text, got {value!r}")
    return value.strip()


class Step(BaseModel):
    model_config = ConfigDict(extra="forbid")

    status: str
    en: str | None = None
    aliases: list[str] = []

    _status = field_validator("status", mode="before")(lambda v: _text(v))


class ExitCategories(BaseModel):
    model_config = ConfigDict(extra="forbid")

    self_sufficient: list[str]
    favourable: list[str] = []
    unclear: list[str] = []
    other: list[str] = []

    @model_validator(mode="before")
    @classmethod
    def _known_categories(cls, data: Any) -> Any:
        if isinstance(data, dict):
            unknown = [k for k in data if k not in EXIT_CATEGORIES]
            if unknown:
                raise ValueError(f"unknown exit categor(y/ies) {unknown}; expected {', '.join(EXIT_CATEGORIES)}")
            return {k: v or [] for k, v in data.items()}
        return data

    @field_validator("self_sufficient", "favourable", "unclear", "other", mode="before")
    @classmethod
    def _statuses(cls, value: Any) -> list[str]:
        return [_text(v) for v in (value if isinstance(value, list) else [value])]

    @field_validator("self_sufficient")
    @classmethod
    def _some_self_sufficient(cls, value: list[str]) -> list[str]:
        if not value:
            raise ValueError("no exit status counts as self_sufficient")
        return value

    @model_validator(mode="after")
    def _one_category_each(self) -> ExitCategories:
        seen: dict[str, str] = {}
        for cat in EXIT_CATEGORIES:
            for status in getattr(self, cat):
                if status in seen:
                    raise ValueError(f"exit status {status!r} is in both {seen[status]!r} and {cat!r}")
                seen[status] = cat
        return self

    def category(self) -> dict[str, str]:
        return {status: cat for cat in EXIT_CATEGORIES for status in getattr(self, cat)}


class LadderSpec(BaseModel):
    """The ladder YAML: ``steps`` (at least two, unique), ``exit``, ``labels_en``, ``aliases``."""

    model_config = ConfigDict(extra="forbid")

    name: str | None = None
    steps: list[Step] = Field(min_length=2)
    exit: ExitCategories
    labels_en: dict[str, str] = {}
    aliases: dict[str, list[str]] = {}

    @field_validator("steps", mode="before")
    @classmethod
    def _plain_steps(cls, value: Any) -> Any:
        return [{"status": v} if not isinstance(v, dict) else v for v in value] if isinstance(value, list) else value

    @field_validator("steps")
    @classmethod
    def _unique_steps(cls, steps: list[Step]) -> list[Step]:
        names = [s.status for s in steps]
        twice = sorted({n for n in names if names.count(n) > 1})
        if twice:
            raise ValueError(f"step(s) {twice} listed twice")
        return steps

    @field_validator("aliases", mode="before")
    @classmethod
    def _alias_lists(cls, value: Any) -> Any:
        if isinstance(value, dict):
            return {k: [v] if isinstance(v, str) else v for k, v in value.items()}
        return value

    @model_validator(mode="after")
    def _aliases_are_unambiguous(self) -> LadderSpec:
        self.alias_map()
        return self

    def statuses(self) -> list[str]:
        steps = [s.status for s in self.steps]
        return [*steps, *[s for s in self.exit.category() if s not in steps]]

    def alias_map(self) -> dict[str, str]:
        """``status_key(alias)`` -> status. Raises ValueError for an alias of an unknown status, an alias
        that is itself another status, or one alias given to two statuses."""
        statuses = self.statuses()
        keys = {status_key(s): s for s in statuses}
        pairs = [(a, s.status) for s in self.steps for a in s.aliases]
        pairs += [(a, status) for status, names in self.aliases.items() for a in names]
        out: dict[str, str] = {}
        for alias, status in pairs:
            if status not in statuses:
                raise ValueError(f"aliases: {status!r} is not a status of the ladder (steps or exit)")
            key = status_key(alias)
            other = keys.get(key) or out.get(key)
            if other not in (None, status):
                raise ValueError(f"aliases: {alias!r} cannot mean both {other!r} and {status!r}")
            if key != status_key(status):
                out[key] = status
        return out

    def to_ladder(self, source: str) -> Ladder:
        labels = {s.status: s.en for s in self.steps if s.en}
        labels.update(self.labels_en)
        return Ladder(
            name=self.name or source,
            steps=tuple(s.status for s in self.steps),
            exit_category=self.exit.category(),
            labels_en=labels,
            aliases=self.alias_map(),
        )


def ladder_from_dict(data: Any, source: str = "<ladder>", setting: str | None = SETTING) -> Ladder:
    """Build and check a ladder from its parsed YAML (see module docstring). Raises ``InputError`` (a
    ValueError) naming ``source``, the setting and every field at fault: too few or duplicated steps,
    unknown exit categories, a status in two categories, ambiguous aliases."""
    try:
        spec = LadderSpec.model_validate(data)
    except ValidationError as exc:
        raise InputError("not a valid ladder", validation_problems(exc), file=source, setting=setting) from None
    return spec.to_ladder(source)


def load_ladder(path: Path, setting: str | None = SETTING) -> Ladder:
    """Read a ladder YAML file (UTF-8). Raises ``InputError`` naming the file if it is unreadable or invalid."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"cannot be read as a UTF-8 YAML ladder: {exc}", file=str(path), setting=setting) from exc
    return ladder_from_dict(data, source=str(path), setting=setting)
