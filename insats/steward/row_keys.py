"""Compact int64 keys for every row of a register extract, 8 bytes a row, and the whole-table checks made on
them: duplicated persons or person-months, and persons with too few months (see :mod:`insats.steward.chunked`)."""

from __future__ import annotations

import zlib

import numpy as np
import pandas as pd

_MONTH_BITS = 12  # months since 1900 fit in 12 bits; a 12-digit personnummer in 38
_INVALID_BASE = 1 << 39  # keys of invalid identity numbers (a hash) lie above every valid one


def _person_keys(ids: pd.Series, first: int) -> np.ndarray:
    """int64 key per identity number: the 12 digits of a valid (normalised) one, else a 32-bit hash above them;
    a missing one gets a key of its own below zero (-(row + 1); ``first``: the first row's number), as GX
    skips missing values in uniqueness checks."""
    codes, uniques = pd.factorize(ids, use_na_sentinel=True)  # persons repeat (60 months each): parse each once
    text = pd.Series(uniques, dtype=object).astype("string")
    digits = text.str.fullmatch(r"\d{12}").fillna(False).to_numpy(dtype=bool)
    unique_keys = np.zeros(len(text), dtype=np.int64)
    if digits.any():
        unique_keys[digits] = pd.to_numeric(text[digits]).to_numpy(dtype=np.int64)
    for i in np.flatnonzero(~digits):
        unique_keys[i] = _INVALID_BASE + zlib.crc32(str(text.iloc[i]).encode("utf-8"))
    keys = unique_keys[codes] if len(text) else np.zeros(len(codes), dtype=np.int64)
    missing = np.flatnonzero(codes < 0)
    keys[missing] = -(missing + first + 1)
    return keys


def _pseudonym_keys(ids: pd.Series, first: int) -> np.ndarray:
    """int64 key per pseudonym (a pseudonymised table's ``person_id``): its code among the column's distinct
    values, so call it on the whole column (codes of separate chunks would not agree); a missing one gets
    -(row + 1), as in ``_person_keys``."""
    codes, _ = pd.factorize(ids, use_na_sentinel=True)
    keys = codes.astype(np.int64, copy=False)
    missing = np.flatnonzero(keys < 0)
    keys[missing] = -(missing + first + 1)
    return keys


def row_keys(frame: pd.DataFrame, first: int) -> np.ndarray:
    """Person key, or person-month key (person << 12 | months since 1900) when the frame has a month. The person
    is ``personnummer`` (clear), else ``person_id`` (pseudonymised: keys valid within one call)."""
    if "personnummer" in frame.columns:
        person = _person_keys(frame["personnummer"], first)
    else:
        person = _pseudonym_keys(frame["person_id"], first)
    if "month" not in frame.columns:
        return person
    month = frame["month"]
    index = ((month.dt.year - 1900) * 12 + month.dt.month - 1).fillna(0).to_numpy(dtype=np.int64)
    return (person << _MONTH_BITS) | index


def duplicated_keys(keys: np.ndarray) -> np.ndarray:
    """Bool per key: the key occurs more than once (a sorted copy, then a membership test in blocks)."""
    ordered = np.sort(keys)
    repeated = np.unique(ordered[1:][ordered[1:] == ordered[:-1]])
    del ordered
    return _member(keys, repeated, shift=0)


def _member(keys: np.ndarray, values: np.ndarray, shift: int, block: int = 1 << 24) -> np.ndarray:
    out = np.zeros(keys.size, dtype=bool)
    if values.size:
        for start in range(0, keys.size, block):
            out[start : start + block] = np.isin(keys[start : start + block] >> shift, values)
    return out


def too_few_months(keys: np.ndarray, months: int) -> np.ndarray:
    """Bool per person-month key: its person has fewer than ``months`` rows."""
    persons = np.sort(keys)
    np.right_shift(persons, _MONTH_BITS, out=persons)  # in place: one copy of the keys, not two
    uniques, counts = np.unique(persons, return_counts=True)
    del persons
    return _member(keys, uniques[(counts < int(months)) & (uniques >= 0)], shift=_MONTH_BITS)
