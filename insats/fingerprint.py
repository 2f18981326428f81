"""What a step's code is, for its cache key: the source of the function and of every project function, class
and constant it actually uses, followed transitively (R ``targets`` judges "unchanged" the same way).

A whole-module closure would make every step depend on everything its module imports, so editing a Swedish
label would recompute study 3's bootstrap. Here a step depends only on the code it can call: names its code
objects load (globals, attributes of project modules, closures, defaults), not the modules they live in.
Third-party code enters the key through the library versions recorded elsewhere, not through its source.
"""

from __future__ import annotations

import ast
import dataclasses
import functools
import hashlib
import inspect
import os
import re
import sys
import threading
import tokenize
import types
from collections.abc import Iterator
from typing import Any

PROJECT = "insats"
_ADDRESS = re.compile(r" at 0x[0-9a-fA-F]+")  # object addresses in reprs differ in every process


def _is_project(obj: Any) -> bool:
    module = getattr(obj, "__module__", None) or ""
    return module == PROJECT or module.startswith(PROJECT + ".")


def _code_names(code: types.CodeType) -> Iterator[str]:
    """Every global or attribute name a code object (and the code nested in it) loads."""
    yield from code.co_names
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _code_names(const)


@dataclasses.dataclass(frozen=True)
class _FileIndex:
    """One source file's lines and where each def/class block lies: (first line incl. decorators, last line)."""

    lines: list[str]
    by_line: dict[int, int]  # first line of a def (its first decorator, as ``co_firstlineno``) -> last line
    by_qualname: dict[str, tuple[int, int]]  # class qualname -> (first line, last line)


@functools.lru_cache(maxsize=512)
def _file_index(filename: str, size: int, mtime_ns: int) -> _FileIndex | None:
    """Parse a source file once per version (size, mtime) instead of once per object, as ``inspect`` does."""
    try:
        with tokenize.open(filename) as handle:
            text = handle.read()
        tree = ast.parse(text)
    except (OSError, SyntaxError, ValueError):
        return None
    by_line: dict[int, int] = {}
    by_qualname: dict[str, tuple[int, int]] = {}

    def visit(body: list[Any], prefix: str) -> None:  # statement lists only: a def is a statement
        for child in body:
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                end = child.end_lineno or child.lineno
                by_line.setdefault(first, end)
                by_line.setdefault(child.lineno, end)
                qualname = f"{prefix}{child.name}"
                if isinstance(child, ast.ClassDef):
                    by_qualname.setdefault(qualname, (first, end))
                    visit(child.body, qualname + ".")
                else:
                    visit(child.body, qualname + ".<locals>.")
                continue
            for name in ("body", "orelse", "finalbody", "handlers", "cases"):  # if/for/with/try/match blocks
                inner = getattr(child, name, None)
                if isinstance(inner, list):
                    visit(inner, prefix)

    visit(tree.body, "")
    return _FileIndex(text.splitlines(keepends=True), by_line, by_qualname)


def _index_of(filename: str | None) -> _FileIndex | None:
    if not filename or not filename.endswith(".py"):
        return None
    try:
        st = os.stat(filename)
    except OSError:
        return None
    return _file_index(filename, st.st_size, st.st_mtime_ns)


def _fast_source(obj: Any) -> str | None:
    """The block of ``obj`` (function or class) from its file's index; None where ``inspect`` must decide."""
    if inspect.isclass(obj):
        module = sys.modules.get(obj.__module__)
        index = _index_of(getattr(module, "__file__", None))
        span = index.by_qualname.get(obj.__qualname__) if index else None
    else:
        code = getattr(obj, "__code__", None)
        if code is None or code.co_name == "<lambda>":
            return None
        index = _index_of(code.co_filename)
        end = index.by_line.get(code.co_firstlineno) if index else None
        span = (code.co_firstlineno, end) if end is not None else None
    if index is None or span is None:
        return None
    return "".join(index.lines[span[0] - 1 : span[1]])


def _source(obj: Any) -> str:
    """The source text (the def or class block with its decorators, read from a per-file index; ``inspect``
    for anything else); code made at run time (dataclass methods) is named instead, since its repr holds a
    memory address that would change the key in every process (its class's source covers it)."""
    fast = _fast_source(obj)
    if fast is not None:
        return fast
    try:
        return inspect.getsource(obj)
    except (OSError, TypeError):
        return f"<no source: {getattr(obj, '__module__', '?')}.{getattr(obj, '__qualname__', type(obj).__name__)}>"


