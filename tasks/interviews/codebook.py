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

Codes nest to any depth through ``children``, or list flat with ``parent: <id>`` (both may be mixed; a
parent may come after its child in the file). The standard codebook fields ``definition``, ``include``
(when to apply), ``exclude`` (when not to), ``examples`` (a string or a list) and ``notes`` are kept.
``keywords`` are single words or multi-word phrases (matched by :mod:`insats.tasks.interviews.coding`);
they are optional: a code without keywords takes part in human coding, reliability and suggestions, not in
dictionary auto-coding. The loaded :class:`Codebook` holds the codes flattened in document order
(parents before their children).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from insats.tasks.interviews.qdc import qdc_mapping, read_qdc

# Keys a code may carry; anything else is most likely a typo (e.g. "keyword:") and is rejected.
_CODE_KEYS = frozenset(
    {
        "id",
        "label",
        "label_en",
        "definition",
        "include",
        "exclude",
        "examples",
        "notes",
        "keywords",
        "children",
        "parent",
    }
)


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
    include: str = ""
    exclude: str = ""
    examples: tuple[str, ...] = ()


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


def _string_list(node: dict[str, Any], key: str, where: str, single: bool) -> tuple[str, ...]:
    value = node.get(key) or []
    if single and isinstance(value, str):
        value = [value]
    if not isinstance(value, list) or not all(isinstance(k, str) and k.strip() for k in value):
        kind = "a string or a list of non-empty strings" if single else "a list of non-empty strings"
        raise ValueError(f"{where}: {key!r} must be {kind}, got {value!r}")
    return tuple(k.strip() for k in value)


def _collect(nodes: Any, parent: str | None, source: str, seen: dict[str, str], out: list[dict]) -> None:
    """Validate the items of a ``codes``/``children`` list into records (``parent`` from nesting or ``parent:``)."""
    owner = f"children of code {parent!r}" if parent else "'codes'"
    if not isinstance(nodes, list) or not nodes:
        raise ValueError(f"{source}: {owner} must be a non-empty list of codes")
    for i, node in enumerate(nodes):
        if not isinstance(node, dict):
            raise ValueError(f"{source}: item {i + 1} of {owner} must be a mapping with 'id' and 'label'")
        code_id = node.get("id")
        if not isinstance(code_id, (str, int)) or not str(code_id).strip():
            raise ValueError(f"{source}: item {i + 1} of {owner} has no 'id'")
        code_id = str(code_id).strip()
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
        flat_parent = node.get("parent")
        if flat_parent is not None and parent is not None and str(flat_parent).strip() != parent:
            raise ValueError(f"{where}: nested under {parent!r} but says parent: {flat_parent!r}")
        out.append(
            dict(
                id=code_id,
                parent=parent if flat_parent is None or str(flat_parent).strip() == "" else str(flat_parent).strip(),
                label=label,
                label_en=_optional_str(node, "label_en", where),
                definition=_optional_str(node, "definition", where),
                keywords=_string_list(node, "keywords", where, single=False),
                include=_optional_str(node, "include", where),
                exclude=_optional_str(node, "exclude", where),
                examples=_string_list(node, "examples", where, single=True),
            )
        )
        if "children" in node:
            _collect(node["children"], code_id, source, seen, out)


def _ordered(records: list[dict], source: str) -> list[Code]:
    """Codes in document order with every parent before its children, levels from the root (1 = top)."""
    ids = {r["id"] for r in records}
    for r in records:
        if r["parent"] is not None and r["parent"] not in ids:
            raise ValueError(f"{source}: code {r['id']!r} names parent {r['parent']!r}, which is not in the codebook")
    kids: dict[str | None, list[dict]] = {}
    for r in records:
        kids.setdefault(r["parent"], []).append(r)
    out: list[Code] = []

    def walk(parent: str | None, level: int) -> None:
        for r in kids.get(parent, []):
            out.append(Code(level=level, **r))
            walk(r["id"], level + 1)

    walk(None, 1)
    if len(out) < len(records):
        cyclic = sorted(ids - {c.id for c in out})
        raise ValueError(f"{source}: codes {cyclic[:5]} have parent links that form a cycle (no top-level code)")
    return out


def parse_codebook(data: Any, source: str = "<codebook>") -> Codebook:
    """Validate and flatten an already-parsed codebook mapping (see module docstring).

    Raises ValueError naming ``source`` and the code id for: a missing or empty ``codes`` list,
    items that are not mappings, missing id/label, duplicate ids, non-list ``children``, keywords
    that are not a list of non-empty strings, unknown keys, a ``parent:`` that is not a code, conflicts
    with the nesting, or parent links in a cycle.
    """
    if not isinstance(data, dict):
        raise ValueError(f"{source}: a codebook must be a mapping with 'name', 'version' and 'codes'")
    if "codes" not in data:
        raise ValueError(f"{source}: missing the 'codes' list")
    records: list[dict] = []
    _collect(data["codes"], None, source, {}, records)
    name = data.get("name", "")
    version = data.get("version", "")
    return Codebook(
        name="" if name is None else str(name),
        version="" if version is None else str(version),
        codes=tuple(_ordered(records, source)),
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
