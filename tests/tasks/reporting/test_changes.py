import pandas as pd

from insats.tasks.reporting.changes import estimate_changes, input_changes, run_summary, table_changes


def test_inputs_are_classified_new_changed_unchanged_removed():
    before = pd.DataFrame({"study": ["s"] * 3, "input": ["a.sav", "b.sav", "c.sav"], "sha256": ["1", "2", "3"]})
    now = pd.DataFrame({"study": ["s"] * 3, "input": ["a.sav", "b.sav", "d.sav"], "sha256": ["1", "9", "4"]})
    out = input_changes(before, now).set_index("input")["status"].to_dict()
    assert out == {"a.sav": "unchanged", "b.sav": "changed", "c.sav": "removed", "d.sav": "new"}
    assert list(input_changes(before, now)["status"])[:2] == ["changed", "new"]  # what matters first


def test_estimates_before_and_now_with_change_and_ci_overlap():
    keys = {
        "intervention_id": ["INS01", "INS02"],
        "outcome": ["self_sufficient"] * 2,
        "horizon_months": [12, 12],
        "estimator": ["psm"] * 2,
    }
    before = pd.DataFrame({**keys, "att": [0.10, 0.02], "ci_low": [0.05, -0.02], "ci_high": [0.15, 0.06]})
    now = pd.DataFrame({**keys, "att": [0.12, 0.20], "ci_low": [0.07, 0.16], "ci_high": [0.17, 0.24]})
    out = estimate_changes(before, now).set_index("intervention_id")
    assert out.loc["INS01", "change"] == 0.12 - 0.10 and bool(out.loc["INS01", "ci_overlap"])
    assert not bool(out.loc["INS02", "ci_overlap"])


def test_table_row_counts_that_changed_and_run_counts():
    before = pd.DataFrame({"study": ["s", "s"], "table": ["t1", "t2"], "rows": [10, 5]})
    now = pd.DataFrame({"study": ["s", "s"], "table": ["t1", "t2"], "rows": [10, 7]})
    assert table_changes(before, now).to_dict("records") == [
        {"study": "s", "table": "t2", "rows_before": 5, "rows_now": 7}
    ]
    history = pd.DataFrame({"study": ["a", "a", "b"], "state": ["Completed", "Failed", "Completed"]})
    assert run_summary(history).to_dict("records") == [
        {"study": "a", "state": "Completed", "runs": 1},
        {"study": "a", "state": "Failed", "runs": 1},
        {"study": "b", "state": "Completed", "runs": 1},
    ]


def test_quarters_must_be_written_in_full():
    import pytest

    from insats.history import quarter_bounds

    assert quarter_bounds("2026Q4")[0].month == 10 and quarter_bounds("2027q1")[1].month == 4
    for bad in ("26Q4", "2026Q5", "2026-Q4", "Q4 2026", "2026Q"):
        with pytest.raises(ValueError, match="YYYYQn"):
            quarter_bounds(bad)
