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


def _artifact_rows(data: Any) -> list[dict[str, Any]]:
    if isinstance(data, str):
        try:
            data = json.loads(data)
        except json.JSONDecodeError:
            return []
    return data if isinstance(data, list) else []


def _post(api_url: str, path: str, body: dict[str, Any]) -> Any:
    """POST JSON to the Prefect API over plain HTTP (loopback: no proxy); 429/502/503 are retried twice."""
    import time
    import urllib.error
    import urllib.request

    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    request = urllib.request.Request(
        f"{api_url.rstrip('/')}{path}", data=json.dumps(body).encode(), headers={"Content-Type": "application/json"}
    )
    for attempt in range(3):
        try:
            with opener.open(request, timeout=60) as response:
                return json.loads(response.read())
        except urllib.error.HTTPError as exc:
            if exc.code not in (429, 502, 503) or attempt == 2:
                detail = exc.read()[:300].decode("utf-8", "replace")
                raise RuntimeError(f"The Prefect API at {api_url} answered {exc.code} to {path}: {detail}") from exc
            time.sleep(0.5 * (attempt + 1))
    raise AssertionError("unreachable")


def _fetch_http(api_url: str, since: datetime | None, until: datetime | None) -> tuple[dict, list, list]:
    """Flows, runs and artifacts as the API's JSON, without importing Prefect (about 2 s of imports less)."""
    names = {"name": {"any_": list(FLOW_STUDIES)}}
    flows = {f["id"]: f["name"] for f in _post(api_url, "/flows/filter", {"flows": names})}
    if not flows:
        return {}, [], []
    window = {k: v.isoformat() for k, v in (("after_", since), ("before_", until)) if v is not None}
    body: dict[str, Any] = {"flows": names, "sort": "START_TIME_DESC", "limit": None}
    if window:
        body["flow_runs"] = {"start_time": window}
    runs = _post(api_url, "/flow_runs/filter", body)
    ids = [r["id"] for r in runs]
    artifacts = _post(api_url, "/artifacts/filter", {"artifacts": {"flow_run_id": {"any_": ids}}}) if ids else []
    return flows, runs, artifacts


def _fetch_client(since: datetime | None, until: datetime | None) -> tuple[dict, list, list]:
    """The same through Prefect's client (the API of the current Prefect settings, e.g. inside a flow)."""
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
            str(f.id): f.name
            for f in client.read_flows(flow_filter=FlowFilter(name=FlowFilterName(any_=list(FLOW_STUDIES))))
        }
        if not flows:
            return {}, [], []
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
    return flows, [r.model_dump(mode="json") for r in runs], [a.model_dump(mode="json") for a in artifacts]


def read_history(
    since: datetime | None = None, until: datetime | None = None, api_url: str | None = None
) -> pd.DataFrame:
    """All insats flow runs started in ``[since, until)``, newest first, one row per run (columns: COLUMNS).

    With ``api_url`` the API is read over plain HTTP (the CLI's ``insats history``: Prefect is not imported);
    without, through Prefect's client and its current settings."""
    flows, runs, artifacts = _fetch_http(api_url, since, until) if api_url else _fetch_client(since, until)
    by_run: dict[Any, list[Any]] = {}
    for a in artifacts:
        by_run.setdefault(a.get("flow_run_id"), []).append(a)
    rows = []
    for r in runs:
        config_sha, code, checksums, outputs = None, None, [], []
        for a in by_run.get(r["id"], []):
            key = a.get("key")
            if key and key.startswith("inputs-"):
                for row in _artifact_rows(a.get("data")):
                    if row.get("input") == "config":
                        config_sha = row.get("sha256")
                    elif row.get("input") == "code":
                        code = f"{row.get('path')} @ {row.get('sha256')}"
                    else:
                        checksums.append(f"{row.get('path')}={str(row.get('sha256'))[:12]}")
            elif key:
                outputs.append(key)
        state = r.get("state") or {}
        failed = state.get("type") in ("FAILED", "CRASHED")
        start = r.get("start_time")
        total = r.get("total_run_time")
        rows.append(
            {
                "flow_run_id": str(r["id"]),
                "flow_run_name": r.get("name"),
                "study": FLOW_STUDIES.get(flows.get(r.get("flow_id"), ""), ""),
                "state": state.get("name") or "Unknown",
                "start_time": pd.Timestamp(start).tz_convert(UTC) if start else pd.NaT,
                "duration_seconds": round(float(total), 1) if total else None,
                "parameters": json.dumps(r.get("parameters") or {}, ensure_ascii=False, default=str),
                "config_hash": config_sha,
                "code_version": code,
                "input_checksums": "; ".join(checksums),
                "outputs": "; ".join(sorted(outputs)),
                "failure_reason": (state.get("message") or "") if failed else "",
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
