"""Hierarchical codebook for deductive coding of interview transcripts.

The codebook is a YAML file (UTF-8)::

    name: Arbetsgivares förväntningar och syn på insatser
    version: "1.0"
    codes:
      - id: KOMP
        label: Kompetenser och egenskaper
        label_en: Competencies and qualities
        definition: ...
        children:
          - id: KOMP.SVENSKA
            label: Svenska språket
            label_en: Swedish language skills
            definition: ...
            keywords: [svenska, språk, prata svenska]

Codes nest to any depth through ``children``. ``keywords`` are single words or multi-word phrases
(matched on Swedish stems by :mod:`insats.tasks.interviews.coding`). The loaded :class:`Codebook` holds the
codes flattened in document order (parents before their children).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from insats.tasks.interviews.qdc import qdc_mapping, read_qdc

# Keys a code may carry; anything else is most likely a typo (e.g. "keyword:") and is rejected.
_CODE_KEYS = frozenset({"id", "label", "label_en", "definition", "keywords", "children", "examples", "notes"})


@dataclass(frozen=True)
class Code:
    """One code: ``parent`` is None for top-level codes, ``level`` is 1 for top-level codes."""

    id: str
    parent: str | None
    level: int
    label: str
    label_en: str
    definition: str
    keywords: tuple[str, ...]


@dataclass(frozen=True)
class Codebook:
    """A flattened codebook: ``codes`` in document order, parents before children."""

    name: str
    version: str
    codes: tuple[Code, ...]
    source: str = "<codebook>"

    @property
    def ids(self) -> list[str]:
        """All code ids in document order."""
        return [c.id for c in self.codes]

    def get(self, code_id: str) -> Code:
        """The code with id ``code_id``; KeyError naming the codebook if absent."""
        for c in self.codes:
            if c.id == code_id:
                return c
        raise KeyError(f"{self.source}: no code with id {code_id!r}")

    def children(self, code_id: str) -> list[Code]:
        """Direct children of ``code_id`` in document order (empty for a leaf)."""
        self.get(code_id)
        return [c for c in self.codes if c.parent == code_id]

    def descendants(self, code_id: str) -> list[Code]:
        """All codes below ``code_id`` (children, grandchildren, ...) in document order."""
        self.get(code_id)
        found: set[str] = {code_id}
        out: list[Code] = []
        for c in self.codes:  # document order guarantees parents are seen before children
            if c.parent in found:
                found.add(c.id)
                out.append(c)
        return out

    def to_frame(self) -> pd.DataFrame:
        """One row per code: code_id, parent (None at top level), level (1 = top), label, label_en,
        definition, keywords ("; "-joined, "" when none)."""
        return pd.DataFrame(
            {
                "code_id": [c.id for c in self.codes],
                "parent": [c.parent for c in self.codes],
                "level": [c.level for c in self.codes],
                "label": [c.label for c in self.codes],
                "label_en": [c.label_en for c in self.codes],
                "definition": [c.definition for c in self.codes],
                "keywords": ["; ".join(c.keywords) for c in self.codes],
            }
        ).astype({"level": "int64"})


def _optional_str(node: dict[str, Any], key: str, where: str) -> str:
    value = node.get(key, "")
    if value is None:
        return ""
    if not isinstance(value, str):
        raise ValueError(f"{where}: {key!r} must be a string, got {type(value).__name__}")
    return value.strip()


def _flatten(nodes: Any, parent: str | None, level: int, source: str, seen: dict[str, str], out: list[Code]) -> None:
    owner = f"children of code {parent!r}" if parent else "'codes'"
    if not isinstance(nodes, list) or not nodes:
        raise ValueError(f"{source}: {owner} must be a non-empty list of codes")
    for i, node in enumerate(nodes):
        if not isinstance(node, dict):
            raise ValueError(f"{source}: item {i + 1} of {owner} must be a mapping with 'id' and 'label'")
        code_id = node.get("id")
        if not isinstance(code_id, str) or not code_id.strip():
            raise ValueError(f"{source}: item {i + 1} of {owner} has no string 'id'")
        code_id = code_id.strip()
        where = f"{source}: code {code_id!r}"
        if code_id in seen:
            raise ValueError(f"{where}: duplicate code id (first defined under {seen[code_id]})")
        seen[code_id] = f"code {parent!r}" if parent else "the top level"
        unknown = sorted(set(node) - _CODE_KEYS)
        if unknown:
            raise ValueError(f"{where}: unknown key(s) {unknown}; allowed: {sorted(_CODE_KEYS)}")
        label = _optional_str(node, "label", where)
        if not label:
            raise ValueError(f"{where}: 'label' is required and must be a non-empty string")
        keywords = node.get("keywords", [])
        if keywords is None:
            keywords = []
        if not isinstance(keywords, list) or not all(isinstance(k, str) and k.strip() for k in keywords):
            raise ValueError(f"{where}: 'keywords' must be a list of non-empty strings, got {keywords!r}")
        out.append(
            Code(
                id=code_id,
                parent=parent,
                level=level,
                label=label,
                label_en=_optional_str(node, "label_en", where),
                definition=_optional_str(node, "definition", where),
                keywords=tuple(k.strip() for k in keywords),
            )
        )
        if "children" in node:
            _flatten(node["children"], code_id, level + 1, source, seen, out)


def parse_codebook(data: Any, source: str = "<codebook>") -> Codebook:
    """Validate and flatten an already-parsed codebook mapping (see module docstring).

    Raises ValueError naming ``source`` and the code id for: a missing or empty ``codes`` list,
    items that are not mappings, missing id/label, duplicate ids, non-list ``children``, keywords
    that are not a list of non-empty strings, and unknown keys.
    """
    if not isinstance(data, dict):
        raise ValueError(f"{source}: a codebook must be a mapping with 'name', 'version' and 'codes'")
    if "codes" not in data:
        raise ValueError(f"{source}: missing the 'codes' list")
    out: list[Code] = []
    _flatten(data["codes"], None, 1, source, {}, out)
    name = data.get("name", "")
    version = data.get("version", "")
    return Codebook(
        name="" if name is None else str(name),
        version="" if version is None else str(version),
        codes=tuple(out),
        source=source,
    )


def codebook_from_qdc(path: Path) -> Codebook:
    """A REFI-QDA ``.qdc`` codebook (as NVivo, ATLAS.ti, MAXQDA or QualCoder export it) as a ``Codebook``
    (ids, labels and definitions as :func:`insats.tasks.interviews.qdc.qdc_mapping` reads them; no keywords)."""
    return parse_codebook(qdc_mapping(read_qdc(path), Path(path).stem), source=str(path))


def load_codebook(path: Path) -> Codebook:
    """Read a YAML codebook (UTF-8, optional BOM), or a REFI-QDA ``.qdc`` codebook, and validate it; errors
    name the file and code id."""
    path = Path(path)
    if path.suffix.lower() == ".qdc":
        return codebook_from_qdc(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8-sig"))
    except yaml.YAMLError as exc:
        raise ValueError(f"{path}: not valid YAML: {exc}") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(f"{path}: codebook must be UTF-8 encoded: {exc}") from exc
    return parse_codebook(data, source=str(path))