def _data_repr(value: Any, depth: int = 0) -> str | None:
    """A stable text of a constant (labels, thresholds, column lists); None for anything else."""
    if depth > 6:
        return None
    if value is None or isinstance(value, bool | int | float | str | bytes):
        return repr(value)
    if isinstance(value, list | tuple | set | frozenset):
        items = [_data_repr(v, depth + 1) or "?" for v in value]
        return f"{type(value).__name__}({', '.join(sorted(items) if isinstance(value, set | frozenset) else items)})"
    if isinstance(value, dict):
        items = [f"{_data_repr(k, depth + 1)}: {_data_repr(v, depth + 1) or '?'}" for k, v in value.items()]
        return "{" + ", ".join(sorted(items)) + "}"
    return None


class _Walker:
    def __init__(self) -> None:
        self.parts: dict[str, str] = {}

    def function(self, fn: Any) -> None:
        fn = inspect.unwrap(fn)
        key = f"{fn.__module__}.{fn.__qualname__}"
        if key in self.parts:
            return
        self.parts[key] = _source(fn)
        code = getattr(fn, "__code__", None)
        if code is None:
            return
        names = set(_code_names(code))
        scope = getattr(fn, "__globals__", {})
        for name in sorted(names):
            if name in scope:
                self.value(scope[name], names, f"{fn.__module__}.{name}")
        for cell in fn.__closure__ or ():
            try:
                self.value(cell.cell_contents, names, f"{key}.<closure>")
            except ValueError:  # an empty cell
                continue
        for default in (*(fn.__defaults__ or ()), *(fn.__kwdefaults__ or {}).values()):
            self.value(default, names, f"{key}.<default>")

    def klass(self, cls: type) -> None:
        key = f"{cls.__module__}.{cls.__qualname__}"
        if key in self.parts:
            return
        self.parts[key] = _source(cls)
        for base in cls.__mro__[1:]:
            if _is_project(base):
                self.klass(base)
        for attr in vars(cls).values():
            target = attr.__func__ if isinstance(attr, classmethod | staticmethod) else attr
            if inspect.isfunction(target):
                self.function(target)
            elif isinstance(attr, property) and attr.fget is not None:
                self.function(attr.fget)

    def value(self, value: Any, names: set[str], where: str) -> None:
        if inspect.ismodule(value):
            if value.__name__ == PROJECT or value.__name__.startswith(PROJECT + "."):
                for name in sorted(names):  # module.attribute: follow only the attributes the code loads
                    if name in vars(value):
                        self.value(vars(value)[name], names, f"{value.__name__}.{name}")
            return
        if inspect.isclass(value):
            if _is_project(value):
                self.klass(value)
            return
        if callable(value) and _is_project(value):
            if inspect.isfunction(value) or inspect.ismethod(value):
                self.function(value)
            elif hasattr(value, "fn") and inspect.isfunction(value.fn):  # a Prefect task or flow
                self.function(value.fn)
            elif isinstance(value, functools.partial):
                self.function(value.func)
            return
        text = _data_repr(value)
        if text is not None:
            self.parts.setdefault(where, text)
        elif _is_project(type(value)):  # an instance of a project class (e.g. a dataclass constant)
            self.klass(type(value))
            if dataclasses.is_dataclass(value):
                for item in dataclasses.fields(value):
                    self.value(getattr(value, item.name), names, f"{where}.{item.name}")
            self.parts.setdefault(where, _ADDRESS.sub("", repr(value)))


def code_parts(fn: Any) -> dict[str, str]:
    """Qualified name -> source (or constant's text) of everything ``fn`` can run; for tests and debugging."""
    walker = _Walker()
    walker.function(fn)
    return dict(sorted(walker.parts.items()))


_LOCK = threading.Lock()


def function_fingerprint(fn: Any) -> str:
    """sha256 over :func:`code_parts` of ``fn``: changes exactly when code ``fn`` can run changes.

    Serialised: tasks compute their keys on parallel threads, and ``inspect`` reads shared caches
    (``linecache``, ``sys.modules``) that another thread's import may change under it. The memo is read
    under the same lock, so parallel calls for one function (fanned-out tasks) walk its code once."""
    with _LOCK:
        return _fingerprint(fn)


@functools.lru_cache(maxsize=1024)
def _fingerprint(fn: Any) -> str:
    parts = code_parts(fn)
    digest = hashlib.sha256()
    for name, text in parts.items():
        digest.update(name.encode())
        digest.update(b"\0")
        digest.update(text.encode("utf-8", "surrogatepass"))
        digest.update(b"\0")
    return digest.hexdigest()
