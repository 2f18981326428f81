"""One register extract -> a checked, pseudonymised table: the only code that holds clear identity numbers
outside ``data/raw``, and only in memory.

Steps: value labels of .sav/.dta files against the code lists, parse to the canonical columns, the input
contract (``input.<kind>``), keyed pseudonymisation, and the pseudonymised contract (``register.<kind>``,
which also proves the clear identity column is gone).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd

from insats.tasks.identity import identity_masker
from insats.tasks.register.pseudonymise import load_key, pseudonymise
from insats.tasks.register.readers import read_extract, read_value_labels
from insats.tasks.register.standardise import standardise
from insats.validation import GateError, gate, identity_values_masked, value_label_problems


def ingest_extract(
    kind: str,
    source: Path,
    columns: dict[str, str],
    key_id: str,
    key_env: str,
    key_file: Path | None,
    demo: bool,
    suite_parameters: dict[str, Any],
) -> pd.DataFrame:
    """Read ``source`` (any format :func:`read_extract` knows) as register table ``kind`` and pseudonymise it.

    ``columns`` maps canonical names to the extract's; the key is read from ``key_env``/``key_file`` here
    (never passed around); ``key_id`` (a hash of the key) only makes a new key a new cache entry.
    Raises GateError naming the file and the failed expectations.
    """
    if source.suffix.lower() in (".sav", ".zsav", ".dta"):
        problems = value_label_problems(read_value_labels(source), columns)
        if problems:
            raise GateError(f"{source}: value labels disagree with the code lists: {'; '.join(problems)}")
    raw = read_extract(source)
    identities = raw[columns["personnummer"]] if columns.get("personnummer") in raw else raw.iloc[:0, 0]
    masker = identity_masker(identities)
    try:  # every message names values of the identity column masked, whatever their spelling
        with identity_values_masked(identities):
            df = standardise(raw, kind, columns, source=str(source))
            gate(df, f"input.{kind}", table=str(source), parameters=suite_parameters)
            pseudo = pseudonymise(df, load_key(env_var=key_env, key_file=key_file, demo=demo))
            gate(pseudo, f"register.{kind}", table=f"pseudonymised {kind}")
    except (ValueError, GateError, KeyError) as exc:
        masked = masker(str(exc))
        if masked == str(exc):
            raise
        raise (GateError if isinstance(exc, GateError) else ValueError)(masked) from None
    return pseudo


def person_links(persons: pd.DataFrame, tables: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """Referential integrity: every person in payments, spells and outcomes exists in the persons table.

    Returns one row per table (table, n_rows, n_persons); raises GateError listing the tables with unknown persons.
    """
    known = persons["person_id"].tolist()
    rows = []
    for kind, df in tables.items():
        gate(df[["person_id"]], "crosstable.person_exists", table=f"pseudonymised {kind}",
             parameters={"known_person_ids": known})  # fmt: skip
        rows.append({"table": kind, "n_rows": len(df), "n_persons": int(df["person_id"].nunique())})
    return pd.DataFrame(rows, columns=["table", "n_rows", "n_persons"])
