"""Two quarters: the second brief says what changed since the first (new data, changed estimates, runs)."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from insats.tasks.identity import find_identity_numbers
from tests.helpers.workspace import make_workspace

pytestmark = pytest.mark.slow


def test_the_second_quarter_brief_shows_the_differences_against_the_first(chain, tmp_path_factory):
    main, _ = chain
    ws = make_workspace(tmp_path_factory.mktemp("quarters"), "project", raw_from=main.raw)
    ws.cli("run", "pipeline")
    ws.cli("seminar", "--quarter", "2026Q3")
    effects_q3 = pd.read_parquet(ws.processed / "outcome_evaluation" / "effects.parquet")

    # The second quarter's delivery: a revised inventory and a payments extract with late corrections.
    inventory = ws.raw / "mapping" / "interventions.csv"
    df = pd.read_csv(inventory, dtype=str, keep_default_na=False, encoding="utf-8")
    df.loc[df.index[-1], "target_group"] += " (reviderad)"
    df.to_csv(inventory, index=False, encoding="utf-8")
    payments = ws.raw / "register" / "assistance.sav"
    frame, meta = pyreadstat.read_sav(payments)
    pyreadstat.write_sav(
        frame.drop(index=frame.index[::50]), payments, column_labels=meta.column_names_to_labels
    )  # every 50th payment withdrawn
    ws.cli("run", "pipeline")
    proc = ws.cli("seminar", "--quarter", "2026Q4")

    brief = Path(re.search(r"Seminar brief: (\S+)", proc.stdout).group(1))
    html = brief.read_text(encoding="utf-8")
    manifest = json.loads(brief.with_name("brief.en.manifest.json").read_text(encoding="utf-8"))
    assert manifest["compared_with"] == "2026Q3"
    assert "2026Q3" in html and "interventions.csv" in html and "assistance.sav" in html
    effects_q4 = pd.read_parquet(ws.processed / "outcome_evaluation" / "effects.parquet")
    assert not effects_q4["att"].equals(effects_q3["att"])  # the new data moved the estimates
    headline = effects_q4.query(
        "outcome == 'self_sufficient' and horizon_months == 12 and estimator == 'psm_nn1_caliper'"
    )
    assert f"{headline['att'].iloc[0]:.3f}" in html  # the new estimate is shown beside the old one
    assert not find_identity_numbers(html)

    history = json.loads(ws.cli("history", "--format", "json", "--study", "pipeline").stdout)
    assert [r["state"] for r in history] == ["Completed", "Completed"]
