"""What study 3 evaluates and how the work is divided: interventions, horizons, bootstrap seed chunks.

Pure functions of study 2's candidate table and the ``outcome_evaluation`` config section; the flow fans out
one matching sample per (intervention, horizon) and one bootstrap task per (sample, seed chunk).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from insats.config import OutcomeEvaluation
from insats.tasks.evaluation.bootstrap import replicate_seeds


def choose_interventions(candidates: pd.DataFrame, chosen: str | Sequence[str], n_candidates: int) -> list[str]:
    """The interventions to evaluate: ``chosen`` (config ``outcome_evaluation.interventions``) when it is a
    list, or, for ``"from_mapping"``, the ``n_candidates`` best-ranked eligible rows of study 2's candidate
    table (columns intervention_id, rank, eligible)."""
    if isinstance(chosen, str):
        if chosen != "from_mapping":
            raise ValueError(
                "outcome_evaluation.interventions: expected a list of intervention ids or 'from_mapping', "
                f"got {chosen!r}"
            )
    else:
        return list(chosen)
    missing = [c for c in ("intervention_id", "rank", "eligible") if c not in candidates.columns]
    if missing:
        raise ValueError(f"study 2's candidates table lacks column(s) {', '.join(missing)}")
    ranked = candidates.sort_values("rank")
    eligible = ranked[ranked["eligible"]]
    if eligible.empty:
        raise ValueError(
            "intervention_mapping.candidates: study 2 found no intervention with enough participants to evaluate "
            "(name them under outcome_evaluation.interventions in the config to evaluate anyway)"
        )
    return eligible["intervention_id"].head(n_candidates).tolist()


def evaluation_horizons(settings: OutcomeEvaluation) -> list[int]:
    """Every horizon estimated (months after the start), ascending: ``horizons`` plus the main ``horizon_months``."""
    return sorted(set(settings.horizons) | {settings.horizon_months})


def seed_chunks(settings: OutcomeEvaluation) -> list[list[int]]:
    """The ``n_boot`` replicate seeds derived from ``seed``, split into at most ``boot_chunks`` non-empty
    chunks (one parallel task each; the bootstrap SE does not depend on the split)."""
    seeds = np.asarray(replicate_seeds(settings.seed, settings.n_boot), dtype=np.int64)
    return [c.tolist() for c in np.array_split(seeds, settings.boot_chunks) if len(c)]
