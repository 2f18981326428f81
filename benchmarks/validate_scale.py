"""Scale benchmark for the steward's `insats validate`: wall time and peak memory on the outcomes extract.

Generates a register extract with the demo generator (``insats.demo.register.make_register``; ``--persons``
persons x ``--months`` months -> persons x months outcome rows, the biggest file), writes it as SPSS .sav
(as the demo does) or Parquet, writes a config whose stated period covers the months, then times

    python -m insats validate <work>/raw/outcomes.<fmt> --suite input.outcomes --config ... --out ... --quarantine ...

in a child process, reporting wall time and the child's peak resident memory (``resource.getrusage``).
Target (issue 3): 500,000 persons x 60 months = 30 million rows in < 10 min with peak < 8 GB on 2 cores:

    /work/venv/bin/python benchmarks/validate_scale.py --persons 500000 --months 60 --work /tmp/validate-scale

Generation itself is not timed (and at full size takes several minutes and a few GB).
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]


def generate(work: Path, persons: int, months: int, fmt: str, seed: int) -> tuple[Path, Path]:
    """Write the outcomes extract and a config for it under ``work``; return (extract, config)."""
    import pandas as pd
    import pyreadstat

    from insats.demo.register import FILE_LABELS, VALUE_LABELS, VARIABLE_LABELS, make_register

    raw = work / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    extract = raw / f"outcomes.{fmt}"
    first = "2021-01"
    if not extract.exists():
        started = time.perf_counter()
        frames, _ = make_register(seed=seed, n_persons=persons, first_month=first, n_months=months)
        df = frames["outcomes"]
        del frames
        if fmt == "sav":
            pyreadstat.write_sav(
                df,
                str(extract),
                file_label=FILE_LABELS["outcomes"],
                column_labels={c: VARIABLE_LABELS.get(c, c) for c in df.columns},
                variable_value_labels={c: v for c, v in VALUE_LABELS.items() if c in df.columns},
            )
        else:
            df.to_parquet(extract, index=False)
        print(
            f"generated {len(df):,} rows -> {extract} ({extract.stat().st_size / 1e6:.0f} MB) "
            f"in {time.perf_counter() - started:.0f} s",
            flush=True,
        )
    config = yaml.safe_load((ROOT / "configs" / "demo.yaml").read_text(encoding="utf-8"))
    last = pd.Period(first, freq="M") + (months - 1)
    config["root"] = str(work)
    config["paths"] = {
        **config["paths"],
        "raw": "raw",
        "interim": "interim",
        "processed": "processed",
        "reports": "reports",
        "prefect_home": ".prefect",
    }
    config["register"]["period"] = {"first_month": first, "last_month": str(last)}
    (work / "configs").mkdir(exist_ok=True)
    cfg_path = work / "configs" / "bench.yaml"
    cfg_path.write_text(yaml.safe_dump(config, allow_unicode=True, sort_keys=False), encoding="utf-8")
    return extract, cfg_path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--persons", type=int, default=50_000)
    parser.add_argument("--months", type=int, default=60)
    parser.add_argument("--format", choices=("sav", "parquet"), default="sav")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--work", type=Path, default=Path("/tmp/insats-validate-scale"))
    args = parser.parse_args()
    work = args.work.resolve()
    extract, cfg = generate(work, args.persons, args.months, args.format, args.seed)
    cmd = [
        sys.executable,
        "-m",
        "insats",
        "validate",
        str(extract),
        "--suite",
        "input.outcomes",
        "--config",
        str(cfg),
        "--out",
        str(work / "out"),
        "--quarantine",
        str(work / "quarantine"),
    ]
    env = {**os.environ, "PYTHONIOENCODING": "utf-8"}
    started = time.perf_counter()
    proc = subprocess.run(cmd, capture_output=True, text=True, env=env, cwd=work)
    wall = time.perf_counter() - started
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024**2  # ru_maxrss is KiB on Linux
    tail = proc.stdout.strip().splitlines()
    print("\n".join(tail[-6:]))
    if proc.stderr.strip():
        print(proc.stderr.strip()[-2000:], file=sys.stderr)
    figures = {
        "persons": args.persons,
        "months": args.months,
        "format": args.format,
        "file_mb": round(extract.stat().st_size / 1e6, 1),
        "exit_code": proc.returncode,
        "wall_seconds": round(wall, 1),
        "peak_rss_gb": round(peak_gb, 2),
        "cpus": os.cpu_count(),
    }
    print(json.dumps(figures))
    (work / "figures.json").write_text(json.dumps(figures, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
