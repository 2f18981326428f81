"""Estimators of study 3 against independent computations on small fixtures (matching, weighting, AIPW,
bootstrap, sensitivity, heterogeneity, balance diagnostics)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats
from sklearn.linear_model import LogisticRegression

from insats.tasks.evaluation.balance import balance_table, overlap_table
from insats.tasks.evaluation.bootstrap import (
    bootstrap_replicates,
    bootstrap_se,
    cluster_resample_positions,
    replicate_seeds,
)
from insats.tasks.evaluation.effects import bootstrap_chunk, effects_table, fit_all, make_estimators
from insats.tasks.evaluation.estimators import EffectEstimator, NaiveDifference, PropensityScoreMatching
from insats.tasks.evaluation.heterogeneity import subgroup_effects
from insats.tasks.evaluation.inference import with_bootstrap
from insats.tasks.evaluation.matching import nearest_neighbour_match
from insats.tasks.evaluation.propensity import fit_logit
from insats.tasks.evaluation.sensitivity import (
    e_value_rr,
    e_values,
    one_control_per_treated,
    rosenbaum_binary,
    rosenbaum_bounds,
    rosenbaum_wilcoxon,
)
from insats.tasks.evaluation.weighting import AugmentedIPW, InverseProbabilityWeighting, att_weights
from tests.helpers.estimator_data import simulate_sample

# ------------------------------------------------------------------------------ propensity model


def test_newton_logit_agrees_with_scikit_learn() -> None:
    rng = np.random.default_rng(1)
    x = rng.normal(size=(2000, 3)) * [1.0, 5.0, 0.2] + [0.0, 10.0, 0.0]
    y = (rng.random(2000) < 1 / (1 + np.exp(-(0.5 * x[:, 0] - 0.2 * x[:, 1] + 1.5)))).astype(int)
    xs = (x - x.mean(axis=0)) / x.std(axis=0)
    ref = LogisticRegression(C=1e4, max_iter=5000, tol=1e-10).fit(xs, y).decision_function(xs)
    assert np.allclose(fit_logit(x, y), ref, atol=1e-4)
    assert np.all(fit_logit(x, np.zeros(2000)) < -10)  # constant outcome: no error, a constant logit


# ------------------------------------------------------------------------------ matching


def test_k_nearest_with_replacement_agrees_with_brute_force() -> None:
    rng = np.random.default_rng(3)
    n = 2000
    score = rng.normal(size=n)
    treated = rng.random(n) < 0.1
    stratum = rng.integers(0, 5, size=n)
    pairs = nearest_neighbour_match(score, treated, stratum, caliper=0.2, k=3)
    got = pairs.groupby("treated_pos")["control_pos"].apply(set).to_dict()
    for t in np.flatnonzero(treated):
        pool = np.flatnonzero(~treated & (stratum == stratum[t]))
        d = np.abs(score[pool] - score[t])
        nearest = pool[np.argsort(d, kind="stable")[:3]]
        expected = {int(c) for c in nearest if abs(score[c] - score[t]) <= 0.2}
        assert got.get(t, set()) == expected
    assert np.allclose(pairs.groupby("treated_pos")["weight"].sum(), 1.0)


def _greedy_reference(score: np.ndarray, treated: np.ndarray, stratum: np.ndarray, caliper: float) -> dict:
    """Plain O(n^2) greedy matching without replacement, treated in descending score order."""
    used: set[int] = set()
    out = {}
    for t in sorted(np.flatnonzero(treated), key=lambda i: -score[i]):
        pool = [c for c in np.flatnonzero(~treated & (stratum == stratum[t])) if c not in used]
        if not pool:
            continue
        c = min(pool, key=lambda j: (abs(score[j] - score[t]), score[j] > score[t]))
        if abs(score[c] - score[t]) <= caliper:
            out[int(t)] = int(c)
            used.add(int(c))
    return out


def test_greedy_without_replacement_agrees_with_reference() -> None:
    rng = np.random.default_rng(4)
    n = 600
    score = rng.normal(size=n)
    treated = rng.random(n) < 0.25  # many treated per control: controls run out
    stratum = rng.integers(0, 3, size=n)
    pairs = nearest_neighbour_match(score, treated, stratum, caliper=0.5, replace=False)
    got = dict(zip(pairs["treated_pos"], pairs["control_pos"], strict=True))
    assert got == _greedy_reference(score, treated, stratum, 0.5)
    assert pairs["control_pos"].is_unique
    two = nearest_neighbour_match(score, treated, stratum, caliper=0.5, replace=False, k=2)
    assert two["control_pos"].is_unique and two.groupby("treated_pos").size().max() == 2


def _cells_fixture() -> pd.DataFrame:
    """Two cells of a binary covariate; 2 persons appear twice (as controls in two months)."""
    rows = [
        # person, month, treated, x, y
        ("a", 1, 1, 0, 1),
        ("b", 1, 1, 0, 0),
        ("c", 1, 0, 0, 0),
        ("d", 1, 0, 0, 1),
        ("e", 1, 0, 0, 0),
        ("f", 1, 1, 1, 1),
        ("g", 1, 0, 1, 1),
        ("h", 1, 0, 1, 0),
        ("c", 2, 0, 0, 1),
        ("i", 2, 1, 1, 1),
        ("g", 2, 0, 1, 0),
        ("j", 2, 0, 1, 0),
        ("k", 2, 0, 1, 0),
    ]
    return pd.DataFrame(rows, columns=["person_id", "month", "treated", "x", "y"])


def _exact_att(df: pd.DataFrame) -> float:
    """Hand computation: each treated minus the mean outcome of the controls of its (month, x) cell."""
    diffs = []
    for _, t in df[df.treated == 1].iterrows():
        cell = df[(df.treated == 0) & (df.month == t.month) & (df.x == t.x)]
        diffs.append(t.y - cell.y.mean())
    return float(np.mean(diffs))


def test_matching_and_weighting_equal_exact_cell_att() -> None:
    """With one binary covariate the score is constant within cells: 1:1 matching with ties, IPW and AIPW
    (saturated in the cell) all reduce to exact matching within (month, x)."""
    df = _cells_fixture()
    truth = _exact_att(df)  # cells: (1,0): 0.5 - 1/3 twice... computed by hand below
    assert truth == pytest.approx(((1 - 1 / 3) + (0 - 1 / 3) + (1 - 0.5) + (1 - 0.0)) / 4)
    psm = PropensityScoreMatching(caliper=10.0, exact="month").estimate(df, ["x"], "y")
    assert psm.att == pytest.approx(truth)
    strata = df.assign(cell=df["month"] * 10 + df["x"])
    ipw = InverseProbabilityWeighting(exact="cell", trim=0.0, n_boot=0).estimate(strata, ["x"], "y")
    assert ipw.att == pytest.approx(truth)
    aipw = AugmentedIPW(exact="cell", trim=0.0, n_boot=0).estimate(strata, ["x"], "y")
    assert aipw.att == pytest.approx(truth, abs=1e-6)
    assert ipw.se > 0 and ipw.variance_method == "robust_sandwich"
    unrun = InverseProbabilityWeighting(exact="cell", n_boot=0, variance="bootstrap").estimate(strata, ["x"], "y")
    assert np.isnan(unrun.se) and unrun.variance_method == "none"
    naive = NaiveDifference().estimate(df, ["x"], "y")
    assert naive.att == pytest.approx(df[df.treated == 1].y.mean() - df[df.treated == 0].y.mean())


def test_att_weights_normalise_within_strata_and_trim() -> None:
    score = np.array([0.0, 1.0, -1.0, 0.5, 3.0, 5.5, 3.5, -2.0])
    treated = np.array([1, 1, 0, 0, 1, 1, 0, 0], dtype=bool)
    stratum = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    w = att_weights(score, treated, stratum, trim=0.01, common_support=True)
    # Stratum 1: treated at 5.5 is above logit(0.99) = 4.6 and above every control score: dropped.
    assert w[5] == 0 and w[4] == 1
    for s in (0, 1):
        c = (~treated) & (stratum == s)
        assert -w[c].sum() == pytest.approx((w[treated & (stratum == s)] > 0).sum())
    odds = np.exp(score)
    assert w[2] / w[3] == pytest.approx(odds[2] / odds[3])
    with pytest.raises(ValueError, match="trim"):
        att_weights(score, treated, stratum, trim=0.7)


# ------------------------------------------------------------------------------ bootstrap


def test_cluster_resample_keeps_whole_persons_and_is_seeded() -> None:
    codes = np.array([0, 0, 1, 2, 2, 2, 3])
    pos = cluster_resample_positions(codes, seed=7)
    drawn = np.bincount(codes[pos], minlength=4) / np.bincount(codes)
    assert np.allclose(drawn, np.round(drawn))  # each person contributes all his rows, whole times
    assert drawn.sum() == 4 and np.all(np.diff(pos) >= 0)
    assert np.array_equal(pos, cluster_resample_positions(codes, seed=7))
    assert replicate_seeds(1, 5) == replicate_seeds(1, 5) and len(set(replicate_seeds(1, 50))) == 50


def test_bootstrap_chunks_combine_to_the_same_answer() -> None:
    df, _ = simulate_sample(0, n_persons=600)
    est = InverseProbabilityWeighting(exact=None, n_boot=0, variance="bootstrap")
    seeds = replicate_seeds(3, 20)
    whole = bootstrap_replicates(est.point_estimates, df, ["x1", "x2"], ["y"], seeds)
    parts = pd.concat(
        [bootstrap_replicates(est.point_estimates, df, ["x1", "x2"], ["y"], s) for s in (seeds[:7], seeds[7:])]
    )
    pd.testing.assert_frame_equal(whole.reset_index(drop=True), parts.reset_index(drop=True))
    se = bootstrap_se(whole).iloc[0]
    assert se["n_replicates"] == 20 and 0 < se["se"] < 0.2
    # The estimator's own bootstrap gives the same SE for the same seeds.
    own = InverseProbabilityWeighting(exact=None, n_boot=20, seed=3, variance="bootstrap").estimate(
        df, ["x1", "x2"], "y"
    )
    assert own.se == pytest.approx(se["se"])
    assert with_bootstrap(est.estimate(df, ["x1", "x2"], "y"), whole).se == pytest.approx(se["se"])
    # The multi-estimator chunk draws the same resamples.
    chunk = bootstrap_chunk(df, ["x1", "x2"], [est], ["y"], seeds)
    assert np.allclose(chunk["att"].to_numpy(), whole["att"].to_numpy())


# ------------------------------------------------------------------------------ statistical properties


def test_selection_on_observables_biases_naive_not_adjusted() -> None:
    df, tau = simulate_sample(11, n_persons=4000)
    cov = ["x1", "x2"]
    naive = NaiveDifference().estimate(df, cov, "y")
    assert naive.ci_low > tau  # clearly biased upwards
    estimators: list[EffectEstimator] = [
        PropensityScoreMatching(exact="month"),
        PropensityScoreMatching(exact="month", k=3),
        PropensityScoreMatching(exact="month", replace=False, n_boot=30),
        InverseProbabilityWeighting(exact="month", n_boot=30),
        AugmentedIPW(exact="month", n_boot=30),
    ]
    for est in estimators:
        r = est.estimate(df, cov, "y")
        assert r.ci_low <= tau <= r.ci_high, (r.estimator, r.att, r.ci_low, r.ci_high)
        assert abs(r.att - tau) < abs(naive.att - tau) / 2, r.estimator
        assert 0 < r.se < 0.05


def test_no_effect_centred_on_zero() -> None:
    atts = {"psm": [], "aipw": []}
    for seed in range(8):
        df, _ = simulate_sample(100 + seed, n_persons=1500, effect=0.0)
        atts["psm"].append(PropensityScoreMatching(exact="month").estimate(df, ["x1", "x2"], "y").att)
        atts["aipw"].append(AugmentedIPW(exact="month", n_boot=0).estimate(df, ["x1", "x2"], "y").att)
    for values in atts.values():
        mean, se = np.mean(values), np.std(values, ddof=1) / np.sqrt(len(values))
        assert abs(mean) < 3 * se + 0.01


def test_gbm_propensity_and_one_interface() -> None:
    df, tau = simulate_sample(5, n_persons=3000)
    r = PropensityScoreMatching(exact="month", ps_model="gbm", variance="ai2006").estimate(df, ["x1", "x2"], "y")
    assert r.estimator == "psm_nn1_caliper_gbm" and r.ci_low <= tau <= r.ci_high
    for cls in (PropensityScoreMatching, InverseProbabilityWeighting, AugmentedIPW, NaiveDifference):
        assert issubclass(cls, EffectEstimator)
    with pytest.raises(ValueError, match="ps_model"):
        InverseProbabilityWeighting(ps_model="forest")
    with pytest.raises(ValueError, match="k must be"):
        PropensityScoreMatching(k=0)
    with pytest.raises(ValueError, match="missing values"):
        AugmentedIPW().fit(df.assign(y=df["y"].astype("Int8").mask(df.index == 3)), ["x1"], "y")
    with pytest.raises(ValueError, match="covariate"):
        InverseProbabilityWeighting().fit(df.assign(x1=df["x1"].mask(df.index == 3)), ["x1"], "y")


def test_effects_table_one_row_per_estimator_and_outcome() -> None:
    df, _ = simulate_sample(6, n_persons=800)
    df["y_known"] = df["y"].astype("Int8").mask(df.index % 10 == 0)  # unknown for 10 % of rows
    ests = make_estimators(["psm_nn1", "psm_nn1_norepl", "ipw", "aipw", "naive"], seed=1)
    outs = ["y", "y_count", "y_known"]
    reps = bootstrap_chunk(df, ["x1", "x2"], ests, outs, replicate_seeds(1, 10))
    table = effects_table(fit_all(df, ["x1", "x2"], ests, outs, reps), "INS09", 6)
    assert len(table) == 15 and not table.duplicated(["outcome", "estimator"]).any()
    assert table["se"].notna().all() and (table["ci_low"] <= table["ci_high"]).all()
    methods = table.groupby("estimator")["variance_method"].unique().map(list).to_dict()
    assert methods == {
        "psm_nn1_caliper": ["abadie_imbens_2016"],
        "psm_nn1_norepl_caliper": ["bootstrap_persons"],
        "ipw_att": ["robust_sandwich"],
        "aipw_att": ["robust_sandwich"],
        "naive_difference": ["robust_sandwich"],
    }
    known = table[table["outcome"] == "y_known"]
    assert (known["n_treated"] < table.loc[table["outcome"] == "y", "n_treated"].iloc[0]).all()
    with pytest.raises(ValueError, match="unknown estimator"):
        make_estimators(["psm_nn1", "cem"])


# ------------------------------------------------------------------------------ sensitivity


def test_rosenbaum_bounds_agree_with_classical_tests_at_gamma_one() -> None:
    rng = np.random.default_rng(8)
    yt = (rng.random(200) < 0.5).astype(float)
    yc = (rng.random(200) < 0.35).astype(float)
    a, b = int(((yt == 1) & (yc == 0)).sum()), int(((yt == 0) & (yc == 1)).sum())
    exact = stats.binomtest(a, a + b, 0.5, alternative="greater").pvalue
    assert rosenbaum_binary(yt, yc, 1.0) == pytest.approx(exact)
    d = rng.normal(0.3, 1.0, size=80).round(1)  # with ties and zeros
    ref = stats.wilcoxon(d, zero_method="wilcox", correction=False, alternative="greater", method="approx")
    assert rosenbaum_wilcoxon(d, 1.0) == pytest.approx(ref.pvalue, rel=1e-6)
    table = rosenbaum_bounds(yt, yc)
    assert table["p_upper"].is_monotonic_increasing and table["test"].iloc[0] == "mcnemar"
    g = table["gamma_critical"].iloc[0]
    assert 1 < g < 5 and rosenbaum_binary(yt, yc, g) == pytest.approx(0.05, abs=1e-3)
    assert rosenbaum_bounds(yt * 3, yc * 3)["test"].iloc[0] == "wilcoxon"


def test_e_values_by_hand() -> None:
    assert e_value_rr(3.9) == pytest.approx(3.9 + np.sqrt(3.9 * 2.9))  # VanderWeele & Ding's example: 7.26
    assert e_value_rr(1 / 3.9) == pytest.approx(e_value_rr(3.9))
    point, ci = e_values(0.15, 0.05, 0.25, treated_mean=0.45)
    assert point == pytest.approx(e_value_rr(0.45 / 0.30)) and ci == pytest.approx(e_value_rr(0.45 / 0.40))
    assert e_values(0.15, -0.01, 0.3, treated_mean=0.45)[1] == 1.0
    assert e_values(-2.0, -3.0, -1.0, outcome_sd=4.0)[0] == pytest.approx(e_value_rr(np.exp(-0.91 * 0.5)))
    pairs = pd.DataFrame({"treated_index": [1, 1, 2], "control_index": [9, 8, 7], "weight": [0.5, 0.5, 1.0]})
    assert one_control_per_treated(pairs).to_dict("list") == {"treated_index": [1, 2], "control_index": [8, 7]}


# ------------------------------------------------------------------------------ heterogeneity, diagnostics


def test_heterogeneity_recovers_subgroup_effects() -> None:
    df, _ = simulate_sample(21, n_persons=5000, effect=0.0)
    rng = np.random.default_rng(0)
    boost = (df["x2"] == 1) & (df["treated"] == 1) & (df["y"] == 0) & (rng.random(len(df)) < 0.4)
    df.loc[boost, "y"] = 1  # an effect only where x2 = 1
    labels = pd.DataFrame({"x2_group": np.where(df["x2"] == 1, "one", "zero")}, index=df.index)
    table = subgroup_effects(PropensityScoreMatching(exact="month"), df, ["x1", "x2"], "y", labels).set_index("group")
    assert table.loc["zero", "ci_low"] <= 0 <= table.loc["zero", "ci_high"]
    assert table.loc["one", "ci_low"] > 0.1
    assert set(table["dimension"]) == {"x2_group"}


def test_variance_ratios_and_overlap_by_hand() -> None:
    sample = pd.DataFrame({"treated": [1, 1, 0, 0, 0, 0], "x": [1.0, 3.0, 0.0, 2.0, 4.0, 10.0]})
    b = balance_table(sample, ["x"], weights=pd.Series([1.0, 1.0, 0.0, 1.0, 1.0, 0.0])).iloc[0]
    assert b["var_ratio_before"] == pytest.approx(2.0 / np.var([0, 2, 4, 10], ddof=1))
    assert b["var_ratio_after"] == pytest.approx(2.0 / 2.0)
    ov = overlap_table(np.array([0.0, 0.5, 1.0, 2.0]), np.array([1, 0, 0, 1]), n_bins=2)
    assert ov["n_treated"].tolist() == [1, 1] and ov["n_controls"].tolist() == [1, 1]  # 1.0 opens bin 2
    assert ov["logit_low"].iloc[0] == 0.0 and ov["logit_high"].iloc[-1] == 2.0
