import pytest

from insats.config import ConfigError, load_config
from tests.helpers import ROOT


def test_demo_and_template_configs_load_with_paths_resolved_against_root():
    for name in ("demo.yaml", "site-template.yaml"):
        cfg = load_config(ROOT / "configs" / name)
        assert cfg.root == ROOT
        assert cfg.paths.processed == ROOT / "data" / "processed"
        assert all(p.is_absolute() for p in cfg.register.files.values())
        assert len(cfg.sha256) == 64


def test_invalid_config_names_the_file_and_the_field(tmp_path):
    text = (ROOT / "configs" / "demo.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "bad.yaml"
    bad.write_text(text.replace('first_month: "2021-01"', 'first_month: "2021-13"'), encoding="utf-8")
    with pytest.raises(ConfigError) as err:
        load_config(bad)
    assert "bad.yaml" in str(err.value) and "register.period.first_month" in str(err.value)


def test_unknown_setting_is_rejected(tmp_path):
    text = (ROOT / "configs" / "demo.yaml").read_text(encoding="utf-8")
    bad = tmp_path / "typo.yaml"
    bad.write_text(text.replace("min_participants:", "min_participant:"), encoding="utf-8")
    with pytest.raises(ConfigError, match="min_participant"):
        load_config(bad)


def test_missing_config_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="Cannot read config file"):
        load_config(tmp_path / "nope.yaml")


def test_section_hash_changes_only_with_its_section():
    cfg = load_config(ROOT / "configs" / "demo.yaml")
    before = (cfg.section_hash("employer_interviews"), cfg.section_hash("outcome_evaluation"))
    cfg.outcome_evaluation.caliper_sd = 0.1
    assert cfg.section_hash("employer_interviews") == before[0]
    assert cfg.section_hash("outcome_evaluation") != before[1]
