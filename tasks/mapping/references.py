"""Evidence review (study 2): reading literature-database exports and removing duplicate records.

A reference table has one row per record with the columns of :data:`REFERENCE_COLUMNS`:

- ``record_id`` (str, unique across all files read together; the export's own id when it has one, else
  ``<file stem>-<n>`` with n the 1-based record number in the file),
- ``title``, ``abstract``, ``journal``, ``keywords`` (str, "" when missing; keywords "; "-joined),
- ``authors`` (str, "; "-joined as written, e.g. ``Bond, Gary R.; Drake, Robert E.``), ``first_author`` (str:
  the first author's family name as written),
- ``year`` (Int64, <NA> when missing), ``doi`` (str, normalised: lower case, no ``https://doi.org/`` or
  ``doi:`` prefix; "" when missing), ``source`` (str: the file name the record came from).

Readers: RIS (``.ris``: ``TY``..``ER`` blocks), BibTeX (``.bib``: ``@type{key, field = {..}}``) and CSV
(``.csv``, UTF-8/UTF-8-BOM with cp1252 fallback, ``,`` or ``;``; columns named as above, ``authors`` also
accepted as ``author``). Text is Unicode NFC; å ä ö are kept.

De-duplication (:func:`deduplicate`) merges records in two passes: (1) equal normalised DOI; (2) equal
normalised title + year + normalised first-author family name (accents, case and punctuation ignored),
but never two records whose DOIs are both present and different.
"""

from __future__ import annotations

import csv
import io
import re
import unicodedata
from pathlib import Path

import pandas as pd

REFERENCE_COLUMNS: tuple[str, ...] = (
    "record_id",
    "title",
    "abstract",
    "authors",
    "first_author",
    "year",
    "doi",
    "journal",
    "keywords",
    "source",
)
MERGE_REPORT_COLUMNS: tuple[str, ...] = ("kept_id", "removed_id", "rule", "doi", "title", "year", "first_author")

_RIS_TAG = re.compile(r"^([A-Z][A-Z0-9])  -(?: (.*))?$")
# RIS tags -> our fields (several tags may feed one field; the first non-empty one wins for single fields).
_RIS_TITLE = ("TI", "T1", "CT", "BT")
_RIS_ABSTRACT = ("AB", "N2")
_RIS_AUTHOR = ("AU", "A1")
_RIS_YEAR = ("PY", "Y1", "DA")
_RIS_JOURNAL = ("JO", "JF", "T2", "JA")


# --------------------------------------------------------------------------------------------- helpers


def _nfc(value: object) -> str:
    if value is None or (isinstance(value, float) and pd.isna(value)):
        return ""
    return unicodedata.normalize("NFC", re.sub(r"\s+", " ", str(value)).strip())


def normalise_doi(value: object) -> str:
    """``https://doi.org/10.1/ABC``, ``doi: 10.1/abc`` and ``10.1/abc`` all become ``10.1/abc``; "" if none."""
    s = _nfc(value).lower()
    s = re.sub(r"^(?:https?://)?(?:dx\.)?doi\.org/", "", s)
    s = re.sub(r"^doi:\s*", "", s)
    return s.strip().rstrip(".")


def fold_text(value: object) -> str:
    """Matching key for titles and names: NFKD without accents, lower case, only letters/digits and single
    spaces (``"Supported Employment: a Meta-Analysis."`` -> ``"supported employment a meta analysis"``)."""
    s = unicodedata.normalize("NFKD", _nfc(value).lower())
    s = "".join(ch for ch in s if not unicodedata.combining(ch))
    return " ".join(re.sub(r"[^0-9a-z]+", " ", s).split())


def _family_name(author: str) -> str:
    """Family name of one author as written: ``Bond, G. R.`` -> ``Bond``; ``Gary R. Bond`` -> ``Bond``."""
    author = author.strip()
    if not author:
        return ""
    if "," in author:
        return author.split(",", 1)[0].strip()
    return author.split()[-1]


