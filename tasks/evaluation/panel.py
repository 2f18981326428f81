"""Person-month panel from the pseudonymised register tables.

The panel is rectangular: every person in ``persons`` times every month from ``first_month`` to
``last_month``, sorted by person then month. It is built with array arithmetic (person code x month index),
never with per-person Python loops, so a national extract (500k persons x 60 months = 30M rows) fits:
person_id is categorical (4-byte codes), flags are int8. Ids become int32 codes and dates int32 month
offsets without a Python object per row (:mod:`insats.tasks.evaluation.columnar`, polars).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats.tasks.evaluation.columnar import month_offsets, person_codes

PERSON_COVARIATES = ("sex", "birth_year", "born_abroad", "education", "household_type", "municipality")
PANEL_COLUMNS = (
    "person_id",
    "month",
    "on_assistance",
    "amount",
    "employed",
    "studying",
    *PERSON_COVARIATES,
)


def _person_codes(ids: pd.Series, categories: pd.Index, table: str) -> np.ndarray:
    codes = person_codes(ids, categories)
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
    a_p = _person_codes(assistance["person_id"], ids, "assistance")
    a_m = month_offsets(assistance["month"], first)
    keep = (a_m >= 0) & (a_m < n_months)
    flat = a_p[keep].astype(np.int64) * n_months + a_m[keep]
    amounts = assistance["amount"].to_numpy(dtype=float, na_value=0.0)[keep]
    amount = np.bincount(flat, weights=amounts, minlength=size)
    on = np.bincount(flat, minlength=size) > 0

    # Outcomes: the last row wins for duplicates (the input suite rejects them anyway).
    o_p = _person_codes(outcomes["person_id"], ids, "outcomes")
    o_m = month_offsets(outcomes["month"], first)
    keep = (o_m >= 0) & (o_m < n_months)
    flat = o_p[keep].astype(np.int64) * n_months + o_m[keep]
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
    for col in PERSON_COVARIATES:
        s = persons[col].reset_index(drop=True)
        if not pd.api.types.is_numeric_dtype(s):
            s = s.astype("category")  # municipality: 30M strings would cost ~1 GB
        else:  # small nullable ints: 3 bytes a row instead of 9
            s = s.astype("Int16" if col == "birth_year" else "Int8")
        panel[col] = pd.Series(s.array.repeat(n_months))  # each person's value on each of his months
    return panel
