"""The brief's provenance appendix: per study its inputs with short SHA-256, config hash, code version and flow
run, from the manifests (study -> {"inputs": list of {"name"|"path"|"file", "sha256"} or dict name -> sha256 /
{"sha256": ...}, "config_hash", "code_version", "flow_run_id"}); missing keys are shown as an en dash.
"""

from __future__ import annotations

from typing import Any

from insats.tasks.reporting.brief.common import short_hash, text
from insats.tasks.reporting.i18n import MISSING, column_label


def manifest_inputs(manifest: dict) -> list[tuple[str, str]]:
    inputs = manifest.get("inputs") or []
    out: list[tuple[str, str]] = []
    if isinstance(inputs, dict):
        for name, value in inputs.items():
            sha = value.get("sha256") if isinstance(value, dict) else value
            out.append((str(name), short_hash(sha)))
    else:
        for item in inputs:
            if isinstance(item, dict):
                name = item.get("name") or item.get("path") or item.get("file") or MISSING
                out.append((str(name), short_hash(item.get("sha256"))))
            else:
                out.append((str(item), MISSING))
    return out


def section(manifests: dict[str, dict], lang: str) -> list[dict[str, Any]]:
    studies = []
    for study, manifest in manifests.items():
        manifest = manifest or {}
        studies.append(
            {
                "study": str(study),
                "inputs": manifest_inputs(manifest),
                "facts": [
                    (column_label("config_hash", lang), short_hash(manifest.get("config_hash"))),
                    (column_label("code_version", lang), text(manifest.get("code_version"))),
                    (column_label("flow_run_id", lang), text(manifest.get("flow_run_id"))),
                ],
                "empty": not manifest,
            }
        )
    return studies
