"""Study 2: the intervention inventory, its alignment with employers' demands, the assessment-tool survey, the
evidence review, and the evaluation candidates study 3 evaluates.

Parts whose inputs the config does not name (references, screening decisions, extraction sheet, survey) are
skipped; a named file that does not exist is an error.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from insats.config import OutcomeEvaluation
from insats.flows.nodes import node
from insats.flows.steps import load_study_config, publish, published_dir, read_published, record_inputs, work_dir
from insats.tasks.mapping.alignment import alignment_scores, coverage_gaps
from insats.tasks.mapping.candidates import evaluation_candidates
from insats.tasks.mapping.evidence import evidence_from_extraction
from insats.tasks.mapping.figures import alignment_heatmap, coverage_by_family_provider, recall_curve_figure
from insats.tasks.mapping.power import inventory_design
from insats.tasks.mapping.screening import rank_unscreened, simulate_review
from insats.tasks.mapping.study import (
    candidate_rules,
    checked_inventory,
    review_references,
    survey_comment_themes,
    timeline_png,
    tool_usage_table,
)
from insats.tasks.register.counts import participants_per_intervention

STUDY = "intervention_mapping"
inventory_node = node(checked_inventory, "inventory")
participants_node = node(participants_per_intervention, "participants")
design_node = node(inventory_design, "design")
alignment_node = node(alignment_scores, "alignment")
gaps_node = node(coverage_gaps, "coverage_gaps")
coverage_node = node(coverage_by_family_provider, "coverage")
references_node = node(review_references, ("references", "merge_report"))
ranking_node = node(rank_unscreened, "screening_ranked")
simulation_node = node(simulate_review, ("screening_curve", "screening_metrics"))
evidence_node = node(evidence_from_extraction, "evidence")
usage_node = node(tool_usage_table, "tool_usage")
themes_node = node(survey_comment_themes, "comment_themes")
candidates_node = node(evaluation_candidates, "candidates")
timeline_node = node(timeline_png, "timeline")
heatmap_node = node(alignment_heatmap, "alignment_heatmap")
recall_node = node(recall_curve_figure, "recall_curve")


def _existing(path: Path | None, setting: str) -> Path | None:
    if path is not None and not Path(path).is_file():
        raise FileNotFoundError(f"intervention_mapping.{setting}: {path} does not exist")
    return path


@flow(name="intervention-mapping")
def intervention_mapping(config_path: str, demand_profile: str | None = None) -> dict[str, Path]:
    """Check the inventory, align it with the employer demand profile, review the evidence and the
    assessment-tool survey, and choose evaluation candidates.

    ``demand_profile`` is study 1's validated table; by default the one study 1 last published.
    """
    config = load_study_config(config_path, STUDY)
    cfg, period = config.intervention_mapping, config.register.period
    evaluation = config.outcome_evaluation or OutcomeEvaluation()  # study 3's design, for the register counts
    study_1 = Path(demand_profile) if demand_profile else None
    profile = study_1 or read_published(config, "employer_interviews", "demand_profile")
    spells, assistance = (read_published(config, "register", kind) for kind in ("spells", "assistance"))
    references = [_existing(p, f"references.{k}") for k, p in cfg.references.items()]
    decisions = _existing(cfg.screening_decisions, "screening_decisions")
    simulation = _existing(cfg.screening_simulation, "screening_simulation")
    extraction = _existing(cfg.extraction, "extraction")
    survey = _existing(cfg.survey, "survey")
    codebook = _existing(cfg.survey_codebook, "survey_codebook")
    optional = [p for p in (*references, decisions, simulation, extraction, survey, codebook) if p is not None]
    inputs = [cfg.inventory, profile, spells, assistance, *optional]
    record_inputs(STUDY, config, inputs)
    out = str(work_dir(config, STUDY))

    inventory = inventory_node(inventory=cfg.inventory, demand_profile=profile, out_dir=out)
    futures = {
        "participants": participants_node.submit(spells=spells, out_dir=out),
        "design": design_node.submit(
            inventory=inventory,
            assistance=assistance,
            spells=spells,
            first_month=period.first_month,
            last_month=period.last_month,
            horizon=evaluation.horizon_months,
            window=evaluation.window_months,
            out_dir=out,
        ),
        "alignment": alignment_node.submit(inventory=inventory, demand_profile=profile, out_dir=out),
        "coverage_gaps": gaps_node.submit(inventory=inventory, demand_profile=profile, out_dir=out),
        "coverage": coverage_node.submit(inventory=inventory, out_dir=out),
    }
    if survey is not None:
        futures["tool_usage"] = usage_node.submit(survey=survey, tools=cfg.survey_tools, out_dir=out)
        if codebook is not None:
            futures["comment_themes"] = themes_node.submit(
                survey=survey, codebook=codebook, tools=cfg.survey_tools, out_dir=out
            )
    tables = {"inventory": inventory}
    simulated = None
    if references:
        tables |= references_node(references=references, out_dir=out)
        seed = cfg.screening_seed
        if decisions is not None:
            futures["screening_ranked"] = ranking_node.submit(
                references=tables["references"], decisions=decisions, seed=seed, out_dir=out
            )
        if simulation is not None:
            simulated = simulation_node.submit(
                references=tables["references"], simulation=simulation, seed=seed, out_dir=out
            )
    if extraction is not None:
        futures["evidence"] = evidence_node.submit(
            extraction=extraction, references=tables.get("references"), out_dir=out
        )
    tables |= {name: future.result() for name, future in futures.items()}
    tables |= simulated.result() if simulated is not None else {}
    tables["candidates"] = candidates_node(
        inventory=inventory, alignment=tables["alignment"], participants=tables["participants"],
        design=tables["design"], evidence=tables.get("evidence"), rules=candidate_rules(cfg), out_dir=out,
    )  # fmt: skip
    published = publish(STUDY, config, tables, inputs)

    figures = str(published_dir(config, STUDY) / "figures")
    drawn = [
        timeline_node.submit(inventory=published["inventory"], last_month=period.last_month, out_dir=figures),
        heatmap_node.submit(inventory=published["inventory"], demand_profile=profile, out_dir=figures),
    ]
    if "screening_curve" in published:
        drawn.append(recall_node.submit(curve=published["screening_curve"], out_dir=figures))
    for future in drawn:
        future.result()
    return published
