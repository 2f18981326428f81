"""Study 2: the intervention inventory, its alignment with employers' demands, the assessment-tool survey, the
evidence review, and the evaluation candidates study 3 evaluates.

Parts whose inputs the config does not name (references, screening decisions, extraction sheet, survey) are
skipped; a named file that does not exist is an error.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from prefect import flow

from insats.config import Config, load_config
from insats.flows.steps import Outputs, publish, read_published, record_inputs, run_step, step, written
from insats.storage import write_bytes, write_parquet
from insats.tasks.interviews.codebook import load_codebook
from insats.tasks.mapping.alignment import alignment_scores, coverage_gaps
from insats.tasks.mapping.candidates import CandidateRules, evaluation_candidates
from insats.tasks.mapping.evidence import EVIDENCE_COLUMNS, evidence_table, read_extraction
from insats.tasks.mapping.figures import (
    alignment_heatmap,
    coverage_by_family_provider,
    recall_curve_figure,
    timeline_figure,
)
from insats.tasks.mapping.inventory import check_inventory, read_inventory
from insats.tasks.mapping.power import design_counts
from insats.tasks.mapping.references import deduplicate, read_references
from insats.tasks.mapping.screening import metrics_table, prioritise, read_screening_decisions, simulate_screening
from insats.tasks.mapping.survey import code_comments, comment_themes, read_survey, tool_usage
from insats.tasks.register.counts import participants_per_intervention
from insats.validation import gate

STUDY = "intervention_mapping"


@step
def load_inventory(inventory: Path, demand_profile: Path, out_dir: str) -> dict:
    """Read and check the inventory; competency ids must exist in study 1's demand profile."""
    raw = read_inventory(inventory)
    gate(raw, "input.inventory", table=str(inventory))
    known = set(pd.read_parquet(demand_profile)["code_id"])
    checked = check_inventory(raw, source=str(inventory), known_codes=known)
    return written(inventory=write_parquet(checked, Path(out_dir) / "inventory.parquet"))


@step
def count_participants(spells: Path, out_dir: str) -> dict:
    """Distinct persons per intervention in the (pseudonymised) register spells."""
    counts = participants_per_intervention(pd.read_parquet(spells))
    return written(participants=write_parquet(counts, Path(out_dir) / "participants.parquet"))


@step
def register_design(
    inventory: Path, assistance: Path, spells: Path, first_month: str, last_month: str, horizon: int, window: int,
    out_dir: str,
) -> dict:  # fmt: skip
    """Treated N, eligible comparison N and base rate of self-sufficiency per inventory intervention."""
    ids = pd.read_parquet(inventory)["intervention_id"].astype(str).tolist()
    design = design_counts(
        pd.read_parquet(assistance), pd.read_parquet(spells), first_month, last_month, horizon, window, ids
    )
    return written(design=write_parquet(design, Path(out_dir) / "design.parquet"))


@step
def review_references(references: list[Path], out_dir: str) -> dict:
    """Read the literature exports and remove duplicates (DOI, then title + year + first author)."""
    unique, report = deduplicate(read_references(references))
    return written(
        references=write_parquet(unique, Path(out_dir) / "references.parquet"),
        merge_report=write_parquet(report, Path(out_dir) / "merge_report.parquet"),
    )


