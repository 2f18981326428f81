"""Study 3: effects of interventions on self-sufficiency, employment, studies and months on assistance, by
dynamic (sequential) propensity-score matching, weighting and AIPW, at several horizons.

Steps: panel -> one matching sample per (intervention, horizon) -> person-bootstrap replicate chunks (parallel
tasks) -> every estimator x outcome per sample (+ balance, overlap, sensitivity, heterogeneity at the main
horizon) -> combined tables -> validation gate and publication -> love / overlap figures (PNG) under the
study's processed folder, ``figures/``.
"""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
from prefect import flow, get_run_logger

from insats.config import REGISTER_KINDS, Config, OutcomeEvaluation, load_config
from insats.flows.steps import Outputs, publish, read_published, record_inputs, run_step, run_steps, step, written
from insats.storage import write_bytes, write_parquet
from insats.tasks.evaluation.balance import balance_table, overlap_table
from insats.tasks.evaluation.bootstrap import replicate_seeds
from insats.tasks.evaluation.design import covariate_columns, first_starts, sequential_matching_sample
from insats.tasks.evaluation.effects import MAIN_ESTIMATOR, bootstrap_chunk, effects_table, fit_all, make_estimators
from insats.tasks.evaluation.event_study import event_study, matched_event_study
from insats.tasks.evaluation.heterogeneity import subgroup_effects, subgroup_labels
from insats.tasks.evaluation.panel import build_person_month_panel
from insats.tasks.evaluation.sensitivity import SENSITIVITY_COLUMNS, e_values, one_control_per_treated, rosenbaum_bounds
from insats.tasks.evaluation.survival import cox_model, kaplan_meier, matched_survival_data
from insats.tasks.reporting.evaluation_figures import event_study_plot, kaplan_meier_plot

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
    """Starters and same-month eligible non-starters, with pre-start covariates and the outcomes at ``horizon``."""
    sample = sequential_matching_sample(
        pd.read_parquet(panel), pd.read_parquet(spells), intervention_id, horizon=horizon, window=window
    )
    return written(sample=write_parquet(sample, Path(out_dir) / f"sample_{intervention_id}_h{horizon}.parquet"))


def _estimators(cfg: OutcomeEvaluation) -> list:
    """The configured estimators; the headline 1:1 PSM (psm_nn1) is always first (balance, sensitivity)."""
    codes = ["psm_nn1", *[c for c in cfg.estimators if c != "psm_nn1"]]
    return make_estimators(codes, caliper_sd=cfg.caliper_sd, exact=cfg.exact, trim=cfg.trim, seed=cfg.seed)


@step
def bootstrap_effects(sample: Path, settings: OutcomeEvaluation, seeds: list[int], out_path: str) -> dict:
    """One chunk of person-bootstrap replicates for the estimators without an analytic SE."""
    frame = pd.read_parquet(sample)
    reps = bootstrap_chunk(frame, covariate_columns(frame), _estimators(settings), settings.outcomes, seeds)
    return written(replicates=write_parquet(reps, Path(out_path)))


