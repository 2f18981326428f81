"""Every estimator x outcome on one sequential-matching sample, as tables (what study 3 publishes).

``make_estimators`` turns estimator codes into configured ``EffectEstimator`` objects, all with their own
bootstrap switched off: bootstrap SEs come from ``bootstrap_chunk`` (pure in its seeds, so a flow runs chunks
of replicates as parallel tasks) and are joined in by ``effects_table``. Outcomes with missing values
(employment / studies unknown at the horizon) are estimated on the rows where they are known.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from threadpoolctl import threadpool_limits

from insats.config import OutcomeEvaluation
from insats.tasks.evaluation.bootstrap import cluster_resample_positions
from insats.tasks.evaluation.design import covariate_columns
from insats.tasks.evaluation.estimators import Design, EffectEstimator, NaiveDifference, PropensityScoreMatching
from insats.tasks.evaluation.inference import EffectEstimate, with_bootstrap
from insats.tasks.evaluation.weighting import AugmentedIPW, InverseProbabilityWeighting

ESTIMATOR_CODES = ("psm_nn1", "psm_nn1_norepl", "psm_nn3", "psm_nn1_gbm", "ipw", "aipw", "naive")
MAIN_ESTIMATOR = "psm_nn1_caliper"  # label of psm_nn1: 1:1 with replacement, the headline estimate
EFFECT_COLUMNS = (
    "intervention_id",
    "outcome",
    "horizon_months",
    "estimator",
    "att",
    "se",
    "ci_low",
    "ci_high",
    "p_value",
    "n_treated",
    "n_controls",
    "n_treated_unmatched",
    "n_later_starter_controls",
    "n_eligible_controls",
    "n_control_persons",
    "n_controls_dropped",
    "dropped_because",
    "variance_method",
)


def make_estimators(
    codes: Sequence[str],
    *,
    caliper_sd: float | None = 0.2,
    exact: Sequence[str] | None = ("month",),
    trim: float = 0.0,
    seed: int = 0,
    common_support: bool = False,
    ps_penalty_c: float | None = None,
    ties: bool = True,
    variance: str = "ai2016",
    var_matches: int = 2,
) -> list[EffectEstimator]:
    """Configured estimators for ``codes`` (see ``ESTIMATOR_CODES``): psm_nn1 (1:1 with replacement),
    psm_nn1_norepl (1:1 without), psm_nn3 (3:1 with), psm_nn1_gbm (1:1, boosted score), ipw, aipw, naive.
    ``caliper_sd`` None: no caliper; the other settings are those of ``OutcomeEvaluation``."""
    unknown = [c for c in codes if c not in ESTIMATOR_CODES]
    if unknown:
        raise ValueError(f"unknown estimator code(s) {unknown}; expected some of {', '.join(ESTIMATOR_CODES)}")
    ex = list(exact) if exact else None
    psm = {"ps_penalty_c": ps_penalty_c, "ties": ties, "var_matches": var_matches, "seed": seed}
    wt = {"trim": trim, "n_boot": 0, "seed": seed, "common_support": common_support, "ps_penalty_c": ps_penalty_c}
    build = {
        "psm_nn1": lambda: PropensityScoreMatching(caliper_sd, ex, variance=variance, **psm),
        "psm_nn1_norepl": lambda: PropensityScoreMatching(caliper_sd, ex, replace=False, **psm),
        "psm_nn3": lambda: PropensityScoreMatching(caliper_sd, ex, k=3, variance=variance, **psm),
        "psm_nn1_gbm": lambda: PropensityScoreMatching(caliper_sd, ex, ps_model="gbm", variance="ai2006", **psm),
        "ipw": lambda: InverseProbabilityWeighting(ex, **wt),
        "aipw": lambda: AugmentedIPW(ex, **wt),
        "naive": lambda: NaiveDifference(),
    }
    return [build[c]() for c in codes]


def study_estimators(settings: OutcomeEvaluation) -> list[EffectEstimator]:
    """The configured estimators (``settings.estimators``); the headline 1:1 PSM (psm_nn1) is always first
    (balance, sensitivity and heterogeneity are of it)."""
    codes = ["psm_nn1", *[c for c in settings.estimators if c != "psm_nn1"]]
    return make_estimators(
        codes,
        caliper_sd=settings.caliper_sd,
        exact=settings.exact,
        trim=settings.trim,
        seed=settings.seed,
        common_support=settings.common_support,
        ps_penalty_c=settings.ps_penalty_c,
        ties=settings.match_ties,
        variance=settings.variance,
        var_matches=settings.var_matches,
    )


def _outcome_groups(sample: pd.DataFrame, outcomes: Sequence[str]) -> list[tuple[list[str], pd.DataFrame]]:
    """Outcomes without missing values share the whole sample; each other outcome gets its known rows."""
    complete = [o for o in outcomes if not sample[o].isna().any()]
    groups = [(complete, sample)] if complete else []
    groups += [([o], sample[sample[o].notna()]) for o in outcomes if o not in complete]
    return groups


def bootstrap_chunk(
    sample: pd.DataFrame,
    covariates: list[str],
    estimators: Sequence[EffectEstimator],
    outcomes: Sequence[str],
    seeds: Sequence[int],
    cluster: str = "person_id",
    warm_start: bool = False,
) -> pd.DataFrame:
    """Bootstrap replicate ATTs of the estimators that need them: columns estimator, seed, outcome, att.

    Each seed draws one person resample (``cluster_resample_positions``) shared by all estimators, which
    also share its propensity scores (one ``Design`` per replicate and outcome group). Equal to
    ``bootstrap_replicates`` per estimator with the same seeds (a replicate is the sample's rows at the drawn
    positions; a failing replicate gives NaN), but a replicate is built by indexing the sample's arrays
    (``Design.subset``), not by copying the data frame.

    ``warm_start``: start each replicate's logit from the full sample's fit, with the chunked arithmetic
    (``fit_propensity(start=...)``; ~25 % less CPU at 1M rows). The replicate scores then differ from a cold
    fit in the last bits, which changes the match wherever two controls are exactly equally far from a
    treated (integer covariates make such ties common: 6 of 32 replicates of a 50k-person sample), so the
    study leaves it off and its replicates equal the former ones exactly."""
    boot = [e.without_bootstrap() for e in estimators if e.uses_bootstrap]
    rows: list[dict] = []
    if not boot:
        return _replicate_table(rows)
    codes = pd.factorize(sample[cluster])[0]
    ys = {o: sample[o].to_numpy(dtype=float) for o in outcomes}
    known = {o: ~np.isnan(y) for o, y in ys.items()}
    with threadpool_limits(limits=1):
        try:
            full = boot[0]._design(sample, covariates, [])
        except ValueError:  # no treated or controls, missing covariates: every replicate fails
            full = None
        starts: dict = {}
        if full is not None and warm_start:
            full.chunked = True  # its fits only start the replicates' fits
            starts = _full_sample_fits(full, boot, known)
        for seed in seeds:
            positions = cluster_resample_positions(codes, seed)
            complete = [o for o in outcomes if known[o][positions].all()]
            groups = ([(complete, positions, None)] if complete else []) + [
                ([o], positions[known[o][positions]], (o,)) for o in outcomes if o not in complete
            ]
            for outs, pos, start in groups:
                design = None
                frame = pd.DataFrame({o: ys[o][pos] for o in outs})
                for est in boot:
                    try:
                        if full is None:
                            raise ValueError("the sample has no design")
                        design = design or full.subset(pos, starts.get(start))
                        atts = est.point_estimates(frame, covariates, outs, design=design)
                    except ValueError:
                        atts = {}
                    rows += [
                        {"estimator": est.label, "seed": int(seed), "outcome": o, "att": atts.get(o, np.nan)}
                        for o in outs
                    ]
    return _replicate_table(rows)


def _full_sample_fits(full: Design, boot: Sequence[EffectEstimator], known: dict[str, np.ndarray]) -> dict:
    """The logit fit on the whole sample (key None) and on each incomplete outcome's known rows (key
    (outcome,)): the warm starts of the replicates' fits. Empty when no estimator uses a logit score or the
    fit fails (the replicates then start cold and fail or not on their own)."""
    penalties = [getattr(e, "ps_penalty_c", None) for e in boot if getattr(e, "ps_model", "logit") == "logit"]
    if not penalties:
        return {}
    starts: dict = {}
    try:
        starts[None] = full.logit_fit(penalties[0])
        for o, mask in known.items():
            if not mask.all():
                starts[(o,)] = full.subset(np.flatnonzero(mask)).logit_fit(penalties[0])
    except ValueError:
        pass
    return starts


def _replicate_table(rows: list[dict]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["estimator", "seed", "outcome", "att"]).astype(
        {"estimator": object, "seed": np.int64, "outcome": object, "att": float}
    )


def fit_all(
    sample: pd.DataFrame,
    covariates: list[str],
    estimators: Sequence[EffectEstimator],
    outcomes: Sequence[str],
    replicates: pd.DataFrame | None = None,
) -> dict[tuple[str, str], EffectEstimate]:
    """(estimator label, outcome) -> estimate; bootstrap estimators take their SE from ``replicates``."""
    out = {}
    designs: dict[str, Design] = {}
    known = {o: sample[o].notna().to_numpy() for o in outcomes}
    parts = {o: sample if known[o].all() else sample[known[o]] for o in outcomes}  # one copy per outcome
    for est in estimators:
        for outcome in outcomes:
            part = parts[outcome]
            if outcome not in designs:  # one design (and propensity fit) per outcome's rows
                designs[outcome] = est._design(part, covariates, [outcome])
                same = [o for o in outcomes if o != outcome and not sample[o].isna().any() and len(part) == len(sample)]
                designs.update(dict.fromkeys(same, designs[outcome]))
            r = est.without_bootstrap().fit(part, covariates, outcome, design=designs[outcome]).result_
            if est.uses_bootstrap and replicates is not None and len(replicates):
                mine = replicates[replicates["estimator"] == est.label]
                if (mine["outcome"] == outcome).any():
                    r = with_bootstrap(r, mine)
            out[(est.label, outcome)] = r
    return out


def effects_table(results: dict[tuple[str, str], EffectEstimate], intervention_id: str, horizon: int) -> pd.DataFrame:
    """One row per (estimator, outcome), columns ``EFFECT_COLUMNS`` (n_controls = control rows used)."""
    rows = []
    for (_, _), r in results.items():
        rec = r.to_record()
        rows.append(
            {
                "intervention_id": intervention_id,
                "outcome": rec["outcome"],
                "horizon_months": int(horizon),
                "estimator": rec["estimator"],
                **{k: rec[k] for k in ("att", "se", "ci_low", "ci_high", "p_value", "n_treated")},
                "n_controls": rec["n_controls_used"],
                **{
                    k: rec[k]
                    for k in (
                        "n_treated_unmatched",
                        "n_later_starter_controls",
                        "n_eligible_controls",
                        "n_control_persons",
                        "n_controls_dropped",
                        "dropped_because",
                        "variance_method",
                    )
                },
            }
        )
    table = pd.DataFrame(rows, columns=list(EFFECT_COLUMNS))
    for col in [c for c in EFFECT_COLUMNS if c.startswith("n_")]:
        table[col] = table[col].astype(np.int64)
    return table


def sample_bootstrap(sample: pd.DataFrame, settings: OutcomeEvaluation, seeds: list[int]) -> pd.DataFrame:
    """One chunk of person-bootstrap replicates of the configured estimators without an analytic SE on one
    matching sample (``bootstrap_chunk`` with ``study_estimators``): columns estimator, seed, outcome, att."""
    return bootstrap_chunk(sample, covariate_columns(sample), study_estimators(settings), settings.outcomes, seeds)
