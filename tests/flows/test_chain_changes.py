"""What new, changed or broken inputs do to the session's chain, in the order a project lives it: a quarter's
brief, a revised inventory, a new payments extract and the next quarter's brief, a tampered output, a broken
extract. These tests change the session chain's inputs, so conftest runs them after every other test."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from insats.tasks.identity import find_identity_numbers
from tests.helpers.prefect_log import cached, recomputed, task_states

pytestmark = [pytest.mark.slow, pytest.mark.mutates_chain]


@pytest.fixture(scope="module")
def ws(chain):
    return chain[0]


def test_first_quarter_brief(ws):
    proc = ws.cli("seminar", "--quarter", "2026Q3")
    assert Path(re.search(r"Seminar brief: (\S+)", proc.stdout).group(1)).is_file()


def test_changing_one_input_reruns_only_what_depends_on_it(ws):
    inventory = ws.raw / "mapping" / "interventions.csv"
    df = pd.read_csv(inventory, dtype=str, keep_default_na=False, encoding="utf-8")
    df.loc[df.index[0], "target_group"] = df.loc[df.index[0], "target_group"] + " – reviderad"
    df.to_csv(inventory, index=False, encoding="utf-8")
    proc = ws.cli("run", "pipeline")
    log = proc.stdout + proc.stderr
    # Study 1 and the register read nothing that changed: the chain does not enter them (flows/unchanged.py).
    for slug in ("employer-interviews", "register"):
        assert f"study {slug} unchanged since run" in log, slug
    assert not {"segment_interviews", "ingest_extract"} & task_states(log).keys()
    assert "participants_per_intervention" in cached(log)
    assert "checked_inventory" in recomputed(log)
    # Study 3 re-reads the (re-published) candidates, but its panel and estimates did not change.
    for step in ("build_person_month_panel", "sequential_matching_sample", "effects_for_sample"):
        assert step in cached(log), step
    inventory_table = pd.read_parquet(ws.processed / "intervention_mapping" / "inventory.parquet")
    assert inventory_table["target_group"].str.endswith("– reviderad").any()


def test_the_next_quarter_brief_shows_the_differences_against_the_first(ws):
    effects_q3 = pd.read_parquet(ws.processed / "outcome_evaluation" / "effects.parquet")
    payments = ws.raw / "register" / "assistance.sav"
    frame, meta = pyreadstat.read_sav(payments)
    pyreadstat.write_sav(frame.drop(index=frame.index[::50]), payments, column_labels=meta.column_names_to_labels)
    ws.cli("run", "pipeline")  # every 50th payment withdrawn: study 3 is recomputed
    proc = ws.cli("seminar", "--quarter", "2026Q4")
    brief = Path(re.search(r"Seminar brief: (\S+)", proc.stdout).group(1))
    html = brief.read_text(encoding="utf-8")
    manifest = json.loads(brief.with_name("brief.en.manifest.json").read_text(encoding="utf-8"))
    assert manifest["compared_with"] == "2026Q3"
    assert "2026Q3" in html and "interventions.csv" in html
    effects_q4 = pd.read_parquet(ws.processed / "outcome_evaluation" / "effects.parquet")
    assert not effects_q4["att"].equals(effects_q3["att"])  # the new data moved the estimates
    headline = effects_q4.query("outcome == 'self_sufficient' and horizon_months == 12").iloc[0]
    assert f"{headline['att']:.3f}" in html  # the new estimate is shown beside the old one
    assert not find_identity_numbers(html)


def test_a_cached_step_whose_outputs_were_deleted_is_recomputed(ws):
    segments = ws.root / "data" / "interim" / "employer_interviews" / "segments.parquet"
    segments.unlink()
    proc = ws.cli("run", "employer-interviews")
    log = proc.stdout + proc.stderr
    assert "segment_interviews: cached outputs are missing or changed on disk - recomputing" in log
    assert segments.is_file()
    assert "code_interviews" in cached(log)  # same segments again, so coding is still cached


def test_outside_demo_mode_the_register_is_not_read_without_a_pseudonymisation_key(ws):
    site = ws.root / "configs" / "site.yaml"
    site.write_text(ws.config.read_text(encoding="utf-8").replace("mode: demo", "mode: site"), encoding="utf-8")
    proc = ws.cli("run", "intervention-mapping", config=site, check=False)
    assert proc.returncode == 1
    error = next(line for line in proc.stderr.splitlines() if line.startswith("Error:"))
    assert "INSATS_PSEUDONYM_KEY" in error


def test_broken_input_stops_the_chain_at_its_gate_and_keeps_earlier_outputs(ws):
    outcomes = ws.raw / "register" / "outcomes.sav"
    df, meta = pyreadstat.read_sav(outcomes)
    df.loc[df.index[:7], "sysselsatt"] = 2
    pyreadstat.write_sav(df, outcomes, column_labels=meta.column_names_to_labels)
    before = (ws.processed / "outcome_evaluation" / "manifest.json").read_bytes()

    proc = ws.cli("run", "pipeline", check=False)
    assert proc.returncode == 1
    error = next(line for line in proc.stderr.strip().splitlines() if line.startswith("Error:"))
    assert "outcomes.sav" in error and "input.outcomes" in error
    assert "expect_column_values_to_be_in_set" in proc.stderr and "'employed'" in proc.stderr
    assert "7 unexpected" in proc.stderr
    assert "Traceback" not in proc.stderr
    # The failed stage published nothing; what was published before is intact; no half-written folders.
    assert (ws.processed / "outcome_evaluation" / "manifest.json").read_bytes() == before
    leftovers = [p for p in ws.processed.rglob("*") if ".staging-" in p.name or ".old-" in p.name or p.suffix == ".tmp"]
    assert leftovers == []
    history = json.loads(ws.cli("history", "--format", "json").stdout)
    failed = [r for r in history if r["state"] == "Failed"]
    assert {r["study"] for r in failed} == {"register", "pipeline"}
    assert any("input.outcomes" in r["failure_reason"] for r in failed)
