"""Counts of persons in register tables (pseudonymised), for inventories and candidate lists."""

from __future__ import annotations

import pandas as pd


def participants_per_intervention(spells: pd.DataFrame) -> pd.DataFrame:
    """Distinct participants per intervention.

    Input: spells with columns person_id, intervention_id, start_date (one row per participation spell).
    Output: one row per intervention_id with n_participants (distinct persons), n_spells, first_start and
    last_start (dates of the earliest and latest spell start).
    """
    grouped = spells.groupby("intervention_id", sort=True)
    out = pd.DataFrame(
        {
            "n_participants": grouped["person_id"].nunique(),
            "n_spells": grouped.size(),
            "first_start": grouped["start_date"].min(),
            "last_start": grouped["start_date"].max(),
        }
    ).reset_index()
    return out.astype({"n_participants": "int64", "n_spells": "int64"})
