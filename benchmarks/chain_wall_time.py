"""Wall time of the README's main job (`insats demo`) from a fresh clone, against a trivial Prefect flow.

Fresh clone state (issue #14 item 4): ``git clone`` of this repository's committed HEAD into a temporary folder,
so there are no demo data, no ``__pycache__`` of the project's code and no ``.prefect``; the clone's code is the
code that runs (its ``insats/`` gets links to ``tasks/``, ``flows/``, ``schemas/``, the layout the editable
install maps, and the commands run with the clone as the current folder). Installed libraries keep their
bytecode, as on a user's machine. The demo inputs are written by ``insats demo`` itself, inside the clock.

Measured, each as one process from start to exit, on the same machine in the same run:

1. a trivial one-task Prefect flow in a fresh ``PREFECT_HOME`` (Prefect's temporary local server, its database
   created), then the same flow again (server database present);
2. ``insats demo`` cold (fresh clone, no data; starts the project's local server);
3. ``insats demo`` again, the server already running: every study unchanged (not entered), the brief not
   rewritten;
4. command overhead with the server up: ``insats history``, and ``insats run register`` (cached) minus its flow
   run (Prefect's "Beginning flow run" to its final state, from the log's timestamps);
5. ``insats server stop`` (not timed).

Goals: cold <= 2x the trivial flow, cached re-run <= 1.2x it, command overhead <= 3 s. Not a test: timings
depend on the machine; the figures go to benchmarks/README.md with the date and the machine.

Usage: python benchmarks/chain_wall_time.py [--repeat K] [--keep]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CPU: dict[str, float] = {}  # log name -> CPU seconds of that command (see timed)
TRIVIAL_FLOW = """
from prefect import flow, task

@task
def one() -> int:
    return 1

@flow
def trivial() -> int:
    return one()

if __name__ == "__main__":
    print(trivial())
"""


def clean_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "INSATS_"))}
    return {**env, "PYTHONIOENCODING": "utf-8", **extra}


def timed(cmd: list[str], cwd: Path, env: dict[str, str], log: Path) -> float:
    """Wall seconds of ``cmd``; a failed command stops the benchmark unless the chain itself finished (then the
    exit code is logged: the time is the chain's)."""
    started, before = time.perf_counter(), resource.getrusage(resource.RUSAGE_CHILDREN)
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True)
    seconds, after = time.perf_counter() - started, resource.getrusage(resource.RUSAGE_CHILDREN)
    # CPU seconds of the command and its waited-for children (not of a detached server): a machine's load
    # stretches wall time, much less CPU time
    CPU[log.stem] = round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 2)
    log.write_text(proc.stdout + proc.stderr, encoding="utf-8")
    if proc.returncode != 0 and "Pipeline finished in" in proc.stdout:
        print(f"note: {' '.join(cmd[-2:])} exited {proc.returncode} after the chain finished", flush=True)
    elif proc.returncode != 0:
        raise SystemExit(f"{' '.join(cmd)} exited {proc.returncode}; see {log}:\n{(proc.stdout + proc.stderr)[-3000:]}")
    return seconds


def flow_seconds(log: str, flow: str) -> float | None:
    """Seconds from Prefect's "Beginning flow run" to the run's final state line, from the log's timestamps."""
    stamp = r"^(\d\d):(\d\d):(\d\d\.\d+) "
    begin = re.search(rf"{stamp}.*Flow run '(\S+)' - Beginning flow run .* for flow '{flow}'", log, re.M)
    if begin is None:
        return None
    end = re.search(rf"{stamp}.*Flow run '{begin[4]}' - Finished in state", log, re.M)
    if end is None:
        return None
    seconds = [int(m[1]) * 3600 + int(m[2]) * 60 + float(m[3]) for m in (begin, end)]
    return round((seconds[1] - seconds[0]) % 86400, 2)


def fresh_clone(parent: Path) -> Path:
    """A clone of the committed HEAD whose own code is what `python -m insats` imports from inside it."""
    clone = parent / "insats"
    subprocess.run(["git", "clone", "--quiet", str(ROOT), str(clone)], check=True)
    for sub in ("tasks", "flows", "schemas"):  # the editable install's package-dir mapping, as links
        (clone / "insats" / sub).symlink_to(Path("..") / sub, target_is_directory=True)
    assert not list(clone.rglob("__pycache__")) and not (clone / ".prefect").exists() and not (clone / "data").exists()
    return clone


