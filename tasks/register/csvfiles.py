"""How a CSV extract is laid out, found from its first bytes without reading it whole: the encoding (from the
byte-order mark; else UTF-8, else cp1252, said to be a guess), the separator, title rows above the header and
duplicated column names; and a check for thousands separators inside quoted amounts of a comma file.

Pure functions (no Prefect). ``CsvLayout.read_options()`` gives the keyword arguments for ``pandas.read_csv``, so
the in-memory reader and the chunked (streaming) reader read the same rows.
"""

from __future__ import annotations

import codecs
import csv
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

SNIFF_BYTES = 1 << 16  # the first 64 KiB decide encoding, separator and header
SNIFF_LINES = 50
SEPARATORS = (";", "\t", ",")  # order breaks ties: ';' first (Swedish exports), ',' last
# (BOM, codec name) longest first: the UTF-32-LE BOM starts with the UTF-16-LE one.
BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)
# A number written with comma thousands separators ("16,508", "1,234,567.50"): in a comma-separated file it
# can only arrive quoted, and "16,508" may as well be 16.508 written with a decimal comma.
THOUSANDS_COMMA = re.compile(r"^[-+]?\d{1,3}(?:,\d{3})+(?:\.\d+)?$")
MAX_SHOWN = 5


@dataclass(frozen=True)
class CsvLayout:
    """Encoding, separator, physical lines above the header (title rows, blank lines), header fields, and what
    a reader should say about them (``warnings``: the encoding was guessed; ``notices``: title rows skipped;
    ``duplicated``: column -> 1-based header positions of a name that occurs more than once)."""

    encoding: str
    separator: str
    skip_lines: int
    header: list[str]
    warnings: list[str] = field(default_factory=list)
    notices: list[str] = field(default_factory=list)
    duplicated: dict[str, list[int]] = field(default_factory=dict)

    def read_options(self) -> dict[str, Any]:
        """Keyword arguments for ``pandas.read_csv``: every value as text, blanks missing."""
        return {
            "sep": self.separator, "encoding": self.encoding, "skiprows": self.skip_lines, "dtype": str,
            "keep_default_na": False, "na_values": [""],
        }  # fmt: skip

    def duplicated_problems(self) -> list[str]:
        return [
            f"duplicated column name {name!r} at header positions {', '.join(map(str, pos))} (a reader would "
            f"rename the second one {name + '.1'!r}); rename or drop one in the extract"
            for name, pos in self.duplicated.items()
        ]


