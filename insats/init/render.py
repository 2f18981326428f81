"""The proposal as commented YAML text: every value with a comment saying where it came from, ``# TODO``
lines where something was not found or must be checked.

Values are written with ``yaml.safe_dump`` (quoting, å/ä/ö kept as they are) and the text is checked by
parsing it back: ``render`` raises if the YAML does not hold exactly the proposed values. Sections and
fields follow ``insats.config.Config``: a section the model requires is always written (a required path
nothing was found for gets a ``TODO/...`` placeholder, so the file loads and the run fails on that path);
an optional section or field nothing was found for is left out.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel

from insats.config import Config
from insats.init.model import Choice, Proposal, one_line
from insats.tasks.register.standardise import CANONICAL_COLUMNS

REGISTER_KINDS = ("persons", "assistance", "spells", "outcomes")
EOL_WIDTH = 118  # a comment that would make the line longer goes on its own line above
DEFAULT_PATHS = {
    "interim": ("data/interim", "pseudonymised step outputs (never identity numbers)"),
    "processed": ("data/processed", "validated, published study outputs with manifests"),
    "reports": ("reports", "seminar briefs"),
    "prefect_home": (".prefect", "Prefect's local database and cached results (if PREFECT_HOME is unset)"),
}
PLACEHOLDER_SUFFIX = {
    "transcripts": "",
    "employers": ".csv",
    "codebook": ".yaml",
    "inventory": ".xlsx",
    "participants": ".xlsx",
    "status_documentation": ".xlsx",
    "ladder": ".yaml",
}


@dataclass
class Entry:
    """One ``key: value`` line (or a block of ``children``) with its comments."""

    key: str
    value: Any = None
    comment: str = ""
    above: list[str] = field(default_factory=list)  # comment lines above the key (TODOs first)
    children: list[Entry] | None = None
    commented_out: bool = False  # written as "# key: value" (not part of the data)


def flow(value: Any) -> str:
    """One YAML value on one line (flow style), as ``yaml.safe_dump`` quotes it."""
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=1 << 20, sort_keys=False)
    lines = [line for line in text.splitlines() if line != "..."]  # "..." ends a document of one scalar
    if len(lines) != 1:
        raise ValueError(f"cannot write {value!r} on one line")
    return lines[0]


def _lines(entries: list[Entry], indent: int = 0) -> list[str]:
    pad = " " * indent
    out: list[str] = []
    for e in entries:
        out += [f"{pad}# {one_line(c, 1000)}" for c in e.above]
        head = f"{pad}{'# ' if e.commented_out else ''}{flow(e.key)}:"
        line = head if e.children is not None else f"{head} {flow(e.value)}"
        if e.comment:
            comment = f"  # {one_line(e.comment, 1000)}"
            if len(line) + len(comment) <= EOL_WIDTH:
                line += comment
            else:
                out.append(f"{pad}#{comment[3:] if comment.startswith('  # ') else comment}")
        out.append(line)
        if e.children is not None:
            out += _lines(e.children, indent + 2)
    return out


def _data(entries: list[Entry]) -> dict[str, Any]:
    return {e.key: (_data(e.children) if e.children is not None else e.value) for e in entries if not e.commented_out}


def _relative(path: Path, root: Path) -> str:
    """``path`` relative to ``root`` when it lies below it, else absolute (POSIX separators)."""
    path, root = path.resolve(), root.resolve()
    return path.relative_to(root).as_posix() if path.is_relative_to(root) else path.as_posix()


def _plain(value: Any, root: Path) -> Any:
    if isinstance(value, Path):
        return _relative(value, root)
    if isinstance(value, dict):
        return {k: _plain(v, root) for k, v in value.items()}
    if isinstance(value, tuple):
        return list(value)
    return value


def _entry(key: str, choice: Choice, root: Path) -> Entry:
    above = [f"TODO: {choice.todo}"] if choice.todo else []
    if choice.alternatives:
        shown = ", ".join(choice.alternatives[:5]) + (
            f" and {len(choice.alternatives) - 5} more" if len(choice.alternatives) > 5 else ""
        )
        above.append(f"also fits: {shown}")
    value = _plain(choice.value, root)
    if isinstance(value, dict) and value:
        children = [Entry(k, v) for k, v in value.items()]
        return Entry(key, comment=choice.source, above=above, children=children)
    return Entry(key, value, comment=choice.source, above=above)


def _section(model: type[BaseModel], found: dict[str, Choice], root: Path, raw: Path) -> list[Entry]:
    """Entries for one config section, in the model's field order; required fields always written."""
    entries = []
    for name, info in model.model_fields.items():
        if name in found:
            entries.append(_entry(name, found[name], root))
        elif info.is_required():
            placeholder = f"TODO/{name}{PLACEHOLDER_SUFFIX.get(name, '')}"
            entries.append(
                Entry(
                    name,
                    placeholder,
                    above=[
                        f"TODO: nothing found under {raw.name}/ for {name}: give its path (required by load_config)"
                    ],
                )
            )
    return entries


