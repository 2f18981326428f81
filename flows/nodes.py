"""Nodes: pure functions of DataFrames made into content-cached Prefect tasks (Kedro's nodes, R's targets).

``node(fn, outputs=...)`` wraps a plain function from ``tasks/``. Called in a flow with paths of Parquet files
for its DataFrame parameters, it loads them (only the columns an ``Annotated[pd.DataFrame, Columns(...)]``
parameter names: :mod:`insats.loading`), calls ``fn``, writes what ``fn`` returns (DataFrames as Parquet,
bytes as PNG or as the named file) into ``out_dir`` under the output names, and returns the paths: one
``Path`` for one output, else a dict name -> Path. Flows hand each other paths, never large frames.

A node is recomputed only when something it depends on changed:

- the contents of every file or folder it reads (sha256), and every other argument's value;
- the source of the code ``fn`` can run (:func:`insats.fingerprint.function_fingerprint`), and library versions;
- its outputs on disk: a cached result whose files were removed or altered is recomputed (a ledger of what
  each key wrote lives beside Prefect's own cache records, under ``PREFECT_HOME``).
"""

from __future__ import annotations

import ctypes
import gc
import hashlib
import inspect
import json
import os
import types
import typing
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
from prefect import task
from prefect.cache_policies import CachePolicy
from prefect.context import TaskRunContext
from prefect.logging import get_logger
from pydantic import BaseModel

from insats.fingerprint import function_fingerprint
from insats.loading import Columns
from insats.provenance import content_hash, package_versions, sha256_file
from insats.storage import write_bytes, write_json, write_parquet, write_text

RUN_ARGUMENTS = ("out_dir", "tag")  # where a node writes: part of its key, not of its function


