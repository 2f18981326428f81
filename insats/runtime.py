"""Where Prefect keeps its state and which API and task runner a run uses.

Local default: with no ``PREFECT_API_URL`` configured, the CLI reuses the project's own local Prefect server
(SQLite under the project's ``PREFECT_HOME``), starting it in the background on first use (see
``insats.local_server``; ``insats server stop`` stops it), and exports its address, so that every flow, and
every Dask worker process, talks to that one server. ``INSATS_SERVER=ephemeral`` starts a server for each
command instead (it dies with the command). With ``PREFECT_API_URL`` set (a shared ``prefect server`` for a
team) nothing is started.

Crash bookkeeping: every command that enters :func:`prefect_api` writes ``<PREFECT_HOME>/insats-runs/<tag>.json``
(its pid and the process's start tick) and tags the runs it creates with ``<tag>``; the file is removed when the
command ends. A later command finds files whose process is gone and sets those runs still Pending or Running
to Crashed with the message "process ended".
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import socket
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from insats.config import Config


class _NoTracebackFormatter(logging.Formatter):
    """Formats a record as the wrapped formatter would, but without the exception's traceback.

    The record itself is left intact, so Prefect's API log handler still stores the full traceback
    with the run (``insats history`` and the UI show it); the terminal gets one line per event.
    """

    def __init__(self, inner: logging.Formatter | None) -> None:
        super().__init__()
        self.inner = inner or logging.Formatter()

    def format(self, record: logging.LogRecord) -> str:
        saved = record.exc_info, record.exc_text, record.stack_info
        record.exc_info, record.exc_text, record.stack_info = None, None, None
        try:
            return self.inner.format(record)
        finally:
            record.exc_info, record.exc_text, record.stack_info = saved


def quiet_console_tracebacks() -> None:
    """Keep tracebacks off the terminal (``INSATS_DEBUG=1`` keeps them); errors are reported in one line."""
    if os.environ.get("INSATS_DEBUG"):
        return
    import prefect.main  # noqa: F401 - configures Prefect's logging handlers (`import prefect` alone is lazy)

    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)] + [logging.getLogger()]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, logging.StreamHandler) and not isinstance(handler.formatter, _NoTracebackFormatter):
                handler.setFormatter(_NoTracebackFormatter(handler.formatter))


@contextlib.contextmanager
def imports_without_gc(freeze: bool = False) -> Iterator[None]:
    """Pause Python's cyclic garbage collector while a command imports its libraries (restored after).

    Importing Prefect, pandas and the flows makes several hundred thousand long-lived objects; with the
    collector on, each import re-triggers collections that traverse all of them again (about 500 collections,
    0.5-0.7 s of CPU in a cached `insats run register`). ``freeze``: then move every object that exists into
    the permanent generation, so later collections skip the imported modules; for the command's process only
    (objects frozen are never collected), not for code that calls the CLI in-process."""
    import gc

    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if freeze:
            gc.freeze()
        if enabled:
            gc.enable()


def configure_prefect_home(config: Config) -> Path:
    """Point Prefect at the project's own home folder unless the user chose one. Call before importing prefect."""
    home = Path(os.environ.setdefault("PREFECT_HOME", str(config.paths.prefect_home)))
    home.mkdir(parents=True, exist_ok=True)
    return home


SERVER_MODE_SETTING = "INSATS_SERVER"
SERVER_MODES = ("local", "ephemeral")
RUNS_DIR = "insats-runs"
CRASH_MESSAGE = "process ended"


def server_mode() -> str:
    """``INSATS_SERVER``: ``local`` (default on POSIX: one reused background server) or ``ephemeral`` (one per
    command; the only mode on Windows)."""
    default = "local" if os.name == "posix" else "ephemeral"  # the shared server needs flock and process groups
    mode = os.environ.get(SERVER_MODE_SETTING, default).strip().lower() or default
    if mode not in SERVER_MODES:
        raise ValueError(f"{SERVER_MODE_SETTING}={mode!r}: expected one of {', '.join(SERVER_MODES)}")
    return mode


