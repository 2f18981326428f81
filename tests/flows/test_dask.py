"""Scale-out on an existing Dask cluster (a real scheduler and workers on loopback): the same results, and every
task run is recorded in the run's own Prefect API, not in temporary servers of the workers."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time

import pandas as pd
import pytest

from tests.helpers.workspace import clean_env, copy_published, make_workspace

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def cluster():
    port = _free_port()
    env = clean_env()  # the workers are not told the API: prefect-dask must hand it to them with each task
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_scheduler", "--host", "127.0.0.1", "--port", str(port),
         "--no-dashboard"], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    workers = subprocess.Popen(
        [sys.executable, "-m", "distributed.cli.dask_worker", f"tcp://127.0.0.1:{port}", "--nworkers", "2",
         "--nthreads", "1", "--no-dashboard", "--host", "127.0.0.1"], env=env, stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )  # fmt: skip
    time.sleep(3)
    try:
        yield f"tcp://127.0.0.1:{port}"
    finally:
        for proc in (workers, scheduler):
            proc.terminate()
            proc.wait(timeout=30)


def _task_runs(ws, study: str) -> int:
    """Task runs the workspace's own Prefect API holds for the newest run of ``study``."""
    record = json.loads((ws.root / ".prefect" / "insats-server.json").read_text(encoding="utf-8"))
    run = next(r for r in json.loads(ws.cli("history", "--format", "json").stdout) if r["study"] == study)
    code = (
        "import sys; from uuid import UUID; from prefect import get_client; "
        "from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId; "
        "c = get_client(sync_client=True).__enter__(); "
        f"print(len(c.read_task_runs(flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[UUID('{run['flow_run_id']}')])))))"
    )
    env = {**clean_env(), "PREFECT_API_URL": record["api_url"]}
    return int(subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True).stdout)


def test_external_cluster_gives_the_same_tables_and_reports_to_the_runs_api(chain, cluster, tmp_path_factory):
    main, _ = chain
    ws = make_workspace(tmp_path_factory.mktemp("dask"), "project", raw_from=main.raw)
    copy_published(main, ws)  # study 1 and the register stage as the main chain published them
    proc = ws.cli("run", "intervention-mapping", "--task-runner", "dask", "--dask-address", cluster)
    assert "Connecting to an existing Dask cluster" in proc.stdout + proc.stderr
    for table in ("candidates", "design", "alignment", "participants"):
        pd.testing.assert_frame_equal(
            pd.read_parquet(ws.processed / "intervention_mapping" / f"{table}.parquet"),
            pd.read_parquet(main.processed / "intervention_mapping" / f"{table}.parquet"),
        )
    nodes = _task_runs(ws, "intervention_mapping")
    assert nodes >= 10 and nodes == _task_runs(main, "intervention_mapping")


def test_cluster_that_cannot_reach_the_api_is_refused(chain, cluster, tmp_path_factory):
    main, _ = chain
    ws = make_workspace(tmp_path_factory.mktemp("dask_unreachable"), "project", raw_from=main.raw)
    copy_published(main, ws)
    proc = ws.cli(
        "run",
        "register",
        "--task-runner",
        "dask",
        "--dask-address",
        cluster,
        check=False,
        env={"PREFECT_API_URL": "http://127.0.0.1:9/api"},
    )  # fmt: skip - nothing listens on port 9
    assert proc.returncode != 0
    assert "cannot reach this run's Prefect API http://127.0.0.1:9/api" in proc.stderr
