"""The project's own local Prefect server: started once, in the background, and reused by every command.

The server is Prefect's API app (``prefect.server.api.server:create_app``) under uvicorn, the same command
``prefect server start --background`` runs, but started detached in its own session (process group), bound
to 127.0.0.1 on a free port, with its output in ``<PREFECT_HOME>/insats-server.log``. Prefect's own
``--background`` is not used: it pipes the server's output without reading it (the server blocks once the
pipe fills), does not detach the process group, and records only the pid.

What a start leaves in ``PREFECT_HOME`` (the config's ``paths.prefect_home``):

- ``insats-server.json``: the server's API URL, pid (= its process-group id), port, start time (UNIX s)
  and the process's own start tick (so a reused pid is not mistaken for the server);
- ``insats-server.lock``: ``fcntl.flock``-ed while a command checks, starts or stops the server, so two
  commands started together share one server.

A recorded server is reused when its process is alive *and* ``GET <url>/health`` answers; a record whose
process is gone is removed; a live process that does not answer is killed (its whole process group). Before a
new start, and on stop, servers started for this PREFECT_HOME that have no record any more (found by
``INSATS_SERVER_HOME`` in their environment, Linux) are stopped too.
"""

from __future__ import annotations

import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

RECORD = "insats-server.json"
LOCK = "insats-server.lock"
LOG = "insats-server.log"
TIMEOUT_SETTING = "INSATS_SERVER_START_TIMEOUT"
HOME_MARKER = "INSATS_SERVER_HOME"  # in the shared server's environment: the PREFECT_HOME it serves
DEFAULT_START_TIMEOUT = 90.0
HEALTH_TIMEOUT = 10.0  # seconds one health request may take before the server counts as not answering
POSIX = os.name == "posix"  # process groups, flock and signal 0; elsewhere only the ephemeral mode is offered


class ServerStartError(RuntimeError):
    """The local Prefect server did not come up; the message names the setting that gives it more time."""


@dataclass(frozen=True)
class ServerRecord:
    """A started local server: ``api_url`` like ``http://127.0.0.1:8123/api``; ``started`` in UNIX seconds."""

    api_url: str
    pid: int
    port: int
    started: float
    process_start: str | None = None  # /proc/<pid>/stat start tick (Linux), guards against pid reuse
    home: str | None = None  # the PREFECT_HOME it serves: a record copied with the folder is not this one's

    @property
    def uptime_seconds(self) -> float:
        return max(0.0, time.time() - self.started)


def prefect_home() -> Path:
    """``PREFECT_HOME`` as the CLI set it (the config's ``paths.prefect_home``), else Prefect's default."""
    return Path(os.environ.get("PREFECT_HOME") or Path.home() / ".prefect").expanduser().resolve()


def start_timeout() -> float:
    """Seconds to wait for a server start: ``INSATS_SERVER_START_TIMEOUT``, else Prefect's
    ``PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS``, else 90."""
    for name in (TIMEOUT_SETTING, "PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS"):
        value = os.environ.get(name)
        if value:
            try:
                return float(value)
            except ValueError as exc:
                raise ValueError(f"{name}={value!r} is not a number of seconds") from exc
    return DEFAULT_START_TIMEOUT


# --- processes ---------------------------------------------------------------------------------------------


