"""The quarterly feedback seminar (återföringsseminarium) brief, from validated outputs and the run history.

Everything it writes is disclosure-controlled: it reads the published (controlled) tables and passes them
through :func:`insats.tasks.disclosure.protect_for_publication` again (idempotent), the quarter snapshot too.
It refuses to combine studies from different runs (:func:`mixed_runs`) unless told to, then warns.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from prefect import flow, get_run_logger, task

from insats.catalog import table_spec
from insats.config import Config, load_config
from insats.fingerprint import function_fingerprint
from insats.flows.steps import MANIFEST, published_dir, read_published, run_record
from insats.flows.unchanged import source_hash
from insats.history import current_quarter, quarter_bounds, read_history
from insats.provenance import checksum_inputs, package_versions, sha256_file
from insats.storage import write_json, write_parquet, write_text
from insats.studies import get_study, study_names
from insats.tasks.disclosure import suppress_small_counts
from insats.tasks.reporting.brief import BriefContent, render_brief
from insats.tasks.reporting.changes import estimate_changes, input_changes, run_summary, table_changes

STUDY = "seminar_brief"
SOURCES = {
    "demand_profile": ("employer_interviews", "demand_profile"),
    "alignment": ("intervention_mapping", "alignment"),
    "candidates": ("intervention_mapping", "candidates"),
    "effects": ("outcome_evaluation", "effects"),
    "balance": ("outcome_evaluation", "balance"),
}


HEADLINE_OUTCOME = "self_sufficient"


def _for_brief(name: str, df: pd.DataFrame, config: Config) -> pd.DataFrame:
    """What managers read: effects on self-sufficiency at the main horizon by every adjusting estimator.

    The naive difference is not a causal estimate and stays in the published table, not in the brief; all
    outcomes and horizons are in ``data/processed/outcome_evaluation/effects.parquet``.
    """
    if name != "effects":
        return df
    keep = (
        (df["outcome"] == HEADLINE_OUTCOME)
        & (df["horizon_months"] == config.outcome_evaluation.horizon_months)
        & (df["estimator"] != "naive_difference")
    )
    return df[keep].reset_index(drop=True)


# Tables a brief shows when their study has published them (participant flow is optional; older runs may lack
# the deeper study 1 and 2 tables).
OPTIONAL_SOURCES = {
    "reliability": ("employer_interviews", "reliability"),
    "quotes": ("employer_interviews", "quotes"),
    "coverage_gaps": ("intervention_mapping", "coverage_gaps"),
    "evidence": ("intervention_mapping", "evidence"),
    "event_study": ("outcome_evaluation", "event_study"),
    "goal_attainment": ("participant_flow", "goal_attainment"),
    "enrolment": ("participant_flow", "enrolment"),
}
SNAPSHOT = "snapshot"


def _manifests(config: Config, studies: list[str]) -> dict[str, dict]:
    return {
        study: json.loads((config.study_dir(study) / MANIFEST).read_text(encoding="utf-8"))
        for study in studies
        if (config.study_dir(study) / MANIFEST).is_file()
    }


def snapshot_tables(manifests: dict[str, dict], effects: pd.DataFrame, threshold: int = 5) -> dict[str, pd.DataFrame]:
    """What a brief keeps so the next quarter's brief can say what changed: inputs, table sizes, estimates.
    The estimates leave the machine with the brief, so their person counts pass disclosure control again
    (counts below ``threshold`` hidden; the published table is already controlled, so this changes nothing
    unless the threshold was raised)."""
    counts = [c for c in table_spec("outcome_evaluation", "effects").count_columns if c in effects.columns]
    effects = suppress_small_counts(effects, counts, threshold)
    inputs = pd.DataFrame(
        [
            {"study": study, "input": Path(i["path"]).name, "sha256": i["sha256"]}
            for study, m in manifests.items()
            for i in m["inputs"]
        ],
        columns=["study", "input", "sha256"],
    )
    tables = pd.DataFrame(
        [
            {"study": study, "table": t, "rows": e["rows"]}
            for study, m in manifests.items()
            for t, e in m["tables"].items()
        ],
        columns=["study", "table", "rows"],
    )
    return {"inputs": inputs, "tables": tables, "effects": effects}


def previous_snapshot(reports: Path, quarter: str) -> tuple[str, dict[str, pd.DataFrame]] | None:
    """The latest snapshot of a quarter before ``quarter`` (quarters sort as text: 2026Q3 < 2026Q4)."""
    earlier = sorted(
        (q.name for q in (reports / "seminar").glob("*Q*") if q.name < quarter and (q / SNAPSHOT).is_dir()),
        reverse=True,
    )
    if not earlier:
        return None
    folder = reports / "seminar" / earlier[0] / SNAPSHOT
    return earlier[0], {name: pd.read_parquet(folder / f"{name}.parquet") for name in ("inputs", "tables", "effects")}


def validation_status(manifests: dict[str, dict]) -> pd.DataFrame:
    """Every published table with the contract it passed, and every input the studies read (each passed its
    input gate, or the study would not have published)."""
    rows = []
    for study, m in manifests.items():
        for i in m["inputs"]:
            rows.append(
                {
                    "study": study,
                    "item": Path(i["path"]).name,
                    "kind": "input",
                    "suite": "",
                    "rows": None,
                    "sha256": i["sha256"][:12],
                    "status": "passed",
                }
            )
        for table, e in m["tables"].items():
            rows.append(
                {
                    "study": study,
                    "item": table,
                    "kind": "output",
                    "suite": f"{e['suite']} v{e['suite_version']}",
                    "rows": e["rows"],
                    "sha256": e["sha256"][:12],
                    "status": "passed",
                }
            )
    return pd.DataFrame(rows, columns=["study", "item", "kind", "suite", "rows", "sha256", "status"])


def _run_label(manifest: dict) -> str:
    run = manifest.get("run", {})
    name, run_id = run.get("flow_run_name") or "unnamed run", str(run.get("flow_run_id") or "no id")
    return f"run {name} ({run_id}, {run.get('created_at', 'time unknown')})"


def mixed_runs(manifests: dict[str, dict], folders: dict[str, Path]) -> list[str]:
    """Inputs a study read from a predecessor's published folder that are not what that predecessor has
    published now (sha256 differs): the brief would combine results of different runs.

    ``manifests``: study -> its published manifest.json; ``folders``: study -> its published folder. Which
    studies a study reads comes from the registry (``insats.studies``). One message per mismatch, naming both
    studies, the table and both runs."""
    problems = []
    for study, manifest in manifests.items():
        for pred in get_study(study).reads:
            if pred not in manifests or pred not in folders:
                continue
            current = manifests[pred]
            by_file = {entry["file"]: (table, entry) for table, entry in current.get("tables", {}).items()}
            folder = folders[pred].resolve()
            for item in manifest.get("inputs", []):
                path = Path(item["path"])
                if path.name not in by_file or path.resolve().parent != folder:
                    continue
                table, entry = by_file[path.name]
                if item["sha256"] != entry["sha256"]:
                    problems.append(
                        f"{study} read {pred}'s table {table!r} ({path.name}, sha256 {item['sha256'][:12]}) in "
                        f"{_run_label(manifest)}, but {pred} has since published a different {table!r} "
                        f"(sha256 {entry['sha256'][:12]}) in {_run_label(current)}: re-run "
                        f"`insats run {get_study(study).slug}` (or the pipeline) so the brief shows one chain"
                    )
    return problems


CHAIN_RUNS = ("pipeline", STUDY)  # runs that compute nothing themselves: shown only when they failed
FAILED = ("FAILED", "CRASHED")


def runs_shown(history: pd.DataFrame) -> pd.DataFrame:
    """The runs a brief lists: every run of a stage that computes (the studies, the register), and runs of the
    chain or of the brief itself only when they failed or crashed.

    A completed chain run is there through the stage runs it made; a chain run that found every stage unchanged
    made none and changed nothing, and the brief's own run is still running while it renders. So a re-run with
    nothing changed gives the same list, and the same brief (``insats history`` lists every run)."""
    if history.empty:
        return history
    chain = history["study"].isin(CHAIN_RUNS)
    failed = history["state"].astype(str).str.upper().isin(FAILED)
    return history[~chain | failed].reset_index(drop=True)


def _canonical(value: object) -> object:
    """A JSON-able, order-stable form of a brief's content (frames by their values, in order)."""
    if isinstance(value, pd.DataFrame):
        return json.loads(value.to_json(orient="split", date_format="iso", default_handler=str))
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_canonical(v) for v in value]
    return value if value is None or isinstance(value, str | int | float | bool) else str(value)


