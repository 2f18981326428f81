"""Sniffing one file of a site's delivery: its format (by suffix and content), text encoding, CSV
delimiter, column names, a few sample rows and SPSS/Stata variable and value labels.

Nothing here reads a whole large file: statistical files are read with ``metadataonly`` plus a
``row_limit``, CSV files from their first ``TEXT_SAMPLE_BYTES``, spreadsheets from their first rows.
A file that cannot be read is still described (``problem`` says why) so the user sees it in the report.
"""

from __future__ import annotations

import codecs
import csv
import io
import zipfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

SAMPLE_ROWS = 200  # rows kept per table: enough to see codes and free-text columns, cheap for any size
TEXT_SAMPLE_BYTES = 1 << 20  # CSV bytes decoded for the header, delimiter and sample rows
YAML_MAX_BYTES = 2 << 20  # larger YAML files are not parsed (configs and codebooks are small)

TABLE_FORMATS = ("spss", "stata", "sas", "xport", "csv", "xlsx", "parquet")
STAT_READERS = {"spss": "read_sav", "stata": "read_dta", "sas": "read_sas7bdat", "xport": "read_xport"}
_SUFFIX_FORMAT = {
    ".sav": "spss",
    ".zsav": "spss",
    ".dta": "stata",
    ".sas7bdat": "sas",
    ".xpt": "xport",
    ".csv": "csv",
    ".tsv": "csv",
    ".xlsx": "xlsx",
    ".parquet": "parquet",
    ".txt": "text",
    ".docx": "docx",
    ".yaml": "yaml",
    ".yml": "yaml",
    ".qdc": "qdc",
    ".qdpx": "qdpx",
    ".ris": "ris",
    ".bib": "bib",
    ".json": "json",
    ".xls": "xls",
}
_SAS_MAGIC = bytes.fromhex("000000000000000000000000c2ea8160b31411cfbd92080009c7318c181f1011")
_BOMS = (  # UTF-32 first: its little-endian BOM begins with UTF-16's
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32 byte-order mark"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32 byte-order mark"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8 byte-order mark"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16 byte-order mark"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16 byte-order mark"),
)
_CP1252_UNDEFINED = frozenset(b"\x81\x8d\x8f\x90\x9d")  # bytes cp1252 leaves undefined (latin-1 has them)


@dataclass
class SniffedFile:
    """What was learnt about one file. ``sample`` holds up to SAMPLE_ROWS rows (CSV cells as text)."""

    path: Path
    rel: str  # path relative to the scanned folder, with /
    format: str  # spss stata sas xport csv xlsx parquet text docx yaml qdc qdpx ris bib json xls other
    size: int = 0
    columns: list[str] = field(default_factory=list)
    sample: pd.DataFrame | None = None
    n_rows: int | None = None  # from metadata when the format stores it
    encoding: str | None = None  # text files: the codec that decodes it
    encoding_note: str = ""  # how the encoding was found ("UTF-16 byte-order mark", "guessed ...")
    encoding_guessed: bool = False
    delimiter: str | None = None
    variable_labels: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict[Any, str]] = field(default_factory=dict)
    sheets: list[str] = field(default_factory=list)
    yaml_data: Any = None
    head: str = ""  # text formats (transcripts, RIS, BibTeX, .qdc): the first 64 KB decoded
    problem: str = ""  # non-empty: the file could not be read, and why
    notes: list[str] = field(default_factory=list)  # e.g. a suffix that disagrees with the content

    @property
    def is_table(self) -> bool:
        return self.format in TABLE_FORMATS and not self.problem and bool(self.columns)