@step
def screen_references(
    references: Path, decisions: Path | None, simulation: Path | None, seed: int, out_dir: str
) -> dict:
    """Rank unscreened records by active learning; on a fully screened set, simulate and report WSS@95."""
    refs = pd.read_parquet(references)
    ids = set(refs["record_id"].astype(str))
    out: dict[str, Path] = {}
    if decisions is not None:
        ranked = prioritise(refs, read_screening_decisions(decisions, ids), seed=seed)
        out["screening_ranked"] = write_parquet(ranked, Path(out_dir) / "screening_ranked.parquet")
    if simulation is not None:
        full = read_screening_decisions(simulation, ids)
        undecided = sorted(ids - set(full["record_id"]))
        if undecided:
            raise ValueError(
                f"{simulation}: the simulation needs a decision on every record; {len(undecided)} undecided "
                f"(e.g. {', '.join(undecided[:3])})"
            )
        include = dict(zip(full["record_id"], full["decision"] == "include", strict=True))
        curve, metrics = simulate_screening(refs, refs["record_id"].map(include).to_numpy(dtype=bool), seed=seed)
        out["screening_curve"] = write_parquet(curve, Path(out_dir) / "screening_curve.parquet")
        out["screening_metrics"] = write_parquet(metrics_table(metrics), Path(out_dir) / "screening_metrics.parquet")
    return written(**out)


@step
def summarise_evidence(extraction: Path, references: Path | None, out_dir: str) -> dict:
    """The evidence table per method family from the extraction sheet of included studies."""
    known = set(pd.read_parquet(references)["record_id"].astype(str)) if references is not None else None
    table = evidence_table(read_extraction(extraction, known))
    return written(evidence=write_parquet(table, Path(out_dir) / "evidence.parquet"))


@step
def survey_tools(survey: Path, codebook: Path | None, tools: list[str], out_dir: str) -> dict:
    """Usage and usefulness by tool and purpose; open comments coded with study 1's coder."""
    answers = read_survey(survey, tuple(tools))
    out = {"tool_usage": write_parquet(tool_usage(answers), Path(out_dir) / "tool_usage.parquet")}
    if codebook is not None:
        book = load_codebook(codebook)
        themes = comment_themes(code_comments(answers, book), answers, book)
        out["comment_themes"] = write_parquet(themes, Path(out_dir) / "comment_themes.parquet")
    return written(**out)


@step
def align_and_rank(
    inventory: Path, demand_profile: Path, participants: Path, design: Path, evidence: Path | None,
    rules: dict, out_dir: str,
) -> dict:  # fmt: skip
    """Score each intervention against the demand profile, find coverage gaps, and choose candidates."""
    inv, profile = pd.read_parquet(inventory), pd.read_parquet(demand_profile)
    alignment = alignment_scores(inv, profile)
    ev = pd.read_parquet(evidence) if evidence is not None else pd.DataFrame(columns=list(EVIDENCE_COLUMNS))
    candidates = evaluation_candidates(
        inv,
        alignment,
        pd.read_parquet(participants),
        design=pd.read_parquet(design),
        evidence=ev,
        rules=CandidateRules(**rules),
    )
    out = Path(out_dir)
    return written(
        alignment=write_parquet(alignment, out / "alignment.parquet"),
        candidates=write_parquet(candidates, out / "candidates.parquet"),
        coverage_gaps=write_parquet(coverage_gaps(inv, profile), out / "coverage_gaps.parquet"),
        coverage=write_parquet(coverage_by_family_provider(inv), out / "coverage.parquet"),
    )


@step
def draw_figures(inventory: Path, demand_profile: Path, curve: Path | None, as_of: str, out_dir: str) -> dict:
    """PNG figures: the inventory timeline, the alignment heatmap and (with a simulation) the recall curve."""
    inv, out = pd.read_parquet(inventory), Path(out_dir)
    paths = {
        "timeline": write_bytes(timeline_figure(inv, pd.Timestamp(as_of)), out / "timeline.png"),
        "alignment_heatmap": write_bytes(
            alignment_heatmap(inv, pd.read_parquet(demand_profile)), out / "alignment_heatmap.png"
        ),
    }
    if curve is not None:
        paths["recall_curve"] = write_bytes(recall_curve_figure(pd.read_parquet(curve)), out / "recall_curve.png")
    return written(**paths)


def _existing(path: Path | None, what: str) -> Path | None:
    if path is not None and not Path(path).is_file():
        raise FileNotFoundError(f"intervention_mapping.{what}: {path} does not exist")
    return path


