"""Find clear identity numbers (personnummer, samordningsnummer) in files and folders: ``insats privacy-scan``.

Every file below the given paths is read by its content, not its name:

* text (CSV, JSON, HTML, logs, Markdown ...): line by line, after undoing JSON ``\\uXXXX`` escapes, HTML
  entities and URL ``%XX`` escapes; UTF-8 by default, UTF-16/32 from the BOM or from NUL-byte patterns;
* Parquet: every string/binary cell (also inside lists and structs), every 10- or 12-digit integer, column
  names, and the file's and each field's key-value metadata (decoded with pyarrow);
* SQLite (e.g. Prefect's database): every text, blob and integer cell of every table;
* gzip, bz2, xz and zip: decompressed and scanned as whatever they hold (nested archives too);
* anything else (binary): its bytes as text, so numbers stored as ASCII inside it are found.

A hit is a number in any spelling (10/12 digits, ``-``, ``–``, ``+``, space, dashed date) whose date and
check digit are valid (``insats.tasks.identity``); a finding shows it MASKED (``19850612-****``).
"""

from __future__ import annotations

import bz2
import gzip
import html
import io
import lzma
import os
import re
import sqlite3
import urllib.parse
import zipfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from insats.tasks.identity import IDENTITY_NUMBER_PATTERN, find_identity_numbers, mask_identity_number

_FOUR_DIGITS = re.compile(r"\d{4}")
_JSON_ESCAPE = re.compile(r"\\u([0-9a-fA-F]{4})")
_HEAD = 4096  # bytes sniffed to tell a file's kind and text encoding
_BATCH_ROWS = 65_536
_DECOMPRESSORS: dict[str, tuple[Any, str]] = {
    "gzip": (lambda f: gzip.GzipFile(fileobj=f), "gunzip"),
    "bz2": (bz2.BZ2File, "bunzip2"),
    "xz": (lzma.LZMAFile, "unxz"),
}
_SEGMENT = 1 << 20  # characters of one line scanned at a time
_OVERLAP = 64  # characters carried into the next segment of a long line (a number is at most 17)


@dataclass(frozen=True)
class Finding:
    """One clear identity number: ``file`` (path, ``archive!member`` inside archives), ``location`` (line,
    table/column/row, column/row, metadata key) and ``masked`` (e.g. ``19850612-****``)."""

    file: str
    location: str
    masked: str

    def line(self) -> str:
        return f"{self.file}: {self.location}: {self.masked}"


@dataclass
class ScanResult:
    """Findings, ``errors`` (one line per unreadable input) and the number of files read."""

    findings: list[Finding]
    errors: list[str]
    files: int = 0

    @property
    def exit_code(self) -> int:
        """0 clean, 1 findings, 2 some input could not be read."""
        return 2 if self.errors else 1 if self.findings else 0


def _unescape(text: str) -> str:
    """Undo the escapes that hide a dash or space inside a number: JSON ``\\u2013``, HTML ``&ndash;``, ``%20``."""
    if "\\u" in text:
        text = _JSON_ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)
    if "&" in text:
        text = html.unescape(text)
    if "%" in text:
        text = urllib.parse.unquote(text)
    return text


def numbers_in(text: str) -> list[str]:
    """The identity numbers in ``text`` (any spelling, escapes undone), masked."""
    if not _FOUR_DIGITS.search(text) and "\\u" not in text and "&" not in text and "%" not in text:
        return []
    plain = _unescape(text)
    return [mask_identity_number(plain[a:b]) for a, b in find_identity_numbers(plain)]


def _integer_number(value: int) -> str | None:
    """A 10- or 12-digit integer that is a valid identity number, masked."""
    text = str(value)
    if len(text) in (10, 12) and IDENTITY_NUMBER_PATTERN.fullmatch(text):
        found = numbers_in(text)
        return found[0] if found else None
    return None


