"""Inter-coder reliability at segment level, and the quality of auto-coding against a human coder.

Unit of analysis: a (segment, code) decision, "did the coder apply this code to this segment" (1/0). A
coder's span of text counts for every segment it overlaps. A coder who did not code an interview has
*missing* decisions (NaN) for its segments, not zeros: kappa and percent agreement use the segments both
coders coded (pairwise complete); Krippendorff's alpha (nominal) uses every unit with at least two values,
which for two coders is the same set. Bootstrap confidence intervals resample *interviews* (segments of one
interview are not independent); every resample is one row of a multinomial weight matrix, so all resamples
come from one matrix product, not a Python loop.

:func:`krippendorff_alpha` / :func:`alpha_interval` also take nominal, ordinal, interval and ratio data
(any number of coders, missing values) for other ratings, e.g. a stance or an intensity scale. Figures
equal ``sklearn.metrics.cohen_kappa_score`` on the paired decisions and the ``krippendorff`` package's
``alpha`` at every level (checked in the tests, with Krippendorff's 2011 worked example).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

LABEL_COLUMNS = ["coder", "interview_id", "segment_id", "code_id", "value"]
RELIABILITY_COLUMNS = [
    "code_id", "coder_a", "coder_b", "n_segments", "n_a", "n_b", "agreement", "kappa", "kappa_ci_low",
    "kappa_ci_high", "alpha", "alpha_ci_low", "alpha_ci_high",
]  # fmt: skip
QUALITY_COLUMNS = ["code_id", "reference", "n_segments", "tp", "fp", "fn", "precision", "recall", "f1"]
ALL = "(alla koder)"  # the overall row: every (segment, code) decision pooled


def _require(df: pd.DataFrame, columns: Sequence[str], name: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; has {list(df.columns)}")


# --- the statistics ------------------------------------------------------------------------------------------


def percent_agreement(a: Sequence[float], b: Sequence[float]) -> float:
    """Share of units where both coders gave a value and the values are equal (NaN = missing)."""
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    both = ~np.isnan(x) & ~np.isnan(y)
    return float(np.mean(x[both] == y[both])) if both.any() else float("nan")


def _kappa_from_table(t: np.ndarray) -> np.ndarray:
    """Cohen's kappa from contingency tables ``t[..., i, j]`` (coder a value i, coder b value j)."""
    n = t.sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        po = np.trace(t, axis1=-2, axis2=-1) / n
        pe = (t.sum(axis=-1) * t.sum(axis=-2)).sum(axis=-1) / n**2
        return np.where(pe < 1, (po - pe) / (1 - pe), np.nan)


def cohen_kappa(a: Sequence[float], b: Sequence[float]) -> float:
    """Cohen's kappa of two coders over the units both coded (NaN in either = skipped unit).

    Equals ``sklearn.metrics.cohen_kappa_score`` on those units; NaN when no unit is shared or when both
    coders used one and the same category throughout (expected agreement 1, kappa undefined).
    """
    x, y = np.asarray(a, dtype=float), np.asarray(b, dtype=float)
    both = ~np.isnan(x) & ~np.isnan(y)
    if not both.any():
        return float("nan")
    cats = np.unique(np.concatenate([x[both], y[both]]))
    ix, iy = np.searchsorted(cats, x[both]), np.searchsorted(cats, y[both])
    table = np.zeros((len(cats), len(cats)))
    np.add.at(table, (ix, iy), 1)
    return float(_kappa_from_table(table))


