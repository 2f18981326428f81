"""Register extracts: which file is which kind, the column mapping ``register.columns.<kind>``, the codes
seen against the shipped code lists, and the period the extract covers.

Column names match known Swedish and English aliases after ``norm`` (case and accents ignored, so
``Kön``, ``kön`` and ``KON`` all match ``kon``). A file is a kind when its identity column and the kind's
key columns are found; among several files of one kind the one with more mapped columns wins, then the
statistical formats (they carry value labels), then the shorter path.
"""

from __future__ import annotations

import io
from functools import lru_cache
from typing import Any

import pandas as pd

from insats.init.aliases import ALIASES
from insats.init.model import Choice, norm, one_line
from insats.init.sniff import STAT_READERS, SniffedFile, read_text
from insats.tasks.identity import is_identity_number
from insats.tasks.register.readers import SUPPORTED_SUFFIXES
from insats.tasks.register.standardise import CANONICAL_COLUMNS
from insats.validation import CODELIST_OF, codelists_dir

_ALIAS_RANK = {canon: {norm(a): i for i, a in enumerate(aliases)} for canon, aliases in ALIASES.items()}
SERIAL_IDS = frozenset(norm(a) for a in ("lopnr", "löpnummer", "lpnr"))
# The columns that make a table this kind (besides the identity column).
KEY_COLUMNS: dict[str, tuple[tuple[str, ...], int]] = {
    "persons": (("sex", "birth_year", "born_abroad", "education", "household_type", "municipality"), 2),
    "assistance": (("month", "amount"), 2),
    "spells": (("intervention_id", "start_date"), 2),
    "outcomes": (("month", "employed", "studying"), 2),
}
_FORMAT_RANK = {"spss": 0, "stata": 0, "parquet": 1, "sas": 1, "xport": 1, "csv": 2, "xlsx": 3}
PERIOD_MAX_BYTES = {"csv": 64 << 20, "xlsx": 16 << 20}  # larger files: period left as a TODO
PERIOD_MAX_BYTES_DEFAULT = 256 << 20  # statistical formats and Parquet read one column only


def map_columns(columns: list[str], kind: str) -> tuple[dict[str, str], dict[str, list[str]]]:
    """``({canonical: site column}, {canonical: other columns that also match})`` for one kind.

    Each site column serves one canonical name; among several matches the preferred alias wins.
    """
    taken: set[str] = set()
    mapping: dict[str, str] = {}
    others: dict[str, list[str]] = {}
    for canonical in CANONICAL_COLUMNS[kind]:
        ranks = _ALIAS_RANK[canonical]
        hits = sorted((ranks[norm(c)], c) for c in columns if norm(c) in ranks and c not in taken)
        if hits:
            mapping[canonical] = hits[0][1]
            taken.add(hits[0][1])
            if len(hits) > 1:
                others[canonical] = [c for _, c in hits[1:]]
    return mapping, others


def register_kind(info: SniffedFile) -> tuple[str, float] | None:
    """``(kind, share of the kind's canonical columns found)`` for a register extract, else None."""
    best: tuple[str, float] | None = None
    for kind, (keys, need) in KEY_COLUMNS.items():
        mapping, _ = map_columns(info.columns, kind)
        if "personnummer" not in mapping or sum(k in mapping for k in keys) < need:
            continue
        share = len(mapping) / len(CANONICAL_COLUMNS[kind])
        if best is None or share > best[1]:
            best = (kind, share)
    return best


@lru_cache(maxsize=1)
def _codelists() -> dict[str, dict[str, tuple[str, str]]]:
    """name -> {code: (label_sv, label_en)} from schemas/codelists."""
    out: dict[str, dict[str, tuple[str, str]]] = {}
    for path in sorted(codelists_dir().glob("*.csv")):
        df = pd.read_csv(path, dtype=str, encoding="utf-8", keep_default_na=False)
        out[path.stem] = {r.code: (r.label_sv, r.label_en) for r in df.itertuples()}
    return out


def _code_text(value: Any, canonical: str) -> str:
    """A code as the code lists write it: whole floats without ``.0``, kommunkod zero-padded."""
    if isinstance(value, float) and value.is_integer():
        value = int(value)
    text = str(value).strip()
    return text.zfill(4) if canonical == "municipality" and text.isdigit() else text


def _values_seen(info: SniffedFile, column: str, limit: int = 8) -> list[Any]:
    if info.sample is None or column not in info.sample.columns:
        return []
    values = info.sample[column].dropna()
    values = values[values.astype(str).str.strip() != ""]
    return sorted(values.unique().tolist(), key=str)[:limit]


