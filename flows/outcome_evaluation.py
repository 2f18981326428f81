"""Study 3: effects of interventions on self-sufficiency, employment, studies and months on assistance, by
dynamic (sequential) propensity-score matching, weighting and AIPW, at several horizons.

Protocol: person-month panel -> one matching sample per (intervention, horizon) -> person-bootstrap replicate
chunks (parallel tasks) -> every estimator x outcome per sample; at the main horizon the headline 1:1 PSM's
balance, overlap, sensitivity and subgroups, and the dynamics around the start (event studies, time to
self-sufficiency) -> one table of each kind -> validation gate and publication -> figures (PNG) under the
study's published folder, ``figures/``. The analysis lives in ``insats.tasks.evaluation``.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from prefect import flow, get_run_logger, unmapped

from insats.config import REGISTER_KINDS
from insats.flows.nodes import node
from insats.flows.steps import load_study_config, publish, published_dir, read_published, record_inputs, work_dir
from insats.tasks.evaluation.around_start import around_start, stack_tables
from insats.tasks.evaluation.design import sequential_matching_sample
from insats.tasks.evaluation.diagnostics import effects_for_sample, main_horizon_diagnostics
from insats.tasks.evaluation.effects import sample_bootstrap
from insats.tasks.evaluation.figures import evaluation_figures
from insats.tasks.evaluation.panel import build_person_month_panel
from insats.tasks.evaluation.plan import choose_interventions, evaluation_horizons, seed_chunks

STUDY = "outcome_evaluation"
SAMPLE_TABLES = ("effects", "balance_detail")
MAIN_TABLES = ("balance", "overlap", "sensitivity", "heterogeneity")
START_TABLES = ("event_study", "survival", "cox")

panel_node = node(build_person_month_panel, "panel")
sample_node = node(sequential_matching_sample, "sample")
bootstrap_node = node(sample_bootstrap, "bootstrap")
effects_node = node(effects_for_sample, SAMPLE_TABLES)
diagnostics_node = node(main_horizon_diagnostics, ("pairs", *MAIN_TABLES))
around_start_node = node(around_start, START_TABLES)
stack_node = node(stack_tables, "combined")
figures_node = node(evaluation_figures, "*")


@flow(name="outcome-evaluation")
def outcome_evaluation(config_path: str, candidates: str | None = None) -> dict[str, Path]:
    """Build the panel from the published register, match starters to eligible non-starters month by month,
    and estimate the effects at every horizon; returns the published tables (name -> path).

    ``candidates`` is study 2's validated candidate table; by default the one study 2 last published.
    """
    config = load_study_config(config_path, STUDY)
    cfg = config.outcome_evaluation
    period = config.register.period
    candidates_path = Path(candidates) if candidates else read_published(config, "intervention_mapping", "candidates")
    reg = {kind: read_published(config, "register", kind) for kind in REGISTER_KINDS}
    inputs = [*reg.values(), candidates_path]
    record_inputs(STUDY, config, inputs)
    out = str(work_dir(config, STUDY))
    interventions = choose_interventions(pd.read_parquet(candidates_path), cfg.interventions, cfg.n_candidates)
    get_run_logger().info("evaluating %s", ", ".join(interventions))

    panel = panel_node(
        persons=reg["persons"],
        assistance=reg["assistance"],
        outcomes=reg["outcomes"],
        first_month=period.first_month,
        last_month=period.last_month,
        out_dir=out,
    )
    jobs = [(i, h) for i in interventions for h in evaluation_horizons(cfg)]
    ids, horizons, tags = [i for i, _ in jobs], [h for _, h in jobs], [f"{i}_h{h}" for i, h in jobs]
    samples = sample_node.map(
        panel=panel,
        spells=reg["spells"],
        intervention_id=ids,
        horizon=horizons,
        window=cfg.window_months,
        out_dir=unmapped(out),
        tag=tags,
    ).result()
    # Every sample's bootstrap chunks, and the main-horizon diagnostics, run side by side.
    chunks = list(enumerate(seed_chunks(cfg)))
    boot = bootstrap_node.map(
        sample=[s for s in samples for _ in chunks],
        settings=unmapped(cfg),
        seeds=[c for _ in samples for _, c in chunks],
        out_dir=unmapped(out),
        tag=[f"{t}_{k}" for t in tags for k, _ in chunks],
    )
    main = [n for n, h in enumerate(horizons) if h == cfg.horizon_months]
    diagnostics = diagnostics_node.map(
        sample=[samples[n] for n in main],
        settings=unmapped(cfg),
        intervention_id=[ids[n] for n in main],
        horizon=cfg.horizon_months,
        out_dir=unmapped(out),
        tag=[tags[n] for n in main],
    )
    effects = effects_node.map(  # each waits for its own bootstrap chunks (Prefect resolves the futures)
        sample=samples,
        replicates=[boot[n * len(chunks) : (n + 1) * len(chunks)] for n in range(len(jobs))],
        settings=unmapped(cfg),
        intervention_id=ids,
        horizon=horizons,
        out_dir=unmapped(out),
        tag=tags,
    )
    diagnostics = diagnostics.result()
    dynamics = around_start_node.map(
        panel=panel,
        sample=[samples[n] for n in main],
        pairs=[d["pairs"] for d in diagnostics],
        spells=reg["spells"],
        intervention_id=[ids[n] for n in main],
        window=cfg.window_months,
        out_dir=unmapped(out),
        tag=[ids[n] for n in main],
    ).result()
    effects = effects.result()
    parts = {name: [e[name] for e in effects] for name in SAMPLE_TABLES}
    parts |= {name: [d[name] for d in diagnostics] for name in MAIN_TABLES}
    parts |= {name: [d[name] for d in dynamics] for name in START_TABLES}
    order = ("effects", "balance", "balance_detail", "overlap", "sensitivity", "heterogeneity", *START_TABLES)
    stacked = {name: stack_node.submit(frames=parts[name], out_dir=out, tag=name) for name in order}
    published = publish(STUDY, config, {name: future.result() for name, future in stacked.items()}, inputs)
    figures_node(
        balance=published["balance"],
        overlap=published["overlap"],
        event_study=published["event_study"],
        survival=published["survival"],
        lang=config.seminar.lang,
        out_dir=str(published_dir(config, STUDY) / "figures"),
    )
    return published
