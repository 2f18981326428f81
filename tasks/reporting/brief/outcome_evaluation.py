"""Study 3 in the brief: effect estimates (table and figure) and covariate balance (summary and Love plot).

Columns (suites ``schemas/outcome_evaluation.<table>.json``):
- effects: intervention_id, outcome, horizon_months, estimator, att, se, ci_low, ci_high, p_value,
  n_treated, n_controls, n_treated_unmatched
- balance: intervention_id, covariate, smd_before, smd_after (and mean_treated, mean_control_before,
  mean_control_after)

Estimates computed from a hidden count (ATT, SE, CI, p-value) are hidden with it. Balance statistics have no
counts of their own: an intervention's balance rows carry the smallest non-zero number of treated of its
effect rows (:func:`treated_by_intervention`), so they are hidden exactly when one of its estimates is.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from insats.tasks.disclosure import hidden_column, protect_for_publication
from insats.tasks.reporting import figures
from insats.tasks.reporting.brief.common import (
    cell,
    complete_if_empty,
    count_text,
    data_uri,
    header,
    protect,
    require,
    text,
)
from insats.tasks.reporting.i18n import (
    MISSING,
    format_ci,
    format_int,
    format_number,
    format_pvalue,
    outcome_label,
    t,
)

STUDY = "outcome_evaluation"
SHOWN_COUNTS: tuple[str, ...] = ("n_treated", "n_controls", "n_treated_unmatched")
EFFECT_DERIVED: tuple[str, ...] = ("att", "se", "ci_low", "ci_high", "p_value")
EFFECT_REQUIRED: tuple[str, ...] = (
    "intervention_id",
    "outcome",
    "horizon_months",
    "estimator",
    "att",
    "ci_low",
    "ci_high",
    "p_value",
    *SHOWN_COUNTS,
)
BALANCE_DERIVED: tuple[str, ...] = (
    "mean_treated",
    "mean_control_before",
    "mean_control_after",
    "smd_before",
    "smd_after",
)
SMD_TARGET = 0.1
LINK_COUNT = "n_treated"


def treated_by_intervention(effects: pd.DataFrame | None) -> pd.Series:
    """intervention_id (str) -> the smallest non-zero ``n_treated`` of its effect rows (NaN when none): it is
    below the disclosure threshold exactly when one of the intervention's counts of treated is."""
    if effects is None or effects.empty or LINK_COUNT not in effects.columns:
        return pd.Series(dtype=float)
    n = pd.to_numeric(effects[LINK_COUNT], errors="coerce")
    return n.where(n > 0).groupby(effects["intervention_id"].astype(str)).min()


def link_count(df: pd.DataFrame, treated: pd.Series) -> pd.DataFrame:
    """``df`` (with intervention_id) with the column ``n_treated`` from :func:`treated_by_intervention`."""
    return df.assign(**{LINK_COUNT: df["intervention_id"].astype(str).map(treated).astype(float)})


def effects_section(effects: pd.DataFrame, threshold: int, lang: str) -> dict[str, Any]:
    """The effect estimates with counts after disclosure control, and the figure of the shown estimates."""
    effects = complete_if_empty(effects, STUDY, "effects")
    require(effects, EFFECT_REQUIRED, "effects")
    derived = [c for c in EFFECT_DERIVED if c in effects.columns]
    sup = protect(effects, STUDY, "effects", threshold, {"n_treated": derived, "n_controls": derived})
    cols = ["intervention_id", "outcome", "horizon_months", "estimator", "att", "ci", "p_value", *SHOWN_COUNTS]
    rows = [
        [
            cell(str(rec["intervention_id"]), "intervention_id"),
            cell(outcome_label(rec["outcome"], lang), "outcome"),
            cell(format_int(rec["horizon_months"], lang), "horizon_months", True),
            cell(text(rec["estimator"]), "estimator"),
            cell(format_number(rec["att"], lang, 3), "att", True),
            cell(format_ci(rec["ci_low"], rec["ci_high"], lang), "ci", True),
            cell(format_pvalue(rec["p_value"], lang), "p_value", True),
            *[cell(count_text(rec, c, threshold, lang), c, True) for c in SHOWN_COUNTS],
        ]
        for rec in sup.to_dict("records")
    ]
    return {
        "header": header(cols, lang),
        "rows": rows,
        "figure": data_uri(figures.effect_figure(sup, lang)),
        "alt": t("figure_alt_effect", lang),
    }


