"""The pandas implementations of the person-month panel and the sequential design as they were before the
columnar rewrite (commit 1a0e304), kept only as the reference the tests compare the new ones with."""

# ruff: noqa
from __future__ import annotations

import numpy as np
import pandas as pd

PERSON_COVARIATES = ("sex", "birth_year", "born_abroad", "education", "household_type", "municipality")
ESKILSTUNA = "0484"


def _month_index(months: pd.Series, first: pd.Period) -> np.ndarray:
    """Month offset of each date from ``first`` (0 = first month); NaT -> a large negative number."""
    values = pd.to_datetime(months).to_numpy().astype("datetime64[M]").astype(np.int64)
    first_m = (first.year - 1970) * 12 + first.month - 1
    out = values - first_m
    out[pd.isna(months).to_numpy()] = np.iinfo(np.int64).min // 2
    return out


def _person_codes(ids: pd.Series, categories: pd.Index, table: str) -> np.ndarray:
    codes = categories.get_indexer(ids).astype(np.int64)
    unknown = codes < 0
    if unknown.any():
        examples = ", ".join(map(str, pd.unique(ids[unknown])[:3]))
        raise ValueError(
            f"{table}: {int(unknown.sum())} row(s) for person_id(s) not in persons (e.g. {examples}); "
            "every person in a register table must be in the persons table"
        )
    return codes


def build_person_month_panel(
    persons: pd.DataFrame,
    assistance: pd.DataFrame,
    outcomes: pd.DataFrame,
    first_month: str,
    last_month: str,
) -> pd.DataFrame:
    """One row per person and calendar month, ``first_month`` .. ``last_month`` inclusive (``YYYY-MM``).

    Inputs are canonical, pseudonymised tables (``person_id`` instead of personnummer):
    ``persons`` (person_id unique + covariates), ``assistance`` (person_id, month, amount; only months with
    a payment, several payments per month are summed), ``outcomes`` (person_id, month, employed, studying).
    Rows outside the period are ignored; a person in assistance/outcomes missing from persons raises
    ``ValueError``.

    Columns: person_id (categorical, categories = persons' ids in their order), month (datetime64 first of
    month), on_assistance (int8 0/1: any payment that month), amount (float SEK, 0 without payment),
    employed and studying (Int8 0/1, <NA> where the outcomes table has no row for that person-month),
    then the person covariates sex, born_abroad, education, household_type (Int8), birth_year (Int16),
    municipality (categorical).
    Sorted by person (in persons' order) then month; RangeIndex.
    """
    first, last = pd.Period(first_month, freq="M"), pd.Period(last_month, freq="M")
    n_months = (last - first).n + 1
    if n_months < 1:
        raise ValueError(f"last_month {last_month} is before first_month {first_month}")
    if persons["person_id"].duplicated().any():
        raise ValueError("persons: person_id is not unique")
    missing_cov = [c for c in PERSON_COVARIATES if c not in persons.columns]
    if missing_cov:
        raise ValueError(f"persons lacks covariate column(s): {', '.join(missing_cov)}")
    ids = pd.Index(persons["person_id"].astype(str), dtype=object)
    n_persons = len(ids)
    size = n_persons * n_months

    # Assistance: flat index person * n_months + month, amounts summed with bincount.
    a_p = _person_codes(assistance["person_id"].astype(str), ids, "assistance")
    a_m = _month_index(assistance["month"], first)
    keep = (a_m >= 0) & (a_m < n_months)
    flat = a_p[keep] * n_months + a_m[keep]
    amounts = assistance["amount"].to_numpy(dtype=float, na_value=0.0)[keep]
    amount = np.bincount(flat, weights=amounts, minlength=size)
    on = np.bincount(flat, minlength=size) > 0

    # Outcomes: the last row wins for duplicates (the input suite rejects them anyway).
    o_p = _person_codes(outcomes["person_id"].astype(str), ids, "outcomes")
    o_m = _month_index(outcomes["month"], first)
    keep = (o_m >= 0) & (o_m < n_months)
    flat = o_p[keep] * n_months + o_m[keep]
    outcome_cols = {}
    for name in ("employed", "studying"):
        values = np.full(size, -1, dtype=np.int8)
        src = outcomes[name].to_numpy(dtype=float, na_value=np.nan)[keep]
        values[flat] = np.where(np.isnan(src), -1, src).astype(np.int8)
        outcome_cols[name] = pd.arrays.IntegerArray(np.maximum(values, 0), values < 0)

    months = pd.period_range(first, periods=n_months, freq="M").to_timestamp().astype("datetime64[ns]")
    panel = pd.DataFrame(
        {
            "person_id": pd.Categorical.from_codes(
                np.repeat(np.arange(n_persons, dtype=np.int32), n_months), categories=ids
            ),
            "month": np.tile(months.to_numpy(), n_persons),
            "on_assistance": on.astype(np.int8),
            "amount": amount,
            "employed": outcome_cols["employed"],
            "studying": outcome_cols["studying"],
        }
    )
    rows = np.repeat(np.arange(n_persons), n_months)
    for col in PERSON_COVARIATES:
        s = persons[col].reset_index(drop=True)
        if not pd.api.types.is_numeric_dtype(s):
            s = s.astype("category")  # municipality: 30M strings would cost ~1 GB
        else:  # small nullable ints: 3 bytes a row instead of 9
            s = s.astype("Int16" if col == "birth_year" else "Int8")
        panel[col] = s.iloc[rows].reset_index(drop=True)
    return panel


def _grid(panel: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, pd.Index, pd.DatetimeIndex]:
    """Person code and month index of each panel row, the person ids and the months."""
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
    return p_codes, m_codes.astype(np.int64), ids, months


def _matrix(
    values: np.ndarray, p_codes: np.ndarray, m_codes: np.ndarray, shape: tuple[int, int], dtype: type
) -> np.ndarray:
    out = np.zeros(shape, dtype=dtype)
    out[p_codes, m_codes] = values
    return out


def _window_sum(cum: np.ndarray, rows: np.ndarray, end: np.ndarray, length: int) -> np.ndarray:
    """Sum over months ``end-length .. end-1`` (clipped at 0) from a cumulative array with a 0 column."""
    return cum[rows, end] - cum[rows, np.maximum(end - length, 0)]


def _first_starts(spells: pd.DataFrame, intervention_id: str) -> pd.Series:
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
    employed_raw = panel["employed"].to_numpy(dtype=float, na_value=np.nan)
    studying_raw = panel["studying"].to_numpy(dtype=float, na_value=np.nan)
    employed = _matrix(np.nan_to_num(employed_raw, nan=0.0).astype(np.int8), p_codes, m_codes, shape, np.int8)
    emp_h = _matrix(np.nan_to_num(employed_raw, nan=-1.0).astype(np.int8), p_codes, m_codes, shape, np.int8)
    stu_h = _matrix(np.nan_to_num(studying_raw, nan=-1.0).astype(np.int8), p_codes, m_codes, shape, np.int8)
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
    firsts = _first_starts(spells, intervention_id)
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
