"""Outcome regressions E[y | x] within one arm, used by the Abadie-Imbens SE and by AIPW.

A 0/1 outcome gets a maximum-likelihood logistic regression (as the propensity model; under separation the
Newton iterations stop after 100 steps and the fitted probabilities are then 0/1-like, still a valid
prediction); any other outcome OLS. Covariates are standardised with the fitting arm's mean and SD, and the returned
predictor applies the same standardisation to new rows.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from insats.tasks.evaluation.propensity import logistic_newton


def outcome_model(x: np.ndarray, y: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """Fit E[y | x] on ``x`` (n x k floats) and ``y`` (n floats); returns ``predict(x_new) -> (m,)`` floats.

    0/1 ``y``: logistic regression (a constant ``y`` predicts that constant); otherwise OLS."""
    mean, sd = x.mean(axis=0), x.std(axis=0)
    sd[sd == 0] = 1.0
    binary = bool(np.isin(y, (0.0, 1.0)).all())
    if binary and y.min() == y.max():
        return lambda x_new: np.full(len(x_new), float(y[0]))
    if binary:
        beta = logistic_newton((x - mean) / sd, y.astype(float))[0]
        return lambda x_new: 1.0 / (1.0 + np.exp(-(beta[0] + ((x_new - mean) / sd) @ beta[1:])))
    design = np.column_stack([np.ones(len(x)), (x - mean) / sd])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    return lambda x_new: np.column_stack([np.ones(len(x_new)), (x_new - mean) / sd]) @ beta
