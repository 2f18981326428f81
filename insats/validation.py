"""Validation against the contracts in ``schemas/``: great-expectations (GX Core 1.x) suites stored as JSON.

A suite's name is its file name without ``.json``: ``<study>.<table>`` for study outputs,
``input.<kind>`` for inputs and ``interim.<kind>`` for pseudonymised register tables. Sample values in
reports are masked when they look like identity numbers, so a validation report never discloses one.
"""

from __future__ import annotations

import functools
import json
import threading
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import pandas as pd

from insats.tasks.identity import identity_masker, mask_identity_numbers

N_SAMPLES = 5
CHUNK_ROWS = 2_000_000  # a larger table is gated in chunks of rows when its suite allows (see gate)
# One GX context per process; it is not thread-safe (a batch's frame can be swapped under a running
# validation), and steps run on a thread pool, so validations take turns.
_GX_LOCK = threading.Lock()


class GateError(RuntimeError):
    """A table failed its suite: the next study may not read it."""


def schemas_dir() -> Path:
    return Path(str(resources.files("insats.schemas")))


def suite_path(name: str) -> Path:
    path = schemas_dir() / f"{name}.json"
    if not path.is_file():
        known = ", ".join(sorted(list_suites())) or "none"
        raise KeyError(f"No suite named {name!r} in {schemas_dir()} (known suites: {known})")
    return path


def list_suites() -> dict[str, str]:
    """Suite name -> one-line description, from every JSON suite in ``schemas/``."""
    out = {}
    for path in sorted(schemas_dir().glob("*.json")):
        meta = json.loads(path.read_text(encoding="utf-8")).get("meta", {})
        out[path.stem] = meta.get("description", "")
    return out


def _suite_parameter_names(name: str) -> list[str]:
    """Names of the ``$PARAMETER`` placeholders a suite uses."""
    found: list[str] = []

    def walk(value: Any) -> None:
        if isinstance(value, dict):
            if "$PARAMETER" in value:
                found.append(value["$PARAMETER"])
            for v in value.values():
                walk(v)
        elif isinstance(value, list):
            for v in value:
                walk(v)

    walk(load_suite(name)["expectations"])
    return found


def load_suite(name: str) -> dict[str, Any]:
    return json.loads(suite_path(name).read_text(encoding="utf-8"))


@dataclass(frozen=True)
class ExpectationOutcome:
    expectation: str
    column: str | None
    success: bool
    unexpected_count: int | None
    unexpected_percent: float | None
    samples: list[str] = field(default_factory=list)
    unexpected_rows: list[int] = field(default_factory=list)

    def describe(self) -> str:
        where = f" on column {self.column!r}" if self.column else ""
        status = "passed" if self.success else "FAILED"
        detail = ""
        if not self.success and not self.unexpected_count and self.samples:
            detail = f": {'; '.join(self.samples)}"
        if self.unexpected_count:
            pct = f" ({self.unexpected_percent:.1f}%)" if self.unexpected_percent is not None else ""
            detail = f": {self.unexpected_count} unexpected{pct}"
            if self.samples:
                detail += f", e.g. {', '.join(self.samples)}"
        return f"{status:6} {self.expectation}{where}{detail}"


@dataclass(frozen=True)
class ValidationReport:
    suite: str
    suite_version: str
    n_rows: int
    success: bool
    outcomes: list[ExpectationOutcome]
    raw: dict[str, Any]

    @property
    def failures(self) -> list[ExpectationOutcome]:
        return [o for o in self.outcomes if not o.success]

    def summary(self, table: str) -> str:
        lines = [o.describe() for o in self.outcomes]
        verdict = "fit for use" if self.success else f"NOT fit for use ({len(self.failures)} failed)"
        return "\n".join([f"{table}: suite {self.suite} v{self.suite_version}, {self.n_rows} rows: {verdict}", *lines])


# The clear values of the identity column being validated (see identity_values_masked); None outside one.
_IDENTITY_MASKER: ContextVar[Callable[[str], str] | None] = ContextVar("insats_identity_masker", default=None)


@contextmanager
def identity_values_masked(values: Iterable[object] = (), masker: Callable[[str], str] | None = None) -> Iterator[None]:
    """Within the block (same thread or task), validation reports also mask every value of ``values`` (an
    identity column's clear values) in any spelling, even one no pattern recognises (``850612/1234``).
    ``masker``: an ``identity_masker`` of those values already built (then ``values`` is not read)."""
    token = _IDENTITY_MASKER.set(masker if masker is not None else identity_masker(values))
    try:
        yield
    finally:
        _IDENTITY_MASKER.reset(token)


