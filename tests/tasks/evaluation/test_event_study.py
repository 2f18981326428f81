"""Event-study DiD (Callaway-Sant'Anna, aggregated to event time) against independent computations."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import statsmodels.api as sm

from insats.tasks.evaluation.event_study import event_study
from insats.tasks.evaluation.panel_matrix import outcome_matrix
from insats.tasks.evaluation.twfe_event_study import twfe_event_study
from insats.tasks.reporting.evaluation_figures import event_study_plot

MONTH0 = pd.Timestamp("2021-01-01")


def make_panel(y: np.ndarray, g: np.ndarray) -> tuple[pd.DataFrame, pd.Series]:
    """Long panel from a person x month array; ``g`` = start month index (>= T: never)."""
    n, t = y.shape
    months = pd.date_range(MONTH0, periods=t, freq="MS")
    ids = np.array([f"p{i:05d}" for i in range(n)])
    panel = pd.DataFrame({"person_id": np.repeat(ids, t), "month": np.tile(months, n), "y": y.reshape(-1)})
    started = np.flatnonzero(g < t)
    starts = pd.Series(
        [MONTH0 + pd.DateOffset(months=int(g[i]), days=9) for i in started], index=ids[started], dtype="datetime64[ns]"
    )
    return panel, starts


def simulate(seed: int, n: int, t: int, effect: bool, never_share: float = 0.3) -> tuple[np.ndarray, np.ndarray]:
    """y = person FE + month FE + tau(e) + noise; tau(e) = 0.1 * min(e + 1, 5) (0 before start)."""
    rng = np.random.default_rng(seed)
    g = np.where(rng.random(n) < never_share, t + 5, rng.integers(1, t, size=n))
    rel = np.arange(t)[None, :] - g[:, None]
    tau = np.where((rel >= 0) & effect, 0.1 * np.minimum(rel + 1, 5), 0.0)
    y = rng.normal(size=(n, 1)) + np.sin(np.arange(t))[None, :] + tau + rng.normal(scale=0.5, size=(n, t))
    return y, g


def brute_force(y: np.ndarray, g: np.ndarray, leads: int, lags: int, control: str) -> pd.DataFrame:
    """Cell-by-cell CS estimator with explicit per-person influence functions (independent of the module)."""
    n, t_max = y.shape
    cohort = np.where(g >= t_max, -1, g)
    rows = []
    for e in range(-leads, lags + 1):
        if e == -1:
            continue
        cells = []
        for g0 in sorted(set(cohort[cohort >= 1])):
            t, b = g0 + e, g0 - 1
            if not 0 <= t < t_max:
                continue
            tr = cohort == g0
            ct = cohort == -1 if control == "never_treated" else ((cohort == -1) | (cohort > max(t, b))) & ~tr
            if not ct.any():
                continue
            d = y[:, t] - y[:, b]
            cells.append((g0, tr, ct, d, d[tr].mean() - d[ct].mean()))
        if not cells:
            continue
        n_tot = sum(c[1].sum() for c in cells)
        theta = sum(c[1].sum() * c[4] for c in cells) / n_tot
        psi = np.zeros(n)
        for _g0, tr, ct, d, att in cells:
            w = tr.sum() / n_tot
            psi[tr] += w * (d[tr] - d[tr].mean()) / tr.sum()
            psi[ct] -= w * (d[ct] - d[ct].mean()) / ct.sum()
            psi[tr] += (att - theta) / n_tot
        rows.append((e, theta, np.sqrt((psi**2).sum())))
    return pd.DataFrame(rows, columns=["rel_month", "att", "se"])


def test_two_by_two_table_of_means() -> None:
    # One cohort starting in month 2 and never-treated persons, 4 months: the DiD of a 2x2 table of means.
    rng = np.random.default_rng(3)
    y = rng.normal(size=(40, 4))
    g = np.where(np.arange(40) < 15, 2, 99)
    panel, starts = make_panel(y, g)
    res = event_study(panel, starts, "y", leads=2, lags=1, control_group="never_treated")
    coef = res.coefficients.set_index("rel_month")
    tr, ct = g == 2, g == 99
    for e, t in ((0, 2), (1, 3), (-2, 0)):
        table = {
            (arm, per): y[mask, col].mean() for arm, mask in (("T", tr), ("C", ct)) for per, col in (("t", t), ("b", 1))
        }
        did = (table["T", "t"] - table["T", "b"]) - (table["C", "t"] - table["C", "b"])
        assert coef.loc[e, "att"] == pytest.approx(did, abs=1e-12)
        # SE: heteroskedasticity-robust (HC0) OLS of the person-level change on the treated dummy.
        d = y[:, t] - y[:, 1]
        ols = sm.OLS(d, sm.add_constant(tr.astype(float))).fit(cov_type="HC0")
        assert coef.loc[e, "se"] == pytest.approx(ols.bse[1], rel=1e-9)
    assert coef.loc[-1, "att"] == 0.0
    assert res.n_treated_persons == 15


@pytest.mark.parametrize("control", ["never_treated", "not_yet_treated"])
def test_matches_cell_by_cell_computation(control: str) -> None:
    y, g = simulate(seed=11, n=300, t=9, effect=True)
    panel, starts = make_panel(y, g)
    res = event_study(panel, starts, "y", leads=4, lags=4, control_group=control)
    ref = brute_force(y, g, 4, 4, control)
    got = res.coefficients[res.coefficients["rel_month"] != -1].reset_index(drop=True)
    assert got["rel_month"].tolist() == ref["rel_month"].tolist()
    np.testing.assert_allclose(got["att"], ref["att"], atol=1e-10)
    np.testing.assert_allclose(got["se"], ref["se"], rtol=1e-8)


@pytest.mark.parametrize("control", ["never_treated", "not_yet_treated"])
def test_planted_dynamic_effect_recovered(control: str) -> None:
    y, g = simulate(seed=5, n=6000, t=24, effect=True)
    panel, starts = make_panel(y, g)
    res = event_study(panel, starts, "y", leads=6, lags=8, control_group=control)
    coef = res.coefficients.set_index("rel_month")
    truth = pd.Series({e: (0.1 * min(e + 1, 5) if e >= 0 else 0.0) for e in coef.index})
    z = (coef["att"] - truth) / coef["se"].where(coef["se"] > 0)
    assert z.abs().max() < 3.5
    assert ((coef["ci_low"] <= truth) & (truth <= coef["ci_high"])).mean() >= 0.8
    assert coef.loc[4, "att"] == pytest.approx(0.5, abs=0.06)
    assert res.pretrend_p > 0.001


def test_no_effect_centred_on_zero() -> None:
    # 20 seeded replications: the pooled z-scores of the post-period average are centred on 0 with sd ~ 1.
    zs = []
    for seed in range(20):
        y, g = simulate(seed=100 + seed, n=800, t=12, effect=False)
        panel, starts = make_panel(y, g)
        res = event_study(panel, starts, "y", leads=3, lags=4)
        zs.append(res.overall["att"] / res.overall["se"])
    zs = np.asarray(zs)
    assert abs(zs.mean()) < 0.6  # sd of the mean of 20 N(0,1) is 0.22
    assert 0.5 < zs.std() < 1.6
    assert (np.abs(zs) < 1.96).mean() >= 0.8


def test_staggered_naive_twfe_biased_cs_not() -> None:
    # No never-treated, three cohorts, effects growing with time since start and differing by cohort;
    # no noise, so the Callaway-Sant'Anna estimates must be exact and the TWFE ones are not.
    n_per, t = 20, 14
    g = np.repeat([3, 6, 9], n_per)
    rng = np.random.default_rng(0)
    rel = np.arange(t)[None, :] - g[:, None]
    scale = np.repeat([1.0, 2.0, 3.0], n_per)[:, None]
    tau = np.where(rel >= 0, (rel + 1) * 0.1 * scale, 0.0)
    y = rng.normal(size=(g.size, 1)) + 0.05 * np.arange(t)[None, :] + tau
    panel, starts = make_panel(y, g)
    res = event_study(panel, starts, "y", leads=2, lags=4, control_group="not_yet_treated")
    coef = res.coefficients.set_index("rel_month")
    for e in range(0, 5):
        cohorts = [c for c in (3, 6, 9) if c + e < 9]  # cells with not-yet-treated controls
        truth = np.mean([(e + 1) * 0.1 * {3: 1, 6: 2, 9: 3}[c] for c in cohorts])
        assert coef.loc[e, "att"] == pytest.approx(truth, abs=1e-9)
    for e in (-2,):
        assert coef.loc[e, "att"] == pytest.approx(0.0, abs=1e-9)
    # Naive static TWFE (person and month dummies, one post indicator), independently with statsmodels.
    d = (rel >= 0).astype(float).reshape(-1)
    person = np.repeat(np.arange(g.size), t)
    month = np.tile(np.arange(t), g.size)
    x = np.column_stack([d, np.eye(g.size)[person], np.eye(t)[month][:, 1:]])
    beta = sm.OLS(y.reshape(-1), x).fit().params[0]
    true_avg = tau[rel >= 0].mean()
    assert abs(beta - true_avg) > 0.3  # badly biased (it even weights late effects negatively)
    dynamic = twfe_event_study(panel, starts, "y", leads=2, lags=4).set_index("rel_month")
    assert (dynamic["att"] - coef["att"].reindex(dynamic.index)).abs().max() > 0.05


def test_bad_input_rejected() -> None:
    y, g = simulate(seed=1, n=30, t=6, effect=False)
    panel, starts = make_panel(y, g)
    with pytest.raises(ValueError, match="lacks column"):
        event_study(panel.drop(columns="y"), starts, "y")
    with pytest.raises(ValueError, match="one row per person and month"):
        event_study(panel.iloc[1:], starts, "y")
    broken = panel.copy()
    broken.loc[3, "y"] = np.nan
    with pytest.raises(ValueError, match="missing value"):
        event_study(broken, starts, "y")
    with pytest.raises(ValueError, match="control_group"):
        event_study(panel, starts, "y", control_group="everyone")  # type: ignore[arg-type]


def test_first_month_starters_dropped_and_matrix_order() -> None:
    y, g = simulate(seed=2, n=50, t=6, effect=False)
    g[:4] = 0
    panel, starts = make_panel(y, g)
    res = event_study(panel, starts, "y", leads=2, lags=2)
    assert res.n_dropped_no_pre_period == 4
    mat, ids, months = outcome_matrix(panel.sample(frac=1.0, random_state=0), "y")
    order = ids.get_indexer([f"p{i:05d}" for i in range(50)])
    np.testing.assert_array_equal(mat[order], y)
    assert months[0] == MONTH0


def test_plot_is_png_and_deterministic() -> None:
    y, g = simulate(seed=4, n=400, t=12, effect=True)
    panel, starts = make_panel(y, g)
    res = event_study(panel, starts, "y", leads=3, lags=5)
    png = event_study_plot(res.coefficients, lang="sv")
    assert png[:8] == b"\x89PNG\r\n\x1a\n"
    assert png == event_study_plot(res.coefficients, lang="sv")


def test_matched_event_study_equals_a_hand_computed_pair_difference():
    from insats.tasks.evaluation.matched_event_study import matched_event_study

    months = pd.date_range("2021-01-01", periods=6, freq="MS")
    # Person a starts in month 3 (index 2): assistance 1,1,1,0,0,0. Control b matched in month 3: 1,1,1,1,1,0.
    panel = pd.DataFrame(
        {
            "person_id": ["a"] * 6 + ["b"] * 6 + ["c"] * 6,
            "month": list(months) * 3,
            "on_assistance": [1, 1, 1, 0, 0, 0] + [1, 1, 1, 1, 1, 0] + [0, 1, 1, 1, 0, 0],
        }
    )
    sample = pd.DataFrame({"person_id": ["a", "b", "c"], "month": [months[2]] * 3, "treated": [1, 0, 0]})
    pairs = pd.DataFrame({"treated_index": [0, 0], "control_index": [1, 2], "weight": [0.5, 0.5]})
    table = matched_event_study(panel, sample, pairs, leads=2, lags=3).set_index("rel_month")
    # Pair differences (a - b, a - c) around month index 2, minus the difference at rel -1 (index 1):
    # rel:     -2   -1    0    1    2    3
    # a-b:      0    0    0   -1   -1    0   -> minus base 0
    # a-c:      1    0    0   -1    0    0   -> minus base 0
    expected = {-2: 0.5, -1: 0.0, 0: 0.0, 1: -1.0, 2: -0.5, 3: 0.0}
    for rel, value in expected.items():
        assert table.loc[rel, "att"] == pytest.approx(value)
    assert table.loc[-1, "se"] == 0 and (table["n_treated"] == 1).all()


def test_general_callaway_santanna_equals_the_register_event_study() -> None:
    # insats.tasks.evaluation.did (any panel) without covariates = event_study (sufficient statistics).
    from insats.tasks.evaluation.conditional_event_study import conditional_event_study

    y, g = simulate(11, 300, 14, effect=True)
    panel, starts = make_panel(y, g)
    fast = event_study(panel, starts, "y", leads=4, lags=6).coefficients
    general, counts = conditional_event_study(panel, starts, "y", leads=4, lags=6, covariates=())
    assert list(general["rel_month"]) == list(fast["rel_month"])
    np.testing.assert_allclose(general["att"], fast["att"], atol=1e-12)
    np.testing.assert_allclose(general["se"], fast["se"], atol=1e-12)
    assert (general["n_treated"].to_numpy() == fast["n_treated"].to_numpy()).all()
    assert counts["n_cells_regression"] == 0


def _selected_on_history(seed: int, n: int = 1500, t: int = 24) -> tuple[pd.DataFrame, pd.Series]:
    """0/1 assistance as a persistent Markov chain; persons on assistance start with a monthly chance of 10 % x
    their share of the last 12 months on assistance; starting lowers the chance of staying on assistance.
    Starters are selected on their history (what the conditional design conditions on)."""
    rng = np.random.default_rng(seed)
    y = np.zeros((n, t))
    y[:, 0] = rng.random(n) < 0.4
    g = np.full(n, t + 5)
    for m in range(1, t):
        stay, enter = np.where(g < m, 0.75, 0.9), 0.08
        y[:, m] = np.where(y[:, m - 1] == 1, rng.random(n) < stay, rng.random(n) < enter)
        share = y[:, max(0, m - 12) : m].mean(axis=1)
        eligible = (g > t) & (y[:, m - 1] == 1)
        g[eligible & (rng.random(n) < 0.1 * share)] = m
    panel, starts = make_panel(y, g)
    return panel.rename(columns={"y": "on_assistance"}), starts


def test_conditioning_on_the_history_removes_the_pre_trends_of_selection() -> None:
    from insats.tasks.evaluation.conditional_event_study import conditional_event_study

    panel, starts = _selected_on_history(5)
    plain, _ = conditional_event_study(panel, starts, leads=6, lags=4, covariates=())
    cond, counts = conditional_event_study(panel, starts, leads=6, lags=4)
    pre_plain = plain[plain["rel_month"] <= -2]
    pre_cond = cond[cond["rel_month"] <= -2]
    assert pre_plain["att"].abs().max() > 0.1  # selection on history: large pre-trends unconditionally
    assert (pre_cond["att"].abs() < 3 * pre_cond["se"] + 0.02).all()  # gone given the history
    assert cond.loc[cond["rel_month"] == 3, "att"].iloc[0] < -0.05  # the effect (less assistance) remains
    assert counts["n_units"] == panel["person_id"].nunique()


def test_brief_shows_the_unconditional_and_conditional_designs_side_by_side() -> None:
    from insats.tasks.reporting.brief.outcome_evaluation import event_study_section

    rows = []
    for design, shift in (
        ("callaway_santanna_not_yet_treated", -0.05),
        ("callaway_santanna_conditional_not_yet_treated", 0.0),
    ):
        for m in range(-12, 25):
            att = shift * (m < -1) + (-0.1 if m >= 0 else 0.0)
            rows.append(
                {
                    "intervention_id": "INS01",
                    "design": design,
                    "rel_month": m,
                    "att": att,
                    "se": 0.01,
                    "ci_low": att - 0.02,
                    "ci_high": att + 0.02,
                    "p_value": 0.5,
                    "n_treated": 3 if m == 24 else 40,
                }
            )
    rows.append({**rows[-1], "design": "matched_pairs", "att": 9.0})
    events = pd.DataFrame(rows)
    en = event_study_section(events, threshold=5, lang="en")
    sv = event_study_section(events, threshold=5, lang="sv")
    assert "Effect, unconditional" in en["header"] and "Effect, conditional" in en["header"]
    assert "Effekt, villkorad" in sv["header"]
    first = [c["text"] for c in en["rows"][0]]
    assert first[:3] == ["INS01", "-12", "-0.050"] and first[4] == "0.000"
    last = [c["text"] for c in en["rows"][-1]]
    assert last[1] == "24" and last[2] == "–" and last[-1] == ".."  # hidden with its count of 3
    assert "0.050" in en["note"] and "unconditional" in en["note"] and "0,000" in sv["note"]
    assert not any("9.000" in c["text"] for r in en["rows"] for c in r)  # the matched pairs are not in it
