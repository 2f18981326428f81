"""Compare two demo runs' published tables, table by table: the check that a restructuring kept behaviour.

    python benchmarks/compare_published.py BEFORE/data/processed AFTER/data/processed [--exact]

Prints one line per table (equal / differs: what / only in one run) and exits 1 if any table differs.
Without ``--exact``, floats may differ by 1e-9 relative (BLAS threads change the last digits of sums).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import pandas as pd


def compare(before: Path, after: Path, exact: bool) -> int:
    names = sorted({p.relative_to(before) for p in before.rglob("*.parquet")}
                   | {p.relative_to(after) for p in after.rglob("*.parquet")})  # fmt: skip
    differing = 0
    for name in names:
        a, b = before / name, after / name
        if not a.is_file() or not b.is_file():
            print(f"{name}: only in {'after' if b.is_file() else 'before'}")
            differing += 1
            continue
        try:
            pd.testing.assert_frame_equal(pd.read_parquet(a), pd.read_parquet(b), check_exact=exact, rtol=1e-9)
            print(f"{name}: equal")
        except AssertionError as exc:
            differing += 1
            print(f"{name}: differs: {' '.join(str(exc).split())[:300]}")
    print(f"{len(names) - differing} of {len(names)} tables equal")
    return 1 if differing else 0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", type=Path)
    parser.add_argument("after", type=Path)
    parser.add_argument("--exact", action="store_true")
    args = parser.parse_args()
    sys.exit(compare(args.before, args.after, args.exact))


if __name__ == "__main__":
    main()
