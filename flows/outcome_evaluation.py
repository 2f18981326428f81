"""Study 3: effects of interventions on self-sufficiency, by dynamic (sequential) propensity-score matching."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from prefect import flow, get_run_logger

from flows.ingestion import ingest_register
from flows.steps import Outputs, publish, read_published, record_inputs, run_step, run_steps, step, written
from insats.config import Config, load_config
from insats.storage import write_parquet
from tasks.evaluation.balance import balance_table
from tasks.evaluation.design import covariate_columns, sequential_matching_sample
from tasks.evaluation.estimators import PropensityScoreMatching
from tasks.evaluation.panel import build_person_month_panel

STUDY = "outcome_evaluation"


def choose_interventions(config: Config, candidates: Path) -> list[str]:
    """The interventions to evaluate: named in the config, or study 2's top eligible candidates."""
    chosen = config.outcome_evaluation.interventions
    if chosen != "from_mapping":
        return list(chosen)
    ranked = pd.read_parquet(candidates).sort_values("rank")
    eligible = ranked[ranked["eligible"]]
    if eligible.empty:
        raise ValueError(f"{candidates}: study 2 found no intervention with enough participants to evaluate")
    return eligible["intervention_id"].head(config.outcome_evaluation.n_candidates).tolist()


@step
def build_panel(
    persons: Path, assistance: Path, outcomes: Path, first_month: str, last_month: str, out_dir: str
) -> dict:
    """Person-month panel of assistance receipt and outcomes over the extract's period."""
    panel = build_person_month_panel(
        pd.read_parquet(persons),
        pd.read_parquet(assistance),
        pd.read_parquet(outcomes),
        first_month,
        last_month,
    )
    return written(panel=write_parquet(panel, Path(out_dir) / "panel.parquet"))


@step
def matching_sample(panel: Path, spells: Path, intervention_id: str, horizon: int, window: int, out_dir: str) -> dict:
    """Starters and same-month eligible non-starters, with pre-start covariates and the outcome."""
    sample = sequential_matching_sample(
        pd.read_parquet(panel), pd.read_parquet(spells), intervention_id, horizon=horizon, window=window
    )
    return written(sample=write_parquet(sample, Path(out_dir) / f"sample_{intervention_id}.parquet"))


@step
def estimate_effect(sample: Path, intervention_id: str, horizon: int, caliper_sd: float, out_dir: str) -> dict:
    """Propensity-score 1:1 nearest-neighbour matching with a caliper; effect, CI and balance."""
    frame = pd.read_parquet(sample)
    covariates = covariate_columns(frame)
    estimate = PropensityScoreMatching(caliper_sd=caliper_sd).estimate(frame, covariates, outcome="self_sufficient")
    record = estimate.to_record()
    effects = pd.DataFrame(
        [
            {
                "intervention_id": intervention_id,
                "outcome": record["outcome"],
                "horizon_months": horizon,
                "estimator": record["estimator"],
                **{k: record[k] for k in ("att", "se", "ci_low", "ci_high", "p_value", "n_treated")},
                "n_controls": record["n_controls_used"],
                "n_treated_unmatched": record["n_treated_unmatched"],
                "n_later_starter_controls": record["n_later_starter_controls"],
            }
        ]
    )
    balance = balance_table(frame, covariates, pairs=estimate.pairs)
    balance.insert(0, "intervention_id", intervention_id)
    out = Path(out_dir)
    return written(
        effects=write_parquet(effects, out / f"effects_{intervention_id}.parquet"),
        balance=write_parquet(balance, out / f"balance_{intervention_id}.parquet"),
    )


@step
def combine(effects: list[Path], balance: list[Path], out_dir: str) -> dict:
    """One effects table and one balance table over all evaluated interventions."""
    out = Path(out_dir)
    return written(
        effects=write_parquet(
            pd.concat([pd.read_parquet(p) for p in effects], ignore_index=True), out / "effects.parquet"
        ),
        balance=write_parquet(
            pd.concat([pd.read_parquet(p) for p in balance], ignore_index=True), out / "balance.parquet"
        ),
    )


@flow(name="outcome-evaluation")
def outcome_evaluation(config_path: str, candidates: str | None = None) -> Outputs:
    """Ingest and pseudonymise the register, build the panel, match starters to eligible non-starters month by
    month, and estimate the effect on self-sufficiency at the horizon.

    ``candidates`` is study 2's validated candidate table; by default the one study 2 last published.
    """
    config = load_config(config_path)
    cfg = config.outcome_evaluation
    period = config.register.period
    candidates_path = Path(candidates) if candidates else read_published(config, "intervention_mapping", "candidates")
    inputs = [*config.register.files.values(), candidates_path]
    record_inputs(STUDY, config, inputs)
    interim = str(config.interim_dir(STUDY))
    interventions = choose_interventions(config, candidates_path)
    get_run_logger().info("evaluating %s", ", ".join(interventions))

    register = ingest_register(config)
    panel = run_step(
        build_panel,
        persons=Path(register["persons"]),
        assistance=Path(register["assistance"]),
        outcomes=Path(register["outcomes"]),
        first_month=period.first_month,
        last_month=period.last_month,
        out_dir=interim,
    )
    samples = run_steps(
        (
            matching_sample,
            dict(
                panel=Path(panel["panel"]),
                spells=Path(register["spells"]),
                intervention_id=i,
                horizon=cfg.horizon_months,
                window=cfg.window_months,
                out_dir=interim,
            ),
        )
        for i in interventions
    )
    estimates = run_steps(
        (
            estimate_effect,
            dict(
                sample=Path(s["sample"]),
                intervention_id=i,
                horizon=cfg.horizon_months,
                caliper_sd=cfg.caliper_sd,
                out_dir=interim,
            ),
        )
        for i, s in zip(interventions, samples, strict=True)
    )
    tables = run_step(
        combine,
        effects=[Path(e["effects"]) for e in estimates],
        balance=[Path(e["balance"]) for e in estimates],
        out_dir=interim,
    )
    return publish(
        STUDY,
        config,
        tables,
        inputs,
        artifact_table="effects",
        count_columns=["n_treated", "n_controls", "n_treated_unmatched", "n_later_starter_controls"],
    )
