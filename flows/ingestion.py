"""Register ingestion, shared by studies 2 and 3: read an extract, check it against its input contract,
pseudonymise identity numbers with a keyed hash, check the result, and write it to ``data/interim``.

This is the only place clear-text identity numbers exist outside ``data/raw``, and only in memory.
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

import pandas as pd

from insats.config import REGISTER_KINDS, Config
from insats.flows.steps import run_step, run_steps, step, written
from insats.storage import write_parquet
from insats.tasks.register.pseudonymise import load_key, pseudonymise
from insats.tasks.register.readers import read_extract, read_value_labels
from insats.tasks.register.standardise import standardise
from insats.validation import GateError, gate, input_parameters, value_label_problems


def _key(config: Config) -> bytes:
    reg = config.register
    return load_key(env_var=reg.pseudonym_key_env, key_file=reg.pseudonym_key_file, demo=config.mode == "demo")


@step
def ingest_extract(
    kind: str,
    source: Path,
    columns: dict[str, str],
    key_fingerprint: str,
    key_env: str,
    key_file: Path | None,
    demo: bool,
    suite_parameters: dict[str, Any],
    out_dir: str,
) -> dict:
    """One register file -> validated, pseudonymised Parquet. ``key_fingerprint`` keys the cache on the key."""
    if source.suffix.lower() in (".sav", ".zsav", ".dta"):
        problems = value_label_problems(read_value_labels(source), columns)
        if problems:
            raise GateError(f"{source}: value labels disagree with the code lists: {'; '.join(problems)}")
    df = standardise(read_extract(source), kind, columns, source=str(source))
    gate(df, f"input.{kind}", table=str(source), parameters=suite_parameters)
    key = load_key(env_var=key_env, key_file=key_file, demo=demo)
    pseudo = pseudonymise(df, key)
    gate(pseudo, f"interim.{kind}", table=f"pseudonymised {kind}")
    return written(**{kind: write_parquet(pseudo, Path(out_dir) / f"{kind}.parquet")})


def ingest_register(config: Config, kinds: tuple[str, ...] = REGISTER_KINDS) -> dict[str, str]:
    """Ingest register extracts in parallel on the flow's task runner; kind -> interim Parquet path."""
    reg = config.register
    fingerprint = hashlib.sha256(b"insats-key-id" + _key(config)).hexdigest()[:16]
    calls = [
        (
            ingest_extract,
            dict(
                kind=kind,
                source=reg.files[kind],
                columns=reg.columns[kind],
                key_fingerprint=fingerprint,
                key_env=reg.pseudonym_key_env,
                key_file=reg.pseudonym_key_file,
                demo=config.mode == "demo",
                suite_parameters=input_parameters(config),
                out_dir=str(config.interim_dir("register")),
            ),
        )
        for kind in kinds
    ]
    merged: dict[str, str] = {}
    for outputs in run_steps(calls):
        merged.update(outputs)
    if "persons" in merged and len(merged) > 1:
        others = {kind: Path(path) for kind, path in merged.items() if kind != "persons"}
        run_step(check_person_links, persons=Path(merged["persons"]), tables=others)
    return merged


@step
def check_person_links(persons: Path, tables: dict[str, Path]) -> dict:
    """Referential integrity: every person in payments, spells and outcomes exists in the persons table."""
    known = pd.read_parquet(persons, columns=["person_id"])["person_id"].tolist()
    for kind, path in tables.items():
        people = pd.read_parquet(path, columns=["person_id"])
        gate(people, "crosstable.person_exists", table=f"pseudonymised {kind}", parameters={"known_person_ids": known})
    return written()
