"""Alignment of interventions with employers' demand (study 2).

The demand profile comes from study 1: one row per competency code with columns ``code_id``, ``label``,
``label_en``, ``n_employers``, ``n_employers_total``, ``share_employers`` (0..1, share of interviewed
employers who demand the competency) and ``rank`` (1 = most demanded). An intervention's alignment score
is the share of total employer demand that the competencies it addresses cover::

    score = sum(share_employers of the addressed competencies) / sum(share_employers of all profile codes)

so 0 = addresses nothing employers asked for, 1 = addresses every demanded competency. Competency ids that an
intervention lists but that are not in the profile (or have share 0) add nothing.
"""

from __future__ import annotations

import pandas as pd

from insats.tasks.mapping.inventory import ongoing_mask, split_competencies

PROFILE_REQUIRED: tuple[str, ...] = ("code_id", "share_employers", "rank")
ALIGNMENT_COLUMNS: tuple[str, ...] = (
    "intervention_id",
    "name",
    "method_family",
    "alignment_score",
    "matched_competencies",
    "n_competencies",
)


def _check_profile(demand_profile: pd.DataFrame) -> pd.DataFrame:
    missing = [c for c in PROFILE_REQUIRED if c not in demand_profile.columns]
    if missing:
        raise ValueError(
            f"demand profile: missing column(s) {', '.join(missing)}; "
            f"found {', '.join(map(str, demand_profile.columns))}"
        )
    prof = demand_profile.copy()
    prof["code_id"] = prof["code_id"].astype(str).str.strip().str.upper()
    dupes = sorted(prof.loc[prof["code_id"].duplicated(), "code_id"].unique())
    if dupes:
        raise ValueError(f"demand profile: duplicate code_id {dupes}")
    share = pd.to_numeric(prof["share_employers"], errors="coerce")
    bad = prof.index[share.isna() | (share < 0) | (share > 1)]
    if len(bad):
        i = bad[0]
        raise ValueError(
            f"demand profile: column 'share_employers' must be a number in 0..1; "
            f"code {prof.at[i, 'code_id']!r} has {prof.at[i, 'share_employers']!r}"
        )
    prof["share_employers"] = share.astype(float)
    return prof.sort_values(["rank", "code_id"], kind="mergesort")


def alignment_scores(inventory: pd.DataFrame, demand_profile: pd.DataFrame) -> pd.DataFrame:
    """Score each intervention by the share of total employer demand its competencies cover (0..1).

    Inputs: a checked inventory (``intervention_id``, ``name``, ``method_family``, ``competencies``) and a
    demand profile (see module docstring). Output: one row per intervention with columns
    :data:`ALIGNMENT_COLUMNS`: ``alignment_score`` (float 0..1; 0 if the profile has no demand at all),
    ``matched_competencies`` (the addressed codes that employers demand, i.e. in the profile with share > 0,
    ";"-joined in order of demand rank, ties by code id), ``n_competencies`` (int, number of matched codes).
    Sorted by alignment_score descending, then intervention_id.
    """
    prof = _check_profile(demand_profile)
    demanded = prof[prof["share_employers"] > 0]
    share = dict(zip(demanded["code_id"], demanded["share_employers"], strict=True))
    order = {code: i for i, code in enumerate(demanded["code_id"])}
    total = float(prof["share_employers"].sum())

    rows = []
    for rec in inventory[["intervention_id", "name", "method_family", "competencies"]].itertuples(index=False):
        matched = sorted({c for c in split_competencies(rec.competencies) if c in share}, key=order.__getitem__)
        covered = sum(share[c] for c in matched)
        rows.append(
            {
                "intervention_id": rec.intervention_id,
                "name": rec.name,
                "method_family": rec.method_family,
                "alignment_score": covered / total if total > 0 else 0.0,
                "matched_competencies": ";".join(matched),
                "n_competencies": len(matched),
            }
        )
    out = pd.DataFrame(rows, columns=list(ALIGNMENT_COLUMNS))
    out["alignment_score"] = out["alignment_score"].astype(float)
    out["n_competencies"] = out["n_competencies"].astype("int64")
    return out.sort_values(
        ["alignment_score", "intervention_id"], ascending=[False, True], kind="mergesort"
    ).reset_index(drop=True)


def coverage_gaps(
    inventory: pd.DataFrame,
    demand_profile: pd.DataFrame,
    min_share: float = 0.25,
    *,
    as_of: pd.Timestamp | None = None,
) -> pd.DataFrame:
    """Demanded competencies (share_employers >= ``min_share``) that no ongoing intervention addresses.

    "Ongoing" means ``end_date`` is missing, or, with ``as_of``, started by and not ended before ``as_of``
    (see :func:`insats.tasks.mapping.inventory.ongoing_mask`). Output columns: ``code_id``, ``label``, ``label_en``
    (when in the profile), ``share_employers``, ``rank``, ``addressed_by_not_ongoing`` (";"-joined ids of
    interventions that address the code but are not ongoing: ended, or not yet started at ``as_of``;
    "" if none). Sorted by rank.
    """
    prof = _check_profile(demand_profile)
    ongoing = ongoing_mask(inventory, as_of)
    covered_now: set[str] = set()
    covered_before: dict[str, list[str]] = {}
    for iid, comps, is_on in zip(inventory["intervention_id"], inventory["competencies"], ongoing, strict=True):
        for code in split_competencies(comps):
            if is_on:
                covered_now.add(code)
            else:
                covered_before.setdefault(code, []).append(str(iid))
    gaps = prof[(prof["share_employers"] >= min_share) & ~prof["code_id"].isin(covered_now)].copy()
    gaps["addressed_by_not_ongoing"] = [";".join(sorted(covered_before.get(c, []))) for c in gaps["code_id"]]
    cols = [c for c in ("code_id", "label", "label_en", "share_employers", "rank") if c in gaps.columns]
    return gaps[[*cols, "addressed_by_not_ongoing"]].reset_index(drop=True)
