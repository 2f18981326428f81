"""What every ``insats`` command shares: the default config, the run targets, the shared options and the error
handling that turns an exception into one clear message."""

from __future__ import annotations

import traceback
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from insats.provenance import PROJECT_ROOT
from insats.studies import PIPELINE, STUDIES

DEFAULT_CONFIG = PROJECT_ROOT / "configs" / "demo.yaml"

# `insats run` targets: the chain and every stage of the study registry (plus `seminar`, the brief's short name).
Target = StrEnum("Target", {s.name: s.slug for s in (PIPELINE, *STUDIES)} | {"seminar": "seminar"})


class Runner(StrEnum):
    thread = "thread"
    dask = "dask"


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


def load_command_config(config: Path) -> Any:
    from insats.runtime import configure_prefect_home, imports_without_gc

    with imports_without_gc():  # pandas (insats.storage) is imported here
        from insats.config import load_config
        from insats.storage import protect_raw

        cfg = load_config(config)
    configure_prefect_home(cfg)
    protect_raw(cfg.paths.raw)
    return cfg


def check_key(cfg: Any) -> None:
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
