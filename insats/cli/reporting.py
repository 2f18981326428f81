"""`insats seminar` (the quarterly brief) and `insats history` (the flow-run history from the Prefect API)."""

from __future__ import annotations

import sys
from contextlib import ExitStack
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from insats.cli.common import (
    DEFAULT_CONFIG,
    ConfigOption,
    fail,
    load_command_config,
    user_errors,
)


class HistoryFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def seminar(
    quarter: Annotated[str | None, typer.Option(help="The quarter, e.g. 2026Q4 (default: the current one).")] = None,
    lang: Annotated[str | None, typer.Option("--lang", help="en or sv (default: the config's seminar.lang).")] = None,
    pdf: Annotated[bool, typer.Option("--pdf", help="Also print the brief to PDF (needs chromium).")] = False,
    allow_mixed_runs: Annotated[
        bool,
        typer.Option(
            "--allow-mixed-runs", help="Build the brief (with a warning) even if studies come from different runs."
        ),
    ] = False,
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """Build the quarterly seminar brief (återföringsseminarium) from the studies' validated outputs and the
    quarter's runs, compared with the previous quarter's brief: one self-contained HTML file, optionally PDF."""
    with user_errors():
        load_command_config(config)
        from insats.history import quarter_bounds
        from insats.runtime import imports_without_gc, prefect_api

        if quarter:
            quarter_bounds(quarter)  # a clear error for a malformed quarter before anything runs
        with ExitStack() as api:
            with imports_without_gc(freeze=True):  # Prefect (after the API URL is set) and the brief's flow
                api.enter_context(prefect_api())
                from insats.flows.seminar_brief import seminar_brief

            brief = Path(
                seminar_brief(str(config), quarter=quarter, lang=lang, allow_mixed_runs=allow_mixed_runs)["brief"]
            )
        typer.secho(f"Seminar brief: {brief}", fg=typer.colors.GREEN)
        if pdf:
            from insats.reports import print_pdf

            typer.echo(f"PDF: {print_pdf(brief)}")


def history(
    quarter: Annotated[str | None, typer.Option(help="Only runs started in this quarter, e.g. 2026Q4.")] = None,
    since: Annotated[
        datetime | None, typer.Option(help="Only runs started on or after this date (YYYY-MM-DD).")
    ] = None,
    study: Annotated[str | None, typer.Option(help="Only this study, e.g. outcome_evaluation (or pipeline).")] = None,
    fmt: Annotated[HistoryFormat, typer.Option("--format", help="table, csv or json.")] = HistoryFormat.table,
    config: ConfigOption = DEFAULT_CONFIG,
) -> None:
    """The flow-run history from the Prefect API (the embedded local one, or PREFECT_API_URL's server): run,
    study, state, start, duration, what triggered it (parameters, config hash, input checksums, code version),
    failure reason, outputs."""
    with user_errors():
        load_command_config(config)
        from insats.history import FLOW_STUDIES, quarter_bounds, read_history
        from insats.runtime import prefect_api

        if quarter and since:
            fail("give --quarter or --since, not both", code=2)
        if study and study.replace("-", "_") not in set(FLOW_STUDIES.values()):
            fail(f"unknown study {study!r}", f"known: {', '.join(sorted(set(FLOW_STUDIES.values())))}", code=2)
        start, until = quarter_bounds(quarter) if quarter else (since.replace(tzinfo=UTC) if since else None, None)
        with prefect_api(read_only=True) as url:  # plain HTTP: Prefect is not imported (about 2 s less)
            df = read_history(since=start, until=until, api_url=url)
        if study:
            df = df[df["study"] == study.replace("-", "_")].reset_index(drop=True)
        if fmt is HistoryFormat.csv:
            sys.stdout.write(df.to_csv(index=False))
        elif fmt is HistoryFormat.json:
            sys.stdout.write(df.to_json(orient="records", date_format="iso", force_ascii=False, indent=2) + "\n")
        elif df.empty:
            scope = f" in {quarter}" if quarter else (f" since {since:%Y-%m-%d}" if since else "")
            typer.echo(f"No flow runs recorded{scope}.")
        else:
            shown = df.assign(
                start_time=df["start_time"].dt.strftime("%Y-%m-%d %H:%M:%S"),
                config_hash=df["config_hash"].str[:12],
                input_checksums=df["input_checksums"].str.count("=").astype(str) + " files",
            ).drop(columns=["flow_run_id", "outputs", "parameters", "code_version"], errors="ignore")
            typer.echo(shown.to_string(index=False, max_colwidth=60))
