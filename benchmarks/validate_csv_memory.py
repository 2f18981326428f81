"""Peak memory and wall time of ``insats validate`` on a large CSV register extract (issue 15, item 4).

Setup and fairness notes:
- The CSV has the demo generator's assistance columns (``insats.demo.register``: personnummer, hushall_id,
  manad, belopp; comma-separated, UTF-8), about 37 bytes a row. Persons are drawn from a pool of valid
  identity numbers, one row per person and month (so the person-month uniqueness check has real work), with
  a handful of planted faults (an amount above the ceiling, a duplicated person-month, an unparseable month)
  so the run exercises the failure paths, not only the happy path. Months lie in the demo config's period.
- It is written to /tmp (not the project's data tree) in blocks, so writing it needs little memory; it is
  deleted afterwards unless ``--keep``.
- ``insats validate`` runs as a child process (the venv's ``insats`` console script) with ``--config
  configs/demo.yaml``, ``--quarantine`` and ``--out`` in /tmp; peak RSS is the child's ``ru_maxrss``
  from ``resource.getrusage`` (RUSAGE_CHILDREN, the largest child: GX, pandas and the Python runtime
  included). Wall time includes the two passes (validation, then the quarantine/passed split) and imports.
- The machine has 2 cores shared with other work: wall times vary; the peak RSS is the figure that matters.
- Usage: ``python benchmarks/validate_csv_memory.py --gb 5`` (default 0.5 GB).
"""

from __future__ import annotations

import argparse
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
FAULTS = 3


def _identity_numbers(n: int, rng: np.random.Generator) -> np.ndarray:
    """``n`` distinct valid personnummer ``YYYYMMDD-NNNC`` (Luhn check digit computed with numpy)."""
    year = rng.integers(1950, 2000, 2 * n)
    nine = (year % 100) * 10**7 + rng.integers(1, 13, 2 * n) * 10**5 + rng.integers(1, 29, 2 * n) * 1000
    nine = nine + rng.integers(0, 1000, 2 * n)
    nine, first = np.unique(nine, return_index=True)
    year = year[first]
    keep = rng.permutation(nine.size)[:n]
    nine, year = nine[keep], year[keep]
    digits = (nine[:, None] // 10 ** np.arange(8, -1, -1)) % 10  # left to right
    doubled = digits * np.array([2, 1, 2, 1, 2, 1, 2, 1, 2])
    total = (doubled // 10 + doubled % 10).sum(axis=1)
    check = (10 - total % 10) % 10
    text = [f"{y // 100}{v:09d}" for y, v in zip(year, nine, strict=True)]
    return np.asarray([f"{t[:8]}-{t[8:]}{c}" for t, c in zip(text, check, strict=True)])


def write_csv(path: Path, target_bytes: int, seed: int = 15) -> int:
    """Write the assistance CSV in blocks of person-months until ``target_bytes``; return the data rows."""
    rng = np.random.default_rng(seed)
    months = np.array([f"{y}{m:02d}" for y in range(2021, 2025) for m in range(1, 13)])  # the demo period
    pool = _identity_numbers(int(target_bytes / 30 / months.size) + 20_000, rng)  # rows are >= 30 bytes: no wrap
    rows = 0
    with open(path, "w", encoding="utf-8", newline="\n") as fh:
        fh.write("personnummer,hushall_id,manad,belopp\n")
        person = 0
        while fh.tell() < target_bytes:
            ids = pool[(person + np.arange(20_000)) % pool.size]
            person += 20_000
            pnr = np.repeat(ids, months.size)
            household = np.char.add("H", np.repeat(np.arange(person - 20_000, person), months.size).astype(str))
            month = np.tile(months, ids.size)
            amount = np.round(rng.gamma(2.0, 4000.0, pnr.size), 2).astype(str)
            if rows == 0:  # planted faults, in the first block
                amount[10] = "9999999"  # above the amount ceiling
                month[100] = "2021x"  # not a month
                pnr[200], month[200] = pnr[201], month[201]  # a person-month twice
            lines = np.char.add(np.char.add(np.char.add(np.char.add(pnr, ","), household), ","), month)
            fh.write("\n".join(np.char.add(np.char.add(lines, ","), amount).tolist()) + "\n")
            rows += pnr.size
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--gb", type=float, default=0.5, help="size of the generated CSV in GB (1e9 bytes)")
    parser.add_argument("--dir", type=Path, default=Path("/tmp/insats_validate_bench"))
    parser.add_argument("--keep", action="store_true", help="keep the generated CSV and outputs")
    parser.add_argument("--reuse", action="store_true", help="validate the CSV a --keep run left in --dir")
    args = parser.parse_args()
    args.dir.mkdir(parents=True, exist_ok=True)
    csv = args.dir / "utbetalningar.csv"
    t0 = time.perf_counter()
    if args.reuse and csv.is_file():
        with open(csv, "rb") as fh:
            rows = sum(block.count(b"\n") for block in iter(lambda: fh.read(1 << 24), b"")) - 1
    else:
        rows = write_csv(csv, int(args.gb * 1e9))
    print(f"CSV {csv}: {csv.stat().st_size / 1e9:.2f} GB, {rows:,} rows ({time.perf_counter() - t0:.0f} s)", flush=True)
    command = [
        str(Path(sys.executable).parent / "insats"), "validate", str(csv), "--suite", "input.assistance",
        "--config", str(ROOT / "configs" / "demo.yaml"), "--out", str(args.dir / "out"),
        "--quarantine", str(args.dir / "q"),
    ]  # fmt: skip
    t0 = time.perf_counter()
    done = subprocess.run(command, capture_output=True, text=True, check=False)
    wall = time.perf_counter() - t0
    peak_gb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024 / 1e9  # Linux: kilobytes
    print(done.stdout[-3000:], done.stderr[-2000:], sep="\n")
    print(f"exit code {done.returncode} (1 expected: planted faults); wall {wall:.0f} s; peak RSS {peak_gb:.2f} GB")
    print(f"throughput {csv.stat().st_size / 1e6 / wall:.1f} MB/s; {rows / wall:,.0f} rows/s")
    if not args.keep:
        shutil.rmtree(args.dir, ignore_errors=True)


if __name__ == "__main__":
    main()
