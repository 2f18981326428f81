"""Stand-alone tools that run no study: `insats evaluate` (effects in any data set) and `insats codebook check`."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from insats.cli.common import (
    user_errors,
)


def evaluate(
    data: Annotated[Path, typer.Argument(help="Data file: .dta, .sav, .csv or .parquet.")],
    outcome: Annotated[str, typer.Option(help="Outcome column.")],
    treatment: Annotated[str | None, typer.Option(help="Treatment column, coded 0/1.")] = None,
    covariates: Annotated[list[str] | None, typer.Option(help='Covariates: "a b c" or repeat the option.')] = None,
    formula: Annotated[str | None, typer.Option(help='E.g. "treat ~ age + I(age**2) + educ*re74".')] = None,
    estimator: Annotated[str, typer.Option(help="psm, ipw, aipw or all.")] = "all",
    caliper: Annotated[str, typer.Option(help="Caliper in SDs of the propensity logit, or none.")] = "0.2",
    replace: Annotated[bool, typer.Option("--replace/--no-replace", help="Match with replacement.")] = True,
    exact: Annotated[list[str] | None, typer.Option(help="Column to match exactly on (repeatable).")] = None,
    cluster: Annotated[str | None, typer.Option(help="Cluster column for the standard errors.")] = None,
    design: Annotated[str, typer.Option(help="cross_section or did.")] = "cross_section",
    time: Annotated[str | None, typer.Option(help="DiD: period column (whole numbers or dates).")] = None,
    group: Annotated[str | None, typer.Option(help="DiD: first treated period (0/empty = never).")] = None,
    id: Annotated[str | None, typer.Option("--id", help="DiD: unit column (omit: repeated cross-sections).")] = None,
    control_group: Annotated[str, typer.Option(help="DiD: never_treated or not_yet_treated.")] = "never_treated",
    base_period: Annotated[str, typer.Option(help="DiD: varying or universal.")] = "varying",
    out: Annotated[Path, typer.Option(help="Output folder (replaced atomically).")] = Path("evaluation"),
) -> None:
    """Effect of a treatment on an outcome in any data set: matching, IPW and AIPW (cross-section) or
    Callaway-Sant'Anna DiD (--design did); writes tables, plots, a report and manifest.json into --out."""
    with user_errors():
        from insats.evaluate.cli import run_evaluate

        run_evaluate(
            data, outcome, treatment, covariates, formula, estimator, caliper, replace, exact, cluster,
            design, time, group, id, control_group, base_period, out,
        )  # fmt: skip


def codebook_check(
    codebook: Annotated[Path, typer.Argument(help="Codebook (.yaml or .qdc)")],
    corpus: Annotated[
        Path | None, typer.Option("--corpus", help="Folder of transcripts (.txt/.docx) to match the keywords in")
    ] = None,
) -> None:
    """For every keyword: the forms it is compared as, and with --corpus the words it matches (and how) and the
    frequent look-alike words it misses, to fix a codebook before coding."""
    with user_errors():
        from insats.tasks.interviews.codebook import load_codebook
        from insats.tasks.interviews.codebook_check import check_keywords, format_report, read_corpus

        texts = read_corpus(corpus) if corpus is not None else None
        typer.echo(format_report(check_keywords(load_codebook(codebook), texts), with_corpus=texts is not None))
