"""``insats evaluate`` as a Python API: the effect of a treatment on an outcome in any data set.

    from insats.evaluate import evaluate, write_result
    result = evaluate("nsw.dta", treatment="treat", outcome="re78",
                      formula="treat ~ age + I(age**2) + educ + black + hisp + marr + nodegree + re74 + re75")
    result.effects            # one row per estimator: att, se, ci_low, ci_high, p_value, variance_method, counts
    result.balance            # SMDs and variance ratios per estimator and covariate
    write_result(result, "out/")   # CSV tables, love/overlap PNGs, report.md/.html, manifest.json (atomic)

    did = evaluate("mpdta.csv", outcome="lemp", design="did", time="year", group="first.treat", unit="countyreal")
    did.did_aggregates        # simple / group / calendar / dynamic Callaway-Sant'Anna aggregates

Reads .dta, .sav, .csv, .parquet (``read_dataset``; Stata/SPSS labels kept for the report). See
``insats.evaluate.api.evaluate`` for every option.
"""

from insats.evaluate.api import EvaluationResult, evaluate
from insats.evaluate.data import Dataset, read_dataset
from insats.evaluate.report import markdown_report, write_result

__all__ = ["Dataset", "EvaluationResult", "evaluate", "markdown_report", "read_dataset", "write_result"]
