"""Per-code choice between the dictionary coder and the supervised layer (``supervised_mode: per_code``).

One combination rule for every code (:func:`insats.tasks.interviews.classifier.combine_with_rules`) helps
the codes with many human-coded examples and hurts those with few (a well-keyed code with 4 examples loses
correct dictionary hits to a classifier that has seen too little). ``per_code`` picks, for each code, the
strategy with the best grouped cross-validated F1 on the human-coded segments:

- ``rules``: the dictionary coding alone;
- ``classifier``: a classifier over the turn and question text only (no rule features) decides the code;
- ``union``: the dictionary coding plus that text classifier's codes (rules OR classifier);
- ``classifier_rules``: a classifier with the dictionary hits among its features decides the code (the
  layer's single ``"classifier"`` mode).

Choice rule (:func:`choose_strategies`): a code with fewer than ``min_positives`` (:data:`MIN_SELECT_POSITIVES`)
human-coded positive segments keeps ``rules`` (too few examples to tell strategies apart); otherwise a
strategy replaces ``rules`` only when its out-of-fold F1 is higher by more than ``margin``
(:data:`MARGIN`), and the best such strategy wins (ties go to the earlier strategy in :data:`STRATEGIES`).
Out-of-fold F1 uses ``GroupKFold`` by interview (:func:`classifier.grouped_oof`), so no interview helps
choose its own strategy. The figures behind the defaults are in benchmarks/README.md ("Round 2"); they were
chosen on the dev half of ``benchmarks/coding_corpus`` only.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import pandas as pd

from insats.tasks.interviews.classifier import (
    RULE_WEIGHT,
    THRESHOLD,
    TurnCoder,
    combine_with_rules,
    fit_turn_coder,
    grouped_oof,
    predict_proba,
)

STRATEGIES = ("rules", "classifier", "union", "classifier_rules")
MIN_SELECT_POSITIVES = 5  # human-coded positive segments a code needs before anything but the rules is tried
MARGIN = 0.05  # out-of-fold F1 a strategy must gain over the rules to replace them
CHOICE_COLUMNS = ["code_id", "n_positive", "strategy", *(f"f1_{s}" for s in STRATEGIES)]


def _f1(pred: set[str], truth: set[str]) -> float:
    """F1 of predicted against true segment ids (nan when both are empty)."""
    denom = len(pred) + len(truth)
    return 2 * len(pred & truth) / denom if denom else float("nan")


def strategy_f1(
    coded: pd.DataFrame,
    proba_text: pd.DataFrame,
    proba_rules: pd.DataFrame,
    labels: pd.DataFrame,
    codes: Sequence[str],
    threshold: float = THRESHOLD,
) -> pd.DataFrame:
    """Per code: n_positive and the F1 of each strategy (``f1_<strategy>``) on the segments ``labels`` covers
    (segment_id, code_id, value 0/1). ``proba_text`` / ``proba_rules``: out-of-fold probabilities
    (:data:`classifier.PROBA_COLUMNS`) of the text-only and rule-feature classifiers; a code missing from
    them (no classifier) scores its rules' F1 under every strategy."""
    rows = []
    for code in codes:
        lab = labels[labels["code_id"] == code]
        seen, truth = set(lab["segment_id"]), set(lab.loc[lab["value"] == 1, "segment_id"])
        rules = set(coded.loc[coded["code_id"] == code, "segment_id"]) & seen
        picks = {}
        for name, proba in (("text", proba_text), ("with_rules", proba_rules)):
            p = proba[(proba["code_id"] == code) & proba["segment_id"].isin(seen)]
            picks[name] = set(p.loc[p["probability"] >= threshold, "segment_id"]) if len(p) else None
        text, with_rules = picks["text"], picks["with_rules"]
        f1 = {
            "rules": _f1(rules, truth),
            "classifier": _f1(text, truth) if text is not None else _f1(rules, truth),
            "union": _f1(rules | text, truth) if text is not None else _f1(rules, truth),
            "classifier_rules": _f1(with_rules, truth) if with_rules is not None else _f1(rules, truth),
        }
        rows.append({"code_id": code, "n_positive": len(truth), **{f"f1_{k}": v for k, v in f1.items()}})
    return pd.DataFrame(rows, columns=[c for c in CHOICE_COLUMNS if c != "strategy"])


def choose_strategies(
    scores: pd.DataFrame, min_positives: int = MIN_SELECT_POSITIVES, margin: float = MARGIN
) -> pd.DataFrame:
    """``scores`` (:func:`strategy_f1`) with a ``strategy`` column chosen by the module's rule."""
    chosen = []
    for row in scores.itertuples(index=False):
        best = "rules"
        if row.n_positive >= min_positives:
            base = 0.0 if pd.isna(row.f1_rules) else row.f1_rules
            gains = [(getattr(row, f"f1_{s}"), -k, s) for k, s in enumerate(STRATEGIES[1:])]
            gains = [g for g in gains if not pd.isna(g[0]) and g[0] > base + margin]
            best = max(gains)[2] if gains else "rules"
        chosen.append(best)
    return scores.assign(strategy=chosen)[CHOICE_COLUMNS]


