"""Sensitivity of the matched estimate to unobserved confounding: Rosenbaum bounds and the E-value.

Rosenbaum bounds (Rosenbaum 2002, ch. 4): within a matched pair the odds that the treated member is the one
who would be treated may differ by a factor up to Gamma because of an unobserved confounder. For each Gamma
the functions give the UPPER bound of the one-sided p-value of the test of no effect (in the direction of
the estimate); the critical Gamma is where that bound reaches ``alpha``. Gamma = 1 is the usual randomisation
test.

* Binary outcome, pairs (McNemar type): with ``a`` pairs where only the treated has the outcome and ``b``
  where only the control has it, p_upper(Gamma) = P(Binomial(a + b, Gamma / (1 + Gamma)) >= a).
* Other outcomes, Wilcoxon signed rank on the pair differences (zeros dropped, average ranks for ties):
  T = sum of ranks of positive differences, p_upper = 1 - Phi((T - p+ S) / sqrt(p+ (1 - p+) Q)) with
  p+ = Gamma / (1 + Gamma), S = sum of ranks, Q = sum of squared ranks (normal approximation).

Pairs come from matching (``one_control_per_treated``): where a treated has several controls (ties or k:1)
the control with the largest weight, then the first in the sample, is used.

E-value (VanderWeele & Ding 2017): the minimum strength of association, on the risk-ratio scale, that an
unmeasured confounder would need with both treatment and outcome to explain the estimate away:
E = RR + sqrt(RR (RR - 1)) for RR >= 1 (RR -> 1/RR below 1). For a risk difference ``att`` with the treated
risk p1 the RR is p1 / (p1 - att); for a continuous outcome RR ~ exp(0.91 d) with d = att / SD (VanderWeele
2017). The E-value of the CI uses the limit closest to the null (1 if the CI covers the null).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from scipy import optimize, stats

SENSITIVITY_COLUMNS = (
    "intervention_id",
    "outcome",
    "horizon_months",
    "estimator",
    "test",
    "gamma",
    "p_upper",
    "gamma_critical",
    "n_pairs",
    "n_discordant",
    "e_value",
    "e_value_ci",
)
DEFAULT_GAMMAS: tuple[float, ...] = (1.0, 1.1, 1.2, 1.3, 1.4, 1.5, 1.75, 2.0, 2.5, 3.0)


def one_control_per_treated(pairs: pd.DataFrame) -> pd.DataFrame:
    """Reduce matched pairs (treated_index, control_index, weight) to one control per treated: the control
    with the largest weight, ties broken by the first control_index. Columns treated_index, control_index."""
    if pairs.empty:
        return pairs[["treated_index", "control_index"]].copy()
    ordered = pairs.assign(_neg=-pairs["weight"]).sort_values(["treated_index", "_neg", "control_index"])
    first = ordered.drop_duplicates("treated_index", keep="first")
    return first[["treated_index", "control_index"]].reset_index(drop=True)


def _p_plus(gamma: float) -> float:
    if gamma < 1:
        raise ValueError(f"Gamma must be >= 1, got {gamma}")
    return gamma / (1.0 + gamma)


def rosenbaum_binary(y_treated: np.ndarray, y_control: np.ndarray, gamma: float) -> float:
    """Upper bound of the one-sided p-value (McNemar type) at ``gamma`` for 0/1 outcomes of matched pairs,
    testing in the direction of the observed difference (ties: towards a positive effect)."""
    yt, yc = np.asarray(y_treated, dtype=float), np.asarray(y_control, dtype=float)
    if yt.shape != yc.shape or not np.isin(np.concatenate([yt, yc]), (0.0, 1.0)).all():
        raise ValueError("rosenbaum_binary: need equally long 0/1 arrays of treated and control outcomes")
    a, b = int(np.sum((yt == 1) & (yc == 0))), int(np.sum((yt == 0) & (yc == 1)))
    if b > a:
        a, b = b, a
    if a + b == 0:
        return 1.0
    return float(stats.binom.sf(a - 1, a + b, _p_plus(gamma)))


def rosenbaum_wilcoxon(differences: np.ndarray, gamma: float) -> float:
    """Upper bound of the one-sided signed-rank p-value at ``gamma`` for pair differences (treated minus
    control), in the direction of the sum of the differences (normal approximation, module docstring)."""
    d = np.asarray(differences, dtype=float)
    d = d[d != 0]
    if d.size == 0:
        return 1.0
    if d.sum() < 0:
        d = -d
    ranks = stats.rankdata(np.abs(d))
    t_plus = float(ranks[d > 0].sum())
    p = _p_plus(gamma)
    mean, var = p * ranks.sum(), p * (1 - p) * float(np.sum(ranks**2))
    return float(stats.norm.sf((t_plus - mean) / np.sqrt(var)))


def critical_gamma(p_upper: callable, alpha: float = 0.05, gamma_max: float = 50.0) -> float:
    """Smallest Gamma >= 1 at which ``p_upper(Gamma)`` reaches ``alpha`` (1.0 if already at Gamma = 1;
    ``gamma_max`` if not reached by then). ``p_upper`` must increase with Gamma."""
    if p_upper(1.0) >= alpha:
        return 1.0
    if p_upper(gamma_max) < alpha:
        return gamma_max
    return float(optimize.brentq(lambda g: p_upper(g) - alpha, 1.0, gamma_max, xtol=1e-4))


def rosenbaum_bounds(
    y_treated: np.ndarray,
    y_control: np.ndarray,
    gammas: Sequence[float] = DEFAULT_GAMMAS,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Rosenbaum bounds for matched pairs: McNemar type if both outcome arrays are 0/1, else Wilcoxon.

    Columns: test ("mcnemar" or "wilcoxon"), gamma, p_upper, gamma_critical (same on every row), n_pairs,
    n_discordant (pairs with different outcomes / non-zero differences)."""
    yt, yc = np.asarray(y_treated, dtype=float), np.asarray(y_control, dtype=float)
    if yt.shape != yc.shape:
        raise ValueError("rosenbaum_bounds: treated and control outcomes must pair up (same length)")
    binary = bool(np.isin(np.concatenate([yt, yc]), (0.0, 1.0)).all())
    if binary:

        def p_upper(g: float) -> float:
            return rosenbaum_binary(yt, yc, g)

    else:

        def p_upper(g: float) -> float:
            return rosenbaum_wilcoxon(yt - yc, g)

    g_crit = critical_gamma(p_upper, alpha)
    return pd.DataFrame(
        {
            "test": "mcnemar" if binary else "wilcoxon",
            "gamma": [float(g) for g in gammas],
            "p_upper": [p_upper(float(g)) for g in gammas],
            "gamma_critical": g_crit,
            "n_pairs": int(yt.size),
            "n_discordant": int(np.sum(yt != yc)),
        }
    )


