"""Evaluation candidates (study 2 -> study 3): which interventions can be evaluated on the register.

An intervention is eligible for a register-based evaluation when the register holds enough participants
(distinct persons with a participation spell) for a matching estimate. Candidates are ranked: eligible first,
then by alignment with employers' demand (descending), then by number of participants (descending), then by
intervention_id, so that rank 1 is the best-aligned intervention that can be evaluated.
"""

from __future__ import annotations

import pandas as pd

CANDIDATE_COLUMNS: tuple[str, ...] = (
    "intervention_id",
    "name",
    "method_family",
    "n_participants",
    "alignment_score",
    "eligible",
    "reason",
    "rank",
)


def candidate_reason(n_participants: int, min_participants: int, alignment_score: float) -> str:
    """English one-sentence reason for the eligibility decision (counts as given; suppress them first
    if the sentence is published)."""
    if n_participants >= min_participants:
        return (
            f"Enough participants in the register ({n_participants} >= {min_participants}); "
            f"alignment score {alignment_score:.2f}"
        )
    if n_participants == 0:
        return f"No participants in the register (0 < {min_participants})"
    return f"Too few participants in the register ({n_participants} < {min_participants})"


def evaluation_candidates(
    inventory: pd.DataFrame,
    alignment: pd.DataFrame,
    participants: pd.DataFrame,
    min_participants: int = 100,
) -> pd.DataFrame:
    """Rank the inventory's interventions as candidates for the outcome evaluation.

    Inputs: ``inventory`` (``intervention_id``, ``name``, ``method_family``), ``alignment`` from
    :func:`tasks.mapping.alignment.alignment_scores` (``intervention_id``, ``alignment_score``), and
    ``participants`` (``intervention_id``, ``n_participants`` = distinct persons in the register's spells).
    Interventions absent from ``participants`` get 0; participants rows for ids not in the inventory are
    ignored (the register may hold programmes outside the inventory).

    Output columns :data:`CANDIDATE_COLUMNS`, one row per inventory intervention sorted by ``rank``
    (1 = best; unique ranks): ``n_participants`` int64,
    ``eligible`` bool (n_participants >= min_participants),
    ``reason`` an English sentence (e.g. "Too few participants in the register (23 < 100)").

    Raises ValueError for missing columns, an inventory intervention without an alignment score, duplicate
    ids in ``participants`` or a negative count.
    """
    for frame, name, cols in (
        (inventory, "inventory", ("intervention_id", "name", "method_family")),
        (alignment, "alignment", ("intervention_id", "alignment_score")),
        (participants, "participants", ("intervention_id", "n_participants")),
    ):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ValueError(f"{name}: missing column(s) {', '.join(missing)}; found {', '.join(frame.columns)}")
    dup = participants["intervention_id"].astype(str).duplicated()
    if dup.any():
        raise ValueError(
            "participants: duplicate intervention_id "
            f"{sorted(participants.loc[dup, 'intervention_id'].astype(str).unique())}"
        )
    counts = pd.to_numeric(participants["n_participants"], errors="raise")
    if (counts < 0).any():
        raise ValueError("participants: column 'n_participants' has a negative count")

    out = inventory[["intervention_id", "name", "method_family"]].copy()
    out["intervention_id"] = out["intervention_id"].astype(str)
    n_by_id = dict(zip(participants["intervention_id"].astype(str), counts, strict=True))
    score_by_id = dict(
        zip(alignment["intervention_id"].astype(str), alignment["alignment_score"].astype(float), strict=True)
    )
    no_score = [i for i in out["intervention_id"] if i not in score_by_id]
    if no_score:
        raise ValueError(f"alignment: no alignment_score for intervention(s) {no_score}")
    out["n_participants"] = [int(n_by_id.get(i, 0)) for i in out["intervention_id"]]
    out["n_participants"] = out["n_participants"].astype("int64")
    out["alignment_score"] = [score_by_id[i] for i in out["intervention_id"]]
    out["eligible"] = (out["n_participants"] >= min_participants).astype(bool)
    out["reason"] = [
        candidate_reason(int(n), min_participants, float(s))
        for n, s in zip(out["n_participants"], out["alignment_score"], strict=True)
    ]
    out = out.sort_values(
        ["eligible", "alignment_score", "n_participants", "intervention_id"],
        ascending=[False, False, False, True],
        kind="mergesort",
    ).reset_index(drop=True)
    out["rank"] = pd.Series(range(1, len(out) + 1), dtype="int64")
    return out[list(CANDIDATE_COLUMNS)]