@dataclass
class PerCodeCoder:
    """Both classifiers fit on all the human coding, and the per-code ``choice`` (:data:`CHOICE_COLUMNS`)."""

    text: TurnCoder
    with_rules: TurnCoder
    choice: pd.DataFrame

    def strategy(self) -> dict[str, str]:
        """code_id -> strategy."""
        return dict(zip(self.choice["code_id"], self.choice["strategy"], strict=True))


def per_code_scores(
    turns: pd.DataFrame,
    labels: pd.DataFrame,
    coded: pd.DataFrame,
    codes: Sequence[str],
    *,
    n_splits: int = 5,
    threshold: float = THRESHOLD,
    rule_weight: float = RULE_WEIGHT,
    **fit: object,
) -> pd.DataFrame:
    """:func:`strategy_f1` of grouped ``n_splits``-fold out-of-fold predictions on the ``labels``' segments
    (fewer coded interviews than folds: as many folds as interviews; ValueError below 2)."""
    n_interviews = turns.loc[turns["segment_id"].isin(set(labels["segment_id"])), "interview_id"].nunique()
    folds = min(n_splits, n_interviews)
    if folds < 2:
        raise ValueError(f"supervised_mode per_code: {n_interviews} human-coded interview(s); it needs at least 2")
    oof_text = grouped_oof(turns, labels, codes, n_splits=folds, rule_weight=0.0, **fit)
    oof_rules = grouped_oof(turns, labels, codes, n_splits=folds, rule_weight=rule_weight, **fit)
    return strategy_f1(coded, oof_text, oof_rules, labels, codes, threshold)


def fit_per_code(
    turns: pd.DataFrame,
    labels: pd.DataFrame,
    coded: pd.DataFrame,
    codes: Sequence[str],
    *,
    n_splits: int = 5,
    threshold: float = THRESHOLD,
    rule_weight: float = RULE_WEIGHT,
    min_positives: int = MIN_SELECT_POSITIVES,
    margin: float = MARGIN,
    scores: pd.DataFrame | None = None,
    **fit: object,
) -> PerCodeCoder:
    """Choose each code's strategy from :func:`per_code_scores` (or the given ``scores``) by
    :func:`choose_strategies`, then fit the text-only and the rule-feature classifiers on all of ``labels``.
    ``coded``: the dictionary coding of ``turns``."""
    if scores is None:
        scores = per_code_scores(turns, labels, coded, codes, n_splits=n_splits, threshold=threshold,
                                 rule_weight=rule_weight, **fit)  # fmt: skip
    choice = choose_strategies(scores, min_positives, margin)
    text = fit_turn_coder(turns, labels, codes, rule_weight=0.0, **fit)  # type: ignore[arg-type]
    with_rules = fit_turn_coder(turns, labels, codes, rule_weight=rule_weight, **fit)  # type: ignore[arg-type]
    return PerCodeCoder(text, with_rules, choice)


def apply_per_code(
    model: PerCodeCoder, coded: pd.DataFrame, turns: pd.DataFrame, threshold: float = THRESHOLD
) -> pd.DataFrame:
    """``coded`` (:data:`coding.CODED_COLUMNS`) recoded on ``turns`` by each code's chosen strategy (codes
    choosing ``rules``, or absent from the choice, keep the dictionary coding). Same columns and order rules
    as :func:`classifier.combine_with_rules`."""
    return combine_per_code(
        coded, predict_proba(model.text, turns), predict_proba(model.with_rules, turns), turns, model.strategy(),
        threshold,
    )  # fmt: skip


def combine_per_code(
    coded: pd.DataFrame,
    proba_text: pd.DataFrame,
    proba_rules: pd.DataFrame,
    turns: pd.DataFrame,
    strategy: dict[str, str],
    threshold: float = THRESHOLD,
) -> pd.DataFrame:
    """``coded`` combined with the probabilities each code's ``strategy`` names (code -> one of
    :data:`STRATEGIES`)."""
    unknown = sorted(set(strategy.values()) - set(STRATEGIES))
    if unknown:
        raise ValueError(f"supervised_mode per_code: strategy {unknown} is not one of {STRATEGIES}")
    text_codes = [c for c, s in strategy.items() if s in ("classifier", "union")]
    rule_codes = [c for c, s in strategy.items() if s == "classifier_rules"]
    proba = pd.concat(
        [proba_text[proba_text["code_id"].isin(text_codes)], proba_rules[proba_rules["code_id"].isin(rule_codes)]],
        ignore_index=True,
    )
    modes = {c: ("union" if s == "union" else "classifier") for c, s in strategy.items() if s != "rules"}
    return combine_with_rules(coded, proba, turns, threshold, modes)
