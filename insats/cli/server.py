"""`insats serve` (every deployment from this process) and `insats server start|stop|status` (the local Prefect
server)."""

from __future__ import annotations

import typer

from insats.cli.common import (
    DEFAULT_CONFIG,
    ConfigOption,
    fail,
    load_command_config,
    user_errors,
)


def serve(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Serve every deployment in prefect.yaml (each study flow and the chain) from this process, so that runs
    can be triggered from the Prefect UI or `prefect deployment run`. Needs a Prefect server (PREFECT_API_URL);
    stop with Ctrl+C."""
    with user_errors():
        import os

        load_command_config(config)
        if not os.environ.get("PREFECT_API_URL"):
            fail(
                "insats serve needs a running Prefect server",
                "start one with `prefect server start` and set PREFECT_API_URL (see README, shared server)",
            )
        from prefect import serve as prefect_serve

        from insats.runtime import quiet_console_tracebacks
        from insats.serve import build_deployments

        quiet_console_tracebacks()
        deployments = build_deployments(str(config.resolve()))
        typer.echo(f"Serving {len(deployments)} deployments: {', '.join(d.name for d in deployments)}")
        prefect_serve(*deployments)


def server_start(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Start the local server in the background, or report the one already running.

    Commands start it on first use anyway; INSATS_SERVER_START_TIMEOUT (seconds, default 90) bounds the wait."""
    with user_errors():
        import os

        load_command_config(config)
        if os.environ.get("PREFECT_API_URL"):
            fail(
                f"PREFECT_API_URL is set ({os.environ['PREFECT_API_URL']}): insats uses that server and starts none",
                "unset PREFECT_API_URL to use the project's local server",
                code=2,
            )
        from insats.local_server import ensure_server

        record, started = ensure_server()
        typer.echo(f"{'Started' if started else 'Already running'}: {record.api_url} (pid {record.pid})")


def server_stop(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Stop the local server (SIGTERM to its process group, SIGKILL after 10 s)."""
    with user_errors():
        load_command_config(config)
        from insats.local_server import prefect_home, stop_server

        record = stop_server()
        typer.echo(f"Stopped {record.api_url} (pid {record.pid})" if record else f"not running ({prefect_home()})")


def server_status(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Print the local server's URL, pid and uptime, or "not running"."""
    with user_errors():
        load_command_config(config)
        from datetime import timedelta

        from insats.local_server import prefect_home
        from insats.local_server import server_status as status

        record = status()
        if record is None:
            typer.echo(f"not running ({prefect_home()})")
            return
        uptime = timedelta(seconds=round(record.uptime_seconds))
        typer.echo(f"running: {record.api_url} (pid {record.pid}, up {uptime}, home {prefect_home()})")
