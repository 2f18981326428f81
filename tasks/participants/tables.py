"""The participant-flow tables as published: which columns are person counts, which statistics derive
from them, and small-cell suppression applied to every table (``insats.tasks.disclosure`` rule: counts 1..T-1
hidden with the figures computed from them on the same row; a ``suppressed`` flag column is added).
"""

from __future__ import annotations

import pandas as pd

from insats.tasks.disclosure import suppress_small_counts
from insats.tasks.participants.measures import MEASURE_DERIVED

_KM = ["share_stepped", "ci_low", "ci_high"]
_CHANGE = [
    "mean_first", "mean_latest", "mean_change", "sd_change", "ci_low", "ci_high", "effect_size", "es_ci_low",
    "es_ci_high", "p_value",
]  # fmt: skip
_ASSOC = ["odds_ratio", "ci_low", "ci_high", "p_value"]

# table -> {person-count column: columns derived from it}
SUPPRESSION: dict[str, dict[str, list[str]]] = {
    "measures": MEASURE_DERIVED,
    "enrolment": {"n_enrolled": []},
    "time_to_step": {"n_at_risk": _KM, "n_events_cum": _KM},
    "transitions": {"n_transitions": ["share_of_from"], "n_persons": ["share_of_from"]},
    "status_by_quarter": {"n_participants": []},
    "indicator_occasions": {"n_participants": ["mean_score"]},
    "indicator_change": {"n_participants": _CHANGE},
    "indicator_association": {"n_participants": _ASSOC, "n_favourable": _ASSOC},
}

INDICATOR_COLUMNS: dict[str, list[str]] = {
    "indicator_occasions": ["project", "indicator", "occasion", "n_participants", "mean_score"],
    "indicator_change": [
        "project", "indicator", "indicator_sv", "indicator_en", "n_participants", *_CHANGE[:3], *_CHANGE[3:],
    ],
    "indicator_association": [
        "indicator", "n_participants", "n_favourable", *_ASSOC, "estimated", "note",
    ],
}  # fmt: skip


def empty_indicator_table(name: str) -> pd.DataFrame:
    """An indicator table with its columns and no rows (the project has no questionnaires)."""
    return pd.DataFrame({c: pd.Series(dtype="float64") for c in INDICATOR_COLUMNS[name]})


def suppress_table(name: str, df: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Apply the disclosure rule to one participant-flow table named in ``SUPPRESSION``. Association notes
    quoting counts are replaced when those counts are hidden."""
    rules = SUPPRESSION[name]
    out = suppress_small_counts(df, list(rules), threshold, derived_columns={k: v for k, v in rules.items() if v})
    if name == "indicator_association" and len(out):
        out["note"] = (
            out["note"]
            .astype(object)
            .where(~out["suppressed"], f"not shown: fewer than {threshold} persons in a group")
        )
        out["estimated"] = out["estimated"].astype(bool) & ~out["suppressed"]
    return out
