"""Writing outputs safely: every file is written beside its target and renamed into place, and a study's
outputs are published as a whole folder, so a failed run leaves nothing half-written and earlier outputs
intact. Nothing here may write below a raw-data folder.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq


class RawDataWriteError(RuntimeError):
    """An attempt to write below the immutable raw-data folder."""


_RAW_ROOTS: set[Path] = set()
_UMASK = os.umask(0)
os.umask(_UMASK)
# mkstemp makes private (0600) files; outputs get the permissions any other new file would have.
FILE_MODE = 0o666 & ~_UMASK


def protect_raw(raw: Path) -> None:
    """Register a raw-data folder: any later write below it through this module is refused."""
    _RAW_ROOTS.add(Path(raw).resolve())


def _check_not_raw(path: Path) -> None:
    resolved = Path(path).resolve()
    for raw in _RAW_ROOTS:
        if resolved == raw or raw in resolved.parents:
            raise RawDataWriteError(f"Refusing to write {path}: it lies under the read-only raw-data folder {raw}")


@contextmanager
def atomic_path(target: Path) -> Iterator[Path]:
    """Yield a temporary path in the target's folder; rename it onto ``target`` only if the block succeeds."""
    target = Path(target)
    _check_not_raw(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.fchmod(fd, FILE_MODE)
    os.close(fd)
    tmp_path = Path(tmp)
    try:
        yield tmp_path
        os.replace(tmp_path, target)
    finally:
        tmp_path.unlink(missing_ok=True)


def write_parquet(df: pd.DataFrame, target: Path, metadata: dict[str, Any] | None = None) -> Path:
    """Write a DataFrame as Parquet atomically; ``metadata`` is stored as JSON in the file's schema."""
    table = pa.Table.from_pandas(df, preserve_index=False)
    if metadata:
        merged = {
            **(table.schema.metadata or {}),
            b"insats": json.dumps(metadata, default=str, ensure_ascii=False).encode("utf-8"),
        }
        table = table.replace_schema_metadata(merged)
    with atomic_path(target) as tmp:
        pq.write_table(table, tmp)
    return Path(target)


def write_json(data: Any, target: Path) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_text(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n", encoding="utf-8")
    return Path(target)


def write_text(text: str, target: Path) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_text(text, encoding="utf-8")
    return Path(target)


def write_bytes(data: bytes, target: Path) -> Path:
    with atomic_path(target) as tmp:
        tmp.write_bytes(data)
    return Path(target)


COMPLETE = ".complete"  # written last into a staging folder: it holds a whole publication


def publish_folder(target: Path, fill: Callable[[Path], None]) -> Path:
    """Build a folder in a staging place with ``fill(staging)``, then swap it in for ``target``.

    If ``fill`` raises, the staging folder is removed and ``target`` is untouched. The swap renames the old
    folder aside, renames the new one into place and only then deletes the old one. A process killed at any
    point leaves a state :func:`recover_publications` repairs: a complete staging folder (marked
    ``.complete``) or the old folder is put back in place, and half-filled staging folders are removed.
    """
    target = Path(target)
    _check_not_raw(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    token = uuid.uuid4().hex[:8]
    staging = target.parent / f".{target.name}.staging-{token}"
    old = target.parent / f".{target.name}.old-{token}"
    staging.mkdir()
    try:
        fill(staging)
        (staging / COMPLETE).touch()
        if target.exists():
            os.replace(target, old)
        os.replace(staging, target)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        if old.exists() and not target.exists():
            os.replace(old, target)
        raise
    (target / COMPLETE).unlink(missing_ok=True)
    shutil.rmtree(old, ignore_errors=True)
    return target


# atomic_path's temp files: ``.<target name>.<8 random characters from mkstemp>.tmp``
_TEMP_FILE = re.compile(r"^\..+\.[a-z0-9_]{8}\.tmp$")


def recover_publications(root: Path) -> list[str]:
    """Repair what a killed publication or write left below ``root``; returns one line per action taken.

    For each ``.<name>.staging-*`` / ``.<name>.old-*`` pair: if ``<name>`` is missing, the newest complete
    staging folder is renamed into place, else the old folder is; then every leftover is removed. Temp files of
    :func:`atomic_path` whose writer was killed before the rename are removed (their target, if any, is the
    earlier, whole file). Call it only while holding the data tree's lock (insats.locking), so no live writer
    owns what it removes.
    """
    root = Path(root)
    if not root.is_dir():
        return []
    actions: list[str] = []
    for temp in sorted(p for p in root.rglob(".*.tmp") if p.is_file() and _TEMP_FILE.match(p.name)):
        temp.unlink(missing_ok=True)
        actions.append(f"removed leftover {temp}")
    leftovers = sorted(p for p in root.rglob(".*") if p.is_dir() and (".staging-" in p.name or ".old-" in p.name))
    for folder in {p.parent for p in leftovers}:
        names = {p.name[1:].rsplit(".staging-", 1)[0].rsplit(".old-", 1)[0] for p in leftovers if p.parent == folder}
        for name in sorted(names):
            target = folder / name
            staged = [p for p in leftovers if p.parent == folder and p.name.startswith(f".{name}.staging-")]
            olds = [p for p in leftovers if p.parent == folder and p.name.startswith(f".{name}.old-")]
            if not target.exists():
                complete = sorted((p for p in staged if (p / COMPLETE).is_file()), key=lambda p: p.stat().st_mtime)
                restore = complete[-1] if complete else (olds[-1] if olds else None)
                if restore is not None:
                    os.replace(restore, target)
                    (target / COMPLETE).unlink(missing_ok=True)
                    actions.append(f"restored {target} from an interrupted publication ({restore.name})")
            for p in [*staged, *olds]:
                if p.exists():
                    shutil.rmtree(p, ignore_errors=True)
                    actions.append(f"removed leftover {p}")
    return actions
