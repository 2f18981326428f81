"""Propensity-score models: the logit of P(treated | covariates) that matching and weighting adjust on.

* ``fit_logit``: logistic regression of ``treated`` on the standardised covariates, L2 penalty ``1 / (2 C)``
  on the slopes with ``C = 1e4`` (scikit-learn's ``LogisticRegression(C=1e4)`` objective: essentially the ML
  fit, but finite under separation), fitted by Newton-Raphson with line search in numpy (fast enough to refit
  in every bootstrap replicate).
* ``propensity_logit(model="gbm")``: gradient boosting (``HistGradientBoostingClassifier``, seeded).

Inputs are numpy arrays: ``x`` n x k floats (no missing values), ``treated`` / ``y`` n values in {0, 1}.
Outputs are the linear predictor (logit scale), one float per row.
"""

from __future__ import annotations

import numpy as np

# Imported at module level so its OpenMP runtime is loaded before ``threadpool_limits`` is applied (a limit
# set before the library loads does not reach it, and 2-core contention made a 0.2 s fit take 30 s).
from sklearn.ensemble import HistGradientBoostingClassifier


def standardise(x: np.ndarray) -> np.ndarray:
    """Columns of ``x`` (n x k) centred and scaled to SD 1 (a constant column is only centred)."""
    sd = x.std(axis=0)
    sd[sd == 0] = 1.0
    return (x - x.mean(axis=0)) / sd


def logistic_newton(xs: np.ndarray, y: np.ndarray, c: float, max_iter: int = 100) -> np.ndarray:
    """Coefficients (intercept first) minimising sum logloss + ||beta_slopes||^2 / (2c) (Newton, line search)."""
    n, k = xs.shape
    design = np.column_stack([np.ones(n), xs])
    design_t = np.ascontiguousarray(design.T)
    penalty = np.full(k + 1, 1.0 / c)
    penalty[0] = 0.0
    p0 = np.clip(y.mean(), 1e-6, 1 - 1e-6)
    beta = np.zeros(k + 1)
    beta[0] = np.log(p0 / (1 - p0))

    def objective(b: np.ndarray) -> float:
        eta = design @ b
        return float(np.sum(np.logaddexp(0.0, eta) - y * eta) + 0.5 * np.sum(penalty * b * b))

    current = objective(beta)
    for _ in range(max_iter):
        eta = design @ beta
        p = 0.5 * (1.0 + np.tanh(0.5 * eta))  # logistic without overflow
        grad = design.T @ (p - y) + penalty * beta
        # Floor the curvature weights: subnormal p(1-p) makes the matrix product ~10x slower.
        curvature = np.maximum(p * (1 - p), 1e-12)
        hess = design_t @ (design * curvature[:, None]) + np.diag(penalty + 1e-12)
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while t > 1e-8:
            candidate = beta - t * step
            value = objective(candidate)
            if value <= current + 1e-12:
                break
            t /= 2
        beta, previous, current = candidate, current, value
        if abs(previous - current) < 1e-10 * (1 + abs(current)) and np.max(np.abs(t * step)) < 1e-7:
            break
    return beta


def fit_logit(x: np.ndarray, y: np.ndarray, c: float = 1e4) -> np.ndarray:
    """Linear predictor (logit) of a logistic regression of 0/1 ``y`` on ``x`` (n x k; standardised inside;
    L2 penalty 1/(2c) on the slopes: scikit-learn's ``LogisticRegression(C=c)`` objective).

    A constant ``y`` gives a constant logit at the logit of its mean (clipped), so callers need no special
    case.
    """
    y = np.asarray(y, dtype=float)
    if y.min() == y.max():
        p = np.clip(y.mean(), 1e-6, 1 - 1e-6)
        return np.full(len(y), np.log(p / (1 - p)))
    xs = standardise(np.asarray(x, dtype=float))
    beta = logistic_newton(xs, y, c)
    return beta[0] + xs @ beta[1:]


def propensity_logit(x: np.ndarray, treated: np.ndarray, model: str = "logit", seed: int = 0) -> np.ndarray:
    """Logit of the propensity score P(treated | x): ``model`` "logit" (``fit_logit``) or "gbm" (scikit-learn
    ``HistGradientBoostingClassifier``, ``random_state=seed``, probabilities clipped to [1e-6, 1 - 1e-6])."""
    treated = np.asarray(treated, dtype=float)
    if model == "logit":
        return fit_logit(x, treated)
    if model == "gbm":
        if treated.min() == treated.max():
            return fit_logit(x, treated)
        clf = HistGradientBoostingClassifier(
            max_iter=50, max_leaf_nodes=15, min_samples_leaf=50, early_stopping=False, random_state=seed
        )
        clf.fit(np.asarray(x, dtype=float), treated.astype(np.int8))
        p = np.clip(clf.predict_proba(np.asarray(x, dtype=float))[:, 1], 1e-6, 1 - 1e-6)
        return np.log(p / (1 - p))
    raise ValueError(f"unknown propensity model {model!r}; expected 'logit' or 'gbm'")
