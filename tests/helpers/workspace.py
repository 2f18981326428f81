"""Project-shaped workspaces that run the real CLI, as a user would, on the demo data."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.helpers import ROOT


@dataclass
class Workspace:
    root: Path

    @property
    def config(self) -> Path:
        return self.root / "configs" / "demo.yaml"

    @property
    def raw(self) -> Path:
        return self.root / "data" / "raw" / "demo"

    @property
    def processed(self) -> Path:
        return self.root / "data" / "processed"

    def cli(
        self,
        *args: str,
        check: bool = True,
        timeout: int = 600,
        config: Path | None = None,
        env: dict[str, str] | None = None,
    ) -> subprocess.CompletedProcess[str]:
        """Run ``python -m insats ARGS --config <this workspace's config>``: with Prefect's embedded local API,
        or with the server named by ``env={"PREFECT_API_URL": ...}``."""
        env = {**clean_env(), **(env or {})}
        cmd = [sys.executable, "-m", "insats", *args]
        if args and args[0] not in ("demo-data",):
            cmd += ["--config", str(config or self.config)]
        proc = subprocess.run(cmd, cwd=self.root, env=env, capture_output=True, text=True, timeout=timeout)
        if check and proc.returncode != 0:
            raise AssertionError(
                f"{' '.join(args)} exited {proc.returncode}\nstdout:\n{proc.stdout}\nstderr:\n{proc.stderr}"
            )
        return proc


def clean_env() -> dict[str, str]:
    """The environment without Prefect or insats settings of the developer's shell."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "INSATS_"))}
    env["PYTHONIOENCODING"] = "utf-8"
    return env


def make_workspace(parent: Path, name: str, raw_from: Path | None = None) -> Workspace:
    """A project-shaped folder with the demo config; optionally a copy of existing raw demo inputs."""
    ws = Workspace(parent / name)
    (ws.root / "configs").mkdir(parents=True)
    shutil.copy(ROOT / "configs" / "demo.yaml", ws.config)
    if raw_from is not None:
        shutil.copytree(raw_from, ws.raw)
    return ws


def copy_published(source: Workspace, target: Workspace) -> None:
    """Give ``target`` what ``source`` published (validated study outputs and the register stage's tables),
    without its intermediate files or its Prefect cache: a later study then runs from those in ``target``."""
    shutil.copytree(source.processed, target.processed)
    register = source.root / "data" / "interim" / "register" / "published"
    if register.is_dir():
        shutil.copytree(register, target.root / "data" / "interim" / "register" / "published")
