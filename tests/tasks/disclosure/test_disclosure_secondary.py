"""Secondary suppression: no hidden count can be recovered from totals, repeated counts or related tables.

The attacker here is independent of the audit: it knows the tables' true additive structure (relations built
on the unsuppressed tables) and repeatedly solves every equation with a single unknown (totals minus visible
cells, across tables), substituting what it recovers, until nothing changes.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from insats.tasks.disclosure import (
    Auditor,
    CellIndex,
    TableRules,
    build_relations,
    protect_for_publication,
    protect_tables,
    suppress_small_counts,
)
from tests.helpers.disclosure import differencing_attack, participant_frames, suite_rules

T = 5


def test_2x2_with_one_small_cell_gets_complementary_suppressions() -> None:
    # rows a, b and their total; columns x, y and their total ("all")
    table = pd.DataFrame(
        {
            "row": ["a", "a", "a", "b", "b", "b", "all", "all", "all"],
            "col": ["x", "y", "all"] * 3,
            "n": [2, 30, 32, 20, 25, 45, 22, 55, 77],
        }
    )
    rules = {"t": TableRules(keys=("row", "col"), totals={"row": "all", "col": "all"})}
    out, report = protect_tables({"t": table}, {"t": ["n"]}, rules, T)
    hidden = out["t"]["n"].isna().to_numpy()
    assert report.primary == {"t": 1} and hidden[0]
    # the hypercube: the small cell, one cell in its row, one in its column and the opposite corner
    assert report.secondary["t"] == 3
    assert hidden.sum() == 4 and not hidden[[2, 5, 6, 7, 8]].any()  # margins stay published
    assert out["t"]["suppressed"].tolist() == [True, True, False, True, True, False, False, False, False]
    assert differencing_attack({"t": table}, out, {"t": ["n"]}, rules) == {}
    # the LP audit leaves every hidden cell at least T wide
    index = CellIndex({"t": table}, {"t": ["n"]})
    intervals = Auditor(index.values, build_relations({"t": table}, rules, index)).intervals(
        hidden, np.flatnonzero(hidden)
    )
    assert all(hi - lo >= T for lo, hi in intervals.values())


def test_a_cell_its_margin_would_reveal_is_protected() -> None:
    table = pd.DataFrame({"group": ["p", "q", "r", "all"], "n": [3, 40, 12, 55]})
    rules = {"t": TableRules(keys=("group",), totals={"group": "all"})}
    primary_only = suppress_small_counts(table, ["n"], T)
    assert differencing_attack({"t": table}, {"t": primary_only}, {"t": ["n"]}, rules) == {("t", 0, "n"): 3.0}
    out, _ = protect_tables({"t": table}, {"t": ["n"]}, rules, T)
    assert out["t"]["n"].isna().tolist() == [True, False, True, False]  # the cheapest complement: 12
    assert differencing_attack({"t": table}, out, {"t": ["n"]}, rules) == {}


def test_repeated_counts_and_linked_tables_are_hidden_together() -> None:
    effects = pd.DataFrame(
        {
            "intervention_id": ["A"] * 4 + ["B"] * 2,
            "outcome": ["self", "employed", "self", "employed", "self", "employed"],
            "estimator": ["psm", "psm", "ipw", "ipw", "psm", "psm"],
            "n_treated": [40, 40, 40, 40, 90, 90],
            "n_treated_unmatched": [3, 3, 3, 3, 0, 0],
            "att": [0.1, 0.2, 0.1, 0.2, 0.3, 0.1],
        }
    )
    design = pd.DataFrame({"intervention_id": ["A", "B"], "n_started": [43, 90]})
    rules = {
        "effects": TableRules(
            keys=("intervention_id", "outcome", "estimator"),
            same_within={"n_treated_unmatched": ("intervention_id",), "n_treated": ("intervention_id", "estimator")},
            derived={"n_treated_unmatched": ("att",)},
        ),
        "design": TableRules(keys=("intervention_id",)),
    }
    # the design table's starters are the treated plus the unmatched: a relation across tables
    from insats.tasks.disclosure import Link

    rules["effects"] = TableRules(
        **{**rules["effects"].__dict__, "links": (Link("n_treated", "design", "n_started", on=("intervention_id",)),)}
    )
    counts = {"effects": ["n_treated", "n_treated_unmatched"], "design": ["n_started"]}
    out, report = protect_tables({"effects": effects, "design": design}, counts, rules, T)
    assert out["effects"]["n_treated_unmatched"].isna().tolist() == [True] * 4 + [False] * 2
    assert out["effects"]["att"].isna().tolist() == [True] * 4 + [False] * 2
    # n_treated = n_started here (a checked link) but the unmatched are not part of it: nothing else to hide
    assert report.primary["effects"] == 4 and report.unprotected == []
    truth = {"effects": effects, "design": design}
    assert differencing_attack(truth, out, counts, rules) == {}


def test_zero_is_kept_and_flag_tells_hidden_from_zero() -> None:
    table = pd.DataFrame({"group": ["p", "q", "r", "all"], "n": [0, 40, 12, 52]})
    out, report = protect_tables(
        {"t": table}, {"t": ["n"]}, {"t": TableRules(keys=("group",), totals={"group": "all"})}, T
    )
    assert out["t"]["n"].tolist() == [0, 40, 12, 52] and not out["t"]["suppressed"].any()
    assert sum(report.secondary.values()) == 0


def test_protect_for_publication_is_idempotent_on_protected_tables() -> None:
    table = pd.DataFrame({"group": ["p", "q", "r", "all"], "n": [3, 40, 12, 55], "share": [0.05, 0.7, 0.2, 1.0]})
    rules = {"t": TableRules(keys=("group",), totals={"group": "all"}, derived={"n": ("share",)})}
    out, _ = protect_tables({"t": table}, {"t": ["n"]}, rules, T)
    once = protect_for_publication(out["t"], T, ["n"], {"n": ["share"]})
    twice = protect_for_publication(once, T, ["n"], {"n": ["share"]})
    pd.testing.assert_frame_equal(once, twice)
    assert once["n"].isna().tolist() == out["t"]["n"].isna().tolist()
    assert once["_hidden_n"].tolist() == [True, False, True, False]
    assert once["share"].isna().tolist() == [True, False, True, False]


@pytest.fixture(scope="module")
def participant_tables(tmp_path_factory: pytest.TempPathFactory) -> dict[str, dict[str, pd.DataFrame]]:
    return participant_frames(tmp_path_factory.mktemp("pdocs"))


def test_differencing_attack_on_demo_participant_flow_recovers_nothing(participant_tables: dict) -> None:
    counts, rules = suite_rules("participant_flow")
    truth, handed = participant_tables["truth"], participant_tables["handed"]
    # primary suppression alone leaks: totals and neighbouring tables give hidden counts back
    leaked = differencing_attack(truth, handed, counts, rules)
    assert len(leaked) > 10
    for (table, row, col), value in leaked.items():
        assert value == pytest.approx(float(truth[table][col].iloc[row]))
    published, report = protect_tables(handed, counts, rules, T)
    assert differencing_attack(truth, published, counts, rules) == {}
    assert report.unprotected == []
    for name, df in published.items():
        for col in counts.get(name, []):
            shown = pd.to_numeric(df[col], errors="coerce").dropna()
            assert not ((shown >= 1) & (shown < T)).any(), f"{name}.{col} shows a count below {T}"
            true = pd.to_numeric(truth[name][col], errors="coerce")
            assert (shown == true[shown.index]).all(), f"{name}.{col}: a published count was altered"


def test_study_3_counts_hidden_across_effects_and_subgroups() -> None:
    """Study 3's suites: n_treated_unmatched of 1-4 is hidden on every outcome and estimator; a subgroup of 3
    treated is hidden with its complement, since the subgroups add up to the effects table's n_treated."""
    counts, rules = suite_rules("outcome_evaluation")
    rows = [(o, e) for o in ("self_sufficient", "employed_at_horizon") for e in ("psm_nn1_caliper", "ipw_att")]
    effects = pd.DataFrame(
        {
            "intervention_id": "A", "outcome": [o for o, _ in rows], "horizon_months": 12,
            "estimator": [e for _, e in rows], "att": 0.1, "n_treated": 40, "n_controls": 120,
            "n_treated_unmatched": 3, "n_later_starter_controls": 9, "n_eligible_controls": 800,
            "n_control_persons": 700, "n_controls_dropped": 0,
        }
    )  # fmt: skip
    groups = [("sex", "man", 25), ("sex", "woman", 15), ("born_abroad", "yes", 3), ("born_abroad", "no", 37)]
    het = pd.DataFrame(
        [
            {"intervention_id": "A", "outcome": o, "horizon_months": 12, "estimator": e, "dimension": d,
             "group": g, "att": 0.1, "n_treated": n, "n_controls": 3 * n, "n_treated_unmatched": 0}
            for o, e in rows for d, g, n in groups
        ]
    )  # fmt: skip
    frames = {"effects": effects, "heterogeneity": het}
    counts = {k: v for k, v in counts.items() if k in frames}
    out, report = protect_tables(frames, counts, rules, T)
    assert out["effects"]["n_treated_unmatched"].isna().all()
    assert out["effects"]["n_treated"].notna().all()  # the total is kept; a subgroup complements
    born = out["heterogeneity"][out["heterogeneity"]["dimension"] == "born_abroad"]
    assert born["n_treated"].isna().all() and born["n_controls"].notna().all()
    sex = out["heterogeneity"][out["heterogeneity"]["dimension"] == "sex"]
    assert sex["n_treated"].notna().all()
    assert report.unprotected == []
    assert differencing_attack(frames, out, counts, rules) == {}
