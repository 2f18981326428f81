"""Study 1's flow through Prefect with employer_interviews.supervised_coding on (supervised_mode per_code), on a
tiny config of 5 synthetic interviews (4 human-coded by a turn sheet): the flow hands the option to the
supervised layer, the published coded segments carry classifier codes on the uncoded interview only, and the
tables pass their contracts. (The layer itself is tested in tests/tasks/interviews/test_classifier.py.)"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest
import yaml

from tests.helpers import ROOT
from tests.tasks.interviews.supervised_data import write_study


@pytest.mark.slow  # needs the Prefect test server, as every flow test here (the flow itself: ~28 s on a loaded VM)
def test_flow_with_supervised_coding_publishes_classifier_codes(prefect_harness: None, tmp_path: Path) -> None:
    from insats.flows.employer_interviews import employer_interviews

    made = write_study(tmp_path / "interviews", n=5, n_coded=4)
    (tmp_path / "configs").mkdir()
    data = yaml.safe_load((ROOT / "configs" / "demo.yaml").read_text("utf-8"))
    data["employer_interviews"] = {
        "transcripts": str(made["transcripts"]), "employers": str(made["employers"]),
        "codebook": str(made["codebook"]), "human_coding": str(made["turns"]), "demand_parent": "KOMP",
        "supervised_coding": True, "supervised_mode": "per_code",
    }  # fmt: skip
    config = tmp_path / "configs" / "demo.yaml"
    config.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    outputs = employer_interviews(str(config))
    coded = pd.read_parquet(outputs["coded_segments"])
    added = coded[coded["matched"].str.startswith("classifier p=")]
    assert set(added["interview_id"]) == {"E05"}, "only the interview no human coded gets classifier codes"
    found = set(added.loc[added["code_id"] == "KOMP.ÖDMJUK", "segment_id"])
    assert found and found <= made["planted"]["E05"], "the code without keywords, learnt from the sheet"
    assert not coded.duplicated(["segment_id", "code_id"]).any()
    assert set(coded["stance"]) <= {"krav", "neutral", "inte_krav"}