def one_run(parent: Path, logs: Path) -> dict:
    clone = fresh_clone(parent)
    env = clean_env(PYTHONPATH=str(clone))
    check = subprocess.run(
        [sys.executable, "-c", "import insats.tasks.evaluation.panel as m; print(m.__file__)"],
        cwd=clone, env=env, capture_output=True, text=True, check=True,
    ).stdout.strip()  # fmt: skip
    if not check.startswith(str(clone)):
        raise SystemExit(f"the clone's code is not the code that runs: {check}")
    trivial = parent / "trivial_flow.py"
    trivial.write_text(TRIVIAL_FLOW, encoding="utf-8")
    t_env = clean_env(
        PREFECT_HOME=str(parent / "trivial_prefect_home"),
        PREFECT_SERVER_ANALYTICS_ENABLED="false",
        DO_NOT_TRACK="1",
        PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS="300",  # a loaded machine took > 90 s
    )
    out = {"commit": subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=clone, capture_output=True,
                                    text=True).stdout.strip()}  # fmt: skip
    out["trivial_cold"] = timed([sys.executable, str(trivial)], parent, t_env, logs / "trivial_cold.log")
    out["trivial_warm"] = timed([sys.executable, str(trivial)], parent, t_env, logs / "trivial_warm.log")
    insats = [sys.executable, "-m", "insats"]
    try:
        out["demo_cold"] = timed([*insats, "demo"], clone, env, logs / "demo_cold.log")
        text = (logs / "demo_cold.log").read_text(encoding="utf-8")
        found = re.search(r"Pipeline finished in ([\d.]+) s", text)
        out["demo_cold_chain"] = float(found.group(1)) if found else None
        out["demo_cached"] = timed([*insats, "demo"], clone, env, logs / "demo_cached.log")
        text = (logs / "demo_cached.log").read_text(encoding="utf-8")
        found = re.search(r"Pipeline finished in ([\d.]+) s", text)
        out["demo_cached_chain"] = float(found.group(1)) if found else None
        cached = len(re.findall(r"Finished in state Cached", text))
        completed = len(re.findall(r"Task run .* Finished in state Completed", text))
        skipped = len(re.findall(r"study \S+ unchanged since run .*, skipped", text))
        out["cached_rerun_task_states"] = {"cached": cached, "completed": completed, "studies_skipped": skipped}
        # Command overhead with the server up: a read-only command, and a cached study run minus its flow run.
        out["history"] = timed([*insats, "history"], clone, env, logs / "history.log")
        out["run_register_cached"] = timed([*insats, "run", "register"], clone, env, logs / "run_register.log")
        flow = flow_seconds((logs / "run_register.log").read_text(encoding="utf-8"), "register")
        out["run_register_flow"] = flow
        out["run_register_overhead"] = round(out["run_register_cached"] - flow, 2) if flow is not None else None
    finally:
        subprocess.run([*insats, "server", "stop"], cwd=clone, env=env, capture_output=True, text=True, check=False)
    out["cpu_seconds"] = dict(CPU)
    out["ratio_cold"] = round(out["demo_cold"] / out["trivial_cold"], 2)
    out["ratio_cached"] = round(out["demo_cached"] / out["trivial_cold"], 2)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--repeat", type=int, default=1)
    parser.add_argument("--keep", action="store_true", help="keep the temporary folders (logs, clone)")
    args = parser.parse_args()
    machine = {
        "cores": os.cpu_count(),
        "python": platform.python_version(),
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "load_average_at_start": os.getloadavg(),
    }
    runs = []
    for i in range(args.repeat):
        parent = Path(tempfile.mkdtemp(prefix="chain_wall_time_"))
        logs = parent / "logs"
        logs.mkdir()
        try:
            runs.append(one_run(parent, logs))
        finally:
            if not args.keep:
                shutil.rmtree(parent, ignore_errors=True)
        r = runs[-1]
        print(
            f"run {i + 1}: trivial flow cold {r['trivial_cold']:.1f}s (warm {r['trivial_warm']:.1f}s); insats demo "
            f"cold {r['demo_cold']:.1f}s (chain {r['demo_cold_chain']}s) = {r['ratio_cold']}x; cached re-run "
            f"{r['demo_cached']:.1f}s (chain {r['demo_cached_chain']}s) = {r['ratio_cached']}x; "
            f"task states {r['cached_rerun_task_states']}; server up: history {r['history']:.1f}s, run register "
            f"(cached) {r['run_register_cached']:.1f}s of which flow {r['run_register_flow']}s",
            flush=True,
        )
    print(json.dumps({"machine": machine, "runs": runs}, indent=1))


if __name__ == "__main__":
    main()
