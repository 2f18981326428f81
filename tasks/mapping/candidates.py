"""Evaluation candidates (study 2 -> study 3): which interventions can be evaluated on the register.

An intervention is eligible for a register-based evaluation when the register holds enough participants
(distinct persons with a participation spell) for a matching estimate. Candidates are ranked: eligible first,
then by alignment with employers' demand (descending), then by number of participants (descending), then by
intervention_id, so that rank 1 is the best-aligned intervention that can be evaluated.

With register design counts (:func:`insats.tasks.mapping.power.design_counts`) and an evidence table
(:func:`insats.tasks.mapping.evidence.evidence_table`), :func:`evaluation_candidates` applies the config's rules
(:class:`CandidateRules`): treated N >= min_participants, comparison N >= min_comparison, minimum detectable
effect <= max_mde, and optionally support from the evidence or alignment.

The table publishes the decision as codes and numbers, never as sentences: ``reason_codes`` is the ';'-joined list
of the rules that failed (:data:`REASON_CODES`: ``too_few_treated``, ``too_few_comparison``, ``mde_too_large``,
``mde_not_estimable``, ``no_support``) or ``chosen``; the numbers they refer to are columns of their own (counts,
``mde``, ``alignment_score``, ``n_positive_studies``) and so are the rules' limits (``min_treated``,
``min_comparison``, ``max_mde``, ``support``, ``min_alignment``, ``min_positive_studies``). Reports word the codes
in their own language and suppress small counts cell by cell.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import pandas as pd

from insats.tasks.mapping.power import minimum_detectable_effect

Support = Literal["none", "evidence", "alignment", "evidence_or_alignment"]


@dataclass(frozen=True)
class CandidateRules:
    """The config's rules for choosing evaluation candidates.

    ``min_participants``: minimum treated N (with design counts; else distinct participants);
    ``min_comparison``: minimum eligible comparison N; ``max_mde``: largest acceptable minimum detectable
    effect on self-sufficiency (proportion, e.g. 0.10 = 10 percentage points; None = no limit);
    ``support``: also require evidence (>= ``min_positive_studies`` included studies of the method family with
    a positive effect), alignment (score >= ``min_alignment``), either, or nothing; ``alpha``/``power`` for
    the MDE.
    """

    min_participants: int = 100
    min_comparison: int = 0
    max_mde: float | None = None
    support: Support = "none"
    min_alignment: float = 0.2
    min_positive_studies: int = 1
    alpha: float = 0.05
    power: float = 0.8


CANDIDATE_COLUMNS: tuple[str, ...] = (
    "intervention_id",
    "name",
    "method_family",
    "n_participants",
    "alignment_score",
    "eligible",
    "reason_codes",
    "rank",
    "n_treated",
    "n_comparison",
    "base_rate",
    "mde",
    "n_studies",
    "n_positive_studies",
    "min_treated",
    "min_comparison",
    "max_mde",
    "support",
    "min_alignment",
    "min_positive_studies",
)
CHOSEN = "chosen"
# Failed rules, in the order they are listed: treated N, comparison N, MDE (too large or not estimable), support.
REASON_CODES: tuple[str, ...] = (
    "too_few_treated",
    "too_few_comparison",
    "mde_too_large",
    "mde_not_estimable",
    "no_support",
)
REASON_SEPARATOR = ";"


def rule_reason(
    n_treated: int,
    n_comparison: int,
    mde: float,
    alignment_score: float,
    n_positive: int,
    rules: CandidateRules,
) -> tuple[bool, list[str]]:
    """(eligible, reason codes) under ``rules``: the codes of every failed rule (:data:`REASON_CODES`, in that
    order), or ``["chosen"]`` when none failed. ``mde`` is a proportion (NaN: not estimable)."""
    failed = []
    if n_treated < rules.min_participants:
        failed.append("too_few_treated")
    if n_comparison < rules.min_comparison:
        failed.append("too_few_comparison")
    if rules.max_mde is not None and math.isnan(mde):
        failed.append("mde_not_estimable")
    elif rules.max_mde is not None and mde > rules.max_mde:
        failed.append("mde_too_large")
    has_evidence = n_positive >= rules.min_positive_studies
    has_alignment = alignment_score >= rules.min_alignment
    support_ok = {
        "none": True,
        "evidence": has_evidence,
        "alignment": has_alignment,
        "evidence_or_alignment": has_evidence or has_alignment,
    }[rules.support]
    if not support_ok:
        failed.append("no_support")
    failed.sort(key=REASON_CODES.index)
    return (False, failed) if failed else (True, [CHOSEN])


def evaluation_candidates(
    inventory: pd.DataFrame,
    alignment: pd.DataFrame,
    participants: pd.DataFrame,
    min_participants: int = 100,
    *,
    design: pd.DataFrame | None = None,
    evidence: pd.DataFrame | None = None,
    rules: CandidateRules | None = None,
) -> pd.DataFrame:
    """Rank the inventory's interventions as candidates for the outcome evaluation.

    Inputs: ``inventory`` (``intervention_id``, ``name``, ``method_family``), ``alignment`` from
    :func:`insats.tasks.mapping.alignment.alignment_scores` (``intervention_id``, ``alignment_score``), and
    ``participants`` (``intervention_id``, ``n_participants`` = distinct persons in the register's spells).
    Interventions absent from ``participants`` get 0; participants rows for ids not in the inventory are
    ignored (the register may hold programmes outside the inventory).

    Output columns :data:`CANDIDATE_COLUMNS`, one row per inventory intervention sorted by ``rank``
    (1 = best; unique ranks): ``n_participants`` int64,
    ``eligible`` bool (n_participants >= min_participants),
    ``reason_codes`` the ';'-joined codes of :func:`rule_reason` (e.g. "too_few_treated"; "chosen" when
    eligible), and the rules' limits as columns (``min_treated`` = the rules' min_participants, ``max_mde``
    NaN when there is no limit).

    With ``design`` (:func:`insats.tasks.mapping.power.design_counts`: intervention_id, n_treated, n_comparison,
    base_rate) the ``rules`` (default ``CandidateRules(min_participants=min_participants)``) decide
    ``eligible`` and the codes (see :func:`rule_reason`); ``mde`` is computed per intervention at the
    rules' alpha and power. ``evidence`` (method_family, n_studies, n_positive) adds the evidence counts of the
    intervention's method family (0 when absent). Without ``design`` the extra columns are filled from
    ``participants`` (n_treated = n_participants, n_comparison 0, base_rate and mde NaN) and only the minimum
    N applies (code ``too_few_treated``).

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
    rules = rules or CandidateRules(min_participants=min_participants)
    fam_n: dict[str, int] = {}
    fam_pos: dict[str, int] = {}
    if evidence is not None and len(evidence):
        fam_n = dict(zip(evidence["method_family"].astype(str), evidence["n_studies"].astype(int), strict=True))
        fam_pos = dict(zip(evidence["method_family"].astype(str), evidence["n_positive"].astype(int), strict=True))
    out["n_studies"] = pd.Series([fam_n.get(f, 0) for f in out["method_family"]], dtype="int64")
    out["n_positive_studies"] = pd.Series([fam_pos.get(f, 0) for f in out["method_family"]], dtype="int64")
    if design is None:
        out["n_treated"] = out["n_participants"]
        out["n_comparison"] = 0
        out["base_rate"] = float("nan")
        out["mde"] = float("nan")
        out["eligible"] = (out["n_participants"] >= rules.min_participants).astype(bool)
        out["reason_codes"] = [CHOSEN if ok else "too_few_treated" for ok in out["eligible"]]
    else:
        missing = [c for c in ("intervention_id", "n_treated", "n_comparison", "base_rate") if c not in design]
        if missing:
            raise ValueError(f"design: missing column(s) {', '.join(missing)}")
        d = design.assign(intervention_id=design["intervention_id"].astype(str)).set_index("intervention_id")
        out["n_treated"] = [int(d["n_treated"].get(i, 0)) for i in out["intervention_id"]]
        out["n_comparison"] = [int(d["n_comparison"].get(i, 0)) for i in out["intervention_id"]]
        out["base_rate"] = [float(d["base_rate"].get(i, float("nan"))) for i in out["intervention_id"]]
        out["mde"] = [
            float("nan") if math.isnan(b) else minimum_detectable_effect(t, c, b, rules.alpha, rules.power)
            for t, c, b in zip(out["n_treated"], out["n_comparison"], out["base_rate"], strict=True)
        ]
        decided = [
            rule_reason(t, c, m, a, p, rules)
            for t, c, m, a, p in zip(
                out["n_treated"], out["n_comparison"], out["mde"], out["alignment_score"],
                out["n_positive_studies"], strict=True,
            )
        ]  # fmt: skip
        out["eligible"] = pd.Series([e for e, _ in decided], dtype=bool)
        out["reason_codes"] = [REASON_SEPARATOR.join(r) for _, r in decided]
    out["min_treated"] = rules.min_participants
    out["min_comparison"] = rules.min_comparison if design is not None else 0
    out["max_mde"] = float("nan") if rules.max_mde is None or design is None else float(rules.max_mde)
    out["support"] = rules.support if design is not None else "none"
    out["min_alignment"] = float(rules.min_alignment)
    out["min_positive_studies"] = rules.min_positive_studies
    out = out.astype(
        {"n_treated": "int64", "n_comparison": "int64", "base_rate": "float64", "mde": "float64",
         "min_treated": "int64", "min_comparison": "int64", "max_mde": "float64", "support": str,
         "min_alignment": "float64", "min_positive_studies": "int64"}
    )  # fmt: skip
    out = out.sort_values(
        ["eligible", "alignment_score", "n_treated", "intervention_id"],
        ascending=[False, False, False, True],
        kind="mergesort",
    ).reset_index(drop=True)
    out["rank"] = pd.Series(range(1, len(out) + 1), dtype="int64")
    return out[list(CANDIDATE_COLUMNS)]