def _register(proposal: Proposal, root: Path, raw: Path) -> Entry:
    period = proposal.period or Choice(None, todo="no register extracts found")
    if period.value is None:
        period_entry = Entry(
            "period",
            {"first_month": "2000-01", "last_month": "2000-12"},
            above=[f"TODO: placeholder months: {period.todo}"],
        )
    else:
        first, last = period.value
        period_entry = Entry(
            "period",
            {"first_month": first, "last_month": last},
            comment=period.source,
            above=[f"TODO: {period.todo}"] if period.todo else [],
        )
    files, columns = [], []
    for kind in REGISTER_KINDS:
        choice = proposal.register_files.get(kind)
        if choice is None:
            files.append(
                Entry(
                    kind,
                    f"TODO/{kind}.sav",
                    above=[f"TODO: no {kind} extract recognised under {raw.name}/: give its path"],
                )
            )
            columns.append(Entry(kind, {}, comment="TODO: map canonical -> site column once the file is known"))
            continue
        files.append(_entry(kind, choice, root))
        mapped = []
        for canonical in CANONICAL_COLUMNS[kind]:
            c = proposal.register_columns[kind][canonical]
            if c.value is None:
                mapped.append(Entry(canonical, "TODO", above=[f"TODO: {c.todo}"], commented_out=True))
            else:
                mapped.append(_entry(canonical, c, root))
        columns.append(Entry(kind, comment=f"from {choice.file.rel if choice.file else kind}", children=mapped))
    return Entry(
        "register",
        children=[
            period_entry,
            Entry("files", children=files, comment=".sav .dta .sas7bdat .xpt .csv .xlsx .parquet"),
            Entry("columns", children=columns, above=["canonical name: the column name in YOUR extract"]),
            Entry(
                "pseudonym_key_env",
                "INSATS_PSEUDONYM_KEY",
                above=[
                    "The key for pseudonymising identity numbers: a long random secret, the same across "
                    "deliveries, never committed. Read from this environment variable, or else from "
                    "pseudonym_key_file (e.g. /secure/insats.key)."
                ],
            ),
            Entry("pseudonym_key_file", None),
        ],
    )


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _outcome_evaluation(proposal: Proposal) -> Entry:
    """Study 3's section: which interventions to evaluate (the rest takes the model's defaults)."""
    spells = proposal.register_files.get("spells")
    column = proposal.register_columns.get("spells", {}).get("intervention_id")
    ids: list[str] = []
    if spells is not None and spells.file is not None and spells.file.sample is not None and column and column.value:
        ids = sorted({str(v) for v in spells.file.sample[column.value].dropna()})[:8]
    listed = f"; ids in the first rows of {spells.file.rel}: {', '.join(ids)}" if ids and spells and spells.file else ""
    above = []
    if "inventory" not in proposal.inputs.get("intervention_mapping", {}):
        above.append("TODO: from_mapping needs study 2's inventory, and none was found: list the interventions")
    comment = f"study 2's top eligible candidate(s), or a list such as [INS01]{listed}"
    return Entry("outcome_evaluation", children=[Entry("interventions", "from_mapping", comment=comment, above=above)])


