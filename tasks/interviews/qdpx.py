"""REFI-QDA exchange (``.qdpx`` projects, ``.qdc`` codebooks) with NVivo, ATLAS.ti, MAXQDA and QualCoder.

A ``.qdpx`` is a zip holding ``project.qde`` (XML in namespace ``urn:QDA-XML:project:1.0``, schema
``Project-mrt2019.xsd``) and the text sources under ``sources/`` (referenced as ``internal://<file>``).
Text selections give ``startPosition``/``endPosition`` as 0-based *character* (Unicode code point)
offsets into the source's plain text, end exclusive, which are Python string indices on the NFC text: å,
ä and ö count as one character each (never as their two UTF-8 bytes).

:class:`QdaProject` is a lossless, tabular view of the parts this tool uses (users, code tree, text sources,
coded text selections with their coders and descriptions); ``read_qdpx(write_qdpx(p)) == p``. Elements
outside that view (pictures, notes, sets, variables, cases) are not read.
"""

from __future__ import annotations

import io
import os
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from xml.etree import ElementTree as ET

import pandas as pd

from insats.tasks.interviews.codebook import Codebook, codebook_from_qdc
from insats.tasks.interviews.qdc import (
    CODE_COLUMNS,
    GUID_NAMESPACE,
    NS,
    NS_CODEBOOK,
    code_elements,
    guid_for,
    read_code_tree,
    read_qdc,
)
from insats.tasks.interviews.qdc import frame as _frame
from insats.tasks.interviews.qdc import qname as _q

# Re-exported: the code-tree layer lives in .qdc (below .codebook, which this module builds on).
__all__ = [
    "CODE_COLUMNS", "GUID_NAMESPACE", "NS", "NS_CODEBOOK", "REFI_QDA_XSD", "QdaProject", "codebook_from_qdc",
    "codebook_qdc", "codes_table", "coding_from_project", "guid_for", "project_from_coding", "project_xml",
    "qdpx_bytes", "read_qdc", "read_qdpx", "validate_qde", "write_qdpx",
]  # fmt: skip
# The REFI-QDA 1.5 project schema (MIT licence), shipped in schemas/ so exports are checked at every write.
REFI_QDA_XSD = Path(str(resources.files("insats.schemas"))) / "refi-qda" / "Project-mrt2019.xsd"
USER_COLUMNS = ["guid", "name"]
SOURCE_COLUMNS = ["guid", "name", "text"]
SELECTION_COLUMNS = [
    "guid", "source_guid", "start", "end", "name", "description", "coding_guid", "code_guid", "coder_guid",
]  # fmt: skip


@dataclass
class QdaProject:
    """Tabular content of a REFI-QDA project.

    - ``users``: guid, name
    - ``codes``: guid, name, parent_guid ("" at top level), description, is_codable (bool), color ("" or
      ``#RRGGBB``), in document order (parents before children)
    - ``sources``: guid, name, text (the plain text the positions refer to)
    - ``selections``: one row per coding of a text selection: guid (of the selection), source_guid, start,
      end (character offsets, end exclusive), name, description, coding_guid, code_guid, coder_guid
    """

    name: str
    users: pd.DataFrame = field(default_factory=lambda: _frame([], USER_COLUMNS))
    codes: pd.DataFrame = field(default_factory=lambda: _frame([], CODE_COLUMNS))
    sources: pd.DataFrame = field(default_factory=lambda: _frame([], SOURCE_COLUMNS))
    selections: pd.DataFrame = field(default_factory=lambda: _frame([], SELECTION_COLUMNS))

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, QdaProject):
            return NotImplemented
        return self.name == other.name and all(
            getattr(self, k).reset_index(drop=True).equals(getattr(other, k).reset_index(drop=True))
            for k in ("users", "codes", "sources", "selections")
        )


