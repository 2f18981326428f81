"""Propensity-score models: the logit of P(treated | covariates) that matching and weighting adjust on.

* ``fit_propensity`` / ``fit_logit``: logistic regression of ``treated`` on the covariates by maximum
  likelihood (Newton-Raphson with line search in numpy, fast enough to refit in every bootstrap replicate): the
  same fit as Stata's ``logit``, R's ``glm(family = binomial)`` and MatchIt's default distance. A penalty is an
  explicit option (``penalty_c``: L2 penalty ``1 / (2 C)`` on the slopes of the standardised covariates,
  scikit-learn's ``LogisticRegression(C=C)`` objective). The ML fit refuses, naming the covariates, collinear
  covariates, complete or quasi-complete separation (found by a linear programme, as R's
  ``detectseparation``) and non-convergence (``PropensityModelError``).
* ``propensity_logit(model="gbm")``: gradient boosting (``HistGradientBoostingClassifier``, seeded).

Inputs are numpy arrays: ``x`` n x k floats (no missing values), ``treated`` / ``y`` n values in {0, 1}.
Outputs are the linear predictor (logit scale), one float per row.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linprog

# Imported at module level so its OpenMP runtime is loaded before ``threadpool_limits`` is applied (a limit
# set before the library loads does not reach it, and 2-core contention made a 0.2 s fit take 30 s).
from sklearn.ensemble import HistGradientBoostingClassifier

PENALTY_HINT = "set outcome_evaluation.ps_penalty_c (a penalised logit) or drop / merge the covariate(s)"


class PropensityModelError(ValueError):
    """The propensity model cannot be fitted by maximum likelihood (separation, collinearity, no convergence)."""


@dataclass
class LogitFit:
    """A fitted logit: ``design`` n x (k+1) (intercept, standardised covariates), ``beta`` (k+1), ``eta`` the
    linear predictor (n), ``converged`` and ``iterations``. ``p`` = fitted probabilities."""

    design: np.ndarray
    beta: np.ndarray
    eta: np.ndarray
    converged: bool
    iterations: int
    mean: np.ndarray | None = None  # the standardisation of x (k), for ``start_from``
    sd: np.ndarray | None = None

    @property
    def p(self) -> np.ndarray:
        return 0.5 * (1.0 + np.tanh(0.5 * self.eta))

    def start_from(self, mean: np.ndarray, sd: np.ndarray) -> np.ndarray | None:
        """These coefficients re-expressed for covariates standardised with ``mean`` / ``sd`` (the same linear
        predictor on raw x): a warm start for a fit on resampled rows. None without a standardisation."""
        if self.mean is None or self.sd is None:
            return None
        slopes = self.beta[1:] / self.sd
        return np.r_[self.beta[0] - slopes @ self.mean + slopes @ mean, slopes * sd]


def standardise(x: np.ndarray) -> np.ndarray:
    """Columns of ``x`` (n x k) centred and scaled to SD 1 (a constant column is only centred)."""
    sd = x.std(axis=0)
    sd[sd == 0] = 1.0
    return (x - x.mean(axis=0)) / sd


def _names(k: int, names: Sequence[str] | None) -> list[str]:
    return list(names) if names is not None and len(names) == k else [f"x{j + 1}" for j in range(k)]


def weighted_gram(x: np.ndarray, w: np.ndarray, chunk: int = 16384) -> np.ndarray:
    """x' diag(w) x (k x k, float64) for ``x`` n x k and weights ``w`` >= 0 (n), summed over row chunks of
    sqrt(w) x (a symmetric product per chunk), so that no n x k temporary or transposed copy is made."""
    k = x.shape[1]
    out = np.zeros((k, k))
    buf = np.empty((min(chunk, len(x)), k))
    for start in range(0, len(x), chunk):
        part = buf[: min(chunk, len(x) - start)]
        np.multiply(x[start : start + len(part)], np.sqrt(w[start : start + len(part)])[:, None], out=part)
        out += part.T @ part
    return out


def standardised_design(x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(design n x (k + 1): intercept and ``standardise``-d columns of ``x`` (n x k), mean (k), sd (k)), built
    in one n x (k + 1) array (no centred or stacked temporaries)."""
    n, k = x.shape
    design = np.empty((n, k + 1))
    design[:, 0] = 1.0
    centred = design[:, 1:]
    mean = x.mean(axis=0)
    np.subtract(x, mean, out=centred)
    sd = np.sqrt(np.einsum("ij,ij->j", centred, centred) / max(n, 1))
    sd[sd == 0] = 1.0
    centred /= sd
    return design, mean, sd


def logistic_newton(
    xs: np.ndarray,
    y: np.ndarray,
    c: float | None = None,
    max_iter: int = 100,
    start: np.ndarray | None = None,
    chunked: bool = False,
) -> tuple[np.ndarray, bool, int]:
    """(coefficients with intercept first, converged, iterations) minimising sum logloss (+ ||slopes||^2 / (2c)
    when ``c`` is given) by Newton-Raphson with step halving, from ``start`` (k + 1 coefficients; default the
    intercept-only fit). Converged: the objective changed by < 1e-10 (relative) and the step was < 1e-7 in
    every coefficient. ``chunked``: the Hessian by ``weighted_gram`` (see ``_newton``)."""
    return _newton(np.column_stack([np.ones(len(xs)), xs]), y, c, max_iter, start, chunked=chunked)


