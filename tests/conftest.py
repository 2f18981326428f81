"""Shared fixtures: workspaces that run the real CLI, as a user would, on the demo data."""

from __future__ import annotations

import subprocess

import pytest

from tests.helpers.workspace import ROOT, Workspace, clean_env, make_workspace  # noqa: F401 - fixtures use them


@pytest.fixture(scope="session", autouse=True)
def _stop_workspace_servers(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN202
    """At the end of the session, stop the local Prefect server each workspace's commands started (one per
    workspace PREFECT_HOME, <tmp>/<name>/.prefect by configs/demo.yaml), so no test leaves one running."""
    yield
    from insats.local_server import RECORD, stop_server

    base = tmp_path_factory.getbasetemp()
    for record in [*base.glob(f"*/.prefect/{RECORD}"), *base.glob(f"*/*/.prefect/{RECORD}")]:
        stop_server(record.parent)


@pytest.fixture(scope="session")
def chain(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, subprocess.CompletedProcess[str]]:
    """The README's main job: `insats demo` (writes the demo inputs, runs the whole chain)."""
    ws = make_workspace(tmp_path_factory.mktemp("chain"), "project")
    return ws, ws.cli("demo")


@pytest.fixture(scope="session")
def prefect_harness(tmp_path_factory: pytest.TempPathFactory):
    """One temporary Prefect API (SQLite) for every test that runs a flow in this process."""
    import os

    from prefect.testing.utilities import prefect_test_harness

    os.environ.setdefault("PREFECT_HOME", str(tmp_path_factory.mktemp("prefect_home")))
    with prefect_test_harness(server_startup_timeout=120):
        yield


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that change the session chain's inputs run after every test that reads it (stable order)."""
    items.sort(key=lambda item: item.get_closest_marker("mutates_chain") is not None)
