"""Participant flow: per-participant steps, project measures and the goal-attainment table, checked against
a documentation set with known answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import yaml

from insats.demo.participants import LADDER, make_participant_demo
from insats.tasks.participants.goals import goal_attainment, publishable_goal_table, targets_from_dict
from insats.tasks.participants.measures import (
    participant_steps,
    time_to_first_step,
    transition_matrix,
)
from tests.helpers.participant_files import LAD


def test_per_participant_steps_on_a_hand_made_case() -> None:
    people = pd.DataFrame(
        {
            "participant_id": ["a", "b", "c"],
            "project": ["P", "P", "P"],
            "gender": ["K", "M", "K"],
            "start_date": pd.to_datetime(["2021-01-01", "2021-01-01", "2021-04-01"]),
            "end_date": pd.to_datetime(["2021-12-31", None, "2021-09-30"]),
            "exit_status": ["Arbete", None, "Okänt"],
        }
    )
    statuses = pd.DataFrame(
        {
            "participant_id": ["a", "a", "b", "b", "b", "c"],
            "period_start": pd.to_datetime(
                ["2021-01-01", "2021-04-01", "2021-01-01", "2021-04-01", "2021-07-01", "2021-04-01"]
            ),
            "status": ["Kartläggning/utredning", "Arbetsträning/praktik", "Förberedande insats", "Arbetsprövning",
                       "Kartläggning/utredning", "Förberedande insats"],
        }
    )  # fmt: skip
    steps = participant_steps(people, statuses, LAD, pd.Timestamp("2021-12-31")).set_index("participant_id")
    # a: 2 -> 5 -> exit to work (8): 6 rungs up, first step at the second period
    assert steps.loc["a", "steps_up"] == 6 and steps.loc["a", "highest_status"] == "Arbete"
    assert steps.loc["a", "exit_category"] == "self_sufficient" and steps.loc["a", "favourable_exit"]
    assert steps.loc["a", "months_to_first_upward"] == pytest.approx(90 / 30.4375, abs=0.01)
    # b: 3 -> 4 -> 2: one up, two down, ongoing, censored at as_of
    assert (steps.loc["b", "steps_up"], steps.loc["b", "steps_down"], steps.loc["b", "net_steps"]) == (1, 2, -1)
    assert steps.loc["b", "exit_category"] == "ongoing" and not steps.loc["b", "favourable_exit"]
    # c: one period, exit off the ladder: no upward step, censored at the end date
    assert not steps.loc["c", "any_upward"] and steps.loc["c", "exit_category"] == "unclear"
    assert steps.loc["c", "months_to_first_upward"] == pytest.approx(182 / 30.4375, abs=0.01)
    trans = transition_matrix(statuses, people, LAD)
    p = trans[trans["project"] == "P"].set_index(["from_status", "to_status"])
    assert p.loc[("Arbetsprövning", "Kartläggning/utredning"), "direction"] == "down"
    assert p["n_transitions"].sum() == 3


def test_kaplan_meier_known_values() -> None:
    # 4 participants: steps at 2 and 4 months, censored at 3 and 10: S(3)=1/2... KM: S(2)=3/4, S(4)=3/4*1/2
    steps = pd.DataFrame(
        {
            "project": ["P"] * 4,
            "months_to_first_upward": [2.0, 3.0, 4.0, 10.0],
            "any_upward": [True, False, True, False],
        }
    )
    km = time_to_first_step(steps, grid_months=3)
    p = km[km["project"] == "P"].set_index("month")
    assert p.loc[0, "share_stepped"] == 0
    assert p.loc[3, "share_stepped"] == pytest.approx(0.25)
    assert p.loc[6, "share_stepped"] == pytest.approx(1 - 0.75 * 0.5)
    assert p.loc[6, "n_at_risk"] == 1 and p.loc[6, "n_events_cum"] == 2
    assert 9 in p.index and 12 not in p.index  # nobody followed 12 months


def test_measures_match_the_planted_truth(demo_set: dict) -> None:
    truth = demo_set["demo"].truth["projects"]
    m = demo_set["measures"].set_index(["project", "gender"])
    for project, t in truth.items():
        row = m.loc[(project, "all")]
        exited = t["n"] - t["ongoing"]
        assert row["n_participants"] == t["n"]
        assert row["n_upward"] == t["upward"] and row["n_participants"] - row["n_upward"] == t["no_upward"]
        assert row["n_exited"] == exited and row["n_ongoing"] == t["ongoing"]
        assert row["n_self_sufficient"] == t["self_sufficient"]
        assert row["n_favourable"] == t["self_sufficient"] + t["favourable"]
        assert row["n_unclear"] == t["unclear"]
        assert row["share_self_sufficient"] == pytest.approx(t["self_sufficient"] / exited)
    # gender rows add up to the totals
    by_gender = demo_set["measures"].query("gender != 'all'").groupby("project")["n_participants"].sum()
    assert (by_gender == m.xs("all", level="gender")["n_participants"]).all()


def test_enrolment_matches_the_independent_count(demo_set: dict) -> None:
    truth = demo_set["demo"].truth["enrolment"]["monthly_all"]
    got = demo_set["enrolment"].query("project == 'all'")
    assert dict(zip(got["month"].dt.strftime("%Y-%m"), got["n_enrolled"], strict=True)) == truth


def test_goal_attainment_every_number_and_judgement(demo_set: dict) -> None:
    truth = demo_set["demo"].truth
    t, s, e = truth["projects"]["all"], truth["projects"]["Steget"], truth["enrolment"]
    exited = t["n"] - t["ongoing"]
    goals = demo_set["goals"]
    expected = [
        # measure, project, value, numerator, denominator, judgement
        ("share_upward", "all", t["upward"] / t["n"], t["upward"], t["n"], "partly_met"),  # 68% vs 100%, partly >= 60%
        ("share_self_sufficient", "all", t["self_sufficient"] / exited, t["self_sufficient"], exited, "met"),
        ("share_unclear", "all", t["unclear"] / exited, t["unclear"], exited, "partly_met"),  # 28.6% vs <= 25%
        ("enrolled_every_month", "all", e["lowest"], e["lowest"], None, "partly_met"),  # 4 of 24 months below
        ("n_participants", "all", t["n"], t["n"], None, "not_met"),  # 120 of 200, under 3/4
        ("share_upward", "Steget", s["upward"] / s["n"], s["upward"], s["n"], "met"),
    ]
    assert len(goals) == len(expected)
    for (_, row), (measure, project, value, num, den, judgement) in zip(goals.iterrows(), expected, strict=True):
        assert (row["measure"], row["project"]) == (measure, project)
        assert row["value"] == pytest.approx(value)
        assert row["numerator"] == num
        assert pd.isna(row["denominator"]) if den is None else row["denominator"] == den
        assert row["judgement"] == judgement, row["target"]
    enrol = goals.iloc[3]
    assert enrol["months_assessed"] == e["months_assessed"] == 24
    assert enrol["months_below"] == len(e["months_below"]) == 4
    assert enrol["lowest_month"] == e["lowest_month"]
    # the demo's enrolment dips under the target after nearly reaching it
    assert "2022-04" in e["months_below"] and e["monthly_all"]["2022-03"] < 40


def test_goal_paragraphs_state_evidence_and_judgement(demo_set: dict) -> None:
    table = publishable_goal_table(demo_set["goals"], 5)
    assert (
        table["paragraph_en"]
        .iloc[0]
        .endswith("82 of 120 participants have a documented upward step (68.3%). Partly met.")
    )
    assert "82 av 120 deltagare" in table["paragraph_sv"].iloc[0] and "68,3\u00a0%" in table["paragraph_sv"].iloc[0]
    assert table["paragraph_sv"].iloc[4].endswith("Inte uppfyllt.")
    assert "lägst 36 i 2022-01" in table["paragraph_sv"].iloc[3]


def test_goal_table_suppresses_small_counts_in_numbers_and_text() -> None:
    measures = pd.DataFrame(
        [{"project": "all", "gender": "all", "n_participants": 30, "n_upward": 3, "n_exited": 12,
          "n_self_sufficient": 0, "n_favourable": 6, "n_unclear": 2}]
    )  # fmt: skip
    enrolment = pd.DataFrame({"project": "all", "month": pd.to_datetime(["2022-01-01"]), "n_enrolled": [3]})
    targets = targets_from_dict(
        {"targets": [{"name": "Steg", "measure": "share_upward", "threshold": 0.5},
                     {"name": "Egen", "measure": "share_self_sufficient", "threshold": 0.2},
                     {"name": "Inskrivna", "measure": "enrolled_every_month", "threshold": 10}]}
    )  # fmt: skip
    table = publishable_goal_table(goal_attainment(targets, measures, enrolment), 5)
    assert pd.isna(table.loc[0, "numerator"]) and pd.isna(table.loc[0, "value"]) and table.loc[0, "suppressed"]
    assert table.loc[0, "judgement"] == "not_met"
    assert ".. of 30" in table.loc[0, "paragraph_en"] and " 3 " not in table.loc[0, "paragraph_en"]
    assert table.loc[1, "numerator"] == 0 and table.loc[1, "judgement"] == "not_met"  # zero is shown
    assert "lowest .." in table.loc[2, "paragraph_en"]


def test_unknown_measure_in_targets_is_named() -> None:
    with pytest.raises(
        ValueError, match=r"t\.yaml.*participant_flow\.targets(?s:.*)target 1 \('X'\): measure: .*'share_happy'"
    ):
        targets_from_dict({"targets": [{"name": "X", "measure": "share_happy", "threshold": 0.5}]}, "t.yaml")


def test_indicator_change_recovers_the_planted_gain(demo_set: dict) -> None:
    from insats.tasks.participants.indicators import (
        exit_association,
        indicator_change,
        indicator_scores,
        load_indicator_spec,
        read_indicator_responses,
    )

    paths = demo_set["paths"]
    spec = load_indicator_spec(paths["indicators"])
    scores = indicator_scores(read_indicator_responses(paths["indicator_responses"], spec, demo_set["people"]), spec)
    change = indicator_change(scores, demo_set["people"], spec)
    total = change[change["project"] == "all"]
    assert len(total) == 6 and (total["ci_low"] > 0).all() and (total["effect_size"] > 0.5).all()
    # participants without upward steps do not improve: compare the gain by planted group
    up = set(demo_set["steps"].loc[demo_set["steps"]["any_upward"], "participant_id"])
    s = scores.dropna(subset=["score"])
    first_last = s.sort_values("occasion").groupby(["participant_id", "indicator"])["score"].agg(["first", "last"])
    gain = (first_last["last"] - first_last["first"]).groupby(level=0).mean()
    assert gain[gain.index.isin(up)].mean() > 0.5 > abs(gain[~gain.index.isin(up)].mean())
    assoc = exit_association(scores, demo_set["steps"], spec)
    assert assoc["estimated"].all() and (assoc["odds_ratio"] > 1).sum() >= 5
    # with N too small the association is not estimated, and says why
    few = demo_set["steps"].head(8)
    small = exit_association(scores[scores["participant_id"].isin(few["participant_id"])], few, spec)
    assert not small["estimated"].any() and small["note"].str.startswith("not estimated").all()


def test_demo_is_deterministic() -> None:
    a, b = make_participant_demo(7), make_participant_demo(7)
    pd.testing.assert_frame_equal(a.participants, b.participants)
    pd.testing.assert_frame_equal(a.indicators, b.indicators)
    assert not make_participant_demo(8).participants["start_date"].equals(a.participants["start_date"])
    assert np.isfinite(a.indicators[["h1", "h2"]].astype(float)).any().all()
    assert yaml.safe_dump(LADDER, allow_unicode=True)


def test_a_group_too_small_to_show_gets_no_judgement() -> None:
    measures = pd.DataFrame(
        [{"project": "pilot", "gender": "all", "n_participants": 3, "n_upward": 3, "n_exited": 3,
          "n_self_sufficient": 3, "n_favourable": 3, "n_unclear": 0}]
    )  # fmt: skip
    enrolment = pd.DataFrame({"project": "pilot", "month": pd.to_datetime(["2022-01-01"]), "n_enrolled": [3]})
    targets = targets_from_dict(
        {"targets": [{"name": "Steg", "measure": "share_upward", "threshold": 1.0, "project": "pilot"}]}
    )
    raw = goal_attainment(targets, measures, enrolment)
    assert raw.loc[0, "judgement"] == "met"  # all three moved up: publishing "met" would tell each outcome
    table = publishable_goal_table(raw, 5)
    assert table.loc[0, "judgement"] == "not_assessable" and pd.isna(table.loc[0, "value"])


def test_a_target_window_outside_the_data_warns_naming_window_and_period() -> None:
    from insats.tasks.participants.goals import TargetWindowWarning

    enrolment = pd.DataFrame(
        {"project": "all", "month": pd.date_range("2021-03-01", "2023-12-01", freq="MS"), "n_enrolled": 50}
    )
    measures = pd.DataFrame(columns=["project", "gender"])
    targets = targets_from_dict(
        {"targets": [
            {"name": "Förr", "measure": "enrolled_every_month", "threshold": 40, "from": "2019-01", "to": "2019-12"},
            {"name": "Delvis", "measure": "enrolled_every_month", "threshold": 40, "from": "2023-01", "to": "2024-06"},
            {"name": "Inne", "measure": "enrolled_every_month", "threshold": 40, "from": "2022-01", "to": "2022-12"},
        ]}
    )  # fmt: skip
    with pytest.warns(TargetWindowWarning) as caught:
        table = goal_attainment(targets, measures, enrolment)
    texts = [str(w.message) for w in caught]
    assert len(texts) == 2
    assert (
        "'Förr'" in texts[0]
        and "2019-01 .. 2019-12 lies wholly outside the data's period 2021-03 .. 2023-12" in texts[0]
    )
    assert "'Delvis'" in texts[1] and "2023-01 .. 2024-06 reaches outside" in texts[1]
    assert table["judgement"].tolist() == ["not_assessable", "met", "met"]
    assert table.loc[1, "months_assessed"] == 12


def test_bad_indicator_spec_names_file_setting_and_fields() -> None:
    from insats.tasks.participants.indicators import indicator_spec_from_dict

    bad = {"likert": {"min": 5, "max": 1}, "indicators": [{"id": "a", "items": ["q1"], "reverse": ["q9"]},
                                                          {"id": "b", "items": ["q1"]}]}  # fmt: skip
    with pytest.raises(ValueError) as err:
        indicator_spec_from_dict(bad, "ind.yaml")
    msg = str(err.value)
    assert msg.startswith(
        "ind.yaml: not a valid indicator spec (2 problem(s); config setting participant_flow.indicators)"
    )
    assert "likert: max (1) must exceed min (5)" in msg
    assert "indicators[1]: 'a' reverses items it lacks: ['q9']" in msg
    good_items = {
        **bad,
        "likert": {"min": 1, "max": 5},
        "indicators": [{"id": "a", "items": ["q1"]}, {"id": "b", "items": ["q1"]}],
    }
    with pytest.raises(ValueError, match=r"indicators: item 'q1' belongs to 'a' and 'b'"):
        indicator_spec_from_dict(good_items, "ind.yaml")
