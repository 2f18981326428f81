"""Where Prefect keeps its state and which API and task runner a run uses.

Embedded default: with no ``PREFECT_API_URL`` configured, the CLI starts Prefect's own local API server
(SQLite under the project's ``PREFECT_HOME``) once per command and exports its address, so that every
flow, and every Dask worker process, talks to that one server. With ``PREFECT_API_URL`` set (a shared
``prefect server`` for a team) nothing is started.
"""

from __future__ import annotations

import contextlib
import logging
import os
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
    import prefect  # noqa: F401 - configures Prefect's logging handlers

    loggers = [logging.getLogger(name) for name in list(logging.root.manager.loggerDict)] + [logging.getLogger()]
    for logger in loggers:
        for handler in getattr(logger, "handlers", []):
            if isinstance(handler, logging.StreamHandler) and not isinstance(handler.formatter, _NoTracebackFormatter):
                handler.setFormatter(_NoTracebackFormatter(handler.formatter))


def configure_prefect_home(config: Config) -> Path:
    """Point Prefect at the project's own home folder unless the user chose one. Call before importing prefect."""
    home = Path(os.environ.setdefault("PREFECT_HOME", str(config.paths.prefect_home)))
    home.mkdir(parents=True, exist_ok=True)
    return home


@contextlib.contextmanager
def prefect_api() -> Iterator[str]:
    """Yield the API URL in use, starting the embedded local server for the duration if none is configured."""
    quiet_console_tracebacks()
    configured = os.environ.get("PREFECT_API_URL")
    if configured:
        yield configured
        return
    from prefect.server.api.server import SubprocessASGIServer

    server = SubprocessASGIServer()
    server.start(timeout=int(os.environ.get("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "90")))
    os.environ["PREFECT_API_URL"] = server.api_url
    try:
        yield server.api_url
    finally:
        from prefect.logging.handlers import APILogWorker

        APILogWorker.drain_all(timeout=5)  # send buffered run logs while the server can still receive them
        os.environ.pop("PREFECT_API_URL", None)
        server.stop()


TASK_RUNNERS = ("thread", "dask")


@contextlib.contextmanager
def dask_scheduler(address: str | None) -> Iterator[str]:
    """Yield a Dask scheduler address: the given one, or a local cluster's that lives for the block.

    One cluster serves every study flow of a command, instead of one cluster per flow.
    """
    if address:
        yield address
        return
    from distributed import LocalCluster

    with LocalCluster(n_workers=2, threads_per_worker=1, dashboard_address=None, processes=True) as cluster:
        yield cluster.scheduler_address


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
