"""Serve the deployments declared in ``prefect.yaml`` from one local process (``insats serve``).

One definition of the deployments (prefect.yaml) serves both ways of running them: ``prefect deploy`` with a
work pool, or this process with ``prefect.serve``.
"""

from __future__ import annotations

import importlib
from pathlib import Path
from typing import Any

import yaml

from insats.provenance import PROJECT_ROOT

PREFECT_YAML = PROJECT_ROOT / "prefect.yaml"


def declared_deployments(path: Path = PREFECT_YAML) -> list[dict[str, Any]]:
    """The ``deployments`` entries of prefect.yaml (name, entrypoint, parameters, description, tags)."""
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    deployments = data.get("deployments") or []
    if not deployments:
        raise ValueError(f"{path} declares no deployments")
    return deployments


def load_flow(entrypoint: str) -> Any:
    """``flows/outcome_evaluation.py:outcome_evaluation`` -> the flow object (imported as a module)."""
    file, _, name = entrypoint.partition(":")
    module = importlib.import_module("insats." + file.removesuffix(".py").replace("/", "."))
    return getattr(module, name)


def build_deployments(config_path: str | None = None, path: Path = PREFECT_YAML) -> list[Any]:
    """RunnerDeployments for ``prefect.serve``; ``config_path`` replaces each deployment's default config."""
    built = []
    for entry in declared_deployments(path):
        parameters = dict(entry.get("parameters") or {})
        if config_path is not None:
            parameters["config_path"] = config_path
        built.append(
            load_flow(entry["entrypoint"]).to_deployment(
                name=entry["name"],
                parameters=parameters,
                description=entry.get("description"),
                tags=entry.get("tags") or [],
            )
        )
    return built
