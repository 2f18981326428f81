"""Outcome regressions E[y | x] within one arm, used by AIPW (and its sandwich variance).

A 0/1 outcome gets a maximum-likelihood logistic regression (as the propensity model; under separation the
Newton iterations stop after 100 steps and the fitted probabilities are then 0/1-like, still a valid
prediction); any other outcome OLS. Covariates are standardised with the fitting arm's mean and SD, and the
returned predictor applies the same standardisation to new rows.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from insats.tasks.evaluation.propensity import logistic_newton


@dataclass
class OutcomeFit:
    """A fitted E[y | x]: ``beta`` on z = (1, (x - mean) / sd); ``binary`` = logistic link, else identity."""

    beta: np.ndarray
    mean: np.ndarray
    sd: np.ndarray
    binary: bool

    def design(self, x: np.ndarray) -> np.ndarray:
        """z: m x (k + 1)."""
        return np.column_stack([np.ones(len(x)), (x - self.mean) / self.sd])

    def link(self, eta: np.ndarray) -> np.ndarray:
        """The prediction from the linear predictor ``eta`` = design @ beta."""
        return 1.0 / (1.0 + np.exp(-eta)) if self.binary else eta

    def predict(self, x: np.ndarray) -> np.ndarray:
        return self.link(self.design(x) @ self.beta)

    def gradient(self, x: np.ndarray) -> np.ndarray:
        """d prediction / d beta per row: m x (k + 1)."""
        z = self.design(x)
        if not self.binary:
            return z
        m = self.predict(x)
        return z * (m * (1 - m))[:, None]


def fit_outcome_model(x: np.ndarray, y: np.ndarray) -> OutcomeFit:
    """Fit E[y | x] on ``x`` (n x k floats) and ``y`` (n floats): logistic for 0/1 ``y`` (a constant ``y``
    predicts that constant), otherwise OLS."""
    mean, sd = x.mean(axis=0), x.std(axis=0)
    sd[sd == 0] = 1.0
    binary = bool(np.isin(y, (0.0, 1.0)).all())
    k = x.shape[1]
    if binary and y.min() == y.max():
        return OutcomeFit(np.r_[float(y[0]), np.zeros(k)], mean, sd, False)
    if binary:
        return OutcomeFit(logistic_newton((x - mean) / sd, y.astype(float), chunked=True)[0], mean, sd, True)
    design = np.column_stack([np.ones(len(x)), (x - mean) / sd])
    beta, *_ = np.linalg.lstsq(design, y, rcond=None)
    return OutcomeFit(beta, mean, sd, False)


def outcome_model(x: np.ndarray, y: np.ndarray) -> Callable[[np.ndarray], np.ndarray]:
    """``fit_outcome_model(x, y).predict``: ``predict(x_new) -> (m,)`` floats."""
    return fit_outcome_model(x, y).predict
