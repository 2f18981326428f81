"""The ``insats`` command line. Heavy libraries are imported inside the commands that need them."""

from __future__ import annotations

import sys
import time
import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

import insats  # noqa: F401 - switches telemetry off before anything else is imported
from insats.provenance import PROJECT_ROOT
from insats.studies import PIPELINE, STUDIES, get_study

DEFAULT_CONFIG = PROJECT_ROOT / "configs" / "demo.yaml"

app = typer.Typer(
    help="insats: evaluate interventions within Swedish social assistance (försörjningsstöd).",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    add_completion=False,
)


# `insats run` targets: the chain and every stage of the study registry (plus `seminar`, the brief's short name).
Target = StrEnum("Target", {s.name: s.slug for s in (PIPELINE, *STUDIES)} | {"seminar": "seminar"})


class Runner(StrEnum):
    thread = "thread"
    dask = "dask"


class HistoryFormat(StrEnum):
    table = "table"
    csv = "csv"
    json = "json"


def fail(message: str, detail: str = "", code: int = 1) -> None:
    typer.secho(f"Error: {message}", fg=typer.colors.RED, err=True)
    for line in detail.splitlines():  # a problem list keeps its own indentation
        typer.echo(line if line.startswith(" ") else f"  {line}", err=True)
    raise typer.Exit(code)


@contextmanager
def user_errors() -> Iterator[None]:
    """Turn any exception into one clear line plus the detail; ``INSATS_DEBUG=1`` shows the traceback."""
    import os

    try:
        yield
    except typer.Exit:
        raise
    except KeyboardInterrupt:
        fail("interrupted", code=130)
    except Exception as exc:  # noqa: BLE001 - the CLI's last line of defence
        if os.environ.get("INSATS_DEBUG"):
            traceback.print_exc()
        from insats.errors import format_error

        lines = format_error(exc)
        cause = exc.__cause__ or exc.__context__
        cause_text = " ".join(format_error(cause, limit=3)) if cause is not None else ""
        detail = f"({type(exc).__name__}" + (f", caused by {type(cause).__name__}: {cause_text}" if cause else "") + ")"
        fail(lines[0], "\n".join([*lines[1:], detail + "; set INSATS_DEBUG=1 for the traceback"]))


def _load(config: Path) -> Any:
    from insats.config import load_config
    from insats.runtime import configure_prefect_home

    cfg = load_config(config)
    configure_prefect_home(cfg)
    from insats.storage import protect_raw

    protect_raw(cfg.paths.raw)
    return cfg


def _check_key(cfg: Any) -> None:
    """Refuse, before any study runs, a site run whose pseudonymisation key would not protect (missing, the
    public demo key, short or low-entropy); the message names register.pseudonym_key_env/_file."""
    from insats.tasks.register.pseudonymise import check_pseudonym_key

    check_pseudonym_key(cfg)


ConfigOption = Annotated[Path, typer.Option("--config", "-c", help="Pipeline config (YAML).")]
RunnerOption = Annotated[Runner, typer.Option("--task-runner", help="thread (default) or dask (prefect-dask).")]
LangOption = Annotated[
    str | None, typer.Option("--lang", help="Language of the seminar brief: en or sv (default: the config's).")
]
AddressOption = Annotated[
    str | None, typer.Option("--dask-address", help="Dask scheduler address; a local cluster when omitted.")
]


@contextmanager
def _data_tree(config_path: Path) -> Iterator[None]:
    """Hold the config's data tree for one run and repair what an earlier, killed run left half-published."""
    import os

    from insats.config import load_config
    from insats.locking import data_tree_lock
    from insats.storage import recover_publications

    paths = load_config(config_path).paths
    with data_tree_lock(paths.interim, wait_seconds=float(os.environ.get("INSATS_LOCK_WAIT_SECONDS", "0"))):
        for root in (paths.processed, paths.interim, paths.reports):
            for action in recover_publications(root):
                typer.echo(f"Recovered: {action}", err=True)
        yield


