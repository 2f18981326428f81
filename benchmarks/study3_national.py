"""Study 3 as the demo config runs it, at national scale, through the real CLI (issue #14 item 1).

The register is ``insats.demo.register.make_register`` at ``--persons`` x ``--months`` (500k x 60 = 30M
person-months), written as SPSS ``.sav`` by ``write_register``; every other input is the demo's (3000-person
demo data for studies 1 and 2's documents). The config is ``configs/demo.yaml`` with the register period set to
the generated months, so study 3 runs the demo's estimator set (6 estimators x 3 horizons x 4 outcomes), the
49-replicate bootstrap, heterogeneity, sensitivity and the dynamics around the start.

Commands run, each as its own process (wall time, peak RSS of its process tree sampled every 0.1 s by psutil):

1. ``insats server start`` (the project's local Prefect server; its start is reported, not counted);
2. ``insats run employer-interviews`` and ``insats run intervention-mapping`` (study 1 on the demo inputs, study
   2 on the national register: they publish the candidates study 3 reads; reported, not counted);
3. ``insats run register`` and ``insats run outcome-evaluation``: the measured pair;
4. the read floor: a process that only reads the four ``.sav`` files with ``pyreadstat.read_sav``.

Per node: Prefect task-run durations read from the server's API after each flow (sum over fanned-out runs,
the longest single run and the count). Goal (issue #14): register + outcome evaluation <= 3x the read floor,
peak <= 4 GB. Finally ``insats server stop``.

Usage (from the repository root)::

    /work/venv/bin/python benchmarks/study3_national.py all --persons 50000 --workdir /tmp/study3_50k
    /work/venv/bin/python benchmarks/study3_national.py report --workdir /tmp/study3_50k

Not a test: the figures depend on the machine; they are recorded in benchmarks/README.md.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import platform
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import defaultdict
from datetime import UTC, datetime
from pathlib import Path

import psutil

ROOT = Path(__file__).resolve().parents[1]
FIRST_MONTH = "2021-01"
KINDS = ("persons", "assistance", "spells", "outcomes")


def clean_env() -> dict[str, str]:
    """The environment without the developer's Prefect or insats settings (as the chain tests run the CLI)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "INSATS_"))}
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def monitored(
    cmd: list[str], cwd: Path, log: Path, check: bool = True, deadline: float | None = None, max_gb: float = 0.0
) -> dict:
    """Run ``cmd``; wall seconds, peak RSS (GB) of its whole process tree and of its largest process, exit code.

    ``deadline`` (UNIX time): the command's process group is stopped then (SIGTERM, SIGKILL after 20 s) and
    ``stopped_at_deadline`` is set."""
    peak_tree = peak_one = 0
    stopped = False
    started = time.perf_counter()
    with log.open("w", encoding="utf-8") as out:
        proc = subprocess.Popen(
            cmd, cwd=cwd, env=clean_env(), stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
        root = psutil.Process(proc.pid)
        while proc.poll() is None:
            over_memory = max_gb > 0 and peak_tree > max_gb * 1e9  # a shared machine: never swap it to death
            if (deadline is not None and time.time() > deadline or over_memory) and not stopped:
                stopped = True
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(timeout=20)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
                break
            try:
                procs = [root, *root.children(recursive=True)]
            except psutil.NoSuchProcess:
                break
            rss = []
            for p in procs:
                with contextlib.suppress(psutil.NoSuchProcess):
                    rss.append(p.memory_info().rss)
            peak_tree, peak_one = max(peak_tree, sum(rss)), max(peak_one, max(rss, default=0))
            time.sleep(0.1)
        code = proc.wait()
    seconds = time.perf_counter() - started
    if code != 0 and check and not stopped:
        raise SystemExit(f"{' '.join(cmd)} exited {code}; see {log}:\n{log.read_text(encoding='utf-8')[-3000:]}")
    return {
        "seconds": round(seconds, 1),
        "peak_tree_gb": round(peak_tree / 1e9, 2),
        "peak_one_gb": round(peak_one / 1e9, 2),
        "exit_code": code,
        "stopped_at_deadline": stopped,
        "stopped_at_memory_cap": stopped and max_gb > 0 and peak_tree > max_gb * 1e9,
    }


def write_candidates(ws: Path, intervention: str = "INS01") -> Path:
    """Publish study 2's candidate table the way a test fixture does (manifest + checksum), with the demo's
    planted intervention as the one eligible candidate: for ``--candidates fixture`` or when studies 1-2
    cannot run in this tree."""
    import hashlib

    import pandas as pd

    folder = ws / "data" / "processed" / "intervention_mapping"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "candidates.parquet"
    pd.DataFrame({"intervention_id": [intervention], "rank": [1], "eligible": [True]}).to_parquet(path, index=False)
    digest = hashlib.sha256(path.read_bytes()).hexdigest()
    manifest = {
        "study": "intervention_mapping",
        "inputs": [],
        "run": {"flow_run_id": "benchmark", "flow_run_name": "benchmark-fixture", "created_at": time.strftime("%FT%T")},
        "tables": {"candidates": {"file": path.name, "sha256": digest, "rows": 1}},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest), encoding="utf-8")
    return path


