"""What a changed or broken input does to a chain that has run before."""

from __future__ import annotations

import json

import pandas as pd
import pyreadstat
import pytest

from tests.helpers.prefect_log import cached, recomputed
from tests.helpers.workspace import make_workspace

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def ran(chain, tmp_path_factory):
    main, _ = chain
    ws = make_workspace(tmp_path_factory.mktemp("changes"), "project", raw_from=main.raw)
    ws.cli("run", "pipeline")
    return ws


def test_changing_one_input_reruns_only_what_depends_on_it(ran):
    inventory = ran.raw / "mapping" / "interventions.csv"
    df = pd.read_csv(inventory, dtype=str, keep_default_na=False, encoding="utf-8")
    df.loc[df.index[0], "target_group"] = df.loc[df.index[0], "target_group"] + " – reviderad"
    df.to_csv(inventory, index=False, encoding="utf-8")
    proc = ran.cli("run", "pipeline")
    log = proc.stdout + proc.stderr
    for step in ("segment_interviews", "code_interviews", "profile_demand", "ingest_extract",
                 "participants_per_intervention"):  # fmt: skip
        assert step in cached(log), step
    assert "checked_inventory" in recomputed(log)
    # Study 3 re-reads the (re-published) candidates, but its panel and estimates did not change.
    for step in ("build_person_month_panel", "sequential_matching_sample", "effects_for_sample"):
        assert step in cached(log), step
    inventory_table = pd.read_parquet(ran.processed / "intervention_mapping" / "inventory.parquet")
    assert inventory_table["target_group"].str.endswith("– reviderad").any()


def test_broken_input_stops_the_chain_at_its_gate_and_keeps_earlier_outputs(ran):
    outcomes = ran.raw / "register" / "outcomes.sav"
    df, meta = pyreadstat.read_sav(outcomes)
    df.loc[df.index[:7], "sysselsatt"] = 2
    pyreadstat.write_sav(df, outcomes, column_labels=meta.column_names_to_labels)
    before = (ran.processed / "outcome_evaluation" / "manifest.json").read_bytes()

    proc = ran.cli("run", "pipeline", check=False)
    assert proc.returncode == 1
    first = proc.stderr.strip().splitlines()
    error = next(line for line in first if line.startswith("Error:"))
    assert "outcomes.sav" in error and "input.outcomes" in error
    assert "expect_column_values_to_be_in_set" in error and "'employed'" in error and "7 unexpected" in error
    assert "Traceback" not in proc.stderr
    # The failed study published nothing; what it published before is intact; no half-written folders.
    assert (ran.processed / "outcome_evaluation" / "manifest.json").read_bytes() == before
    leftovers = [
        p for p in ran.processed.rglob("*") if ".staging-" in p.name or ".old-" in p.name or p.suffix == ".tmp"
    ]
    assert leftovers == []
    history = json.loads(ran.cli("history", "--format", "json").stdout)
    failed = [r for r in history if r["state"] == "Failed"]
    assert {r["study"] for r in failed} == {"outcome_evaluation", "pipeline"}
    assert any("input.outcomes" in r["failure_reason"] for r in failed)


def test_outside_demo_mode_the_register_is_not_read_without_a_pseudonymisation_key(ran):
    site = ran.root / "configs" / "site.yaml"
    site.write_text(ran.config.read_text(encoding="utf-8").replace("mode: demo", "mode: site"), encoding="utf-8")
    proc = ran.cli("run", "intervention-mapping", config=site, check=False)
    assert proc.returncode == 1
    error = next(line for line in proc.stderr.splitlines() if line.startswith("Error:"))
    assert "INSATS_PSEUDONYM_KEY" in error


def test_a_cached_step_whose_outputs_were_deleted_is_recomputed(chain, tmp_path_factory):
    main, _ = chain
    ws = make_workspace(tmp_path_factory.mktemp("tamper"), "project", raw_from=main.raw)
    ws.cli("run", "employer-interviews")
    (ws.root / "data" / "interim" / "employer_interviews" / "segments.parquet").unlink()
    proc = ws.cli("run", "employer-interviews")
    log = proc.stdout + proc.stderr
    assert "segment_interviews: cached outputs are missing or changed on disk - recomputing" in log
    assert (ws.root / "data" / "interim" / "employer_interviews" / "segments.parquet").is_file()
    assert "code_interviews" in cached(log)  # same segments again, so coding is still cached
