"""Shared server mode: a real `prefect server` on loopback, a study run against it, the history read back over
HTTP, and the deployments of prefect.yaml served by `insats serve` and triggered through the API."""

from __future__ import annotations

import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request

import pytest

from insats.demo import write_demo_data
from insats.studies import STUDIES
from tests.helpers.workspace import clean_env, make_workspace

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _api(url: str, path: str, body: dict | None = None) -> object:
    """One API call, retried on 429/502/503 as Prefect's own client does: a SQLite-backed server answers 503
    while another writer (here `insats serve` registering deployments) holds the database."""
    request = urllib.request.Request(
        url + path,
        data=json.dumps(body).encode() if body is not None else None,
        headers={"Content-Type": "application/json"},
        method="POST" if body is not None else "GET",
    )
    for attempt in range(6):
        try:
            with urllib.request.urlopen(request, timeout=30) as response:  # loopback only
                return json.loads(response.read())
        except urllib.error.HTTPError as error:
            if error.code not in (429, 502, 503) or attempt == 5:
                raise
            time.sleep(2**attempt)
    raise AssertionError("unreachable")


def _wait(check, timeout: float, what: str):  # noqa: ANN001, ANN202
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            value = check()
        except OSError:
            value = None
        if value:
            return value
        time.sleep(1)
    raise AssertionError(f"timed out waiting for {what}")


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    home = tmp_path_factory.mktemp("prefect-server-home")
    port = _free_port()
    env = {
        **clean_env(),
        "PREFECT_HOME": str(home),
        "PREFECT_SERVER_API_HOST": "127.0.0.1",
        "PREFECT_SERVER_API_PORT": str(port),
        "PREFECT_SERVER_ANALYTICS_ENABLED": "false",
        "PREFECT_SERVER_UI_ENABLED": "false",
        "DO_NOT_TRACK": "1",
    }
    log = (home / "server.log").open("w")
    proc = subprocess.Popen([sys.executable, "-m", "prefect", "server", "start"], env=env, stdout=log, stderr=log)
    url = f"http://127.0.0.1:{port}/api"
    try:
        _wait(lambda: _api(url, "/health") is True, 120, "prefect server to start")
        yield url
    finally:
        proc.terminate()
        proc.wait(timeout=30)
        log.close()


def _workspace(tmp_path_factory, name: str):  # noqa: ANN001, ANN202
    ws = make_workspace(tmp_path_factory.mktemp(name), "project")
    write_demo_data(ws.raw, seed=2026, persons=500)
    return ws


def test_a_study_runs_against_the_shared_server_and_its_history_is_read_over_http(server, tmp_path_factory):
    ws = _workspace(tmp_path_factory, "shared")
    proc = ws.cli("run", "employer-interviews", env={"PREFECT_API_URL": server})
    assert "Starting temporary server" not in proc.stdout + proc.stderr  # it used the shared one

    runs = _api(server, "/flow_runs/filter", {"sort": "START_TIME_DESC", "limit": 20})
    flows = {f["id"]: f["name"] for f in _api(server, "/flows/filter", {})}
    ours = [r for r in runs if flows.get(r["flow_id"]) == "employer-interviews"]
    assert ours and ours[0]["state"]["type"] == "COMPLETED"

    history = json.loads(ws.cli("history", "--format", "json", env={"PREFECT_API_URL": server}).stdout)
    assert any(r["study"] == "employer_interviews" and r["state"] == "Completed" for r in history)


def test_insats_serve_serves_the_deployments_of_prefect_yaml(server, tmp_path_factory):
    ws = _workspace(tmp_path_factory, "served")
    env = {**clean_env(), "PREFECT_API_URL": server}
    log_path = ws.root / "serve.log"
    with log_path.open("w") as log:
        serving = subprocess.Popen(
            [sys.executable, "-m", "insats", "serve", "--config", str(ws.config)],
            cwd=ws.root,
            env=env,
            stdout=log,
            stderr=log,
        )
        try:
            deployments = _wait(
                lambda: ds if len(ds := _api(server, "/deployments/filter", {})) >= len(STUDIES) + 1 else None,
                120,
                "the served deployments",
            )
            names = {d["name"] for d in deployments}
            assert {"employer-interviews", "intervention-mapping", "outcome-evaluation", "pipeline"} <= names
            target = next(d for d in deployments if d["name"] == "employer-interviews")
            assert target["parameters"]["config_path"] == str(ws.config.resolve())
            run = _api(server, f"/deployments/{target['id']}/create_flow_run", {})
            final = _wait(
                lambda: (
                    (state := _api(server, f"/flow_runs/{run['id']}")["state"]["type"])
                    in ("COMPLETED", "FAILED", "CRASHED")
                    and state
                ),
                240,
                "the triggered run to finish",
            )
            assert final == "COMPLETED", log_path.read_text(encoding="utf-8")[-3000:]
            assert (ws.processed / "employer_interviews" / "manifest.json").is_file()
        finally:
            serving.terminate()
            serving.wait(timeout=30)
