"""Provenance: checksums of inputs, the version of the code that ran, and the manifest beside outputs.

What a step's code is, for its cache key, is ``insats.fingerprint``'s business.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

PROJECT_ROOT = Path(__file__).resolve().parents[1]
RECORDED_PACKAGES = (
    "insats",
    "prefect",
    "pandas",
    "numpy",
    "pyarrow",
    "statsmodels",
    "scikit-learn",
    "nltk",
    "pyreadstat",
    "great_expectations",
    "matplotlib",
)

_CHUNK = 1 << 20


@functools.lru_cache(maxsize=4096)
def _sha256_cached(path: str, size: int, mtime_ns: int) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def sha256_file(path: Path) -> str:
    """sha256 of a file's bytes (memoised per process on path, size and modification time)."""
    st = path.stat()
    return _sha256_cached(str(path), st.st_size, st.st_mtime_ns)


def files_under(path: Path) -> list[Path]:
    """The file itself, or every regular file below a folder, in a stable order."""
    if path.is_file():
        return [path]
    if path.is_dir():
        return sorted(p for p in path.rglob("*") if p.is_file() and not p.name.startswith("."))
    raise FileNotFoundError(f"Input not found: {path}")


def checksum_inputs(paths: Iterable[Path]) -> list[dict[str, Any]]:
    """One record per input file: path, size in bytes and sha256. Folders are expanded."""
    records = []
    for path in paths:
        for f in files_under(Path(path)):
            records.append({"path": str(f), "bytes": f.stat().st_size, "sha256": sha256_file(f)})
    return records


def content_hash(path: Path) -> str:
    """One hash over a file's or a folder's contents (names relative to the folder, and bytes)."""
    path = Path(path)
    if path.is_file():
        return sha256_file(path)
    digest = hashlib.sha256()
    for f in files_under(path):
        digest.update(str(f.relative_to(path)).encode())
        digest.update(sha256_file(f).encode())
    return digest.hexdigest()


@functools.lru_cache(maxsize=1)
def code_version() -> dict[str, Any]:
    """Package version, git commit and whether the work tree had uncommitted changes."""
    info: dict[str, Any] = {
        "package": importlib.metadata.version("insats"),
        "git_commit": None,
        "git_dirty": None,
    }
    try:
        commit = subprocess.run(
            ["git", "rev-parse", "HEAD"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        dirty = subprocess.run(
            ["git", "status", "--porcelain", "--untracked-files=no"],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=5,
            check=True,
        ).stdout.strip()
        info.update(git_commit=commit, git_dirty=bool(dirty))
    except (OSError, subprocess.SubprocessError):
        pass  # installed from a wheel or git missing: the package version still identifies the code
    return info


@functools.lru_cache(maxsize=1)
def package_versions() -> dict[str, str]:
    versions = {"python": sys.version.split()[0]}
    for name in RECORDED_PACKAGES:
        try:
            versions[name] = importlib.metadata.version(name)
        except importlib.metadata.PackageNotFoundError:
            versions[name] = "not installed"
    return versions
