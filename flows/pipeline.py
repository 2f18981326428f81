"""The whole chain: each study reads only the validated outputs the previous one published."""

from __future__ import annotations

from prefect import flow

from insats.config import load_config
from insats.flows.employer_interviews import employer_interviews
from insats.flows.intervention_mapping import intervention_mapping
from insats.flows.outcome_evaluation import outcome_evaluation
from insats.flows.participant_flow import participant_flow
from insats.flows.seminar_brief import seminar_brief
from insats.runtime import make_task_runner

STUDY_FLOWS = {
    "employer-interviews": employer_interviews,
    "intervention-mapping": intervention_mapping,
    "outcome-evaluation": outcome_evaluation,
    "participant-flow": participant_flow,
    "seminar": seminar_brief,
}


@flow(name="pipeline")
def pipeline(
    config_path: str, task_runner: str = "thread", dask_address: str | None = None, lang: str | None = None
) -> dict[str, dict[str, str]]:
    """Employer interviews -> intervention mapping -> outcome evaluation (-> participant flow) -> seminar brief.

    A study whose outputs fail their contract raises, which stops the chain before the next study.
    """
    runner = make_task_runner(task_runner, dask_address)

    def on_runner(study_flow):  # noqa: ANN001, ANN202 - Prefect flows are untyped callables
        return study_flow.with_options(task_runner=runner)

    study1 = on_runner(employer_interviews)(config_path)
    study2 = on_runner(intervention_mapping)(config_path, demand_profile=study1["demand_profile"])
    study3 = on_runner(outcome_evaluation)(config_path, candidates=study2["candidates"])
    results = {"employer_interviews": study1, "intervention_mapping": study2, "outcome_evaluation": study3}
    if load_config(config_path).participant_flow is not None:  # a project's participant documentation, if any
        results["participant_flow"] = on_runner(participant_flow)(config_path)
    results["seminar"] = seminar_brief(config_path, lang=lang)
    return results
