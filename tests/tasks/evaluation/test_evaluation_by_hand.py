"""Study 3 evaluation on small hand cases: panel, sequential sample, matching, balance, the estimator
interface, and the flow's pure functions."""

from __future__ import annotations

import tracemalloc

import numpy as np
import pandas as pd
import pytest

from insats.demo.register import make_register
from insats.tasks.evaluation.balance import balance_table, pairs_to_weights
from insats.tasks.evaluation.design import COVARIATES, covariate_columns, sequential_matching_sample
from insats.tasks.evaluation.estimators import EffectEstimator, PropensityScoreMatching
from insats.tasks.evaluation.matching import nearest_neighbour_match
from insats.tasks.evaluation.panel import build_person_month_panel
from insats.tasks.register.pseudonymise import DEMO_KEY, pseudonymise
from insats.tasks.register.standardise import DEFAULT_COLUMNS, standardise

IDS = ["aaaaaaaaaaaaaaaa", "bbbbbbbbbbbbbbbb", "cccccccccccccccc"]


def _tiny() -> tuple[pd.DataFrame, pd.DataFrame]:
    """3 persons x 8 months (2021-01..2021-08). A on in months 0-4 and starts INS01 in month 2; B on all
    months, employed in months 0-1, no INS01; C on in months 1-3, starts INS01 in month 4 (off then)."""
    persons = pd.DataFrame(
        {
            "person_id": IDS,
            "sex": [1, 2, 2],
            "birth_year": [1980, 1990, 2000],
            "born_abroad": [0, 1, 1],
            "education": [1, 2, 3],
            "household_type": [1, 2, 4],
            "municipality": ["0484", "0482", "0484"],
        }
    )
    months = pd.date_range("2021-01-01", periods=8, freq="MS")
    on = {IDS[0]: range(0, 5), IDS[1]: range(0, 8), IDS[2]: range(1, 4)}
    assistance = pd.DataFrame(
        [(pid, f"H{k}", months[m], 5000.0) for k, (pid, ms) in enumerate(on.items()) for m in ms],
        columns=["person_id", "household_id", "month", "amount"],
    )
    # A second payment for B in month 0 is summed; a payment outside the period is ignored.
    assistance.loc[len(assistance)] = [IDS[1], "H1", months[0], 1000.0]
    assistance.loc[len(assistance)] = [IDS[0], "H0", pd.Timestamp("2020-12-01"), 1000.0]
    outcomes = pd.DataFrame(
        [(pid, m, int(pid == IDS[1] and i < 2), 0) for pid in IDS for i, m in enumerate(months)],
        columns=["person_id", "month", "employed", "studying"],
    )
    panel = build_person_month_panel(persons, assistance, outcomes, "2021-01", "2021-08")
    spells = pd.DataFrame(
        {
            "person_id": [IDS[0], IDS[0], IDS[2], IDS[1], "zzzzzzzzzzzzzzzz"],
            "intervention_id": ["INS01", "INS01", "INS01", "INS02", "INS01"],
            "start_date": pd.to_datetime(["2021-03-15", "2021-07-01", "2021-05-02", "2021-02-01", "2021-02-01"]),
            "end_date": pd.to_datetime(["2021-06-01", None, None, None, None]),
        }
    )
    return panel, spells


def test_tiny_panel() -> None:
    panel, _ = _tiny()
    assert panel.shape[0] == 3 * 8
    b = panel[panel["person_id"] == IDS[1]]
    assert b["amount"].iloc[0] == 6000.0 and b["on_assistance"].sum() == 8
    a = panel[panel["person_id"] == IDS[0]]
    assert a["on_assistance"].tolist() == [1, 1, 1, 1, 1, 0, 0, 0]
    assert a["amount"].iloc[5] == 0.0


def test_panel_rejects_unknown_person() -> None:
    persons = pd.DataFrame(
        {
            "person_id": [IDS[0]],
            "sex": [1],
            "birth_year": [1980],
            "born_abroad": [0],
            "education": [1],
            "household_type": [1],
            "municipality": ["0484"],
        }
    )
    assistance = pd.DataFrame(
        {"person_id": [IDS[1]], "household_id": ["H"], "month": [pd.Timestamp("2021-01-01")], "amount": [1.0]}
    )
    outcomes = pd.DataFrame(columns=["person_id", "month", "employed", "studying"])
    with pytest.raises(ValueError, match="assistance: 1 row"):
        build_person_month_panel(persons, assistance, outcomes, "2021-01", "2021-03")


