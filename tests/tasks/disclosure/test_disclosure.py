"""Disclosure control: small person counts and what is derived from them are suppressed; zeros are kept."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from insats.tasks.disclosure import (
    assert_no_small_counts,
    disclosure_rule_text,
    suppress_small_counts,
)


@pytest.fixture()
def table() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "group": ["a", "b", "c", "d", "e", "f"],
            "n": [0, 1, 4, 5, 120, np.nan],
            "n_other": [10, 10, 10, 2, 10, 10],
            "share": [0.0, 0.1, 0.4, 0.5, 0.6, 0.7],
            "mean_age": [30.0, 31.0, 32.0, 33.0, 34.0, 35.0],
            "label": ["x", "y", "z", "w", "v", "u"],
        }
    )


def test_small_counts_suppressed_zeros_kept(table: pd.DataFrame) -> None:
    out = suppress_small_counts(table, ["n"], threshold=5)
    assert out["n"].dtype == "Int64"
    assert out["n"].isna().tolist() == [False, True, True, False, False, True]
    assert out.loc[0, "n"] == 0  # zero is not disclosive
    assert out.loc[3, "n"] == 5  # the threshold itself is shown
    assert out.loc[4, "n"] == 120
    assert out["suppressed"].tolist() == [False, True, True, False, False, False]
    assert out.attrs["disclosure"]["n_suppressed_cells"] == 2
    # The input is untouched.
    assert table.loc[1, "n"] == 1


def test_derived_columns_suppressed_on_the_same_rows(table: pd.DataFrame) -> None:
    out = suppress_small_counts(
        table, ["n", "n_other"], threshold=5, derived_columns={"n": ["share", "mean_age", "label"]}
    )
    assert out["share"].isna().tolist() == [False, True, True, False, False, False]
    assert out["mean_age"].isna().tolist() == [False, True, True, False, False, False]
    assert out["label"].isna().tolist() == [False, True, True, False, False, False]
    assert out.loc[4, "share"] == pytest.approx(0.6)
    # n_other=2 on row 3 is suppressed, but it has no derived columns: share on row 3 stays.
    assert pd.isna(out.loc[3, "n_other"]) and out.loc[3, "share"] == pytest.approx(0.5)
    assert out["suppressed"].tolist() == [False, True, True, True, False, False]


def test_threshold_is_a_parameter(table: pd.DataFrame) -> None:
    out = suppress_small_counts(table, ["n"], threshold=10)
    assert out["n"].isna().tolist() == [False, True, True, True, False, True]


def test_suppressed_flag_accumulates(table: pd.DataFrame) -> None:
    once = suppress_small_counts(table, ["n"])
    twice = suppress_small_counts(once, ["n_other"])
    assert twice["suppressed"].tolist() == [False, True, True, True, False, False]


def test_bad_input_rejected(table: pd.DataFrame) -> None:
    with pytest.raises(ValueError, match="n_missing"):
        suppress_small_counts(table, ["n_missing"])
    with pytest.raises(ValueError, match="not among count_columns"):
        suppress_small_counts(table, ["n"], derived_columns={"n_other": ["share"]})
    with pytest.raises(ValueError, match="count column 'label'"):
        suppress_small_counts(table, ["label"])
    neg = table.assign(n=[0, -1, 4, 5, 120, 3])
    with pytest.raises(ValueError, match="negative count"):
        suppress_small_counts(neg, ["n"])


def test_assert_no_small_counts(table: pd.DataFrame) -> None:
    with pytest.raises(ValueError) as err:
        assert_no_small_counts(table, ["n_other", "n"], threshold=5, table="effects")
    msg = str(err.value)
    assert "effects" in msg and "column 'n_other'" in msg and "row 3" in msg and "threshold 5" in msg
    assert_no_small_counts(suppress_small_counts(table, ["n", "n_other"]), ["n", "n_other"])


def test_rule_text() -> None:
    en, sv = disclosure_rule_text("en"), disclosure_rule_text("sv")
    assert "1 to 4" in en and '".."' in en
    assert "1 till 4" in sv and "Röjandekontroll" in sv
    assert "1 till 9" in disclosure_rule_text("sv", 10)
    with pytest.raises(ValueError, match="language"):
        disclosure_rule_text("de")


def test_protect_for_publication_tells_hidden_from_unknown(table: pd.DataFrame) -> None:
    """The one step before a table is shown: counts 1..T-1 hidden with what is derived from them, and a flag per
    count telling a hidden count (<T) from an unknown one (dash), also for counts hidden upstream."""
    from insats.tasks.disclosure import hidden_column, protect_for_publication

    out = protect_for_publication(table, 5, ["n", "n_absent"], {"n": ["share"], "n_absent": ["mean_age"]})
    assert out["n"].isna().tolist() == [False, True, True, False, False, True]
    assert out["share"].isna().tolist() == [False, True, True, False, False, False]
    # row 5 has an unknown count (NaN in the input, never flagged): not "hidden"
    assert out[hidden_column("n")].tolist() == [False, True, True, False, False, False]
    assert "mean_age" in out and not out["mean_age"].isna().any()  # derived from an absent count: untouched
    # published upstream at threshold 5, shown again at threshold 10: hidden upstream or here
    upstream = suppress_small_counts(table.assign(n=[0, 1, 4, 7, 120, np.nan]), ["n"], 5)
    again = protect_for_publication(upstream, 10, ["n"])
    assert again[hidden_column("n")].tolist() == [False, True, True, True, False, False]
    with pytest.raises(ValueError, match="candidates: count column 'label'"):
        protect_for_publication(table, 5, ["label"], table="candidates")
