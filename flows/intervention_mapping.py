"""Study 2: the intervention inventory, its alignment with employers' demands, and evaluation candidates."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from prefect import flow

from flows.ingestion import ingest_register
from flows.steps import Outputs, publish, read_published, record_inputs, run_step, step, written
from insats.config import load_config
from insats.storage import write_parquet
from insats.validation import gate
from tasks.mapping.alignment import alignment_scores
from tasks.mapping.candidates import evaluation_candidates
from tasks.mapping.inventory import check_inventory, read_inventory
from tasks.register.counts import participants_per_intervention

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
def align_and_rank(
    inventory: Path, demand_profile: Path, participants: Path, min_participants: int, out_dir: str
) -> dict:
    """Score each intervention against the demand profile and rank candidates for evaluation."""
    inv, profile = pd.read_parquet(inventory), pd.read_parquet(demand_profile)
    alignment = alignment_scores(inv, profile)
    candidates = evaluation_candidates(inv, alignment, pd.read_parquet(participants), min_participants=min_participants)
    return written(
        alignment=write_parquet(alignment, Path(out_dir) / "alignment.parquet"),
        candidates=write_parquet(candidates, Path(out_dir) / "candidates.parquet"),
    )


@flow(name="intervention-mapping")
def intervention_mapping(config_path: str, demand_profile: str | None = None) -> Outputs:
    """Check the inventory, align it with the employer demand profile, and choose evaluation candidates.

    ``demand_profile`` is study 1's validated table; by default the one study 1 last published.
    """
    config = load_config(config_path)
    cfg = config.intervention_mapping
    profile = (
        Path(demand_profile) if demand_profile else read_published(config, "employer_interviews", "demand_profile")
    )
    inputs = [cfg.inventory, profile, config.register.files["spells"]]
    record_inputs(STUDY, config, inputs)
    interim = str(config.interim_dir(STUDY))

    register = ingest_register(config, kinds=("spells",))
    inventory = run_step(load_inventory, inventory=cfg.inventory, demand_profile=profile, out_dir=interim)
    participants = run_step(count_participants, spells=Path(register["spells"]), out_dir=interim)
    ranked = run_step(
        align_and_rank,
        inventory=Path(inventory["inventory"]),
        demand_profile=profile,
        participants=Path(participants["participants"]),
        min_participants=cfg.min_participants,
        out_dir=interim,
    )
    return publish(
        STUDY,
        config,
        {**inventory, **participants, **ranked},
        inputs,
        artifact_table="candidates",
        count_columns=["n_participants"],
    )
