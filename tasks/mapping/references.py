"""Evidence review (study 2): reading literature-database exports into the reference table of
:mod:`insats.tasks.mapping.reference_records`.

Readers: RIS (``.ris``: ``TY``..``ER`` blocks), BibTeX (``.bib``: ``@type{key, field = {..}}``) and CSV
(``.csv``, UTF-8/UTF-8-BOM with cp1252 fallback, ``,`` or ``;``; columns named as in the reference table,
``authors`` also accepted as ``author``). Text is Unicode NFC; å ä ö are kept.
"""

from __future__ import annotations

import csv
import io
import re
from pathlib import Path

import pandas as pd

from insats.tasks.mapping.reference_records import decode_text, make_record, parse_year, records_frame

_RIS_TAG = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$")
# RIS tags -> our fields (several tags may feed one field; the first non-empty one wins for single fields).
_RIS_TITLE = ("TI", "T1", "CT", "BT")
_RIS_ABSTRACT = ("AB", "N2")
_RIS_AUTHOR = ("AU", "A1")
_RIS_YEAR = ("PY", "Y1", "DA")
_RIS_JOURNAL = ("JO", "JF", "T2", "JA")


def read_ris(path: Path) -> pd.DataFrame:
    """Read a RIS export: one record per ``TY  - `` .. ``ER  - `` block. Lines not starting with a tag continue
    the previous field (wrapped abstracts). Record id: ``ID`` (or ``AN``) if present, else
    ``<file stem>-<n>``. Raises ValueError naming the file and line for a field outside a record or a
    record without ``ER``."""
    path = Path(path)
    lines = decode_text(path).splitlines()
    records: list[dict[str, object]] = []
    fields: dict[str, list[str]] | None = None
    last: str | None = None
    start_line = 0
    for no, line in enumerate(lines, start=1):
        m = _RIS_TAG.match(line.rstrip())
        if m is None:
            if line.strip() and fields is not None and last is not None:
                fields[last][-1] += " " + line.strip()
            elif line.strip():
                raise ValueError(f"{path}: line {no}: text outside a RIS record (expected 'TY  - ' to start one)")
            continue
        tag, value = m.group(1), (m.group(2) or "").strip()
        if tag == "TY":
            if fields is not None:
                raise ValueError(
                    f"{path}: line {no}: new record (TY) before the record from line {start_line} ended (ER)"
                )
            fields, last, start_line = {}, None, no
            continue
        if fields is None:
            raise ValueError(f"{path}: line {no}: tag {tag} outside a record (expected 'TY  - ' first)")
        if tag == "ER":
            n = len(records) + 1
            records.append(_ris_record(fields, f"{path.stem}-{n}", path, start_line))
            fields, last = None, None
            continue
        fields.setdefault(tag, []).append(value)
        last = tag
    if fields is not None:
        raise ValueError(f"{path}: the record starting on line {start_line} has no end tag 'ER  - '")
    return records_frame(records, str(path))


def _ris_record(fields: dict[str, list[str]], default_id: str, path: Path, line: int) -> dict[str, object]:
    def first(tags: tuple[str, ...]) -> str:
        return next((v for t in tags for v in fields.get(t, []) if v.strip()), "")

    authors = next((fields[t] for t in _RIS_AUTHOR if fields.get(t)), [])
    return make_record(
        record_id=first(("ID", "AN")) or default_id,
        title=first(_RIS_TITLE),
        abstract=first(_RIS_ABSTRACT),
        authors=authors,
        year=parse_year(first(_RIS_YEAR), f"{path}: record starting on line {line}, tag PY"),
        doi=first(("DO",)),
        journal=first(_RIS_JOURNAL),
        keywords=fields.get("KW", []),
        source=path.name,
    )


def _bib_value(text: str, i: int, where: str) -> tuple[str, int]:
    """Parse a BibTeX value starting at ``text[i]``: ``{..}`` (nested), ``".."`` or a bare word/number."""
    if text[i] == "{":
        depth, j = 0, i
        while j < len(text):
            if text[j] == "{":
                depth += 1
            elif text[j] == "}":
                depth -= 1
                if depth == 0:
                    return text[i + 1 : j], j + 1
            j += 1
        raise ValueError(f"{where}: unbalanced braces")
    if text[i] == '"':
        j = text.find('"', i + 1)
        if j < 0:
            raise ValueError(f"{where}: unterminated quoted value")
        return text[i + 1 : j], j + 1
    m = re.compile(r"[^,}\s]+").match(text, i)
    if m is None:
        raise ValueError(f"{where}: expected a value")
    return m.group(0), m.end()


_LATEX_ACCENTS = {
    ('"', "a"): "ä", ('"', "o"): "ö", ('"', "u"): "ü", ("r", "a"): "å", ('"', "A"): "Ä",
    ('"', "O"): "Ö", ("r", "A"): "Å", ("'", "e"): "é", ("'", "E"): "É",
}  # fmt: skip


