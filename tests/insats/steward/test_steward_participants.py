"""The steward's `insats validate` on participant files: the config's status ladder, aliases, end dates.

Every test drives the real command (typer's CliRunner on ``insats.cli.app``) on small seeded demo extracts
and checks that the raw file is byte-for-byte unchanged afterwards.
"""

from __future__ import annotations

import json
from pathlib import Path

import openpyxl
import pandas as pd

from tests.helpers.steward import validate


def _participant_config(tmp_path: Path, ladder: dict | None, end_date: str = "inclusive") -> Path:
    """A config with paths under tmp_path and, given a ladder, a participant_flow section using it."""
    import yaml

    (tmp_path / "raw").mkdir(exist_ok=True)
    cfg: dict = {
        "project": "steward-test",
        "paths": {k: k for k in ("raw", "interim", "processed", "reports")} | {"prefect_home": "prefect"},
    }
    if ladder is not None:
        (tmp_path / "ladder.yaml").write_text(yaml.safe_dump(ladder, allow_unicode=True), encoding="utf-8")
        cfg["participant_flow"] = {
            "participants": "raw/deltagare.csv",
            "status_documentation": "raw/status.csv",
            "ladder": "ladder.yaml",
            "end_date": end_date,
        }
    path = tmp_path / "config.yaml"
    path.write_text(yaml.safe_dump(cfg, allow_unicode=True), encoding="utf-8")
    return path


def _participants_file(tmp_path: Path, *rows: str) -> Path:
    path = tmp_path / "raw" / "deltagare.csv"
    path.parent.mkdir(exist_ok=True)
    header = "deltagar_id;projekt;kön;födelseår;startdatum;slutdatum;status_vid_avslut;mål"
    path.write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
    return path


def test_participants_validate_with_the_configs_ladder_and_its_aliases(tmp_path):
    from insats.demo.participants import LADDER

    ladder = {**LADDER, "aliases": {"Arbete": ["Anställd", "arbete heltid"]}}
    config = _participant_config(tmp_path, ladder)
    file = _participants_file(
        tmp_path, "p1;Vägen vidare;K;1990;2021-03-01;2021-06-30;anställd;", "p2;Steget;M;1985;1/3/2021;;;"
    )
    code, output, out = validate(file, "input.participants", tmp_path, "--config", str(config))
    assert code == 0, output
    assert "fit for use" in output and f"ladder {tmp_path / 'ladder.yaml'} (participant_flow.ladder)" in output
    assert json.loads((out / "deltagare.provenance.json").read_text())["fit_for_use"] is True


def test_participants_with_unknown_statuses_list_every_value_and_quarantine_nothing_silently(tmp_path):
    from insats.demo.participants import LADDER

    config = _participant_config(tmp_path, LADDER)
    bad = ["Jobb", "Semester", "Föräldraledig", "Utvandrat", "Pension"]
    rows = [f"p{i};Steget;K;1990;2021-03-01;2021-06-30;{v};" for i, v in enumerate(bad)]
    file = _participants_file(tmp_path, *rows, "p9;Steget;K;1990;2021-03-01;;;")
    code, output, out = validate(file, "input.participants", tmp_path, "--config", str(config))
    assert code == 1
    for i, value in enumerate(bad):
        assert f"FAILED (whole file) unknown exit status {value!r} in row {i + 2}" in output
    assert "participant_flow.ladder 'Svensk standardstege': Arbete; Studier; " in output
    result = json.loads((out / "deltagare.input.participants.validation.json").read_text())
    assert len(result["insats"]["whole_file_problems"]) == 6


def test_status_documentation_rows_failing_the_suite_map_back_to_source_rows(tmp_path):
    from insats.demo.participants import LADDER

    config = _participant_config(tmp_path, LADDER)
    file = tmp_path / "raw" / "status.xlsx"
    sheet = [["participant_id", "2021-Q1", "2021-Q2"], ["p1", "Arbete", "Arbete"], ["p2", "Studier", None]]
    wb = openpyxl.Workbook()
    for r in sheet:
        wb.active.append(r)
    wb.save(file)
    args = ("--config", str(config), "--quarantine", str(tmp_path / "q"))
    code, output, _ = validate(file, "input.status_documentation", tmp_path, *args)
    assert code == 0, output
    assert "2 rows in = 2 passed + 0 quarantined" in output  # two sheet rows, three documented periods
    # p1's second sheet row documents the same quarters again: the reader lists it, GX flags its periods,
    # and both p1 sheet rows (not the three long rows) are quarantined
    wb = openpyxl.Workbook()
    for r in [*sheet, ["p1", None, "Studier"]]:
        wb.active.append(r)
    wb.save(file)
    code, output, _ = validate(file, "input.status_documentation", tmp_path, *args)
    assert code == 1
    assert "participant 'p1', period 2021-04-01 documented twice (rows 2, 4)" in output
    assert "3 rows in = 1 passed + 2 quarantined" in output
    bad = pd.read_parquet(tmp_path / "q" / "status.quarantine.parquet")
    assert bad["source_row"].tolist() == [1, 3] and bad["participant_id"].tolist() == ["p1", "p1"]
    reason = "reason__expect_compound_columns_to_be_unique__participant_id__period_start"
    assert bad[reason].tolist() == ["participant_id, period_start duplicated"] * 2


def test_a_config_without_participant_flow_uses_the_shipped_ladder_and_says_so(tmp_path):
    config = _participant_config(tmp_path, None)
    file = _participants_file(tmp_path, "p1;Steget;K;1990;2021-03-01;2021-06-30;Arbete;")
    code, output, _ = validate(file, "input.participants", tmp_path, "--config", str(config))
    assert code == 0, output
    assert "sets no participant_flow.ladder: used the shipped ladder" in output and "ladder.sv.yaml" in output


def test_exclusive_end_dates_from_the_config_are_checked_as_such(tmp_path):
    from insats.demo.participants import LADDER

    file = _participants_file(tmp_path, "p1;Steget;K;1990;2021-03-01;2021-03-01;Arbete;")
    code, output, _ = validate(
        file, "input.participants", tmp_path, "--config", str(_participant_config(tmp_path, LADDER, "exclusive"))
    )
    assert code == 1 and "ends 2021-02-28 (read as exclusive, participant_flow.end_date" in output
    code, output, _ = validate(
        file, "input.participants", tmp_path, "--config", str(_participant_config(tmp_path, LADDER, "inclusive"))
    )
    assert code == 0, output


def test_a_bad_ladder_in_the_config_is_named_with_every_problem(tmp_path):
    config = _participant_config(tmp_path, {"steps": ["A"], "exit": {"happy": ["B"]}})
    file = _participants_file(tmp_path, "p1;Steget;K;1990;2021-03-01;;;")
    code, output, _ = validate(file, "input.participants", tmp_path, "--config", str(config))
    assert code == 2  # a config error, not the verdict "not fit for use"
    assert (
        f"Error: {tmp_path / 'ladder.yaml'}: not a valid ladder (2 problem(s); config setting participant_flow.ladder)"
        in output
    )
    assert "  - steps: List should have at least 2 items" in output
    assert "  - exit: unknown exit categor(y/ies) ['happy']" in output
