"""The audit of suppressed cells (as τ-ARGUS does it): for each hidden count, the smallest and largest value it
can take in any set of tables consistent with the published cells, the additive relations and non-negativity.

Two linear programs per cell (``scipy.optimize.linprog``, HiGHS): minimise and maximise the cell over the
unknown cells of its connected part (unknowns that share a relation, directly or through other unknowns).
The LP bounds are rounded inwards to integers (counts are integers), so ``lo == hi`` means the cell is
recoverable exactly. An attacker solving the integer problem can be at most as precise as these rounded bounds.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from insats.tasks.disclosure.relations import Relation

Interval = tuple[float, float]


def _components(unknown: np.ndarray, relations: Sequence[Relation]) -> dict[int, int]:
    """Unknown cell id -> representative of its connected part (cells linked through relations)."""
    parent = {int(i): int(i) for i in np.flatnonzero(unknown)}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for rel in relations:
        hidden = [c for c in rel.cells if unknown[c]]
        for a, b in zip(hidden[:-1], hidden[1:], strict=True):
            ra, rb = find(a), find(b)
            if ra != rb:
                parent[ra] = rb
    return {i: find(i) for i in parent}


class Auditor:
    """Feasible intervals of hidden cells; parts already solved are remembered (``cache``) between calls,
    keyed by the set of their unknown cells (which determines their relations and constants)."""

    def __init__(self, values: np.ndarray, relations: Sequence[Relation]) -> None:
        self.values = values
        self.relations = list(relations)
        self.by_cell: dict[int, list[int]] = {}
        for n, rel in enumerate(self.relations):
            for c in rel.cells:
                self.by_cell.setdefault(c, []).append(n)
        self.cache: dict[frozenset[int], dict[int, Interval]] = {}
        self.n_lps = 0

    def intervals(self, unknown: np.ndarray, audited: Iterable[int]) -> dict[int, Interval]:
        """``{cell: (lo, hi)}`` for each ``audited`` cell; ``unknown`` marks every cell the attacker does not
        see (suppressed, or missing). ``hi`` is ``inf`` when nothing bounds the cell from above."""
        comp = _components(unknown, self.relations)
        members: dict[int, list[int]] = {}
        for cell, root in comp.items():
            members.setdefault(root, []).append(cell)
        out: dict[int, Interval] = {}
        for cell in audited:
            part = frozenset(members[comp[cell]])
            if part not in self.cache:
                self.cache[part] = self._solve(sorted(part), unknown)
            out[cell] = self.cache[part][cell]
        return out

    def _solve(self, cells: list[int], unknown: np.ndarray, trust_unverified: bool = True) -> dict[int, Interval]:
        """Bounds of every cell of one connected part. If the part's relations contradict the published cells,
        the relations that could not be checked on the data (cells hidden upstream) are dropped and it is
        solved again; a contradiction among checked relations is an error."""
        col = {c: j for j, c in enumerate(cells)}
        rels = sorted({n for c in cells for n in self.by_cell.get(c, [])})
        if not trust_unverified:
            rels = [n for n in rels if self.relations[n].verified]
        a_eq, b_eq, a_ub, b_ub = [], [], [], []
        for n in rels:
            rel = self.relations[n]
            row = np.zeros(len(cells))
            const = 0.0
            for c, k in zip(rel.cells, rel.coefs, strict=True):
                if unknown[c]:
                    row[col[c]] += k
                else:
                    const += k * self.values[c]
            (a_eq if rel.kind == "eq" else a_ub).append(row)
            (b_eq if rel.kind == "eq" else b_ub).append(-const)
        from scipy.optimize import linprog  # here, not at import: a stage that publishes nothing skips ~1 s

        kwargs = {
            "A_eq": np.array(a_eq) if a_eq else None,
            "b_eq": np.array(b_eq) if b_eq else None,
            "A_ub": np.array(a_ub) if a_ub else None,
            "b_ub": np.array(b_ub) if b_ub else None,
            "bounds": (0, None),
            "method": "highs",
        }
        result: dict[int, Interval] = {}
        for c in cells:
            objective = np.zeros(len(cells))
            objective[col[c]] = 1.0
            low = linprog(objective, **kwargs)
            high = linprog(-objective, **kwargs)
            self.n_lps += 2
            if (low.status == 2 or high.status == 2) and trust_unverified:
                return self._solve(cells, unknown, trust_unverified=False)
            if low.status == 2 or high.status == 2:
                raise ValueError(
                    f"disclosure audit: the published cells contradict the declared relations around cell {c} "
                    f"({', '.join(sorted({self.relations[n].origin for n in rels}))}); check meta.disclosure"
                )
            lo = math.ceil(low.fun - 1e-7) if low.status == 0 else 0.0
            hi = math.floor(-high.fun + 1e-7) if high.status == 0 else math.inf
            result[c] = (float(lo), float(hi))
        return result