def render(proposal: Proposal, out: Path, project: Choice, root: Path | None = None) -> str:
    """The commented YAML text of ``proposal`` for a config written to ``out``.

    ``root``: the project folder (default: the current directory) that relative paths in the config are
    resolved against; written as ``root`` relative to ``out``'s folder.
    """
    root = Path(root or Path.cwd()).resolve()
    out_dir = Path(out).resolve().parent
    raw = proposal.folder.resolve()
    root_text = Path(os.path.relpath(root, out_dir)).as_posix() if out_dir.is_relative_to(root) else str(root)
    path_entries = [
        Entry("raw", _relative(raw, root), comment="the folder insats init scanned; the pipeline only reads here")
    ]
    for key, (value, why) in DEFAULT_PATHS.items():
        entry = Entry(key, value, comment=why)
        if (root / value).resolve().is_relative_to(raw):
            entry.above.append(
                f"TODO: paths.{key} ({value}) lies inside paths.raw, where the pipeline refuses "
                f"to write: put the delivery in a folder of its own, or change paths.{key}"
            )
        path_entries.append(entry)
    entries = [
        _entry("project", project, root),
        Entry("mode", "site", comment="site: a real pseudonymisation key is required (register.pseudonym_key_*)"),
        Entry("root", root_text, comment="the project folder, relative to this file; paths below are relative to it"),
        Entry("paths", children=path_entries),
    ]
    for name, info in Config.model_fields.items():
        models = [a for a in (*getattr(info.annotation, "__args__", ()), info.annotation) if _is_model(a)]
        found = proposal.inputs.get(name, {})
        if name == "register" and (proposal.register_files or info.is_required()):
            entries.append(_register(proposal, root, raw))
        elif name == "outcome_evaluation" and (proposal.register_files or info.is_required()):
            entries.append(_outcome_evaluation(proposal))
        elif name in ("employer_interviews", "intervention_mapping", "participant_flow") and (
            found or info.is_required()
        ):
            entries.append(Entry(name, children=_section(models[0], found, root, raw)))
    header = [
        f"# insats site configuration proposed by `insats init {raw}` on {datetime.now(UTC):%Y-%m-%d}.",
        "# Every value says where it came from: check them all. Each `TODO` marks something to do before a run.",
        "# Settings not written here take their defaults (documented in configs/site-template.yaml).",
    ]
    body = _lines(entries)
    spaced: list[str] = []
    for line in body:
        if spaced and not line.startswith((" ", "#")) and spaced[-1].startswith(" "):
            spaced.append("")
        spaced.append(line)
    text = "\n".join(header + [""] + spaced + _unused(proposal)) + "\n"
    expected = _data(entries)
    if yaml.safe_load(text) != expected:  # the emitter's own check: never write a file that says something else
        raise RuntimeError("insats init produced YAML that does not parse back to the proposed values (a bug)")
    return text


def _unused(proposal: Proposal) -> list[str]:
    used = proposal.used()
    lines = []
    for info in proposal.files:
        if info.path in used or any(info.path.is_relative_to(u) for u in used if u.is_dir()):
            continue
        what = info.problem or (
            f"columns {', '.join(one_line(c, 20) for c in info.columns[:6])}" if info.columns else info.format
        )
        lines.append(f"#   {info.rel}: {one_line(what, 90)}")
    if not lines:
        return []
    shown = lines[:40] + ([f"#   ... and {len(lines) - 40} more"] if len(lines) > 40 else [])
    return ["", "# Files found but not used (not recognised, duplicates or unreadable):", *shown]
