"""Aggregations of Callaway-Sant'Anna ATT(g, t) (``insats.tasks.evaluation.did.att_gt``), as R's ``did::aggte``.

* ``simple``: post-treatment cells (t >= g) weighted by cohort size P(G = g).
* ``group``: per cohort the mean of its post-treatment cells; overall = cohort-size-weighted mean of those.
* ``calendar``: per period t the cohort-size-weighted mean over cohorts treated by t; overall = their mean.
* ``dynamic``: per event time e = t - g the cohort-size-weighted mean over cohorts observed at e; overall =
  mean over e >= 0.

Standard errors from the cells' influence functions, including the estimation of the cohort weights (R's
``wif``), summed within clusters; 95 % CI = att +- 1.96 se (pointwise).
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandas as pd
from scipy import stats

from insats.tasks.evaluation.did import Z_95, DidResult

Aggregation = Literal["simple", "group", "calendar", "dynamic"]
AGGREGATIONS: tuple[str, ...] = ("simple", "group", "calendar", "dynamic")


def _weights_influence(res: DidResult, cells: np.ndarray, pg: np.ndarray) -> np.ndarray:
    """Influence (n x len(cells)) of the estimated weights pg[cells] / sum(pg[cells]) (R's ``wif``)."""
    groups = res.group_time["group"].to_numpy()[cells]
    member = (res.unit_group[:, None] == groups[None, :]).astype(float) - pg[None, :]
    total = pg.sum()
    return member / total - member.sum(axis=1, keepdims=True) @ (pg / total**2)[None, :]


def _combine(
    res: DidResult, cells: np.ndarray, weights: np.ndarray, wif: np.ndarray | None
) -> tuple[float, np.ndarray]:
    att = res.group_time["att"].to_numpy()[cells]
    inf = res.influence[:, cells] @ weights
    if wif is not None:
        inf = inf + wif @ att
    return float(weights @ att), inf


def _row(label: str, key: float, att: float, inf: np.ndarray, res: DidResult) -> dict:
    se = float(np.sqrt(max(res.vcov(inf[:, None])[0, 0], 0.0)))
    p = float(2 * stats.norm.sf(abs(att / se))) if se > 0 else float("nan")
    return {
        "term": label,
        "key": key,
        "att": att,
        "se": se,
        "ci_low": att - Z_95 * se,
        "ci_high": att + Z_95 * se,
        "p_value": p,
    }


def aggregate(
    res: DidResult, kind: Aggregation = "dynamic", min_e: float = -np.inf, max_e: float = np.inf
) -> pd.DataFrame:
    """One row per group / period / event time (``term`` = kind, ``key`` = its value) and a last row
    ``term="overall"`` (key NaN): att, se, ci_low, ci_high, p_value. ``min_e``/``max_e`` bound the event times
    (dynamic) and the post-treatment cells used (group: t <= g + max_e). Reference cells (universal base) are
    left out of every aggregate, as in R."""
    if kind not in AGGREGATIONS:
        raise ValueError(f"aggregation must be one of {', '.join(AGGREGATIONS)}, got {kind!r}")
    gt = res.group_time
    g, t = gt["group"].to_numpy(), gt["time"].to_numpy()
    e = t - g
    usable = ~(gt["se"].isna().to_numpy() & (gt["n_treated"].to_numpy() == 0))
    glist = np.unique(g)
    share = {gg: float(np.mean(res.unit_group == gg)) for gg in glist}
    pg = np.array([share[gg] for gg in g])
    rows: list[dict] = []
    if kind == "simple":
        cells = np.flatnonzero(usable & (g <= t) & (t <= g + max_e))
        w = pg[cells] / pg[cells].sum()
        att, inf = _combine(res, cells, w, _weights_influence(res, cells, pg[cells]))
        return pd.DataFrame([_row("overall", np.nan, att, inf, res)])
    if kind == "dynamic":
        per = []
        for ev in np.unique(e[usable]):
            if not min_e <= ev <= max_e:
                continue
            cells = np.flatnonzero(usable & (e == ev))
            w = pg[cells] / pg[cells].sum()
            per.append((ev, *_combine(res, cells, w, _weights_influence(res, cells, pg[cells]))))
        post = [p for p in per if p[0] >= 0]
        overall = (float(np.mean([p[1] for p in post])), np.mean([p[2] for p in post], axis=0)) if post else None
    elif kind == "group":
        per = []
        for gg in glist:
            cells = np.flatnonzero(usable & (g == gg) & (gg <= t) & (t <= gg + max_e))
            if cells.size:
                per.append((gg, *_combine(res, cells, np.full(cells.size, 1 / cells.size), None)))
        overall = None
        if per:
            keys = np.array([p[0] for p in per])
            pgg = np.array([share[k] for k in keys])
            atts, infs = np.array([p[1] for p in per]), np.column_stack([p[2] for p in per])
            member = (res.unit_group[:, None] == keys[None, :]).astype(float) - pgg[None, :]
            wif = member / pgg.sum() - member.sum(axis=1, keepdims=True) @ (pgg / pgg.sum() ** 2)[None, :]
            w = pgg / pgg.sum()
            overall = (float(w @ atts), infs @ w + wif @ atts)
    else:  # calendar
        per = []
        for tt in np.unique(t[usable & (t >= glist.min())]):
            cells = np.flatnonzero(usable & (t == tt) & (g <= tt))
            if cells.size:
                w = pg[cells] / pg[cells].sum()
                per.append((tt, *_combine(res, cells, w, _weights_influence(res, cells, pg[cells]))))
        overall = (float(np.mean([p[1] for p in per])), np.mean([p[2] for p in per], axis=0)) if per else None
    rows = [_row(kind, float(k), a, inf, res) for k, a, inf in per]
    if overall is not None:
        rows.append(_row("overall", np.nan, overall[0], overall[1], res))
    return pd.DataFrame(rows, columns=["term", "key", "att", "se", "ci_low", "ci_high", "p_value"])
