"""Covariate balance before and after adjustment (matching or weighting).

Standardised mean difference (SMD) = (mean treated - mean control) / pooled SD, where the pooled SD is
sqrt((var_treated + var_control) / 2) computed on the UNADJUSTED sample (all treated, all controls) and
used for both the before and the after SMD, so that a change in SMD reflects a change in means only
(Austin 2009; the usual convention, also in R's cobalt with ``s.d.denom = "pooled"``). A covariate that
is constant in both groups has SMD 0. |SMD| < 0.1 is the customary threshold for balance.

Variance ratio = variance of the treated / variance of the controls (weighted variances after adjustment);
values between 0.5 and 2 are the customary range (Rubin 2001). A covariate constant in the controls gets NaN
(1.0 if constant in both groups).

``overlap_table`` bins the logit of the propensity score for the overlap figure.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

BALANCE_COLUMNS = (
    "covariate",
    "mean_treated",
    "mean_control_before",
    "mean_control_after",
    "smd_before",
    "smd_after",
    "var_ratio_before",
    "var_ratio_after",
)
OVERLAP_COLUMNS = ("bin", "logit_low", "logit_high", "n_treated", "n_controls")


def pairs_to_weights(pairs: pd.DataFrame, index: pd.Index) -> pd.Series:
    """Row weights from matched pairs (treated_index, control_index[, weight]): matched treated 1, a control
    the sum of its pair weights, other rows 0; indexed by ``index``."""
    w = pd.Series(0.0, index=index, name="weight")
    pair_w = pairs["weight"] if "weight" in pairs.columns else pd.Series(1.0, index=pairs.index)
    control_w = pair_w.groupby(pairs["control_index"].to_numpy()).sum()
    w.loc[control_w.index] = control_w.to_numpy()
    w.loc[pd.unique(pairs["treated_index"])] = 1.0
    return w


def balance_table(
    sample: pd.DataFrame,
    covariates: list[str],
    weights: pd.Series | None = None,
    pairs: pd.DataFrame | None = None,
    treatment: str = "treated",
) -> pd.DataFrame:
    """One row per covariate: covariate, mean_treated, mean_control_before, mean_control_after, smd_before,
    smd_after, var_ratio_before, var_ratio_after.

    Give exactly one of ``weights`` (per-row weights indexed like ``sample``; e.g.
    ``EffectEstimate.weights``, or IPW weights) or ``pairs`` (``EffectEstimate.pairs``). ``mean_treated``
    is the weighted mean of the treated in the adjusted sample (with matching: the matched treated;
    all treated unless some fell outside the caliper); ``mean_control_before`` the plain mean of all
    controls; ``smd_before`` compares ALL treated with all controls; ``smd_after`` the weighted means.
    Pooled SD from the unadjusted sample (module docstring).
    """
    if (weights is None) == (pairs is None):
        raise ValueError("balance_table: give exactly one of weights or pairs")
    missing = [c for c in [treatment, *covariates] if c not in sample.columns]
    if missing:
        raise ValueError(f"balance_table: sample lacks column(s): {', '.join(missing)}")
    w = pairs_to_weights(pairs, sample.index) if pairs is not None else weights
    w = w.reindex(sample.index).fillna(0.0).to_numpy(dtype=float)
    if np.any(w < 0):
        raise ValueError("balance_table: weights must be non-negative")
    treated = sample[treatment].to_numpy(dtype=float) == 1
    x = sample[covariates].to_numpy(dtype=float, na_value=np.nan)
    xt, xc = x[treated], x[~treated]
    wt, wc = w[treated], w[~treated]
    if wt.sum() == 0 or wc.sum() == 0:
        raise ValueError("balance_table: the adjusted sample has no treated or no control weight")

    mean_t_all = np.nanmean(xt, axis=0)
    mean_c_all = np.nanmean(xc, axis=0)
    pooled_sd = np.sqrt((np.nanvar(xt, axis=0, ddof=1) + np.nanvar(xc, axis=0, ddof=1)) / 2.0)
    ones_t, ones_c = np.ones(len(xt)), np.ones(len(xc))
    vr_before = _ratio(_weighted_var(xt, ones_t), _weighted_var(xc, ones_c))
    xt, wt, xc, wc = xt[wt > 0], wt[wt > 0], xc[wc > 0], wc[wc > 0]  # zero weights add nothing
    mean_t_after = _weighted_mean(xt, wt)
    mean_c_after = _weighted_mean(xc, wc)
    vr_after = _ratio(_weighted_var(xt, wt), _weighted_var(xc, wc))

    def smd(diff: np.ndarray) -> np.ndarray:
        safe = np.where(pooled_sd > 0, pooled_sd, 1.0)
        return np.where(pooled_sd > 0, diff / safe, 0.0)

    return pd.DataFrame(
        {
            "covariate": list(covariates),
            "mean_treated": mean_t_after,
            "mean_control_before": mean_c_all,
            "mean_control_after": mean_c_after,
            "smd_before": smd(mean_t_all - mean_c_all),
            "smd_after": smd(mean_t_after - mean_c_after),
            "var_ratio_before": vr_before,
            "var_ratio_after": vr_after,
        }
    )


def overlap_table(score: np.ndarray | pd.Series, treated: np.ndarray | pd.Series, n_bins: int = 30) -> pd.DataFrame:
    """Counts of treated and control rows per equal-width bin of the propensity-score logit (for the overlap
    figure). Columns: bin (0..n_bins-1), logit_low, logit_high, n_treated, n_controls (rows = person-months;
    named n_* so disclosure control finds them). Bins span the observed range; the last bin is closed."""
    score = np.asarray(score, dtype=float)
    treated = np.asarray(treated, dtype=float) == 1
    if n_bins < 1 or score.size == 0:
        raise ValueError("overlap_table: need at least one bin and one score")
    lo, hi = float(score.min()), float(score.max())
    edges = np.linspace(lo, hi if hi > lo else lo + 1.0, n_bins + 1)
    which = np.clip(np.searchsorted(edges, score, side="right") - 1, 0, n_bins - 1)
    return pd.DataFrame(
        {
            "bin": np.arange(n_bins),
            "logit_low": edges[:-1],
            "logit_high": edges[1:],
            "n_treated": np.bincount(which[treated], minlength=n_bins).astype(np.int64),
            "n_controls": np.bincount(which[~treated], minlength=n_bins).astype(np.int64),
        }
    )


def _weighted_mean(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    ok = ~np.isnan(x)
    return (np.where(ok, x, 0.0) * w[:, None]).sum(axis=0) / (ok * w[:, None]).sum(axis=0)


def _weighted_var(x: np.ndarray, w: np.ndarray) -> np.ndarray:
    """Weighted variance with the reliability-weights correction (equals ``ddof=1`` for unit weights)."""
    ok = ~np.isnan(x)
    ww = ok * w[:, None]
    v1, v2 = ww.sum(axis=0), (ww**2).sum(axis=0)
    mean = _weighted_mean(x, w)
    dev2 = (np.where(ok, x, 0.0) - mean) ** 2 * ww
    denom = v1 - v2 / np.where(v1 > 0, v1, 1.0)
    return np.divide(dev2.sum(axis=0), denom, out=np.full(x.shape[1], np.nan), where=denom > 0)


def _ratio(vt: np.ndarray, vc: np.ndarray) -> np.ndarray:
    both_zero = (vt == 0) & (vc == 0)
    out = np.divide(vt, vc, out=np.full(vt.shape, np.nan), where=vc > 0)
    return np.where(both_zero, 1.0, out)
