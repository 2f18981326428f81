"""The project's local Prefect server: started once and reused, stopped on request, leftovers cleaned up, a slow
start names its setting, and runs of a killed command are marked Crashed ("process ended") by the next one."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import textwrap
import time
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from insats import local_server
from insats.local_server import RECORD, ServerRecord, pid_alive, server_status, write_record
from tests.helpers.workspace import clean_env, make_workspace


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def _record(pid: int, port: int) -> ServerRecord:
    return ServerRecord(
        api_url=f"http://127.0.0.1:{port}/api",
        pid=pid,
        port=port,
        started=time.time(),
        process_start=local_server.process_start_tick(pid),
    )


# --- without a real server ---------------------------------------------------------------------------------------


def test_a_record_whose_process_is_gone_is_removed(tmp_path: Path) -> None:
    write_record(tmp_path, _record(_dead_pid(), local_server.free_port()))
    assert server_status(tmp_path) is None
    assert not (tmp_path / RECORD).exists()


def test_a_reused_pid_is_not_taken_for_the_server(tmp_path: Path) -> None:
    record = ServerRecord("http://127.0.0.1:9/api", os.getpid(), 9, time.time(), process_start="1")
    assert not pid_alive(record.pid, record.process_start)  # this process is alive, but started at another tick
    write_record(tmp_path, record)
    assert server_status(tmp_path) is None
    assert not (tmp_path / RECORD).exists()


def test_a_record_copied_from_another_folder_is_dropped_without_touching_its_process(tmp_path: Path) -> None:
    other = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], start_new_session=True)
    try:
        record = _record(other.pid, local_server.free_port())  # alive, not answering, and serving another home
        copied = ServerRecord(**{**record.__dict__, "home": str(tmp_path / "elsewhere")})
        for check in (server_status, local_server.stop_server):
            write_record(tmp_path, copied)
            assert check(tmp_path) is None
            assert not (tmp_path / RECORD).exists()
        assert other.poll() is None  # not signalled: it is not this folder's server
    finally:
        other.kill()
        other.wait()


@pytest.mark.skipif(not Path("/proc/self/environ").exists(), reason="finds servers through /proc (Linux)")
def test_a_server_whose_record_was_deleted_is_found_and_stopped(tmp_path: Path) -> None:
    env = {**os.environ, local_server.HOME_MARKER: str(tmp_path.resolve())}
    lost = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(600)"], env=env, start_new_session=True)
    other = subprocess.Popen(  # another folder's server
        [sys.executable, "-c", "import time; time.sleep(600)"],
        env={**env, local_server.HOME_MARKER: str(tmp_path / "elsewhere")}, start_new_session=True,
    )  # fmt: skip
    try:
        assert local_server.orphans(tmp_path.resolve()) == [lost.pid]
        assert local_server.stop_server(tmp_path) is None  # no record, but the lost server is stopped
        assert lost.poll() is not None or not pid_alive(lost.pid)
        assert other.poll() is None
    finally:
        for proc in (lost, other):
            proc.kill()
            proc.wait()


def test_a_live_process_that_does_not_answer_is_killed(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    # Listens (connections are accepted by the kernel) but never answers a request: a hung server.
    hung = subprocess.Popen(
        [sys.executable, "-c", "import socket, sys, time\ns = socket.socket(); s.bind(('127.0.0.1', 0)); s.listen()\n"
         "print(s.getsockname()[1], flush=True); time.sleep(600)"],
        stdout=subprocess.PIPE, text=True, start_new_session=True,
    )  # fmt: skip
    try:
        port = int(hung.stdout.readline())
        write_record(tmp_path, _record(hung.pid, port))
        monkeypatch.setattr(local_server, "HEALTH_TIMEOUT", 0.2)
        assert server_status(tmp_path) is None
        assert not pid_alive(hung.pid)  # killed (and reaped: kill_group waits for it)
        assert not (tmp_path / RECORD).exists()
    finally:
        if hung.poll() is None:
            hung.kill()


def test_a_slow_start_names_the_setting_and_leaves_nothing_running(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    spawned: list[subprocess.Popen[bytes]] = []
    real_spawn = local_server.spawn
    monkeypatch.setattr(local_server, "spawn", lambda *a, **k: spawned.append(real_spawn(*a, **k)) or spawned[-1])
    monkeypatch.setenv("INSATS_SERVER_START_TIMEOUT", "0.2")
    with pytest.raises(local_server.ServerStartError, match="Raise INSATS_SERVER_START_TIMEOUT"):
        local_server.ensure_server(tmp_path)
    assert len(spawned) == 1 and spawned[0].poll() is not None  # the half-started server was stopped
    assert not (tmp_path / RECORD).exists()


def test_the_cli_reports_a_slow_start_with_the_setting(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path, "project")
    proc = ws.cli("server", "start", check=False, env={"INSATS_SERVER_START_TIMEOUT": "0.2"})
    assert proc.returncode == 1
    assert "INSATS_SERVER_START_TIMEOUT" in proc.stderr
    assert "not running" in ws.cli("server", "status").stdout


# --- with a real server (one for the module; its first start migrates a new database: 20-60 s) ------------------


@pytest.fixture(scope="module")
def ws(tmp_path_factory: pytest.TempPathFactory):  # noqa: ANN201
    """A workspace whose server was started by two `insats server start` at once (one must win the lock)."""
    ws = make_workspace(tmp_path_factory.mktemp("local-server"), "project")
    with ThreadPoolExecutor(2) as pool:
        procs = list(pool.map(lambda _: ws.cli("server", "start"), range(2)))
    yield ws, procs
    ws.cli("server", "stop", check=False)


def _pid(text: str) -> int:
    return int(text.split("(pid ")[1].split(",")[0].split(")")[0])


def _home(ws) -> Path:  # noqa: ANN001
    return ws.root / ".prefect"


@pytest.mark.slow
def test_two_commands_started_together_share_one_server(ws) -> None:  # noqa: ANN001
    ws, procs = ws
    outputs = sorted(p.stdout for p in procs)
    assert outputs[0].startswith("Already running:") and outputs[1].startswith("Started:")
    assert _pid(outputs[0]) == _pid(outputs[1])
    record = json.loads((_home(ws) / RECORD).read_text())
    assert record["pid"] == _pid(outputs[0])


@pytest.mark.slow
def test_a_later_command_reuses_the_server(ws) -> None:  # noqa: ANN001
    ws, _ = ws
    before = json.loads((_home(ws) / RECORD).read_text())
    proc = ws.cli("history")
    assert "temporary server" not in proc.stderr  # Prefect did not start one of its own either
    status = ws.cli("server", "status").stdout
    assert status.startswith(f"running: {before['api_url']} (pid {before['pid']}, up ")
    assert json.loads((_home(ws) / RECORD).read_text()) == before
    if Path("/proc/self/environ").exists():  # it carries the marker that finds it should its record be lost
        assert local_server.orphans(_home(ws).resolve()) == [before["pid"]]


SLEEPER = textwrap.dedent(
    """
    import time
    import insats
    from prefect import flow
    from insats.runtime import prefect_api

    @flow(name="sleeper")
    def sleeper() -> None:
        time.sleep(600)

    with prefect_api():
        sleeper()
    """
)


def _flow_runs(api_url: str, flow_name: str) -> list[dict]:
    body = json.dumps({"flows": {"name": {"any_": [flow_name]}}}).encode()
    request = urllib.request.Request(
        f"{api_url}/flow_runs/filter", data=body, headers={"Content-Type": "application/json"}, method="POST"
    )
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    with opener.open(request, timeout=30) as response:
        return json.loads(response.read())


@pytest.mark.slow
def test_a_killed_run_is_marked_crashed_by_the_next_command(ws) -> None:  # noqa: ANN001
    ws, _ = ws
    api_url = json.loads((_home(ws) / RECORD).read_text())["api_url"]
    env = {**clean_env(), "PREFECT_HOME": str(_home(ws))}
    proc = subprocess.Popen([sys.executable, "-c", SLEEPER], cwd=ws.root, env=env, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 120
        while not any(r["state_type"] == "RUNNING" for r in _flow_runs(api_url, "sleeper")):
            assert proc.poll() is None and time.monotonic() < deadline, "the sleeper flow never ran"
            time.sleep(0.5)
    finally:
        proc.kill()
        proc.wait()
    (run,) = _flow_runs(api_url, "sleeper")
    assert run["state_type"] == "RUNNING"  # nobody told the server
    assert any(t.startswith(f"insats-cmd-{proc.pid}-") for t in run["tags"])

    ws.cli("history")  # the next command
    (run,) = _flow_runs(api_url, "sleeper")
    assert (run["state_type"], run["state"]["message"]) == ("CRASHED", "process ended")
    assert not any((_home(ws) / "insats-runs").iterdir())  # its record is gone, and the history command's too


@pytest.mark.slow
def test_stop_stops_the_server_and_status_says_not_running(ws) -> None:  # noqa: ANN001
    ws, _ = ws
    record = json.loads((_home(ws) / RECORD).read_text())
    assert ws.cli("server", "stop").stdout.startswith(f"Stopped {record['api_url']} (pid {record['pid']})")
    assert not pid_alive(record["pid"])
    assert not (_home(ws) / RECORD).exists()
    assert ws.cli("server", "status").stdout.startswith("not running")
    with socket.socket() as sock:
        assert sock.connect_ex(("127.0.0.1", record["port"])) != 0  # nothing listens any more


@pytest.mark.slow
def test_an_ephemeral_server_dies_with_its_command(ws) -> None:  # noqa: ANN001
    ws, _ = ws
    script = "import insats, sys\nfrom insats.runtime import prefect_api\nwith prefect_api() as url:\n"
    script += "    print(url, flush=True); sys.stdin.read()\n"
    env = {**clean_env(), "PREFECT_HOME": str(_home(ws)), "INSATS_SERVER": "ephemeral"}
    proc = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ws.root, env=env, stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
    )
    try:
        url = proc.stdout.readline().strip()
        assert local_server.healthy(url)
        assert not (_home(ws) / RECORD).exists()  # not the shared server
    finally:
        proc.kill()
        proc.wait()
    deadline = time.monotonic() + 15
    while local_server.healthy(url, timeout=1) and time.monotonic() < deadline:
        time.sleep(0.2)
    assert not local_server.healthy(url, timeout=1)