@contextlib.contextmanager
def prefect_api(read_only: bool = False) -> Iterator[str]:
    """Yield the API URL in use: PREFECT_API_URL's, else the project's local server (started if none answers),
    or with ``INSATS_SERVER=ephemeral`` a server for this block only. Runs left Running or Pending by commands
    that died are marked Crashed first, and the runs created in the block are tagged with this command.

    ``read_only``: the block only reads the API over HTTP with the yielded URL (``insats history``), so Prefect
    is not imported (about 2 s of CPU), no settings are changed and no command record is written (it creates
    no runs); Prefect is imported only if runs of ended commands must be marked Crashed.

    Import the flow inside the block: a Prefect imported after the URL is known reads it from the environment,
    one imported before needs its settings rebuilt (about 0.1 s of CPU)."""
    from insats.local_server import ensure_server, ephemeral_server, prefect_home

    home = prefect_home()
    configured = os.environ.get("PREFECT_API_URL")
    with contextlib.ExitStack() as stack:
        if configured:
            url = configured
        elif server_mode() == "ephemeral":
            url = stack.enter_context(ephemeral_server(home))
        else:
            url = ensure_server(home)[0].api_url
        api = configured or "local"  # both local modes share the SQLite database under PREFECT_HOME
        if read_only:
            mark_crashed_runs(home, api, url)
            yield url
            return
        if not configured:
            imported = "prefect" in sys.modules
            os.environ["PREFECT_API_URL"] = url  # for Dask workers, child processes and a later `import prefect`
            stack.callback(os.environ.pop, "PREFECT_API_URL", None)
            if imported:  # this process's Prefect settings were read when prefect was imported: update them too
                from prefect.settings import PREFECT_API_URL, temporary_settings

                stack.enter_context(temporary_settings(updates={PREFECT_API_URL: url}))
        quiet_console_tracebacks()
        mark_crashed_runs(home, api)
        tag = stack.enter_context(command_record(home, api))
        from prefect import tags
        from prefect.logging.handlers import APILogWorker

        # runs after the tags' block: send buffered run logs while the server can still receive them
        stack.callback(APILogWorker.drain_all, timeout=5)
        stack.enter_context(tags(tag))
        yield url


def _runs_dir(home: Path) -> Path:
    return home / RUNS_DIR


@contextlib.contextmanager
def command_record(home: Path, api: str) -> Iterator[str]:
    """Record this command (pid, start tick, API) in ``<home>/insats-runs/<tag>.json`` for the block; yield the
    tag its runs carry (``insats-cmd-<pid>-<random>``)."""
    from insats.local_server import process_start_tick

    tag = f"insats-cmd-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    path = _runs_dir(home) / f"{tag}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    record = {
        "tag": tag,
        "pid": os.getpid(),
        "process_start": process_start_tick(os.getpid()),
        "host": socket.gethostname(),
        "api": api,
        "started": time.time(),
        "command": " ".join(sys.argv[:3]),
    }
    path.write_text(json.dumps(record, indent=2))
    try:
        yield tag
    finally:
        path.unlink(missing_ok=True)


def dead_command_records(home: Path, api: str) -> list[tuple[Path, dict[str, Any]]]:
    """Records in ``<home>/insats-runs`` of commands on this host and API whose process is gone (POSIX only)."""
    from insats.local_server import POSIX, pid_alive

    if not POSIX:
        return []
    found = []
    for path in sorted(_runs_dir(home).glob("*.json")):
        try:
            record = json.loads(path.read_text())
            pid, tag = int(record["pid"]), str(record["tag"])
        except (OSError, ValueError, KeyError, TypeError):
            path.unlink(missing_ok=True)  # unreadable: written by a command killed mid-write
            continue
        if record.get("host") != socket.gethostname() or record.get("api") != api or not tag:
            continue
        if not pid_alive(pid, record.get("process_start")):
            found.append((path, record))
    return found


