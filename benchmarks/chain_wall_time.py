"""Wall time of the README's main job (`insats demo`) on the default demo size, in a fresh workspace.

Usage: python benchmarks/chain_wall_time.py [--persons N] [--repeat K]
Prints the wall time of the whole command (Prefect's embedded API start-up included), the chain alone as
the command reports it, and a cached re-run. Not a test: timings depend on the machine.
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def run(cmd: list[str], cwd: Path) -> tuple[float, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("PREFECT_")}
    started = time.perf_counter()
    proc = subprocess.run(cmd, cwd=cwd, env=env, capture_output=True, text=True, check=True)
    return time.perf_counter() - started, proc.stdout + proc.stderr


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--persons", type=int, default=3000)
    parser.add_argument("--repeat", type=int, default=1)
    args = parser.parse_args()
    for i in range(args.repeat):
        with tempfile.TemporaryDirectory() as tmp:
            ws = Path(tmp)
            (ws / "configs").mkdir()
            text = (ROOT / "configs" / "demo.yaml").read_text(encoding="utf-8")
            (ws / "configs" / "demo.yaml").write_text(
                text.replace("persons: 3000", f"persons: {args.persons}"), encoding="utf-8"
            )
            cfg = str(ws / "configs" / "demo.yaml")
            gen, _ = run(
                [
                    sys.executable,
                    "-m",
                    "insats",
                    "demo-data",
                    "--out",
                    str(ws / "data/raw/demo"),
                    "--persons",
                    str(args.persons),
                ],
                ws,
            )
            wall, out = run([sys.executable, "-m", "insats", "demo", "--config", cfg], ws)
            chain = float(re.search(r"Pipeline finished in ([\d.]+) s", out).group(1))
            cached, out2 = run([sys.executable, "-m", "insats", "run", "pipeline", "--config", cfg], ws)
            print(
                f"run {i + 1}: persons={args.persons} demo-data={gen:.1f}s  insats demo wall={wall:.1f}s "
                f"(chain {chain:.1f}s)  cached re-run wall={cached:.1f}s  cores={os.cpu_count()}"
            )
            shutil.rmtree(ws / "data", ignore_errors=True)


if __name__ == "__main__":
    main()