def last_month(months: int) -> str:
    year, month = divmod(int(FIRST_MONTH[:4]) * 12 + int(FIRST_MONTH[5:]) - 1 + months - 1, 12)
    return f"{year:04d}-{month + 1:02d}"


def prepare(args: argparse.Namespace) -> dict:
    """A project-shaped workspace: demo inputs (3000 persons) with the register replaced by the national one."""
    from insats.demo import write_demo_data
    from insats.demo.register import make_register, write_register

    ws = Path(args.workdir) / "ws"
    if ws.exists():
        shutil.rmtree(ws)
    (ws / "configs").mkdir(parents=True)
    text = (ROOT / "configs" / "demo.yaml").read_text(encoding="utf-8")
    period = f'period: {{first_month: "{FIRST_MONTH}", last_month: "{last_month(args.months)}"}}'
    text, n = re.subn(r"period: \{[^}]*\}", period, text)
    if n != 1:
        raise SystemExit("configs/demo.yaml: no register period line to replace")
    (ws / "configs" / "demo.yaml").write_text(text, encoding="utf-8")
    raw = ws / "data" / "raw" / "demo"
    t0 = time.perf_counter()
    write_demo_data(raw, seed=args.seed, persons=3000)
    frames, truth = make_register(seed=args.seed, n_persons=args.persons, first_month=FIRST_MONTH, n_months=args.months)
    shutil.rmtree(raw / "register")
    write_register(frames, raw / "register")
    info = {
        "persons": args.persons,
        "months": args.months,
        "person_months": args.persons * args.months,
        "rows": {k: len(v) for k, v in frames.items()},
        "sav_mb": {k: round((raw / "register" / f"{k}.sav").stat().st_size / 1e6, 1) for k in KINDS},
        "true_att_12m": truth["true_att_self_sufficiency_12m"],
        "prepare_seconds": round(time.perf_counter() - t0, 1),
    }
    (Path(args.workdir) / "prepare.json").write_text(json.dumps(info, indent=1), encoding="utf-8")
    print(json.dumps(info), flush=True)
    return info


READ_FLOOR = """
import sys, pyreadstat
for path in sys.argv[1:]:
    df, meta = pyreadstat.read_sav(path)
    del df
"""


def _prefect_home(ws: Path) -> Path:
    return ws / ".prefect"


def task_durations(api_url: str, flow_name: str) -> list[dict]:
    """Task runs of the latest run of ``flow_name``: per node name, total seconds, longest run, count, states."""
    os.environ["PREFECT_API_URL"] = api_url
    from prefect.client.orchestration import get_client
    from prefect.client.schemas.filters import FlowFilter, FlowFilterName, FlowRunFilter, FlowRunFilterId
    from prefect.client.schemas.sorting import FlowRunSort

    with get_client(sync_client=True) as client:
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=[flow_name])), sort=FlowRunSort.START_TIME_DESC, limit=1
        )
        if not runs:
            return []
        run = runs[0]
        tasks, offset = [], 0
        while True:  # the API pages at 200
            page = client.read_task_runs(
                flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[run.id])), limit=200, offset=offset
            )
            tasks += page
            offset += len(page)
            if len(page) < 200:
                break
    by_node: dict[str, dict] = defaultdict(lambda: {"seconds": 0.0, "longest": 0.0, "runs": 0, "states": set()})
    for t in tasks:
        name = re.sub(r"-[0-9a-f]{3,}$", "", t.name)
        end = t.end_time or (datetime.now(UTC) if t.start_time else None)  # a running task: so far
        seconds = (end - t.start_time).total_seconds() if t.start_time and end else 0.0
        row = by_node[name]
        row["seconds"] += seconds
        row["longest"] = max(row["longest"], seconds)
        row["runs"] += 1
        row["states"].add(t.state_name or "?")
    flow_seconds = run.total_run_time.total_seconds() if run.total_run_time else float("nan")
    rows = [
        {
            "node": k,
            "seconds": round(v["seconds"], 1),
            "longest": round(v["longest"], 1),
            "runs": v["runs"],
            "states": ",".join(sorted(v["states"])),
        }  # fmt: skip
        for k, v in sorted(by_node.items(), key=lambda kv: -kv[1]["seconds"])
    ]
    return [{"node": "(flow run)", "seconds": round(flow_seconds, 1), "longest": None, "runs": 1, "states": ""}, *rows]