@step
def estimate_effect(
    sample: Path,
    replicates: list[Path],
    intervention_id: str,
    horizon: int,
    main: bool,
    settings: OutcomeEvaluation,
    out_dir: str,
) -> dict:
    """Every estimator x outcome at one horizon (effects); at the main horizon also balance, overlap,
    Rosenbaum bounds / E-values and subgroup effects of the main estimator (1:1 PSM)."""
    frame = pd.read_parquet(sample)
    covariates = covariate_columns(frame)
    estimators = _estimators(settings)
    reps = pd.concat([pd.read_parquet(p) for p in replicates], ignore_index=True) if replicates else None
    results = fit_all(frame, covariates, estimators, settings.outcomes, reps)
    effects = effects_table(results, intervention_id, horizon)
    tag = f"{intervention_id}_h{horizon}"
    out = Path(out_dir)
    paths = {"effects": write_parquet(effects, out / f"effects_{tag}.parquet")}

    detail = []
    for (label, outcome), r in results.items():
        if outcome != "self_sufficient" or label == "naive_difference":
            continue
        part = frame[frame[outcome].notna()]
        b = balance_table(part, covariates, weights=r.weights)
        detail.append(b.assign(intervention_id=intervention_id, horizon_months=horizon, estimator=label))
    if detail:
        paths["balance_detail"] = write_parquet(
            pd.concat(detail, ignore_index=True), out / f"balance_detail_{tag}.parquet"
        )
    if not main:
        return written(**paths)

    main_est = estimators[0]  # psm_nn1 (see _estimators)
    r_main = results.get((MAIN_ESTIMATOR, "self_sufficient")) or main_est.estimate(frame, covariates)
    balance = balance_table(frame, covariates, pairs=r_main.pairs)
    balance.insert(0, "intervention_id", intervention_id)
    overlap = overlap_table(r_main.score, frame["treated"])
    overlap.insert(0, "intervention_id", intervention_id)
    sens = []
    pairs = one_control_per_treated(r_main.pairs)
    for outcome in settings.outcomes:
        r = results.get((MAIN_ESTIMATOR, outcome))
        if r is None:
            continue
        known = frame[outcome].notna()
        ok = known.loc[pairs["treated_index"]].to_numpy() & known.loc[pairs["control_index"]].to_numpy()
        yt = frame.loc[pairs["treated_index"][ok], outcome].to_numpy(dtype=float)
        yc = frame.loc[pairs["control_index"][ok], outcome].to_numpy(dtype=float)
        bounds = rosenbaum_bounds(yt, yc)
        binary = bounds["test"].iloc[0] == "mcnemar"
        e_point, e_ci = e_values(
            r.att,
            r.ci_low,
            r.ci_high,
            treated_mean=float(yt.mean()) if binary else None,
            outcome_sd=None if binary else float(frame[outcome].std()),
        )
        sens.append(
            bounds.assign(
                intervention_id=intervention_id,
                outcome=outcome,
                horizon_months=horizon,
                estimator=MAIN_ESTIMATOR,
                e_value=e_point,
                e_value_ci=e_ci,
            )
        )
    sensitivity = pd.concat(sens, ignore_index=True)[list(SENSITIVITY_COLUMNS)]
    hetero = subgroup_effects(
        main_est, frame, covariates, "self_sufficient", subgroup_labels(frame), settings.heterogeneity_min_treated
    )
    hetero.insert(0, "intervention_id", intervention_id)
    hetero.insert(1, "outcome", "self_sufficient")
    hetero.insert(2, "horizon_months", horizon)
    hetero.insert(3, "estimator", MAIN_ESTIMATOR)
    paths.update(
        pairs=write_parquet(r_main.pairs, out / f"pairs_{tag}.parquet"),
        balance=write_parquet(balance, out / f"balance_{tag}.parquet"),
        overlap=write_parquet(overlap, out / f"overlap_{tag}.parquet"),
        sensitivity=write_parquet(sensitivity, out / f"sensitivity_{tag}.parquet"),
        heterogeneity=write_parquet(hetero, out / f"heterogeneity_{tag}.parquet"),
    )
    return written(**paths)


@step
def dynamics(
    panel: Path, sample: Path, pairs: Path, spells: Path, intervention_id: str, window: int, out_dir: str
) -> dict:
    """Around the start month: event studies of monthly assistance receipt (Callaway-Sant'Anna on the whole
    register, and on the matched pairs) and time to self-sufficiency (Kaplan-Meier, Cox) of the matched."""
    panel_df, frame, matched = pd.read_parquet(panel), pd.read_parquet(sample), pd.read_parquet(pairs)
    starts = first_starts(pd.read_parquet(spells), intervention_id)
    cs = event_study(panel_df, starts, outcome="on_assistance", leads=12, lags=24)
    paired = matched_event_study(panel_df, frame, matched, outcome="on_assistance", leads=12, lags=24)
    columns = ["rel_month", "att", "se", "ci_low", "ci_high", "p_value", "n_treated"]
    events = pd.concat(
        [
            cs.coefficients[columns].assign(design="callaway_santanna_not_yet_treated"),
            paired[columns].assign(design="matched_pairs"),
        ],
        ignore_index=True,
    )
    events.insert(0, "intervention_id", intervention_id)
    survival = matched_survival_data(frame, matched, panel_df, k=window, starts=starts)
    curves = kaplan_meier(survival)
    curves.insert(0, "intervention_id", intervention_id)
    cox = cox_model(survival, cluster="person_id")
    hazard = cox.table.assign(intervention_id=intervention_id, n=cox.n, n_events=cox.n_events)
    out = Path(out_dir)
    return written(
        event_study=write_parquet(events, out / f"event_study_{intervention_id}.parquet"),
        survival=write_parquet(curves, out / f"survival_{intervention_id}.parquet"),
        cox=write_parquet(hazard, out / f"cox_{intervention_id}.parquet"),
    )


