"""Study 3 around the start month, at the main horizon: event studies of monthly assistance receipt
(Callaway-Sant'Anna on the whole register, unconditional and conditional on the assistance history before
the start, and on the matched pairs) and time to self-sufficiency of the matched (Kaplan-Meier curves, Cox
model clustered by person)."""

from __future__ import annotations

import pandas as pd

from insats.tasks.evaluation.conditional_event_study import conditional_event_study
from insats.tasks.evaluation.design import first_starts
from insats.tasks.evaluation.event_study import event_study
from insats.tasks.evaluation.matched_event_study import matched_event_study
from insats.tasks.evaluation.survival import cox_model, kaplan_meier, matched_survival_data

EVENT_COLUMNS = ["rel_month", "att", "se", "ci_low", "ci_high", "p_value", "n_treated"]
LEADS, LAGS = 12, 24  # months before / after the start in the event studies
DESIGNS = (  # the event_study table's designs, in this order
    "callaway_santanna_not_yet_treated",  # unconditional: shows the pre-trends of selection on history
    "callaway_santanna_conditional_not_yet_treated",  # doubly robust on the assistance history before start
    "matched_pairs",
)


def around_start(
    panel: pd.DataFrame,
    sample: pd.DataFrame,
    pairs: pd.DataFrame,
    spells: pd.DataFrame,
    intervention_id: str,
    window: int,
) -> dict[str, pd.DataFrame]:
    """{"event_study": one row per (design, relative month), the ``DESIGNS``: Callaway-Sant'Anna against the
    not yet treated, unconditional and conditional on the assistance history before the start
    (``conditional_event_study``), and the matched pairs; "survival": Kaplan-Meier curves by arm; "cox":
    hazard ratios with n and n_events}, each with
    ``intervention_id``. ``panel``: the person-month panel; ``sample`` / ``pairs``: the main-horizon matching
    sample and its headline pairs; ``spells``: the register's intervention spells; ``window``: months without
    assistance that make a person self-sufficient (config ``window_months``)."""
    starts = first_starts(spells, intervention_id)
    cs = event_study(panel, starts, outcome="on_assistance", leads=LEADS, lags=LAGS)
    conditional, _ = conditional_event_study(panel, starts, outcome="on_assistance", leads=LEADS, lags=LAGS)
    paired = matched_event_study(panel, sample, pairs, outcome="on_assistance", leads=LEADS, lags=LAGS)
    events = pd.concat(
        [
            frame[EVENT_COLUMNS].assign(design=design)
            for frame, design in zip((cs.coefficients, conditional, paired), DESIGNS, strict=True)
        ],
        ignore_index=True,
    )
    events.insert(0, "intervention_id", intervention_id)
    survival = matched_survival_data(sample, pairs, panel, k=window, starts=starts)
    curves = kaplan_meier(survival)
    curves.insert(0, "intervention_id", intervention_id)
    cox = cox_model(survival, cluster="person_id")
    hazard = cox.table.assign(intervention_id=intervention_id, n=cox.n, n_events=cox.n_events)
    return {"event_study": events, "survival": curves, "cox": hazard}


def stack_tables(frames: list[pd.DataFrame]) -> pd.DataFrame:
    """One table from the per-sample parts (rows in the given order, new RangeIndex). A part without columns
    stands for "no such table for this sample" (e.g. no balance detail) and is left out."""
    parts = [f for f in frames if len(f.columns)]
    return pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
