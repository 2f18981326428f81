"""`insats demo-data`, `insats demo` and `insats run`: make the demo inputs and run the chain or one study."""

from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Annotated, Any

import typer

from insats.cli.common import (
    DEFAULT_CONFIG,
    AddressOption,
    ConfigOption,
    LangOption,
    Runner,
    RunnerOption,
    Target,
    check_key,
    load_command_config,
    user_errors,
)
from insats.studies import get_study


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


def demo(
    config: ConfigOption = DEFAULT_CONFIG,
    task_runner: RunnerOption = Runner.thread,
    dask_address: AddressOption = None,
    lang: LangOption = None,
) -> None:
    """Make the demo inputs (if absent) and run the whole chain on them, offline."""
    with user_errors():
        cfg = load_command_config(config)
        check_key(cfg)
        if not cfg.paths.raw.exists() or not any(cfg.paths.raw.iterdir()):
            from insats.demo import write_demo_data

            typer.echo(f"Writing demo inputs to {cfg.paths.raw} ...")
            write_demo_data(cfg.paths.raw, seed=cfg.demo.seed, persons=cfg.demo.persons)
        started = time.perf_counter()
        result = _run_flow(Target.pipeline, config, task_runner, dask_address, lang)
        typer.echo(f"Pipeline finished in {time.perf_counter() - started:.1f} s. Outputs:")
        _print_outputs(result)
        typer.secho(f"Seminar brief: {result['seminar_brief']['brief']}", fg=typer.colors.GREEN)


def run(
    target: Annotated[Target, typer.Argument(help="The whole chain, or one study.")] = Target.pipeline,
    config: ConfigOption = DEFAULT_CONFIG,
    task_runner: RunnerOption = Runner.thread,
    dask_address: AddressOption = None,
    lang: LangOption = None,
) -> None:
    """Run the chain or one study flow. A study reads the validated outputs its predecessor last published."""
    with user_errors():
        check_key(load_command_config(config))
        result = _run_flow(target, config, task_runner, dask_address, lang)
        typer.echo(f"{target.value} finished. Outputs:")
        _print_outputs(result if target is Target.pipeline else {target.value: result})


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
    from insats.runtime import dask_scheduler, imports_without_gc, make_task_runner, prefect_api

    study = get_study(target.value)
    extra = {"lang": lang} if study.name in ("pipeline", "seminar_brief") else {}
    with _data_tree(config_path), ExitStack() as api:
        with imports_without_gc(freeze=True):  # Prefect (after the API URL is set) and the flow's modules
            api.enter_context(prefect_api())
            flow = study.load_flow()  # this stage's flow module only (the chain's imports them all)
        if runner is Runner.dask:
            with dask_scheduler(dask_address) as address:
                if target is Target.pipeline:
                    return flow(str(config_path), task_runner="dask", dask_address=address, **extra)
                return flow.with_options(task_runner=make_task_runner("dask", address))(str(config_path), **extra)
        if target is Target.pipeline:
            return flow(str(config_path), **extra)
        # the chain's runner (2 threads), not Prefect's default pool of cpu + 4: each task may hold a panel
        return flow.with_options(task_runner=make_task_runner("thread"))(str(config_path), **extra)


def _print_outputs(result: dict[str, Any]) -> None:
    for study, outputs in result.items():
        if isinstance(outputs, dict):
            for name, path in outputs.items():
                typer.echo(f"  {study}.{name}: {path}")
