"""Monte Carlo coverage of study 3's 95 % intervals (issue #12 item 2): every estimator, several
data-generating processes, n from 500 to 5,000.

Each cell draws ``reps`` cross-sections (seeded), fits every estimator with its default variance and counts
how often the interval att +- 1.96 se covers the population ATT (computed once per process from 2,000,000
draws). Monte Carlo error of a coverage c from R replications: sqrt(c (1 - c) / R) (0.013 at c = 0.95 and
R = 300, 0.007 at R = 1,000).

Processes (X1..X3 ~ N(0, 1), X4 ~ Bernoulli(0.5); treatment logit(P) = a + X'b; tau = 1 unless stated):
* ``linear_in_score``: Y = 1 + 2 (X'b) + tau W + e, the outcome depends on X only through the score;
* ``nonlinear_beyond_score``: Y = 1 + X1^2 + 2 X2 X3 + X3 + X4 + tau W + e (beyond the score);
* ``heterogeneous``: as nonlinear, with tau(X) = 1 + X1 + 0.5 X2^2 (the ATT is E[tau(X) | W = 1]);
* ``weak_overlap``: nonlinear outcome, b twice as large (many scores near 0 and 1);
* ``very_weak_overlap``: nonlinear outcome, b three times as large (benchmark only: there IPW and 1:1 PSM
  under-cover, see benchmarks/README.md).
e ~ N(0, 1). Estimators: 1:1 and 3:1 PSM with replacement, no caliper (Abadie-Imbens 2016 SE), 1:1 PSM with
the 2006 SE (score treated as known), IPW and AIPW (robust sandwich with the estimated score); with
``--with-bootstrap`` also 1:1 PSM without replacement (person bootstrap, 99 replicates; slow).

Run: ``python benchmarks/coverage_table.py [--reps 300] [--cells weak_overlap:2000,...]``; output in
benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import time
from collections.abc import Callable

import numpy as np
import pandas as pd

from insats.tasks.evaluation.estimators import EffectEstimator, PropensityScoreMatching
from insats.tasks.evaluation.weighting import AugmentedIPW, InverseProbabilityWeighting

COVARIATES = ["x1", "x2", "x3", "x4"]
B_SCORE = np.array([0.5, -0.4, 0.3, 0.5])
DGPS = ("linear_in_score", "nonlinear_beyond_score", "heterogeneous", "weak_overlap", "very_weak_overlap")
SCALE = {"weak_overlap": 2.0, "very_weak_overlap": 3.0}  # multiplies the score coefficients


def simulate(dgp: str, n: int, seed: int) -> tuple[pd.DataFrame, np.ndarray]:
    """One cross-section of process ``dgp``: columns treated, x1..x4, y; and the rows' individual effects."""
    if dgp not in DGPS:
        raise ValueError(f"unknown process {dgp!r}; expected one of {', '.join(DGPS)}")
    rng = np.random.default_rng(seed)
    x = np.column_stack([rng.normal(size=(n, 3)), rng.random(n) < 0.5]).astype(float)
    b = B_SCORE * SCALE.get(dgp, 1.0)
    lin = -0.6 + x @ b
    w = rng.random(n) < 1 / (1 + np.exp(-lin))
    tau = 1.0 + x[:, 0] + 0.5 * x[:, 1] ** 2 if dgp == "heterogeneous" else np.ones(n)
    nonlinear = 1 + x[:, 0] ** 2 + 2 * x[:, 1] * x[:, 2] + x[:, 2] + x[:, 3]
    y0 = 1 + 2 * lin if dgp == "linear_in_score" else nonlinear
    y = y0 + tau * w + rng.normal(size=n)
    frame = pd.DataFrame(x, columns=COVARIATES).assign(treated=w.astype(np.int8), y=y)
    return frame, tau


def population_att(dgp: str, n: int = 2_000_000, seed: int = 12345) -> float:
    """E[tau(X) | W = 1] of the process, from ``n`` draws."""
    frame, tau = simulate(dgp, n, seed)
    return float(tau[frame["treated"].to_numpy() == 1].mean())


def estimators(with_bootstrap: bool = False) -> dict[str, Callable[[], EffectEstimator]]:
    """Name -> factory of the estimators in the table (defaults but no caliper)."""
    out: dict[str, Callable[[], EffectEstimator]] = {
        "psm_nn1 (AI 2016)": lambda: PropensityScoreMatching(None),
        "psm_nn3 (AI 2016)": lambda: PropensityScoreMatching(None, k=3),
        "psm_nn1 (AI 2006)": lambda: PropensityScoreMatching(None, variance="ai2006"),
        "ipw (sandwich)": lambda: InverseProbabilityWeighting(),
        "aipw (sandwich)": lambda: AugmentedIPW(),
    }
    if with_bootstrap:
        out["psm_nn1_norepl (bootstrap)"] = lambda: PropensityScoreMatching(None, replace=False, n_boot=99)
    return out


def coverage_table(
    cells: tuple[tuple[str, int], ...],
    reps: int,
    with_bootstrap: bool = False,
    seed: int = 0,
    only: tuple[str, ...] | None = None,
) -> pd.DataFrame:
    """One row per (process, n, estimator): coverage, its Monte Carlo SE, mean SE / SD of the estimates, bias.
    ``only``: the estimator names to run (default all of ``estimators``)."""
    rows = []
    factories = {k: v for k, v in estimators(with_bootstrap).items() if only is None or k in only}
    for dgp, n in cells:
        truth = population_att(dgp)
        res: dict[str, list[tuple[float, float]]] = {k: [] for k in factories}
        for r in range(reps):
            frame, _ = simulate(dgp, n, seed + 1000 * n + r)
            design = None  # one design (and logit fit) shared by the estimators
            for name, make in factories.items():
                estimator = make()
                design = design or estimator._design(frame, COVARIATES, ["y"])
                est = estimator.fit(frame, COVARIATES, "y", design=design).result_
                res[name].append((est.att, est.se))
        for name, values in res.items():
            a = np.asarray(values)
            covered = np.abs(a[:, 0] - truth) <= 1.959964 * a[:, 1]
            c = float(covered.mean())
            rows.append(
                {
                    "process": dgp,
                    "n": n,
                    "estimator": name,
                    "coverage": c,
                    "mc_se": float(np.sqrt(c * (1 - c) / reps)),
                    "mean_se": float(a[:, 1].mean()),
                    "sd_att": float(a[:, 0].std(ddof=1)),
                    "bias": float(a[:, 0].mean() - truth),
                    "reps": reps,
                }
            )
    return pd.DataFrame(rows)


BENCH_CELLS = (
    ("linear_in_score", 500),
    ("linear_in_score", 5000),
    ("nonlinear_beyond_score", 500),
    ("nonlinear_beyond_score", 5000),
    ("heterogeneous", 1000),
    ("heterogeneous", 5000),
    ("weak_overlap", 2000),
    ("very_weak_overlap", 2000),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--reps", type=int, default=300)
    parser.add_argument("--cells", help="process:n,... (default: BENCH_CELLS)")
    parser.add_argument("--with-bootstrap", action="store_true")
    args = parser.parse_args()
    cells = BENCH_CELLS
    if args.cells:
        cells = tuple((c.split(":")[0], int(c.split(":")[1])) for c in args.cells.split(","))
    start = time.perf_counter()
    for cell in cells:  # one cell at a time, printed as it finishes
        table = coverage_table((cell,), args.reps, args.with_bootstrap)
        print(table.round(3).to_string(index=False), flush=True)
    print(f"\n{args.reps} replications per cell, {time.perf_counter() - start:.0f} s")


if __name__ == "__main__":
    main()