def brief_key(content: BriefContent, snapshot: dict[str, pd.DataFrame], record: dict) -> str:
    """sha256 of everything a brief is made from: its content (tables, the runs shown, manifests, changes,
    settings; not the time it is generated), the snapshot it keeps, its manifest's fields, the code that
    renders it (:func:`insats.fingerprint.function_fingerprint` of ``write_brief``), the renderer's texts and
    template files, and the library versions."""
    import insats.tasks.reporting as reporting

    shown = {f.name: getattr(content, f.name) for f in dataclasses.fields(content) if f.name != "generated_at"}
    material = {
        "content": _canonical(shown),
        "snapshot": _canonical(snapshot),
        "record": _canonical(record),
        "code": function_fingerprint(write_brief.fn),
        "texts": source_hash(Path(reporting.__file__).parent),
        "libraries": package_versions(),
    }
    return hashlib.sha256(json.dumps(material, sort_keys=True).encode()).hexdigest()


def _unchanged_brief(
    brief: Path, manifest: Path, key: str, snapshot: Path, frames: dict[str, pd.DataFrame]
) -> str | None:
    """The run that wrote the brief if it was made from what it would be made from now and its files are as
    written, else None."""
    try:
        written = json.loads(manifest.read_text(encoding="utf-8"))
        if written.get("brief_key") != key or written.get("brief_sha256") != sha256_file(brief):
            return None
        if any(written["snapshot"][name] != sha256_file(snapshot / f"{name}.parquet") for name in frames):
            return None
    except (OSError, ValueError, KeyError, TypeError):
        return None
    run = written.get("run", {})
    return f"{run.get('flow_run_name') or 'unnamed'} ({run.get('flow_run_id') or 'no id'})"