def _valid_utf8(path: Path) -> int | None:
    """None when the whole file is valid UTF-8, else the byte offset of the first invalid byte (read in blocks)."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    offset = 0
    with open(path, "rb") as fh:
        while block := fh.read(1 << 22):
            try:
                decoder.decode(block)
            except UnicodeDecodeError as exc:
                return offset + exc.start
            offset += len(block)
    try:
        decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return offset
    return None


def detect_encoding(path: Path, head: bytes) -> tuple[str, str | None]:
    """``(codec, warning or None)``: the BOM's codec; else UTF-16 without a BOM (NUL bytes in every other place,
    a guess); else UTF-8 when the whole file decodes; else cp1252 (a guess)."""
    for bom, codec in BOMS:
        if head.startswith(bom):
            return codec, None
    sample = head[:4096]
    if len(sample) >= 4 and sample.count(0) * 3 > len(sample):
        odd_zero = sample[1::2].count(0) > sample[0::2].count(0)
        codec = "utf-16-le" if odd_zero else "utf-16-be"
        guess = f"{path.name}: no byte-order mark; NUL bytes suggest {codec} (a guess; give --encoding to be sure)"
        return codec, guess
    bad = _valid_utf8(path)
    if bad is None:
        return "utf-8", None
    return "cp1252", (
        f"{path.name}: not UTF-8 (invalid byte at offset {bad}) and no byte-order mark: read as cp1252/latin-1 "
        "(a guess; give --encoding to be sure)"
    )


def _rows(lines: list[str], sep: str) -> list[list[str]]:
    return list(csv.reader(lines, delimiter=sep))


def _choose_separator(lines: list[str]) -> tuple[str, int]:
    """The separator whose modal field count (> 1) most lines share, and that count (ties: ``SEPARATORS`` order)."""
    best: tuple[int, int, str] | None = None
    for sep in SEPARATORS:
        counts = [len(r) for r in _rows(lines, sep) if r]
        wide = [c for c in counts if c > 1]
        if not wide:
            continue
        mode, hits = Counter(wide).most_common(1)[0]
        if best is None or hits > best[0]:
            best = (hits, mode, sep)
    if best is None:
        return ",", 1
    return best[2], best[1]


def _head_lines(head: bytes, codec: str) -> list[str]:
    text = head.decode(codec, errors="replace")
    lines = text.splitlines()
    if len(head) == SNIFF_BYTES and len(lines) > 1:
        lines = lines[:-1]  # the last line may be cut off
    return lines[:SNIFF_LINES]


def sniff_layout(path: Path, encoding: str | None = None) -> CsvLayout:
    """The file's layout from its first ``SNIFF_BYTES`` (the UTF-8 check reads the whole file in blocks).

    The header is the first line with as many fields as most lines have; lines above it (a title such as
    "Utdrag ur registret 2026", blank lines) are skipped with a notice. ``encoding`` given: used as is.
    Raises ``ValueError`` for a file with no text lines or not decodable as the given encoding.
    """
    path = Path(path)
    with open(path, "rb") as fh:
        head = fh.read(SNIFF_BYTES)
    warnings: list[str] = []
    if encoding is None:
        codec, warning = detect_encoding(path, head)
        warnings += [warning] if warning else []
    else:
        codec = encoding
        try:
            codecs.getincrementaldecoder(codec)().decode(head, final=len(head) < SNIFF_BYTES)
        except (LookupError, UnicodeDecodeError) as exc:
            raise ValueError(f"not readable as {encoding}: {exc}") from exc
    lines = _head_lines(head, codec)
    if not any(line.strip() for line in lines):
        raise ValueError("the file is empty (no text lines)")
    sep, width = _choose_separator(lines)
    rows = _rows(lines, sep)
    at = next((i for i, r in enumerate(rows) if len(r) == width), 0)
    header = [c.strip().lstrip("\ufeff") for c in rows[at]] if rows[at] else []
    titles = [i + 1 for i in range(at) if lines[i].strip()]
    notices = []
    if titles:
        notices.append(
            f"{path.name}: skipped {len(titles)} title row(s) above the header (line(s) "
            f"{', '.join(map(str, titles))}); the header is line {at + 1}"
        )
    positions: dict[str, list[int]] = {}
    for i, name in enumerate(header, start=1):
        positions.setdefault(name.lower(), []).append(i)
    duplicated = {header[pos[0] - 1]: pos for pos in positions.values() if len(pos) > 1}
    return CsvLayout(codec, sep, at, header, warnings, notices, duplicated)


def thousands_problems(df: pd.DataFrame, separator: str, first_row: int = 0) -> list[tuple[str, np.ndarray]]:
    """For a comma-separated file: per text column holding quoted numbers with comma groups of three digits
    ("16,508": 16 508 SEK or 16.508?), ``(message naming the column and example rows, 0-based row positions)``.
    ``first_row``: the position of ``df``'s first row in the file (chunks). Other separators: nothing."""
    if separator != ",":
        return []
    out = []
    for col in df.columns:
        s = df[col]
        if pd.api.types.is_numeric_dtype(s) or pd.api.types.is_datetime64_any_dtype(s):
            continue
        hit = s.astype("string").str.strip().str.fullmatch(THOUSANDS_COMMA).fillna(False).to_numpy(dtype=bool)
        if hit.any():
            rows = np.flatnonzero(hit)
            shown = ", ".join(f"{first_row + int(i) + 1} ({s.iloc[int(i)]!r})" for i in rows[:MAX_SHOWN])
            more = f" and {rows.size - MAX_SHOWN} more" if rows.size > MAX_SHOWN else ""
            out.append((
                f"column {str(col)!r} holds quoted numbers with a comma between groups of three digits in a "
                f"comma-separated file, data row(s) {shown}{more}: a thousands separator (16,508 = 16508) or a "
                "decimal comma (16.508)? Refusing to guess: deliver amounts without thousands separators, or "
                "separate the columns with ';'", rows + first_row,
            ))  # fmt: skip
    return out


def read_csv_frame(path: Path, layout: CsvLayout) -> pd.DataFrame:
    """The whole file as text columns (``layout.read_options()``); malformed CSV -> ``ValueError``."""
    try:
        return pd.read_csv(path, **layout.read_options())
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError) as exc:
        raise ValueError(f"malformed CSV (separator {layout.separator!r}, {layout.encoding}): {exc}") from exc


def iter_csv_chunks(path: Path, layout: CsvLayout, rows: int) -> Any:
    """Chunks of ``rows`` rows (text columns); memory stays bounded by the chunk size."""
    return pd.read_csv(path, chunksize=rows, **layout.read_options())
