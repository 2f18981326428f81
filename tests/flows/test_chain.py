"""The whole chain through the real CLI and Prefect's embedded API, on the default demo data."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pytest

from insats.provenance import sha256_file
from insats.tasks.identity import find_identity_numbers
from tests.helpers import ROOT
from tests.helpers.prefect_log import task_states

pytestmark = pytest.mark.slow

STUDIES = ("employer_interviews", "intervention_mapping", "outcome_evaluation", "participant_flow")


def _truth(ws) -> dict:
    return json.loads((ws.raw / "truth.json").read_text(encoding="utf-8"))


def test_demo_prints_where_outputs_and_brief_are(chain):
    ws, proc = chain
    brief = Path(re.search(r"Seminar brief: (\S+)", proc.stdout).group(1))
    assert brief.is_file() and brief.is_relative_to(ws.root / "reports")
    html = brief.read_text(encoding="utf-8")
    assert "<img" in html and "data:image/png;base64," in html
    for study in ("employer_interviews", "intervention_mapping", "outcome_evaluation"):
        manifest = json.loads((ws.processed / study / "manifest.json").read_text(encoding="utf-8"))
        assert manifest["run"]["flow_run_id"] and manifest["run"]["config_sha256"]
        assert manifest["run"]["code_version"]["package"]
        assert all(len(i["sha256"]) == 64 for i in manifest["inputs"])
        for entry in manifest["tables"].values():
            assert sha256_file(ws.processed / study / entry["file"]) == entry["sha256"]


def test_planted_top_competency_tops_the_demand_profile(chain):
    ws, _ = chain
    profile = pd.read_parquet(ws.processed / "employer_interviews" / "demand_profile.parquet")
    top = profile.sort_values("rank").iloc[0]["code_id"]
    assert top == _truth(ws)["employer_interviews"]["top_competency"]


def test_planted_effect_lies_in_the_ci_and_matching_balances(chain):
    ws, _ = chain
    truth = _truth(ws)["outcome_evaluation"]
    effects = pd.read_parquet(ws.processed / "outcome_evaluation" / "effects.parquet")
    main = effects[
        (effects["estimator"] == "psm_nn1_caliper")
        & (effects["outcome"] == "self_sufficient")
        & (effects["horizon_months"] == 12)
    ]
    row = main.set_index("intervention_id").loc[truth["planted_intervention"]]
    assert row["ci_low"] <= truth["true_att_self_sufficiency_12m"] <= row["ci_high"]
    assert row["ci_high"] - row["ci_low"] < 0.25  # informative, not a CI that covers everything
    balance = pd.read_parquet(ws.processed / "outcome_evaluation" / "balance.parquet")
    assert (balance["smd_after"].abs() < 0.1).all(), balance[["covariate", "smd_before", "smd_after"]]


def test_no_identity_number_leaves_ingestion(chain):
    ws, _ = chain
    scanned = 0
    for folder in (ws.root / "data" / "processed", ws.root / "data" / "interim", ws.root / "reports"):
        for path in folder.rglob("*"):
            if not path.is_file():
                continue
            scanned += 1
            if path.suffix == ".parquet":
                df = pd.read_parquet(path)
                text = df.astype(str).to_csv(index=False)
            else:
                text = path.read_bytes().decode("utf-8", errors="replace")
            assert not find_identity_numbers(text), f"identity number in {path}"
    assert scanned > 10


def test_raw_inputs_are_checksummed_and_untouched(chain):
    ws, _ = chain
    # The register stage read the raw extracts; study 3 read what the register stage published.
    register = ws.root / "data" / "interim" / "register" / "published"
    manifest = json.loads((register / "manifest.json").read_text(encoding="utf-8"))
    recorded = {Path(i["path"]).name: i["sha256"] for i in manifest["inputs"] if "raw" in i["path"]}
    assert {"persons.sav", "assistance.sav", "spells.sav", "outcomes.sav"} <= set(recorded)
    for name, digest in recorded.items():
        assert sha256_file(ws.raw / "register" / name) == digest
    study3 = json.loads((ws.processed / "outcome_evaluation" / "manifest.json").read_text(encoding="utf-8"))
    read = {Path(i["path"]).name: i["sha256"] for i in study3["inputs"]}
    for kind in ("persons", "assistance", "spells", "outcomes"):
        assert read[f"{kind}.parquet"] == manifest["tables"][kind]["sha256"]


def test_notebook_executes_on_the_demo_outputs(chain, monkeypatch):
    import nbformat
    from nbclient import NotebookClient

    ws, _ = chain
    monkeypatch.setenv("INSATS_CONFIG", str(ws.config))
    nb = nbformat.read(ROOT / "notebooks" / "demo_outputs.ipynb", as_version=4)
    NotebookClient(
        nb, timeout=300, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "notebooks")}}
    ).execute()
    images = [
        o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", []) if "image/png" in o.get("data", {})
    ]
    assert len(images) >= 2


def test_second_run_skips_every_unchanged_study_and_history_lists_the_runs(chain):
    ws, proc = chain
    before = {s: (ws.processed / s / "manifest.json").read_bytes() for s in STUDIES}
    brief = Path(re.search(r"Seminar brief: (\S+)", proc.stdout).group(1))
    brief_bytes, brief_mtime = brief.read_bytes(), brief.stat().st_mtime_ns
    proc = ws.cli("run", "pipeline")
    log = proc.stdout + proc.stderr
    # Every study's inputs, config, contracts and code are as its published outputs were made from: the chain
    # enters no study flow, so no node runs at all, cached or not.
    for slug in ("employer-interviews", "register", "intervention-mapping", "outcome-evaluation", "participant-flow"):
        assert re.search(rf"study {slug} unchanged since run \S+ \([0-9a-f-]+\), skipped", log), slug
    assert task_states(log).keys() == {"write_brief"}, sorted(task_states(log))
    # The brief shows the same tables and runs (this run made no study run), so it is not rewritten.
    assert "unchanged since run" in log and "not rewritten" in log
    assert (brief.read_bytes(), brief.stat().st_mtime_ns) == (brief_bytes, brief_mtime)
    assert before == {s: (ws.processed / s / "manifest.json").read_bytes() for s in STUDIES}

    history = json.loads(ws.cli("history", "--format", "json").stdout)
    studies = [r["study"] for r in history]
    # Both chain runs are recorded; the second one's artifact names the studies it found unchanged.
    assert studies.count("pipeline") == 2 and studies.count("outcome_evaluation") == 1
    assert "pipeline-unchanged" in next(r for r in history if r["study"] == "pipeline")["outputs"]
    assert all(r["state"] == "Completed" for r in history)
    evaluation = next(r for r in history if r["study"] == "outcome_evaluation")
    register = next(r for r in history if r["study"] == "register")
    # The register stage reads the raw extracts; study 3 reads only what the register published.
    assert register["config_hash"] and "persons.sav=" in register["input_checksums"]
    assert "register/published/persons.parquet=" in evaluation["input_checksums"]
    assert ".sav=" not in evaluation["input_checksums"]
    assert (
        "employer-interviews-demand-profile"
        in next(r for r in history if r["study"] == "employer_interviews")["outputs"]
    )  # each study's key table is a Prefect artifact
    assert "No flow runs recorded since 2999-01-01" in ws.cli("history", "--since", "2999-01-01").stdout
    table = ws.cli("history").stdout
    assert "outcome_evaluation" in table and "Completed" in table


def test_brief_renders_in_swedish(chain):
    ws, _ = chain
    proc = ws.cli("run", "seminar", "--lang", "sv")
    brief = Path(re.search(r"seminar\.brief: (\S+)", proc.stdout).group(1))
    html = brief.read_text(encoding="utf-8")
    assert brief.name == "brief.sv.html" and 'lang="sv"' in html
    assert "återföringsseminarium" in html.lower() and "egenförsörjning" in html.lower()
    assert re.search(r"0,\d{2,3}", html)  # decimal comma
    assert not find_identity_numbers(html)


def test_event_study_on_matched_pairs_has_flat_pre_trends_and_the_planted_drop(chain):
    ws, _ = chain
    events = pd.read_parquet(ws.processed / "outcome_evaluation" / "event_study.parquet")
    matched = events[events["design"] == "matched_pairs"].set_index("rel_month")
    assert matched.loc[-12:-2, "att"].abs().mean() < 0.02  # matching on the history removes pre-trends
    assert matched.loc[12, "ci_high"] < 0  # starters leave assistance sooner than their matched controls
    cox = pd.read_parquet(ws.processed / "outcome_evaluation" / "cox.parquet").set_index("term")
    assert cox.loc["treated", "ci_low"] > 1  # and become self-sufficient at a higher rate
    assert (ws.processed / "outcome_evaluation" / "figures" / "event_study_INS01.png").is_file()


def test_focus_groups_and_survey_answers_are_coded_like_the_interviews(chain):
    ws, _ = chain
    truth = _truth(ws)["employer_interviews"]
    coded = pd.read_parquet(ws.processed / "employer_interviews" / "other_coding.parquet")
    survey = coded[coded["source"] == "survey"].groupby("interview_id")["code_id"].apply(set).to_dict()
    for respondent, answers in truth["survey"]["codes"].items():
        assert survey.get(respondent, set()) == {c for codes in answers.values() for c in codes}, respondent
    focus = coded[coded["source"] == "focus_group"].groupby("speaker")["code_id"].apply(set).to_dict()
    for speaker, codes in truth["focus_group"]["codes_by_speaker"].items():
        assert focus.get(speaker, set()) == set(codes), speaker
