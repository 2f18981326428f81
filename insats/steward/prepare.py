"""What the steward validates: the extract turned into the frame a suite checks, per kind of input.

* register extracts (suites ``input.<register kind>``): header lines repeated inside the data left out,
  source columns mapped to canonical ones with the config's ``register.columns.<kind>``, values parsed;
  ``.sav``/``.dta`` value labels compared with the code lists;
* participant documentation (``input.participants``, ``input.status_documentation``): read by the
  participant flow's own readers with the ladder of the config (``participant_flow.ladder``; the shipped
  ``configs/ladder.sv.yaml`` when the config has no participant_flow section) and, for the participant
  list, ``participant_flow.end_date``; every problem the readers find fails the whole file;
* anything else: the rows as read, header lines left out.

``Prepared.positions`` gives, for each row of the frame, its position among the source rows, so that GX's
failing rows map back to source rows (a wide status sheet gives several frame rows per source row).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from insats.steward.reading import missing_columns, register_kind

PARTICIPANT_SUITES = ("input.participants", "input.status_documentation")
LADDER_SETTING = "participant_flow.ladder"


@dataclass(frozen=True)
class Problem:
    """A problem found before validation: its message, the SOURCE rows it concerns (0-based positions; None:
    every row) and a short reason for the quarantine's reason column."""

    message: str
    rows: np.ndarray | None = None
    reason: str = ""


@dataclass
class Prepared:
    """The frame to validate (None when the file cannot be validated), source position per frame row,
    problems (whole-file ones, or naming their rows), suite parameters, the register mapping (or None) and
    notes for the summary."""

    frame: pd.DataFrame | None
    positions: np.ndarray
    problems: list[Problem] = field(default_factory=list)
    parameters: dict[str, Any] = field(default_factory=dict)
    mapping: dict[str, str] | None = None
    notes: list[str] = field(default_factory=list)


def participant_ladder(config: Any) -> tuple[Any, str]:
    """The ladder for the participant suites and where it came from (for the summary)."""
    from insats.provenance import PROJECT_ROOT
    from insats.tasks.participants.ladder import load_ladder

    section = getattr(config, "participant_flow", None)
    if section is not None:
        return load_ladder(section.ladder), f"ladder {section.ladder} ({LADDER_SETTING})"
    default = PROJECT_ROOT / "configs" / "ladder.sv.yaml"
    note = f"the config {getattr(config, 'source', '')} sets no {LADDER_SETTING}: used the shipped ladder {default}"
    return load_ladder(default), note


_SHEET_ROWS = re.compile(r"\brows? (\d+(?:(?:, | and )\d+)*)")


def _participant_problem(message: str) -> Problem:
    """The participant readers name sheet rows in their messages ("row 4", "rows 2, 4"; the header is row 1):
    the problem concerns those rows; without a row number, every row."""
    found = [int(n) - 2 for m in _SHEET_ROWS.finditer(message) for n in re.split(r", | and ", m.group(1))]
    rows = np.unique(np.asarray([n for n in found if n >= 0], dtype=np.int64)) if found else None
    return Problem(message, rows, "participant documentation problem: " + message[:160])


def _prepare_participants(file: Path, suite: str, config: Any) -> Prepared:
    from insats.tasks.participants.readers import (
        SOURCE_COLUMN,
        SOURCE_ROW,
        parse_participants,
        parse_status_documentation,
    )

    ladder, where = participant_ladder(config)
    if suite == "input.participants":
        section = getattr(config, "participant_flow", None)
        end_date = section.end_date if section is not None else "inclusive"
        frame, problems = parse_participants(file, ladder, end_date=end_date)
    else:
        frame, problems = parse_status_documentation(file, ladder)
    prepared = Prepared(None, np.zeros(0, dtype=np.int64), [_participant_problem(p.message) for p in problems])
    prepared.parameters = {"ladder_statuses": ladder.statuses}
    prepared.notes.append(f"statuses checked against the {where}")
    if frame is not None:
        prepared.positions = frame[SOURCE_ROW].to_numpy(dtype=np.int64) - 2  # same reader: row 2 = position 0
        prepared.frame = frame.drop(columns=[c for c in (SOURCE_ROW, SOURCE_COLUMN) if c in frame.columns])
    return prepared


def _prepare_register(file: Path, kind: str, config: Any, body: pd.DataFrame, body_pos: np.ndarray) -> Prepared:
    from insats.tasks.register.standardise import standardise_checked

    mapping = dict(config.register.columns[kind])
    prepared = Prepared(None, body_pos, mapping=mapping)
    if file.suffix.lower() in (".sav", ".zsav", ".dta"):
        from insats.tasks.register.readers import read_value_labels
        from insats.validation import value_label_problems

        why = "value labels disagree with the code lists"
        prepared.problems += [
            Problem(f"{why}: {p}", None, why) for p in value_label_problems(read_value_labels(file), mapping)
        ]
    missing = missing_columns(body, mapping, kind)
    if missing:
        prepared.problems.append(Problem(
            f"missing required column(s): {', '.join(missing)}; columns present: "
            f"{', '.join(map(str, body.columns))} (map them in register.columns.{kind})",
            None, f"missing required column(s) {', '.join(m.split(' ')[0] for m in missing)}",
        ))  # fmt: skip
        return prepared
    frame, parse_problems = standardise_checked(body, kind, mapping, source=file.name)
    unparsed = np.zeros(len(frame), dtype=bool)
    for message, bad in parse_problems:
        text = f"values cannot be parsed: {renumber_rows(message, body_pos + 1)}"
        prepared.problems.append(Problem(text, body_pos[bad], _short(message)))
        unparsed |= bad
    # Rows with a value that cannot be read are quarantined for that; the suite checks the others.
    prepared.frame = frame.loc[~unparsed].reset_index(drop=True) if unparsed.any() else frame
    prepared.positions = body_pos[~unparsed]
    return prepared


_ROW_NUMBER = re.compile(r"(?:(?<=data row\(s\) )|(?<=\), ))(\d+) \(")


def renumber_rows(message: str, to_file: np.ndarray) -> str:
    """``standardise`` numbers rows (``data row(s) 3 ('x'), 7 ('y')``) within the frame it was given; renumber
    them as data rows of the file (``to_file[i - 1]``: the file's 1-based data row of frame row ``i``)."""
    return _ROW_NUMBER.sub(lambda m: f"{to_file[int(m[1]) - 1]} (", message)


def _short(message: str) -> str:
    """``file: column 'amount' (source column 'belopp'): expected X; bad value(s) ...`` -> the column and X."""
    head = message.split("; bad value", 1)[0]
    return "cannot be parsed: " + head.split(": ", 1)[-1]


def prepare(file: Path, suite: str, config: Any, source: pd.DataFrame, header: np.ndarray) -> Prepared:
    """The frame ``suite`` validates for ``file`` (read as ``source``; ``header`` marks repeated header
    lines), with its whole-file problems and the suite parameters it brings (the ladder's statuses)."""
    if suite in PARTICIPANT_SUITES:
        return _prepare_participants(file, suite, config)
    body_pos = np.flatnonzero(~header)
    # No copy of a clean (usually huge) extract: the reader's frame already has a 0..n-1 index.
    body = source.iloc[body_pos].reset_index(drop=True) if header.any() else source.reset_index(drop=True)
    kind = register_kind(suite)
    if kind is not None:
        if getattr(config, "register", None) is None:
            raise ValueError(f"suite {suite} maps columns with register.columns.{kind}: the config has no register")
        return _prepare_register(file, kind, config, body, body_pos)
    return Prepared(body, body_pos)
