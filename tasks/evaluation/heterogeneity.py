"""Effect heterogeneity: the main estimator re-run within subgroups of the starters and their controls.

Subgroups (``subgroup_labels``) are defined by traits fixed before the start month: sex, born abroad, age
group and earlier assistance (months on assistance in the 24 months before the start). Within each subgroup
the WHOLE estimator is re-run (its own propensity model and matching), so the effect is the ATT of the
subgroup's starters. Covariates constant inside a subgroup are left out of its models. Subgroups with fewer
than ``min_treated`` starters or no controls are not estimated (no row).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats.tasks.evaluation.estimators import EffectEstimator

AGE_BINS = (0, 30, 45, 200)
AGE_LABELS = ("18-29", "30-44", "45+")
PRIOR_BINS = (-1, 6, 18, 24)
PRIOR_LABELS = ("0-6", "7-18", "19-24")
HETEROGENEITY_COLUMNS = (
    "dimension",
    "group",
    "att",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "n_treated",
    "n_controls",
    "n_treated_unmatched",
)


def subgroup_labels(sample: pd.DataFrame) -> pd.DataFrame:
    """One column per dimension, string group labels, indexed like ``sample``: ``sex`` (female / male, from
    ``female``), ``born_abroad`` (yes / no), ``age_group`` (18-29 / 30-44 / 45+), ``prior_assistance``
    (months on assistance in the previous 24: 0-6 / 7-18 / 19-24, from ``asst_months_24``)."""
    needed = ["female", "born_abroad", "age", "asst_months_24"]
    missing = [c for c in needed if c not in sample.columns]
    if missing:
        raise ValueError(f"subgroup_labels: sample lacks column(s): {', '.join(missing)}")
    age = pd.cut(sample["age"].astype(float), AGE_BINS, labels=AGE_LABELS, right=False)
    prior = pd.cut(sample["asst_months_24"].astype(float), PRIOR_BINS, labels=PRIOR_LABELS, right=True)
    return pd.DataFrame(
        {
            "sex": np.where(sample["female"].to_numpy() == 1, "female", "male"),
            "born_abroad": np.where(sample["born_abroad"].to_numpy() == 1, "yes", "no"),
            "age_group": age.astype(str),
            "prior_assistance": prior.astype(str),
        },
        index=sample.index,
    )


def subgroup_effects(
    estimator: EffectEstimator,
    sample: pd.DataFrame,
    covariates: list[str],
    outcome: str,
    labels: pd.DataFrame,
    min_treated: int = 10,
) -> pd.DataFrame:
    """The estimator's ATT within every group of every dimension (column) of ``labels`` (indexed like
    ``sample``). Columns ``HETEROGENEITY_COLUMNS`` (n_controls = control rows used)."""
    rows = []
    treatment = estimator.treatment
    for dimension in labels.columns:
        for group in sorted(labels[dimension].dropna().unique()):
            part = sample[labels[dimension] == group]
            n_t = int((part[treatment] == 1).sum())
            if n_t < min_treated or n_t == len(part):
                continue
            usable = [c for c in covariates if part[c].nunique(dropna=False) > 1]
            try:
                r = estimator.estimate(part, usable, outcome)
            except ValueError:
                continue
            rows.append(
                {
                    "dimension": dimension,
                    "group": str(group),
                    **{k: getattr(r, k) for k in ("att", "se", "ci_low", "ci_high", "p_value", "n_treated")},
                    "n_controls": r.n_controls_used,
                    "n_treated_unmatched": r.n_treated_unmatched,
                }
            )
    return pd.DataFrame(rows, columns=list(HETEROGENEITY_COLUMNS))
