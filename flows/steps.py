"""What every study flow shares besides its nodes (``flows/nodes.py``): its config, where it writes, the
validation gate that publishes its tables (with a manifest, atomically), and the record of what each run read.

Studies hand each other paths of validated, published Parquet files, never large frames.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow.parquet as pq
from prefect import get_run_logger, task
from prefect.artifacts import create_table_artifact
from prefect.runtime import flow_run

from insats.catalog import count_columns, study_tables
from insats.config import Config, load_config
from insats.flows.nodes import NodeCachePolicy, remember_outputs
from insats.provenance import (
    checksum_inputs,
    code_version,
    content_hash,
    package_versions,
    sha256_file,
)
from insats.storage import publish_folder, write_json, write_parquet
from insats.studies import get_study
from insats.tasks.disclosure import SUPPRESSED_COLUMN, TableRules, protect_for_publication, protect_tables
from insats.tasks.register.pseudonymise import check_pseudonym_key
from insats.validation import gate

MANIFEST = "manifest.json"
DECLARED_INPUTS = "declared-inputs.json"  # the inputs a study run named, folders as folders (flows/unchanged.py)


def load_study_config(config_path: str | Path, study: str) -> Config:
    """The config, checked for the sections ``study`` needs (a one-line error names a missing one)."""
    config = load_config(config_path)
    config.require(*get_study(study).sections, for_=f"`insats run {get_study(study).slug}`")
    check_pseudonym_key(config)  # before anything is published, also when a deployment starts the flow
    return config


def work_dir(config: Config, study: str) -> Path:
    """Where a study's nodes write their intermediate (unpublished, not for release) outputs."""
    return config.paths.interim / get_study(study).name


def published_dir(config: Config, study: str) -> Path:
    """Where a stage's validated outputs live: ``processed/<study>`` for release, or, for pseudonymised
    microdata that must never be released (the register stage), ``interim/<study>/published``."""
    entry = get_study(study)
    if entry.published == "interim":
        return config.paths.interim / entry.name / "published"
    return config.paths.processed / entry.name


def read_manifest(config: Config, study: str) -> dict[str, Any]:
    """A study's published ``manifest.json``; errors, naming the command to run, if the study has not run."""
    folder = published_dir(config, study)
    manifest_path = folder / MANIFEST
    if not manifest_path.is_file():
        slug = get_study(study).slug
        raise FileNotFoundError(f"No validated outputs of {slug!r} in {folder}: run `insats run {slug}` first")
    return json.loads(manifest_path.read_text(encoding="utf-8"))


def read_published(config: Config, study: str, table: str) -> Path:
    """Path of a study's published (validated) table; errors if the study has not run or was altered."""
    folder = published_dir(config, study)
    manifest = read_manifest(config, study)
    entry = manifest["tables"].get(table)
    if entry is None:
        raise KeyError(f"Study {study!r} published no table {table!r} (it has {', '.join(manifest['tables'])})")
    path = folder / entry["file"]
    if sha256_file(path) != entry["sha256"]:
        raise RuntimeError(f"{path} differs from what study {study!r} validated and published: re-run it")
    return path


def run_record(config: Config) -> dict[str, Any]:
    """Who, what and when of the current flow run, for manifests."""
    return {
        "flow_run_id": str(flow_run.get_id() or ""),
        "flow_run_name": flow_run.get_name(),
        "flow": flow_run.get_flow_name(),
        "config_path": str(config.source),
        "config_sha256": config.sha256,
        "code_version": code_version(),
        "packages": package_versions(),
        "created_at": datetime.now(UTC).isoformat(timespec="seconds"),
    }


def input_hashes(inputs: Iterable[str | Path]) -> dict[str, str]:
    """Input as named (a folder as a folder) -> its content hash now (:func:`insats.provenance.content_hash`:
    a folder by its file names and bytes), or ``missing``."""
    return {str(p): content_hash(Path(p)) if Path(p).exists() else "missing" for p in inputs}