def _year(value: object, where: str) -> int | None:
    s = _nfc(value)
    if not s:
        return None
    m = re.search(r"(1[89]\d\d|20\d\d)", s)
    if m is None:
        raise ValueError(f"{where}: cannot read a year from {s!r}; expected a four-digit year")
    return int(m.group(1))


def _decode(path: Path) -> str:
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252")


def _record(
    record_id: str,
    title: str,
    abstract: str,
    authors: list[str],
    year: int | None,
    doi: str,
    journal: str,
    keywords: list[str],
    source: str,
) -> dict[str, object]:
    authors = [_nfc(a) for a in authors if _nfc(a)]
    return {
        "record_id": _nfc(record_id),
        "title": _nfc(title),
        "abstract": _nfc(abstract),
        "authors": "; ".join(authors),
        "first_author": _family_name(authors[0]) if authors else "",
        "year": year,
        "doi": normalise_doi(doi),
        "journal": _nfc(journal),
        "keywords": "; ".join(k for k in (_nfc(k) for k in keywords) if k),
        "source": source,
    }


def _frame(records: list[dict[str, object]], source: str) -> pd.DataFrame:
    df = pd.DataFrame(records, columns=list(REFERENCE_COLUMNS))
    df["year"] = pd.array(df["year"].tolist(), dtype="Int64")
    for col in REFERENCE_COLUMNS:
        if col != "year":
            df[col] = df[col].astype(object).fillna("").astype(str)
    dup = df["record_id"][df["record_id"].duplicated()]
    if len(dup):
        raise ValueError(f"{source}: record id {dup.iloc[0]!r} occurs more than once")
    return df.reset_index(drop=True)


# --------------------------------------------------------------------------------------------- readers


def read_ris(path: Path) -> pd.DataFrame:
    """Read a RIS export: one record per ``TY  - `` .. ``ER  - `` block. Lines not starting with a tag continue
    the previous field (wrapped abstracts). Record id: ``ID`` (or ``AN``) if present, else
    ``<file stem>-<n>``. Raises ValueError naming the file and line for a field outside a record or a
    record without ``ER``."""
    path = Path(path)
    lines = _decode(path).splitlines()
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
    return _frame(records, str(path))


def _ris_record(fields: dict[str, list[str]], default_id: str, path: Path, line: int) -> dict[str, object]:
    def first(tags: tuple[str, ...]) -> str:
        return next((v for t in tags for v in fields.get(t, []) if v.strip()), "")

    authors = next((fields[t] for t in _RIS_AUTHOR if fields.get(t)), [])
    return _record(
        record_id=first(("ID", "AN")) or default_id,
        title=first(_RIS_TITLE),
        abstract=first(_RIS_ABSTRACT),
        authors=authors,
        year=_year(first(_RIS_YEAR), f"{path}: record starting on line {line}, tag PY"),
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
    text = _decode(path)
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
            _record(
                record_id=key_m.group(1),
                title=fields.get("title", ""),
                abstract=fields.get("abstract", ""),
                authors=authors,
                year=_year(fields.get("year", ""), f"{where}, field year"),
                doi=fields.get("doi", ""),
                journal=fields.get("journal", fields.get("booktitle", "")),
                keywords=re.split(r"[;,]", fields.get("keywords", "")),
                source=path.name,
            )
        )
    return _frame(records, str(path))


def read_references_csv(path: Path) -> pd.DataFrame:
    """Read a CSV export with a ``title`` column and any of record_id, abstract, authors (or author: ";"-
    separated), year, doi, journal, keywords. Raises ValueError naming the file when ``title`` is missing,
    and the row for an unreadable year."""
    path = Path(path)
    text = _decode(path)
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
            _record(
                record_id=get(row, "record_id") or f"{path.stem}-{n}",
                title=get(row, "title"),
                abstract=get(row, "abstract"),
                authors=authors.split(";"),
                year=_year(get(row, "year"), f"{path}: row {n + 1}, column 'year'"),
                doi=get(row, "doi"),
                journal=get(row, "journal"),
                keywords=get(row, "keywords").split(";"),
                source=path.name,
            )
        )
    return _frame(records, str(path))


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


