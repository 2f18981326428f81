"""`insats init DIR`: propose a commented site config from a folder of a site's files.

``scan_site`` sniffs every file below the folder (``insats.init.sniff``) and proposes the config's inputs:
register extracts with their column mapping and period (``insats.init.register``), and the studies' other
inputs (``insats.init.inputs``). ``init_site`` writes the proposal as commented YAML (``insats.init.render``),
atomically, and checks that it loads with ``insats.config.load_config``.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from insats.init.inputs import PARTICIPANT_ID, choose_tables, choose_transcripts, choose_yaml
from insats.init.model import Choice, Proposal, norm
from insats.init.register import choose_period, choose_register
from insats.init.render import render
from insats.init.sniff import SniffedFile, sniff_file

MAX_FILES = 5000  # a delivery folder, not a whole file server: stop sniffing after this many files
_SKIP_DIRS = {"__pycache__", "node_modules"}


@dataclass
class InitResult:
    """The written config, the proposal behind it, its TODO lines, and load_config's complaint if any."""

    path: Path
    proposal: Proposal
    todos: list[str]
    load_error: str | None


def site_files(folder: Path) -> list[Path]:
    """Files below ``folder`` (recursively, symlinked folders not followed), hidden and Office lock files
    skipped, sorted; at most MAX_FILES."""
    out: list[Path] = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames[:] = sorted(d for d in dirnames if not d.startswith(".") and d not in _SKIP_DIRS)
        for name in sorted(filenames):
            path = Path(dirpath) / name
            if not name.startswith((".", "~$")) and path.is_file():
                out.append(path)
            if len(out) >= MAX_FILES:
                return out
    return out


def _indicator_responses(files: list[SniffedFile], indicators: Choice | None, taken: set[Path]) -> Choice | None:
    """A participant table holding the indicator YAML's item columns (one row per participant and occasion)."""
    data = indicators.file.yaml_data if indicators is not None and indicators.file is not None else None
    items = {
        norm(i)
        for ind in (data or {}).get("indicators", [])
        if isinstance(ind, dict)
        for i in ind.get("items", []) or []
    }
    best = None
    for info in files:
        keys = {norm(c) for c in info.columns}
        usable = info.is_table and info.path not in taken and keys & {norm(a) for a in PARTICIPANT_ID}
        if usable and len(keys & items) >= 2 and (best is None or len(keys & items) > best[0]):
            best = (len(keys & items), info)
    if best is None:
        return None
    info = best[1]
    return Choice(
        info.path,
        source=f"{info.rel}: participant id and {best[0]} of the {len(items)} indicator items of {indicators.file.rel}",
        file=info,
    )  # type: ignore[union-attr]


def scan_site(folder: Path) -> Proposal:
    """Sniff every file below ``folder`` and propose the config's inputs (nothing is written)."""
    folder = Path(folder)
    files = [sniff_file(p, folder) for p in site_files(folder)]
    proposal = Proposal(folder=folder, files=files)
    proposal.register_files, proposal.register_columns = choose_register(files)
    if proposal.register_files:
        proposal.period = choose_period(proposal.register_files, proposal.register_columns)
    taken = {c.value for c in proposal.register_files.values()}
    inputs: dict[str, dict[str, Choice]] = {}
    for found in (choose_tables(files, taken), choose_yaml(files)):
        for section, choices in found.items():
            inputs.setdefault(section, {}).update(choices)
    for key, choice in choose_transcripts(files).items():
        inputs.setdefault("employer_interviews", {})[key] = choice
    flow = inputs.get("participant_flow", {})
    responses = _indicator_responses(files, flow.get("indicators"), taken | proposal.used())
    if responses is not None:
        flow["indicator_responses"] = responses
    if ("participants" in flow or "status_documentation" in flow) and "ladder" not in flow:
        from insats.provenance import PROJECT_ROOT

        shipped = PROJECT_ROOT / "configs" / "ladder.sv.yaml"
        if shipped.is_file():
            flow["ladder"] = Choice(shipped, source="no ladder YAML found: the shipped Swedish default ladder")
    inputs = {section: choices for section, choices in inputs.items() if choices}
    proposal.inputs = inputs
    return proposal


def init_site(
    folder: Path, out: Path, project: str | None = None, force: bool = False, root: Path | None = None
) -> InitResult:
    """Scan ``folder`` and write the proposed config to ``out`` (atomically; an existing file only with
    ``force``). ``root``: the project folder the config's relative paths are resolved against (default: the
    current directory). Returns the result with the TODO lines and load_config's error, if the file does
    not load yet. Raises FileNotFoundError (no folder) or FileExistsError (``out`` exists, no ``force``).
    """
    from insats.config import ConfigError, load_config
    from insats.storage import atomic_path

    folder, out = Path(folder), Path(out)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such folder (insats init DIR scans a folder of a site's files)")
    if out.exists() and not force:
        raise FileExistsError(f"{out} already exists: give --force to overwrite it, or another --out")
    proposal = scan_site(folder)
    name = (
        Choice(project, source="from --project")
        if project
        else Choice(folder.resolve().name, source="the folder's name; --project NAME sets another")
    )
    text = render(proposal, out, name, root)
    with atomic_path(out) as tmp:
        tmp.write_text(text, encoding="utf-8")
    todos = [line.strip()[2:] for line in text.splitlines() if line.strip().startswith("# TODO")]
    try:
        load_config(out)
        load_error = None
    except ConfigError as exc:
        load_error = str(exc)
    return InitResult(out, proposal, todos, load_error)


__all__ = ["InitResult", "init_site", "scan_site", "site_files"]