def _delatex(s: str) -> str:
    """The LaTeX escapes common in Nordic references (``{\\"a}``, ``\\r{a}``, ``{\\aa}``) -> letters; braces
    dropped."""
    s = re.sub(r"\{?\\aa\}?", "å", s)
    s = re.sub(r"\{?\\AA\}?", "Å", s)
    s = re.sub(
        r"\{?\\([\"'r])\s*\{?([A-Za-z])\}?\}?",
        lambda m: _LATEX_ACCENTS.get((m.group(1), m.group(2)), m.group(2)),
        s,
    )
    return s.replace("{", "").replace("}", "")


def read_bibtex(path: Path) -> pd.DataFrame:
    """Read a BibTeX file: every ``@type{key, field = value, ...}`` entry except ``@comment``, ``@string`` and
    ``@preamble``. Record id = the citation key. Authors split on `` and ``. Raises ValueError naming the
    file and entry for malformed entries."""
    path = Path(path)
    text = decode_text(path)
    records: list[dict[str, object]] = []
    for m in re.finditer(r"@(\w+)\s*\{", text):
        kind = m.group(1).lower()
        if kind in ("comment", "string", "preamble"):
            continue
        line = text.count("\n", 0, m.start()) + 1
        where = f"{path}: entry on line {line}"
        key_m = re.compile(r"\s*([^,\s]+)\s*,").match(text, m.end())
        if key_m is None:
            raise ValueError(f"{where}: expected a citation key followed by ','")
        i, fields = key_m.end(), {}
        while True:
            f = re.compile(r"\s*(?:(\w+)\s*=\s*|(\}))").match(text, i)
            if f is None:
                raise ValueError(f"{where}: expected 'field = value' or the closing '}}'")
            if f.group(2):
                break
            value, i = _bib_value(text, f.end(), where)
            fields[f.group(1).lower()] = _delatex(value)
            sep = re.compile(r"\s*(,|\})").match(text, i)
            if sep is None:
                raise ValueError(f"{where}: expected ',' or '}}' after field {f.group(1)!r}")
            i = sep.end()
            if sep.group(1) == "}":
                break
        authors = [a for a in re.split(r"\s+and\s+", fields.get("author", "")) if a.strip()]
        records.append(
            make_record(
                record_id=key_m.group(1),
                title=fields.get("title", ""),
                abstract=fields.get("abstract", ""),
                authors=authors,
                year=parse_year(fields.get("year", ""), f"{where}, field year"),
                doi=fields.get("doi", ""),
                journal=fields.get("journal", fields.get("booktitle", "")),
                keywords=re.split(r"[;,]", fields.get("keywords", "")),
                source=path.name,
            )
        )
    return records_frame(records, str(path))


def read_references_csv(path: Path) -> pd.DataFrame:
    """Read a CSV export with a ``title`` column and any of record_id, abstract, authors (or author: ";"-
    separated), year, doi, journal, keywords. Raises ValueError naming the file when ``title`` is missing,
    and the row for an unreadable year."""
    path = Path(path)
    text = decode_text(path)
    header = next((ln for ln in text.splitlines() if ln.strip()), "")
    delimiter = ";" if header.count(";") > header.count(",") else ","
    rows = list(csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter))
    cols = {str(c).strip().lower(): c for c in (rows[0].keys() if rows else next(csv.reader([header])))}
    if "title" not in cols:
        raise ValueError(f"{path}: missing column 'title'; found {', '.join(cols)}")

    def get(row: dict[str, str], name: str) -> str:
        key = cols.get(name)
        return (row.get(key) or "") if key is not None else ""

    records = []
    for n, row in enumerate(rows, start=1):
        authors = get(row, "authors") or get(row, "author")
        records.append(
            make_record(
                record_id=get(row, "record_id") or f"{path.stem}-{n}",
                title=get(row, "title"),
                abstract=get(row, "abstract"),
                authors=authors.split(";"),
                year=parse_year(get(row, "year"), f"{path}: row {n + 1}, column 'year'"),
                doi=get(row, "doi"),
                journal=get(row, "journal"),
                keywords=get(row, "keywords").split(";"),
                source=path.name,
            )
        )
    return records_frame(records, str(path))


def read_references(paths: list[Path]) -> pd.DataFrame:
    """Read and concatenate reference files by suffix (``.ris``, ``.bib``, ``.csv``), in the given order.

    Raises ValueError for an unknown suffix or a record id found in two files (ids must be unique overall).
    """
    frames = []
    for p in map(Path, paths):
        suffix = p.suffix.lower()
        reader = {".ris": read_ris, ".bib": read_bibtex, ".csv": read_references_csv}.get(suffix)
        if reader is None:
            raise ValueError(f"{p}: unsupported reference file type {suffix!r}; expected .ris, .bib or .csv")
        frames.append(reader(p))
    if not frames:
        raise ValueError("no reference files given")
    out = pd.concat(frames, ignore_index=True)
    dup = out[out["record_id"].duplicated(keep=False)]
    if len(dup):
        rid = dup["record_id"].iloc[0]
        files = ", ".join(dup.loc[dup["record_id"] == rid, "source"])
        raise ValueError(f"record id {rid!r} occurs in more than one file ({files}); ids must be unique")
    out["year"] = out["year"].astype("Int64")
    return out
