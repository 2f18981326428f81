"""One register extract -> a checked, pseudonymised table: the only code that holds clear identity numbers
outside ``data/raw``, and only in memory.

Steps: value labels of .sav/.dta files against the code lists, parse to the canonical columns, the input
contract (``input.<kind>``), keyed pseudonymisation, and the pseudonymised contract (``register.<kind>``,
which also proves the clear identity column is gone).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from insats.loading import PersonIds
from insats.tasks.identity import identity_masker, mask_identity_numbers
from insats.tasks.register.pseudonymise import load_key, pseudonymise
from insats.tasks.register.readers import large_stat_rows, read_extract, read_value_labels
from insats.tasks.register.standardise import standardise
from insats.validation import (
    N_SAMPLES,
    ExpectationOutcome,
    GateError,
    gate,
    identity_values_masked,
    value_label_problems,
)


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
    Raises GateError naming the file and the failed expectations. A .sav/.dta file read in row ranges (over
    64 MB and 2M rows) goes through all of this range by range (:mod:`insats.tasks.register.chunked_ingest`).
    """
    if source.suffix.lower() in (".sav", ".zsav", ".dta"):
        problems = value_label_problems(read_value_labels(source), columns)
        if problems:
            raise GateError(f"{source}: value labels disagree with the code lists: {'; '.join(problems)}")
    n_rows = large_stat_rows(source)
    if n_rows:  # read in row ranges anyway: parse, check and pseudonymise each range before reading the next
        from insats.tasks.register.chunked_ingest import ingest_in_chunks

        def key() -> bytes:
            return load_key(env_var=key_env, key_file=key_file, demo=demo)

        return ingest_in_chunks(kind, source, n_rows, columns, key, suite_parameters)
    raw = read_extract(source)
    identities = raw[columns["personnummer"]] if columns.get("personnummer") in raw else raw.iloc[:0, 0]
    masker = identity_masker(identities)
    del identities
    try:  # every message names values of the identity column masked, whatever their spelling
        with identity_values_masked(masker=masker):
            df = standardise(raw, kind, columns, source=str(source), consume=True)
            del raw  # one clear-text frame at a time: the parsed columns replace the ones as read
            gate(df, f"input.{kind}", table=str(source), parameters=suite_parameters)
            pseudo = pseudonymise(df, load_key(env_var=key_env, key_file=key_file, demo=demo))
            del df
            gate(pseudo, f"register.{kind}", table=f"pseudonymised {kind}")
    except (ValueError, GateError, KeyError) as exc:
        masked = masker(str(exc))
        if masked == str(exc):
            raise
        raise (GateError if isinstance(exc, GateError) else ValueError)(masked) from None
    return pseudo


def _link_outcomes(ids: pd.Series, known: pd.Series) -> list[ExpectationOutcome]:
    """The two expectations of suite ``crosstable.person_exists`` over ``ids`` (a table's ``person_id``), as GX
    reports them (counts, percentages, the first five unexpected values in row order, 0-based rows), computed
    with a hash anti-join: GX's own ``expect_column_values_to_be_in_set`` spends minutes on a 500k-value set."""
    missing = ids.isna().to_numpy()
    unknown = ~missing & ~ids.isin(known).to_numpy(dtype=bool, na_value=False)
    n, present = len(ids), int((~missing).sum())
    outcomes = []
    for name, bad, base in (
        ("expect_column_values_to_not_be_null", missing, n),
        ("expect_column_values_to_be_in_set", unknown, present),
    ):
        rows = np.flatnonzero(bad)
        outcomes.append(
            ExpectationOutcome(
                expectation=name,
                column="person_id",
                success=rows.size == 0,
                unexpected_count=int(rows.size),
                unexpected_percent=100.0 * rows.size / base if base else None,
                samples=[mask_identity_numbers(str(v), confirmed=False) for v in ids.iloc[rows[:N_SAMPLES]]],
                unexpected_rows=rows.tolist(),
            )
        )
    return outcomes


def person_links(persons: PersonIds, tables: dict[str, PersonIds]) -> pd.DataFrame:
    """Referential integrity: every person in payments, spells and outcomes exists in the persons table
    (suite ``crosstable.person_exists``: person_id not null and among the persons table's ``person_id``).
    Only the ``person_id`` column of each table is read (as a node: :mod:`insats.loading`).

    Returns one row per table (table, n_rows, n_persons); raises GateError listing the tables with unknown persons,
    in the words ``gate`` uses for a failed suite.
    """
    known = persons["person_id"].dropna().unique()
    rows = []
    for kind, df in tables.items():
        failed = [o for o in _link_outcomes(df["person_id"], known) if not o.success]
        if failed:
            detail = "; ".join(o.describe().removeprefix("FAILED").strip() for o in failed)
            raise GateError(f"Table 'pseudonymised {kind}' failed its contract 'crosstable.person_exists': {detail}")
        rows.append({"table": kind, "n_rows": len(df), "n_persons": int(df["person_id"].nunique())})
    return pd.DataFrame(rows, columns=["table", "n_rows", "n_persons"])
