"""A small register extract with three persons, shared by the register-ingestion tests."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.helpers.register_ids import PNR_1, PNR_2, PNR_3


@pytest.fixture()
def frame() -> pd.DataFrame:
    return pd.DataFrame(
        {
            "personnummer": [PNR_1, PNR_2, PNR_3],
            "kon": [1, 2, 2],
            "kommunkod": ["0484", "0482", "0484"],
            "ort": ["Eskilstuna", "Västerås", "Torshälla"],
            "belopp": [1234.5, 800.25, 10000.0],
        }
    )
