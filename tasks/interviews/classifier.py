"""Supervised turn coding learned from human turn-level coding, combined with the dictionary coder.

The dictionary coder (:mod:`insats.tasks.interviews.coding`) misses codes said without the codebook's words
("man ska vilja", "vi hjälps åt"). When researchers have coded some interviews by hand, a per-code classifier
learns those wordings:

- **Unit**: a respondent segment (a turn, as ``transcripts.segment_turns`` cuts them), labelled 1/0 per code.
- **Features** (:func:`turn_table` + :class:`TurnCoder`): lemma TF-IDF of the turn (simplemma lemmas through
  ``coding.stem``, cached; unigrams), lemma TF-IDF of the
  preceding interviewer turn (the question: "Körkort?" / "Jo, hä måste man ha."), and the dictionary coder's
  hits as 0/1 columns (one per code for the turn, one per code for the question), scaled by ``rule_weight``.
- **Model**: per code, scikit-learn ``LogisticRegression(class_weight="balanced")``; the vectorisers are fit
  on the training turns only. A code with fewer than ``min_positives`` positive training turns (or as few
  negatives) gets no classifier: :func:`training_shortfall` names it and its count, and it keeps the
  dictionary coding alone.
- **Combination** (:func:`combine_with_rules`): ``"classifier"`` (default) lets the classifier, which sees the
  rule hits as features, decide the codes it has (a dictionary hit it scores below ``threshold`` is dropped;
  codes without a classifier keep the dictionary coding); ``"union"`` keeps every dictionary code and adds a
  code where the classifier's probability is >= ``threshold``. An added code's ``matched`` is
  ``"classifier p=0.83"`` and its stance is read from the turn's opening clause
  (:func:`insats.tasks.interviews.coding.text_stance`: "Nej, ..." -> inte_krav, hedges -> neutral).
- **Evaluation**: :func:`grouped_oof` gives out-of-fold probabilities with folds grouped by interview
  (``GroupKFold``: no interview has turns on both sides of a fold, which would flatter the classifier; this
  is checked, not assumed).

The defaults (``THRESHOLD`` 0.4, ``C`` 10, ``RULE_WEIGHT`` 0.5, ``MODE`` "classifier") were chosen by grouped
5-fold cross-validation on the dev half of ``benchmarks/coding_corpus`` only (``benchmarks/coding_quality.py
--select``: best mean dev macro-F1 over three dictionary set-ups), before the test half was scored.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold
from threadpoolctl import threadpool_limits

from insats.tasks.interviews.codebook import Codebook
from insats.tasks.interviews.coding import CODED_COLUMNS, code_segments, stem, text_stance, tokenize

MIN_POSITIVES = 5  # positive (and negative) training turns a code needs for a classifier
THRESHOLD = 0.4  # probability at which the classifier gives a code
C = 10.0  # inverse regularisation strength of each logistic regression
RULE_WEIGHT = 0.5  # value of a dictionary-coder hit among the (L2-normalised) TF-IDF features
MODES = ("union", "classifier")
MODE = "classifier"  # how classifier and dictionary coder combine (see combine_with_rules)
# The logistic regressions run with one BLAS thread (threadpoolctl): a few hundred turns x a few thousand
# features is far too small to gain from threads, and OpenBLAS's threads spinning on a shared 2-core machine
# doubled the CPU time of a fit (measured: 1.8 s -> 1.0 s CPU for fit_per_code on 12 small interviews).
TURN_COLUMNS = ["interview_id", "segment_id", "text", "question", "rule_codes", "question_codes"]
PROBA_COLUMNS = ["interview_id", "segment_id", "code_id", "probability"]


def lemma_analyzer(text: str) -> list[str]:
    """Lemmas of ``text`` for TF-IDF (stop words kept; unigrams: on the dev half's grouped CV, lemma bigrams
    did no better and add features a few hundred turns cannot support)."""
    return [stem(t) for t in tokenize(text)]


def turn_table(segments: pd.DataFrame, coded: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """One row per respondent segment (in order): :data:`TURN_COLUMNS`. ``question`` is the text of the
    interviewer turn right before it in the same interview ("" if none); ``rule_codes`` / ``question_codes``
    are frozensets of the codes the dictionary coder gave the segment (``coded``, ``code_segments`` output)
    and the question (coded here with the interviewer role)."""
    missing = [c for c in ("interview_id", "segment_id", "speaker_role", "text") if c not in segments.columns]
    if missing:
        raise ValueError(f"segments: missing column(s) {missing}; expected the output of segment_turns")
    asked = code_segments(segments, codebook, roles=("interviewer",))
    question_hits = asked.groupby("segment_id")["code_id"].agg(frozenset).to_dict()
    rule_hits = coded.groupby("segment_id")["code_id"].agg(frozenset).to_dict()
    rows, question, question_id, previous = [], "", None, None
    for iid, sid, role, text in zip(
        segments["interview_id"], segments["segment_id"], segments["speaker_role"], segments["text"], strict=True
    ):
        if iid != previous:
            question, question_id, previous = "", None, iid
        if role == "interviewer":
            question, question_id = str(text), sid
            continue
        if role != "respondent":
            continue
        rows.append((iid, sid, str(text), question, rule_hits.get(sid, frozenset()),
                     question_hits.get(question_id, frozenset())))  # fmt: skip
        question, question_id = "", None
    return pd.DataFrame(rows, columns=TURN_COLUMNS)


def training_counts(labels: pd.DataFrame, codes: Sequence[str]) -> pd.DataFrame:
    """Per code: n_positive and n_negative training segments in ``labels`` (segment_id, code_id, value)."""
    got = labels[labels["code_id"].isin(codes)].groupby("code_id")["value"].agg(["sum", "count"])
    pos = got["sum"].reindex(codes, fill_value=0).astype("int64")
    neg = (got["count"].reindex(codes, fill_value=0) - pos).astype("int64")
    return pd.DataFrame({"code_id": list(codes), "n_positive": pos.to_numpy(), "n_negative": neg.to_numpy()})


def training_shortfall(labels: pd.DataFrame, codes: Sequence[str], min_positives: int = MIN_POSITIVES) -> str:
    """ "" when every code in ``codes`` has >= ``min_positives`` positive and negative training segments,
    else one plain sentence naming each short code with its counts and saying what happens to it."""
    counts = training_counts(labels, codes)
    short = counts[(counts["n_positive"] < min_positives) | (counts["n_negative"] < min_positives)]
    if short.empty:
        return ""
    listed = ", ".join(f"{r.code_id} ({r.n_positive} positive, {r.n_negative} negative)" for r in short.itertuples())
    return (
        f"too little human coding to train a classifier for {len(short)} code(s): {listed}; each code needs at "
        f"least {min_positives} positive and {min_positives} negative coded turns (classifier.MIN_POSITIVES), "
        "so these codes keep the dictionary coding only. Code more turns of them to train one."
    )


@dataclass
class TurnCoder:
    """A fitted set of per-code classifiers (:func:`fit_turn_coder`); ``skipped`` maps each code without a
    classifier to its positive count."""

    text_vec: TfidfVectorizer
    question_vec: TfidfVectorizer
    rule_codes: tuple[str, ...]
    rule_weight: float
    models: dict[str, LogisticRegression] = field(default_factory=dict)
    skipped: dict[str, int] = field(default_factory=dict)

    def features(self, turns: pd.DataFrame) -> sparse.csr_matrix:
        """(n_turns, n_features) matrix: turn TF-IDF | question TF-IDF | rule hits (turn, then question)."""
        rules = np.zeros((len(turns), 2 * len(self.rule_codes)))
        col = {c: i for i, c in enumerate(self.rule_codes)}
        for r, (hit, asked) in enumerate(zip(turns["rule_codes"], turns["question_codes"], strict=True)):
            rules[r, [col[c] for c in hit if c in col]] = self.rule_weight
            rules[r, [len(col) + col[c] for c in asked if c in col]] = self.rule_weight
        return sparse.hstack(
            [self.text_vec.transform(turns["text"]), self.question_vec.transform(turns["question"]),
             sparse.csr_matrix(rules)], format="csr",
        )  # fmt: skip


def fit_turn_coder(
    turns: pd.DataFrame,
    labels: pd.DataFrame,
    codes: Sequence[str],
    *,
    min_positives: int = MIN_POSITIVES,
    c: float = C,
    rule_weight: float = RULE_WEIGHT,
    seed: int = 0,
) -> TurnCoder:
    """Fit one logistic regression per code on the ``turns`` (:func:`turn_table`) that ``labels`` (columns
    segment_id, code_id, value 0/1) cover. Codes short of ``min_positives`` examples go to ``skipped``."""
    wide = labels[labels["code_id"].isin(codes)].pivot_table(
        index="segment_id", columns="code_id", values="value", aggfunc="max"
    )
    train = turns[turns["segment_id"].isin(wide.index)].reset_index(drop=True)
    if train.empty:
        raise ValueError("supervised coding: no coded turn of the human coding is a respondent turn of the segments")
    text_vec = TfidfVectorizer(analyzer=lemma_analyzer, sublinear_tf=True).fit(train["text"])
    question_vec = TfidfVectorizer(analyzer=lemma_analyzer, sublinear_tf=True).fit(train["question"])
    model = TurnCoder(text_vec, question_vec, tuple(codes), rule_weight)
    x = model.features(train)
    with threadpool_limits(limits=1, user_api="blas"):  # see BLAS_THREADS
        _fit_codes(model, x, train, wide, codes, min_positives, c, seed)
    return model


def _fit_codes(
    model: TurnCoder, x: sparse.csr_matrix, train: pd.DataFrame, wide: pd.DataFrame, codes: Sequence[str],
    min_positives: int, c: float, seed: int,
) -> None:  # fmt: skip
    """Fit ``model.models`` (one logistic regression per code with enough examples) in place."""
    for code in codes:
        y = wide.reindex(train["segment_id"])[code].to_numpy() if code in wide else np.full(len(train), np.nan)
        known = ~np.isnan(y)
        npos = int(np.nansum(y))
        if npos < min_positives or int(known.sum()) - npos < min_positives:
            model.skipped[code] = npos
            continue
        lr = LogisticRegression(C=c, class_weight="balanced", max_iter=2000, random_state=seed)
        model.models[code] = lr.fit(x[known], y[known].astype("int64"))


def predict_proba(model: TurnCoder, turns: pd.DataFrame) -> pd.DataFrame:
    """:data:`PROBA_COLUMNS`, one row per turn and code with a classifier (probability float64 in [0, 1])."""
    if turns.empty or not model.models:
        return pd.DataFrame(columns=PROBA_COLUMNS).astype({"probability": "float64"})
    x = model.features(turns)
    frames = [
        pd.DataFrame({"interview_id": turns["interview_id"].to_numpy(), "segment_id": turns["segment_id"].to_numpy(),
                      "code_id": code, "probability": lr.predict_proba(x)[:, 1]})
        for code, lr in model.models.items()
    ]  # fmt: skip
    return pd.concat(frames, ignore_index=True)[PROBA_COLUMNS]


def grouped_oof(
    turns: pd.DataFrame, labels: pd.DataFrame, codes: Sequence[str], n_splits: int = 5, **fit: object
) -> pd.DataFrame:
    """Out-of-fold probabilities (:data:`PROBA_COLUMNS` + ``fold``) for the labelled turns: ``GroupKFold`` by
    interview, each fold's classifiers fit on the other folds only. Raises AssertionError if a fold ever has
    an interview on both sides, ValueError when there are fewer interviews than ``n_splits``."""
    coded = turns[turns["segment_id"].isin(set(labels["segment_id"]))].reset_index(drop=True)
    groups = coded["interview_id"].to_numpy()
    if len(set(groups)) < n_splits:
        raise ValueError(f"grouped cross-validation: {len(set(groups))} coded interviews, fewer than {n_splits} folds")
    frames = []
    for k, (tr, te) in enumerate(GroupKFold(n_splits=n_splits).split(coded, groups=groups)):
        overlap = set(groups[tr]) & set(groups[te])
        assert not overlap, f"fold {k}: interview(s) {sorted(overlap)} on both sides"
        train_ids = set(coded.loc[tr, "segment_id"])
        model = fit_turn_coder(coded.iloc[tr], labels[labels["segment_id"].isin(train_ids)], codes, **fit)  # type: ignore[arg-type]
        frames.append(predict_proba(model, coded.iloc[te].reset_index(drop=True)).assign(fold=k))
    return pd.concat(frames, ignore_index=True)


def combine_with_rules(
    coded: pd.DataFrame,
    proba: pd.DataFrame,
    turns: pd.DataFrame,
    threshold: float = THRESHOLD,
    mode: str | dict[str, str] = MODE,
) -> pd.DataFrame:
    """The dictionary coding ``coded`` (:data:`coding.CODED_COLUMNS`) combined with classifier probabilities
    (``proba``, :data:`PROBA_COLUMNS`) as ``mode`` says (module docstring; a dict gives each code of ``proba``
    its own mode, see :mod:`.per_code`). Added rows: matched ``"classifier p=0.83"``, stance from the turn's
    opening clause. Same columns, segment order kept."""
    modes = mode if isinstance(mode, dict) else dict.fromkeys(proba["code_id"].unique(), mode)
    given = set(modes.values()) | ({mode} if isinstance(mode, str) else set())
    wrong = sorted(given - set(MODES))
    if wrong:
        raise ValueError(f"supervised coding: mode {wrong[0]!r} is not one of {MODES}")
    positive = proba[proba["probability"] >= threshold]
    has_rule = set(zip(coded["segment_id"], coded["code_id"], strict=True))
    # "classifier" codes: the classifier decides them, so rule hits it scores below threshold go.
    deciding = proba[proba["code_id"].map(modes) == "classifier"]
    decided = set(zip(deciding["segment_id"], deciding["code_id"], strict=True))
    chosen = set(zip(positive["segment_id"], positive["code_id"], strict=True))
    pairs = zip(coded["segment_id"], coded["code_id"], strict=True)
    keep = coded[np.array([k not in decided or k in chosen for k in pairs], dtype=bool)]
    text = dict(zip(turns["segment_id"], turns["text"], strict=True))
    pairs = zip(positive["segment_id"], positive["code_id"], strict=True)
    added = positive[np.array([k not in has_rule for k in pairs], dtype=bool)]
    stances = {sid: text_stance(text[sid]) for sid in set(added["segment_id"])}
    new = pd.DataFrame({
        "interview_id": added["interview_id"].to_numpy(), "segment_id": added["segment_id"].to_numpy(),
        "code_id": added["code_id"].to_numpy(), "matched": [f"classifier p={p:.2f}" for p in added["probability"]],
        "stance": [stances[s] for s in added["segment_id"]],
    })  # fmt: skip
    new["negated"] = new["stance"] == "inte_krav"
    order = {sid: i for i, sid in enumerate(turns["segment_id"])}
    out = pd.concat([keep, new[CODED_COLUMNS]], ignore_index=True)
    out = out.assign(_o=out["segment_id"].map(order).fillna(-1)).sort_values("_o", kind="stable")
    return out.drop(columns="_o").reset_index(drop=True)[CODED_COLUMNS].astype({"negated": "bool"})
