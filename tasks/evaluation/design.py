"""Sequential (dynamic) matching design, in the style of Sianesi (2004).

For each calendar month ``m``, persons who START the intervention in ``m`` are compared with persons who
are on assistance in ``m`` and have not started it by ``m``; controls may start later (they "wait"), so
the estimand is the effect of joining in ``m`` versus not joining in ``m``. All covariates are measured
BEFORE ``m`` (or are fixed person traits), the outcome at ``m + horizon``.

Everything is computed on (person x month) arrays with cumulative sums; there is no per-person loop, so a
500k x 60 panel takes a few seconds and a few hundred MB. A panel laid out as ``build_person_month_panel``
writes it (person-major, every month) is reshaped into those arrays without a scatter or a factorize of
its 30M months; codes are int32.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

ESKILSTUNA = "0484"
COVARIATES: tuple[str, ...] = (
    "asst_months_12",  # months on assistance in m-12 .. m-1
    "asst_months_24",  # months on assistance in m-24 .. m-1
    "asst_spell_elapsed",  # consecutive months on assistance ending in m-1 (0 if none in m-1)
    "employed_months_12",  # months employed in m-12 .. m-1
    "age",  # calendar year of m minus birth year
    "female",  # sex == 2
    "born_abroad",
    "education_2",  # upper secondary (reference: compulsory)
    "education_3",  # post-secondary
    "household_type_2",  # single with children (reference: single without children)
    "household_type_3",  # couple without children
    "household_type_4",  # couple with children
    "municipality_eskilstuna",  # municipality == 0484
)
# In the sample but not a default covariate: on a 4-year extract it is left-censored for most months and
# nearly collinear with asst_months_24; pass it explicitly for long extracts (with ``min_history=36``).
LONG_HISTORY_COVARIATES: tuple[str, ...] = ("asst_months_36",)
OUTCOMES: tuple[str, ...] = (
    "self_sufficient",  # no assistance in the ``window`` months ending at m + horizon (0/1)
    "employed_at_horizon",  # employed in m + horizon (0/1, <NA> if unknown)
    "studying_at_horizon",  # studying in m + horizon (0/1, <NA> if unknown)
    "months_on_assistance",  # months with assistance in m + 1 .. m + horizon (0 .. horizon)
)


def covariate_columns(sample: pd.DataFrame) -> list[str]:
    """The design's covariates present in ``sample`` and not constant there (usable in a model)."""
    return [c for c in COVARIATES if c in sample.columns and sample[c].nunique(dropna=False) > 1]


def _rectangular(panel: pd.DataFrame) -> tuple[int, int] | None:
    """(persons, months) when ``panel`` is laid out as ``build_person_month_panel`` writes it (categorical
    person_id whose codes are 0,0,..,1,1,.. with every category used, and the same strictly increasing months
    for every person), so its columns reshape to (person x month) matrices without a scatter; else None."""
    person, month = panel["person_id"], panel["month"].to_numpy()
    if not isinstance(person.dtype, pd.CategoricalDtype) or len(panel) == 0:
        return None
    n_p = len(person.cat.categories)
    n_m, rest = divmod(len(panel), n_p)
    if rest or n_m == 0:
        return None
    grid = month.reshape(n_p, n_m)
    codes = person.cat.codes.to_numpy().reshape(n_p, n_m)
    if (n_m > 1 and not (grid[0, 1:] > grid[0, :-1]).all()) or pd.isna(grid[0]).any():
        return None
    if not ((grid == grid[0]).all() and (codes == np.arange(n_p, dtype=codes.dtype)[:, None]).all()):
        return None
    return n_p, n_m


def _grid(panel: pd.DataFrame) -> tuple[np.ndarray | None, np.ndarray | None, pd.Index, pd.DatetimeIndex]:
    """Person code and month index of each panel row (None, None for a panel laid out person-major as
    ``build_person_month_panel`` writes it: its columns reshape), the person ids and the months."""
    shape = _rectangular(panel)
    if shape is not None:
        n_p, n_m = shape
        months = pd.DatetimeIndex(panel["month"].to_numpy()[:n_m])
        expected = pd.period_range(months[0].to_period("M"), months[-1].to_period("M"), freq="M")
        if len(expected) != len(months):
            raise ValueError("panel: months are not consecutive; build it with build_person_month_panel")
        return None, None, pd.Index(panel["person_id"].cat.categories), months
    if isinstance(panel["person_id"].dtype, pd.CategoricalDtype):
        p_codes = panel["person_id"].cat.codes.to_numpy().astype(np.int64)
        ids = pd.Index(panel["person_id"].cat.categories)
        used = np.bincount(p_codes, minlength=len(ids)) > 0
        if not used.all():  # drop unused categories so the grid stays rectangular
            remap = np.cumsum(used) - 1
            p_codes, ids = remap[p_codes], ids[used]
    else:
        p_codes, ids = pd.factorize(panel["person_id"])
        p_codes = p_codes.astype(np.int64)
    m_codes, months = pd.factorize(panel["month"], sort=True)
    months = pd.DatetimeIndex(months)
    expected = pd.period_range(months[0].to_period("M"), months[-1].to_period("M"), freq="M")
    if len(expected) != len(months):
        raise ValueError("panel: months are not consecutive; build it with build_person_month_panel")
    cells = np.bincount(p_codes * len(months) + m_codes, minlength=len(ids) * len(months))
    if len(panel) != len(ids) * len(months) or cells.max(initial=0) > 1:
        raise ValueError(
            f"panel: expected exactly one row per person and month ({len(ids)} x {len(months)}), got {len(panel)} rows"
        )
    return p_codes.astype(np.int32), m_codes.astype(np.int32), ids, months


