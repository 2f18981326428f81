"""Custom great-expectations (GX Core 1.x) expectations for Swedish register data.

Importing this module registers them with GX, so suites stored in ``schemas/`` can name them by type.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pandas as pd
from great_expectations.execution_engine import PandasExecutionEngine
from great_expectations.expectations.expectation import ColumnMapExpectation
from great_expectations.expectations.metrics import ColumnMapMetricProvider, column_condition_partial

from tasks.identity import is_identity_number


class ColumnValuesValidIdentityNumber(ColumnMapMetricProvider):
    """True where a value is a valid personnummer/samordningsnummer (date part and Luhn check digit)."""

    condition_metric_name = "column_values.valid_swedish_identity_number"

    @column_condition_partial(engine=PandasExecutionEngine)
    def _pandas(cls, column: pd.Series, **kwargs: Any) -> pd.Series:
        # A register repeats each person many times (one row per month): check each distinct value once.
        text = column.astype(str)
        distinct = pd.unique(text)
        valid = {value for value in distinct if is_identity_number(value)}
        return text.isin(valid)


class ExpectColumnValuesToBeValidSwedishIdentityNumbers(ColumnMapExpectation):
    """Expect personnummer or samordningsnummer (day + 60): 10 or 12 digits with optional ``-``/``+``, a real
    date and a valid Luhn check digit. Samples in reports are masked by insats, never shown in clear."""

    map_metric = "column_values.valid_swedish_identity_number"
    success_keys: ClassVar[tuple[str, ...]] = ("mostly",)
    library_metadata: ClassVar[dict[str, Any]] = {"tags": ["sweden", "identity"], "contributors": ["insats"]}