def project_xml(project: QdaProject) -> bytes:
    """The ``project.qde`` document (UTF-8 bytes); sources referenced as ``internal://<guid>.txt``."""
    ET.register_namespace("", NS)
    root = ET.Element(_q("Project"), {"name": project.name, "origin": "insats"})
    if len(project.users):
        users = ET.SubElement(root, _q("Users"))
        for u in project.users.itertuples():
            ET.SubElement(users, _q("User"), {"guid": u.guid, "name": u.name})
    if len(project.codes):
        book = ET.SubElement(root, _q("CodeBook"))
        code_elements(ET.SubElement(book, _q("Codes")), project.codes, "", NS)
    if len(project.sources):
        sources = ET.SubElement(root, _q("Sources"))
        for s in project.sources.itertuples():
            el = ET.SubElement(
                sources, _q("TextSource"), {"guid": s.guid, "name": s.name, "plainTextPath": f"internal://{s.guid}.txt"}
            )
            sel = project.selections[project.selections["source_guid"] == s.guid]
            for guid, g in sel.groupby("guid", sort=False):
                first = g.iloc[0]
                attrs = {
                    "guid": str(guid),
                    "startPosition": str(int(first["start"])),
                    "endPosition": str(int(first["end"])),
                }
                if first["name"]:
                    attrs["name"] = first["name"]
                pts = ET.SubElement(el, _q("PlainTextSelection"), attrs)
                if first["description"]:
                    ET.SubElement(pts, _q("Description")).text = first["description"]
                for c in g.itertuples():
                    if not c.code_guid:
                        continue
                    cattrs = {"guid": c.coding_guid}
                    if c.coder_guid:
                        cattrs["creatingUser"] = c.coder_guid
                    coding = ET.SubElement(pts, _q("Coding"), cattrs)
                    ET.SubElement(coding, _q("CodeRef"), {"targetGUID": c.code_guid})
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


_ZIP_TIME = (2000, 1, 1, 0, 0, 0)  # fixed entry timestamp: reproducible exports (zip dates start in 1980)


def qdpx_bytes(project: QdaProject, where: str = "") -> bytes:
    """``project`` as the bytes of a ``.qdpx`` zip (project.qde + sources/<guid>.txt in UTF-8), checked
    against the REFI-QDA schema. Entries carry a fixed timestamp, so the same project gives the same bytes.

    Raises ValueError (prefixed with ``where``, e.g. the target file) when a selection lies outside its source
    text or refers to an unknown source/code, or when the XML does not validate.
    """
    where = where or f"project {project.name!r}"
    texts = dict(zip(project.sources["guid"], project.sources["text"], strict=True))
    known_codes = set(project.codes["guid"])
    for r in project.selections.itertuples():
        if r.source_guid not in texts:
            raise ValueError(f"{where}: selection {r.guid} refers to unknown source {r.source_guid}")
        if not 0 <= r.start < r.end <= len(texts[r.source_guid]):
            raise ValueError(f"{where}: selection {r.guid} ({r.start}, {r.end}) lies outside its source text")
        if r.code_guid and r.code_guid not in known_codes:
            raise ValueError(f"{where}: selection {r.guid} is coded with unknown code {r.code_guid}")
    xml = project_xml(project)
    errors = validate_qde(xml, REFI_QDA_XSD)
    if errors:  # never hand a researcher a project their QDA tool would reject
        raise ValueError(f"{where}: the project does not validate against the REFI-QDA schema: {'; '.join(errors[:3])}")
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as z:
        for name, data in [("project.qde", xml), *((f"sources/{g}.txt", t.encode("utf-8")) for g, t in texts.items())]:
            entry = zipfile.ZipInfo(name, date_time=_ZIP_TIME)
            entry.compress_type, entry.external_attr = zipfile.ZIP_DEFLATED, 0o644 << 16
            z.writestr(entry, data)
    return buffer.getvalue()


def write_qdpx(project: QdaProject, path: Path) -> Path:
    """Write ``project`` as a ``.qdpx`` file (:func:`qdpx_bytes`), atomically; return the path."""
    path = Path(path)
    data = qdpx_bytes(project, where=str(path))
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    try:
        tmp.write_bytes(data)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return path


