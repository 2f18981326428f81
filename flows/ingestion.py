"""Register ingestion: the chain's shared stage. Every extract is checked against its input contract and
pseudonymised with a keyed hash; studies 2 and 3 read only what this stage published (under
``data/interim/register/published``: pseudonymised microdata, never released).
"""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any

from prefect import flow

from insats.config import Config
from insats.flows.nodes import node
from insats.flows.steps import load_study_config, publish, record_inputs, work_dir
from insats.tasks.register.ingest import ingest_extract, person_links
from insats.tasks.register.pseudonymise import load_key
from insats.validation import input_parameters

STUDY = "register"
ingest = node(ingest_extract, "extract")
check_links = node(person_links, "person_links")


def key_id(config: Config) -> str:
    """A short hash of the pseudonym key: a new key makes new pseudonyms, so it must key the cache."""
    reg = config.register
    key = load_key(env_var=reg.pseudonym_key_env, key_file=reg.pseudonym_key_file, demo=config.mode == "demo")
    return hashlib.sha256(b"insats-key-id" + key).hexdigest()[:16]


@flow(name="register")
def register(config_path: str) -> dict[str, Path]:
    """Read, check and pseudonymise every register extract in parallel, check that payments, spells and
    outcomes name only known persons, and publish the pseudonymised tables."""
    config = load_study_config(config_path, STUDY)
    reg = config.register
    inputs = list(reg.files.values())
    record_inputs(STUDY, config, inputs)
    out = work_dir(config, STUDY)

    def submit(kind: str, path: Path) -> Any:
        return ingest.submit(
            kind=kind,
            source=path,
            columns=reg.columns[kind],
            key_id=key_id(config),
            key_env=reg.pseudonym_key_env,
            key_file=reg.pseudonym_key_file,
            demo=config.mode == "demo",
            suite_parameters=input_parameters(config),
            out_dir=str(out),
            tag=kind,
        )

    # The largest extract (the monthly outcomes: 30M rows nationally) is ingested alone, after the others ran
    # in parallel, so the memory peak is one large extract's, not the sum of all four.
    largest = max(reg.files, key=lambda kind: reg.files[kind].stat().st_size if reg.files[kind].is_file() else 0)
    futures = {kind: submit(kind, path) for kind, path in reg.files.items() if kind != largest}
    done = {kind: future.result() for kind, future in futures.items()}
    done[largest] = submit(largest, reg.files[largest]).result()
    tables = {kind: done[kind] for kind in reg.files}
    check_links(persons=tables["persons"], tables={k: v for k, v in tables.items() if k != "persons"}, out_dir=str(out))
    return publish(STUDY, config, tables, inputs)
