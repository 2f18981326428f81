"""Shared fixtures: workspaces that run the real CLI, as a user would, on the demo data."""

from __future__ import annotations

import subprocess

import pytest

from tests.helpers.workspace import ROOT, Workspace, clean_env, make_workspace  # noqa: F401 - fixtures use them


@pytest.fixture(scope="session")
def chain(tmp_path_factory: pytest.TempPathFactory) -> tuple[Workspace, subprocess.CompletedProcess[str]]:
    """The README's main job: `insats demo` (writes the demo inputs, runs the whole chain)."""
    ws = make_workspace(tmp_path_factory.mktemp("chain"), "project")
    return ws, ws.cli("demo")