def _mask(value: Any) -> str:
    """``value`` as text with anything shaped like an identity number masked (``19850612-****``), in any
    spelling (en dash, space, dashed date, 10/12 digits, ``+``) and even with a wrong check digit: a
    failing sample of an identity column is usually a mistyped real number. Inside
    ``identity_values_masked`` the column's own values are masked too."""
    masker = _IDENTITY_MASKER.get()
    text = str(value) if masker is None else masker(str(value))
    return mask_identity_numbers(text, confirmed=False)


@functools.lru_cache(maxsize=1)
def _context() -> Any:
    import great_expectations as gx
    from great_expectations.data_context.types.base import ProgressBarsConfig
    from great_expectations.execution_engine import pandas_execution_engine

    # GX fingerprints every pandas batch under 1 GB with an md5 over pd.util.hash_pandas_object of all rows, twice
    # per validation (batch, then validator): ~45 % of a suite's time on a 3M-row table. The fingerprint is only
    # a batch marker in the result's metadata, which insats never reads; 0 turns it off for every batch.
    pandas_execution_engine.HASH_THRESHOLD = 0
    ctx = gx.get_context(mode="ephemeral")
    ctx.variables.progress_bars = ProgressBarsConfig(globally=False)
    return ctx


@functools.lru_cache(maxsize=64)
def _suite(name: str, mtime_ns: int) -> Any:
    import great_expectations as gx

    import insats.expectations  # noqa: F401 - registers the custom expectations the suites use

    data = load_suite(name)
    data.pop("id", None)
    suite = gx.ExpectationSuite(**data)
    if len(suite.expectations) != len(data["expectations"]):
        # GX logs and drops an expectation it cannot build; a contract must never shrink silently.
        known = {e.expectation_type for e in suite.expectations}
        lost = [e["type"] for e in data["expectations"] if e["type"] not in known]
        raise ValueError(f"Suite {name!r} holds expectation(s) great-expectations cannot build: {', '.join(lost)}")
    return _context().suites.add_or_update(suite)


def _batch_definition() -> Any:
    ctx = _context()
    try:
        source = ctx.data_sources.get("frames")
    except KeyError:
        source = ctx.data_sources.add_pandas("frames")
    try:
        asset = source.get_asset("frame")
    except LookupError:
        asset = source.add_dataframe_asset("frame")
    try:
        return asset.get_batch_definition("whole")
    except KeyError:
        return asset.add_batch_definition_whole_dataframe("whole")


def codelists_dir() -> Path:
    return schemas_dir() / "codelists"


@functools.lru_cache(maxsize=1)
def codelists() -> dict[str, list[Any]]:
    """Code lists shipped as data files: ``schemas/codelists/<name>.csv`` (columns code, label_sv, label_en).

    Suites refer to them as suite parameters ``{"$PARAMETER": "codelist_<name>"}``. Numeric codes are ints.
    """
    out: dict[str, list[Any]] = {}
    for path in sorted(codelists_dir().glob("*.csv")):
        codes = pd.read_csv(path, dtype=str, encoding="utf-8", keep_default_na=False)["code"].tolist()
        out[f"codelist_{path.stem}"] = [_code(c) for c in codes]
    return out


def _code(text: str) -> int | str:
    """Numeric codes (``1``, ``0``) compare as integers; zero-padded ones (kommunkod ``0484``) stay text."""
    return int(text) if text.isdigit() and (text == "0" or not text.startswith("0")) else text