def run(args: argparse.Namespace) -> dict:
    work = Path(args.workdir)
    ws = work / "ws"
    cfg = str(ws / "configs" / "demo.yaml")
    insats = [sys.executable, "-m", "insats"]
    logs = work / "logs"
    logs.mkdir(exist_ok=True)
    info: dict = {"commands": {}, "nodes": {}}
    for folder in (ws / ".prefect", ws / "data" / "interim", ws / "data" / "processed", ws / "reports"):
        shutil.rmtree(folder, ignore_errors=True)  # every run starts cold: no cache, no published tables
    sav = [str(ws / "data" / "raw" / "demo" / "register" / f"{k}.sav") for k in KINDS]
    deadline = None
    if args.deadline:  # HH:MM UTC today
        hh, mm = map(int, args.deadline.split(":"))
        now = time.gmtime()
        deadline = time.time() + ((hh * 60 + mm) - (now.tm_hour * 60 + now.tm_min)) * 60 - now.tm_sec
    try:
        print("== read floor (pyreadstat.read_sav of the four .sav files)", flush=True)
        info["commands"]["read floor"] = monitored(
            [sys.executable, "-c", READ_FLOOR, *sav], ws, logs / "read_floor.log"
        )
        print(f"   {info['commands']['read floor']}", flush=True)
        steps = [("server start", ["server", "start"])]
        if args.candidates == "study2":
            steps += [("employer-interviews", ["run", "employer-interviews"])]
        steps += [("register", ["run", "register"])]
        if args.candidates == "study2":
            steps += [("intervention-mapping", ["run", "intervention-mapping"])]
        else:
            write_candidates(ws)
            info["candidates"] = "written by the benchmark (INS01 the one eligible candidate; --candidates fixture)"
        steps += [("outcome-evaluation", ["run", "outcome-evaluation"])]
        upstream = ("employer-interviews", "intervention-mapping")
        for name, cmd in steps:
            if name == "intervention-mapping" and info["commands"]["employer-interviews"]["exit_code"]:
                continue
            if name == "outcome-evaluation" and info["commands"]["register"]["stopped_at_deadline"]:
                info["commands"][name] = {"seconds": float("nan"), "peak_tree_gb": float("nan"),
                                          "peak_one_gb": float("nan"), "exit_code": None,
                                          "stopped_at_deadline": True}  # fmt: skip
                continue
            print(f"== insats {' '.join(cmd)}  ({time.strftime('%H:%M:%S', time.gmtime())} UTC)", flush=True)
            log = logs / f"{name.replace(' ', '_')}.log"
            info["commands"][name] = monitored(
                [*insats, *cmd, "--config", cfg],
                ws,
                log,
                check=name not in upstream,
                deadline=deadline if name in ("register", "outcome-evaluation") else None,
                max_gb=args.max_gb,
            )
            print(f"   {info['commands'][name]}", flush=True)
            if name in upstream:
                if info["commands"][name]["exit_code"]:
                    tail = " ".join(log.read_text(encoding="utf-8").strip().splitlines()[-2:])
                    info["candidates"] = f"written by the benchmark (INS01): {name} failed in this tree: {tail}"
                    print(f"   {info['candidates']}", flush=True)
                    write_candidates(ws)
                elif name == "intervention-mapping":
                    info["candidates"] = "published by study 2 (intervention-mapping) on the national register"
        from insats.local_server import read_record

        record = read_record(_prefect_home(ws))
        if record is not None:
            for flow_name in ("register", "intervention-mapping", "outcome-evaluation"):
                try:
                    info["nodes"][flow_name] = task_durations(record.api_url, flow_name)
                except Exception as exc:  # noqa: BLE001 - the timings above stand without the per-node table
                    print(f"   task runs of {flow_name} not read: {exc}", flush=True)
            info["server_rss_gb"] = round(psutil.Process(record.pid).memory_info().rss / 1e9, 2)
    finally:
        subprocess.run([*insats, "server", "stop", "--config", cfg], cwd=ws, env=clean_env(), check=False)
    c = info["commands"]
    measured = c["register"]["seconds"] + c["outcome-evaluation"]["seconds"]
    info["summary"] = {
        "register_plus_evaluation_seconds": round(measured, 1),
        "read_floor_seconds": c["read floor"]["seconds"],
        "ratio_to_read_floor": round(measured / c["read floor"]["seconds"], 2),
        "peak_tree_gb": max(c["register"]["peak_tree_gb"], c["outcome-evaluation"]["peak_tree_gb"]),
        "outcome_evaluation_complete": c["outcome-evaluation"]["exit_code"] == 0,
        "candidates": info.get("candidates"),
    }
    info["machine"] = {
        "cores": os.cpu_count(),
        "memory_gb": round(psutil.virtual_memory().total / 1e9, 1),
        "python": platform.python_version(),
        "date_utc": time.strftime("%Y-%m-%d %H:%M", time.gmtime()),
        "commit": subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"], cwd=ROOT, capture_output=True, text=True
        ).stdout.strip(),
    }
    (work / "run.json").write_text(json.dumps(info, indent=1, default=str), encoding="utf-8")
    report(args)
    return info


