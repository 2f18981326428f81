"""Reading what Prefect printed: which task runs finished in which state."""

from __future__ import annotations

import re
from collections import defaultdict

_FINISHED = re.compile(r"Task run '(?P<name>.+?)-[0-9a-f]{3,}' - Finished in state (?P<state>\w+)")


def task_states(log: str) -> dict[str, list[str]]:
    """Task (node) name -> the states its runs finished in, in order (``Completed``, ``Cached``, ``Failed``)."""
    states: dict[str, list[str]] = defaultdict(list)
    for match in _FINISHED.finditer(log):
        states[match["name"]].append(match["state"])
    return dict(states)


def cached(log: str) -> set[str]:
    """Tasks every run of which was served from the cache."""
    return {name for name, s in task_states(log).items() if s and all(x == "Cached" for x in s)}


def recomputed(log: str) -> set[str]:
    """Tasks at least one run of which was computed."""
    return {name for name, s in task_states(log).items() if any(x == "Completed" for x in s)}
