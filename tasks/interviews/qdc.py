"""REFI-QDA code trees: the ``<Codes>`` element shared by ``.qdc`` codebooks and ``.qdpx`` projects.

The bottom layer of the interview modules: it imports no other of them. :mod:`.codebook` reads a ``.qdc``
codebook through :func:`read_qdc` and :func:`qdc_mapping`; :mod:`.qdpx` reads and writes project code trees
with :func:`read_code_tree` / :func:`code_elements`. A code tree is a table with :data:`CODE_COLUMNS`:
guid, name, parent_guid ("" at top level), description, is_codable (bool), color ("" or ``#RRGGBB``), in
document order (parents before children).
"""

from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

import pandas as pd

NS = "urn:QDA-XML:project:1.0"
NS_CODEBOOK = "urn:QDA-XML:codebook:1.0"
# Fixed namespace so that guids derived from code ids / interview ids are stable across exports.
GUID_NAMESPACE = uuid.UUID("6f1c1d1e-2b7a-5c55-9a0e-1a5a7e0c0de6")
CODE_COLUMNS = ["guid", "name", "parent_guid", "description", "is_codable", "color"]


def guid_for(*parts: str) -> str:
    """Deterministic GUID (uuid5) for a tuple of names, e.g. ``guid_for("code", "KOMP.SVENSKA")``."""
    return str(uuid.uuid5(GUID_NAMESPACE, "\x1f".join(parts)))


def qname(tag: str, ns: str = NS) -> str:
    """``{namespace}tag`` as ElementTree spells a namespaced tag."""
    return f"{{{ns}}}{tag}"


def frame(rows: list, columns: list[str]) -> pd.DataFrame:
    """A table with exactly ``columns`` (also when ``rows`` is empty)."""
    return pd.DataFrame(rows, columns=columns)


def read_code_tree(codes_el: ET.Element | None, ns: str) -> pd.DataFrame:
    """The ``<Code>`` elements below ``codes_el`` (depth first, document order) as a code tree table."""
    rows: list[list] = []

    def walk(el: ET.Element, parent: str) -> None:
        for c in el.findall(qname("Code", ns)):
            desc = c.find(qname("Description", ns))
            rows.append([
                c.get("guid", ""), c.get("name", ""), parent, (desc.text or "") if desc is not None else "",
                c.get("isCodable", "true").lower() in ("true", "1"), c.get("color", ""),
            ])  # fmt: skip
            walk(c, c.get("guid", ""))

    if codes_el is not None:
        walk(codes_el, "")
    return frame(rows, CODE_COLUMNS)


def code_elements(parent: ET.Element, codes: pd.DataFrame, parent_guid: str, ns: str) -> None:
    """Append the codes of ``codes`` (a code tree table) whose parent is ``parent_guid`` below ``parent``."""
    for row in codes[codes["parent_guid"] == parent_guid].itertuples():
        attrs = {"guid": row.guid, "name": row.name, "isCodable": "true" if row.is_codable else "false"}
        if row.color:
            attrs["color"] = row.color
        el = ET.SubElement(parent, qname("Code", ns), attrs)
        if row.description:
            ET.SubElement(el, qname("Description", ns)).text = row.description
        code_elements(el, codes, row.guid, ns)


def read_qdc(path: Path) -> pd.DataFrame:
    """Read a REFI-QDA codebook (``.qdc``, namespace ``urn:QDA-XML:codebook:1.0``, or a project namespace)
    into a code tree table. Raises ValueError naming the file when no Codes."""
    path = Path(path)
    try:
        root = ET.fromstring(path.read_bytes())
    except ET.ParseError as exc:
        raise ValueError(f"{path}: not well-formed XML: {exc}") from exc
    for ns in (NS_CODEBOOK, NS):
        codes_el = root.find(f".//{qname('Codes', ns)}")
        if codes_el is not None:
            return read_code_tree(codes_el, ns)
    raise ValueError(f"{path}: no <Codes> element in namespace {NS_CODEBOOK} or {NS}")


def qdc_mapping(codes: pd.DataFrame, name: str) -> dict[str, Any]:
    """A code tree table as the mapping a YAML codebook parses to (name, version "qdc", nested codes).

    Code ids come from a ``<id>: definition`` (or bare ``<id>:``) description (as insats exports them), else from
    the code's name;
    labels from the names. A .qdc has no keywords, so its codes take part in human coding and reliability,
    not in dictionary auto-coding, until keywords are added in a YAML codebook.
    """
    nodes: dict[str, dict] = {}
    for r in codes.itertuples():
        description = str(r.description or "")
        head, sep, rest = description.partition(":")
        explicit = bool(sep) and " " not in head and head != "" and (rest == "" or rest[0].isspace())
        rest = rest.strip()
        nodes[r.guid] = {
            "id": head if explicit else str(r.name),
            "label": str(r.name),
            "definition": rest if explicit else description,
            "keywords": [],
            "children": [],
        }
    roots = []
    for r in codes.itertuples():
        parent = nodes.get(r.parent_guid) if r.parent_guid else None
        (parent["children"] if parent is not None else roots).append(nodes[r.guid])
    for node in nodes.values():
        if not node["children"]:
            del node["children"]
    return {"name": name, "version": "qdc", "codes": roots}