def _code_notes(info: SniffedFile, canonical: str, column: str) -> tuple[str, str]:
    """``(what was seen, what to check)`` for a coded column: value labels or sample values vs the code list."""
    listname = CODELIST_OF.get(canonical)
    labels = info.value_labels.get(column, {})
    seen: list[str] = []
    todo: list[str] = []
    codes = _codelists().get(listname or "", {})
    if labels:
        seen.append(
            "value labels "
            + ", ".join(f"{k}={one_line(v, 30)}" for k, v in list(labels.items())[:6])
            + (", …" if len(labels) > 6 else "")
        )
    values = _values_seen(info, column)
    if values and listname:
        seen.append("values seen " + ", ".join(one_line(_code_text(v, canonical), 20) for v in values))
    elif values and canonical in ("month", "start_date", "end_date"):
        example = values[0].strftime("%Y-%m-%d") if hasattr(values[0], "strftime") else _code_text(values[0], "")
        seen.append(f"e.g. {one_line(example, 20)}")
    if not listname:
        return "; ".join(seen), ""
    unknown = sorted({_code_text(k, canonical) for k in [*labels, *values]} - set(codes))
    if unknown:
        todo.append(
            f"code(s) {', '.join(unknown[:6])} not in schemas/codelists/{listname}.csv "
            f"({', '.join(f'{c}={sv}' for c, (sv, _) in list(codes.items())[:4])}): recode"
        )
    # A 0/1 "born abroad" column labelled Nej/Ja says the same as the code list's own labels.
    same_as = [codes, _codelists()["yes_no"]] if listname == "born_abroad" else [codes]
    for code, label in labels.items():
        key = _code_text(code, canonical)
        known = codes.get(key)
        accepted = {norm(text) for lst in same_as for text in lst.get(key, ())}
        if known and norm(label) not in accepted:
            todo.append(f"code {code} is labelled {label!r} here but {known[0]!r} in {listname}.csv")
    if (labels or values) and not todo:
        seen.append(f"as in schemas/codelists/{listname}.csv")
    return "; ".join(seen), "; ".join(todo)


def _identity_note(info: SniffedFile, column: str) -> str:
    values = [str(v) for v in _values_seen(info, column, limit=50)]
    if norm(column) in SERIAL_IDS:
        return f"{column!r} sounds like a serial number: the pipeline pseudonymises real personnummer"
    if values and not any(is_identity_number(v) for v in values):
        return "no valid personnummer among the first rows: check the column"
    return ""


def column_choices(info: SniffedFile, kind: str) -> dict[str, Choice]:
    """``register.columns.<kind>`` for one file: canonical -> Choice(site column) with its comment."""
    mapping, others = map_columns(info.columns, kind)
    out: dict[str, Choice] = {}
    for canonical in CANONICAL_COLUMNS[kind]:
        column = mapping.get(canonical)
        if column is None:
            aliases = ", ".join(ALIASES[canonical][:4])
            out[canonical] = Choice(None, todo=f"no column like {aliases} in {info.rel}: name it")
            continue
        parts = [f"column {column!r}"]
        if info.variable_labels.get(column):
            parts[0] += f" ({one_line(info.variable_labels[column], 40)})"
        seen, todo = _code_notes(info, canonical, column)
        if canonical == "personnummer":
            todo = _identity_note(info, column)
        parts += [seen] if seen else []
        if others.get(canonical):
            parts.append(f"also matches {', '.join(others[canonical])}")
        out[canonical] = Choice(column, source="; ".join(parts), todo=todo)
    return out


def _reader_todo(info: SniffedFile) -> str:
    """What the pipeline's register reader (read_extract) cannot do with this file."""
    problems = []
    if info.path.suffix.lower() not in SUPPORTED_SUFFIXES:
        problems.append(f"the register reader does not take {info.path.suffix or 'files without a suffix'}")
    if info.format == "csv" and info.encoding not in ("utf-8", "utf-8-sig", "cp1252"):
        problems.append(
            f"the register reader reads UTF-8 and cp1252 only: re-save as UTF-8 "
            f"(`insats validate --encoding {info.encoding}` reads it as it is)"
        )
    if info.format == "csv" and info.delimiter not in (",", ";", "\t"):
        problems.append(f"separator {info.delimiter!r}: the register reader takes , ; or tab")
    return "; ".join(problems + info.notes)


def describe(info: SniffedFile) -> str:
    """One-line description of a table file for a comment: format, encoding, delimiter, size."""
    parts = [info.format.upper() if info.format != "spss" else "SPSS"]
    if info.format == "csv":
        sep = {"\t": "tab", ";": "semicolon", ",": "comma", "|": "pipe"}.get(info.delimiter or "", info.delimiter)
        parts.append(f"{sep}-separated")
        if info.encoding == "utf-8" and not info.encoding_guessed:
            parts.append("UTF-8")
        else:
            parts.append(
                f"encoding {info.encoding_note if info.encoding_guessed else info.encoding}"
                + ("" if info.encoding_guessed else f" ({info.encoding_note})")
            )
    elif info.encoding:
        parts.append(f"encoding {info.encoding}")
    if info.n_rows is not None:
        parts.append(f"{info.n_rows} rows")
    return ", ".join(parts)


