"""The quarterly feedback seminar (återföringsseminarium) brief, from validated outputs and the run history."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd
from prefect import flow, task

from flows.steps import MANIFEST, read_published, run_record
from insats.config import Config, load_config
from insats.history import current_quarter, quarter_bounds, read_history
from insats.provenance import checksum_inputs
from insats.storage import write_json, write_text
from tasks.reporting.brief import BriefContent, render_brief

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


@task
def write_brief(config_path: str, quarter: str, lang: str, tables: dict[str, Path]) -> dict[str, str]:
    """Render the brief for a quarter and write it with a provenance manifest beside it."""
    config = load_config(config_path)
    since, until = quarter_bounds(quarter)
    manifests = {}
    for study in dict.fromkeys(s for s, _ in SOURCES.values()):
        manifest = json.loads((config.study_dir(study) / MANIFEST).read_text(encoding="utf-8"))
        run = manifest["run"]
        manifests[study] = {
            "inputs": manifest["inputs"],
            "config_hash": run["config_sha256"],
            "code_version": run["code_version"],
            "flow_run_id": run["flow_run_id"],
        }
    content = BriefContent(
        quarter=quarter,
        generated_at=datetime.now(UTC),
        history=read_history(since=since, until=until),
        manifests=manifests,
        disclosure_threshold=config.seminar.disclosure_threshold,
        min_participants=config.intervention_mapping.min_participants,
        **{name: _for_brief(name, pd.read_parquet(path), config) for name, path in tables.items()},
    )
    folder = config.paths.reports / "seminar" / quarter
    brief = write_text(render_brief(content, lang=lang), folder / f"brief.{lang}.html")
    write_json(
        {
            "brief": brief.name,
            "quarter": quarter,
            "lang": lang,
            "inputs": checksum_inputs(tables.values()),
            "run": run_record(config),
        },
        folder / f"brief.{lang}.manifest.json",
    )
    return {"brief": str(brief)}


@flow(name="seminar-brief")
def seminar_brief(config_path: str, quarter: str | None = None, lang: str | None = None) -> dict[str, str]:
    """Collect each study's validated key tables and this quarter's runs into one self-contained HTML brief."""
    config = load_config(config_path)
    tables = {name: read_published(config, study, table) for name, (study, table) in SOURCES.items()}
    return write_brief(config_path, quarter or current_quarter(), lang or config.seminar.lang, tables)
