"""Evidence review (study 2): screening decisions and active-learning prioritisation, as ASReview does it.

Records are the de-duplicated reference table (:mod:`insats.tasks.mapping.references`). Each record's text is its
title, abstract and keywords; a TF-IDF matrix (unigrams and bigrams, sublinear tf) is fitted once on all
records (unsupervised, so unscreened records shape the vocabulary too). A multinomial naive Bayes classifier
(ASReview's default model, alpha = 3.822) is trained on the decided records, with the two classes given equal
total weight (inclusions are rare), and the unscreened records are ranked by their predicted probability of
inclusion ("maximum" query strategy). In the simulation the classifier is retrained after every
``batch_size`` records, as a reviewer's decisions arrive.

Screening decisions are a CSV that grows while reviewers work: columns ``record_id``, ``decision``
(``include``/``exclude``, case-insensitive; also ``inkludera``/``exkludera``), ``reason`` (required for an
exclusion), and optional ``reviewer``, ``decided_on``. When a record is decided more than once, the last row
counts (a reviewer revised the decision).
"""

from __future__ import annotations

import csv
import io
import math
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import sparse
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.naive_bayes import MultinomialNB

DECISION_COLUMNS: tuple[str, ...] = ("record_id", "decision", "reason", "reviewer", "decided_on")
DECISIONS: dict[str, str] = {"include": "include", "exclude": "exclude", "inkludera": "include", "exkludera": "exclude"}
RANKED_COLUMNS: tuple[str, ...] = ("rank", "record_id", "title", "year", "first_author", "score", "basis")
CURVE_COLUMNS: tuple[str, ...] = ("n_screened", "record_id", "relevant", "found", "recall", "recall_random")
NB_ALPHA = 3.822  # ASReview's default for its naive Bayes model


def read_screening_decisions(path: Path, known_ids: set[str] | None = None) -> pd.DataFrame:
    """Read a decisions CSV (UTF-8/UTF-8-BOM, cp1252 fallback; ``,`` or ``;``). Returns one row per decided
    record (the last row for a record wins), columns :data:`DECISION_COLUMNS` (all str; decision normalised to
    ``include``/``exclude``), in file order of the winning rows.

    Raises ValueError naming the file, row (header = row 1) and column for: a missing column record_id or
    decision, an empty record_id, an unknown decision (listing the allowed values), an exclusion without a
    reason, and (with ``known_ids``) a record_id not among the references.
    """
    path = Path(path)
    raw = path.read_bytes()
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = raw.decode("cp1252")
    header = next((ln for ln in text.splitlines() if ln.strip()), "")
    delimiter = ";" if header.count(";") > header.count(",") else ","
    reader = csv.DictReader(io.StringIO(text, newline=""), delimiter=delimiter)
    fields = {str(f).strip().lower(): f for f in (reader.fieldnames or [])}
    missing = [c for c in ("record_id", "decision") if c not in fields]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(fields) or 'none'}")
    problems: list[str] = []
    latest: dict[str, dict[str, str]] = {}
    for row_no, row in enumerate(reader, start=2):
        cell = {c: (row.get(fields[c]) or "").strip() if c in fields else "" for c in DECISION_COLUMNS}
        if not any(cell.values()):
            continue
        rid = cell["record_id"]
        if not rid:
            problems.append(f"row {row_no}, column 'record_id': value is missing")
            continue
        decision = DECISIONS.get(cell["decision"].lower())
        if decision is None:
            problems.append(
                f"row {row_no}, column 'decision': unknown value {cell['decision']!r}; "
                f"allowed values: {', '.join(DECISIONS)}"
            )
            continue
        if decision == "exclude" and not cell["reason"]:
            problems.append(f"row {row_no}, column 'reason': an exclusion needs a reason (record {rid})")
        if known_ids is not None and rid not in known_ids:
            problems.append(f"row {row_no}, column 'record_id': {rid!r} is not among the references")
        latest.pop(rid, None)  # re-insert: file order of the winning row
        latest[rid] = {**cell, "decision": decision}
    if problems:
        raise ValueError(f"{path}: {len(problems)} problem(s) in the screening decisions:\n" + "\n".join(problems[:50]))
    return pd.DataFrame(list(latest.values()), columns=list(DECISION_COLUMNS), dtype=object).astype(str)


def record_texts(refs: pd.DataFrame) -> list[str]:
    """The text each record is screened on: title, abstract and keywords joined by spaces."""
    cols = [c for c in ("title", "abstract", "keywords") if c in refs.columns]
    return [" ".join(str(v) for v in vals if isinstance(v, str)) for vals in refs[cols].itertuples(index=False)]


