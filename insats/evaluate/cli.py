"""``insats evaluate``'s body: parse the options, run ``evaluate``, write the folder, print the effects."""

from __future__ import annotations

from pathlib import Path

import typer


def run_evaluate(
    data: Path,
    outcome: str,
    treatment: str | None,
    covariates: list[str] | None,
    formula: str | None,
    estimator: str,
    caliper: str,
    replace: bool,
    exact: list[str] | None,
    cluster: str | None,
    design: str,
    time: str | None,
    group: str | None,
    unit: str | None,
    control_group: str,
    base_period: str,
    out: Path,
) -> None:
    """Run ``insats.evaluate.evaluate`` with the command's options and write its outputs to ``out``."""
    from insats.evaluate import evaluate, write_result
    from insats.evaluate.report import EFFECT_COLUMNS, _md_table

    cal = None if caliper.strip().lower() in ("none", "inf", "") else float(caliper)
    covs = [c for item in covariates for c in item.replace(",", " ").split()] if covariates else None
    result = evaluate(
        data,
        outcome,
        treatment=treatment,
        covariates=covs,
        formula=formula,
        estimator=estimator,  # type: ignore[arg-type]
        caliper=cal,
        replace=replace,
        exact=exact,
        cluster=cluster,
        design=design,  # type: ignore[arg-type]
        time=time,
        group=group,
        unit=unit,
        control_group=control_group,  # type: ignore[arg-type]
        base_period=base_period,  # type: ignore[arg-type]
    )
    folder = write_result(result, out)
    typer.echo(", ".join(f"{k} {v}" for k, v in result.counts.items()))
    typer.echo(_md_table(result.effects[[c for c in EFFECT_COLUMNS if c in result.effects]]), nl=False)
    typer.echo(f"written: {folder} (report.md, report.html, manifest.json)")