def validate_frame(df: pd.DataFrame, suite_name: str, parameters: dict[str, Any] | None = None) -> ValidationReport:
    """Validate a DataFrame against a stored suite. Never raises for failing data; see ``ValidationReport``.

    ``parameters`` fill the suite's ``$PARAMETER`` placeholders (e.g. the extract's period); the code lists
    in ``schemas/codelists`` are always available.
    """
    path = suite_path(suite_name)
    values = {**codelists(), **(parameters or {})}
    missing = sorted(set(_suite_parameter_names(suite_name)) - set(values))
    if missing:
        raise ValueError(
            f"Suite {suite_name!r} needs the parameter(s) {', '.join(missing)} "
            "(for register extracts they come from the config's register.period and register.amount_ceiling)"
        )
    with _GX_LOCK:
        suite = _suite(suite_name, path.stat().st_mtime_ns)
        batch = _batch_definition().get_batch(batch_parameters={"dataframe": df.reset_index(drop=True)})
        result = batch.validate(
            suite,
            result_format={"result_format": "COMPLETE", "partial_unexpected_count": N_SAMPLES},
            expectation_parameters=values,
        )
    outcomes = []
    for r in result.results:
        cfg = r.expectation_config
        res = r.result or {}
        samples = [_mask(v) for v in (res.get("partial_unexpected_list") or [])[:N_SAMPLES]]
        if r.exception_info:
            samples = _exception_messages(r.exception_info) or samples
        rows = [int(i) for i in (res.get("unexpected_index_list") or []) if isinstance(i, int | float)]
        if not r.success and not samples:
            samples = _table_detail(res)
        outcomes.append(
            ExpectationOutcome(
                expectation=cfg.type,
                column=cfg.kwargs.get("column") or ",".join(cfg.kwargs.get("column_list", []) or []) or None,
                success=bool(r.success),
                unexpected_count=res.get("unexpected_count"),
                unexpected_percent=res.get("unexpected_percent"),
                samples=samples,
                unexpected_rows=rows,
            )
        )
    meta = load_suite(suite_name).get("meta", {})
    raw = result.to_json_dict()
    return ValidationReport(
        suite=suite_name,
        suite_version=str(meta.get("version", "1")),
        n_rows=len(df),
        success=bool(result.success),
        outcomes=outcomes,
        raw=_masked_json(raw),
    )


def _exception_messages(info: dict[str, Any]) -> list[str]:
    """GX reports an expectation it could not evaluate (e.g. its column is missing) as exception info: either
    flat (``raised_exception``, ``exception_message``) or keyed by metric. One short message per problem."""
    entries = [info] if "raised_exception" in info else [v for v in info.values() if isinstance(v, dict)]
    messages = []
    for entry in entries:
        if entry.get("raised_exception") or entry.get("exception_message"):
            message = str(entry.get("exception_message", "")).strip().splitlines()
            if message and message[0] not in messages:
                messages.append(message[0][:200])
    return messages


def _table_detail(result: dict[str, Any]) -> list[str]:
    """What a failed table-level expectation saw (columns missing or unexpected, the row count)."""
    mismatched = (result.get("details") or {}).get("mismatched") or {}
    detail = []
    if mismatched.get("missing"):
        detail.append(f"missing columns {sorted(map(str, mismatched['missing']))}")
    if mismatched.get("unexpected"):
        detail.append(f"unexpected columns {sorted(map(str, mismatched['unexpected']))}")
    if not detail and "observed_value" in result:
        detail.append(f"observed {_mask(result['observed_value'])}")
    return detail