@step
def combine(tables: dict[str, list[Path]], out_dir: str) -> dict:
    """One table of each kind over all evaluated interventions and horizons."""
    out = Path(out_dir)
    return written(
        **{
            name: write_parquet(
                pd.concat([pd.read_parquet(p) for p in paths], ignore_index=True), out / f"{name}.parquet"
            )
            for name, paths in tables.items()
        }
    )


@step
def draw_figures(balance: Path, overlap: Path, event_study: Path, survival: Path, lang: str, out_dir: str) -> dict:
    """Per intervention (PNG): love plot and propensity overlap of the main estimate, the matched event study
    of assistance receipt around the start, and Kaplan-Meier curves of time to self-sufficiency."""
    bal, ov = pd.read_parquet(balance), pd.read_parquet(overlap)
    events, curves = pd.read_parquet(event_study), pd.read_parquet(survival)
    out = Path(out_dir)
    paths = {}
    for i in sorted(bal["intervention_id"].unique()):
        paths[f"love_{i}"] = write_bytes(love_plot(bal[bal["intervention_id"] == i], str(i)), out / f"love_{i}.png")
        paths[f"overlap_{i}"] = write_bytes(
            overlap_plot(ov[ov["intervention_id"] == i], str(i)), out / f"overlap_{i}.png"
        )
        matched = events[(events["intervention_id"] == i) & (events["design"] == "matched_pairs")]
        paths[f"event_study_{i}"] = write_bytes(event_study_plot(matched, lang), out / f"event_study_{i}.png")
        paths[f"survival_{i}"] = write_bytes(
            kaplan_meier_plot(curves[curves["intervention_id"] == i], lang), out / f"survival_{i}.png"
        )
    return written(**paths)