def mark_crashed_runs(home: Path, api: str, url: str | None = None) -> list[str]:
    """Set flow and task runs of dead commands (see :func:`dead_command_records`) that are still Pending or
    Running to Crashed ("process ended"), then drop the records. Returns the crashed flow-run ids; an API
    error leaves the records for the next command and logs a warning. ``url``: the API to use when Prefect's
    settings do not name it yet (a read-only block)."""
    dead = dead_command_records(home, api)
    if not dead:
        return []
    if url is not None and not os.environ.get("PREFECT_API_URL"):
        os.environ["PREFECT_API_URL"] = url  # read when prefect is imported just below
    from prefect import get_client
    from prefect.client.schemas.filters import (
        FlowRunFilter,
        FlowRunFilterState,
        FlowRunFilterStateType,
        FlowRunFilterTags,
        TaskRunFilter,
        TaskRunFilterState,
        TaskRunFilterStateType,
        TaskRunFilterTags,
    )
    from prefect.client.schemas.objects import StateType
    from prefect.states import Crashed

    unfinished = [StateType.PENDING, StateType.RUNNING, StateType.SCHEDULED, StateType.CANCELLING]
    flow_runs = FlowRunFilterState(type=FlowRunFilterStateType(any_=unfinished))
    task_runs = TaskRunFilterState(type=TaskRunFilterStateType(any_=unfinished))
    crashed: list[str] = []
    try:
        with get_client(sync_client=True) as client:
            for path, record in dead:
                tag = [record["tag"]]
                for run in client.read_flow_runs(
                    flow_run_filter=FlowRunFilter(tags=FlowRunFilterTags(all_=tag), state=flow_runs)
                ):
                    client.set_flow_run_state(run.id, Crashed(message=CRASH_MESSAGE), force=True)
                    crashed.append(str(run.id))
                for task_run in client.read_task_runs(
                    task_run_filter=TaskRunFilter(tags=TaskRunFilterTags(all_=tag), state=task_runs)
                ):
                    client.set_task_run_state(task_run.id, Crashed(message=CRASH_MESSAGE), force=True)
                path.unlink(missing_ok=True)
    except Exception as exc:  # noqa: BLE001 - bookkeeping must not stop the command
        logging.getLogger("insats").warning("Could not mark the runs of ended commands as Crashed: %s", exc)
    return crashed


TASK_RUNNERS = ("thread", "dask")


@contextlib.contextmanager
def dask_scheduler(address: str | None) -> Iterator[str]:
    """Yield a Dask scheduler address: the given one, or a local cluster's that lives for the block.

    One cluster serves every study flow of a command, instead of one cluster per flow.
    """
    if address:
        check_workers_reach_api(address, os.environ.get("PREFECT_API_URL", ""))
        yield address
        return
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None, processes=True) as cluster:
        yield cluster.scheduler_address


def _api_health(url: str) -> str:
    """Runs on a Dask worker: '' if the Prefect API at ``url`` answers there, else why not."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"{url.rstrip('/')}/health", timeout=5) as response:  # noqa: S310 - our API
            return "" if response.status == 200 else f"HTTP {response.status}"
    except OSError as exc:
        return str(exc)


def check_workers_reach_api(address: str, url: str) -> None:
    """Refuse an external Dask cluster whose workers cannot reach this run's Prefect API.

    prefect-dask sends each task the run's settings, API address included, so workers record their task runs
    in the run's own history; a worker that cannot reach that address would lose them (or, without an
    address, start a temporary server of its own). Raises RuntimeError naming the workers and the address.
    """
    if not url:
        return
    from distributed import Client

    with Client(address, timeout=30) as client:
        problems = {worker: why for worker, why in client.run(_api_health, url).items() if why}
    if problems:
        listed = "; ".join(f"{worker}: {why}" for worker, why in sorted(problems.items()))
        raise RuntimeError(
            f"Dask workers at {address} cannot reach this run's Prefect API {url} ({listed}). Run a Prefect server "
            "the workers can reach and set PREFECT_API_URL to it (see README, 'Scale-out'), or omit --dask-address "
            "to use a local cluster"
        )


def make_task_runner(kind: str, dask_address: str | None = None) -> Any:
    """The task runner for study flows: Prefect's thread pool, or prefect-dask's runner on a scheduler."""
    if kind == "thread":
        from prefect.task_runners import ThreadPoolTaskRunner

        return ThreadPoolTaskRunner(max_workers=2)
    if kind == "dask":
        if not dask_address:
            raise ValueError("The dask task runner needs a scheduler address (see dask_scheduler)")
        from prefect_dask import DaskTaskRunner

        return DaskTaskRunner(address=dask_address)
    raise ValueError(f"Unknown task runner {kind!r}: expected one of {', '.join(TASK_RUNNERS)}")
