"""How a node loads a DataFrame parameter from its Parquet file: an annotation a pure ``tasks/`` function can carry
without importing Prefect (``insats.flows.nodes`` reads it).

``Annotated[pd.DataFrame, Columns("person_id")]``: the node reads only these columns of the file (a 30M-row
extract's one id column, not the whole table). The function itself still takes an ordinary DataFrame, so a test or
a caller outside a flow may pass any frame holding those columns.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

import pandas as pd


@dataclass(frozen=True, init=False)
class Columns:
    """The columns a node loads for a DataFrame parameter (in this order)."""

    names: tuple[str, ...]

    def __init__(self, *names: str) -> None:
        if not names:
            raise ValueError("Columns(...) needs at least one column name")
        object.__setattr__(self, "names", tuple(names))


PersonIds = Annotated[pd.DataFrame, Columns("person_id")]  # a register table's person_id column only
