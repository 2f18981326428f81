"""Study 3 evaluation on the default demo (3000 persons, 48 months): panel, sequential matching design,
PS matching estimator, balance, figures, and the columnar panel against the pandas reference."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd
import pytest

from insats.demo.register import make_register
from insats.tasks.evaluation.balance import BALANCE_COLUMNS, balance_table
from insats.tasks.evaluation.design import covariate_columns, sequential_matching_sample
from insats.tasks.evaluation.estimators import PropensityScoreMatching
from insats.tasks.evaluation.inference import EffectEstimate
from insats.tasks.evaluation.panel import build_person_month_panel
from insats.tasks.register.pseudonymise import DEMO_KEY, pseudonymise
from insats.tasks.register.standardise import DEFAULT_COLUMNS, standardise


@dataclass
class Chain:
    truth: dict
    tables: dict[str, pd.DataFrame]
    panel: pd.DataFrame
    sample: pd.DataFrame
    covariates: list[str]
    result: EffectEstimate
    balance: pd.DataFrame


@pytest.fixture(scope="module")
def chain() -> Chain:
    """The default demo (3000 persons, 48 months, seed 2026) through ingestion and evaluation."""
    frames, truth = make_register()
    tables = {
        kind: pseudonymise(standardise(df, kind, DEFAULT_COLUMNS[kind], f"{kind}.sav"), DEMO_KEY)
        for kind, df in frames.items()
    }
    panel = build_person_month_panel(tables["persons"], tables["assistance"], tables["outcomes"], "2021-01", "2024-12")
    sample = sequential_matching_sample(panel, tables["spells"], "INS01", horizon=12, window=3)
    covariates = covariate_columns(sample)
    result = PropensityScoreMatching(caliper=0.2, exact="month").estimate(sample, covariates, "self_sufficient")
    balance = balance_table(sample, covariates, pairs=result.pairs)
    return Chain(truth, tables, panel, sample, covariates, result, balance)


def test_true_effect_inside_the_confidence_interval(chain: Chain) -> None:
    r, truth = chain.result, chain.truth["true_att_self_sufficiency_12m"]
    assert r.ci_low <= truth <= r.ci_high
    assert r.ci_low > 0  # the planted effect is detected
    assert 0 < r.se < 0.05
    assert r.p_value < 0.01


def test_naive_difference_clearly_outside_the_interval(chain: Chain) -> None:
    r, naive = chain.result, chain.truth["naive_difference"]
    assert not r.ci_low <= naive <= r.ci_high
    # The same naive contrast computed from the sample agrees with the generator's.
    s = chain.sample
    by_group = s.groupby("treated")["self_sufficient"].mean()
    sample_naive = by_group[1] - by_group[0]
    assert sample_naive == pytest.approx(naive, abs=1e-12)


def test_balance_after_matching(chain: Chain) -> None:
    b = chain.balance
    assert tuple(b.columns) == BALANCE_COLUMNS
    assert list(b["covariate"]) == chain.covariates
    assert (b["smd_after"].abs() < 0.1).all(), b
    # Selection is real: history covariates were badly imbalanced before matching.
    before = b.set_index("covariate")["smd_before"]
    assert before["asst_months_12"] > 0.5 and before["born_abroad"] > 0.2
    assert b[["smd_before", "smd_after"]].notna().all().all()
    # Pairs and weights give the same table.
    same = balance_table(chain.sample, chain.covariates, weights=chain.result.weights)
    pd.testing.assert_frame_equal(same, b)


def test_estimate_counts_and_pairs_consistent(chain: Chain) -> None:
    r, s = chain.result, chain.sample
    assert r.estimator == "psm_nn1_caliper" and r.outcome == "self_sufficient"
    assert r.n_treated == int(s["treated"].sum()) == chain.truth["n_treated_with_followup"]
    assert r.n_matched_treated == r.pairs["treated_index"].nunique()
    assert r.n_treated_unmatched == r.n_treated - r.n_matched_treated
    assert r.n_controls_used == r.pairs["control_index"].nunique()
    assert 0 < r.n_later_starter_controls < r.n_controls_used
    assert (s.loc[r.pairs["treated_index"], "treated"] == 1).all()
    assert (s.loc[r.pairs["control_index"], "treated"] == 0).all()
    # Exact matching on calendar month.
    assert (
        s.loc[r.pairs["treated_index"], "month"].to_numpy() == s.loc[r.pairs["control_index"], "month"].to_numpy()
    ).all()
    # Weights of each treated sum to one; the ATT is the mean matched difference.
    assert np.allclose(r.pairs.groupby("treated_index")["weight"].sum(), 1.0)
    y = s["self_sufficient"].astype(float)
    y0_hat = (
        (y.loc[r.pairs["control_index"]].to_numpy() * r.pairs["weight"])
        .groupby(r.pairs["treated_index"].to_numpy())
        .sum()
    )
    assert r.att == pytest.approx(float((y.loc[y0_hat.index] - y0_hat).mean()))
    record = r.to_record()
    assert "pairs" not in record and record["att"] == r.att


def test_panel_shape_and_sparse_fill(chain: Chain) -> None:
    p, assistance = chain.panel, chain.tables["assistance"]
    assert len(p) == 3000 * 48
    assert p["on_assistance"].sum() == len(assistance)
    assert p["amount"].sum() == pytest.approx(assistance["amount"].sum())
    assert (p.loc[p["on_assistance"] == 0, "amount"] == 0).all()
    assert p["employed"].notna().all()
    assert list(p.columns[:6]) == ["person_id", "month", "on_assistance", "amount", "employed", "studying"]


def test_covariates_come_from_before_the_month(chain: Chain) -> None:
    """Recompute the history covariates for a few sample rows straight from the panel."""
    s, p = chain.sample, chain.panel
    rows = s[s.treated == 1].head(5)
    for _, row in rows.iterrows():
        person = p[p["person_id"] == row["person_id"]].set_index("month")
        before = person.loc[: row["month"] - pd.DateOffset(months=1)]
        assert row["asst_months_12"] == before["on_assistance"].tail(12).sum()
        assert row["asst_months_24"] == before["on_assistance"].tail(24).sum()
        assert row["employed_months_12"] == before["employed"].tail(12).sum()
        horizon = person.loc[row["month"] + pd.DateOffset(months=10) : row["month"] + pd.DateOffset(months=12)]
        assert row["self_sufficient"] == int(horizon["on_assistance"].sum() == 0)


def test_every_estimator_covers_the_planted_effect(chain: Chain) -> None:
    """All estimators of study 3 on the default demo: each 95 % CI covers the planted ATT at 12 months; the
    naive difference does not."""
    from insats.tasks.evaluation.effects import (
        ESTIMATOR_CODES,
        bootstrap_chunk,
        effects_table,
        fit_all,
        make_estimators,
    )

    s, cov, truth = chain.sample, chain.covariates, chain.truth["true_att_self_sufficiency_12m"]
    ests = make_estimators(ESTIMATOR_CODES, seed=1)
    reps = bootstrap_chunk(s, cov, ests, ["self_sufficient"], list(range(29)))
    table = effects_table(fit_all(s, cov, ests, ["self_sufficient"], reps), "INS01", 12).set_index("estimator")
    adjusted = table.drop(index="naive_difference")
    assert len(adjusted) == len(ESTIMATOR_CODES) - 1
    for name, row in adjusted.iterrows():
        assert row["ci_low"] <= truth <= row["ci_high"], (name, row["att"], row["ci_low"], row["ci_high"])
        assert 0 < row["se"] < 0.05 and row["ci_low"] > 0, name
    naive = table.loc["naive_difference"]
    assert not naive["ci_low"] <= truth <= naive["ci_high"]
    assert (adjusted["n_later_starter_controls"] > 0).all() and (table["n_eligible_controls"] > 1000).all()


def test_main_horizon_diagnostics_are_of_the_headline_fit(chain: Chain) -> None:
    """The diagnostics refit the headline 1:1 PSM: their pairs and balance are the effects row's matching."""
    from insats.config import OutcomeEvaluation
    from insats.tasks.evaluation.diagnostics import effects_for_sample, main_horizon_diagnostics

    settings = OutcomeEvaluation(estimators=["psm_nn1", "naive"], outcomes=["self_sufficient", "employed_at_horizon"])
    out = effects_for_sample(chain.sample, [], settings, "INS01", 12)
    diag = main_horizon_diagnostics(chain.sample, settings, "INS01", 12)
    pd.testing.assert_frame_equal(diag["pairs"], chain.result.pairs)
    pd.testing.assert_frame_equal(diag["balance"].drop(columns="intervention_id"), chain.balance)
    row = out["effects"].set_index(["estimator", "outcome"]).loc[("psm_nn1_caliper", "self_sufficient")]
    assert diag["pairs"]["treated_index"].nunique() == row["n_treated"] - row["n_treated_unmatched"]
    assert diag["pairs"]["control_index"].nunique() == row["n_controls"]
    assert set(diag["sensitivity"]["outcome"]) == {"self_sufficient", "employed_at_horizon"}
    assert (diag["heterogeneity"]["outcome"] == "self_sufficient").all() and len(diag["heterogeneity"]) > 0
    assert set(out["balance_detail"]["estimator"]) == {"psm_nn1_caliper"}  # the naive difference has no balance
    assert out["effects"]["se"].notna().all()  # both have analytic SEs: no bootstrap needed