def _alpha_from_coincidence(o: np.ndarray) -> np.ndarray:
    """Nominal alpha from coincidence matrices ``o[..., c, k]``."""
    nc = o.sum(axis=-1)
    n = nc.sum(axis=-1)
    observed = o.sum(axis=(-2, -1)) - np.trace(o, axis1=-2, axis2=-1)
    expected = (n**2 - (nc**2).sum(axis=-1)) / (n - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(expected > 0, 1 - observed / expected, np.nan)


LEVELS = ("nominal", "ordinal", "interval", "ratio")


def _distance(values: np.ndarray, nc: np.ndarray, level: str) -> np.ndarray:
    """Squared difference ``delta[..., c, k]`` between values ``c`` and ``k`` (Krippendorff 2011, sec. C).

    ``nc[..., c]``: how often value c was paired (the ordinal metric depends on it, so it has a batch axis).
    """
    c, k = values[:, None], values[None, :]
    if level == "nominal":
        return (c != k).astype(float)
    if level == "interval":
        return (c - k) ** 2
    if level == "ratio":
        with np.errstate(invalid="ignore", divide="ignore"):
            return np.where(c + k == 0, 0.0, ((c - k) / np.where(c + k == 0, 1, c + k)) ** 2)
    # ordinal: (sum of n_g for g from c to k, minus half of n_c and n_k) squared
    cum = np.cumsum(nc, axis=-1)
    lo, hi = (
        np.minimum(np.arange(len(values))[:, None], np.arange(len(values))[None, :]),
        np.maximum(np.arange(len(values))[:, None], np.arange(len(values))[None, :]),
    )
    between = cum[..., hi] - cum[..., lo] + nc[..., lo]  # n_lo + ... + n_hi
    return (between - (nc[..., lo] + nc[..., hi]) / 2) ** 2


def _alpha_general(o: np.ndarray, values: np.ndarray, level: str) -> np.ndarray:
    """Alpha at ``level`` from coincidence matrices ``o[..., c, k]`` over the sorted ``values``."""
    nc = o.sum(axis=-1)
    n = nc.sum(axis=-1)
    delta = _distance(values, nc, level)
    observed = (o * delta).sum(axis=(-2, -1))
    expected = (nc[..., :, None] * nc[..., None, :] * delta).sum(axis=(-2, -1)) / (n - 1)
    with np.errstate(invalid="ignore", divide="ignore"):
        return np.where(expected > 0, 1 - observed / expected, np.nan)


def _unit_coincidences(data: np.ndarray | Sequence[Sequence[float]], level: str) -> tuple[np.ndarray, np.ndarray]:
    """(o_u[u, c, k], values): each pairable unit's contribution to the coincidence matrix, over the sorted
    distinct values. Raises ValueError for a matrix that is not 2-D, an unknown level, or (ratio) a negative
    value."""
    if level not in LEVELS:
        raise ValueError(f"level of measurement {level!r} unknown; expected one of {list(LEVELS)}")
    m = np.asarray(data, dtype=float)
    if m.ndim != 2:
        raise ValueError(f"reliability data must be 2-D (coders x units), got shape {m.shape}")
    values = np.unique(m[~np.isnan(m)])
    if level == "ratio" and (values < 0).any():
        raise ValueError("ratio data must be non-negative (a ratio scale has an absolute zero)")
    # counts[u, c]: how many coders gave unit u the value c
    counts = np.stack([(m == c).sum(axis=0) for c in values], axis=1).astype(float) if len(values) else np.zeros((0, 0))
    mu = counts.sum(axis=1) if len(values) else np.zeros(0)
    keep = mu >= 2
    counts, mu = counts[keep], mu[keep]
    o_u = np.einsum("uc,uk->uck", counts / (mu - 1)[:, None], counts)
    idx = np.arange(len(values))
    o_u[:, idx, idx] -= counts / (mu - 1)[:, None]
    return o_u, values


def krippendorff_alpha(data: np.ndarray | Sequence[Sequence[float]], level: str = "nominal") -> float:
    """Krippendorff's alpha for a coders x units matrix with NaN for missing values.

    ``level``: "nominal", "ordinal" (ranks of the distinct values), "interval" or "ratio" (non-negative).
    Units with fewer than two values are not pairable and drop out. NaN when fewer than two values are
    pairable or only one value occurs (the ``krippendorff`` package raises in that case).
    """
    o_u, values = _unit_coincidences(data, level)
    if len(values) < 2 or not len(o_u):
        return float("nan")
    return float(_alpha_general(o_u.sum(axis=0), values, level))


def alpha_interval(
    data: np.ndarray | Sequence[Sequence[float]],
    level: str = "nominal",
    n_boot: int = 1000,
    seed: int | np.random.Generator = 0,
    ci: float = 0.95,
) -> tuple[float, float, float]:
    """(alpha, ci_low, ci_high): alpha at ``level`` with a percentile bootstrap CI over units.

    Vectorised: each unit's coincidence matrix is computed once, a resample is a multinomial weight vector
    over units, and all ``n_boot`` coincidence matrices come from one matrix product (n_boot x units) @
    (units x values²). NaN bounds when alpha is undefined in every resample.
    """
    o_u, values = _unit_coincidences(data, level)
    if len(values) < 2 or not len(o_u):
        return float("nan"), float("nan"), float("nan")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    weights = rng.multinomial(len(o_u), np.full(len(o_u), 1 / len(o_u)), size=n_boot)
    boot = _alpha_general(
        (weights @ o_u.reshape(len(o_u), -1)).reshape(n_boot, len(values), len(values)), values, level
    )
    if not np.isfinite(boot).any():
        return float(_alpha_general(o_u.sum(axis=0), values, level)), float("nan"), float("nan")
    lo, hi = np.nanquantile(boot, [(1 - ci) / 2, 1 - (1 - ci) / 2])
    return float(_alpha_general(o_u.sum(axis=0), values, level)), float(lo), float(hi)


def _tables_to_stats(t: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(agreement, kappa, alpha) from 2x2 tables ``t[..., 2, 2]`` of two coders' binary decisions."""
    n = t.sum(axis=(-2, -1))
    with np.errstate(invalid="ignore", divide="ignore"):
        agree = np.trace(t, axis1=-2, axis2=-1) / n
    o = t + np.swapaxes(t, -1, -2)  # two coders: each unit adds (a, b) and (b, a) to the coincidences
    return agree, _kappa_from_table(t), _alpha_from_coincidence(o)


# --- from spans to segment decisions ----------------------------------------------------------------------


def spans_to_labels(
    spans: pd.DataFrame,
    segments: pd.DataFrame,
    codes: Sequence[str],
    coverage: Mapping[str, Sequence[str]] | None = None,
    roles: tuple[str, ...] = ("respondent",),
) -> pd.DataFrame:
    """Segment-level decisions of each coder from coded character spans.

    ``spans``: columns interview_id, start, end (offsets in the same text the segments were cut from,
    i.e. the redacted transcript), code, coder. ``segments``: output of ``segment_turns`` (interview_id,
    segment_id, speaker_role, start_char, end_char). ``coverage``: coder -> interviews the coder coded; by
    default the interviews in which the coder made at least one span. Returns long columns coder,
    interview_id, segment_id, code_id, value (1 = applied, 0 = not), one row per covered segment of
    ``roles`` and code in ``codes``; segments outside a coder's coverage have no row (missing).
    Spans with codes outside ``codes`` raise ValueError.
    """
    _require(spans, ["interview_id", "start", "end", "code", "coder"], "coded spans")
    _require(segments, ["interview_id", "segment_id", "speaker_role", "start_char", "end_char"], "segments")
    unknown = sorted(set(spans["code"].astype(str)) - set(codes))
    if unknown:
        raise ValueError(f"coded spans: code(s) {unknown[:5]} not in the codebook")
    bad = spans[spans["end"] <= spans["start"]]
    if len(bad):
        raise ValueError(
            f"coded spans: row {bad.index[0]} has end <= start ({bad.iloc[0]['start']}, {bad.iloc[0]['end']})"
        )
    seg = segments[segments["speaker_role"].isin(roles)][["interview_id", "segment_id", "start_char", "end_char"]]
    coverage = (
        dict(coverage)
        if coverage is not None
        else {str(c): sorted(set(g["interview_id"].astype(str))) for c, g in spans.groupby("coder")}
    )
    hits = spans.merge(seg, on="interview_id")
    hits = hits[(hits["start"] < hits["end_char"]) & (hits["end"] > hits["start_char"])]
    applied = set(zip(hits["coder"].astype(str), hits["segment_id"], hits["code"].astype(str), strict=True))
    frames = []
    for coder, interviews in coverage.items():
        s = seg[seg["interview_id"].isin(list(interviews))]
        grid = s[["interview_id", "segment_id"]].merge(pd.DataFrame({"code_id": list(codes)}), how="cross")
        grid.insert(0, "coder", coder)
        grid["value"] = [
            int((coder, sid, cid) in applied) for sid, cid in zip(grid["segment_id"], grid["code_id"], strict=True)
        ]
        frames.append(grid)
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=LABEL_COLUMNS)
    return out[LABEL_COLUMNS].astype({"value": "int64"})


def coded_to_labels(
    coded: pd.DataFrame,
    segments: pd.DataFrame,
    codes: Sequence[str],
    coder: str = "auto",
    roles: tuple[str, ...] = ("respondent",),
) -> pd.DataFrame:
    """Decisions of the dictionary coder (``coding.code_segments`` output) on every segment of ``roles``.

    A negated mention counts as coded: the topic is present, the stance is separate (as human coders code).
    Same columns as :func:`spans_to_labels`.
    """
    _require(coded, ["segment_id", "code_id"], "coded segments")
    seg = segments[segments["speaker_role"].isin(roles)][["interview_id", "segment_id"]]
    grid = seg.merge(pd.DataFrame({"code_id": list(codes)}), how="cross")
    applied = set(zip(coded["segment_id"], coded["code_id"].astype(str), strict=True))
    grid.insert(0, "coder", coder)
    grid["value"] = [int(k in applied) for k in zip(grid["segment_id"], grid["code_id"], strict=True)]
    return grid[LABEL_COLUMNS].astype({"value": "int64"})


def _paired(labels: pd.DataFrame, coder_a: str, coder_b: str) -> pd.DataFrame:
    _require(labels, LABEL_COLUMNS, "labels")
    for c in (coder_a, coder_b):
        if c not in set(labels["coder"]):
            raise ValueError(f"labels: no decisions by coder {c!r}; coders present: {sorted(set(labels['coder']))}")
    a = labels[labels["coder"] == coder_a].drop(columns="coder")
    b = labels[labels["coder"] == coder_b].drop(columns="coder")
    return a.merge(b, on=["interview_id", "segment_id", "code_id"], suffixes=("_a", "_b"))


def reliability(
    labels: pd.DataFrame,
    coder_a: str,
    coder_b: str,
    n_boot: int = 1000,
    seed: int | np.random.Generator = 0,
    level: float = 0.95,
) -> pd.DataFrame:
    """Agreement between two coders per code and overall (row ``code_id == ALL``), on shared segments.

    ``labels``: output of :func:`spans_to_labels` / :func:`coded_to_labels` (concatenated). Columns: see
    :data:`RELIABILITY_COLUMNS`: n_segments (segments both coded), n_a / n_b (segments each applied the
    code to), agreement (0..1), kappa, alpha (nominal) with percentile bootstrap CIs at ``level`` from
    ``n_boot`` resamples of interviews. The overall row pools all (segment, code) decisions. Statistics
    are NaN where undefined (e.g. neither coder ever used the code).
    """
    pairs = _paired(labels, coder_a, coder_b)
    if pairs.empty:
        raise ValueError(f"coders {coder_a!r} and {coder_b!r} coded no segment in common")
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    interviews = sorted(set(pairs["interview_id"]))
    iidx = pairs["interview_id"].map({k: i for i, k in enumerate(interviews)}).to_numpy()
    weights = rng.multinomial(len(interviews), np.full(len(interviews), 1 / len(interviews)), size=n_boot)
    lo_q, hi_q = (1 - level) / 2, 1 - (1 - level) / 2
    rows = []
    codes = list(dict.fromkeys(pairs["code_id"]))
    for code in [*codes, ALL]:
        p = pairs if code == ALL else pairs[pairs["code_id"] == code]
        cell = p["value_a"].to_numpy() * 2 + p["value_b"].to_numpy()
        per_int = np.zeros((len(interviews), 4))
        np.add.at(per_int, (iidx[p.index.to_numpy()], cell), 1)
        table = per_int.sum(axis=0).reshape(2, 2)
        agree, kappa, alpha = (float(v) for v in _tables_to_stats(table))
        boot = _tables_to_stats((weights @ per_int).reshape(-1, 2, 2))
        ci = [np.nanquantile(s, [lo_q, hi_q]) if np.isfinite(s).any() else (np.nan, np.nan) for s in boot[1:]]
        rows.append([
            code, coder_a, coder_b, len(p), int(p["value_a"].sum()), int(p["value_b"].sum()), agree,
            kappa, float(ci[0][0]), float(ci[0][1]), alpha, float(ci[1][0]), float(ci[1][1]),
        ])  # fmt: skip
    return pd.DataFrame(rows, columns=RELIABILITY_COLUMNS)


def coding_quality(labels: pd.DataFrame, predicted: str, reference: str) -> pd.DataFrame:
    """Precision, recall and F1 of coder ``predicted`` (e.g. "auto") against ``reference`` (a human), per
    code and overall (``ALL``, micro-averaged), on segments both coded. Columns :data:`QUALITY_COLUMNS`;
    precision/recall are NaN when undefined (no predictions / no reference positives)."""
    pairs = _paired(labels, predicted, reference)
    rows = []
    for code in [*dict.fromkeys(pairs["code_id"]), ALL]:
        p = pairs if code == ALL else pairs[pairs["code_id"] == code]
        tp = int(((p["value_a"] == 1) & (p["value_b"] == 1)).sum())
        fp = int(((p["value_a"] == 1) & (p["value_b"] == 0)).sum())
        fn = int(((p["value_a"] == 0) & (p["value_b"] == 1)).sum())
        prec = tp / (tp + fp) if tp + fp else float("nan")
        rec = tp / (tp + fn) if tp + fn else float("nan")
        f1 = 2 * tp / (2 * tp + fp + fn) if tp + fp + fn else float("nan")
        rows.append([code, reference, p["segment_id"].nunique(), tp, fp, fn, prec, rec, f1])
    return pd.DataFrame(rows, columns=QUALITY_COLUMNS)