def _newton(
    design: np.ndarray, y: np.ndarray, c: float | None, max_iter: int, start: np.ndarray | None, chunked: bool
) -> tuple[np.ndarray, bool, int]:
    """``logistic_newton`` on a design whose first column is the intercept. ``chunked``: the Hessian by
    ``weighted_gram`` (~7x faster at 1M rows); else as one product, whose summation order earlier releases
    used (the fitted score then equals theirs to the last bit: matching with ties compares distances exactly)."""
    k = design.shape[1] - 1
    design_t = None if chunked else np.ascontiguousarray(design.T)
    penalty = np.full(k + 1, 0.0 if c is None else 1.0 / c)
    penalty[0] = 0.0
    p0 = np.clip(y.mean(), 1e-6, 1 - 1e-6)
    beta = np.zeros(k + 1)
    beta[0] = np.log(p0 / (1 - p0))
    if start is not None and start.shape == beta.shape and np.all(np.isfinite(start)):
        beta = np.asarray(start, dtype=float).copy()

    def objective(b: np.ndarray) -> tuple[float, np.ndarray]:
        eta = design @ b
        return float(np.sum(np.logaddexp(0.0, eta) - y * eta) + 0.5 * np.sum(penalty * b * b)), eta

    current, eta = objective(beta)
    for it in range(1, max_iter + 1):
        p = 0.5 * (1.0 + np.tanh(0.5 * eta))  # logistic without overflow
        grad = design.T @ (p - y) + penalty * beta
        # Floor the curvature weights: subnormal p(1-p) makes the matrix product ~10x slower.
        curvature = np.maximum(p * (1 - p), 1e-12)
        gram = weighted_gram(design, curvature) if design_t is None else design_t @ (design * curvature[:, None])
        hess = gram + np.diag(penalty + 1e-12)
        step = np.linalg.solve(hess, grad)
        t = 1.0
        while t > 1e-8:
            candidate = beta - t * step
            value, candidate_eta = objective(candidate)  # the accepted step's eta is the next iteration's
            if value <= current + 1e-12:
                break
            t /= 2
        beta, previous, current, eta = candidate, current, value, candidate_eta
        if abs(previous - current) < 1e-10 * (1 + abs(current)) and np.max(np.abs(t * step)) < 1e-7:
            return beta, True, it
    return beta, False, max_iter


def design_rank(design: np.ndarray, tol: float, chunk: int = 16384) -> int:
    """``np.linalg.matrix_rank(design, tol)`` (n x k, n >= k) from the R factor of a QR by row blocks (TSQR):
    R has the singular values of ``design`` up to rounding, and no n x k copy is made for the SVD."""
    if len(design) <= chunk:
        return int(np.linalg.matrix_rank(design, tol=tol))
    blocks = [np.linalg.qr(design[i : i + chunk], mode="r") for i in range(0, len(design), chunk)]
    return int(np.linalg.matrix_rank(np.linalg.qr(np.vstack(blocks), mode="r"), tol=tol))


def collinear_columns(xs: np.ndarray, names: Sequence[str]) -> list[str]:
    """Covariates (of standardised ``xs``, n x k) that are linear combinations of the intercept and the
    covariates before them (empty when the design has full column rank)."""
    tol = 1e-8 * np.sqrt(len(xs))
    if np.linalg.matrix_rank(np.column_stack([np.ones(len(xs)), xs]), tol=tol) == xs.shape[1] + 1:
        return []
    out: list[str] = []
    kept = [np.ones(len(xs))]
    for j in range(xs.shape[1]):
        trial = np.column_stack([*kept, xs[:, j]])
        if np.linalg.matrix_rank(trial, tol=tol) < trial.shape[1]:
            out.append(names[j])
        else:
            kept.append(xs[:, j])
    return out


def separating_columns(xs: np.ndarray, y: np.ndarray, names: Sequence[str]) -> list[str]:
    """Covariates involved in complete or quasi-complete separation of 0/1 ``y`` (empty: none).

    Linear programme (Konis 2007, R's ``detectseparation``): maximise sum_i s_i x_i'b subject to
    s_i x_i'b >= 0 for every row, -1 <= b <= 1, with s_i = 2 y_i - 1 and x_i = (1, standardised covariates).
    A positive optimum is a direction in which the likelihood rises without bound; the covariates with a
    non-zero coefficient in it are named."""
    design = np.column_stack([np.ones(len(xs)), xs])
    a = design * (2 * y - 1)[:, None]
    res = linprog(-a.sum(axis=0), A_ub=-a, b_ub=np.zeros(len(a)), bounds=(-1, 1), method="highs")
    if res.status != 0 or -res.fun < 1e-6 * max(1.0, np.sqrt(len(a))):
        return []
    return [names[j] for j in range(xs.shape[1]) if abs(res.x[j + 1]) > 1e-6]


