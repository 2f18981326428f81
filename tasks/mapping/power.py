"""Evaluation candidates (study 2): register counts for study 3's design and the minimum detectable effect.

Study 3 compares, month by month, persons who start an intervention in month ``m`` (and are on assistance in
``m - 1`` or ``m``) with persons on assistance in ``m`` who have not started it by ``m``; the outcome is
self-sufficiency = no assistance in the ``window`` months ending at ``m + horizon`` (see
:mod:`insats.tasks.evaluation.design`). :func:`design_counts` counts, on the pseudonymised interim tables, the
persons that design can use: treated N (starters in a month with ``horizon`` months of follow-up inside the
extract) and eligible comparison N (distinct persons who are a comparison in at least one month with a
starter), and the base rate of self-sufficiency among comparison person-months in those months.

:func:`minimum_detectable_effect` turns them into the smallest difference in proportions a two-sided test
at level ``alpha`` detects with the given power (Cohen's h with statsmodels' ``NormalIndPower``).
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from insats.tasks.evaluation.columnar import month_offsets, person_codes

DESIGN_COLUMNS: tuple[str, ...] = ("intervention_id", "n_treated", "n_comparison", "base_rate")


def minimum_detectable_effect(
    n_treated: int, n_comparison: int, base_rate: float, alpha: float = 0.05, power: float = 0.8
) -> float:
    """Smallest increase in a proportion (in proportion units, e.g. 0.08 = 8 percentage points) detectable
    with ``power`` by a two-sided test at ``alpha``, comparing ``n_treated`` with ``n_comparison`` persons
    whose base rate is ``base_rate``.

    Solves ``NormalIndPower`` for Cohen's h = 2 asin(sqrt(p1)) - 2 asin(sqrt(p0)) (nobs1 = n_treated,
    ratio = n_comparison / n_treated), then returns p1 - p0. By hand, up to the far tail's tiny share of the
    power: h = (z_{1 - alpha/2} + z_{power}) * sqrt(1/n_treated + 1/n_comparison). NaN when either N is 0 or
    p1 would exceed 1.
    """
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise ValueError(f"alpha and power must be in (0, 1), got alpha={alpha}, power={power}")
    if not 0 <= base_rate <= 1 or math.isnan(base_rate):
        raise ValueError(f"base_rate must be a proportion in 0..1, got {base_rate}")
    if n_treated <= 0 or n_comparison <= 0:
        return float("nan")
    from statsmodels.stats.power import NormalIndPower  # imported here: statsmodels is slow to import

    h = NormalIndPower().solve_power(
        effect_size=None,
        nobs1=n_treated,
        alpha=alpha,
        power=power,
        ratio=n_comparison / n_treated,
        alternative="two-sided",
    )
    angle = math.asin(math.sqrt(base_rate)) + float(h) / 2
    if angle > math.pi / 2:
        return float("nan")
    return math.sin(angle) ** 2 - base_rate


def design_counts(
    assistance: pd.DataFrame,
    spells: pd.DataFrame,
    first_month: str,
    last_month: str,
    horizon: int = 12,
    window: int = 3,
    intervention_ids: list[str] | None = None,
) -> pd.DataFrame:
    """Treated N, eligible comparison N and base rate of self-sufficiency per intervention (see module
    docstring), from the pseudonymised ``assistance`` (person_id, month; a row = a month with a payment) and
    ``spells`` (person_id, intervention_id, start_date) over ``first_month`` .. ``last_month`` (YYYY-MM).

    A person's FIRST start of an intervention counts; starts before the extract's first month make a person
    neither treated nor comparison (as in study 3). Interventions: ``intervention_ids`` (default: those in
    ``spells``). Output columns :data:`DESIGN_COLUMNS`: n_treated, n_comparison (int64, distinct persons),
    base_rate (float 0..1; NaN without comparison months), one row per intervention in the given order.
    Array arithmetic over (person x month); memory ~ persons x months bytes. Ids and months are coded as in
    study 3's panel (:mod:`insats.tasks.evaluation.columnar`), without a Python string per payment row.
    """
    if horizon < 1 or window < 1 or window > horizon:
        raise ValueError(f"need 1 <= window <= horizon, got horizon={horizon}, window={window}")
    for frame, name, cols in (
        (assistance, "assistance", ("person_id", "month")),
        (spells, "spells", ("person_id", "intervention_id", "start_date")),
    ):
        missing = [c for c in cols if c not in frame.columns]
        if missing:
            raise ValueError(f"{name}: missing column(s) {', '.join(missing)}")
    first, last = pd.Period(first_month, freq="M"), pd.Period(last_month, freq="M")
    n_m = (last - first).n + 1
    if n_m < 1:
        raise ValueError(f"last_month {last_month} is before first_month {first_month}")
    person_ids = pd.concat([assistance["person_id"], spells["person_id"]], ignore_index=True)
    ids = pd.Index(pd.unique(person_ids.astype("string")).astype(str), dtype=object)
    n_p = len(ids)

    def month_index(values: pd.Series) -> np.ndarray:
        return month_offsets(values, first).astype(np.int64)

    on = np.zeros((n_p, n_m + 1), dtype=np.int8)  # an extra zero column for "month -1"
    am = month_index(assistance["month"])
    keep = (am >= 0) & (am < n_m)
    on[person_codes(assistance["person_id"], ids)[keep], am[keep] + 1] = 1
    cum = np.cumsum(on, axis=1, dtype=np.int32)  # cum[:, t + 1] = months on assistance in 0..t
    valid = np.arange(n_m)
    valid = valid[valid + horizon <= n_m - 1]
    # Self-sufficient at m + horizon: no assistance in months m + h - w + 1 .. m + h.
    end = valid + horizon
    ss = (cum[:, end + 1] - cum[:, end + 1 - window]) == 0  # persons x valid months
    on_v = on[:, valid + 1].astype(bool)
    on_prev = on[:, valid].astype(bool)

    wanted = (
        intervention_ids if intervention_ids is not None else sorted(spells["intervention_id"].astype(str).unique())
    )
    sp = spells.assign(intervention_id=spells["intervention_id"].astype(str))
    rows = []
    never = np.iinfo(np.int64).max // 4
    for iid in wanted:
        own = sp[sp["intervention_id"] == iid]
        firsts = own.groupby("person_id", observed=True)["start_date"].min()
        start = np.full(n_p, never, dtype=np.int64)
        if len(firsts):
            start[ids.get_indexer(firsts.index.astype(str))] = month_index(firsts.reset_index()["start_date"])
        starts_m = start[:, None] == valid[None, :]
        treated = starts_m & (on_v | on_prev)
        starter_months = treated.any(axis=0)
        comp = on_v & (start[:, None] > valid[None, :]) & starter_months[None, :]
        n_comp_pm = int(comp.sum())
        rows.append(
            {
                "intervention_id": iid,
                "n_treated": int(treated.any(axis=1).sum()),
                "n_comparison": int(comp.any(axis=1).sum()),
                "base_rate": float(ss[comp].mean()) if n_comp_pm else float("nan"),
            }
        )
    out = pd.DataFrame(rows, columns=list(DESIGN_COLUMNS))
    return out.astype({"n_treated": "int64", "n_comparison": "int64", "base_rate": "float64"})


def inventory_design(
    inventory: pd.DataFrame,
    assistance: pd.DataFrame,
    spells: pd.DataFrame,
    first_month: str,
    last_month: str,
    horizon: int = 12,
    window: int = 3,
) -> pd.DataFrame:
    """:func:`design_counts` for every intervention of the checked ``inventory`` (its ``intervention_id``
    order): one row each, columns :data:`DESIGN_COLUMNS`."""
    ids = inventory["intervention_id"].astype(str).tolist()
    return design_counts(assistance, spells, first_month, last_month, horizon, window, ids)