@task
def write_brief(
    config_path: str,
    quarter: str,
    lang: str,
    tables: dict[str, Path],
    optional: dict[str, Path],
    warnings: list[str] | None = None,
) -> dict[str, str]:
    """Render the brief for a quarter, keep its snapshot, and write a provenance manifest beside it."""
    config = load_config(config_path)
    since, until = quarter_bounds(quarter)
    studies = list(dict.fromkeys(s for s, _ in [*SOURCES.values(), *OPTIONAL_SOURCES.values()]))
    manifests = _manifests(config, studies)
    frames = {name: _for_brief(name, pd.read_parquet(path), config) for name, path in {**tables, **optional}.items()}
    history = runs_shown(read_history(since=since, until=until))
    # A study without validated outputs is None in the brief ("not yet available"); the snapshot keeps no estimates.
    effects = (
        pd.read_parquet(tables["effects"])
        if "effects" in tables
        else pd.DataFrame(columns=list(table_spec("outcome_evaluation", "effects").columns))
    )
    now = snapshot_tables(manifests, effects, config.seminar.disclosure_threshold)
    before = previous_snapshot(config.paths.reports, quarter)
    changes = None
    if before is not None:
        changes = {
            "inputs": input_changes(before[1]["inputs"], now["inputs"]),
            "tables": table_changes(before[1]["tables"], now["tables"]),
            "estimates": estimate_changes(before[1]["effects"], now["effects"]),
            "runs": run_summary(history),
        }
    extra = {
        "previous_quarter": before[0] if before else None,
        "changes": changes,
        "validation": validation_status(manifests),
    }
    content = BriefContent(
        quarter=quarter,
        generated_at=datetime.now(UTC),  # not part of brief_key: kept as written while the brief is unchanged
        history=history,
        manifests={
            study: {
                "inputs": m["inputs"],
                "config_hash": m["run"]["config_sha256"],
                "code_version": m["run"]["code_version"],
                "flow_run_id": m["run"]["flow_run_id"],
            }
            for study, m in manifests.items()
        },
        disclosure_threshold=config.seminar.disclosure_threshold,
        min_participants=config.intervention_mapping.min_participants,
        **frames,
        **extra,
    )
    folder = config.paths.reports / "seminar" / quarter
    target, manifest_path = folder / f"brief.{lang}.html", folder / f"brief.{lang}.manifest.json"
    record = {
        "brief": target.name,
        "quarter": quarter,
        "lang": lang,
        "compared_with": before[0] if before else None,
        "mixed_runs": list(warnings or []),
        "inputs": checksum_inputs([*tables.values(), *optional.values()]),
    }
    key = brief_key(content, now, record)
    unchanged = _unchanged_brief(target, manifest_path, key, folder / SNAPSHOT, now)
    if unchanged is not None:
        get_run_logger().info("brief %s unchanged since run %s: not rewritten", target, unchanged)
        return {"brief": str(target)}
    brief = write_text(render_brief(content, lang=lang), target)
    for name, df in now.items():
        write_parquet(df, folder / SNAPSHOT / f"{name}.parquet")
    snapshot = {name: sha256_file(folder / SNAPSHOT / f"{name}.parquet") for name in now}
    write_json(
        {**record, "brief_key": key, "brief_sha256": sha256_file(brief), "snapshot": snapshot,
         "run": run_record(config)},
        manifest_path,
    )  # fmt: skip
    return {"brief": str(brief)}


