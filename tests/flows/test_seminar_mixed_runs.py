"""The seminar refuses to combine studies from different runs: a study's manifest names a predecessor's table
whose checksum is not what that predecessor publishes now (two fake published folders, no chain run)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from insats.flows.seminar_brief import mixed_runs
from tests.helpers import ROOT


def _publish(folder: Path, study: str, run: str, tables: dict[str, str], inputs: list[dict]) -> dict:
    folder.mkdir(parents=True, exist_ok=True)
    manifest = {
        "study": study,
        "inputs": inputs,
        "run": {"flow_run_id": f"id-{run}", "flow_run_name": run, "created_at": "2026-11-30T10:00:00+00:00"},
        "tables": {name: {"file": f"{name}.parquet", "sha256": sha, "rows": 3} for name, sha in tables.items()},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return manifest


@pytest.fixture()
def folders(tmp_path: Path) -> dict[str, Path]:
    return {s: tmp_path / "processed" / s for s in ("intervention_mapping", "outcome_evaluation")}


def test_mismatched_input_names_both_studies_table_and_runs(folders: dict[str, Path]) -> None:
    mapping = _publish(folders["intervention_mapping"], "intervention_mapping", "brave-otter",
                       {"candidates": "b" * 64, "alignment": "c" * 64}, [])  # fmt: skip
    read = {"path": str(folders["intervention_mapping"] / "candidates.parquet"), "sha256": "a" * 64, "bytes": 10}
    outcome = _publish(folders["outcome_evaluation"], "outcome_evaluation", "calm-heron", {"effects": "d" * 64}, [read])
    problems = mixed_runs({"intervention_mapping": mapping, "outcome_evaluation": outcome}, folders)
    assert len(problems) == 1
    msg = problems[0]
    for part in ("outcome_evaluation", "intervention_mapping", "'candidates'", "calm-heron", "brave-otter",
                 "aaaaaaaaaaaa", "bbbbbbbbbbbb", "insats run outcome-evaluation"):  # fmt: skip
        assert part in msg, part


def test_same_run_passes(folders: dict[str, Path]) -> None:
    mapping = _publish(
        folders["intervention_mapping"], "intervention_mapping", "brave-otter", {"candidates": "b" * 64}, []
    )
    read = {"path": str(folders["intervention_mapping"] / "candidates.parquet"), "sha256": "b" * 64, "bytes": 10}
    outcome = _publish(folders["outcome_evaluation"], "outcome_evaluation", "calm-heron", {"effects": "d" * 64}, [read])
    assert mixed_runs({"intervention_mapping": mapping, "outcome_evaluation": outcome}, folders) == []
    # an input from elsewhere (an explicit upstream path) is not compared
    elsewhere = {"path": "/somewhere/else/candidates.parquet", "sha256": "e" * 64, "bytes": 10}
    outcome["inputs"] = [elsewhere]
    assert mixed_runs({"intervention_mapping": mapping, "outcome_evaluation": outcome}, folders) == []


def test_seminar_flow_refuses_before_writing_anything(tmp_path: Path) -> None:
    """The flow itself refuses, naming the runs and the flag, before anything is written."""
    from insats.config import load_config
    from insats.flows import seminar_brief as sb
    from insats.flows.steps import published_dir

    cfg_text = (ROOT / "configs" / "demo.yaml").read_text(encoding="utf-8")
    config_path = tmp_path / "demo.yaml"
    config_path.write_text(cfg_text, encoding="utf-8")
    config = load_config(config_path)
    folders = {s: published_dir(config, s) for s in ("intervention_mapping", "outcome_evaluation")}
    _publish(folders["intervention_mapping"], "intervention_mapping", "brave-otter", {"candidates": "b" * 64}, [])
    read = {"path": str(folders["intervention_mapping"] / "candidates.parquet"), "sha256": "a" * 64, "bytes": 10}
    _publish(folders["outcome_evaluation"], "outcome_evaluation", "calm-heron", {"effects": "d" * 64}, [read])
    with pytest.raises(RuntimeError, match="different runs") as err:
        sb.seminar_brief.fn(str(config_path), quarter="2026Q4", lang="en")
    assert "brave-otter" in str(err.value) and "--allow-mixed-runs" in str(err.value)
    assert not (config.paths.reports / "seminar" / "2026Q4").exists()
