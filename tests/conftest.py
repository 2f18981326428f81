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
    from prefect.testing.utilities import prefect_test_harness

    # This process's own home (with pytest-xdist: this worker's), never the developer's PREFECT_HOME, which two
    # workers would share; restored when the session ends.
    with pytest.MonkeyPatch.context() as env:
        env.setenv("PREFECT_HOME", str(tmp_path_factory.mktemp("prefect_home")))
        with prefect_test_harness(server_startup_timeout=120):
            yield


# --- pytest-xdist (pyproject.toml addopts: -n auto --dist loadgroup --no-loadscope-reorder) ----------------------
# loadgroup hands all tests of one xdist_group to one worker as one unit, in collection order, and (without the
# reorder) the units to the workers in collection order, the next unit to whichever worker is nearly idle.

FAULTS = "flows/test_fault_injection"  # the 20-SIGKILL loop (two loops at once): ~300 s on its own


def _uses_session_chain(item: pytest.Item) -> bool:
    """Whether ``item`` uses the session ``chain`` above (a test module may define a ``chain`` of its own)."""
    info = getattr(item, "_fixtureinfo", None)
    defs = info.name2fixturedefs.get("chain", ()) if info is not None else ()
    return bool(defs) and defs[-1].scope == "session"


def _module(item: pytest.Item) -> str:
    """The group name of a test module: its path under tests/ without .py (xdist appends it to the node ids)."""
    return item.nodeid.split("::")[0].removeprefix("tests/").removesuffix(".py")


def _xdist_groups(items: list[pytest.Item]) -> dict[str, str]:
    """Each test's xdist_group (by node id). The one session `chain` (``insats demo``) is built once: its readers and
    the tests that change it share a worker; so do the modules that use the one Prefect test harness, and the tests
    of any other module (its module fixtures are built once)."""
    harness = {_module(item) for item in items if "prefect_harness" in item.fixturenames}
    groups = {}
    for item in items:
        if _uses_session_chain(item) or item.get_closest_marker("mutates_chain"):
            groups[item.nodeid] = "chain"
        else:
            groups[item.nodeid] = "prefect_harness" if _module(item) in harness else _module(item)
    return groups


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the xdist_group marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Tests that change the session chain's inputs run after every test that reads it (stable order).

    Under pytest-xdist (this is a worker) each test also gets its xdist_group, and the groups are ordered so that
    the longest start first, on different workers: the chain, the fault-injection loop, then every group with a
    slow test, then the rest (which fills in behind them)."""
    if not hasattr(config, "workerinput"):
        items.sort(key=lambda item: item.get_closest_marker("mutates_chain") is not None)
        return
    groups = _xdist_groups(items)
    slow = {groups[item.nodeid] for item in items if item.get_closest_marker("slow")}

    def rank(group: str) -> int:
        return 0 if group == "chain" else 1 if group == FAULTS else 2 if group in slow else 3

    for item in items:
        item.add_marker(pytest.mark.xdist_group(groups[item.nodeid]))
    items.sort(key=lambda item: (rank(groups[item.nodeid]), item.get_closest_marker("mutates_chain") is not None))


@pytest.hookimpl(tryfirst=True)  # before xdist's worker sends the node ids to the scheduler
def pytest_collection_finish(session: pytest.Session) -> None:
    """Under pytest-xdist, the ``@group`` suffix its loadgroup scheduler reads, where xdist did not add it: xdist
    3.8 sets ``item._nodeid``, which pytest 9.2 no longer reads (it keeps a structured ``item._id``), so without
    this every test would be a group of its own (the chain built on each worker, its changes not run last)."""
    if not hasattr(session.config, "workerinput") or not session.config.getvalue("loadgroup"):
        return
    for item in session.items:
        names = sorted({str(mark.args[0]) for mark in item.iter_markers("xdist_group")})
        nodeid = f"{item.nodeid}@{'_'.join(names)}"
        if not names or item.nodeid.endswith(f"@{'_'.join(names)}"):
            continue
        if hasattr(item, "_id"):
            item._id = type(item._id).parse(nodeid)
        else:
            item._nodeid = nodeid
        assert item.nodeid == nodeid, f"could not name the xdist_group of {nodeid}"


@pytest.hookimpl(optionalhook=True)  # an xdist hook: unknown when xdist is off
def pytest_xdist_auto_num_workers(config: pytest.Config) -> int | None:
    """``-n auto``: a run of one test file (or of tests in it) stays in this process, since a file is one
    xdist_group (workers would only collect it twice); otherwise None: pytest-xdist's one worker per core."""
    files = {arg.split("::")[0] for arg in config.args}
    if len(files) == 1 and (config.invocation_params.dir / next(iter(files))).is_file():
        return 0
    return None


def pytest_addoption(parser: pytest.Parser, pluginmanager: pytest.PytestPluginManager) -> None:
    """With pytest-xdist off (``-p no:xdist``) or not installed, accept and ignore the xdist options of
    pyproject.toml's addopts, so the suite runs in one process instead of stopping at "unrecognized arguments"."""
    if pluginmanager.has_plugin("xdist"):
        return
    group = parser.getgroup("xdist-off", "pytest-xdist is off: its options in addopts are ignored")
    group._addoption("-n", "--numprocesses", dest="numprocesses", default=None, help="ignored (xdist is off)")
    group.addoption("--dist", dest="dist", default="no", help="ignored (xdist is off)")
    group.addoption("--no-loadscope-reorder", dest="loadscopereorder", action="store_false", help="ignored")
