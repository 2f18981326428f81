"""Provenance: checksums of inputs, the version of the code that ran, and the manifest beside outputs.

"Unchanged" is judged the way R's ``targets`` judges it: on file contents (sha256) and on the source of
every project module a step can execute (the transitive closure of its project-internal imports), not
only on the body of the step's own function.
"""

from __future__ import annotations

import ast
import functools
import hashlib
import importlib.metadata
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

PROJECT_PACKAGES = ("insats",)
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


def _module_file(name: str) -> Path | None:
    """Source file of a project module, found on disk without importing it (None if not a module)."""
    parts = name.split(".")
    if len(parts) > 1 and parts[0] == "insats" and parts[1] in ("tasks", "flows", "schemas"):
        parts = parts[1:]  # installed as insats.tasks etc., kept at the top of the repository
    base = PROJECT_ROOT.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _project_imports(file: Path, package: str) -> set[str]:
    """Project-internal modules a source file imports (absolute and relative)."""
    tree = ast.parse(file.read_text(encoding="utf-8"))
    found: set[str] = set()
    for node in ast.walk(tree):
        names: list[str] = []
        if isinstance(node, ast.Import):
            names = [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*parts, base] if base else parts)
            names = [base] + [f"{base}.{a.name}" for a in node.names]
        for name in names:
            if name.split(".")[0] in PROJECT_PACKAGES:
                found.add(name)
    return found


def reachable_modules(module_name: str) -> dict[str, Path]:
    """``module_name`` and every project module it imports, transitively, with their source files.

    Package ``__init__`` files on the way are included, since importing a submodule runs them.
    """
    seen: dict[str, Path] = {}
    todo = [module_name]
    while todo:
        name = todo.pop()
        if name in seen:
            continue
        file = _module_file(name)
        if file is None:  # a name imported from a module, not a module itself
            continue
        seen[name] = file
        package = name if file.name == "__init__.py" else name.rpartition(".")[0]
        todo.extend(_project_imports(file, package))
        parts = name.split(".")
        todo.extend(".".join(parts[:i]) for i in range(1, len(parts)))
    return seen


@functools.lru_cache(maxsize=256)
def code_fingerprint(module_name: str) -> str:
    """Hash of the source of ``module_name`` and of every project module it can reach."""
    digest = hashlib.sha256()
    for name, file in sorted(reachable_modules(module_name).items()):
        digest.update(name.encode())
        digest.update(file.read_bytes())
    return digest.hexdigest()


def function_fingerprint(fn: Any) -> str:
    """Code fingerprint of the module defining ``fn`` (and all project code it can reach)."""
    return code_fingerprint(fn.__module__)


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
