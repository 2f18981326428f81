"""Monte Carlo coverage of every estimator's 95 % interval over several data-generating processes (issue #12
item 2): outcome linear in the score; nonlinear in the covariates beyond the score; heterogeneous effects;
weak overlap (``benchmarks/coverage_table.py`` defines them and runs the larger table, n = 500 to 5,000).

Each cell: R seeded cross-sections; coverage = share of intervals att +- 1.96 se containing the population
ATT. Monte Carlo error of a coverage near 0.95: sqrt(0.95 x 0.05 / R) = 0.013 (R = 300), 0.015 (R = 200),
the band [0.92, 0.98] is about +-2 Monte Carlo SEs. Cells are limited to n <= 1,000 to keep the test near
60-90 s on 2 cores; the n = 2,000 and 5,000 cells are in the benchmark (benchmarks/README.md), which also
shows where coverage falls short (very weak overlap).
Estimators, with their default variance and no caliper: 1:1 and 3:1 PSM with replacement (Abadie-Imbens 2016),
IPW and AIPW (robust sandwich with the estimated score). Before issue #12 the 1:1 PSM SE covered 0.77 in a
process like ``nonlinear_beyond_score``.
"""

from __future__ import annotations

import pandas as pd
import pytest

from benchmarks.coverage_table import coverage_table

pytestmark = pytest.mark.slow

CELLS = (  # (process, n, replications)
    ("linear_in_score", 500, 300),
    ("nonlinear_beyond_score", 500, 300),
    ("heterogeneous", 500, 300),
    ("weak_overlap", 1000, 200),
)
TEST_ESTIMATORS = ("psm_nn1 (AI 2016)", "psm_nn3 (AI 2016)", "ipw (sandwich)", "aipw (sandwich)")


def test_every_estimator_covers_between_92_and_98_percent() -> None:
    tables = [coverage_table(((process, n),), reps, only=TEST_ESTIMATORS) for process, n, reps in CELLS]
    table = pd.concat(tables, ignore_index=True)
    print("\n" + table.round(3).to_string(index=False))
    bad = table[(table["coverage"] < 0.92) | (table["coverage"] > 0.98)]
    assert bad.empty, bad.to_string()
