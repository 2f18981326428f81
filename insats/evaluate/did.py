"""The DiD branch of ``insats.evaluate.evaluate`` (``design="did"``): Callaway-Sant'Anna on the data set's
time / group / unit columns, or a 2x2 DiD of a 0/1 treatment over two periods."""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from insats.evaluate.data import Dataset, check_columns, design_matrix, formula_terms


def evaluate_did(ds: Dataset, params: dict[str, Any]):  # noqa: ANN201 - EvaluationResult (import cycle)
    """DiD estimates for ``evaluate``'s parameters ``params`` (see ``insats.evaluate.api.evaluate``)."""
    from insats.evaluate.api import EvaluationResult
    from insats.tasks.evaluation.did import att_gt
    from insats.tasks.evaluation.did_aggregate import AGGREGATIONS, aggregate

    outcome, time, group, unit = params["outcome"], params["time"], params["group"], params["unit"]
    treatment, cluster = params["treatment"], params["cluster"]
    if time is None:
        raise ValueError("design 'did' needs the period column (--time)")
    if group is None and treatment is None:
        raise ValueError("design 'did' needs --group (first treated period) or --treatment (0/1, for a 2x2 DiD)")
    cov_given = params["covariates"] is not None or params["formula"] is not None
    rhs, needed = formula_terms(params["formula"], params["covariates"], treatment) if cov_given else ("", [])
    base = [outcome, time, group or treatment, *([unit] if unit else []), *([cluster] if cluster else [])]
    check_columns(ds, [*base, *needed])
    frame = ds.frame.copy()
    notes: list[str] = []
    if group is None:  # 2x2: the treated's cohort is the later of the two periods
        periods = sorted(frame[time].dropna().unique().tolist())
        if len(periods) != 2:
            raise ValueError(f"a 2x2 DiD needs exactly two values of {time!r}; it has {len(periods)} (give --group)")
        treated = pd.to_numeric(frame[treatment], errors="coerce")
        if not set(treated.dropna().unique().tolist()) <= {0, 1}:
            raise ValueError(f"treatment {treatment!r} must be coded 0/1 for a 2x2 DiD")
        group = "_first_treated"
        later = periods[1]
        frame[group] = np.where(
            treated == 1, later, 0 if not pd.api.types.is_datetime64_any_dtype(frame[time]) else pd.NaT
        )
        notes.append(f"2x2 DiD: {treatment} = 1 treated from {time} = {later}")
    rows_missing_x = 0
    covariates: list[str] = []
    if cov_given:
        ok = frame[needed].notna().all(axis=1)
        rows_missing_x = int((~ok).sum())
        x = design_matrix(frame.loc[ok], rhs)
        covariates = [f"x{i}" for i in range(x.shape[1])]
        names = dict(zip(covariates, x.columns, strict=True))
        frame = frame.loc[ok].join(x.set_axis(covariates, axis=1))
    else:
        names = {}
    res = att_gt(
        frame,
        outcome,
        time,
        group,
        unit=unit,
        covariates=covariates,
        control_group=params["control_group"],
        base_period=params["base_period"],
        cluster=cluster,
    )
    parts = []
    for kind in AGGREGATIONS:
        agg = aggregate(res, kind)
        agg.insert(0, "aggregation", kind)
        parts.append(agg)
    aggregates = pd.concat(parts, ignore_index=True)
    overall = aggregates[aggregates["term"] == "overall"].drop(columns=["term", "key"])
    effects = overall.rename(columns={"aggregation": "estimator"}).assign(
        estimator=lambda d: "callaway_santanna_" + d["estimator"],
        outcome=outcome,
        variance_method="influence_function" + ("_clustered" if cluster else ("_by_unit" if unit else "_by_row")),
    )
    if notes:  # a 2x2: the four aggregates are one and the same cell
        effects = effects.iloc[:1].assign(estimator="did_2x2")
    counts = dict(res.counts) | {"n_dropped_missing_covariates": rows_missing_x}
    counts |= {"n_cells": len(res.group_time), "n_groups": int(res.group_time["group"].nunique())}
    result = EvaluationResult(
        ds,
        params,
        counts,
        [names[c] for c in covariates],
        effects.reset_index(drop=True),
        did_group_time=res.group_time,
        did_aggregates=aggregates,
        notes=notes,
    )
    dynamic = aggregates[aggregates["aggregation"] == "dynamic"]
    unit_name = "months" if res.time_kind == "month" else f"periods of {time}"
    result.figures["event_study"] = event_time_plot(dynamic[dynamic["term"] == "dynamic"], outcome, unit_name)
    return result


def event_time_plot(dynamic: pd.DataFrame, outcome: str, unit_name: str) -> bytes:
    """ATT by event time (``key``) with its 95 % CI band; ``unit_name`` labels the x axis."""
    from insats.tasks.reporting.plot_style import ACCENT, BAR, GREY, axes_figure, to_png

    fig, ax = axes_figure(height=3.2, width=6.0)
    x = dynamic["key"].to_numpy(dtype=float)
    ax.fill_between(x, dynamic["ci_low"], dynamic["ci_high"], color=BAR, alpha=0.2, linewidth=0, label="95 % CI")
    ax.plot(x, dynamic["att"], "o-", color=BAR, ms=3, lw=1.2, label="ATT")
    ax.axhline(0.0, color=GREY, lw=0.8, ls="--")
    ax.axvline(0.0, color=ACCENT, lw=1.0)
    ax.set_xlabel(f"event time, {unit_name} since first treatment (0 = first treated period)")
    ax.set_ylabel(f"effect on {outcome}")
    ax.set_title("Callaway-Sant'Anna event study (dynamic aggregation)")
    ax.legend(frameon=False, fontsize=8)
    fig.tight_layout()
    return to_png(fig)
