"""Publishing applies disclosure control once: the gate sees the unsuppressed tables, the files written to the
study's published folder are controlled (checked by a differencing attack on the files), the manifest records
it; the register stage (interim, not for release) is written unsuppressed and says so."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import pandas as pd
import pytest

from insats.catalog import study_tables
from insats.flows import steps
from tests.helpers.disclosure import differencing_attack, participant_frames, suite_rules

T = 5
RUN = {"flow_run_id": "", "flow_run_name": "test", "config_sha256": "x", "code_version": {}}


@pytest.fixture(scope="module")
def participant_tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, pd.DataFrame]]:
    return participant_frames(tmp_path_factory.mktemp("pdocs"))


@pytest.fixture()
def quiet(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setattr(steps, "get_run_logger", lambda: logging.getLogger("test"))
    monkeypatch.setenv("PREFECT_HOME", str(tmp_path / "prefect"))


def _write(frames: dict[str, pd.DataFrame], folder: Path) -> dict[str, Path]:
    folder.mkdir(parents=True, exist_ok=True)
    paths = {}
    for name, df in frames.items():
        paths[name] = folder / f"{name}.parquet"
        df.to_parquet(paths[name])
    return paths


def test_published_participant_flow_is_controlled(quiet: None, tmp_path: Path, participant_tables: dict) -> None:
    handed = participant_tables["handed"]
    specs = study_tables("participant_flow")
    target = tmp_path / "processed" / "participant_flow"
    published = steps._publish_study(
        "participant_flow",
        _write(handed, tmp_path / "work"),
        {name: specs[name].suite for name in handed},
        [],
        str(target),
        RUN,
        threshold=T,
    )
    manifest = json.loads((target / "manifest.json").read_text(encoding="utf-8"))
    control = manifest["disclosure"]
    assert control["applied"] and control["threshold"] == T and control["unprotected"] == []
    assert sum(control["secondary_cells"].values()) > 0
    files = {name: pd.read_parquet(path) for name, path in published.items()}
    counts, rules = suite_rules("participant_flow")
    assert differencing_attack(participant_tables["truth"], files, counts, rules) == {}
    for name, df in files.items():
        for col in counts[name]:
            shown = pd.to_numeric(df[col], errors="coerce")
            assert not ((shown >= 1) & (shown < T)).any(), f"{name}.{col}"
            assert (df.loc[shown.isna() & participant_tables["truth"][name][col].notna(), "suppressed"]).all()
    # the Swedish project name survives the writer
    assert "Vägen vidare" in set(files["measures"]["project"])


def test_register_stage_is_not_controlled(quiet: None, tmp_path: Path) -> None:
    """Interim tables carry no disclosure control; the manifest says why."""
    spells = pd.DataFrame(
        {"person_id": ["abcdefghijklmnop"], "intervention_id": ["I01"], "start_date": [pd.Timestamp("2024-01-01")],
         "end_date": [pd.Timestamp("2024-03-31")]}
    )  # fmt: skip
    suite = study_tables("register")["spells"].suite
    folder = tmp_path / "interim" / "register" / "published"
    published = steps._publish_study(
        "register", _write({"spells": spells}, tmp_path / "w"), {"spells": suite}, [], str(folder), RUN, threshold=T
    )
    manifest = json.loads((folder / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["disclosure"]["applied"] is False and "not for release" in manifest["disclosure"]["reason"]
    pd.testing.assert_frame_equal(pd.read_parquet(published["spells"]), spells, check_dtype=False)