def tfidf_matrix(texts: list[str]) -> sparse.csr_matrix:
    """TF-IDF features (1-2 grams, sublinear tf, terms in >= 2 records when there are >= 20 records)."""
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True, min_df=2 if len(texts) >= 20 else 1)
    return vec.fit_transform(texts).tocsr()


def _fit_predict(x: sparse.csr_matrix, labelled: np.ndarray, y: np.ndarray, pool: np.ndarray) -> np.ndarray:
    """P(include) for ``pool`` rows from naive Bayes trained on ``labelled`` rows with balanced class weights."""
    n_pos = int(y.sum())
    n_neg = len(y) - n_pos
    weights = np.where(y == 1, 0.5 / n_pos, 0.5 / n_neg) * len(y)
    model = MultinomialNB(alpha=NB_ALPHA)
    model.fit(x[labelled], y, sample_weight=weights)
    return model.predict_proba(x[pool])[:, list(model.classes_).index(1)]


def prioritise(refs: pd.DataFrame, decisions: pd.DataFrame, seed: int = 2026) -> pd.DataFrame:
    """Rank the records not yet decided for the reviewers (most likely inclusion first).

    ``refs``: de-duplicated references (record_id, title, abstract, keywords, year, first_author);
    ``decisions``: from :func:`read_screening_decisions`. With at least one inclusion and one exclusion the
    ranking is by naive Bayes P(include) (``basis`` = ``model``, ``score`` in 0..1; ties by input order);
    otherwise a seeded random order (``basis`` = ``random``, ``score`` NaN) - screen a few records first.
    Returns columns :data:`RANKED_COLUMNS`, rank 1..n.
    """
    decided = dict(zip(decisions["record_id"], decisions["decision"], strict=True))
    ids = refs["record_id"].astype(str).tolist()
    labelled = np.array([i for i, r in enumerate(ids) if r in decided], dtype=int)
    pool = np.array([i for i, r in enumerate(ids) if r not in decided], dtype=int)
    y = np.array([1 if decided[ids[i]] == "include" else 0 for i in labelled], dtype=int)
    if len(pool) and y.sum() >= 1 and (y == 0).sum() >= 1:
        scores = _fit_predict(tfidf_matrix(record_texts(refs)), labelled, y, pool)
        order = np.argsort(-scores, kind="stable")
        basis = "model"
    else:
        scores = np.full(len(pool), np.nan)
        order = np.random.default_rng(seed).permutation(len(pool))
        basis = "random"
    chosen = refs.iloc[pool[order]]
    return pd.DataFrame(
        {
            "rank": np.arange(1, len(pool) + 1, dtype="int64"),
            "record_id": chosen["record_id"].astype(str).to_numpy(),
            "title": chosen["title"].astype(str).to_numpy(),
            "year": pd.array(chosen["year"].tolist(), dtype="Int64"),
            "first_author": chosen["first_author"].astype(str).to_numpy(),
            "score": scores[order].astype(float),
            "basis": basis,
        },
        columns=list(RANKED_COLUMNS),
    )


def expected_random_screened(n_records: int, n_relevant: int, recall: float = 0.95) -> float:
    """Expected number of records screened in random order to find ``ceil(recall * n_relevant)`` of the
    ``n_relevant``: k (N + 1) / (K + 1) (the expected k-th order statistic of K positions among N)."""
    k = math.ceil(recall * n_relevant - 1e-9)
    return k * (n_records + 1) / (n_relevant + 1)


