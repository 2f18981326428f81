"""Supervised code suggestions learned from human coding, and inductive themes (TF-IDF + NMF).

Suggestions: for each code with enough human examples, a logistic regression on TF-IDF of Swedish stems
(unigrams and bigrams, so "inte körkort" is a feature) with sigmoid (Platt) calibration, trained on the
segments one human coder coded; it scores the segments nobody coded. Quality is estimated by
cross-validation with folds grouped by interview (segments of one interview never sit on both sides, which
would flatter the classifier), reported per code.

Themes: NMF on TF-IDF of stems (Swedish stop words removed) over respondent segments; each theme gets top
terms, representative segments (the redacted text) and its overlap with the codebook: the share of its
representative segments the dictionary coder gave its most frequent code. A theme whose overlap is below
``novel_below`` is flagged ``novel`` (something the codebook does not cover).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
from sklearn.calibration import CalibratedClassifierCV
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import brier_score_loss, f1_score, precision_score, recall_score, roc_auc_score
from sklearn.model_selection import GroupKFold
from stop_words import get_stop_words

from insats.tasks.interviews.coding import stem, tokenize

MIN_POSITIVES = 4  # fewer human-coded examples of a code than this: no classifier, no suggestions
CV_COLUMNS = ["code_id", "coder", "n_segments", "n_positive", "n_folds", "precision", "recall", "f1", "auc", "brier"]
SUGGESTION_COLUMNS = ["interview_id", "segment_id", "code_id", "confidence"]
THEME_COLUMNS = ["theme", "top_terms", "n_segments", "best_code", "overlap", "novel", "examples"]
_STOP = frozenset(get_stop_words("swedish"))


def stem_analyzer(text: str) -> list[str]:
    """Stems of ``text`` (stop words kept: negations matter) plus stem bigrams, for TF-IDF."""
    stems = [stem(t) for t in tokenize(text)]
    return stems + [f"{a} {b}" for a, b in zip(stems, stems[1:], strict=False)]


def _content_stems(text: str) -> list[str]:
    return [stem(t) for t in tokenize(text) if t not in _STOP and len(t) > 2 and not t.isdigit()]


def training_labels(labels: pd.DataFrame, train_on: str, auto: str = "auto") -> pd.DataFrame:
    """The human decisions suggestions learn from (``labels`` columns), by ``train_on``:

    - "consensus": one decision per (segment, code), applied when more than half of the human coders who
      coded the segment applied it (two coders: both); coder name "consensus";
    - "all": every human coder's decisions, each an example of its own (disagreements stay as such);
    - a coder's name: that coder's decisions only.

    Empty (same columns) without human coders. Raises ValueError for a ``train_on`` that is none of these,
    naming the coders present and the setting employer_interviews.suggestions_train_on.
    """
    humans = sorted(set(labels["coder"]) - {auto})
    human = labels[labels["coder"].isin(humans)]
    if train_on == "all" or human.empty:
        return human.reset_index(drop=True)
    if train_on == "consensus":
        keys = ["interview_id", "segment_id", "code_id"]
        votes = human.groupby(keys, sort=False)["value"].mean().reset_index()
        votes["value"] = (votes["value"] > 0.5).astype("int64")
        return votes.assign(coder="consensus")[labels.columns.tolist()]
    if train_on not in humans:
        raise ValueError(
            f"employer_interviews.suggestions_train_on: {train_on!r} is neither 'consensus', 'all' nor a human "
            f"coder; coders: {humans}"
        )
    return human[human["coder"] == train_on].reset_index(drop=True)


def nothing_to_suggest(labels: pd.DataFrame, codes: Sequence[str]) -> str:
    """Why training labels (:func:`training_labels`) give no classifier: "" when at least one code has
    :data:`MIN_POSITIVES` coded segments, else a sentence naming the best-covered codes."""
    if labels.empty:
        return "no human coding (employer_interviews.human_coding is not set or has no decisions)"
    positives = labels[labels["value"] == 1].groupby("code_id")["segment_id"].nunique()
    counts = {c: int(positives.get(c, 0)) for c in codes}
    if any(n >= MIN_POSITIVES for n in counts.values()):
        return ""
    best = sorted(counts.items(), key=lambda kv: -kv[1])[:3]
    return f"no code has {MIN_POSITIVES} or more human-coded segments to learn from (most: {best})"


def _training_frame(segments: pd.DataFrame, labels: pd.DataFrame, coder: str | Sequence[str]) -> pd.DataFrame:
    """One row per (coder, segment) of ``coder`` (a name or several): interview_id, text, one 0/1 column per code."""
    coders = [coder] if isinstance(coder, str) else list(coder)
    lab = labels[labels["coder"].isin(coders)]
    if lab.empty:
        raise ValueError(f"labels: no decisions by coder(s) {coders}; coders present: {sorted(set(labels['coder']))}")
    wide = lab.pivot_table(index=["coder", "segment_id"], columns="code_id", values="value", aggfunc="max").fillna(0)
    wide = wide.reset_index(level="coder", drop=True)
    seg = segments.set_index("segment_id")[["interview_id", "text"]]
    return seg.join(wide, how="inner")


def _model(n_pos: int, seed: int) -> object:
    """Logistic regression (liblinear: fast on a few hundred sparse rows) with sigmoid calibration fitted once
    on out-of-fold scores (``ensemble=False``: one calibrator, not one per fold; a third of the optimiser calls)."""
    base = LogisticRegression(C=4.0, class_weight="balanced", solver="liblinear", max_iter=2000, random_state=seed)
    folds = min(3, n_pos)
    return CalibratedClassifierCV(base, method="sigmoid", cv=folds, ensemble=False) if folds >= 2 else base


def cross_validate_suggestions(
    segments: pd.DataFrame,
    labels: pd.DataFrame,
    coder: str | Sequence[str],
    codes: Sequence[str],
    n_splits: int = 5,
    seed: int = 0,
) -> pd.DataFrame:
    """Per-code quality of the suggestion classifier, CV grouped by interview.

    ``labels``: segment decisions (``reliability.spans_to_labels``) including ``coder``'s (one coder or
    several, e.g. every human coder; then each coder's decision is an example). Columns
    :data:`CV_COLUMNS`; metrics at confidence >= 0.5 on out-of-fold predictions, auc and brier score on the
    calibrated confidences. Codes with fewer than :data:`MIN_POSITIVES` positives get NaN metrics.
    """
    train = _training_frame(segments, labels, coder)
    groups = train["interview_id"].to_numpy()
    k = min(n_splits, len(set(groups)))
    if k < 2:
        raise ValueError(f"coder {coder!r} coded {len(set(groups))} interview(s); grouped CV needs at least 2")
    folds = list(GroupKFold(n_splits=k).split(train, groups=groups))  # the same folds for every code
    features: dict[int, tuple] = {}  # fold -> TF-IDF fitted on its training part: (train, test) matrices
    analysed = {t: stem_analyzer(t) for t in dict.fromkeys(train["text"])}  # each text stemmed once, not per fold

    def fold_features(i: int) -> tuple:
        if i not in features:
            tr, te = folds[i]
            vec = TfidfVectorizer(analyzer=analysed.__getitem__, sublinear_tf=True)
            features[i] = (vec.fit_transform(train["text"].iloc[tr]), vec.transform(train["text"].iloc[te]))
        return features[i]

    name = coder if isinstance(coder, str) else "+".join(coder)
    rows = []
    for code in codes:
        y = train[code].to_numpy().astype(int) if code in train else np.zeros(len(train), dtype=int)
        n_pos = int(y.sum())
        if n_pos < MIN_POSITIVES:
            rows.append([code, name, len(y), n_pos, k, *[np.nan] * 5])
            continue
        prob = np.zeros(len(y))
        for i, (tr, te) in enumerate(folds):
            if y[tr].sum() < 2 or y[tr].sum() == len(tr):
                prob[te] = y[tr].mean()
                continue
            x_tr, x_te = fold_features(i)
            model = _model(int(y[tr].sum()), seed).fit(x_tr, y[tr])
            prob[te] = model.predict_proba(x_te)[:, 1]
        pred = (prob >= 0.5).astype(int)
        rows.append([
            code, name, len(y), n_pos, k, precision_score(y, pred, zero_division=np.nan),
            recall_score(y, pred), f1_score(y, pred), roc_auc_score(y, prob) if 0 < n_pos < len(y) else np.nan,
            brier_score_loss(y, prob),
        ])  # fmt: skip
    return pd.DataFrame(rows, columns=CV_COLUMNS)


def suggest_codes(
    segments: pd.DataFrame,
    labels: pd.DataFrame,
    coder: str | Sequence[str],
    codes: Sequence[str],
    min_confidence: float = 0.5,
    roles: tuple[str, ...] = ("respondent",),
    seed: int = 0,
) -> pd.DataFrame:
    """Suggest codes for segments ``coder`` did not code, from classifiers trained on those they did.

    Returns :data:`SUGGESTION_COLUMNS` (confidence = calibrated probability, >= ``min_confidence``), sorted
    by segment then descending confidence. Codes with fewer than :data:`MIN_POSITIVES` examples are skipped.
    """
    train = _training_frame(segments, labels, coder)
    target = segments[segments["speaker_role"].isin(roles) & ~segments["segment_id"].isin(train.index)]
    if target.empty:
        return pd.DataFrame(columns=SUGGESTION_COLUMNS)
    vec = TfidfVectorizer(analyzer=stem_analyzer, sublinear_tf=True)
    x_tr = vec.fit_transform(train["text"])
    x_new = vec.transform(target["text"])
    frames = []
    for code in codes:
        if code not in train or int(train[code].sum()) < MIN_POSITIVES:
            continue
        y = train[code].to_numpy().astype(int)
        prob = _model(int(y.sum()), seed).fit(x_tr, y).predict_proba(x_new)[:, 1]
        keep = prob >= min_confidence
        ids = target[["interview_id", "segment_id"]].to_numpy()[keep]
        frames.append(
            pd.DataFrame(
                {"interview_id": ids[:, 0], "segment_id": ids[:, 1], "code_id": code, "confidence": prob[keep]}
            )
        )
    if not frames:
        return pd.DataFrame(columns=SUGGESTION_COLUMNS)
    out = pd.concat(frames, ignore_index=True)
    return out.sort_values(["segment_id", "confidence"], ascending=[True, False], kind="stable").reset_index(drop=True)


def discover_themes(
    segments: pd.DataFrame,
    coded: pd.DataFrame,
    n_themes: int = 8,
    n_terms: int = 8,
    n_examples: int = 3,
    n_typical: int = 10,
    novel_below: float = 0.3,
    roles: tuple[str, ...] = ("respondent",),
    seed: int = 0,
) -> pd.DataFrame:
    """TF-IDF + NMF themes over respondent segments, flagged when they overlap no codebook code.

    ``coded``: ``coding.code_segments`` output (negated rows count as overlap: same topic). Columns
    :data:`THEME_COLUMNS`: theme (1..n), top_terms ("; "-joined stems), n_segments (segments whose strongest
    theme it is), best_code ("" if none), overlap (share of its ``n_typical`` most typical segments coded
    with best_code, the code most often among them), novel
    (overlap < ``novel_below``), examples (the ``n_examples`` most typical segment texts, " | "-joined;
    segments are redacted upstream). Raises ValueError when there are fewer segments than themes.
    """
    seg = segments[segments["speaker_role"].isin(roles)].reset_index(drop=True)
    if len(seg) < n_themes:
        raise ValueError(f"segments: {len(seg)} respondent segments, fewer than the {n_themes} themes asked for")
    vec = TfidfVectorizer(analyzer=_content_stems, min_df=2, sublinear_tf=True)
    x = vec.fit_transform(seg["text"])
    nmf = NMF(n_components=n_themes, init="nndsvd", random_state=seed, max_iter=500)
    w = nmf.fit_transform(x)
    terms = np.array(vec.get_feature_names_out())
    strongest = np.where(w.max(axis=1) > 0, w.argmax(axis=1), -1)
    codes_of = coded.groupby("segment_id")["code_id"].apply(set).to_dict()
    rows = []
    for t in range(n_themes):
        members = np.flatnonzero(strongest == t)
        top = terms[np.argsort(nmf.components_[t])[::-1][:n_terms]]
        typical = members[np.argsort(w[members, t])[::-1][:n_typical]]
        counts: dict[str, int] = {}
        for sid in seg["segment_id"].to_numpy()[typical]:
            for c in codes_of.get(sid, ()):
                counts[c] = counts.get(c, 0) + 1
        best = max(sorted(counts), key=counts.__getitem__) if counts else ""
        overlap = counts.get(best, 0) / len(typical) if len(typical) else 0.0
        order = members[np.argsort(w[members, t])[::-1][:n_examples]]
        rows.append([t + 1, "; ".join(top), len(members), best, overlap, overlap < novel_below,
                     " | ".join(seg["text"].to_numpy()[order])])  # fmt: skip
    return pd.DataFrame(rows, columns=THEME_COLUMNS)