def test_tiny_sequential_sample_by_hand() -> None:
    panel, spells = _tiny()
    s = sequential_matching_sample(panel, spells, "INS01", horizon=3, window=2)
    # Months with follow-up to m+3 inside 8 months: m = 0..4.
    key = {(str(r.person_id)[0], r.month.month - 1): r for r in s.itertuples()}
    assert set(key) == {
        ("a", 0),
        ("a", 1),
        ("a", 2),
        ("b", 0),
        ("b", 1),
        ("b", 2),
        ("b", 3),
        ("b", 4),
        ("c", 1),
        ("c", 2),
        ("c", 3),
        ("c", 4),
    }
    treated = {k for k, r in key.items() if r.treated == 1}
    assert treated == {("a", 2), ("c", 4)}  # C is off in month 4 but on in month 3
    later = {k for k, r in key.items() if r.later_starter == 1}
    assert later == {("a", 0), ("a", 1), ("c", 1), ("c", 2), ("c", 3)}
    # Outcome: no assistance in months m+2 .. m+3.
    ss = {k: r.self_sufficient for k, r in key.items()}
    assert ss[("a", 2)] == 0 and ss[("c", 4)] == 1 and ss[("b", 4)] == 0
    assert ss[("c", 1)] == 0 and ss[("c", 2)] == 1 and ss[("c", 3)] == 1
    # History covariates (before m only).
    assert (key[("a", 2)].asst_months_12, key[("a", 2)].asst_spell_elapsed) == (2, 2)
    assert (key[("c", 4)].asst_months_12, key[("c", 4)].asst_spell_elapsed) == (3, 3)
    assert (key[("b", 4)].employed_months_12, key[("b", 4)].asst_months_24) == (2, 4)
    assert key[("b", 0)].asst_months_12 == 0
    # Person covariates.
    c = key[("c", 4)]
    assert (c.age, c.female, c.born_abroad, c.education_2, c.education_3) == (21, 1, 1, 0, 1)
    assert (c.household_type_4, c.municipality_eskilstuna) == (1, 1)
    assert key[("b", 1)].municipality_eskilstuna == 0
    assert list(s.columns[:4]) == ["person_id", "month", "treated", "later_starter"]
    assert set(COVARIATES) <= set(s.columns)


def test_sample_needs_follow_up_and_a_rectangular_panel() -> None:
    panel, spells = _tiny()
    with pytest.raises(ValueError, match="follow-up"):
        sequential_matching_sample(panel, spells, "INS01", horizon=8, window=3)
    with pytest.raises(ValueError, match="one row per person and month"):
        sequential_matching_sample(panel.drop(index=5), spells, "INS01", horizon=3, window=2)
    duplicated = pd.concat([panel.drop(index=5), panel.iloc[[6]]], ignore_index=True)
    with pytest.raises(ValueError, match="one row per person and month"):
        sequential_matching_sample(duplicated, spells, "INS01", horizon=3, window=2)


def test_nearest_neighbour_match_by_hand() -> None:
    #               T0    T1    T2    C0    C1    C2    C3    C4   C5   C6
    score = np.array([0.0, 1.0, 0.5, 0.15, 0.75, 0.25, 0.75, 5.0, 0.0, 0.15])
    treated = np.array([1, 1, 1, 0, 0, 0, 0, 0, 0, 0], dtype=bool)
    stratum = np.array([0, 0, 1, 0, 0, 1, 1, 0, 1, 0])
    pairs = nearest_neighbour_match(score, treated, stratum, caliper=0.3)
    got = {(int(t), int(c)): w for t, c, w in pairs.itertuples(index=False)}
    # T0: C0 and C6 tie at 0.15 (C5 has the same score as T0 but another stratum); T1 -> C1 (C4 is far);
    # T2: C2 (stratum 1, 0.25 below) and C3 (0.25 above) tie on either side.
    assert got == pytest.approx({(0, 3): 0.5, (0, 9): 0.5, (1, 4): 1.0, (2, 5): 0.5, (2, 6): 0.5})
    narrow = nearest_neighbour_match(score, treated, stratum, caliper=0.2)
    assert set(narrow["treated_pos"]) == {0}  # T1 and T2 (distance 0.25) fall outside the caliper


def test_matching_agrees_with_brute_force() -> None:
    rng = np.random.default_rng(5)
    n = 3000
    score = rng.normal(size=n)
    treated = rng.random(n) < 0.1
    stratum = rng.integers(0, 12, size=n)
    pairs = nearest_neighbour_match(score, treated, stratum, caliper=0.05)
    got = dict(zip(pairs["treated_pos"], pairs["control_pos"], strict=True))
    for t in np.flatnonzero(treated):
        pool = np.flatnonzero(~treated & (stratum == stratum[t]))
        d = np.abs(score[pool] - score[t])
        best = pool[np.argmin(d)]
        if d.min() <= 0.05:
            assert got[t] == best
        else:
            assert t not in got


