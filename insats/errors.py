"""Errors that keep their detail: an input problem is a list of problems, each naming its file.

``InputError(what, problems, file=..., setting=...)`` is a ``ValueError`` whose ``problems`` are ``Problem``
objects (file, message); ``str()`` gives the multi-line text (grouped by file, at most ``MAX_IN_TEXT``
problems). ``format_error(exc, limit)`` is what the command line prints: the same lines, capped at ``limit``
problems plus "... and N more". ``validation_problems`` turns a pydantic ``ValidationError`` of a YAML
spec or a spreadsheet row into problems naming the field (list items counted from 1).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from typing import Any

MAX_IN_TEXT = 200  # problems spelled out in str(); the rest are counted (the full list stays in .problems)
CLI_LIMIT = 20


@dataclass(frozen=True)
class Problem:
    """One problem: ``message`` (e.g. "row 3, column 'start_date': 'mars 2021' is not a date") in ``file``."""

    message: str
    file: str | None = None


class InputError(ValueError):
    """An input (file or spec) that cannot be used; ``problems`` lists every problem found.

    ``what`` says what is wrong as a whole ("participant list is not usable"), ``file`` the file when all
    problems are in one, ``setting`` the config setting involved (e.g. "participant_flow.ladder"). ``bullet``
    starts each problem's line.
    """

    bullet = "  - "

    def __init__(
        self,
        what: str,
        problems: Iterable[Problem | str] = (),
        *,
        file: str | None = None,
        setting: str | None = None,
    ) -> None:
        self.what = what
        self.file = None if file is None else str(file)
        self.setting = setting
        self.problems: list[Problem] = [p if isinstance(p, Problem) else Problem(str(p), self.file) for p in problems]
        super().__init__(self.text(MAX_IN_TEXT))

    def __str__(self) -> str:
        return self.text(MAX_IN_TEXT)

    def __reduce__(self) -> tuple[Any, ...]:  # picklable across processes (Prefect, dask)
        return (_rebuild, (type(self), self.what, self.problems, self.file, self.setting))

    @property
    def headline(self) -> str:
        files = {p.file for p in self.problems}
        file = self.file or (next(iter(files)) if len(files) == 1 else None)
        where = f"{file}: " if file else ""
        notes = [f"{len(self.problems)} problem(s)"] if self.problems else []
        notes += [f"config setting {self.setting}"] if self.setting else []
        return f"{where}{self.what}" + (f" ({'; '.join(notes)})" if notes else "")

    def lines(self, limit: int | None = None) -> list[str]:
        """The headline, then one line per problem (indented, grouped under its file when several files),
        at most ``limit`` problems followed by "... and N more problem(s)"."""
        shown = self.problems if limit is None else self.problems[:limit]
        files = list(dict.fromkeys(p.file for p in self.problems))
        out = [self.headline + (":" if self.problems else "")]
        if len(files) <= 1:
            out += [f"{self.bullet}{p.message}" for p in shown]
        else:
            for file in files:
                mine = [p for p in shown if p.file == file]
                if mine:
                    out.append(f"  {file or '(no file)'}:")
                    out += [f"    - {p.message}" for p in mine]
        if len(shown) < len(self.problems):
            out.append(f"  ... and {len(self.problems) - len(shown)} more problem(s)")
        return out

    def text(self, limit: int | None = None) -> str:
        return "\n".join(self.lines(limit))


def _rebuild(cls: type[InputError], what: str, problems: list[Problem], file: str | None, setting: str | None):
    return cls(what, problems, file=file, setting=setting)


def raise_if(
    problems: Sequence[Problem | str],
    what: str,
    *,
    file: str | None = None,
    setting: str | None = None,
    error: type[InputError] = InputError,
) -> None:
    """Raise ``error(what, problems, ...)`` when there are problems; do nothing otherwise."""
    if problems:
        raise error(what, problems, file=file, setting=setting)


def _loc(loc: Sequence[str | int]) -> str:
    """A pydantic location as a user reads it: ``steps[3].status`` (list items counted from 1)."""
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part + 1}]"
        else:
            text += f".{part}" if text else str(part)
    return text


def validation_problems(exc: Any, prefix: str = "", file: str | None = None) -> list[Problem]:
    """One problem per error of a pydantic ``ValidationError``: "<prefix><field>: <message>, got <value>".

    Messages raised by our own validators keep their text (pydantic's "Value error, " is dropped); for
    pydantic's own (wrong type, missing) the offending value is added."""
    out = []
    for err in exc.errors(include_url=False):
        msg = str(err["msg"]).removeprefix("Value error, ")
        if err["type"] not in ("value_error", "missing") and "input" in err and not isinstance(err["input"], dict):
            msg += f", got {err['input']!r}"
        where = _loc(err["loc"])
        where = f"{prefix}{where}" if where else prefix.rstrip(": .")
        out.append(Problem(f"{where}: {msg}" if where else msg, file))
    return out


def format_error(exc: BaseException, limit: int = CLI_LIMIT) -> list[str]:
    """The lines the command line prints for ``exc``: an ``InputError``'s headline and up to ``limit``
    problems, else the message's lines (up to ``limit``), each followed by "... and N more" when cut."""
    if isinstance(exc, InputError):
        return exc.lines(limit)
    text = str(exc).strip() or type(exc).__name__
    lines = text.splitlines()
    if len(lines) > limit + 1:
        return [*lines[: limit + 1], f"  ... and {len(lines) - limit - 1} more line(s)"]
    return lines


def validate_rows(
    model: Any, records: Iterable[dict[str, Any]], rows: Iterable[int], context: Any = None, file: str | None = None
) -> tuple[list[Any], list[Problem]]:
    """Validate spreadsheet rows with a pydantic ``model``: (one model or None per record, problems).

    Each error becomes ``row <n>, column '<field>': <message>`` (``rows`` are spreadsheet row numbers);
    ``context`` reaches the model's validators (e.g. the allowed codes)."""
    from pydantic import ValidationError

    out: list[Any] = []
    problems: list[Problem] = []
    for row, record in zip(rows, records, strict=True):
        try:
            out.append(model.model_validate(record, context=context))
        except ValidationError as exc:
            out.append(None)
            for err in exc.errors(include_url=False):
                column = f", column {str(err['loc'][0])!r}" if err["loc"] else ""
                problems.append(Problem(f"row {row}{column}: {str(err['msg']).removeprefix('Value error, ')}", file))
    return out, problems


def by_row(problems: Iterable[Problem]) -> list[Problem]:
    """Problems in the order of the first ``row <n>`` each names (stable; those without a row first)."""
    import re

    def key(p: Problem) -> int:
        m = re.search(r"\brow (\d+)", p.message)
        return int(m.group(1)) if m else -1

    return sorted(problems, key=key)