def _run_flow(target: Target, config_path: Path, runner: Runner, dask_address: str | None, lang: str | None) -> Any:
    from insats.flows.pipeline import pipeline
    from insats.runtime import dask_scheduler, make_task_runner, prefect_api

    study = get_study(target.value)
    extra = {"lang": lang} if study.name in ("pipeline", "seminar_brief") else {}
    with _data_tree(config_path), prefect_api():
        if runner is Runner.dask:
            with dask_scheduler(dask_address) as address:
                if target is Target.pipeline:
                    return pipeline(str(config_path), task_runner="dask", dask_address=address, **extra)
                flow = study.load_flow().with_options(task_runner=make_task_runner("dask", address))
                return flow(str(config_path), **extra)
        if target is Target.pipeline:
            return pipeline(str(config_path), **extra)
        # the chain's runner (2 threads), not Prefect's default pool of cpu + 4: each task may hold a panel
        return study.load_flow().with_options(task_runner=make_task_runner("thread"))(str(config_path), **extra)


def _print_outputs(result: dict[str, Any]) -> None:
    for study, outputs in result.items():
        if isinstance(outputs, dict):
            for name, path in outputs.items():
                typer.echo(f"  {study}.{name}: {path}")


@app.command("demo-data")
def demo_data(
    out: Annotated[Path, typer.Option("--out", help="Folder to create with the demo inputs.")],
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same files.")] = 2026,
    persons: Annotated[int, typer.Option(help="Number of persons in the register extract.")] = 3000,
) -> None:
    """Write synthetic demo inputs (transcripts, inventory, SPSS register extract) and their planted truths."""
    with user_errors():
        from insats.demo import write_demo_data

        truth = write_demo_data(out, seed=seed, persons=persons)
        planted = truth["outcome_evaluation"]
        typer.echo(f"Demo inputs written to {out} (seed {seed}, {persons} persons); planted truths in truth.json:")
        typer.echo(f"  top competency in the employer interviews: {truth['employer_interviews']['top_competency']}")
        typer.echo(
            f"  effect of {planted['planted_intervention']} on self-sufficiency 12 months after start: "
            f"{planted['true_att_self_sufficiency_12m']:+.3f}"
        )


@app.command("init")
def init_command(
    folder: Annotated[Path, typer.Argument(help="The folder of a site's files (extracts, transcripts, ...).")],
    out: Annotated[Path, typer.Option("--out", help="Where to write the config.")] = Path("configs/site.yaml"),
    project: Annotated[str | None, typer.Option(help="Project name (default: the folder's name).")] = None,
    force: Annotated[bool, typer.Option("--force", help="Overwrite an existing --out file.")] = False,
) -> None:
    """Propose a commented site config from a folder of a site's files.

    Register extracts with their column mapping and period, transcripts, codebook, inventory, references,
    participant documentation. Every value says where it came from; `# TODO` marks what was not found.
    Relative paths are resolved against the current directory (the config's root)."""
    with user_errors():
        from insats.init import init_site

        result = init_site(folder, out, project=project, force=force)
        proposal = result.proposal
        found = sum(len(s) for s in proposal.inputs.values()) + len(proposal.register_files)
        typer.echo(f"Wrote {out}: {found} value(s) proposed from {len(proposal.files)} file(s) in {folder.resolve()}")
        if not found:
            typer.secho("No input recognised: the end of the file lists what was found.", fg=typer.colors.YELLOW)
        if result.todos:
            typer.echo(f"{len(result.todos)} TODO(s) to resolve in {out}:")
            for todo in result.todos:
                typer.echo(f"  - {todo.removeprefix('TODO: ')}")
        if result.load_error:
            typer.secho(f"The config does not load yet: {result.load_error}", fg=typer.colors.YELLOW)
        elif "persons" in proposal.register_files:
            persons = proposal.register_files["persons"].value
            typer.echo(f"It loads. Next: insats validate {persons} --suite input.persons --config {out}")
        else:
            typer.echo("It loads.")


@app.command()
def demo(
    config: ConfigOption = DEFAULT_CONFIG,
    task_runner: RunnerOption = Runner.thread,
    dask_address: AddressOption = None,
    lang: LangOption = None,
) -> None:
    """Make the demo inputs (if absent) and run the whole chain on them, offline."""
    with user_errors():
        cfg = _load(config)
        _check_key(cfg)
        if not cfg.paths.raw.exists() or not any(cfg.paths.raw.iterdir()):
            from insats.demo import write_demo_data

            typer.echo(f"Writing demo inputs to {cfg.paths.raw} ...")
            write_demo_data(cfg.paths.raw, seed=cfg.demo.seed, persons=cfg.demo.persons)
        started = time.perf_counter()
        result = _run_flow(Target.pipeline, config, task_runner, dask_address, lang)
        typer.echo(f"Pipeline finished in {time.perf_counter() - started:.1f} s. Outputs:")
        _print_outputs(result)
        typer.secho(f"Seminar brief: {result['seminar_brief']['brief']}", fg=typer.colors.GREEN)


