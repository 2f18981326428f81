"""Helpers shared by the steward tests (tests/insats/steward): run `insats validate`, checking the raw
file is unchanged."""

from __future__ import annotations

import hashlib
from pathlib import Path

from typer.testing import CliRunner

from insats.cli import app

runner = CliRunner()


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def validate(file: Path, suite: str, tmp: Path, *extra: str) -> tuple[int, str, Path]:
    """Run `insats validate` with --out under tmp; return (exit code, output, out folder). Checks sha256."""
    out = tmp / "out"
    before = sha(file) if file.exists() else None
    result = runner.invoke(app, ["validate", str(file), "--suite", suite, "--out", str(out), *extra])
    if before is not None:
        assert sha(file) == before, "the raw file was modified"
    return result.exit_code, result.output, out


def bad_check_digit(pnr: str) -> str:
    return pnr[:-1] + str((int(pnr[-1]) + 1) % 10)