def read_qdpx(path: Path) -> QdaProject:
    """Read a ``.qdpx`` project (or a bare ``.qde`` whose sources carry ``PlainTextContent``).

    Text sources are read from ``internal://`` files in the zip (UTF-8, NFC kept as stored) or from
    ``PlainTextContent``. Raises ValueError naming the file for a corrupt zip, a missing project.qde,
    XML outside the REFI-QDA namespace, a missing source file, or a selection outside its source text.
    """
    path = Path(path)
    files: dict[str, bytes] = {}
    try:
        if path.suffix.lower() == ".qde":
            xml = path.read_bytes()
        else:
            with zipfile.ZipFile(path) as z:
                files = {n: z.read(n) for n in z.namelist()}
            qde = [n for n in files if n.lower().endswith(".qde")]
            if not qde:
                raise ValueError(f"{path}: no project.qde inside the .qdpx")
            xml = files[qde[0]]
    except zipfile.BadZipFile as exc:
        raise ValueError(f"{path}: not a .qdpx (zip) file: {exc}") from exc
    try:
        root = ET.fromstring(xml)
    except ET.ParseError as exc:
        raise ValueError(f"{path}: project.qde is not well-formed XML: {exc}") from exc
    if root.tag != _q("Project"):
        raise ValueError(f"{path}: root element is {root.tag!r}; expected Project in namespace {NS}")
    users = [[u.get("guid", ""), u.get("name", "")] for u in root.iter(_q("User"))]
    codes = read_code_tree(root.find(f"{_q('CodeBook')}/{_q('Codes')}"), NS)
    sources, selections = [], []
    for s in root.iter(_q("TextSource")):
        guid, ref = s.get("guid", ""), s.get("plainTextPath", "")
        content = s.find(_q("PlainTextContent"))
        if content is not None:
            text = content.text or ""
        elif ref.startswith("internal://"):
            name = ref[len("internal://") :]
            key = next((k for k in files if k.lower() in (f"sources/{name}".lower(), name.lower())), None)
            if key is None:
                raise ValueError(f"{path}: source {s.get('name')!r} refers to {ref}, not found in the zip")
            text = files[key].decode("utf-8-sig")
        else:
            raise ValueError(f"{path}: source {s.get('name')!r} has no plain text (plainTextPath {ref!r})")
        sources.append([guid, s.get("name", ""), text])
        for pts in s.findall(_q("PlainTextSelection")):
            start, end = int(pts.get("startPosition", "-1")), int(pts.get("endPosition", "-1"))
            if not 0 <= start < end <= len(text):
                raise ValueError(
                    f"{path}: selection {pts.get('guid')} ({start}, {end}) lies outside source {s.get('name')!r}"
                )
            desc = pts.find(_q("Description"))
            base = [pts.get("guid", ""), guid, start, end, pts.get("name", ""),
                    (desc.text or "") if desc is not None else ""]  # fmt: skip
            codings = pts.findall(_q("Coding"))
            for c in codings:
                ref_el = c.find(_q("CodeRef"))
                target = ref_el.get("targetGUID", "") if ref_el is not None else ""
                # The coder: the Coding's creatingUser, else the selection's (how some tools export it).
                user = c.get("creatingUser", "") or pts.get("creatingUser", "")
                selections.append([*base, c.get("guid", ""), target, user])
            if not codings:
                selections.append([*base, "", "", ""])
    return QdaProject(
        name=root.get("name", ""),
        users=_frame(users, USER_COLUMNS),
        codes=codes,
        sources=_frame(sources, SOURCE_COLUMNS),
        selections=_frame(selections, SELECTION_COLUMNS).astype({"start": "int64", "end": "int64"}),
    )


def codebook_qdc(codebook: Codebook) -> bytes:
    """The codebook as a REFI-QDA ``.qdc`` document (UTF-8); code guids are ``guid_for("code", id)``."""
    ET.register_namespace("", NS_CODEBOOK)
    root = ET.Element(_q("CodeBook", NS_CODEBOOK), {"origin": "insats"})
    code_elements(ET.SubElement(root, _q("Codes", NS_CODEBOOK)), codes_table(codebook), "", NS_CODEBOOK)
    return ET.tostring(root, encoding="utf-8", xml_declaration=True)


def codes_table(codebook: Codebook) -> pd.DataFrame:
    """The codebook as a ``codes`` table: name = label, description = "<id>: definition" (so researchers
    see the id in their tool), guid derived from the code id; a code is codable when it has keywords or no
    children (a parent without keywords only groups its children)."""
    parents = {c.parent for c in codebook.codes}
    rows = [
        [guid_for("code", c.id), c.label, guid_for("code", c.parent) if c.parent else "",
         f"{c.id}: {c.definition}".strip(), bool(c.keywords) or c.id not in parents, ""]
        for c in codebook.codes
    ]  # fmt: skip
    return _frame(rows, CODE_COLUMNS)