def declare_inputs(config: Config, study: str, inputs: Iterable[Path]) -> Path:
    """Write ``<work dir>/declared-inputs.json``: the config's sha256 and :func:`input_hashes` of ``inputs``."""
    declared = {"config_sha256": config.sha256, "inputs": input_hashes(inputs)}
    return write_json(declared, work_dir(config, study) / DECLARED_INPUTS)


def record_inputs(study: str, config: Config, inputs: Iterable[Path]) -> list[dict[str, Any]]:
    """Checksum every raw input a study reads and attach the list to the flow run as an artifact.

    ``insats history`` reads this artifact back, so even a failed run says which data it read. The list as
    given, with each input's content hash as the run read it (a folder by its file names and bytes, so a file
    added later counts) and the config's sha256, is kept in the study's work folder for the chain's
    "unchanged since" check (flows/unchanged.py).
    """
    inputs = [Path(p) for p in inputs]
    declare_inputs(config, study, inputs)
    records = checksum_inputs(inputs)
    version = code_version()
    commit = f"{version['git_commit'] or 'unknown'}{' (uncommitted changes)' if version['git_dirty'] else ''}"
    rows = [
        {"input": "config", "path": str(config.source), "sha256": config.sha256, "bytes": None},
        {"input": "code", "path": f"insats {version['package']}", "sha256": commit, "bytes": None},
    ]
    rows += [{"input": "data", **r} for r in records]
    create_table_artifact(
        table=rows,
        key=f"inputs-{study.replace('_', '-')}",
        description=f"Inputs read by this {study} run (sha256), with the config's hash",
    )
    return records


def _publish_study(
    study: str,
    tables: dict[str, Path],
    suites: dict[str, Path],
    inputs: list[Path],
    target: str,
    run: dict[str, Any],
    threshold: int = 5,
) -> dict[str, Path]:
    """The gate: validate every table against its suite, apply disclosure control, then publish them with a
    manifest, atomically.

    ``suites`` (table -> suite file) is an argument so that a changed contract re-runs the gate. The gate sees
    the unsuppressed tables (with ``suppressed`` False where the suite has that flag and the table lacks it);
    what is written is :func:`insats.tasks.disclosure.protect_tables` of all the study's tables together
    (primary suppression below ``threshold`` persons, config ``seminar.disclosure_threshold``, and secondary
    suppression against the relations in the suites' ``meta.disclosure``). A stage that publishes to interim
    (the register's pseudonymised microdata, not for release) is written unsuppressed; the manifest says which.
    On any failure nothing is published and the previously published outputs stay as they were.
    """
    logger = get_run_logger()
    interim = get_study(study).published == "interim"  # no disclosure control: one table in memory at a time
    frames = {} if interim else {name: pd.read_parquet(path) for name, path in tables.items()}
    metas = {name: json.loads(Path(suites[name]).read_text(encoding="utf-8")).get("meta", {}) for name in tables}
    columns = {name: pq.read_schema(path).names for name, path in tables.items()}  # the file's footer only
    counts = {name: [c for c in metas[name].get("count_columns", []) if c in columns[name]] for name in tables}

    def table(name: str) -> pd.DataFrame:
        """The table as gated and written: held (for disclosure control across tables) or read anew (interim: the
        register's 30M-row tables are never all in memory together)."""
        df = frames[name] if name in frames else pd.read_parquet(tables[name])
        if counts[name] and SUPPRESSED_COLUMN not in df.columns:
            df[SUPPRESSED_COLUMN] = False  # the flag column the published (controlled) table carries
        return df

    reports = {}
    for name in tables:
        suite = suites[name].stem
        df = table(name)
        reports[name] = gate(df, suite, table=f"{study}.{name}")
        logger.info("gate passed: %s.%s (%d rows, suite %s)", study, name, len(df), suite)
        del df
    if interim:
        control: dict[str, Any] = {"applied": False, "reason": "interim: pseudonymised working data, not for release"}
    else:
        rules = {name: TableRules.from_meta(meta) for name, meta in metas.items()}
        frames, done = protect_tables(frames, counts, rules, threshold)
        control = done.as_dict()
        logger.info(
            "disclosure control: %d cell(s) below %d persons and %d complementary cell(s) hidden",
            sum(done.primary.values()) + sum(done.upstream.values()), threshold, sum(done.secondary.values()),
        )  # fmt: skip
    provenance = {"study": study, **run}
    manifest: dict[str, Any] = {
        "study": study,
        "inputs": checksum_inputs(inputs),
        "run": run,
        "disclosure": control,
        "tables": {},
    }

    def fill(staging: Path) -> None:
        for name in tables:
            df = table(name)
            path = write_parquet(df, staging / f"{name}.parquet", metadata=provenance)
            manifest["tables"][name] = {
                "file": path.name,
                "sha256": sha256_file(path),
                "rows": len(df),
                "suite": reports[name].suite,
                "suite_version": reports[name].suite_version,
                "suite_sha256": sha256_file(suites[name]),
            }
        write_json(manifest, staging / MANIFEST)

    folder = publish_folder(Path(target), fill)
    paths = {name: folder / f"{name}.parquet" for name in tables}
    key = _PUBLISH_POLICY.key_for(
        "publish_study",
        dict(study=study, tables=tables, suites=suites, inputs=inputs, target=target, threshold=threshold),
    )
    remember_outputs(key, [*paths.values(), folder / MANIFEST])
    return paths