def report(args: argparse.Namespace) -> None:
    work = Path(args.workdir)
    prep = json.loads((work / "prepare.json").read_text(encoding="utf-8"))
    info = json.loads((work / "run.json").read_text(encoding="utf-8"))
    print(f"\n== {prep['persons']:,} persons x {prep['months']} months = {prep['person_months']:,} person-months; "
          f"rows {prep['rows']}; .sav MB {prep['sav_mb']}")  # fmt: skip
    print(f"{'command':<24}{'seconds':>10}{'peak tree GB':>14}{'largest proc GB':>17}")
    for name, c in info["commands"].items():
        note = " STOPPED at the deadline" if c.get("stopped_at_deadline") else f" exit {c.get('exit_code')}"
        note = " STOPPED at the memory cap" if c.get("stopped_at_memory_cap") else note
        print(f"{name:<24}{c['seconds']:>10.1f}{c['peak_tree_gb']:>14.2f}{c['peak_one_gb']:>17.2f}{note}")
    s = info["summary"]
    print(
        f"register + outcome-evaluation {s['register_plus_evaluation_seconds']} s = {s['ratio_to_read_floor']}x "
        f"the read floor ({s['read_floor_seconds']} s); peak {s['peak_tree_gb']} GB (goal <= 3x, <= 4 GB)"
    )
    for flow_name, rows in info["nodes"].items():
        print(f"\n  {flow_name}: task runs (seconds summed over fanned-out runs; longest single run)")
        for r in rows:
            longest = "" if r["longest"] is None else f"{r['longest']:>9.1f}"
            print(f"    {r['node']:<34}{r['seconds']:>9.1f}{longest}  x{r['runs']} {r['states']}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("step", choices=["prepare", "run", "report", "all"])
    parser.add_argument("--persons", type=int, default=500_000)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--workdir", default="/tmp/study3_national")
    parser.add_argument("--keep", action="store_true", help="keep the workspace (default: removed after `all`)")
    parser.add_argument(
        "--candidates",
        choices=["study2", "fixture"],
        default="study2",
        help="study2: run studies 1 and 2 for study 3's candidates; fixture: publish INS01 as the candidate",
    )
    parser.add_argument("--max-gb", type=float, default=12.0, help="stop a command whose tree exceeds this RSS")
    parser.add_argument("--deadline", default=None, help="HH:MM UTC: stop the register/evaluation then (reported)")
    args = parser.parse_args()
    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    if args.step == "all":
        prepare(args)
        run(args)
        if not args.keep:
            shutil.rmtree(Path(args.workdir) / "ws", ignore_errors=True)
        return
    {"prepare": prepare, "run": run, "report": report}[args.step](args)


if __name__ == "__main__":
    main()