def test_matching_has_no_dense_matrix() -> None:
    """200k rows: a dense treated x control matrix would need ~100 GB; the matcher must stay small."""
    rng = np.random.default_rng(11)
    n = 200_000
    score = rng.normal(size=n)
    treated = rng.random(n) < 0.3
    stratum = rng.integers(0, 48, size=n)
    tracemalloc.start()
    pairs = nearest_neighbour_match(score, treated, stratum, caliper=0.01)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    assert peak < 200 * 2**20
    assert len(pairs) > 0.9 * treated.sum()


def test_balance_table_by_hand() -> None:
    sample = pd.DataFrame(
        {"treated": [1, 1, 0, 0, 0, 0], "x": [1.0, 3.0, 0.0, 2.0, 4.0, 10.0], "k": [1, 1, 1, 1, 1, 1]}
    )
    pairs = pd.DataFrame({"treated_index": [0, 1], "control_index": [3, 4], "weight": [1.0, 1.0]})
    b = balance_table(sample, ["x", "k"], pairs=pairs).set_index("covariate")
    pooled = np.sqrt((2.0 + 56.0 / 3.0) / 2.0)
    assert b.loc["x", "mean_treated"] == 2.0
    assert b.loc["x", "mean_control_before"] == 4.0 and b.loc["x", "mean_control_after"] == 3.0
    assert b.loc["x", "smd_before"] == pytest.approx(-2.0 / pooled)
    assert b.loc["x", "smd_after"] == pytest.approx(-1.0 / pooled)
    assert b.loc["k", "smd_before"] == 0.0 and b.loc["k", "smd_after"] == 0.0  # constant covariate
    w = pairs_to_weights(pairs, sample.index)
    assert w.tolist() == [1.0, 1.0, 0.0, 1.0, 1.0, 0.0]
    with pytest.raises(ValueError, match="exactly one"):
        balance_table(sample, ["x"])


def test_estimators_share_one_interface() -> None:
    assert issubclass(PropensityScoreMatching, EffectEstimator)
    with pytest.raises(ValueError, match="caliper"):
        PropensityScoreMatching(caliper=0)
    sample = pd.DataFrame({"treated": [1, 0], "person_id": ["a", "b"], "month": [1, 1], "x": [0.0, 1.0]})
    with pytest.raises(ValueError, match="self_sufficient"):
        PropensityScoreMatching().fit(sample, ["x"])


def test_no_effect_gives_interval_around_zero() -> None:
    """The default demo with no planted effect: the estimate's interval contains 0."""
    frames, truth = make_register(planted_effect=0.0)
    tables = {k: pseudonymise(standardise(v, k, DEFAULT_COLUMNS[k], k), DEMO_KEY) for k, v in frames.items()}
    panel = build_person_month_panel(tables["persons"], tables["assistance"], tables["outcomes"], "2021-01", "2024-12")
    sample = sequential_matching_sample(panel, tables["spells"], "INS01")
    r = PropensityScoreMatching(exact="month").estimate(sample, covariate_columns(sample))
    assert truth["true_att_self_sufficiency_12m"] == 0.0
    assert r.ci_low <= 0.0 <= r.ci_high


def test_choose_interventions_from_the_config_or_study_2() -> None:
    from insats.tasks.evaluation.plan import choose_interventions

    candidates = pd.DataFrame(
        {"intervention_id": ["A", "B", "C", "D"], "rank": [3, 1, 2, 4], "eligible": [True, False, True, True]}
    )
    assert choose_interventions(candidates, ["X", "Y"], 1) == ["X", "Y"]
    assert choose_interventions(candidates, "from_mapping", 2) == ["C", "A"]
    with pytest.raises(ValueError, match="outcome_evaluation.interventions"):
        choose_interventions(candidates.assign(eligible=False), "from_mapping", 1)


def test_stack_tables_leaves_out_parts_without_columns() -> None:
    from insats.tasks.evaluation.around_start import stack_tables

    a, b = pd.DataFrame({"x": [1, 2]}), pd.DataFrame({"x": [3]})
    pd.testing.assert_frame_equal(stack_tables([a, pd.DataFrame(), b]), pd.DataFrame({"x": [1, 2, 3]}))
