"""The study registry: the one list of the chain's stages, in the order they run.

The CLI (``insats run``), the flow-run history, ``prefect.yaml`` (checked by a test), the pipeline flow and the
seminar brief all read this list; nothing else names the studies.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any, Literal


@dataclass(frozen=True)
class Study:
    """One stage of the chain.

    ``name`` is the Python/folder/suite name (``outcome_evaluation``); ``slug`` the flow and CLI name
    (``outcome-evaluation``). ``sections`` are the config sections the stage cannot run without; ``reads`` the
    stages whose published outputs it reads. ``key_table`` is attached to each run as a Prefect artifact.
    ``published`` says where its validated outputs go: ``processed`` (for release, disclosure-controlled) or
    ``interim`` (pseudonymised microdata, never released).
    """

    name: str
    title: str
    description: str
    flow: str
    sections: tuple[str, ...]
    reads: tuple[str, ...] = ()
    key_table: str | None = None
    published: Literal["processed", "interim"] = "processed"
    optional: bool = False  # the chain runs it only when its config section is present
    tags: tuple[str, ...] = ()  # Prefect deployment tags (prefect.yaml)

    @property
    def slug(self) -> str:
        return self.name.replace("_", "-")

    @property
    def entrypoint(self) -> str:
        """``flows/<module>.py:<function>`` as prefect.yaml names it."""
        module, _, function = self.flow.partition(":")
        return f"flows/{module.rpartition('.')[2]}.py:{function}"

    def load_flow(self) -> Any:
        module, _, function = self.flow.partition(":")
        return getattr(importlib.import_module(module), function)


STUDIES: tuple[Study, ...] = (
    Study(
        name="employer_interviews",
        tags=("insats", "study-1"),
        title="Study 1: employer interviews",
        description="Study 1: code employer interviews into the employer demand profile",
        flow="insats.flows.employer_interviews:employer_interviews",
        sections=("employer_interviews",),
        key_table="demand_profile",
    ),
    Study(
        name="register",
        tags=("insats", "register"),
        title="Register ingestion",
        description="Validate and pseudonymise the register extracts (shared by studies 2 and 3)",
        flow="insats.flows.ingestion:register",
        sections=("register",),
        published="interim",
    ),
    Study(
        name="intervention_mapping",
        tags=("insats", "study-2"),
        title="Study 2: intervention mapping",
        description="Study 2: inventory, alignment with employer demand, evaluation candidates",
        flow="insats.flows.intervention_mapping:intervention_mapping",
        sections=("intervention_mapping", "register"),
        reads=("employer_interviews", "register"),
        key_table="candidates",
    ),
    Study(
        name="outcome_evaluation",
        tags=("insats", "study-3"),
        title="Study 3: outcome evaluation",
        description="Study 3: effects of interventions on self-sufficiency (register data)",
        flow="insats.flows.outcome_evaluation:outcome_evaluation",
        sections=("outcome_evaluation", "register"),
        reads=("intervention_mapping", "register"),
        key_table="effects",
    ),
    Study(
        name="participant_flow",
        tags=("insats", "study-3"),
        title="Participant flow",
        description="Study 3: step progression and goal attainment from participant documentation",
        flow="insats.flows.participant_flow:participant_flow",
        sections=("participant_flow",),
        key_table="goal_attainment",
        optional=True,
    ),
    Study(
        name="seminar_brief",
        tags=("insats", "seminar"),
        title="Seminar brief",
        description="The quarterly feedback seminar brief (återföringsseminarium)",
        flow="insats.flows.seminar_brief:seminar_brief",
        sections=(),
        published="processed",
    ),
)
PIPELINE = Study(
    name="pipeline",
    tags=("insats", "chain"),
    title="The whole chain",
    description="The whole chain: study 1 -> register -> study 2 -> study 3 (-> participant flow) -> brief",
    flow="insats.flows.pipeline:pipeline",
    sections=(),
)
_ALIASES = {"seminar": "seminar_brief", "ingestion": "register"}


def get_study(name: str) -> Study:
    """The stage called ``name`` (``outcome_evaluation`` or ``outcome-evaluation``; ``pipeline`` for the chain)."""
    key = name.strip().replace("-", "_")
    key = _ALIASES.get(key, key)
    for study in (*STUDIES, PIPELINE):
        if study.name == key:
            return study
    known = ", ".join(s.slug for s in (*STUDIES, PIPELINE))
    raise KeyError(f"unknown study {name!r} (known: {known})")


def study_names() -> list[str]:
    return [s.name for s in STUDIES]


def flow_names() -> dict[str, str]:
    """Prefect flow name -> study name, for every stage and the chain (what the history reads)."""
    return {s.slug: s.name for s in (*STUDIES, PIPELINE)}
