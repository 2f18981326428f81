"""Study 1's flow through Prefect (slow) with employer_interviews.supervised_coding on: the demo's human coding
trains the classifiers, the published coded segments carry their codes on segments no human coded, and the
tables still pass their contracts."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from insats.demo.interviews import make_interviews, write_interviews
from tests.helpers import ROOT


@pytest.mark.slow
def test_flow_with_supervised_coding_publishes_classifier_codes(prefect_harness: None, tmp_path: Path) -> None:
    from insats.flows.employer_interviews import employer_interviews

    (tmp_path / "configs").mkdir()
    data = yaml.safe_load((ROOT / "configs" / "demo.yaml").read_text("utf-8"))
    data["employer_interviews"]["supervised_coding"] = True
    config = tmp_path / "configs" / "demo.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    write_interviews(make_interviews(), tmp_path / "data" / "raw" / "demo" / "interviews")
    outputs = employer_interviews(str(config))
    coded = pd.read_parquet(outputs["coded_segments"])
    labels = pd.read_parquet(tmp_path / "data" / "interim" / "employer_interviews" / "labels.parquet")
    human = set(labels.loc[labels["coder"] != "auto", "segment_id"])
    added = coded[coded["matched"].str.startswith("classifier p=")]
    assert len(added) > 0 and not set(added["segment_id"]) & human
    assert not coded.duplicated(["segment_id", "code_id"]).any()
    assert set(coded["stance"]) <= {"krav", "neutral", "inte_krav"}