_PUBLISH_POLICY = NodeCachePolicy(fn=_publish_study, ignore=("run",), files=("tables", "suites", "inputs"))
publish_study = task(_publish_study, name="publish_study", cache_policy=_PUBLISH_POLICY, persist_result=True)


def publish_key_table(study: str, table: Path, name: str, threshold: int) -> None:
    """Attach a study's key table to the flow run as a Prefect table artifact (stable key), every run,
    cached or not, so the UI shows how it changes over time. ``table`` is the published, disclosure-controlled
    file; :func:`protect_for_publication` (idempotent) guarantees no count below ``threshold`` even if the
    threshold was raised since (the per-count ``_hidden_`` flags are left out of the artifact)."""
    df = pd.read_parquet(table)
    shown = protect_for_publication(df, threshold, count_columns(study, name), table=f"{study}.{name}")
    shown = shown[[c for c in shown.columns if not c.startswith("_hidden_")]]
    create_table_artifact(
        table=json.loads(shown.to_json(orient="records", force_ascii=False, date_format="iso")),
        key=f"{study.replace('_', '-')}-{name.replace('_', '-')}",
        description=f"{study}: {name} (person counts below {threshold} suppressed)",
    )


def publish(
    study: str,
    config: Config,
    tables: Mapping[str, str | Path],
    inputs: Iterable[Path],
    **_legacy: Any,
) -> dict[str, Path]:
    """Gate and publish a study's tables (each must be in the catalog: ``schemas/<study>.<table>.json``), then
    attach the study's key table (from the registry) as an artifact. Returns the published paths."""
    specs = study_tables(study)
    unknown = [name for name in tables if name not in specs]
    if unknown:
        raise KeyError(f"{study} has no contract for table(s) {', '.join(unknown)}: add schemas/{study}.<table>.json")
    published = publish_study(
        study=study,
        tables={k: Path(v) for k, v in tables.items()},
        suites={k: specs[k].suite for k in tables},
        inputs=[Path(p) for p in inputs],
        target=str(published_dir(config, study)),
        run=run_record(config),
        threshold=config.seminar.disclosure_threshold,
    )
    key_table = get_study(study).key_table
    if key_table and key_table in published:
        publish_key_table(study, Path(published[key_table]), key_table, config.seminar.disclosure_threshold)
    return published
