"""Custom great-expectations (GX Core 1.x) expectations for Swedish register data.

Importing this module registers them with GX, so suites stored in ``schemas/`` can name them by type.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from great_expectations.core.suite_parameters import SuiteParameterDict
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics import ColumnMapMetricProvider, column_condition_partial

from insats.tasks.register.pseudonymise import normalise_identity_numbers


class ColumnValuesValidIdentityNumber(ColumnMapMetricProvider):
    """True where a value is a valid personnummer/samordningsnummer (date part and Luhn check digit)."""

    condition_metric_name = "column_values.valid_swedish_identity_number"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs: Any) -> pd.Series:
        # A register repeats each person many times (one row per month): check each distinct value once, and
        # broadcast by the factorised codes (one hash pass over the rows).
        codes, distinct = pd.factorize(column.astype(str))
        valid = np.array([n is not None for n in normalise_identity_numbers(list(distinct))] + [False], dtype=bool)
        return pd.Series(valid[codes], index=column.index)


class ExpectColumnValuesToBeValidSwedishIdentityNumbers(ColumnMapExpectation):
    """Expect personnummer or samordningsnummer (day + 60): 10 or 12 digits with optional ``-``/``+``, a real
    date and a valid Luhn check digit. Samples in reports are masked by insats, never shown in clear."""

    map_metric = "column_values.valid_swedish_identity_number"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)
    library_metadata: ClassVar[dict[str, Any]] = {"tags": ["sweden", "identity"], "contributors": ["insats"]}


class ColumnValuesOncePerMonth(ColumnMapMetricProvider):
    """True where the row's value (a person) occurs at least ``months`` times in the column."""

    condition_metric_name = "column_values.occur_every_month"
    condition_value_keys = ("months",)

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, months: int, **kwargs: Any) -> pd.Series:
        codes, _ = pd.factorize(column)  # missing values (never passed here by GX) would get code -1: False
        counts = np.append(np.bincount(codes[codes >= 0]), 0)
        return pd.Series(counts[codes] >= int(months), index=column.index)


class ExpectColumnValuesToOccurInEveryMonthOfThePeriod(ColumnMapExpectation):
    """Expect each person to have rows for every month of the extract's stated period (``months`` of them).

    Together with person-months being unique and every month lying inside the period (the suite's other
    expectations) this means each person's months are continuous, as a monthly outcome register promises.
    The rows of a person with fewer rows (a gap) are the unexpected ones, so the steward's quarantine names
    them; a duplicated month is left to the uniqueness expectation.
    """

    months: int | SuiteParameterDict
    map_metric = "column_values.occur_every_month"
    success_keys: ClassVar[tuple[str, ...]] = ("months", "mostly")
    library_metadata: ClassVar[dict[str, Any]] = {"tags": ["sweden", "register"], "contributors": ["insats"]}
