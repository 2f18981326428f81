"""The flow-run history, read from the Prefect API (the embedded local one or a shared server).

Each study run attaches an ``inputs-<study>`` table artifact (config hash and input checksums) and a key
table artifact per published study; the history joins those to the runs.
"""

from __future__ import annotations

import json
import re
from datetime import UTC, datetime
from typing import Any

import pandas as pd

from insats.studies import flow_names

FLOW_STUDIES = flow_names()  # Prefect flow name -> study name, from the study registry
COLUMNS = [
    "flow_run_id",
    "flow_run_name",
    "study",
    "state",
    "start_time",
    "duration_seconds",
    "parameters",
    "config_hash",
    "code_version",
    "input_checksums",
    "outputs",
    "failure_reason",
]


def _artifact_rows(artifact: Any) -> list[dict[str, Any]]:
    data = artifact.data
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError:
            return []
    return data if isinstance(data, list) else []


def read_history(since: datetime | None = None, until: datetime | None = None) -> pd.DataFrame:
    """All insats flow runs started in ``[since, until)``, newest first, one row per run (columns: COLUMNS)."""
    from prefect import get_client
    from prefect.client.schemas.filters import (
        ArtifactFilter,
        ArtifactFilterFlowRunId,
        FlowFilter,
        FlowFilterName,
        FlowRunFilter,
        FlowRunFilterStartTime,
    )
    from prefect.client.schemas.sorting import FlowRunSort

    start_filter = FlowRunFilterStartTime(after_=since, before_=until) if since or until else None
    with get_client(sync_client=True) as client:
        flows = {
            f.id: f.name
            for f in client.read_flows(flow_filter=FlowFilter(name=FlowFilterName(any_=list(FLOW_STUDIES))))
        }
        if not flows:
            return pd.DataFrame(columns=COLUMNS)
        runs = client.read_flow_runs(
            flow_filter=FlowFilter(name=FlowFilterName(any_=list(FLOW_STUDIES))),
            flow_run_filter=FlowRunFilter(start_time=start_filter) if start_filter else None,
            sort=FlowRunSort.START_TIME_DESC,
            limit=None,
        )
        run_ids = [r.id for r in runs]
        artifacts = (
            client.read_artifacts(artifact_filter=ArtifactFilter(flow_run_id=ArtifactFilterFlowRunId(any_=run_ids)))
            if run_ids
            else []
        )

    by_run: dict[Any, list[Any]] = {}
    for a in artifacts:
        by_run.setdefault(a.flow_run_id, []).append(a)
    rows = []
    for r in runs:
        config_sha, code, checksums, outputs = None, None, [], []
        for a in by_run.get(r.id, []):
            if a.key and a.key.startswith("inputs-"):
                for row in _artifact_rows(a):
                    if row.get("input") == "config":
                        config_sha = row.get("sha256")
                    elif row.get("input") == "code":
                        code = f"{row.get('path')} @ {row.get('sha256')}"
                    else:
                        checksums.append(f"{row.get('path')}={str(row.get('sha256'))[:12]}")
            elif a.key:
                outputs.append(a.key)
        state = r.state
        failed = state is not None and (state.is_failed() or state.is_crashed())
        start = r.start_time
        rows.append(
            {
                "flow_run_id": str(r.id),
                "flow_run_name": r.name,
                "study": FLOW_STUDIES.get(flows.get(r.flow_id, ""), ""),
                "state": state.name if state else "Unknown",
                "start_time": pd.Timestamp(start).tz_convert(UTC) if start else pd.NaT,
                "duration_seconds": round(r.total_run_time.total_seconds(), 1) if r.total_run_time else None,
                "parameters": json.dumps(r.parameters, ensure_ascii=False, default=str),
                "config_hash": config_sha,
                "code_version": code,
                "input_checksums": "; ".join(checksums),
                "outputs": "; ".join(sorted(outputs)),
                "failure_reason": (state.message or "") if failed else "",
            }
        )
    return pd.DataFrame(rows, columns=COLUMNS)


def quarter_bounds(quarter: str) -> tuple[datetime, datetime]:
    """``2026Q4`` -> (2026-10-01, 2027-01-01) in UTC. Raises ValueError for another form."""
    match = re.fullmatch(r"(\d{4})[Qq]([1-4])", quarter.strip())
    if match is None:  # "26Q4" or "2026Q5" would silently name another period
        raise ValueError(f"Expected a quarter as YYYYQn (e.g. 2026Q4), got {quarter!r}")
    year_i, q_i = int(match[1]), int(match[2])
    start = datetime(year_i, 3 * (q_i - 1) + 1, 1, tzinfo=UTC)
    end = datetime(year_i + (q_i == 4), 1 if q_i == 4 else 3 * q_i + 1, 1, tzinfo=UTC)
    return start, end


def current_quarter(now: datetime | None = None) -> str:
    now = now or datetime.now(UTC)
    return f"{now.year}Q{(now.month - 1) // 3 + 1}"