def project_from_coding(name: str, codebook: Codebook, texts: Mapping[str, str], codings: pd.DataFrame) -> QdaProject:
    """Build a project from (redacted) transcripts and codings.

    ``texts``: interview_id -> text the offsets refer to (use the *redacted* text: nothing unredacted
    leaves the tool). ``codings``: interview_id, start, end, code_id, coder, and optionally description
    (e.g. "auto: körkort (inte krav)" or "förslag p=0.83"). Guids are deterministic (uuid5 of ids and
    offsets), so exporting the same coding twice gives identical files.
    """
    missing = [c for c in ("interview_id", "start", "end", "code_id", "coder") if c not in codings.columns]
    if missing:
        raise ValueError(f"codings: missing column(s) {missing}")
    unknown = sorted(set(codings["code_id"]) - set(codebook.ids))
    if unknown:
        raise ValueError(f"codings: code id(s) {unknown[:5]} not in {codebook.source}")
    absent = sorted(set(codings["interview_id"]) - set(texts))
    if absent:
        raise ValueError(f"codings: interview(s) {absent[:5]} have no text")
    coders = sorted(set(codings["coder"].astype(str)))
    users = _frame([[guid_for("user", c), c] for c in coders], USER_COLUMNS)
    sources = _frame([[guid_for("source", k), k, texts[k]] for k in texts], SOURCE_COLUMNS)
    desc = codings["description"] if "description" in codings.columns else pd.Series("", index=codings.index)
    rows = []
    for r, d in zip(codings.itertuples(), desc.fillna(""), strict=True):
        sel = guid_for("selection", r.interview_id, str(r.start), str(r.end), str(r.coder), r.code_id)
        rows.append([sel, guid_for("source", r.interview_id), int(r.start), int(r.end), "", str(d),
                     guid_for("coding", sel), guid_for("code", r.code_id), guid_for("user", str(r.coder))])  # fmt: skip
    selections = _frame(rows, SELECTION_COLUMNS).astype({"start": "int64", "end": "int64"})
    return QdaProject(name=name, users=users, codes=codes_table(codebook), sources=sources, selections=selections)


def coding_from_project(project: QdaProject, codebook: Codebook | None = None) -> pd.DataFrame:
    """Flatten a project's codings to columns document (source name), start, end, code, coder, description.

    ``code`` is the codebook id when the code's guid is ``guid_for("code", id)`` for an id of ``codebook``
    (a project this tool exported) or its name equals a code label; otherwise the code's name (a code the
    researcher added). ``coder`` is the user's name (or guid when the project lists no such user).
    """
    by_guid: dict[str, str] = dict(zip(project.codes["guid"], project.codes["name"], strict=True))
    if codebook is not None:
        labels = {c.label: c.id for c in codebook.codes}
        by_guid = {g: labels.get(n, n) for g, n in by_guid.items()}
        by_guid.update({guid_for("code", c.id): c.id for c in codebook.codes})
    users = dict(zip(project.users["guid"], project.users["name"], strict=True))
    names = dict(zip(project.sources["guid"], project.sources["name"], strict=True))
    sel = project.selections[project.selections["code_guid"] != ""]
    return pd.DataFrame(
        {
            "document": sel["source_guid"].map(names),
            "start": sel["start"].astype("int64"),
            "end": sel["end"].astype("int64"),
            "code": [by_guid.get(g, g) for g in sel["code_guid"]],
            "coder": [users.get(u, u) for u in sel["coder_guid"]],
            "description": sel["description"],
        }
    ).reset_index(drop=True)


def validate_qde(xml: bytes, xsd: Path) -> list[str]:
    """Errors of a project.qde against the REFI-QDA XSD (empty list = valid). Needs ``lxml``."""
    from lxml import etree

    schema = etree.XMLSchema(etree.parse(str(xsd)))
    doc = etree.fromstring(xml)
    return [] if schema.validate(doc) else [f"line {e.line}: {e.message}" for e in schema.error_log]