@app.command()
def run(
    target: Annotated[Target, typer.Argument(help="The whole chain, or one study.")] = Target.pipeline,
    config: ConfigOption = DEFAULT_CONFIG,
    task_runner: RunnerOption = Runner.thread,
    dask_address: AddressOption = None,
    lang: LangOption = None,
) -> None:
    """Run the chain or one study flow. A study reads the validated outputs its predecessor last published."""
    with user_errors():
        _check_key(_load(config))
        result = _run_flow(target, config, task_runner, dask_address, lang)
        typer.echo(f"{target.value} finished. Outputs:")
        _print_outputs(result if target is Target.pipeline else {target.value: result})


@app.command()
def validate(
    file: Annotated[
        Path | None,
        typer.Argument(help="The file to validate (.sav .dta .sas7bdat .xpt .csv .xlsx .parquet)."),
    ] = None,
    suite: Annotated[
        str | None, typer.Option("--suite", help="Suite name, e.g. input.persons (see --list-suites).")
    ] = None,
    config: ConfigOption = DEFAULT_CONFIG,
    list_suites_: Annotated[bool, typer.Option("--list-suites", help="List the suites and exit.")] = False,
    quarantine: Annotated[
        Path | None,
        typer.Option("--quarantine", help="Split the rows: DIR/<stem>.passed.parquet and <stem>.quarantine.parquet."),
    ] = None,
    docs: Annotated[
        Path | None, typer.Option("--docs", help="Build GX Data Docs (static HTML) for this run in DIR.")
    ] = None,
    encoding: Annotated[
        str | None, typer.Option("--encoding", help="Text encoding of a CSV/statistical file (default: detected).")
    ] = None,
    out: Annotated[
        Path | None,
        typer.Option(
            "--out",
            help="Where the JSON validation result and the provenance record go "
            "(default: the config's paths.interim/validation).",
        ),
    ] = None,
    clear_ids_to: Annotated[
        Path | None,
        typer.Option(
            "--clear-ids-to",
            help="Also write the split with CLEAR identity numbers to DIR, a folder outside the project's data "
            "tree (paths.raw/interim/processed/reports are refused). --quarantine files carry pseudonyms only.",
        ),
    ] = None,
) -> None:
    """Validate one input or output file against a suite in schemas/. Exit 0 fit for use, 1 not fit for use,
    2 the file cannot be read or the command/config is wrong (usage, unknown suite, refused folder or key).

    Register inputs (suites input.persons, input.assistance, input.spells, input.outcomes) are first mapped to
    canonical column names with the config's register.columns; participant documentation (input.participants,
    input.status_documentation) is read with the config's participant_flow.ladder and end_date. The JSON result
    and a provenance record of the file are always saved (--out); the raw file is never modified and nothing is
    written beside it.
    """
    try:  # exit 1 is the verdict "not fit for use": every error before a verdict exits 2
        with user_errors():
            from insats.validation import list_suites

            if list_suites_:
                for name, description in list_suites().items():
                    typer.echo(f"{name:40} {description}")
                return
            if file is None or suite is None:
                fail("give a FILE and --suite NAME (or --list-suites)", code=2)
            from insats.config import load_config
            from insats.steward import UnreadableExtractError, validate_extract

            cfg = load_config(config)
            try:
                run = validate_extract(
                    file, suite, cfg, out=out, quarantine=quarantine, docs=docs, encoding=encoding,
                    clear_ids_to=clear_ids_to,
                )  # fmt: skip
            except UnreadableExtractError as exc:
                fail(f"cannot read {file}: {exc}", code=2)
    except typer.Exit as exc:
        raise typer.Exit(2 if exc.exit_code == 1 else exc.exit_code) from None
    typer.echo(run.summary())
    typer.echo(f"Validation result: {run.validation_path}")
    typer.echo(f"Provenance record: {run.provenance_path}")
    if run.quarantine_path is not None:
        typer.echo(f"Passed rows: {run.passed_path}; quarantined rows: {run.quarantine_path} (pseudonymised ids)")
    if run.clear_quarantine_path is not None:
        typer.echo(f"With CLEAR identity numbers: {run.clear_passed_path}; {run.clear_quarantine_path}")
    if run.docs_index is not None:
        typer.echo(f"Data Docs: {run.docs_index} (styles load from a CDN; unstyled offline)")
    raise typer.Exit(0 if run.fit_for_use else 1)