def test_evaluation_figures_one_png_of_each_kind_per_intervention(chain: Chain) -> None:
    from insats.tasks.evaluation.balance import overlap_table
    from insats.tasks.evaluation.figures import evaluation_figures

    overlap = overlap_table(chain.result.score, chain.sample["treated"]).assign(intervention_id="INS01")
    events = pd.DataFrame(
        {
            "intervention_id": "INS01",
            "design": "matched_pairs",
            "rel_month": [-2, -1, 0, 1],
            "att": [0.0, 0.0, -0.05, -0.1],
            "se": 0.02,
            "ci_low": [-0.04, -0.04, -0.09, -0.14],
            "ci_high": [0.04, 0.04, -0.01, -0.06],
            "p_value": 0.5,
            "n_treated": 100,
        }
    )
    curves = pd.DataFrame(
        {
            "intervention_id": "INS01",
            "group": ["control", "control", "treated", "treated"],
            "time": [0, 5, 0, 5],
            "survival": [1.0, 0.8, 1.0, 0.6],
        }
    ).assign(ci_low=lambda d: d["survival"] - 0.05, ci_high=lambda d: d["survival"].clip(upper=1.0))
    figures = evaluation_figures(chain.balance.assign(intervention_id="INS01"), overlap, events, curves, "sv")
    assert sorted(figures) == ["event_study_INS01", "love_INS01", "overlap_INS01", "survival_INS01"]
    assert all(png[:8] == b"\x89PNG\r\n\x1a\n" for png in figures.values())


