"""Time to self-sufficiency: definition and censoring, Kaplan-Meier against hand values, Cox with a known HR."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from insats.tasks.evaluation.survival import cox_model, kaplan_meier, matched_survival_data, self_sufficiency_times
from insats.tasks.reporting.evaluation_figures import kaplan_meier_plot

MONTH0 = pd.Timestamp("2021-01-01")


def long_panel(on: np.ndarray) -> pd.DataFrame:
    n, t = on.shape
    months = pd.date_range(MONTH0, periods=t, freq="MS")
    return pd.DataFrame(
        {
            "person_id": np.repeat([f"p{i}" for i in range(n)], t),
            "month": np.tile(months, n),
            "on_assistance": on.reshape(-1).astype(np.int8),
        }
    )


def month(i: int) -> pd.Timestamp:
    return MONTH0 + pd.DateOffset(months=i)


def test_definition_and_censoring_by_hand() -> None:
    on = np.array(
        [
            [1, 1, 1, 0, 0, 0, 1, 1, 1, 1],  # origin 1: run 3..5 starts at 3 -> duration 2, event
            [1, 1, 1, 1, 1, 1, 1, 1, 0, 0],  # never a complete run: censored at T - k = 7 -> 7 - 1 = 6
            [1, 1, 0, 0, 1, 0, 0, 0, 1, 1],  # 2-month gap is not enough; run at 5 -> duration 4
            [1, 1, 1, 1, 1, 1, 0, 0, 0, 1],  # run at 6, but own start in month 4 -> censored at 3 - 1 = 2
            [1, 0, 0, 0, 0, 1, 1, 1, 1, 1],  # origin 0: run at 1 -> duration 1
        ]
    )
    panel = long_panel(on)
    origins = pd.DataFrame(
        {
            "person_id": ["p0", "p1", "p2", "p3", "p4", "p3"],
            "month": [month(1), month(1), month(1), month(1), month(0), month(4)],
            "treated": [1, 0, 0, 0, 0, 1],
        },
        index=[10, 11, 12, 13, 14, 15],
    )
    starts = pd.Series([month(4) + pd.Timedelta(days=12)], index=["p3"])
    got = self_sufficiency_times(panel, origins, k=3, starts=starts)
    assert got.index.tolist() == [10, 11, 12, 13, 14, 15]
    assert got["duration"].tolist() == [2, 6, 4, 2, 1, 2]
    assert got["event"].tolist() == [1, 0, 1, 0, 1, 1]  # p3 as treated from month 4: run at 6 -> 2
    capped = self_sufficiency_times(panel, origins, k=3, max_months=3)
    assert capped["duration"].tolist() == [2, 3, 3, 3, 1, 2]
    assert capped["event"].tolist() == [1, 0, 0, 0, 1, 1]
    k1 = self_sufficiency_times(panel, origins.iloc[[2]], k=1)
    assert k1["duration"].tolist() == [1] and k1["event"].tolist() == [1]


def test_kaplan_meier_hand_values_and_weights() -> None:
    data = pd.DataFrame(
        {"duration": [2, 3, 3, 5, 6], "event": [1, 1, 0, 1, 0], "treated": 1, "weight": 1.0},
    )
    curve = kaplan_meier(data).set_index("time")
    # Product-limit by hand: S(2) = 4/5, S(3) = 4/5 * 3/4, S(5) = 0.6 * 1/2.
    assert curve.loc[2, "survival"] == pytest.approx(0.8)
    assert curve.loc[3, "survival"] == pytest.approx(0.6)
    assert curve.loc[5, "survival"] == pytest.approx(0.3)
    assert (curve["group"] == "treated").all()
    assert (curve["ci_low"] <= curve["survival"]).all() and (curve["survival"] <= curve["ci_high"]).all()
    # A frequency weight of 2 is the same as the row twice.
    weighted = data.assign(weight=[2.0, 1, 1, 1, 1])
    doubled = pd.concat([data, data.iloc[[0]]], ignore_index=True)
    np.testing.assert_allclose(kaplan_meier(weighted)["survival"], kaplan_meier(doubled)["survival"])
    assert kaplan_meier(weighted).set_index("time").loc[2, "survival"] == pytest.approx(4 / 6)


def test_cox_recovers_known_hazard_ratio() -> None:
    rng = np.random.default_rng(7)
    n = 3000
    treated = rng.integers(0, 2, size=n)
    x = rng.normal(size=n)
    rate = 0.1 * np.exp(np.log(2.0) * treated + 0.5 * x)
    t_event = rng.exponential(1 / rate)
    t_cens = rng.uniform(0, 20, size=n)
    data = pd.DataFrame(
        {
            "duration": np.minimum(t_event, t_cens),
            "event": (t_event <= t_cens).astype(int),
            "treated": treated,
            "x": x,
            "person_id": np.arange(n) // 2,  # clusters of two
        }
    )
    res = cox_model(data, covariates=["x"])
    row = res.table.set_index("term")
    assert row.loc["treated", "ci_low"] < 2.0 < row.loc["treated", "ci_high"]
    assert res.hazard_ratio == pytest.approx(2.0, rel=0.1)
    assert row.loc["x", "coef"] == pytest.approx(0.5, abs=0.06)
    assert res.n_clusters == n // 2
    # A row censored at 0 (a control starting the month after matching) is in no risk set: same fit, finite SE.
    extra = pd.DataFrame({"duration": [0.0], "event": [0], "treated": [0], "x": [0.0], "person_id": [n]})
    with_zero = cox_model(pd.concat([data, extra], ignore_index=True), covariates=["x"])
    assert np.isfinite(with_zero.table["se"]).all()
    assert with_zero.table.loc[0, "coef"] == pytest.approx(row.loc["treated", "coef"], abs=1e-8)
    with pytest.raises(ValueError, match="lack column"):
        cox_model(data.drop(columns="x"), covariates=["x"])


def test_matched_pipeline_on_monthly_panel() -> None:
    # Persons leave assistance for good at a geometric time; participants' monthly exit hazard is higher.
    # Continuous-time PH with HR 2 discretised to months: 1 - h1 = (1 - h0) ** 2 exactly.
    rng = np.random.default_rng(3)
    n_pairs, t_max, h0 = 1500, 36, 0.05
    n = 2 * n_pairs
    treated_person = np.arange(n) < n_pairs
    h = np.where(treated_person, 1 - (1 - h0) ** 2, h0)
    origin = rng.integers(0, 6, size=n)
    exit_after = rng.geometric(h)  # months after the origin until the first month off assistance
    on = (np.arange(t_max)[None, :] < (origin + exit_after)[:, None]).astype(np.int8)
    panel = long_panel(on)
    sample = pd.DataFrame(
        {
            "person_id": [f"p{i}" for i in range(n)],
            "month": [month(int(o)) for o in origin],
            "treated": treated_person.astype(np.int8),
        },
        index=np.arange(n) + 100,
    )
    pairs = pd.DataFrame(
        {"treated_index": np.arange(n_pairs) + 100, "control_index": np.arange(n_pairs, n) + 100, "weight": 1.0}
    )
    data = matched_survival_data(sample, pairs, panel, k=3)
    assert len(data) == n and data["treated"].sum() == n_pairs
    expected = np.where(origin + exit_after <= t_max - 3, exit_after, t_max - 3 - origin)
    np.testing.assert_array_equal(data["duration"].to_numpy(), expected)
    res = cox_model(data)
    assert res.table.loc[0, "ci_low"] < 2.0 < res.table.loc[0, "ci_high"]
    assert res.hazard_ratio == pytest.approx(2.0, rel=0.15)
    curves = kaplan_meier(data)
    control = curves[curves["group"] == "control"].set_index("time")
    assert control.loc[6, "survival"] == pytest.approx((1 - h0) ** 6, abs=0.04)
    png = kaplan_meier_plot(curves, lang="sv")
    assert png[:8] == b"\x89PNG\r\n\x1a\n" and png == kaplan_meier_plot(curves, lang="sv")
    stratified = cox_model(data, strata="pair_group")
    assert stratified.table.loc[0, "ci_low"] < 2.0 < stratified.table.loc[0, "ci_high"]


def test_bad_input_rejected() -> None:
    panel = long_panel(np.ones((2, 6), dtype=np.int8))
    with pytest.raises(ValueError, match="not in the panel"):
        self_sufficiency_times(panel, pd.DataFrame({"person_id": ["zz"], "month": [month(0)]}))
    with pytest.raises(ValueError, match="outside the panel"):
        self_sufficiency_times(panel, pd.DataFrame({"person_id": ["p0"], "month": [month(9)]}))
    with pytest.raises(ValueError, match="k must be"):
        self_sufficiency_times(panel, pd.DataFrame({"person_id": ["p0"], "month": [month(0)]}), k=0)
    with pytest.raises(ValueError, match="treated_index"):
        matched_survival_data(pd.DataFrame(), pd.DataFrame({"control_index": [1], "weight": [1.0]}), panel)


# ------------------------------------------------------------------ Cox on aggregated risk sets vs PHReg


@pytest.fixture(scope="module")
def demo_survival() -> pd.DataFrame:
    """Survival data of the default demo register (3000 persons): INS01 starters at horizon 12 and every
    third control row of the sequential sample (no matching needed to compare two fits of the same model)."""
    from insats.demo.register import make_register
    from insats.tasks.evaluation.design import first_starts, sequential_matching_sample
    from insats.tasks.evaluation.panel import build_person_month_panel
    from insats.tasks.register.pseudonymise import DEMO_KEY, pseudonymise
    from insats.tasks.register.standardise import DEFAULT_COLUMNS, standardise

    frames, _ = make_register()
    tables = {
        kind: pseudonymise(standardise(df, kind, DEFAULT_COLUMNS[kind], f"{kind}.sav"), DEMO_KEY)
        for kind, df in frames.items()
    }
    panel = build_person_month_panel(tables["persons"], tables["assistance"], tables["outcomes"], "2021-01", "2024-12")
    sample = sequential_matching_sample(panel, tables["spells"], "INS01", horizon=12, window=3)
    rows = sample[(sample["treated"] == 1) | (np.arange(len(sample)) % 3 == 0)].copy()
    rows["person_id"] = rows["person_id"].astype(str)
    rows["pair_group"] = np.arange(len(rows)) % 40
    starts = first_starts(tables["spells"], "INS01")
    times = self_sufficiency_times(panel, rows, k=3, starts=starts)
    data = pd.concat([rows, times], axis=1)
    first_event = data.loc[data["event"] == 1, "duration"].min()
    return data[(data["event"] == 1) | (data["duration"] >= first_event)].reset_index(drop=True)


def _phreg(data: pd.DataFrame, terms: list[str], ties: str, cluster: bool, strata: str | None = None):  # noqa: ANN202
    from statsmodels.duration.hazard_regression import PHReg

    model = PHReg(
        data["duration"].to_numpy(dtype=float),
        data[terms].to_numpy(dtype=float),
        status=data["event"].to_numpy(dtype=float),
        strata=pd.factorize(data[strata])[0] if strata else None,
        ties=ties,
    )
    return model.fit(groups=pd.factorize(data["person_id"])[0]) if cluster else model.fit()


@pytest.mark.parametrize(
    ("terms", "ties", "cluster"),
    [
        (["treated"], "efron", True),
        (["treated", "age", "female", "asst_months_12", "education_3"], "efron", True),
        (["treated", "age", "female"], "breslow", False),
        (["treated", "asst_spell_elapsed"], "efron", False),
    ],
)
def test_aggregated_cox_equals_statsmodels_phreg(
    demo_survival: pd.DataFrame, terms: list[str], ties: str, cluster: bool
) -> None:
    """Durations are whole months, so the fit on (month, covariate pattern) cells with counts is PHReg's
    model: estimates and (robust or model-based) standard errors equal to 3 decimals and beyond."""
    data = demo_survival
    assert data["event"].sum() > 100 and data["duration"].nunique() > 10  # many tied months
    ours = cox_model(data, covariates=terms[1:], cluster="person_id" if cluster else None, ties=ties)
    ref = _phreg(data, terms, ties, cluster)
    np.testing.assert_allclose(ours.table["coef"], ref.params, atol=5e-4)
    np.testing.assert_allclose(ours.table["se"], ref.bse, atol=5e-4)
    np.testing.assert_allclose(ours.table["coef"], ref.params, rtol=1e-6)
    np.testing.assert_allclose(ours.table["se"], ref.bse, rtol=1e-6)
    np.testing.assert_allclose(ours.table["p_value"], ref.pvalues, rtol=1e-5, atol=1e-12)


def test_aggregated_cox_stratified_equals_statsmodels_phreg(demo_survival: pd.DataFrame) -> None:
    data = demo_survival
    ours = cox_model(data, covariates=["age"], strata="pair_group")
    kept = data.iloc[: ours.n] if ours.n == len(data) else None
    assert kept is not None, "no stratum dropped in this data"
    ref = _phreg(data, ["treated", "age"], "efron", True, strata="pair_group")
    np.testing.assert_allclose(ours.table["coef"], ref.params, rtol=1e-6)
    np.testing.assert_allclose(ours.table["se"], ref.bse, rtol=1e-6)
