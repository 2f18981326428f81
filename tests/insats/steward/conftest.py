"""Seeded demo register extracts shared by the steward tests (module-scoped: built once per test module)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from insats.demo.register import make_register, write_register


@pytest.fixture(scope="module")
def frames() -> dict[str, pd.DataFrame]:
    frames, _ = make_register(seed=11, n_persons=200)
    return frames


@pytest.fixture(scope="module")
def sav_files(frames, tmp_path_factory) -> dict[str, Path]:
    return write_register(frames, tmp_path_factory.mktemp("raw") / "register")
