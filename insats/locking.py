"""One run at a time per data tree: a run holds an exclusive lock on its config's data folders.

The lock is an ``fcntl.flock`` on ``<paths.interim>/.insats.lock``: the kernel releases it when the holding
process ends, however it ends, so a killed run never leaves a stale lock. The file records who holds it.
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
import sys
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path


class DataTreeBusy(RuntimeError):
    """Another insats run is using the same data tree."""


@contextlib.contextmanager
def data_tree_lock(interim: Path, wait_seconds: float = 0.0) -> Iterator[Path]:
    """Hold the data tree's lock for the block; raise DataTreeBusy naming the holder if it is taken.

    ``wait_seconds`` > 0 waits that long for the other run to finish before giving up.
    """
    interim = Path(interim)
    interim.mkdir(parents=True, exist_ok=True)
    path = interim / ".insats.lock"
    fh = open(path, "a+", encoding="utf-8")  # noqa: SIM115 - held open for the whole block
    try:
        deadline = time.monotonic() + wait_seconds
        while True:
            try:
                fcntl.flock(fh.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except BlockingIOError:
                if time.monotonic() >= deadline:
                    fh.seek(0)
                    holder = fh.read().strip() or "{}"
                    try:
                        who = json.loads(holder)
                    except ValueError:
                        who = {}
                    raise DataTreeBusy(
                        f"Another insats run (pid {who.get('pid', '?')}, `{who.get('command', '?')}`, started "
                        f"{who.get('started', '?')}) is using the data tree {interim.parent}; wait for it to "
                        "finish, or set INSATS_LOCK_WAIT_SECONDS to wait for it"
                    ) from None
                time.sleep(0.5)
        fh.seek(0)
        fh.truncate()
        record = {
            "pid": os.getpid(),
            "command": " ".join(["insats", *sys.argv[1:]]),
            "started": datetime.now(UTC).isoformat(timespec="seconds"),
        }
        fh.write(json.dumps(record))
        fh.flush()
        yield path
    finally:
        fh.close()  # releases the lock
