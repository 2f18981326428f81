"""The whole chain: the stages of the study registry in order, each reading only what the previous ones
published. A stage whose outputs fail their contract raises, which stops the chain before the next one."""

from __future__ import annotations

from typing import Any

from prefect import flow, get_run_logger

from insats.config import load_config
from insats.runtime import make_task_runner
from insats.studies import STUDIES
from insats.tasks.register.pseudonymise import check_pseudonym_key


@flow(name="pipeline")
def pipeline(
    config_path: str, task_runner: str = "thread", dask_address: str | None = None, lang: str | None = None
) -> dict[str, Any]:
    """Study 1 -> register ingestion -> study 2 -> study 3 (-> participant flow) -> seminar brief.

    A stage marked optional in the registry (the participant flow) runs only when its config section exists.
    """
    config = load_config(config_path)
    check_pseudonym_key(config)  # refuse a public or weak key before study 1 publishes anything
    runner = make_task_runner(task_runner, dask_address)
    results: dict[str, Any] = {}
    for study in STUDIES:
        if study.optional and any(getattr(config, s, None) is None for s in study.sections):
            get_run_logger().info("%s: no `%s:` section in the config - skipped", study.slug, study.sections[0])
            continue
        extra = {"lang": lang} if study.name == "seminar_brief" else {}
        results[study.name] = study.load_flow().with_options(task_runner=runner)(config_path, **extra)
    return results