def _matrix(
    values: np.ndarray, p_codes: np.ndarray | None, m_codes: np.ndarray | None, shape: tuple[int, int], dtype: type
) -> np.ndarray:
    if p_codes is None:  # person-major rectangular panel: a view
        return values.astype(dtype, copy=False).reshape(shape)
    out = np.zeros(shape, dtype=dtype)
    out[p_codes, m_codes] = values
    return out


def _flags(column: pd.Series) -> np.ndarray:
    """A 0/1 column with missing values as int8: 0/1, and -1 where missing."""
    if pd.api.types.is_integer_dtype(column.dtype):
        return column.to_numpy(dtype=np.int8, na_value=-1)
    return np.nan_to_num(column.to_numpy(dtype=float, na_value=np.nan), nan=-1.0).astype(np.int8)


def _window_sum(cum: np.ndarray, rows: np.ndarray, end: np.ndarray, length: int) -> np.ndarray:
    """Sum over months ``end-length .. end-1`` (clipped at 0) from a cumulative array with a 0 column."""
    return cum[rows, end] - cum[rows, np.maximum(end - length, 0)]


def first_starts(spells: pd.DataFrame, intervention_id: str) -> pd.Series:
    """First start date of ``intervention_id`` per person_id (Series indexed by person_id)."""
    own = spells.loc[spells["intervention_id"] == intervention_id, ["person_id", "start_date"]]
    return own.groupby("person_id", observed=True)["start_date"].min()