def _cell(value: Any) -> list[str]:
    if isinstance(value, str):
        return numbers_in(value)
    if isinstance(value, bytes | bytearray | memoryview):
        return numbers_in(_decode_bytes(bytes(value)))
    if isinstance(value, int) and not isinstance(value, bool):
        found = _integer_number(value)
        return [found] if found else []
    return []


def _text_encoding(head: bytes) -> str:
    """The encoding of text starting with ``head``: from its BOM, else UTF-16 when every other byte is NUL."""
    boms = [
        (b"\xff\xfe\x00\x00", "utf-32"),
        (b"\x00\x00\xfe\xff", "utf-32"),
        (b"\xef\xbb\xbf", "utf-8-sig"),
        (b"\xff\xfe", "utf-16"),
        (b"\xfe\xff", "utf-16"),
    ]
    for bom, encoding in boms:
        if head.startswith(bom):
            return encoding
    sample = head[: len(head) // 2 * 2]
    if len(sample) >= 8:
        odd_nul, even_nul = sample[1::2].count(0), sample[0::2].count(0)
        half = len(sample) // 2
        if odd_nul > 0.9 * half and even_nul < 0.1 * half:
            return "utf-16-le"
        if even_nul > 0.9 * half and odd_nul < 0.1 * half:
            return "utf-16-be"
    return "utf-8"


def _decode_bytes(data: bytes) -> str:
    return data.decode(_text_encoding(data[:_HEAD]), errors="replace")


def _kind(head: bytes) -> str:
    if head.startswith(b"\x1f\x8b"):
        return "gzip"
    if head.startswith(b"BZh"):
        return "bz2"
    if head.startswith(b"\xfd7zXZ\x00"):
        return "xz"
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06")):
        return "zip"
    if head.startswith(b"PAR1"):
        return "parquet"
    if head.startswith(b"SQLite format 3\x00"):
        return "sqlite"
    return "text"


class _Scanner:
    def __init__(self) -> None:
        self.result = ScanResult(findings=[], errors=[])

    def add(self, file: str, location: str, masked: Iterable[str]) -> None:
        self.result.findings.extend(Finding(file, location, m) for m in masked)

    # -- dispatch ----------------------------------------------------------------------------------------
    def path(self, path: Path) -> None:
        self.result.files += 1
        try:
            with open(path, "rb") as raw:
                head = raw.read(_HEAD)
                raw.seek(0)
                kind = _kind(head)
                if kind == "sqlite":
                    self.sqlite_file(path)
                else:
                    self.by_kind(kind, raw, str(path), head)
        except Exception as exc:  # noqa: BLE001 - any unreadable input is reported, the scan goes on
            self.result.errors.append(f"{path}: cannot read ({type(exc).__name__}: {exc})")

    def stream(self, stream: IO[bytes], label: str) -> None:
        """A decompressed stream or archive member: sniff its kind, then scan it."""
        head = stream.read(_HEAD)
        kind = _kind(head)
        if kind in ("zip", "parquet", "sqlite"):  # need random access: read the member into memory
            data = head + stream.read()
            if kind == "sqlite":
                self.sqlite_bytes(data, label)
            else:
                self.by_kind(kind, io.BytesIO(data), label)
        else:
            self.by_kind(kind, io.BufferedReader(_Rejoined(head, stream)), label, head)

    def by_kind(self, kind: str, stream: IO[bytes], label: str, head: bytes = b"") -> None:
        if kind in _DECOMPRESSORS:
            opener, suffix = _DECOMPRESSORS[kind]
            with opener(stream) as plain:
                self.stream(plain, f"{label}!{suffix}")
        elif kind == "zip":
            with zipfile.ZipFile(stream) as archive:
                for info in archive.infolist():
                    if not info.is_dir():
                        with archive.open(info) as member:
                            self.stream(member, f"{label}!{info.filename}")
        elif kind == "parquet":
            self.parquet(stream, label)
        else:
            self.text(stream, label, head)

    # -- readers -----------------------------------------------------------------------------------------
    def text(self, stream: IO[bytes], label: str, head: bytes) -> None:
        """Line by line in bounded memory: a line longer than ``_SEGMENT`` characters (binary data) is read in
        segments that overlap by ``_OVERLAP`` characters, so a number across a segment border is found once."""
        reader = io.TextIOWrapper(stream, encoding=_text_encoding(head), errors="replace", newline="")  # type: ignore[type-var]
        number, carry = 1, ""
        while segment := reader.readline(_SEGMENT):
            text = carry + segment
            plain = _unescape(text)
            skip = len(_unescape(carry))  # matches lying wholly in the carried part were reported already
            found = [mask_identity_number(plain[a:b]) for a, b in find_identity_numbers(plain) if b > skip]
            if found:
                self.add(label, f"line {number}", found)
            if segment.endswith(("\n", "\r")):
                number, carry = number + 1, ""
            else:
                carry = text[-_OVERLAP:]

    def parquet(self, source: IO[bytes], label: str) -> None:
        import pyarrow.parquet as pq

        pf = pq.ParquetFile(source)
        for key, value in (pf.metadata.metadata or {}).items():
            if key != b"ARROW:schema":  # the serialised schema; its readable parts are scanned below
                self.add(label, f"metadata {key.decode('utf-8', 'replace')!r}", _cell(key) + _cell(value))
        schema = pf.schema_arrow
        for key, value in (schema.metadata or {}).items():
            if key not in (pf.metadata.metadata or {}):
                self.add(label, f"schema metadata {key.decode('utf-8', 'replace')!r}", _cell(key) + _cell(value))
        for field in schema:
            self.add(label, "column names", _cell(field.name))
            for key, value in (field.metadata or {}).items():
                self.add(label, f"column {field.name!r} metadata", _cell(key) + _cell(value))
        offset = 0
        for batch in pf.iter_batches(batch_size=_BATCH_ROWS):
            for name, column in zip(batch.schema.names, batch.columns, strict=True):
                for path, row, masked in _arrow_hits(column, name, None):
                    self.add(label, f"column {path!r}, row {offset + row + 1}", [masked])
            offset += batch.num_rows

    def sqlite_file(self, path: Path) -> None:
        uri = f"file:{urllib.parse.quote(str(path.resolve()))}?mode=ro"
        with _closing(sqlite3.connect(uri, uri=True)) as con:
            self.sqlite(con, str(path))

    def sqlite_bytes(self, data: bytes, label: str) -> None:
        with _closing(sqlite3.connect(":memory:")) as con:
            con.deserialize(data)
            self.sqlite(con, label)

    def sqlite(self, con: sqlite3.Connection, label: str) -> None:
        """Every cell of every table (text, blob, integer), reported as table/column/row (1-based, scan order)."""
        con.text_factory = bytes  # undecodable text must not stop the scan
        tables = [
            r[0].decode("utf-8", "replace")
            for r in con.execute("SELECT name FROM sqlite_master WHERE type = 'table' ORDER BY name")
        ]
        for table in tables:
            quoted = table.replace('"', '""')
            columns = [r[1].decode("utf-8", "replace") for r in con.execute(f'PRAGMA table_info("{quoted}")')]
            self.add(label, f"table {table!r} name and columns", [m for c in [table, *columns] for m in _cell(c)])
            try:
                rows = con.execute(f'SELECT * FROM "{quoted}"')
                for number, row in enumerate(rows, start=1):
                    for column, value in zip(columns, row, strict=False):
                        found = _cell(value)
                        if found:
                            self.add(label, f"table {table!r}, column {column!r}, row {number}", found)
            except sqlite3.Error as exc:
                self.result.errors.append(f"{label}: table {table!r} cannot be read ({exc})")


class _Rejoined(io.RawIOBase):
    """A non-seekable stream whose first bytes (``head``) were already read to sniff its kind."""

    def __init__(self, head: bytes, rest: IO[bytes]) -> None:
        self.head, self.rest = head, rest

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        data = self.head[: len(buffer)] if self.head else self.rest.read(len(buffer))
        self.head = self.head[len(data) :] if self.head else b""
        buffer[: len(data)] = data
        return len(data)


class _closing:
    """``with`` for a sqlite3 connection that also closes it (sqlite3's own context manager only commits)."""

    def __init__(self, con: sqlite3.Connection) -> None:
        self.con = con

    def __enter__(self) -> sqlite3.Connection:
        return self.con

    def __exit__(self, *exc: object) -> None:
        self.con.close()


def _arrow_hits(array: Any, name: str, rows: Any) -> Iterator[tuple[str, int, str]]:
    """``(column path, 0-based row, masked number)`` for every identity number in a pyarrow array.

    ``rows`` maps the array's positions to the batch's rows (None: the same); lists and structs recurse.
    """
    import numpy as np
    import pyarrow as pa
    import pyarrow.compute as pc

    kind = array.type
    if pa.types.is_dictionary(kind):
        array, kind = array.dictionary_decode(), array.type.value_type
    if pa.types.is_struct(kind):
        for field, child in zip(kind, array.flatten(), strict=True):
            yield from _arrow_hits(child, f"{name}.{field.name}", rows)
        return
    if pa.types.is_list(kind) or pa.types.is_large_list(kind) or pa.types.is_fixed_size_list(kind):
        parents = pc.list_parent_indices(array).to_numpy()
        yield from _arrow_hits(pc.list_flatten(array), f"{name}[]", parents if rows is None else rows[parents])
        return
    if pa.types.is_map(kind):
        parents = pc.list_parent_indices(array).to_numpy()
        mapped = parents if rows is None else rows[parents]
        yield from _arrow_hits(array.keys, f"{name}.key", mapped)
        yield from _arrow_hits(array.items, f"{name}.value", mapped)
        return
    if (
        pa.types.is_string(kind)
        or pa.types.is_large_string(kind)
        or pa.types.is_binary(kind)
        or (pa.types.is_large_binary(kind) or pa.types.is_string_view(kind) or pa.types.is_binary_view(kind))
    ):
        # Only cells holding four digits in a row, or an escape, can hide a number: test those in Python.
        candidate = pc.match_substring_regex(array, r"\d{4}|\\u|&|%")
    elif (pa.types.is_integer(kind) and kind.bit_width >= 32) or pa.types.is_floating(kind):
        # 10- and 12-digit whole numbers (a numeric identity column, also one read as float64).
        if pa.types.is_floating(kind):
            whole = pc.and_(pc.is_finite(array), pc.equal(pc.floor(array), array))
            array = pc.if_else(pc.and_(whole, pc.less(pc.abs(array), 1e13)), array, None).cast(pa.int64())
        else:
            array = array.cast(pa.int64(), safe=False)
        candidate = pc.or_(
            pc.and_(pc.greater_equal(array, 10**9), pc.less(array, 10**10)),
            pc.and_(pc.greater_equal(array, 10**11), pc.less(array, 10**12)),
        )
    else:
        return
    positions = np.flatnonzero(candidate.fill_null(False).to_numpy(zero_copy_only=False))
    if positions.size == 0:
        return
    for position, value in zip(positions, array.take(pa.array(positions)).to_pylist(), strict=True):
        for masked in _cell(value):
            yield name, int(position if rows is None else rows[position]), masked


def _files(path: Path) -> Iterator[Path]:
    """``path`` itself, or every file below it (hidden ones too; symbolic links to folders are not followed)."""
    if path.is_dir():
        for folder, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                yield Path(folder) / name
    else:
        yield path


def scan_paths(paths: Iterable[Path]) -> ScanResult:
    """Scan files and folders for clear identity numbers; see the module docstring for what is read."""
    scanner = _Scanner()
    for path in paths:
        path = Path(path)
        if not path.exists():
            scanner.result.errors.append(f"{path}: no such file or folder")
            continue
        for file in _files(path):
            if file.is_file():
                scanner.path(file)
    return scanner.result