def _read_for_suite(file: Path, suite: str, config: Path, encoding: str | None = None) -> Any:
    """Read ``file`` and, for ``input.<register kind>`` suites, map it to canonical columns (no validation)."""
    from insats.config import load_config
    from insats.steward import read_source, register_kind
    from insats.tasks.register.standardise import standardise

    df = read_source(file, encoding)
    kind = register_kind(suite)
    if kind is not None:
        df = standardise(df, kind, load_config(config).register.columns[kind], source=str(file))
    return df


@app.command()
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
        _load(config)
        from insats.flows.seminar_brief import seminar_brief
        from insats.history import quarter_bounds
        from insats.runtime import prefect_api

        if quarter:
            quarter_bounds(quarter)  # a clear error for a malformed quarter before anything runs
        with prefect_api():
            brief = Path(
                seminar_brief(str(config), quarter=quarter, lang=lang, allow_mixed_runs=allow_mixed_runs)["brief"]
            )
        typer.secho(f"Seminar brief: {brief}", fg=typer.colors.GREEN)
        if pdf:
            from insats.reports import print_pdf

            typer.echo(f"PDF: {print_pdf(brief)}")


@app.command("privacy-scan")
def privacy_scan(
    paths: Annotated[list[Path], typer.Argument(help="Files and folders to scan (folders recursively).")],
) -> None:
    """Report clear identity numbers (any spelling) in text, CSV, JSON, HTML, Parquet, SQLite and gzip/bz2/xz/zip
    files: one line per finding (file, location, the MASKED number). Exit 0 clean, 1 findings, 2 unreadable input."""
    from insats.privacy_scan import scan_paths

    result = scan_paths(paths)
    for finding in result.findings:
        typer.echo(finding.line())
    for error in result.errors:
        typer.secho(f"Error: {error}", fg=typer.colors.RED, err=True)
    n_files = len({f.file for f in result.findings})
    typer.echo(
        f"privacy-scan: {len(result.findings)} clear identity number(s) in {n_files} of {result.files} file(s)"
        + (f"; {len(result.errors)} input(s) could not be read" if result.errors else ""),
        err=True,
    )
    raise typer.Exit(result.exit_code)


@app.command()
def evaluate(
    data: Annotated[Path, typer.Argument(help="Data file: .dta, .sav, .csv or .parquet.")],
    outcome: Annotated[str, typer.Option(help="Outcome column.")],
    treatment: Annotated[str | None, typer.Option(help="Treatment column, coded 0/1.")] = None,
    covariates: Annotated[list[str] | None, typer.Option(help='Covariates: "a b c" or repeat the option.')] = None,
    formula: Annotated[str | None, typer.Option(help='E.g. "treat ~ age + I(age**2) + educ*re74".')] = None,
    estimator: Annotated[str, typer.Option(help="psm, ipw, aipw or all.")] = "all",
    caliper: Annotated[str, typer.Option(help="Caliper in SDs of the propensity logit, or none.")] = "0.2",
    replace: Annotated[bool, typer.Option("--replace/--no-replace", help="Match with replacement.")] = True,
    exact: Annotated[list[str] | None, typer.Option(help="Column to match exactly on (repeatable).")] = None,
    cluster: Annotated[str | None, typer.Option(help="Cluster column for the standard errors.")] = None,
    design: Annotated[str, typer.Option(help="cross_section or did.")] = "cross_section",
    time: Annotated[str | None, typer.Option(help="DiD: period column (whole numbers or dates).")] = None,
    group: Annotated[str | None, typer.Option(help="DiD: first treated period (0/empty = never).")] = None,
    id: Annotated[str | None, typer.Option("--id", help="DiD: unit column (omit: repeated cross-sections).")] = None,
    control_group: Annotated[str, typer.Option(help="DiD: never_treated or not_yet_treated.")] = "never_treated",
    base_period: Annotated[str, typer.Option(help="DiD: varying or universal.")] = "varying",
    out: Annotated[Path, typer.Option(help="Output folder (replaced atomically).")] = Path("evaluation"),
) -> None:
    """Effect of a treatment on an outcome in any data set: matching, IPW and AIPW (cross-section) or
    Callaway-Sant'Anna DiD (--design did); writes tables, plots, a report and manifest.json into --out."""
    with user_errors():
        from insats.evaluate.cli import run_evaluate

        run_evaluate(
            data, outcome, treatment, covariates, formula, estimator, caliper, replace, exact, cluster,
            design, time, group, id, control_group, base_period, out,
        )


