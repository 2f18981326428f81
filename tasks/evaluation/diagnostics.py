"""Study 3's tables per matching sample: effects of every estimator, their balance, and at the main horizon
the diagnostics of the headline 1:1 PSM (pairs, balance, overlap, Rosenbaum bounds / E-values, subgroups).

``sample``: one sequential matching sample (``insats.tasks.evaluation.design.sequential_matching_sample``,
RangeIndex: pairs refer to its row labels); ``settings``: the ``outcome_evaluation`` config section. Outcomes
with missing values (employment / studies unknown at the horizon) are estimated on the rows where known.
"""

from __future__ import annotations

import pandas as pd

from insats.config import OutcomeEvaluation
from insats.tasks.evaluation.balance import balance_table, overlap_table
from insats.tasks.evaluation.design import covariate_columns
from insats.tasks.evaluation.effects import effects_table, fit_all, study_estimators
from insats.tasks.evaluation.heterogeneity import subgroup_effects, subgroup_labels
from insats.tasks.evaluation.inference import EffectEstimate
from insats.tasks.evaluation.sensitivity import SENSITIVITY_COLUMNS, e_values, one_control_per_treated, rosenbaum_bounds

BALANCE_OUTCOME = "self_sufficient"  # balance, pairs, overlap and subgroups are of this outcome's fit


def balance_detail(
    sample: pd.DataFrame,
    covariates: list[str],
    results: dict[tuple[str, str], EffectEstimate],
    intervention_id: str,
    horizon: int,
) -> pd.DataFrame:
    """Balance (``balance_table``) of every adjusting estimator's weights for self-sufficiency, one block per
    estimator (columns intervention_id, horizon_months, estimator after the balance columns); empty when no
    such estimate exists."""
    detail = []
    for (label, outcome), r in results.items():
        if outcome != BALANCE_OUTCOME or label == "naive_difference":
            continue
        part = sample[sample[outcome].notna()]
        b = balance_table(part, covariates, weights=r.weights)
        detail.append(b.assign(intervention_id=intervention_id, horizon_months=horizon, estimator=label))
    return pd.concat(detail, ignore_index=True) if detail else pd.DataFrame()


def effects_for_sample(
    sample: pd.DataFrame,
    replicates: list[pd.DataFrame],
    settings: OutcomeEvaluation,
    intervention_id: str,
    horizon: int,
) -> dict[str, pd.DataFrame]:
    """Every configured estimator x outcome on one sample: {"effects": one row per (estimator, outcome),
    ``EFFECT_COLUMNS``; "balance_detail": ``balance_detail``}. ``replicates``: the bootstrap chunks
    (``sample_bootstrap``) of this sample, whose SEs replace the missing analytic ones."""
    covariates = covariate_columns(sample)
    reps = pd.concat(replicates, ignore_index=True) if replicates else None
    results = fit_all(sample, covariates, study_estimators(settings), settings.outcomes, reps)
    return {
        "effects": effects_table(results, intervention_id, horizon),
        "balance_detail": balance_detail(sample, covariates, results, intervention_id, horizon),
    }


def sensitivity_table(
    sample: pd.DataFrame,
    pairs: pd.DataFrame,
    estimates: dict[str, EffectEstimate],
    intervention_id: str,
    horizon: int,
) -> pd.DataFrame:
    """Rosenbaum bounds on the matched pairs (one control per treated) and E-values of each outcome's
    headline estimate (``estimates``: outcome -> estimate); columns ``SENSITIVITY_COLUMNS``. A pair counts
    for an outcome when the outcome is known for both rows; binary outcomes use the treated mean (risk
    ratio), others the outcome's SD."""
    sens = []
    one = one_control_per_treated(pairs)
    for outcome, r in estimates.items():
        known = sample[outcome].notna()
        ok = known.loc[one["treated_index"]].to_numpy() & known.loc[one["control_index"]].to_numpy()
        yt = sample.loc[one["treated_index"][ok], outcome].to_numpy(dtype=float)
        yc = sample.loc[one["control_index"][ok], outcome].to_numpy(dtype=float)
        bounds = rosenbaum_bounds(yt, yc)
        binary = bounds["test"].iloc[0] == "mcnemar"
        e_point, e_ci = e_values(
            r.att,
            r.ci_low,
            r.ci_high,
            treated_mean=float(yt.mean()) if binary else None,
            outcome_sd=None if binary else float(sample[outcome].std()),
        )
        sens.append(
            bounds.assign(
                intervention_id=intervention_id,
                outcome=outcome,
                horizon_months=horizon,
                estimator=r.estimator,
                e_value=e_point,
                e_value_ci=e_ci,
            )
        )
    return pd.concat(sens, ignore_index=True)[list(SENSITIVITY_COLUMNS)]


def main_horizon_diagnostics(
    sample: pd.DataFrame, settings: OutcomeEvaluation, intervention_id: str, horizon: int
) -> dict[str, pd.DataFrame]:
    """Diagnostics of the headline 1:1 PSM at the main horizon: {"pairs" (treated_index, control_index,
    weight: row labels of ``sample``), "balance" (before/after matching, per covariate), "overlap"
    (propensity-logit bins), "sensitivity" (``sensitivity_table``), "heterogeneity" (subgroup ATTs on
    self-sufficiency, groups with at least ``heterogeneity_min_treated`` treated)}. Pairs, balance and overlap
    are of the self-sufficiency fit."""
    covariates = covariate_columns(sample)
    headline = study_estimators(settings)[0]
    # The headline estimator on each outcome's known rows, one design (logit fit) shared by the outcomes known
    # on every row: the same fits as its rows of ``effects_for_sample`` (deterministic).
    estimates = {o: r for (_, o), r in fit_all(sample, covariates, [headline], settings.outcomes).items()}
    main = estimates.get(BALANCE_OUTCOME) or study_estimators(settings)[0].estimate(sample, covariates)
    balance = balance_table(sample, covariates, pairs=main.pairs)
    balance.insert(0, "intervention_id", intervention_id)
    overlap = overlap_table(main.score, sample["treated"])
    overlap.insert(0, "intervention_id", intervention_id)
    hetero = subgroup_effects(
        study_estimators(settings)[0],
        sample,
        covariates,
        BALANCE_OUTCOME,
        subgroup_labels(sample),
        settings.heterogeneity_min_treated,
    )
    for position, (column, value) in enumerate(
        (
            ("intervention_id", intervention_id),
            ("outcome", BALANCE_OUTCOME),
            ("horizon_months", horizon),
            ("estimator", main.estimator),
        )
    ):
        hetero.insert(position, column, value)
    return {
        "pairs": main.pairs,
        "balance": balance,
        "overlap": overlap,
        "sensitivity": sensitivity_table(sample, main.pairs, estimates, intervention_id, horizon),
        "heterogeneity": hetero,
    }
