"""The steward's split files carry pseudonymised identity numbers, never clear ones, unless the steward asks for
clear ids into a folder outside the project's data tree (``--clear-ids-to``).

Pseudonyms are the pipeline's own (``insats.tasks.register.pseudonymise``: HMAC-SHA256 with the config's key,
the demo key in ``mode: demo``), so a quarantined row can be matched with the pseudonymised interim tables.
A value that is not a valid identity number has no pseudonym: it is written masked (``19850612-****``).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from insats.tasks.identity import is_identity_number, mask_identity_number
from insats.tasks.register.pseudonymise import load_key, normalise_identity_numbers, pseudonyms

ID_NAMES = ("personnummer", "pnr", "personnr", "person_nr", "personal_identity_number")
SNIFF_VALUES = 1000  # values looked at to find identity numbers in a column no mapping names
PSEUDONYM_SUFFIX = "__pseudonym"


def pseudonym_key(config: Any) -> bytes:
    """The config's pseudonymisation key (``register.pseudonym_key_env`` / ``pseudonym_key_file``; the demo key
    in ``mode: demo``); ``ValueError`` with the reason when there is none or it is refused."""
    register = getattr(config, "register", None)
    env = register.pseudonym_key_env if register is not None else "INSATS_PSEUDONYM_KEY"
    key_file = register.pseudonym_key_file if register is not None else None
    return load_key(env_var=env, key_file=key_file, demo=getattr(config, "mode", "site") == "demo")


def identity_columns(source: pd.DataFrame, mapped: str | None) -> list[str]:
    """Source columns holding identity numbers: the mapped one, any named like one (case-insensitive), and any
    text column where at least half of the first ``SNIFF_VALUES`` distinct values are valid identity numbers."""
    found = []
    for col in source.columns:
        name = str(col).strip().lower()
        if (mapped is not None and name == mapped.strip().lower()) or name in ID_NAMES:
            found.append(col)
            continue
        s = source[col]
        if pd.api.types.is_numeric_dtype(s) and not pd.api.types.is_integer_dtype(s):
            continue
        if pd.api.types.is_datetime64_any_dtype(s) or pd.api.types.is_bool_dtype(s):
            continue
        values = pd.unique(s.dropna().astype(str).head(SNIFF_VALUES * 4))[:SNIFF_VALUES]
        if len(values) and sum(is_identity_number(v) for v in values) * 2 >= len(values):
            found.append(col)
    return found


def pseudonymised(values: pd.Series, key: bytes) -> pd.Series:
    """Each identity number replaced by its pseudonym (16 letters); invalid values masked; missing stay missing.
    Distinct values are hashed once."""
    codes, uniques = pd.factorize(values, use_na_sentinel=True)
    normalised = normalise_identity_numbers([str(v).strip() for v in uniques])
    valid = [n for n in normalised if n is not None]
    letters = iter(pseudonyms(valid, key))
    table = [
        next(letters) if n is not None else mask_identity_number(str(v))
        for v, n in zip(uniques, normalised, strict=True)
    ]
    table.append(None)  # the NA sentinel (-1)
    return pd.Series(np.asarray(table, dtype=object)[codes], index=values.index, dtype="string")


def without_clear_ids(frame: pd.DataFrame, columns: list[str], key: bytes) -> pd.DataFrame:
    """``frame`` with every column in ``columns`` replaced, in place of it, by ``<column>__pseudonym``."""
    out = frame.copy(deep=False)
    for col in columns:
        if col in out.columns:
            at = list(out.columns).index(col)
            values = pseudonymised(out[col], key)
            out = out.drop(columns=[col])
            out.insert(at, f"{col}{PSEUDONYM_SUFFIX}", values)
    return out


def split_folders(quarantine: Path | None, clear_ids_to: Path | None) -> list[tuple[Path, bool]]:
    """``(folder, clear ids?)`` for each split to write."""
    return [(Path(d), clear) for d, clear in ((quarantine, False), (clear_ids_to, True)) if d is not None]