def fingerprint_value(value: Any) -> Any:
    """What an argument contributes to a cache key: file contents for paths, values otherwise."""
    if isinstance(value, Path):
        return {"path_contents": content_hash(value) if value.exists() else f"missing:{value}"}
    if isinstance(value, BaseModel):
        return fingerprint_value(value.model_dump(mode="json"))
    if isinstance(value, Mapping):
        return {str(k): fingerprint_value(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    if isinstance(value, list | tuple):
        return [fingerprint_value(v) for v in value]
    if value is None or isinstance(value, str | int | float | bool):
        return value
    return repr(value)


def _as_paths(value: Any) -> Any:
    if isinstance(value, str | Path):
        return Path(value)
    if isinstance(value, Mapping):
        return {k: _as_paths(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_as_paths(v) for v in value]
    return value


def _ledger(key: str) -> Path:
    home = Path(os.environ.get("PREFECT_HOME", Path.home() / ".prefect"))
    return home / "insats-nodes" / f"{key}.json"


def remember_outputs(key: str, paths: Iterable[Path]) -> None:
    """Record what the run under ``key`` wrote, so a later cache hit can check the files are still there."""
    write_json({str(p): sha256_file(Path(p)) for p in paths}, _ledger(key))


def _intact(ledger: Path) -> bool:
    try:
        written = json.loads(ledger.read_text(encoding="utf-8"))
        return all(Path(p).is_file() and sha256_file(Path(p)) == digest for p, digest in written.items())
    except (OSError, ValueError):
        return False


@dataclass
class NodeCachePolicy(CachePolicy):
    """Key = node name + code of ``fn`` + library versions + argument contents; see the module docstring."""

    fn: Callable[..., Any] | None = None
    ignore: tuple[str, ...] = field(default_factory=tuple)
    files: tuple[str, ...] = field(default_factory=tuple)  # parameters that name files, given as str or Path

    def key_for(self, name: str, inputs: Mapping[str, Any]) -> str:
        inputs = {k: _as_paths(v) if k in self.files else v for k, v in inputs.items()}
        material = {
            "node": name,
            "code": function_fingerprint(self.fn),
            "libraries": package_versions(),
            "inputs": fingerprint_value({k: v for k, v in inputs.items() if k not in self.ignore}),
        }
        key = hashlib.sha256(json.dumps(material, sort_keys=True, default=str).encode()).hexdigest()
        if os.environ.get("INSATS_EXPLAIN_CACHE"):  # what a key was made of, to explain an unexpected re-run
            write_json(material, _ledger(key).parent / "explain" / f"{name}-{key[:12]}.json")
        return key

    def compute_key(
        self, task_ctx: TaskRunContext, inputs: dict[str, Any], flow_parameters: dict[str, Any], **kwargs: Any
    ) -> str | None:
        key = self.key_for(task_ctx.task.name, inputs)
        ledger = _ledger(key)
        if ledger.exists() and not _intact(ledger):
            get_logger("insats.nodes").info(
                "%s: cached outputs are missing or changed on disk - recomputing", task_ctx.task.name
            )
            return f"{key}-recompute-{uuid.uuid4().hex}"  # the files are the truth, not the cache record
        return key


def _frame(annotation: Any) -> tuple[bool, list[str] | None]:
    """Whether ``annotation`` is a DataFrame, and the columns to read (``Annotated[pd.DataFrame, Columns(...)]``,
    see :mod:`insats.loading`; None: every column)."""
    if typing.get_origin(annotation) is typing.Annotated:
        base, *meta = typing.get_args(annotation)
        wanted = next((list(m.names) for m in meta if isinstance(m, Columns)), None)
        return base is pd.DataFrame, wanted
    return annotation is pd.DataFrame, None


# How a parameter's annotation asks for its argument: a path is loaded into this shape before the call.
def _loader(annotation: Any) -> Callable[[Any], Any] | None:
    is_frame, columns = _frame(annotation)
    if is_frame:
        return lambda v: pd.read_parquet(v, columns=columns) if v is not None else None
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    frames = [_frame(a) for a in args]
    if origin in (typing.Union, types.UnionType) and any(f for f, _ in frames):
        columns = next(c for f, c in frames if f)
        return lambda v: pd.read_parquet(v, columns=columns) if v is not None else None
    if origin is list and len(args) == 1 and frames[0][0]:
        return lambda v: [pd.read_parquet(p, columns=frames[0][1]) for p in v]
    if origin is dict and len(args) == 2 and frames[1][0]:
        return lambda v: {k: pd.read_parquet(p, columns=frames[1][1]) for k, p in v.items()}
    return None


def release_memory() -> None:
    """Give the memory a node freed back to the operating system before the next node runs: glibc keeps freed
    chunks below its (adaptive, up to 32 MB) mmap threshold in its heaps, so a 30M-row node left ~1-2 GB of
    resident memory behind (``malloc_trim``); Arrow's pool keeps freed blocks too (``release_unused``)."""
    gc.collect()
    pa.default_memory_pool().release_unused()
    if _LIBC is not None:
        _LIBC.malloc_trim(0)


def _glibc() -> Any:
    try:
        libc = ctypes.CDLL(None)
        return libc if hasattr(libc, "malloc_trim") else None  # glibc only (not musl, macOS or Windows)
    except OSError:
        return None


_LIBC = _glibc()


def _target(out_dir: Path, name: str, tag: str, value: Any) -> Path:
    stem, dot, suffix = name.partition(".")
    if not dot:
        suffix = "parquet" if isinstance(value, pd.DataFrame) else "png" if isinstance(value, bytes) else "txt"
    return out_dir / f"{stem}{'_' + tag if tag else ''}.{suffix}"


def _save(value: Any, target: Path) -> Path:
    if isinstance(value, pd.DataFrame):
        return write_parquet(value, target)
    if isinstance(value, bytes):
        return write_bytes(value, target)
    if isinstance(value, str):
        return write_text(value, target)
    if isinstance(value, dict | list):
        return write_json(value, target)
    raise TypeError(f"a node's output must be a DataFrame, bytes, text or JSON data, got {type(value).__name__}")


def _named_results(fn: Callable[..., Any], outputs: tuple[str, ...], result: Any) -> dict[str, Any]:
    if outputs == ("*",):  # names decided by the data (e.g. one figure per intervention)
        if not isinstance(result, Mapping):
            raise TypeError(f"{fn.__name__} must return a dict of outputs (its outputs are '*')")
        return dict(result)
    if len(outputs) == 1:
        return {outputs[0]: result}
    if isinstance(result, Mapping):
        missing = [o for o in outputs if o not in result]
        if missing:
            raise KeyError(f"{fn.__name__} returned no {', '.join(missing)}")
        return {o: result[o] for o in outputs}
    if isinstance(result, tuple) and len(result) == len(outputs):
        return dict(zip(outputs, result, strict=True))
    raise TypeError(f"{fn.__name__} must return {len(outputs)} outputs ({', '.join(outputs)})")


def node(fn: Callable[..., Any], outputs: str | tuple[str, ...], name: str | None = None, **task_options: Any) -> Any:
    """Make ``fn`` (a pure function from ``tasks/``) a content-cached Prefect task; see the module docstring.

    The task takes ``fn``'s parameters as keywords (paths for DataFrame parameters) plus ``out_dir`` (where to
    write) and ``tag`` (a suffix that keeps fanned-out calls apart, e.g. ``INS01_h12``).
    """
    outs = (outputs,) if isinstance(outputs, str) else tuple(outputs)
    hints = typing.get_type_hints(fn, include_extras=True)  # keeps Annotated[pd.DataFrame, Columns(...)]
    signature = inspect.signature(fn)
    loaders = {p: f for p in signature.parameters if (f := _loader(hints.get(p))) is not None}
    policy = NodeCachePolicy(fn=fn, files=tuple(loaders))
    node_name = name or fn.__name__

    def run(**kwargs: Any) -> Any:
        out_dir, tag = Path(kwargs.pop("out_dir")), str(kwargs.pop("tag", "") or "")
        key = policy.key_for(node_name, {**kwargs, "out_dir": str(out_dir), "tag": tag})
        args = {k: loaders[k](v) if k in loaders else v for k, v in kwargs.items()}
        named = _named_results(fn, outs, fn(**args))
        paths = {n: _save(v, _target(out_dir, n, tag, v)) for n, v in named.items()}
        del args, named
        release_memory()
        remember_outputs(key, paths.values())
        return next(iter(paths.values())) if len(outs) == 1 and outs != ("*",) else paths

    params = [
        p.replace(kind=inspect.Parameter.KEYWORD_ONLY, annotation=Any if p.name in loaders else p.annotation)
        for p in signature.parameters.values()
    ]
    params += [
        inspect.Parameter("out_dir", inspect.Parameter.KEYWORD_ONLY, annotation=str),
        inspect.Parameter("tag", inspect.Parameter.KEYWORD_ONLY, default="", annotation=str),
    ]
    run.__signature__ = inspect.Signature(params)  # type: ignore[attr-defined]
    run.__name__ = run.__qualname__ = node_name
    run.__doc__ = fn.__doc__
    return task(run, name=node_name, cache_policy=policy, persist_result=True, retries=0, **task_options)