def _masked_json(value: Any) -> Any:
    """Mask identity numbers anywhere in a JSON-like structure before it is saved."""
    if isinstance(value, dict):
        return {k: _masked_json(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_masked_json(v) for v in value]
    if isinstance(value, str):
        return _mask(value)
    return value


def gate(df: pd.DataFrame, suite_name: str, table: str, parameters: dict[str, Any] | None = None) -> ValidationReport:
    """Validate and raise GateError naming the table, each failed expectation and sample failing values.

    A table over ``CHUNK_ROWS`` rows whose whole-table expectations are over person (and month) keys (the
    register's tables) is validated ``CHUNK_ROWS`` rows at a time
    (:func:`insats.steward.chunked_validation.validate_frame_in_chunks`): GX's temporaries over 30M rows are
    several GB."""
    if len(df) > CHUNK_ROWS:
        from insats.steward.chunked_validation import keyed_suite, validate_frame_in_chunks

        if keyed_suite(suite_name, df.columns):
            return passed(validate_frame_in_chunks(df, suite_name, parameters, CHUNK_ROWS), table)
    return passed(validate_frame(df, suite_name, parameters), table)


def passed(report: ValidationReport, table: str) -> ValidationReport:
    """``report`` if it passed, else GateError naming the table, each failed expectation and sample failing
    values (the words of :func:`gate`, also for a report merged over chunks of rows)."""
    if not report.success:
        failed = "; ".join(o.describe().removeprefix("FAILED").strip() for o in report.failures)
        raise GateError(f"Table {table!r} failed its contract {report.suite!r}: {failed}")
    return report


def input_parameters(config: Any) -> dict[str, Any]:
    """Suite parameters an input extract is checked with: its stated period and the amount ceiling."""
    period = config.register.period
    first = pd.Period(period.first_month, freq="M")
    last = pd.Period(period.last_month, freq="M")
    return {
        "period_first": first.start_time,
        "period_last": last.end_time.normalize(),
        "amount_ceiling": float(config.register.amount_ceiling),
        "period_months": (last - first).n + 1,
    }


# Canonical register column -> the code list its values (and its .sav/.dta value labels) must come from.
CODELIST_OF = {
    "sex": "sex",
    "born_abroad": "born_abroad",
    "education": "education",
    "household_type": "household_type",
    "municipality": "municipality",
    "employed": "yes_no",
    "studying": "yes_no",
}


def _label_key(text: object) -> str:
    """A label compared case- and accent-insensitively: ``'Född i  Sverige'`` -> ``'fodd i sverige'``."""
    decomposed = unicodedata.normalize("NFKD", str(text))
    plain = "".join(c for c in decomposed if not unicodedata.combining(c))
    return " ".join(plain.casefold().split())


@functools.lru_cache(maxsize=1)
def codelist_labels() -> dict[str, dict[int | str, tuple[str, set[str]]]]:
    """Code list name -> {code: (its Swedish label, its labels in both languages as ``_label_key``s)}."""
    out: dict[str, dict[int | str, tuple[str, set[str]]]] = {}
    for path in sorted(codelists_dir().glob("*.csv")):
        table = pd.read_csv(path, dtype=str, encoding="utf-8", keep_default_na=False)
        out[path.stem] = {
            _code(row.code): (row.label_sv, {_label_key(row.label_sv), _label_key(row.label_en)} - {""})
            for row in table.itertuples(index=False)
        }
    return out


def value_label_problems(value_labels: dict[str, dict[Any, str]], columns: dict[str, str]) -> list[str]:
    """Disagreements between an extract's value labels (``.sav``/``.dta``) and the shipped code lists.

    ``value_labels``: source column -> {code: label}; ``columns``: canonical -> source column name.
    Both the code and its label are checked: a labelled code the code list lacks means the extract's coding
    differs from ours, and a code whose label text is not the code list's label for it (Swedish or English,
    case and accents ignored; a 0/1 born-abroad column may say Nej/Ja) means the codes mean something else
    here, e.g. swapped (1=Kvinna, 2=Man). One line per column.
    """
    lists = codelists()
    texts = codelist_labels()
    problems = []
    for canonical, listname in CODELIST_OF.items():
        source = columns.get(canonical)
        labels = value_labels.get(source or "", {})
        allowed = set(lists[f"codelist_{listname}"])
        unknown = {code: label for code, label in labels.items() if _code(str(code)) not in allowed}
        if unknown:
            shown = ", ".join(f"{code}={label!r}" for code, label in sorted(unknown.items(), key=str))
            problems.append(
                f"column {source!r} ({canonical}): value label(s) {shown} not in code list {listname} "
                f"({', '.join(map(str, sorted(allowed, key=str)[:10]))}{', ...' if len(allowed) > 10 else ''})"
            )
        own = {code: names for code, (_, names) in texts[listname].items()}
        shown_sv = {code: sv for code, (sv, _) in texts[listname].items()}
        also = {code: names for code, (_, names) in texts["yes_no"].items()} if listname == "born_abroad" else {}
        wrong = []
        for code, label in sorted(labels.items(), key=str):
            key = _code(str(code))
            if key not in allowed or _label_key(label) in own[key] | also.get(key, set()):
                continue
            means = [str(c) for c, names in own.items() if _label_key(label) in names]
            expected = shown_sv[key]
            hint = f" (that is code {means[0]} in {listname}.csv: swapped coding?)" if means else ""
            wrong.append(f"{code}={label!r} but the code list says {code}={expected!r}{hint}")
        if wrong:
            problems.append(
                f"column {source!r} ({canonical}): value label text disagrees with code list {listname} "
                f"(schemas/codelists/{listname}.csv, label_sv/label_en): {'; '.join(wrong)}"
            )
    return problems