def detect_encoding(raw: bytes, complete: bool = True) -> tuple[str, str, bool]:
    """``(codec, how it was found, guessed)`` for text bytes.

    A byte-order mark decides (UTF-8-SIG, UTF-16, UTF-32). Otherwise NUL bytes in every other position
    mean UTF-16 without a mark (guessed); bytes that decode as UTF-8 are UTF-8; else cp1252 (Windows
    Western European, Excel's "CSV" on Swedish Windows), or latin-1 when a byte undefined in cp1252
    occurs: both guesses. ``complete=False``: ``raw`` is a prefix, so a cut multi-byte character at its
    end is not held against UTF-8.
    """
    for bom, codec, how in _BOMS:
        if raw.startswith(bom):
            return codec, how, False
    head = raw[:4096]
    if len(head) >= 4:
        odd_nul, even_nul = head[1::2].count(0) / (len(head) // 2), head[0::2].count(0) / (len(head) // 2)
        if odd_nul > 0.3 and even_nul < 0.05:
            return "utf-16-le", "guessed UTF-16 little-endian (no byte-order mark; NUL in every other byte)", True
        if even_nul > 0.3 and odd_nul < 0.05:
            return "utf-16-be", "guessed UTF-16 big-endian (no byte-order mark; NUL in every other byte)", True
    try:
        codecs.getincrementaldecoder("utf-8")().decode(raw, final=complete)
        ascii_only = all(b < 0x80 for b in raw)
        return "utf-8", "ASCII only (read as UTF-8)" if ascii_only else "valid UTF-8", False
    except UnicodeDecodeError:
        pass
    if _CP1252_UNDEFINED.isdisjoint(raw):
        return "cp1252", "guessed cp1252 (Windows Western European; not valid UTF-8)", True
    return "latin-1", "guessed latin-1 (not valid UTF-8; holds bytes cp1252 leaves undefined)", True


def sniff_delimiter(text: str) -> str:
    """``,`` ``;`` tab or ``|`` from the first 50 lines (csv.Sniffer, else the most frequent in the header)."""
    lines = text.splitlines()[:50]
    try:
        return csv.Sniffer().sniff("\n".join(lines), delimiters=",;\t|").delimiter
    except csv.Error:
        header = lines[0] if lines else ""
        counts = {d: header.count(d) for d in (";", "\t", ",", "|")}
        best = max(counts, key=lambda d: counts[d])
        return best if counts[best] > 0 else ","


def content_format(path: Path) -> str | None:
    """The format the first bytes show (``None``: plain text or unknown)."""
    with path.open("rb") as fh:
        head = fh.read(64)
    if head.startswith((b"$FL2", b"$FL3")):
        return "spss"
    if head.startswith(b"<stata_dta>") or (
        len(head) > 2 and head[0] in (105, 108, 110, 111, 113, 114, 115) and head[1] in (1, 2) and head[2] == 1
    ):
        return "stata"
    if head.startswith(_SAS_MAGIC):
        return "sas"
    if head.startswith(b"HEADER RECORD*******LIB"):
        return "xport"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        return "xls"
    if head.startswith(b"PK\x03\x04"):
        try:
            with zipfile.ZipFile(path) as zf:
                names = set(zf.namelist())
        except (zipfile.BadZipFile, OSError):
            return "other"
        if "xl/workbook.xml" in names:
            return "xlsx"
        if "word/document.xml" in names:
            return "docx"
        if "project.qde" in names:
            return "qdpx"
        return "other"
    return None


def _binary(fmt: str | None) -> bool:
    return fmt in ("spss", "stata", "sas", "xport", "parquet", "xls", "xlsx", "docx", "qdpx", "other")


def read_text(path: Path, limit: int | None = TEXT_SAMPLE_BYTES) -> tuple[str, str, str, bool]:
    """``(text, codec, how, guessed)`` of a text file, decoding at most ``limit`` bytes (None: all)."""
    with path.open("rb") as fh:
        raw = fh.read() if limit is None else fh.read(limit + 1)
    complete = limit is None or len(raw) <= limit
    raw = raw if complete else raw[:limit]
    codec, how, guessed = detect_encoding(raw, complete)
    text = codecs.getincrementaldecoder(codec)(errors="replace").decode(raw, final=complete)
    return text.replace("\ufeff", ""), codec, how, guessed


def _sniff_csv(info: SniffedFile) -> None:
    text, info.encoding, info.encoding_note, info.encoding_guessed = read_text(info.path)
    if not text.strip():
        info.problem = "the file is empty"
        return
    complete = info.size <= TEXT_SAMPLE_BYTES
    info.delimiter = sniff_delimiter(text)
    lines = text.splitlines(keepends=True)
    body = "".join(lines[: SAMPLE_ROWS + 1] if complete else lines[: min(SAMPLE_ROWS + 1, len(lines) - 1)])
    rows = [r for r in csv.reader(io.StringIO(body, newline=""), delimiter=info.delimiter) if any(r)]
    if not rows:
        info.problem = "no header line found"
        return
    info.columns = [c.strip() for c in rows[0]]
    width = len(info.columns)
    cells = [(r + [""] * width)[:width] for r in rows[1:]]
    info.sample = pd.DataFrame(cells, columns=range(width), dtype="string").set_axis(info.columns, axis=1)
    non_ascii = sorted({ch for ch in "".join(info.columns) + body[:20000] if ord(ch) > 127 and ch.isalpha()})
    if non_ascii:
        info.encoding_note += f"; letters beyond ASCII read as: {' '.join(non_ascii[:12])}"


def _sniff_stat(info: SniffedFile) -> None:
    import pyreadstat

    reader = getattr(pyreadstat, STAT_READERS[info.format])
    _, meta = reader(str(info.path), metadataonly=True)
    df, _ = reader(str(info.path), row_limit=SAMPLE_ROWS)  # codes, not labels (pyreadstat's default)
    info.columns = [str(c) for c in meta.column_names]
    info.sample = df
    info.n_rows = meta.number_rows if meta.number_rows and meta.number_rows >= 0 else None
    info.encoding = meta.file_encoding
    info.encoding_note = f"stored in the file ({meta.file_encoding})" if meta.file_encoding else ""
    labels = meta.column_names_to_labels or {}
    info.variable_labels = {str(k): str(v) for k, v in labels.items() if v}
    for col, mapping in (meta.variable_value_labels or {}).items():
        info.value_labels[str(col)] = {
            (int(k) if isinstance(k, float) and k.is_integer() else k): str(v) for k, v in mapping.items()
        }


def _sniff_xlsx(info: SniffedFile) -> None:
    """First sheet (the one the pipeline reads); header = the first of the first 20 rows as wide as the widest."""
    with pd.ExcelFile(info.path, engine="openpyxl") as book:
        info.sheets = [str(s) for s in book.sheet_names]
        raw = pd.read_excel(book, sheet_name=book.sheet_names[0], header=None, nrows=SAMPLE_ROWS + 20, dtype=object)
    raw = raw.dropna(how="all")
    if raw.empty:
        info.problem = "the first sheet is empty"
        return
    filled = raw.notna().sum(axis=1).to_numpy()[:20]
    header_pos = int((filled == filled.max()).argmax())
    header = raw.iloc[header_pos]
    keep = [i for i, v in enumerate(header) if pd.notna(v)]
    info.columns = [str(header.iloc[i]).strip() for i in keep]
    info.sample = raw.iloc[header_pos + 1 :, keep].set_axis(info.columns, axis=1).reset_index(drop=True)
    if len(info.sheets) > 1:
        info.notes.append(f"{len(info.sheets)} sheets ({', '.join(info.sheets)}); the pipeline reads the first")


def _sniff_parquet(info: SniffedFile) -> None:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(info.path)
    info.columns = list(pf.schema_arrow.names)
    info.n_rows = pf.metadata.num_rows
    if pf.metadata.num_row_groups:
        info.sample = pf.read_row_group(0).slice(0, SAMPLE_ROWS).to_pandas()


def _sniff_yaml(info: SniffedFile) -> None:
    import yaml

    if info.size > YAML_MAX_BYTES:
        info.problem = f"larger than {YAML_MAX_BYTES >> 20} MB: not parsed"
        return
    text, info.encoding, info.encoding_note, info.encoding_guessed = read_text(info.path, None)
    try:
        info.yaml_data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        info.problem = f"not valid YAML: {str(exc).splitlines()[0]}"


def sniff_file(path: Path, folder: Path) -> SniffedFile:
    """Describe one file (never raises for a broken file: ``problem`` says what went wrong)."""
    info = SniffedFile(path=path, rel=path.relative_to(folder).as_posix(), format="other", size=path.stat().st_size)
    by_suffix = _SUFFIX_FORMAT.get(path.suffix.lower())
    if info.size == 0:
        info.format, info.problem = by_suffix or "other", "the file is empty (0 bytes)"
        return info
    try:
        by_content = content_format(path)
    except OSError as exc:
        info.problem = f"cannot open: {exc.strerror}"
        return info
    if by_content is not None and by_suffix is not None and by_content != by_suffix:
        info.notes.append(
            f"the suffix says {by_suffix} but the content is {by_content}: read as {by_content}; "
            f"the pipeline chooses its reader by suffix, so rename the file"
        )
    elif by_content is None and _binary(by_suffix):
        info.problem = f"the suffix says {by_suffix} but the content is not: wrong suffix or a damaged file"
        info.format = by_suffix or "other"
        return info
    info.format = by_content or by_suffix or "other"
    try:
        if info.format == "csv":
            _sniff_csv(info)
        elif info.format in STAT_READERS:
            _sniff_stat(info)
        elif info.format == "xlsx":
            _sniff_xlsx(info)
        elif info.format == "parquet":
            _sniff_parquet(info)
        elif info.format == "yaml":
            _sniff_yaml(info)
        elif info.format in ("text", "ris", "bib", "qdc"):
            info.head, info.encoding, info.encoding_note, info.encoding_guessed = read_text(info.path, 65536)
    except Exception as exc:  # noqa: BLE001 - readstat, openpyxl, pyarrow raise their own types
        info.problem = f"{type(exc).__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    if info.format in TABLE_FORMATS and not info.problem and not info.columns:
        info.problem = "no columns found"
    return info