def sequential_matching_sample(
    panel: pd.DataFrame,
    spells: pd.DataFrame,
    intervention_id: str,
    horizon: int = 12,
    window: int = 3,
    *,
    min_history: int = 0,
) -> pd.DataFrame:
    """Stacked month-by-month treated/control sample for ``intervention_id``.

    ``panel``: output of ``build_person_month_panel`` (rectangular person x month). ``spells``: canonical,
    pseudonymised (person_id, intervention_id, start_date); a person's FIRST start of the intervention
    counts; spells of persons not in the panel are ignored; persons who started before the panel's first
    month are never treated nor controls.

    For each month index ``m`` with ``min_history <= m`` and ``m + horizon`` inside the panel:
    treated = persons whose first start is in ``m`` and who are on assistance in ``m - 1`` or ``m``;
    controls = persons on assistance in ``m`` who have not started by ``m`` (a person can be a control in
    several months, and a control in months before his own start). ``later_starter`` = control who starts
    within ``m + 1 .. m + horizon`` (the outcome may be affected; reported, not excluded).

    Columns: person_id (categorical), month (datetime64), treated (int8), later_starter (int8), the
    ``COVARIATES``
    (small ints; history counts are left-censored at the panel start: use ``min_history`` to require
    that many months of history), and outcomes: ``self_sufficient`` (int8: no assistance in months
    ``m + horizon - window + 1 .. m + horizon``), ``employed_at_horizon`` and ``studying_at_horizon``
    (Int8, <NA> if unknown), ``months_on_assistance`` (int16: months with assistance in ``m + 1 .. m + horizon``).
    Rows sorted by month then person; RangeIndex (row labels used by matched
    pairs). Missing education / household type count as the reference category.
    """
    if horizon < 1 or window < 1 or window > horizon:
        raise ValueError(f"need 1 <= window <= horizon, got horizon={horizon}, window={window}")
    p_codes, m_codes, ids, months = _grid(panel)
    n_p, n_m = len(ids), len(months)
    shape = (n_p, n_m)

    on = _matrix(panel["on_assistance"].to_numpy(dtype=np.int8), p_codes, m_codes, shape, np.int8)
    emp_h = _matrix(_flags(panel["employed"]), p_codes, m_codes, shape, np.int8)  # -1 where unknown
    stu_h = _matrix(_flags(panel["studying"]), p_codes, m_codes, shape, np.int8)
    employed = np.maximum(emp_h, 0)  # unknown counts as not employed in the history
    zeros = np.zeros((n_p, 1), dtype=np.int16)
    cum_on = np.hstack([zeros, np.cumsum(on, axis=1, dtype=np.int16)])
    cum_emp = np.hstack([zeros, np.cumsum(employed, axis=1, dtype=np.int16)])
    run = np.zeros(shape, dtype=np.int16)  # consecutive months on assistance ending at t
    run[:, 0] = on[:, 0]
    for t in range(1, n_m):  # loop over months (vectorised over persons)
        run[:, t] = (run[:, t - 1] + 1) * on[:, t]

    # First start month index per person; NEVER if no start (or a start after the panel).
    never = np.iinfo(np.int64).max // 4
    start = np.full(n_p, never, dtype=np.int64)
    firsts = first_starts(spells, intervention_id)
    if len(firsts):
        codes = pd.Index(ids).get_indexer(firsts.index.astype(str))
        known = codes >= 0
        first_m = months[0].year * 12 + months[0].month - 1
        dates = pd.DatetimeIndex(firsts.to_numpy()[known])
        start[codes[known]] = dates.year * 12 + dates.month - 1 - first_m

    valid = np.arange(n_m)
    valid = valid[(valid >= min_history) & (valid + horizon <= n_m - 1)]
    if valid.size == 0:
        raise ValueError(f"panel has {n_m} months: no month with {horizon} months of follow-up")
    on_v = on[:, valid].astype(bool)
    on_prev = np.zeros_like(on_v)
    has_prev = valid > 0
    on_prev[:, has_prev] = on[:, valid[has_prev] - 1].astype(bool)
    treated_mask = (start[:, None] == valid[None, :]) & (on_v | on_prev)
    control_mask = on_v & (start[:, None] > valid[None, :])
    # Month-major order: nonzero over the transposed mask.
    vi, rows = np.nonzero((treated_mask | control_mask).T)
    m = valid[vi]
    treated = treated_mask[rows, vi]
    later = ~treated & (start[rows] <= m + horizon)

    # Person-level covariates from each person's first panel row.
    if p_codes is None:
        first_row = np.arange(n_p, dtype=np.int64) * n_m
    else:
        first_row = np.zeros(n_p, dtype=np.int64)
        first_row[p_codes[m_codes == 0]] = np.flatnonzero(m_codes == 0)
    person = panel.iloc[first_row]

    def person_col(name: str, fill: float) -> np.ndarray:
        return person[name].to_numpy(dtype=float, na_value=fill)[rows]

    if person["birth_year"].isna().any():
        raise ValueError("panel: birth_year is missing for some persons; age cannot be computed")
    education = person_col("education", 1)
    household = person_col("household_type", 1)
    municipality = person["municipality"].astype(str).to_numpy()[rows]
    month_dates = months[m]
    h_end = m + horizon

    sample = pd.DataFrame(
        {
            "person_id": pd.Categorical.from_codes(rows, categories=ids),
            "month": month_dates.to_numpy(),
            "treated": treated.astype(np.int8),
            "later_starter": later.astype(np.int8),
            "asst_months_12": _window_sum(cum_on, rows, m, 12),
            "asst_months_24": _window_sum(cum_on, rows, m, 24),
            "asst_months_36": _window_sum(cum_on, rows, m, 36),
            "asst_spell_elapsed": np.where(m > 0, run[rows, np.maximum(m - 1, 0)], 0).astype(np.int16),
            "employed_months_12": _window_sum(cum_emp, rows, m, 12),
            "age": (month_dates.year.to_numpy() - person_col("birth_year", np.nan)).astype(np.int16),
            "female": (person_col("sex", 0) == 2).astype(np.int8),
            "born_abroad": (person_col("born_abroad", 0) == 1).astype(np.int8),
            "education_2": (education == 2).astype(np.int8),
            "education_3": (education == 3).astype(np.int8),
            "household_type_2": (household == 2).astype(np.int8),
            "household_type_3": (household == 3).astype(np.int8),
            "household_type_4": (household == 4).astype(np.int8),
            "municipality_eskilstuna": (municipality == ESKILSTUNA).astype(np.int8),
            "self_sufficient": (_window_sum(cum_on, rows, h_end + 1, window) == 0).astype(np.int8),
            "employed_at_horizon": pd.array(emp_h[rows, h_end], dtype="Int8"),
            "studying_at_horizon": pd.array(stu_h[rows, h_end], dtype="Int8"),
            "months_on_assistance": _window_sum(cum_on, rows, h_end + 1, horizon),
        }
    )
    for col in ("employed_at_horizon", "studying_at_horizon"):
        sample[col] = sample[col].mask(sample[col] < 0)
    return sample
