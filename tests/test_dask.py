"""The same chain on prefect-dask's DaskTaskRunner (a local cluster) gives the same estimates."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.helpers.workspace import make_workspace

pytestmark = pytest.mark.slow


def test_dask_task_runner_gives_the_same_estimates(chain, tmp_path_factory):
    main, _ = chain
    ws = make_workspace(tmp_path_factory.mktemp("dask"), "project", raw_from=main.raw)
    proc = ws.cli("run", "pipeline", "--task-runner", "dask")
    assert "Connecting to an existing Dask cluster" in proc.stdout + proc.stderr  # the steps ran on Dask workers
    ours = pd.read_parquet(ws.processed / "outcome_evaluation" / "effects.parquet")
    theirs = pd.read_parquet(main.processed / "outcome_evaluation" / "effects.parquet")
    pd.testing.assert_frame_equal(ours, theirs)
    for table in ("employer_interviews/demand_profile", "intervention_mapping/candidates"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(ws.processed / f"{table}.parquet"),
            pd.read_parquet(main.processed / f"{table}.parquet"),
        )