def test_panel_and_design_equal_the_pandas_reference(chain: Chain) -> None:
    """The polars-coded panel and the reshaped design give exactly the frames of the pandas implementation
    they replaced (tests/helpers/reference_pandas.py) on the demo register, every horizon, and for a shuffled panel
    (the general scatter path of the design)."""
    from tests.helpers import reference_pandas as ref

    t = chain.tables
    expected = ref.build_person_month_panel(t["persons"], t["assistance"], t["outcomes"], "2021-01", "2024-12")
    pd.testing.assert_frame_equal(chain.panel, expected, check_exact=True)
    for horizon in (6, 12, 24):
        got = sequential_matching_sample(chain.panel, t["spells"], "INS01", horizon=horizon, window=3)
        want = ref.sequential_matching_sample(expected, t["spells"], "INS01", horizon=horizon, window=3)
        pd.testing.assert_frame_equal(got, want, check_exact=True)
    shuffled = chain.panel.sample(frac=1.0, random_state=3).reset_index(drop=True)
    got = sequential_matching_sample(shuffled, t["spells"], "INS02", horizon=12, window=3, min_history=6)
    want = ref.sequential_matching_sample(shuffled, t["spells"], "INS02", horizon=12, window=3, min_history=6)
    pd.testing.assert_frame_equal(got, want, check_exact=True)


def test_panel_codes_ids_from_any_string_dtype(chain: Chain) -> None:
    """Object, Arrow-string and categorical person ids give the same panel; an unknown id is named."""
    t = chain.tables
    for dtype in ("string", "category", object):
        a = t["assistance"].assign(person_id=t["assistance"]["person_id"].astype(dtype))
        o = t["outcomes"].assign(person_id=t["outcomes"]["person_id"].astype(dtype))
        got = build_person_month_panel(t["persons"], a, o, "2021-01", "2024-12")
        pd.testing.assert_frame_equal(got, chain.panel, check_exact=True)
    bad = t["assistance"].assign(person_id=t["assistance"]["person_id"].astype(object))
    bad.loc[5, "person_id"] = "zzzzzzzzzzzzzzzz"
    with pytest.raises(ValueError, match="assistance: 1 row.*zzzzzzzzzzzzzzzz"):
        build_person_month_panel(t["persons"], bad, t["outcomes"], "2021-01", "2024-12")
