"""A differencing attacker and the demo participant-flow tables, for the disclosure tests.

The attacker is independent of the audit: it knows the tables' true additive structure (relations built on
the unsuppressed tables) and repeatedly solves every equation with a single unknown (totals minus visible
cells, across tables), substituting what it recovers, until nothing changes.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from insats.catalog import study_tables
from insats.tasks.disclosure import CellIndex, TableRules, build_relations

T = 5


def differencing_attack(
    truth: dict[str, pd.DataFrame], published: dict[str, pd.DataFrame], counts: dict[str, list[str]], rules: dict
) -> dict[tuple[str, int, str], float]:
    """Hidden cells (table, row, column) -> value recovered exactly, by substitution in the true equations."""
    index = CellIndex(truth, counts)
    relations = [r for r in build_relations(truth, rules, index) if r.kind == "eq"]
    shown = CellIndex(published, counts)
    known = {i: shown.values[i] for i in range(len(shown)) if not np.isnan(shown.values[i])}
    hidden = {i for i in range(len(shown)) if np.isnan(shown.values[i]) and not np.isnan(index.values[i])}
    recovered: dict[int, float] = {}
    changed = True
    while changed:
        changed = False
        for rel in relations:
            unknown = [c for c in rel.cells if c not in known]
            if len(unknown) != 1:
                continue
            u = unknown[0]
            k = rel.coefs[rel.cells.index(u)]
            value = -sum(coef * known[c] for c, coef in zip(rel.cells, rel.coefs, strict=True) if c != u) / k
            known[u] = value
            if u in hidden:
                recovered[u] = value
            changed = True
    return {index.keys[i]: v for i, v in recovered.items()}


def _rules(study: str) -> tuple[dict[str, list[str]], dict[str, TableRules]]:
    specs = study_tables(study)
    rules = {n: TableRules.from_meta(json.loads(s.suite.read_text(encoding="utf-8"))["meta"]) for n, s in specs.items()}
    return {n: list(s.count_columns) for n, s in specs.items()}, rules


def suite_rules(study: str) -> tuple[dict[str, list[str]], dict[str, TableRules]]:
    """Each table's count columns and relations, from the study's suites."""
    specs = study_tables(study)
    rules = {n: TableRules.from_meta(json.loads(s.suite.read_text(encoding="utf-8"))["meta"]) for n, s in specs.items()}
    return {n: list(s.count_columns) for n, s in specs.items()}, rules


def participant_frames(folder: Path) -> dict[str, dict[str, pd.DataFrame]]:
    """The participant-flow tables of the demo documentation: ``truth`` (unsuppressed, threshold 1) and
    ``handed`` (as the study hands them to publish: primary suppression at 5 already applied)."""
    from insats.demo.participants import make_participant_demo, write_participant_demo
    from insats.tasks.participants.study import checked_documentation, flow_measures, indicator_tables, progression

    files = write_participant_demo(make_participant_demo(2026), folder)
    people, statuses = checked_documentation(files["participants"], files["status_wide"], files["ladder"])
    steps = progression(people, statuses, files["ladder"], "2023-12-31")
    out = {}
    for name, threshold in (("truth", 1), ("handed", T)):
        tables = flow_measures(people, statuses, steps, files["ladder"], files["targets"], "2023-12-31", threshold)
        tables |= indicator_tables(files["indicators"], files["indicator_responses"], people, steps, threshold)
        out[name] = tables
    return out
