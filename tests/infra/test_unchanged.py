"""The chain skips a study only when its published outputs are what its inputs, config and code would make."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from insats.config import load_config
from insats.flows import unchanged
from insats.flows.steps import declare_inputs, published_dir
from tests.helpers import ROOT

STUDY = "employer_interviews"
RUN = {"flow_run_id": "1b2c", "flow_run_name": "calm-otter"}


@pytest.fixture
def project(tmp_path: Path):
    """A config, two inputs (a file and a folder), a published folder, and a stamp for them."""
    shutil.copytree(ROOT / "configs", tmp_path / "configs")
    config = load_config(tmp_path / "configs" / "demo.yaml")
    codebook = tmp_path / "in" / "codebook.yaml"
    transcripts = tmp_path / "in" / "transcripts"
    transcripts.mkdir(parents=True)
    codebook.write_text("kod: Kommunikation på svenska\n", encoding="utf-8")
    (transcripts / "a.txt").write_text("Intervju med arbetsgivare i Örebro\n", encoding="utf-8")
    folder = published_dir(config, STUDY)
    (folder / "figures").mkdir(parents=True)
    (folder / "demand_profile.parquet").write_bytes(b"table")
    (folder / "figures" / "profile.png").write_bytes(b"png")
    (folder / "manifest.json").write_text("{}", encoding="utf-8")
    declare_inputs(config, STUDY, [codebook, transcripts])
    assert unchanged.write_stamp(config, STUDY, RUN) is not None
    return config, codebook, transcripts, folder


def test_a_stamped_study_with_nothing_changed_is_unchanged(project):
    config, *_ = project
    assert unchanged.unchanged_since(config, STUDY) == RUN


@pytest.mark.parametrize("change", ["input file", "file added to an input folder", "input removed"])
def test_a_changed_input_runs_the_study(project, change):
    config, codebook, transcripts, _ = project
    if change == "input file":
        codebook.write_text("kod: Kommunikation på engelska\n", encoding="utf-8")
    elif change == "file added to an input folder":
        (transcripts / "b.txt").write_text("Ny intervju\n", encoding="utf-8")
    else:
        codebook.unlink()
    assert unchanged.unchanged_since(config, STUDY) is None


@pytest.mark.parametrize("change", ["altered", "removed", "added"])
def test_a_changed_published_output_runs_the_study(project, change):
    config, _, _, folder = project
    if change == "altered":
        (folder / "figures" / "profile.png").write_bytes(b"other png")
    elif change == "removed":
        (folder / "demand_profile.parquet").unlink()
    else:
        (folder / "extra.parquet").write_bytes(b"x")
    assert unchanged.unchanged_since(config, STUDY) is None


def test_a_changed_config_runs_the_study(project):
    config, *_ = project
    text = config.source.read_text(encoding="utf-8")
    config.source.write_text(text + "\n# a comment is a change too\n", encoding="utf-8")
    assert unchanged.unchanged_since(load_config(config.source), STUDY) is None


def test_changed_code_runs_the_study(project, monkeypatch):
    config, *_ = project
    real = unchanged.function_fingerprint
    monkeypatch.setattr(unchanged, "project_tree", lambda: "a project file was edited")
    assert unchanged.unchanged_since(config, STUDY) == RUN  # an edit outside the study's code changes nothing
    stamp = json.loads((unchanged.work_dir(config, STUDY) / unchanged.STAMP).read_text(encoding="utf-8"))
    assert stamp["tree"] == "a project file was edited"  # the next check with these files skips the walk
    monkeypatch.setattr(unchanged, "project_tree", lambda: "a file of the study's code was edited")
    monkeypatch.setattr(unchanged, "function_fingerprint", lambda fn: real(fn) + "-edited")
    assert unchanged.unchanged_since(config, STUDY) is None


def test_with_the_project_files_as_stamped_the_code_is_not_walked_again(project, monkeypatch):
    config, *_ = project

    def walk(study: str) -> str:
        raise AssertionError("the project's files are unchanged: the stamp's fingerprint serves")

    monkeypatch.setattr(unchanged, "code_fingerprint", walk)
    assert unchanged.unchanged_since(config, STUDY) == RUN


def test_a_changed_contract_runs_the_study(project, monkeypatch, tmp_path):
    config, *_ = project
    import insats.validation

    schemas = tmp_path / "schemas"
    shutil.copytree(insats.validation.schemas_dir(), schemas)
    monkeypatch.setattr(insats.validation, "schemas_dir", lambda: schemas)
    assert unchanged.unchanged_since(config, STUDY) == RUN
    suite = next(schemas.glob(f"{STUDY}.*.json"))
    data = json.loads(suite.read_text(encoding="utf-8"))
    data.setdefault("meta", {})["edited"] = True
    suite.write_text(json.dumps(data), encoding="utf-8")
    assert unchanged.unchanged_since(config, STUDY) is None


def test_no_stamp_without_declared_inputs_or_outputs(project):
    config, _, _, folder = project
    shutil.rmtree(folder)
    assert unchanged.write_stamp(config, STUDY, RUN) is None
    assert unchanged.unchanged_since(config, STUDY) is None


def test_the_brief_lists_every_study_run_and_chain_or_brief_runs_only_when_they_failed():
    import pandas as pd

    from insats.flows.seminar_brief import runs_shown

    history = pd.DataFrame(
        {
            "flow_run_name": ["a", "b", "c", "d", "e", "f"],
            "study": ["pipeline", "pipeline", "seminar_brief", "register", "outcome_evaluation", "seminar_brief"],
            "state": ["Completed", "Failed", "Running", "Completed", "Crashed", "Crashed"],
        }
    )
    assert runs_shown(history)["flow_run_name"].tolist() == ["b", "d", "e", "f"]
    assert runs_shown(history.iloc[:0]).empty
