"""Each study needs only its own config sections; a missing one is a one-line error naming it."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from insats.config import ConfigError, load_config
from insats.flows.steps import load_study_config
from tests.helpers import ROOT


def _only(tmp_path: Path, *sections: str) -> Path:
    data = yaml.safe_load((ROOT / "configs" / "demo.yaml").read_text(encoding="utf-8"))
    keep = {"project", "mode", "root", "paths", "seminar", *sections}
    path = tmp_path / "site.yaml"
    path.write_text(yaml.safe_dump({k: v for k, v in data.items() if k in keep}, allow_unicode=True), encoding="utf-8")
    return path


def test_participant_flow_alone_needs_no_register_or_interviews(tmp_path: Path) -> None:
    config = load_study_config(_only(tmp_path, "participant_flow"), "participant_flow")
    assert config.register is None and config.employer_interviews is None  # not BaseModel.register


def test_missing_section_is_named_in_one_line(tmp_path: Path) -> None:
    path = _only(tmp_path, "participant_flow")
    with pytest.raises(ConfigError) as err:
        load_study_config(path, "outcome_evaluation")
    message = str(err.value)
    assert "\n" not in message
    assert "`outcome_evaluation:`" in message and "`register:`" in message and "outcome-evaluation" in message


def test_config_is_parsed_once_per_file_version(tmp_path: Path) -> None:
    path = _only(tmp_path, "participant_flow")
    first, second = load_config(path), load_config(path)
    assert first is not second and first == second  # a copy each time, from one parse
    text = path.read_text(encoding="utf-8").replace("lang: en", "lang: sv")
    path.write_text(text + "\n", encoding="utf-8")
    assert load_config(path).seminar.lang == "sv"