def simulate_screening(
    refs: pd.DataFrame,
    relevant: pd.Series | np.ndarray,
    seed: int = 2026,
    n_prior_included: int = 1,
    n_prior_excluded: int = 1,
    batch_size: int = 1,
) -> tuple[pd.DataFrame, dict[str, float]]:
    """Replay active-learning screening on a fully screened set.

    ``relevant``: bool per row of ``refs`` (the final include decisions). The run starts from
    ``n_prior_included`` inclusions and ``n_prior_excluded`` exclusions drawn with ``seed`` (prior knowledge,
    counted as screened), then repeatedly retrains and screens the ``batch_size`` top-ranked records.

    Returns ``(curve, metrics)``. ``curve``: one row per screened record in screening order, columns
    :data:`CURVE_COLUMNS` (``found`` = inclusions found so far, ``recall`` = found / all inclusions,
    ``recall_random`` = n_screened / N, the expected recall in random order). ``metrics``: ``n_records``,
    ``n_relevant``, ``n_screened_95`` (records screened when 95 % of inclusions were found),
    ``share_screened_95`` (that over N), ``wss_95`` (work saved over sampling at 95 % recall:
    (N - n_screened_95) / N - 0.05), ``random_share_screened_95`` (expected share in random order, see
    :func:`expected_random_screened`) and ``recall_at_10pct`` / ``recall_at_25pct`` (recall after screening
    10 % / 25 % of the records).
    """
    y_all = np.asarray(relevant, dtype=bool)
    n = len(refs)
    if len(y_all) != n:
        raise ValueError(f"relevant has {len(y_all)} values for {n} records")
    n_rel = int(y_all.sum())
    if n_rel < n_prior_included or (n - n_rel) < n_prior_excluded or n_prior_included < 1 or n_prior_excluded < 1:
        raise ValueError(
            f"need at least {max(n_prior_included, 1)} inclusion(s) and {max(n_prior_excluded, 1)} exclusion(s) "
            f"as prior knowledge; the set has {n_rel} inclusion(s) among {n} records"
        )
    if batch_size < 1:
        raise ValueError(f"batch_size must be >= 1, got {batch_size}")
    rng = np.random.default_rng(seed)
    x = tfidf_matrix(record_texts(refs))
    prior = list(rng.choice(np.flatnonzero(y_all), size=n_prior_included, replace=False))
    prior += list(rng.choice(np.flatnonzero(~y_all), size=n_prior_excluded, replace=False))
    order: list[int] = [int(i) for i in prior]
    screened = np.zeros(n, dtype=bool)
    screened[order] = True
    while not screened.all():
        labelled = np.flatnonzero(screened)
        pool = np.flatnonzero(~screened)
        y = y_all[labelled].astype(int)
        scores = _fit_predict(x, labelled, y, pool)
        take = pool[np.argsort(-scores, kind="stable")[:batch_size]]
        order.extend(int(i) for i in take)
        screened[take] = True
    idx = np.array(order)
    found = np.cumsum(y_all[idx])
    n_screened = np.arange(1, n + 1)
    curve = pd.DataFrame(
        {
            "n_screened": n_screened.astype("int64"),
            "record_id": refs["record_id"].astype(str).to_numpy()[idx],
            "relevant": y_all[idx],
            "found": found.astype("int64"),
            "recall": found / n_rel,
            "recall_random": n_screened / n,
        },
        columns=list(CURVE_COLUMNS),
    )
    k95 = math.ceil(0.95 * n_rel - 1e-9)
    n95 = int(np.argmax(found >= k95)) + 1
    metrics = {
        "n_records": float(n),
        "n_relevant": float(n_rel),
        "n_screened_95": float(n95),
        "share_screened_95": n95 / n,
        "wss_95": (n - n95) / n - 0.05,
        "random_share_screened_95": expected_random_screened(n, n_rel, 0.95) / n,
        "recall_at_10pct": float(found[max(math.ceil(0.10 * n) - 1, 0)] / n_rel),
        "recall_at_25pct": float(found[max(math.ceil(0.25 * n) - 1, 0)] / n_rel),
    }
    return curve, metrics


def metrics_table(metrics: dict[str, float]) -> pd.DataFrame:
    """The simulation's metrics as a two-column table (``metric`` str, ``value`` float), for publishing."""
    return pd.DataFrame({"metric": list(metrics), "value": [float(v) for v in metrics.values()]})


def rank_unscreened(references: pd.DataFrame, decisions: Path, seed: int = 2026) -> pd.DataFrame:
    """The unscreened records of ``references`` (the de-duplicated table) ranked by :func:`prioritise` from the
    decisions so far in the CSV ``decisions`` (:func:`read_screening_decisions`; ids must be references').
    Columns :data:`RANKED_COLUMNS`."""
    known = set(references["record_id"].astype(str))
    return prioritise(references, read_screening_decisions(decisions, known), seed=seed)


def simulate_review(references: pd.DataFrame, simulation: Path, seed: int = 2026) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Simulate active-learning screening of a finished review: (curve, metrics table).

    ``simulation`` is a decisions CSV with a decision on EVERY record of ``references``; the included records
    are the relevant ones. Returns :func:`simulate_screening`'s curve (:data:`CURVE_COLUMNS`) and its metrics
    as :func:`metrics_table`. Raises ValueError naming the file when a record is undecided.
    """
    ids = set(references["record_id"].astype(str))
    full = read_screening_decisions(simulation, ids)
    undecided = sorted(ids - set(full["record_id"]))
    if undecided:
        raise ValueError(
            f"{simulation}: the simulation needs a decision on every record; {len(undecided)} undecided "
            f"(e.g. {', '.join(undecided[:3])})"
        )
    include = dict(zip(full["record_id"], full["decision"] == "include", strict=True))
    relevant = references["record_id"].map(include).to_numpy(dtype=bool)
    curve, metrics = simulate_screening(references, relevant, seed=seed)
    return curve, metrics_table(metrics)