def fit_propensity(
    x: np.ndarray,
    y: np.ndarray,
    penalty_c: float | None = None,
    names: Sequence[str] | None = None,
    start: LogitFit | None = None,
    chunked: bool | None = None,
) -> LogitFit:
    """Logistic regression of 0/1 ``y`` on ``x`` (n x k, standardised inside): maximum likelihood by default,
    L2-penalised with ``penalty_c`` (see the module docstring). ``names``: the covariates, for error messages.
    ``start``: a fit of the same model on related rows (the full sample, for a bootstrap replicate) whose
    coefficients start the Newton iterations, with the faster chunked arithmetic (``standardised_design``,
    ``weighted_gram``); the optimum (to rounding) and every check are the same. ``chunked``: that arithmetic
    without a start (default: only with one; without, the score equals earlier releases' to the last bit).

    Raises ``PropensityModelError`` (ML only) for collinear covariates, separation and non-convergence.
    A constant ``y`` gives a constant logit at the logit of its mean (clipped)."""
    y = np.asarray(y, dtype=float)
    x = np.asarray(x, dtype=float).reshape(len(y), -1)
    chunked = start is not None if chunked is None else chunked
    if not chunked:  # a full-sample fit: the arithmetic of earlier releases, the same score to the last bit
        mean, sd = x.mean(axis=0), x.std(axis=0)
        sd[sd == 0] = 1.0
        xs = (x - mean) / sd  # ``standardise``
        design = np.column_stack([np.ones(len(y)), xs])
    else:  # a bootstrap replicate: one design array, chunked Hessian
        design, mean, sd = standardised_design(x)
        xs = design[:, 1:]
    if y.min() == y.max():
        p = np.clip(y.mean(), 1e-6, 1 - 1e-6)
        beta = np.r_[np.log(p / (1 - p)), np.zeros(xs.shape[1])]
        return LogitFit(design, beta, design @ beta, True, 0)
    labels = _names(xs.shape[1], names)
    # ``collinear_columns``'s rank test, on the design itself (the names are looked for only when it fails).
    if penalty_c is None and design_rank(design, 1e-8 * np.sqrt(len(xs))) < design.shape[1]:
        collinear = collinear_columns(xs, labels)
        if collinear:
            raise PropensityModelError(
                f"propensity model: covariate(s) {', '.join(collinear)} are linear combinations of the others "
                f"(and the intercept); drop them"
            )
    beta0 = start.start_from(mean, sd) if start is not None else None
    beta, converged, iterations = _newton(design, y, penalty_c, 100, beta0, chunked=chunked)
    fit = LogitFit(design, beta, beta[0] + xs @ beta[1:], converged, iterations, mean, sd)
    if penalty_c is None:
        extreme = bool(np.any(np.abs(fit.eta) > 30))  # fitted probabilities within 1e-13 of 0 or 1
        if not converged or extreme:
            involved = separating_columns(xs, y, labels)
            if involved:
                raise PropensityModelError(
                    f"propensity model: (quasi-)complete separation of the treatment by {', '.join(involved)}: "
                    f"the maximum-likelihood logit does not exist; {PENALTY_HINT}"
                )
        if not converged:
            raise PropensityModelError(
                f"propensity model: maximum-likelihood logit did not converge in {iterations} Newton "
                f"iterations (covariates {', '.join(labels)}); {PENALTY_HINT}"
            )
    return fit


def fit_logit(
    x: np.ndarray, y: np.ndarray, penalty_c: float | None = None, names: Sequence[str] | None = None
) -> np.ndarray:
    """Linear predictor (logit) of ``fit_propensity`` (maximum likelihood unless ``penalty_c`` is given)."""
    return fit_propensity(x, y, penalty_c, names).eta


def propensity_logit(
    x: np.ndarray,
    treated: np.ndarray,
    model: str = "logit",
    seed: int = 0,
    penalty_c: float | None = None,
    names: Sequence[str] | None = None,
) -> np.ndarray:
    """Logit of the propensity score P(treated | x): ``model`` "logit" (``fit_logit``, ML unless
    ``penalty_c``) or "gbm" (scikit-learn ``HistGradientBoostingClassifier``, ``random_state=seed``,
    probabilities clipped to [1e-6, 1 - 1e-6])."""
    treated = np.asarray(treated, dtype=float)
    if model == "logit":
        return fit_logit(x, treated, penalty_c, names)
    if model == "gbm":
        if treated.min() == treated.max():
            return fit_logit(x, treated, penalty_c, names)
        clf = HistGradientBoostingClassifier(
            max_iter=50, max_leaf_nodes=15, min_samples_leaf=50, early_stopping=False, random_state=seed
        )
        clf.fit(np.asarray(x, dtype=float), treated.astype(np.int8))
        p = np.clip(clf.predict_proba(np.asarray(x, dtype=float))[:, 1], 1e-6, 1 - 1e-6)
        return np.log(p / (1 - p))
    raise ValueError(f"unknown propensity model {model!r}; expected 'logit' or 'gbm'")
