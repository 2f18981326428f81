"""Evidence review (study 2): the extraction sheet of included studies and the evidence table per method family.

The extraction sheet (CSV, UTF-8/UTF-8-BOM with cp1252 fallback, ``,`` or ``;``) has one row per included
study with columns :data:`EXTRACTION_COLUMNS`: ``record_id`` (the reference's id), ``design`` (one of
:data:`DESIGNS`), ``country``, ``population``, ``outcome`` (free text), ``effect_direction`` (one of
:data:`DIRECTIONS`: the direction of the effect on the review's main outcome, ``null`` = no significant
effect) and ``method_family`` (the inventory's controlled vocabulary,
:data:`insats.tasks.mapping.inventory.METHOD_FAMILIES`). Codes are matched ignoring case, accents, spaces and hyphens.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from insats.tasks.mapping.inventory import METHOD_FAMILIES, _fold, read_inventory

DESIGNS: tuple[str, ...] = ("rct", "quasi_experimental", "observational", "qualitative", "review", "other")
DIRECTIONS: tuple[str, ...] = ("positive", "null", "negative", "mixed")
EXTRACTION_COLUMNS: tuple[str, ...] = (
    "record_id",
    "design",
    "country",
    "population",
    "outcome",
    "effect_direction",
    "method_family",
)
EVIDENCE_COLUMNS: tuple[str, ...] = (
    "method_family",
    "n_studies",
    "n_rct",
    "designs",
    "n_positive",
    "n_null",
    "n_negative",
    "n_mixed",
    "share_positive",
    "countries",
)


def read_extraction(path: Path, known_ids: set[str] | None = None) -> pd.DataFrame:
    """Read and check an extraction sheet (CSV or XLSX; see module docstring).

    Returns columns :data:`EXTRACTION_COLUMNS` as str (codes normalised, e.g. ``RCT`` -> ``rct``), file order.
    Raises one ValueError naming the file and listing every problem as ``row <n>, column '<col>': ...``
    (the header, the first non-empty row, is row 1) for: missing columns, empty record_id, a record_id extracted twice,
    unknown design / effect_direction / method_family (listing the allowed values) and, with ``known_ids``,
    a record_id that is not an included reference.
    """
    path = Path(path)
    raw = _read_sheet(path)
    raw = raw.rename(columns=lambda c: str(c).strip().lower())
    missing = [c for c in EXTRACTION_COLUMNS if c not in raw.columns]
    if missing:
        raise ValueError(
            f"{path}: missing column(s) {', '.join(missing)}; required: {', '.join(EXTRACTION_COLUMNS)}; "
            f"found: {', '.join(map(str, raw.columns))}"
        )
    rows = raw.attrs.get("row_numbers") or list(range(2, len(raw) + 2))
    problems: list[str] = []
    out: dict[str, list[str]] = {c: [] for c in EXTRACTION_COLUMNS}
    seen: dict[str, int] = {}
    vocab = {"design": DESIGNS, "effect_direction": DIRECTIONS, "method_family": METHOD_FAMILIES}
    for row, rec in zip(rows, raw[list(EXTRACTION_COLUMNS)].itertuples(index=False), strict=True):
        r = {
            c: "" if v is None or (isinstance(v, float) and pd.isna(v)) else str(v).strip()
            for c, v in rec._asdict().items()
        }
        if not r["record_id"]:
            problems.append(f"row {row}, column 'record_id': value is missing")
        elif r["record_id"] in seen:
            problems.append(
                f"row {row}, column 'record_id': {r['record_id']!r} extracted twice "
                f"(first in row {seen[r['record_id']]})"
            )
        else:
            seen[r["record_id"]] = row
            if known_ids is not None and r["record_id"] not in known_ids:
                problems.append(f"row {row}, column 'record_id': {r['record_id']!r} is not an included reference")
        for col, allowed in vocab.items():
            code = _fold(r[col]) if r[col] else ""
            if code not in allowed:
                problems.append(
                    f"row {row}, column '{col}': unknown value {r[col]!r}; allowed values: {', '.join(allowed)}"
                )
            r[col] = code
        for c in EXTRACTION_COLUMNS:
            out[c].append(r[c])
    if problems:
        raise ValueError(f"{path}: {len(problems)} problem(s) in the extraction sheet:\n" + "\n".join(problems[:50]))
    return pd.DataFrame(out, columns=list(EXTRACTION_COLUMNS), dtype=object).astype(str)


def _read_sheet(path: Path) -> pd.DataFrame:
    """Raw cells via the inventory's tolerant reader (encodings, separators, .xlsx); the header is the first
    non-empty row, and ``attrs["row_numbers"]`` holds spreadsheet row numbers."""
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".xlsx"):
        raise ValueError(f"{path}: unsupported extraction file type {suffix!r}; expected .csv or .xlsx")
    return read_inventory(path)


def evidence_table(extraction: pd.DataFrame) -> pd.DataFrame:
    """One row per method family with at least one included study, in :data:`METHOD_FAMILIES` order.

    Columns :data:`EVIDENCE_COLUMNS`: ``n_studies``, ``n_rct`` and the counts per effect direction (int64),
    ``designs`` (e.g. ``"rct 3; observational 1"``, designs in :data:`DESIGNS` order), ``share_positive``
    (n_positive / n_studies) and ``countries`` ("; "-joined, sorted).
    """
    rows = []
    for fam in METHOD_FAMILIES:
        sub = extraction[extraction["method_family"] == fam]
        if sub.empty:
            continue
        counts = sub["design"].value_counts()
        direction = sub["effect_direction"].value_counts()
        rows.append(
            {
                "method_family": fam,
                "n_studies": len(sub),
                "n_rct": int(counts.get("rct", 0)),
                "designs": "; ".join(f"{d} {int(counts[d])}" for d in DESIGNS if d in counts),
                **{f"n_{d}": int(direction.get(d, 0)) for d in DIRECTIONS},
                "share_positive": float(direction.get("positive", 0)) / len(sub),
                "countries": "; ".join(sorted(set(sub["country"]) - {""})),
            }
        )
    out = pd.DataFrame(rows, columns=list(EVIDENCE_COLUMNS))
    ints = ["n_studies", "n_rct", "n_positive", "n_null", "n_negative", "n_mixed"]
    return out.astype({c: "int64" for c in ints} | {"share_positive": "float64"})


def evidence_from_extraction(extraction: Path, references: pd.DataFrame | None = None) -> pd.DataFrame:
    """The evidence table (:func:`evidence_table`) of the extraction sheet at ``extraction``; with the
    de-duplicated ``references`` every extracted record_id must be one of theirs."""
    known = set(references["record_id"].astype(str)) if references is not None else None
    return evidence_table(read_extraction(extraction, known))