def e_value_rr(rr: float) -> float:
    """E-value of a risk ratio (VanderWeele & Ding 2017); ratios below 1 are inverted first."""
    if not np.isfinite(rr) or rr <= 0:
        return float("nan")
    rr = 1.0 / rr if rr < 1 else rr
    return float(rr + np.sqrt(rr * (rr - 1.0)))


def e_values(
    att: float,
    ci_low: float,
    ci_high: float,
    *,
    treated_mean: float | None = None,
    outcome_sd: float | None = None,
) -> tuple[float, float]:
    """(E-value of the estimate, E-value of the CI limit closest to the null) for a difference ``att``.

    Give ``treated_mean`` (risk among the treated, 0/1 outcome: RR = p1 / (p1 - att)) or ``outcome_sd``
    (continuous outcome: RR = exp(0.91 att / sd)). A CI covering 0 has CI E-value 1."""
    if treated_mean is not None:

        def rr(diff: float) -> float:
            p0 = treated_mean - diff
            return treated_mean / p0 if p0 > 0 else float("inf")

    elif outcome_sd is not None and outcome_sd > 0:

        def rr(diff: float) -> float:
            return float(np.exp(0.91 * diff / outcome_sd))

    else:
        raise ValueError("e_values: give treated_mean (binary outcome) or a positive outcome_sd")
    point = e_value_rr(rr(att)) if np.isfinite(att) else float("nan")
    if not (np.isfinite(ci_low) and np.isfinite(ci_high)):
        return point, float("nan")
    if ci_low <= 0 <= ci_high:
        return point, 1.0
    near = ci_low if att > 0 else ci_high
    value = rr(near)
    return point, (e_value_rr(value) if np.isfinite(value) else float("inf"))
