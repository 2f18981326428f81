"""The ``insats`` command line: the table of commands, in the order ``insats --help`` lists them.

Each command lives in the module of its group; heavy libraries are imported inside the commands that need them.
"""

from __future__ import annotations

import typer

import insats  # noqa: F401 - switches telemetry off before anything else is imported
from insats.cli import chain, reporting, server, site_data, tools
from insats.cli.common import Target, user_errors

__all__ = ["Target", "app", "user_errors"]

app = typer.Typer(
    help="insats: evaluate interventions within Swedish social assistance (försörjningsstöd).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


app.command("demo-data")(chain.demo_data)
app.command("init")(site_data.init_command)
app.command()(chain.demo)
app.command()(chain.run)
app.command()(site_data.validate)
app.command()(reporting.seminar)
app.command("privacy-scan")(site_data.privacy_scan)
app.command()(tools.evaluate)
app.command()(server.serve)
app.command()(reporting.history)

server_app = typer.Typer(
    help="The project's local Prefect server (under the config's paths.prefect_home), reused by every command.",
    no_args_is_help=True,
)
app.add_typer(server_app, name="server")

server_app.command("start")(server.server_start)
server_app.command("stop")(server.server_stop)
server_app.command("status")(server.server_status)

codebook_app = typer.Typer(help="Check a study-1 codebook's keywords.", no_args_is_help=True)
app.add_typer(codebook_app, name="codebook")
codebook_app.command("check")(tools.codebook_check)
