"""The whole chain: the stages of the study registry in order, each reading only what the previous ones
published. A stage whose outputs fail their contract raises, which stops the chain before the next one.

A stage whose published outputs are what its inputs, config and code would produce again is not entered at all
(``flows/unchanged.py``): the chain logs "study X unchanged since run R, skipped" and lists the skipped stages in
a table artifact of its own run (key ``pipeline-unchanged``), so the run history still says what was checked.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from prefect import flow, get_client, get_run_logger
from prefect.artifacts import create_table_artifact

from insats.config import Config, load_config
from insats.flows.steps import published_dir, read_manifest
from insats.flows.unchanged import unchanged_since, write_stamp
from insats.runtime import make_task_runner
from insats.studies import STUDIES
from insats.tasks.register.pseudonymise import check_pseudonym_key

BRIEF = "seminar_brief"  # reads the run history, so it always runs; it rewrites the brief only if it changed


def _published_tables(config: Config, study: str) -> dict[str, Path]:
    """What a skipped study's flow would have returned: its published tables, from its manifest."""
    folder = published_dir(config, study)
    return {name: folder / entry["file"] for name, entry in read_manifest(config, study)["tables"].items()}


def _run_label(run: dict[str, Any]) -> str:
    return f"{run.get('flow_run_name') or 'unnamed'} ({run.get('flow_run_id') or 'no id'})"


@flow(name="pipeline")
def pipeline(
    config_path: str, task_runner: str = "thread", dask_address: str | None = None, lang: str | None = None
) -> dict[str, Any]:
    """Study 1 -> register ingestion -> study 2 -> study 3 (-> participant flow) -> seminar brief.

    A stage marked optional in the registry (the participant flow) runs only when its config section exists.
    """
    config = load_config(config_path)
    check_pseudonym_key(config)  # refuse a public or weak key before study 1 publishes anything
    logger = get_run_logger()
    runner = make_task_runner(task_runner, dask_address)
    results: dict[str, Any] = {}
    skipped: list[dict[str, Any]] = []
    for study in STUDIES:
        if study.optional and any(getattr(config, s, None) is None for s in study.sections):
            logger.info("%s: no `%s:` section in the config - skipped", study.slug, study.sections[0])
            continue
        if study.name != BRIEF and (run := unchanged_since(config, study.name)) is not None:
            logger.info("study %s unchanged since run %s, skipped", study.slug, _run_label(run))
            results[study.name] = _published_tables(config, study.name)
            skipped.append({"study": study.name, "unchanged_since_run": run.get("flow_run_name"), **run})
            continue
        extra = {"lang": lang} if study.name == BRIEF else {}
        state = study.load_flow().with_options(task_runner=runner)(config_path, **extra, return_state=True)
        results[study.name] = state.result()  # raises the stage's own error if it failed
        if study.name != BRIEF:
            run_id = state.state_details.flow_run_id
            with get_client(sync_client=True) as client:
                name = client.read_flow_run(run_id).name
            write_stamp(config, study.name, {"flow_run_id": str(run_id), "flow_run_name": name})
    if skipped:
        create_table_artifact(
            table=skipped,
            key="pipeline-unchanged",
            description="Stages this chain run did not enter: inputs, config, contracts and code as in the named run",
        )
    return results