def process_start_tick(pid: int) -> str | None:
    """The kernel's start tick of ``pid`` (field 22 of /proc/<pid>/stat), or None where /proc is absent."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except OSError:
        return None
    return stat.rsplit(")", 1)[1].split()[19]


def pid_alive(pid: int, start_tick: str | None = None) -> bool:
    """Whether ``pid`` is a live (not zombie) process, and the same one as recorded when ``start_tick`` is given.
    POSIX only (on Windows ``os.kill(pid, 0)`` would end the process)."""
    if pid <= 0 or not POSIX:
        return False
    with contextlib.suppress(ChildProcessError, OSError):
        os.waitpid(pid, os.WNOHANG)  # reap it if it is our own exited child
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    stat = Path(f"/proc/{pid}/stat")
    if stat.exists():
        with contextlib.suppress(OSError):
            fields = stat.read_text().rsplit(")", 1)[1].split()
            if fields[0] in ("Z", "X"):
                return False
            if start_tick is not None and fields[19] != start_tick:
                return False
    return True


def kill_group(pid: int, timeout: float = 10.0) -> None:
    """SIGTERM the process group led by ``pid``, then SIGKILL it if ``pid`` still lives after ``timeout`` s."""
    for sig, wait in ((signal.SIGTERM, timeout), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(pid, sig)
        except ProcessLookupError:
            return
        except PermissionError:
            os.kill(pid, sig)
        deadline = time.monotonic() + wait
        while time.monotonic() < deadline:
            if not pid_alive(pid):
                return
            time.sleep(0.05)


def orphans(home: Path, keep: int | None = None) -> list[int]:
    """Pids of shared servers started for ``home`` (``INSATS_SERVER_HOME`` in their environment), except
    ``keep``: after its record was deleted (e.g. with the folder) such a server is found here. Linux only."""
    marker = f"{HOME_MARKER}={home}".encode()
    found = []
    for environ in Path("/proc").glob("[0-9]*/environ"):
        pid = int(environ.parent.name)
        if pid in (keep, os.getpid()):
            continue
        with contextlib.suppress(OSError):
            if marker in environ.read_bytes().split(b"\0"):
                found.append(pid)
    return found


def _end(process: subprocess.Popen[bytes]) -> None:
    """Stop a server this process started (its whole group on POSIX) and reap it."""
    if POSIX:
        kill_group(process.pid, timeout=5)
    else:
        process.terminate()
    with contextlib.suppress(ChildProcessError, subprocess.TimeoutExpired):
        process.wait(timeout=5)


def healthy(api_url: str, timeout: float | None = None) -> bool:
    """Whether ``GET <api_url>/health`` answers 200 within ``timeout`` s (default HEALTH_TIMEOUT; no proxy: the
    server is on loopback)."""
    opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))
    try:
        with opener.open(f"{api_url}/health", timeout=timeout or HEALTH_TIMEOUT) as response:
            return response.status == 200
    except (OSError, urllib.error.URLError, ValueError):
        return False


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def server_command(port: int) -> list[str]:
    """The uvicorn command Prefect itself uses for its API server, on 127.0.0.1:``port``."""
    import prefect

    return [
        *[sys.executable, "-m", "uvicorn", "--app-dir", str(Path(prefect.__file__).parent.parent)],
        *["--factory", "prefect.server.api.server:create_app", "--host", "127.0.0.1", "--port", str(port)],
        *["--log-level", "warning", "--lifespan", "on"],
    ]


def server_env(home: Path) -> dict[str, str]:
    """The server's environment: offline, this PREFECT_HOME; the UI only if the user enabled it."""
    env = {k: v for k, v in os.environ.items() if k not in ("PREFECT_API_URL", HOME_MARKER)}
    env.update(PREFECT_HOME=str(home), DO_NOT_TRACK="1", PREFECT_SERVER_ANALYTICS_ENABLED="false")
    env["PREFECT__SERVER_FINAL"] = "1"
    env.setdefault("PREFECT_SERVER_UI_ENABLED", "false")
    if env["PREFECT_SERVER_UI_ENABLED"].lower() in ("0", "false", "no", "off"):
        env["PREFECT__SERVER_EPHEMERAL"] = "1"  # no UI, and only the services a local run needs
    return env


def spawn(home: Path, port: int, log: Path, die_with_parent: bool = False) -> subprocess.Popen[bytes]:
    """Start the server detached in its own session, its output in ``log``; with ``die_with_parent`` (Linux)
    the kernel sends it SIGTERM when this process dies, however it dies (the per-command ephemeral mode)."""
    command, env = server_command(port), server_env(home)
    if die_with_parent and sys.platform.startswith("linux"):
        command = [sys.executable, "-c", _DIE_WITH_PARENT, str(os.getpid()), *command[2:]]
    if not die_with_parent:
        env[HOME_MARKER] = str(home)  # lets a later command find it even if its record was deleted
    out = log.open("wb")
    try:
        return subprocess.Popen(
            command, env=env, cwd=home, stdin=subprocess.DEVNULL, stdout=out, stderr=out,
            start_new_session=True,
        )  # fmt: skip
    finally:
        out.close()


# Runs uvicorn in-process after asking the kernel for SIGTERM on the parent's death (prctl PR_SET_PDEATHSIG).
_DIE_WITH_PARENT = """
import ctypes, os, runpy, signal, sys
ctypes.CDLL(None, use_errno=True).prctl(1, signal.SIGTERM)
if os.getppid() != int(sys.argv[1]):
    sys.exit(0)
sys.argv = ["uvicorn", *sys.argv[3:]]
runpy.run_module("uvicorn", run_name="__main__", alter_sys=True)
"""