@app.command()
def serve(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Serve every deployment in prefect.yaml (each study flow and the chain) from this process, so that runs
    can be triggered from the Prefect UI or `prefect deployment run`. Needs a Prefect server (PREFECT_API_URL);
    stop with Ctrl+C."""
    with user_errors():
        import os

        _load(config)
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


server_app = typer.Typer(
    help="The project's local Prefect server (under the config's paths.prefect_home), reused by every command.",
    no_args_is_help=True,
)
app.add_typer(server_app, name="server")


codebook_app = typer.Typer(help="Check a study-1 codebook's keywords.", no_args_is_help=True)
app.add_typer(codebook_app, name="codebook")


@codebook_app.command("check")
def codebook_check(
    codebook: Annotated[Path, typer.Argument(help="Codebook (.yaml or .qdc)")],
    corpus: Annotated[
        Path | None, typer.Option("--corpus", help="Folder of transcripts (.txt/.docx) to match the keywords in")
    ] = None,
) -> None:
    """For every keyword: the forms it is compared as, and with --corpus the words it matches (and how) and the
    frequent look-alike words it misses, to fix a codebook before coding."""
    with user_errors():
        from insats.tasks.interviews.codebook import load_codebook
        from insats.tasks.interviews.codebook_check import check_keywords, format_report, read_corpus

        texts = read_corpus(corpus) if corpus is not None else None
        typer.echo(format_report(check_keywords(load_codebook(codebook), texts), with_corpus=texts is not None))


@server_app.command("start")
def server_start(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Start the local server in the background, or report the one already running.

    Commands start it on first use anyway; INSATS_SERVER_START_TIMEOUT (seconds, default 90) bounds the wait."""
    with user_errors():
        import os

        _load(config)
        if os.environ.get("PREFECT_API_URL"):
            fail(
                f"PREFECT_API_URL is set ({os.environ['PREFECT_API_URL']}): insats uses that server and starts none",
                "unset PREFECT_API_URL to use the project's local server",
                code=2,
            )
        from insats.local_server import ensure_server

        record, started = ensure_server()
        typer.echo(f"{'Started' if started else 'Already running'}: {record.api_url} (pid {record.pid})")


@server_app.command("stop")
def server_stop(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Stop the local server (SIGTERM to its process group, SIGKILL after 10 s)."""
    with user_errors():
        _load(config)
        from insats.local_server import prefect_home, stop_server

        record = stop_server()
        typer.echo(f"Stopped {record.api_url} (pid {record.pid})" if record else f"not running ({prefect_home()})")


@server_app.command("status")
def server_status(config: ConfigOption = DEFAULT_CONFIG) -> None:
    """Print the local server's URL, pid and uptime, or "not running"."""
    with user_errors():
        _load(config)
        from datetime import timedelta

        from insats.local_server import prefect_home
        from insats.local_server import server_status as status

        record = status()
        if record is None:
            typer.echo(f"not running ({prefect_home()})")
            return
        uptime = timedelta(seconds=round(record.uptime_seconds))
        typer.echo(f"running: {record.api_url} (pid {record.pid}, up {uptime}, home {prefect_home()})")


@app.command()
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
        _load(config)
        from insats.history import FLOW_STUDIES, quarter_bounds, read_history
        from insats.runtime import prefect_api

        if quarter and since:
            fail("give --quarter or --since, not both", code=2)
        if study and study.replace("-", "_") not in set(FLOW_STUDIES.values()):
            fail(f"unknown study {study!r}", f"known: {', '.join(sorted(set(FLOW_STUDIES.values())))}", code=2)
        start, until = quarter_bounds(quarter) if quarter else (since.replace(tzinfo=UTC) if since else None, None)
        with prefect_api():
            df = read_history(since=start, until=until)
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