def _rules(config: Config) -> dict:
    cfg = config.intervention_mapping
    return {
        "min_participants": cfg.min_participants,
        "min_comparison": cfg.min_comparison,
        "max_mde": cfg.max_mde,
        "support": cfg.candidate_support,
        "min_alignment": cfg.min_alignment,
        "min_positive_studies": cfg.min_positive_studies,
        "alpha": cfg.alpha,
        "power": cfg.power,
    }


@flow(name="intervention-mapping")
def intervention_mapping(config_path: str, demand_profile: str | None = None) -> Outputs:
    """Check the inventory, align it with the employer demand profile, review the evidence and the
    assessment-tool survey, and choose evaluation candidates.

    ``demand_profile`` is study 1's validated table; by default the one study 1 last published.
    """
    config = load_config(config_path)
    cfg = config.intervention_mapping
    profile = (
        Path(demand_profile) if demand_profile else read_published(config, "employer_interviews", "demand_profile")
    )
    references = [_existing(p, f"references.{k}") for k, p in cfg.references.items()]
    decisions = _existing(cfg.screening_decisions, "screening_decisions")
    simulation = _existing(cfg.screening_simulation, "screening_simulation")
    extraction = _existing(cfg.extraction, "extraction")
    survey = _existing(cfg.survey, "survey")
    codebook = _existing(cfg.survey_codebook, "survey_codebook")
    optional = [p for p in (*references, decisions, simulation, extraction, survey, codebook) if p is not None]
    register = {kind: read_published(config, "register", kind) for kind in ("spells", "assistance")}
    inputs = [cfg.inventory, profile, register["spells"], register["assistance"], *optional]
    record_inputs(STUDY, config, inputs)
    interim = str(config.interim_dir(STUDY))
    period = config.register.period

    inventory = run_step(load_inventory, inventory=cfg.inventory, demand_profile=profile, out_dir=interim)
    participants = run_step(count_participants, spells=Path(register["spells"]), out_dir=interim)
    design = run_step(
        register_design,
        inventory=Path(inventory["inventory"]),
        assistance=Path(register["assistance"]),
        spells=Path(register["spells"]),
        first_month=period.first_month,
        last_month=period.last_month,
        horizon=config.outcome_evaluation.horizon_months,
        window=config.outcome_evaluation.window_months,
        out_dir=interim,
    )
    tables: dict[str, str] = {**inventory, **participants, **design}
    if references:
        tables |= run_step(review_references, references=references, out_dir=interim)
        if decisions is not None or simulation is not None:
            tables |= run_step(
                screen_references,
                references=Path(tables["references"]),
                decisions=decisions,
                simulation=simulation,
                seed=cfg.screening_seed,
                out_dir=interim,
            )
    if extraction is not None:
        refs = Path(tables["references"]) if "references" in tables else None
        tables |= run_step(summarise_evidence, extraction=extraction, references=refs, out_dir=interim)
    if survey is not None:
        tables |= run_step(survey_tools, survey=survey, codebook=codebook, tools=cfg.survey_tools, out_dir=interim)
    tables |= run_step(
        align_and_rank,
        inventory=Path(inventory["inventory"]),
        demand_profile=profile,
        participants=Path(participants["participants"]),
        design=Path(design["design"]),
        evidence=Path(tables["evidence"]) if "evidence" in tables else None,
        rules=_rules(config),
        out_dir=interim,
    )
    published = publish(
        STUDY,
        config,
        tables,
        inputs,
        artifact_table="candidates",
        count_columns=["n_participants", "n_treated", "n_comparison"],
    )
    last_day = (pd.Period(period.last_month, freq="M").end_time.normalize()).strftime("%Y-%m-%d")
    run_step(
        draw_figures,
        inventory=Path(published["inventory"]),
        demand_profile=profile,
        curve=Path(published["screening_curve"]) if "screening_curve" in published else None,
        as_of=last_day,
        out_dir=str(config.study_dir(STUDY) / "figures"),
    )
    return published