# ------------------------------------------------------------------------------------- de-duplication


def deduplicate(refs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Merge duplicate records; returns ``(unique_records, merge_report)``.

    Pass 1 merges records with the same normalised DOI. Pass 2 merges records (or pass-1 groups) with the
    same :func:`fold_text` title, year and folded first-author family name, unless the group would then hold
    two different DOIs (a journal article and its erratum, say, stay apart). Records without a title do not
    take part in pass 2. Each group keeps its first record in input order; its empty fields (abstract, doi,
    journal, keywords, authors) are filled from the removed ones in order.

    ``unique_records``: the input columns, one row per group, in input order of the kept records.
    ``merge_report``: one row per removed record, columns :data:`MERGE_REPORT_COLUMNS`; ``rule`` is ``doi``
    or ``title_year_author`` (the pass that first joined it to the kept record's group).
    """
    missing = [c for c in ("record_id", "title", "year", "doi", "first_author") if c not in refs.columns]
    if missing:
        raise ValueError(f"references: missing column(s) {', '.join(missing)}")
    n = len(refs)
    parent = list(range(n))
    rule = [""] * n

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    dois = [normalise_doi(d) for d in refs["doi"]]
    first_by_doi: dict[str, int] = {}
    for i, d in enumerate(dois):
        if d:
            if d in first_by_doi:
                parent[i] = first_by_doi[d]
                rule[i] = "doi"
            else:
                first_by_doi[d] = i
    group_dois: dict[int, set[str]] = {}
    for i, d in enumerate(dois):
        if d:
            group_dois.setdefault(find(i), set()).add(d)

    first_by_key: dict[tuple[str, object, str], list[int]] = {}
    for i, (title, year, author) in enumerate(zip(refs["title"], refs["year"], refs["first_author"], strict=True)):
        t = fold_text(title)
        if not t:
            continue
        key = (t, None if pd.isna(year) else int(year), fold_text(author))
        roots = first_by_key.setdefault(key, [])
        ri = find(i)
        for r in roots:
            r = find(r)
            if r == ri:
                break
            da, db = group_dois.get(r, set()), group_dois.get(ri, set())
            if da and db and da != db:
                continue  # different DOIs: not the same work
            keep, drop = (r, ri) if r < ri else (ri, r)
            parent[drop] = keep
            group_dois[keep] = da | db
            group_dois.pop(drop, None)
            if not rule[drop]:
                rule[drop] = "title_year_author"
            ri = keep
            break
        else:
            roots.append(ri)

    roots = [find(i) for i in range(n)]
    out = refs.reset_index(drop=True).copy()
    fill = [c for c in ("abstract", "doi", "journal", "keywords", "authors", "first_author") if c in out.columns]
    report = []
    for i in range(n):
        r = roots[i]
        if r == i:
            continue
        for col in fill:
            if not str(out.at[r, col]) and str(out.at[i, col]):
                out.at[r, col] = out.at[i, col]
        report.append(
            {
                "kept_id": out.at[r, "record_id"],
                "removed_id": out.at[i, "record_id"],
                "rule": rule[i] or "title_year_author",
                "doi": dois[i],
                "title": out.at[i, "title"],
                "year": out.at[i, "year"],
                "first_author": out.at[i, "first_author"],
            }
        )
    unique = out[[roots[i] == i for i in range(n)]].reset_index(drop=True)
    rep = pd.DataFrame(report, columns=list(MERGE_REPORT_COLUMNS))
    rep["year"] = pd.array(rep["year"].tolist(), dtype="Int64")
    return unique, rep