@flow(name="seminar-brief")
def seminar_brief(
    config_path: str, quarter: str | None = None, lang: str | None = None, allow_mixed_runs: bool = False
) -> dict[str, str]:
    """Collect each study's validated key tables and this quarter's runs into one self-contained HTML brief,
    and say what changed since the previous quarter's brief. Refuses (RuntimeError) when a study's outputs
    were computed from inputs its predecessor no longer publishes (:func:`mixed_runs`); with
    ``allow_mixed_runs`` it warns instead and records the mismatches in the brief's manifest."""
    config = load_config(config_path)
    folders = {study: published_dir(config, study) for study in study_names()}
    manifests = {
        study: json.loads((folder / MANIFEST).read_text(encoding="utf-8"))
        for study, folder in folders.items()
        if (folder / MANIFEST).is_file()
    }
    problems = mixed_runs(manifests, folders)
    if problems and not allow_mixed_runs:
        raise RuntimeError(
            "The published studies come from different runs:\n- " + "\n- ".join(problems)
            + "\n(use `insats seminar --allow-mixed-runs` to build the brief anyway, with this warning)"
        )  # fmt: skip
    for problem in problems:
        get_run_logger().warning("mixed runs: %s", problem)
    tables: dict[str, Path] = {}
    optional: dict[str, Path] = {}
    for name, (study, table) in {**SOURCES, **OPTIONAL_SOURCES}.items():
        try:
            (tables if name in SOURCES else optional)[name] = read_published(config, study, table)
        except (FileNotFoundError, KeyError):
            continue  # not published (yet): the brief says the study is not yet available or leaves the part out
    return write_brief(
        config_path, quarter or current_quarter(), lang or config.seminar.lang, tables, optional, problems
    )