def love_plot(balance: pd.DataFrame, title: str) -> bytes:
    """|SMD| before (open) and after (filled) per covariate with the 0.1 line, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 0.3 * len(balance) + 1.2))
    y = range(len(balance))
    ax.scatter(balance["smd_before"].abs(), y, facecolors="none", edgecolors="grey", label="before")
    ax.scatter(balance["smd_after"].abs(), y, color="tab:blue", label="after")
    ax.axvline(0.1, color="red", linewidth=0.8, linestyle="--")
    ax.set_yticks(list(y), balance["covariate"], fontsize=7)
    ax.set_xlabel("|standardised mean difference|")
    ax.set_title(f"Balance, {title}")
    ax.legend(fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


def overlap_plot(overlap: pd.DataFrame, title: str) -> bytes:
    """Share of treated and of controls per bin of the propensity-score logit, as PNG bytes."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    mid = (overlap["logit_low"] + overlap["logit_high"]) / 2
    width = float((overlap["logit_high"] - overlap["logit_low"]).iloc[0])
    fig, ax = plt.subplots(figsize=(6, 3))
    for col, color, label in (("n_controls", "grey", "controls"), ("n_treated", "tab:blue", "treated")):
        share = overlap[col] / max(int(overlap[col].sum()), 1)
        ax.bar(mid, share, width=width, alpha=0.5, color=color, label=label)
    ax.set_xlabel("logit of the propensity score")
    ax.set_ylabel("share of rows")
    ax.set_title(f"Propensity overlap, {title}")
    ax.legend(fontsize=7)
    fig.tight_layout()
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    plt.close(fig)
    return buf.getvalue()


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
    register = {kind: read_published(config, "register", kind) for kind in REGISTER_KINDS}
    inputs = [*register.values(), candidates_path]
    record_inputs(STUDY, config, inputs)
    interim = str(config.interim_dir(STUDY))
    interventions = choose_interventions(config, candidates_path)
    get_run_logger().info("evaluating %s", ", ".join(interventions))

    panel = run_step(
        build_panel,
        persons=Path(register["persons"]),
        assistance=Path(register["assistance"]),
        outcomes=Path(register["outcomes"]),
        first_month=period.first_month,
        last_month=period.last_month,
        out_dir=interim,
    )
    horizons = sorted(set(cfg.horizons) | {cfg.horizon_months})
    jobs = [(i, h) for i in interventions for h in horizons]
    samples = run_steps(
        (
            matching_sample,
            dict(
                panel=Path(panel["panel"]),
                spells=Path(register["spells"]),
                intervention_id=i,
                horizon=h,
                window=cfg.window_months,
                out_dir=interim,
            ),
        )
        for i, h in jobs
    )
    # Bootstrap replicates: chunks of seeds per sample, all submitted at once to the task runner.
    seeds = replicate_seeds(cfg.seed, cfg.n_boot)
    chunks = [c.tolist() for c in np.array_split(np.asarray(seeds, dtype=np.int64), cfg.boot_chunks) if len(c)]
    boot_calls = [
        (
            bootstrap_effects,
            dict(
                sample=Path(s["sample"]),
                settings=cfg,
                seeds=chunk,
                out_path=str(Path(interim) / f"bootstrap_{i}_h{h}_{k}.parquet"),
            ),
        )
        for (i, h), s in zip(jobs, samples, strict=True)
        for k, chunk in enumerate(chunks)
    ]
    boot = run_steps(boot_calls)
    per_job = {
        job: [Path(b["replicates"]) for b in boot[n * len(chunks) : (n + 1) * len(chunks)]]
        for n, job in enumerate(jobs)
    }
    estimates = run_steps(
        (
            estimate_effect,
            dict(
                sample=Path(s["sample"]),
                replicates=per_job[(i, h)],
                intervention_id=i,
                horizon=h,
                main=h == cfg.horizon_months,
                settings=cfg,
                out_dir=interim,
            ),
        )
        for (i, h), s in zip(jobs, samples, strict=True)
    )
    main_jobs = [(n, i) for n, (i, h) in enumerate(jobs) if h == cfg.horizon_months]
    around_start = run_steps(
        (
            dynamics,
            dict(
                panel=Path(panel["panel"]),
                sample=Path(samples[n]["sample"]),
                pairs=Path(estimates[n]["pairs"]),
                spells=Path(register["spells"]),
                intervention_id=i,
                window=cfg.window_months,
                out_dir=interim,
            ),
        )
        for n, i in main_jobs
    )
    names = ("effects", "balance", "balance_detail", "overlap", "sensitivity", "heterogeneity")
    tables = run_step(
        combine,
        tables={
            **{name: [Path(e[name]) for e in estimates if name in e] for name in names},
            **{name: [Path(d[name]) for d in around_start] for name in ("event_study", "survival", "cox")},
        },
        out_dir=interim,
    )
    published = publish(
        STUDY,
        config,
        tables,
        inputs,
        artifact_table="effects",
        count_columns=[
            "n_treated",
            "n_controls",
            "n_treated_unmatched",
            "n_later_starter_controls",
            "n_eligible_controls",
            "n_control_persons",
        ],
    )
    run_step(
        draw_figures,
        balance=Path(published["balance"]),
        overlap=Path(published["overlap"]),
        event_study=Path(published["event_study"]),
        survival=Path(published["survival"]),
        lang=config.seminar.lang,
        out_dir=str(config.study_dir(STUDY) / "figures"),
    )
    return published
