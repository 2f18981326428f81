"""Evidence review (study 2): the reference table and the normalisation its readers and the de-duplication
share.

A reference table has one row per record with the columns of :data:`REFERENCE_COLUMNS`:

- ``record_id`` (str, unique across all files read together; the export's own id when it has one, else
  ``<file stem>-<n>`` with n the 1-based record number in the file),
- ``title``, ``abstract``, ``journal``, ``keywords`` (str, "" when missing; keywords "; "-joined),
- ``authors`` (str, "; "-joined as written, e.g. ``Bond, Gary R.; Drake, Robert E.``), ``first_author`` (str:
  the first author's family name as written),
- ``year`` (Int64, <NA> when missing), ``doi`` (str, normalised: lower case, no ``https://doi.org/`` or
  ``doi:`` prefix; "" when missing), ``source`` (str: the file name the record came from).
"""

from __future__ import annotations

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


def parse_year(value: object, where: str) -> int | None:
    """The first four-digit year (1800-2099) in ``value``; None when empty. ``where`` names the place in errors."""
    s = _nfc(value)
    if not s:
        return None
    m = re.search(r"(1[89]\d\d|20\d\d)", s)
    if m is None:
        raise ValueError(f"{where}: cannot read a year from {s!r}; expected a four-digit year")
    return int(m.group(1))


def decode_text(path: Path) -> str:
    """The file's text: UTF-8 (with or without BOM), else cp1252."""
    raw = path.read_bytes()
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        return raw.decode("cp1252")


def make_record(
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
    """One row of the reference table from an export's fields: text NFC, authors and keywords "; "-joined,
    the DOI normalised."""
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


def records_frame(records: list[dict[str, object]], source: str) -> pd.DataFrame:
    """The reference table of ``records`` (columns :data:`REFERENCE_COLUMNS`, year Int64); raises ValueError
    naming ``source`` for a record id that occurs twice."""
    df = pd.DataFrame(records, columns=list(REFERENCE_COLUMNS))
    df["year"] = pd.array(df["year"].tolist(), dtype="Int64")
    for col in REFERENCE_COLUMNS:
        if col != "year":
            df[col] = df[col].astype(object).fillna("").astype(str)
    dup = df["record_id"][df["record_id"].duplicated()]
    if len(dup):
        raise ValueError(f"{source}: record id {dup.iloc[0]!r} occurs more than once")
    return df.reset_index(drop=True)