def balance_section(balance: pd.DataFrame, treated: pd.Series, threshold: int, lang: str) -> dict[str, Any]:
    """Per intervention: covariates, max |SMD| before and after matching and the number still imbalanced,
    hidden for interventions whose count of treated is hidden; and the Love plot of the shown rows."""
    balance = complete_if_empty(balance, STUDY, "balance")
    require(balance, ("intervention_id", "covariate", "smd_before", "smd_after"), "balance")
    linked = link_count(balance, treated)
    numeric = {c: pd.to_numeric(linked[c], errors="coerce").astype(float) for c in BALANCE_DERIVED if c in linked}
    derived = {LINK_COUNT: [c for c in BALANCE_DERIVED if c in linked.columns]}
    bal = protect_for_publication(linked.assign(**numeric), threshold, [LINK_COUNT], derived, table="balance")
    bal = bal.assign(**{c: pd.to_numeric(bal[c], errors="coerce").astype(float) for c in derived[LINK_COUNT]})
    cols = ["intervention_id", "n_covariates", "max_smd_before", "max_smd_after", "n_imbalanced_after"]
    rows = []
    for iid, grp in bal.groupby(bal["intervention_id"].astype(str), sort=False):
        before, after = grp["smd_before"].abs(), grp["smd_after"].abs()
        shown = after.notna().any() and not grp[hidden_column(LINK_COUNT)].any()
        rows.append(
            [
                cell(iid, "intervention_id"),
                cell(format_int(grp["covariate"].nunique(), lang), "n_covariates", True),
                cell(format_number(before.max(), lang, 3) if shown else MISSING, "max_smd_before", True),
                cell(format_number(after.max(), lang, 3) if shown else MISSING, "max_smd_after", True),
                cell(
                    format_int(int((after >= SMD_TARGET).sum()), lang) if shown else MISSING,
                    "n_imbalanced_after",
                    True,
                ),
            ]
        )
    return {
        "header": header(cols, lang),
        "rows": rows,
        "figure": data_uri(figures.balance_figure(bal, lang)),
        "alt": t("figure_alt_balance", lang),
    }


EVENT_DESIGNS: tuple[str, ...] = (
    "callaway_santanna_not_yet_treated",
    "callaway_santanna_conditional_not_yet_treated",
)
EVENT_MONTHS: tuple[int, ...] = (-12, -6, -3, -2, 0, 3, 6, 12, 18, 24)  # relative months shown in the brief
EVENT_DERIVED: tuple[str, ...] = ("att", "se", "ci_low", "ci_high", "p_value")


def event_study_section(events: pd.DataFrame, threshold: int, lang: str) -> dict[str, Any]:
    """The register event study side by side: unconditional and conditional on the assistance history
    (designs ``EVENT_DESIGNS``), one row per intervention and shown relative month (``EVENT_MONTHS``), with
    each design's effect and 95 % CI and the number of starters; estimates of a hidden count are hidden.
    ``note``: per design the largest |effect| before the start (months -12..-2), the pre-trend check."""
    events = complete_if_empty(events, STUDY, "event_study")
    require(events, ("intervention_id", "design", "rel_month", *EVENT_DERIVED, "n_treated"), "event_study")
    events = events[events["design"].isin(EVENT_DESIGNS)]
    sup = protect(events, STUDY, "event_study", threshold, {"n_treated": list(EVENT_DERIVED)})
    cols = [
        "intervention_id",
        "rel_month",
        "att_unconditional",
        "ci_unconditional",
        "att_conditional",
        "ci_conditional",
        "n_treated",
    ]
    rows, pre = [], []
    for iid, grp in sup.groupby(sup["intervention_id"].astype(str), sort=True):
        by = {d: grp[grp["design"] == d].set_index("rel_month") for d in EVENT_DESIGNS}
        for m in EVENT_MONTHS:
            recs = [by[d].loc[m].to_dict() if m in by[d].index else None for d in EVENT_DESIGNS]
            if all(r is None for r in recs):
                continue
            cells = [cell(iid, "intervention_id"), cell(format_int(m, lang), "rel_month", True)]
            for r in recs:
                cells.append(cell(format_number(r["att"], lang, 3) if r else MISSING, "att", True))
                cells.append(cell(format_ci(r["ci_low"], r["ci_high"], lang) if r else MISSING, "ci", True))
            last = recs[-1] or recs[0]
            cells.append(cell(count_text(last, "n_treated", threshold, lang), "n_treated", True))
            rows.append(cells)
        for d in EVENT_DESIGNS:
            before = pd.to_numeric(by[d].loc[(by[d].index >= -12) & (by[d].index <= -2), "att"], errors="coerce")
            pre.append(
                t(
                    "event_pretrend",
                    lang,
                    intervention=iid,
                    design=t(f"design_{d}", lang),
                    max=format_number(before.abs().max(), lang, 3) if before.notna().any() else MISSING,
                )
            )
    return {"header": header(cols, lang), "rows": rows, "note": " ".join(pre)}