def choose_register(files: list[SniffedFile]) -> tuple[dict[str, Choice], dict[str, dict[str, Choice]]]:
    """``(register.files, register.columns)`` choices for the kinds found among ``files``."""
    candidates: dict[str, list[tuple[float, SniffedFile]]] = {}
    for info in files:
        if info.is_table and (found := register_kind(info)):
            candidates.setdefault(found[0], []).append((found[1], info))
    chosen: dict[str, Choice] = {}
    columns: dict[str, dict[str, Choice]] = {}
    for kind, options in candidates.items():
        options.sort(key=lambda o: (-o[0], _FORMAT_RANK.get(o[1].format, 9), o[1].rel.count("/"), o[1].rel))
        share, info = options[0]
        chosen[kind] = Choice(
            info.path,
            source=f"{info.rel}: {describe(info)}; {round(share * len(CANONICAL_COLUMNS[kind]))} of "
            f"{len(CANONICAL_COLUMNS[kind])} {kind} columns recognised",
            todo=_reader_todo(info),
            alternatives=[o[1].rel for o in options[1:]],
            file=info,
        )
        columns[kind] = column_choices(info, kind)
    return chosen, columns


def _month_column(info: SniffedFile, column: str) -> pd.Series | None:
    """The whole month column of a file, or None when reading it is not cheap."""
    if info.size > PERIOD_MAX_BYTES.get(info.format, PERIOD_MAX_BYTES_DEFAULT):
        return None
    if info.format in STAT_READERS:
        import pyreadstat

        df, _ = getattr(pyreadstat, STAT_READERS[info.format])(str(info.path), usecols=[column])
        return df[column]
    if info.format == "parquet":
        return pd.read_parquet(info.path, columns=[column])[column]
    if info.format == "csv":
        text = read_text(info.path, None)[0]
        df = pd.read_csv(io.StringIO(text), sep=info.delimiter, usecols=[column], dtype=str, keep_default_na=False)
        return df[column].replace("", pd.NA)
    if info.format == "xlsx":
        from insats.tasks.register.readers import read_extract

        return read_extract(info.path)[column]
    return None


def month_range(info: SniffedFile, column: str) -> tuple[str, str, str] | None:
    """``(first YYYY-MM, last YYYY-MM, note)`` of a file's month column, or None (too big, unreadable)."""
    from insats.tasks.register.standardise import _parse_month  # the pipeline's own month parser

    try:
        values = _month_column(info, column)
    except Exception:  # noqa: BLE001 - any reader failure means: no period from this file
        return None
    if values is None or values.dropna().empty:
        return None
    months, bad = _parse_month(values.dropna().reset_index(drop=True))
    months = months.dropna()
    if months.empty:
        return None
    note = f"{int(bad.sum())} value(s) not readable as months" if bad.any() else ""
    return months.min().strftime("%Y-%m"), months.max().strftime("%Y-%m"), note


def choose_period(files: dict[str, Choice], columns: dict[str, dict[str, Choice]]) -> Choice:
    """``register.period`` from the outcomes file's months (it must cover every month of the period), else
    the assistance file's; Choice(None, todo=...) when neither is cheap to read."""
    ranges: dict[str, tuple[str, str, str]] = {}
    for kind in ("outcomes", "assistance"):
        choice, month = files.get(kind), columns.get(kind, {}).get("month")
        if choice is not None and choice.file is not None and month is not None and month.value:
            found = month_range(choice.file, month.value)
            if found:
                ranges[kind] = found
    if not ranges:
        return Choice(
            None,
            todo="no month column read (none found, or the file is too large to read here): "
            "give the first and last month the extract covers",
        )
    kind = "outcomes" if "outcomes" in ranges else "assistance"
    first, last, note = ranges[kind]
    seen = [
        f"{files[k].file.rel} column {columns[k]['month'].value!r}: {r[0]} to {r[1]}"  # type: ignore[union-attr]
        for k, r in ranges.items()
    ]
    todo = "; ".join(f"{files[k].file.rel}: {r[2]}" for k, r in ranges.items() if r[2])  # type: ignore[union-attr]
    if len({(r[0], r[1]) for r in ranges.values()}) > 1:
        todo = "; ".join(filter(None, [todo, "the files cover different months: outcomes must cover the period"]))
    return Choice((first, last), source=f"min and max month in the {kind} extract ({'; '.join(seen)})", todo=todo)
