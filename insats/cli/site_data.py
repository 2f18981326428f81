"""A site's data files: `insats init` (propose a config from them), `insats validate` (check one against a
suite) and `insats privacy-scan` (find clear identity numbers)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from insats.cli.common import (
    DEFAULT_CONFIG,
    ConfigOption,
    fail,
    user_errors,
)


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
