"""Synthetic demo inputs with planted truths, in the formats the users really receive."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from insats.demo.interviews import make_interviews, write_interviews
from insats.demo.inventory import make_inventory, write_inventory
from insats.demo.mapping_extra import write_mapping_extras
from insats.demo.participants import make_participant_demo, write_participant_demo
from insats.demo.register import make_register, write_register

TRUTH_FILE = "truth.json"


def write_demo_data(out: Path, seed: int = 2026, persons: int = 3000) -> dict[str, Any]:
    """Write the demo inputs to ``out`` (created whole, or not at all) and return the planted truths.

    Layout: ``interviews/`` (transcripts/, employers.csv, codebook.yaml), ``mapping/`` (interventions.csv
    and .xlsx), ``register/`` (persons, assistance, spells, outcomes as SPSS .sav), ``participants/`` (a
    project's participant documentation, see docs/participant_flow.md) and ``truth.json``.
    """
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise FileExistsError(f"{out} already holds files; demo data are written only to a new or empty folder")
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    tmp.chmod(0o755)  # mkdtemp makes it private; the demo folder should look like any other
    try:
        interviews = make_interviews(seed=seed)
        write_interviews(interviews, tmp / "interviews")
        write_inventory(make_inventory(), tmp / "mapping")
        write_mapping_extras(tmp / "mapping")  # caseworker survey, references, screening decisions
        frames, register_truth = make_register(seed=seed, n_persons=persons)
        write_register(frames, tmp / "register")
        participants = make_participant_demo(seed=seed)
        write_participant_demo(participants, tmp / "participants")
        truth = {
            "seed": seed,
            "persons": persons,
            "employer_interviews": interviews.truth,
            "outcome_evaluation": register_truth,
            "participant_flow": participants.truth,
        }
        (tmp / TRUTH_FILE).write_text(json.dumps(truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
        if out.exists():
            out.rmdir()
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return truth
