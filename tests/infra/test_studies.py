"""The study registry is the one list of stages: prefect.yaml, the CLI, the history and the chain follow it."""

from __future__ import annotations

import pytest
import yaml

from insats.studies import PIPELINE, STUDIES, flow_names, get_study
from tests.helpers import ROOT


def test_prefect_yaml_declares_exactly_the_registry() -> None:
    declared = yaml.safe_load((ROOT / "prefect.yaml").read_text(encoding="utf-8"))["deployments"]
    expected = [
        {"name": s.slug, "entrypoint": s.entrypoint, "description": s.description, "tags": list(s.tags)}
        for s in (*STUDIES, PIPELINE)
    ]
    got = [{k: d[k] for k in ("name", "entrypoint", "description", "tags")} for d in declared]
    assert got == expected


def test_every_stage_names_a_prefect_flow_with_its_slug() -> None:
    for study in (*STUDIES, PIPELINE):
        flow = study.load_flow()
        assert flow.name == study.slug, study.name
        assert "config_path" in flow.parameters.properties


def test_history_and_cli_read_the_registry() -> None:
    from insats.cli import Target
    from insats.history import FLOW_STUDIES

    assert flow_names() == FLOW_STUDIES
    assert {t.value for t in Target} >= {s.slug for s in STUDIES}


def test_lookup_accepts_both_spellings_and_names_the_known_ones() -> None:
    assert get_study("outcome-evaluation") is get_study("outcome_evaluation")
    assert get_study("seminar").name == "seminar_brief"
    with pytest.raises(KeyError, match="known: .*employer-interviews"):
        get_study("study-four")


def test_stages_read_only_earlier_stages() -> None:
    order = [s.name for s in STUDIES]
    for study in STUDIES:
        for upstream in study.reads:
            assert order.index(upstream) < order.index(study.name), (study.name, upstream)