def wait_healthy(process: subprocess.Popen[bytes], api_url: str, log: Path, timeout: float) -> None:
    """Wait until the server answers; on timeout or exit kill its group and raise ServerStartError."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise ServerStartError(
                f"The local Prefect server exited with code {process.returncode} while starting; "
                f"its log: {log}\n{_log_tail(log)}"
            )
        if healthy(api_url, timeout=min(HEALTH_TIMEOUT, max(0.1, deadline - time.monotonic()))):
            return
        time.sleep(0.1)
    _end(process)
    raise ServerStartError(
        f"The local Prefect server did not answer at {api_url}/health within {timeout:g} s (a busy machine, or "
        f"a first start that migrates the database). Raise {TIMEOUT_SETTING} (seconds, now {timeout:g}), e.g. "
        f"`export {TIMEOUT_SETTING}=300`; the server's log: {log}"
    )


def _log_tail(log: Path, lines: int = 15) -> str:
    with contextlib.suppress(OSError):
        return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])
    return ""


# --- the record and the lock ---------------------------------------------------------------------------------


@contextlib.contextmanager
def server_lock(home: Path) -> Iterator[None]:
    """Hold an exclusive ``fcntl.flock`` on ``<home>/insats-server.lock`` (waits for another command)."""
    import fcntl

    home.mkdir(parents=True, exist_ok=True)
    with (home / LOCK).open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def read_record(home: Path) -> ServerRecord | None:
    """The recorded server, or None when there is no record (an unreadable record counts as none)."""
    try:
        return ServerRecord(**json.loads((home / RECORD).read_text()))
    except (OSError, ValueError, TypeError):
        return None


def write_record(home: Path, record: ServerRecord) -> None:
    tmp = home / f".{RECORD}.{os.getpid()}.tmp"
    tmp.write_text(json.dumps(asdict(record), indent=2))
    os.replace(tmp, home / RECORD)


def live_record(home: Path) -> ServerRecord | None:
    """The recorded server if it is alive and answers; otherwise clean up and return None.

    A record whose process is gone is removed; a live process that does not answer ``/health`` is killed
    (its process group) and its record removed. Call with the lock held.
    """
    record = read_record(home)
    if record is None or (record.home is not None and Path(record.home) != home):
        (home / RECORD).unlink(missing_ok=True)  # a record copied from another folder: its server is not ours
        return None
    if pid_alive(record.pid, record.process_start):
        for _ in range(3):  # a loaded machine may answer slowly; three chances before the process counts as hung
            if healthy(record.api_url):
                return record
            if not pid_alive(record.pid, record.process_start):
                break
        else:
            kill_group(record.pid)
    (home / RECORD).unlink(missing_ok=True)
    return None


def ensure_server(home: Path | None = None, timeout: float | None = None) -> tuple[ServerRecord, bool]:
    """The project's local server, started if none answers: ``(record, started_now)``."""
    home = (home or prefect_home()).resolve()
    timeout = start_timeout() if timeout is None else timeout
    with server_lock(home):
        record = live_record(home)
        if record is not None:
            return record, False
        for pid in orphans(home):
            kill_group(pid)
        for _attempt in range(3):  # another program may take the free port before uvicorn binds it
            port = free_port()
            process = spawn(home, port, home / LOG)
            record = ServerRecord(
                api_url=f"http://127.0.0.1:{port}/api",
                pid=process.pid,
                port=port,
                started=time.time(),
                process_start=process_start_tick(process.pid),
                home=str(home),
            )
            write_record(home, record)  # before waiting: a command killed meanwhile leaves a findable server
            try:
                wait_healthy(process, record.api_url, home / LOG, timeout)
            except ServerStartError:
                (home / RECORD).unlink(missing_ok=True)
                if process.returncode == 3 or "address already in use" in _log_tail(home / LOG).lower():
                    continue
                raise
            return record, True
        raise ServerStartError(f"The local Prefect server found no free port on 127.0.0.1; its log: {home / LOG}")


def stop_server(home: Path | None = None, timeout: float = 10.0) -> ServerRecord | None:
    """Stop the recorded server (SIGTERM to its group, SIGKILL after ``timeout`` s); the record it had, if any."""
    home = (home or prefect_home()).resolve()
    if not (home / RECORD).exists() and not orphans(home):
        return None
    with server_lock(home):
        record = read_record(home)
        if record is not None and record.home not in (None, str(home)):
            record = None  # copied from another folder: that server is not this one's to stop
        if record is not None and pid_alive(record.pid, record.process_start):
            kill_group(record.pid, timeout=timeout)
        for pid in orphans(home):
            kill_group(pid, timeout=timeout)
        (home / RECORD).unlink(missing_ok=True)
        return record


def server_status(home: Path | None = None) -> ServerRecord | None:
    """The recorded server if it is alive and answers (stale records are cleaned up), else None."""
    home = (home or prefect_home()).resolve()
    if not (home / RECORD).exists():
        return None
    with server_lock(home):
        return live_record(home)


@contextlib.contextmanager
def ephemeral_server(home: Path | None = None, timeout: float | None = None) -> Iterator[str]:
    """A server for one command only (``INSATS_SERVER=ephemeral``): yields its API URL, stopped at exit,
    and killed by the kernel if this process dies first (Linux parent-death signal)."""
    home = home or prefect_home()
    home.mkdir(parents=True, exist_ok=True)
    port = free_port()
    log = home / f"insats-ephemeral-server-{os.getpid()}.log"
    process = spawn(home, port, log, die_with_parent=True)
    api_url = f"http://127.0.0.1:{port}/api"
    try:
        wait_healthy(process, api_url, log, start_timeout() if timeout is None else timeout)
    except BaseException:
        _end(process)
        raise  # the log is kept: the error message names it
    try:
        yield api_url
    finally:
        _end(process)
        log.unlink(missing_ok=True)
