"""Targets and the goal-attainment table: one row per target with the evidence (the figure and its N), the
judgement met / partly met / not met, and a generated paragraph in English and Swedish.

Targets YAML (template ``configs/targets.template.yaml``)::

    targets:
      - name: Stegförflyttning för alla deltagare       # as the funder wrote it (any language)
        name_en: Step progression for every participant  # optional
        measure: share_upward          # see MEASURES
        operator: ">="                 # ">=" (default) or "<="
        threshold: 1.0                 # shares as 0..1, counts as persons
        partly: 0.8                    # optional; default 3/4 of the threshold (">=") or 5/4 of it ("<=")
        project: all                   # optional; a project name or "all" (default)
      - name: Minst 40 inskrivna hela tiden
        measure: enrolled_every_month
        threshold: 40
        from: "2021-07"                # optional window (YYYY-MM), default all documented months
        to: "2023-06"
        partly: 0.75                   # share of months at or above the threshold for "partly met"

Judgements: ``met``, ``partly_met``, ``not_met``, or ``not_assessable`` when the denominator is zero (e.g.
nobody has exited yet) or an enrolment window holds no documented month. A window reaching outside the
data's months is warned about (``TargetWindowWarning``, texts also from ``window_warnings``), naming the
window and the data's period.
"""

from __future__ import annotations

import warnings
from pathlib import Path
from typing import Any, Literal

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from insats.errors import InputError, validation_problems
from insats.tasks.disclosure import suppress_small_counts
from insats.tasks.participants.measures import ALL
from insats.tasks.reporting.i18n import format_int, format_percent, hidden_mark

# measure -> (numerator column, denominator column) in the project measures table
MEASURES: dict[str, tuple[str, str | None]] = {
    "share_upward": ("n_upward", "n_participants"),
    "share_self_sufficient": ("n_self_sufficient", "n_exited"),
    "share_favourable": ("n_favourable", "n_exited"),
    "share_unclear": ("n_unclear", "n_exited"),
    "n_participants": ("n_participants", None),
    "enrolled_every_month": ("n_enrolled", None),
}
GOAL_COLUMNS = [
    "target", "target_en", "measure", "project", "operator", "threshold", "partly_threshold", "value", "numerator",
    "denominator", "months_assessed", "months_below", "lowest_month", "judgement",
]  # fmt: skip
JUDGEMENTS = ("met", "partly_met", "not_met", "not_assessable")
DEFAULT_PARTLY_MONTHS = 0.75
SETTING = "participant_flow.targets"
Measure = Literal[
    "share_upward", "share_self_sufficient", "share_favourable", "share_unclear", "n_participants",
    "enrolled_every_month",
]  # fmt: skip

MEASURE_TEXT = {
    "share_upward": {
        "en": ("share of participants with a documented upward step", "participants have a documented upward step"),
        "sv": ("andel deltagare med dokumenterad stegförflyttning", "deltagare har en dokumenterad stegförflyttning"),
    },
    "share_self_sufficient": {
        "en": ("share self-sufficient at exit", "participants who have left were self-sufficient at exit"),
        "sv": ("andel egenförsörjda vid avslut", "avslutade deltagare var egenförsörjda vid avslut"),
    },
    "share_favourable": {
        "en": ("share with a favourable exit", "participants who have left had a favourable exit"),
        "sv": ("andel med gynnsamt avslut", "avslutade deltagare hade ett gynnsamt avslut"),
    },
    "share_unclear": {
        "en": ("share with an unclear outcome at exit", "participants who have left had an unclear outcome"),
        "sv": ("andel med oklart utfall vid avslut", "avslutade deltagare hade ett oklart utfall"),
    },
    "n_participants": {"en": ("participants enrolled", "participants"), "sv": ("antal deltagare", "deltagare")},
    "enrolled_every_month": {
        "en": ("participants enrolled every month", "participants enrolled"),
        "sv": ("inskrivna deltagare varje månad", "inskrivna deltagare"),
    },
}
JUDGEMENT_TEXT = {
    "en": {"met": "Met.", "partly_met": "Partly met.", "not_met": "Not met.", "not_assessable": "Not assessable yet."},
    "sv": {
        "met": "Uppfyllt.",
        "partly_met": "Delvis uppfyllt.",
        "not_met": "Inte uppfyllt.",
        "not_assessable": "Går ännu inte att bedöma.",
    },
}


class TargetWindowWarning(UserWarning):
    """A target's window (from/to) reaches outside the months the documentation covers."""


class Target(BaseModel):
    """One target of the targets YAML (module docstring); ``from``/``to`` become first_month/last_month."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)

    name: str = Field(min_length=1)
    name_en: str = ""
    measure: Measure
    operator: Literal[">=", "<="] = ">="
    threshold: float
    partly: float | None = None
    project: str = ALL
    first_month: str | None = Field(None, alias="from")
    last_month: str | None = Field(None, alias="to")

    @field_validator("name", "name_en", "project", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        return str(value).strip() if value is not None else value

    @field_validator("first_month", "last_month", mode="before")
    @classmethod
    def _month(cls, value: Any) -> str | None:
        if value is None:
            return None
        try:
            return str(pd.Period(str(value), freq="M"))
        except (ValueError, TypeError) as exc:
            raise ValueError(f"{value!r} is not a month (YYYY-MM)") from exc

    @model_validator(mode="after")
    def _defaults_and_ranges(self) -> Target:
        if self.measure.startswith("share_") and not 0 <= self.threshold <= 1:
            raise ValueError(f"a share's threshold is 0..1 (20% = 0.2), got {self.threshold}")
        if self.first_month and self.last_month and self.first_month > self.last_month:
            raise ValueError(f"the window from {self.first_month} is after its end {self.last_month}")
        if self.partly is None:
            default = DEFAULT_PARTLY_MONTHS if self.measure == "enrolled_every_month" else None
            partly = default if default is not None else self.threshold * (0.75 if self.operator == ">=" else 1.25)
            object.__setattr__(self, "partly", partly)
        if not self.name_en:
            object.__setattr__(self, "name_en", self.name)
        return self


class _TargetsFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    targets: list[Any] = Field(min_length=1)


def targets_from_dict(data: Any, source: str = "<targets>", setting: str | None = SETTING) -> list[Target]:
    """Parse and check the targets YAML (module docstring). Raises ``InputError`` (a ValueError) naming
    ``source``, the setting and, for each target at fault, its number, name and field: unknown measures or
    operators, missing or out-of-range thresholds, malformed windows."""
    try:
        items = _TargetsFile.model_validate(data).targets
    except ValidationError as exc:
        raise InputError("not a valid targets file", validation_problems(exc), file=source, setting=setting) from None
    out, problems = [], []
    for i, item in enumerate(items, start=1):
        name = item.get("name") if isinstance(item, dict) else None
        try:
            out.append(Target.model_validate(item))
        except ValidationError as exc:
            problems += validation_problems(exc, prefix=f"target {i}" + (f" ({name!r})" if name else "") + ": ")
    if problems:
        raise InputError("not a valid targets file", problems, file=source, setting=setting)
    return out


def load_targets(path: Path, setting: str | None = SETTING) -> list[Target]:
    """Read a targets YAML file (UTF-8); ``InputError`` naming the file if unreadable or invalid."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise InputError(f"cannot be read as UTF-8 YAML: {exc}", file=str(path), setting=setting) from exc
    return targets_from_dict(data, str(path), setting)


def _judge(value: float, target: Target) -> str:
    eps = 1e-9
    partly = float(target.partly if target.partly is not None else target.threshold)
    if target.operator == ">=":
        if value >= target.threshold - eps:
            return "met"
        return "partly_met" if value >= partly - eps else "not_met"
    if value <= target.threshold + eps:
        return "met"
    return "partly_met" if value <= partly + eps else "not_met"


def _window(tg: Target) -> str:
    return f"{tg.first_month or '(first month)'} .. {tg.last_month or '(last month)'}"


def window_warnings(targets: list[Target], enrolment: pd.DataFrame) -> list[str]:
    """One text per enrolment target whose window (``from``/``to``) reaches outside the months of
    ``enrolment`` (``enrolment_by_month`` output) for its project, naming the window and the data's period."""
    out = []
    for tg in targets:
        months = enrolment.loc[enrolment["project"] == tg.project, "month"]
        if tg.measure != "enrolled_every_month" or months.empty or not (tg.first_month or tg.last_month):
            continue
        first, last = f"{months.min():%Y-%m}", f"{months.max():%Y-%m}"
        before = bool(tg.first_month and tg.first_month < first)
        after = bool(tg.last_month and tg.last_month > last)
        outside = bool((tg.first_month and tg.first_month > last) or (tg.last_month and tg.last_month < first))
        if not (before or after or outside):
            continue
        where = f"Target {tg.name!r} ({SETTING}): window {_window(tg)}"
        data = f"the data's period {first} .. {last} (first start to as_of)"
        if outside:
            out.append(f"{where} lies wholly outside {data}; it is judged not assessable")
        else:
            out.append(f"{where} reaches outside {data}; only the months inside it are assessed")
    return out


def _empty_row(tg: Target) -> dict[str, Any]:
    return {
        "target": tg.name, "target_en": tg.name_en, "measure": tg.measure, "project": tg.project,
        "operator": tg.operator, "threshold": tg.threshold, "partly_threshold": tg.partly, "value": float("nan"),
        "numerator": pd.NA, "denominator": pd.NA, "months_assessed": pd.NA, "months_below": pd.NA,
        "lowest_month": None,
    }  # fmt: skip


def _enrolment_row(tg: Target, enrolment: pd.DataFrame) -> dict[str, Any]:
    row = _empty_row(tg)
    months = enrolment[enrolment["project"] == tg.project]
    if months.empty:
        raise ValueError(f"Target {tg.name!r} ({SETTING}): no enrolment for project {tg.project!r}")
    period = months["month"].dt.to_period("M")
    keep = pd.Series(True, index=months.index)
    if tg.first_month:
        keep &= period >= pd.Period(tg.first_month, freq="M")
    if tg.last_month:
        keep &= period <= pd.Period(tg.last_month, freq="M")
    window = months[keep]
    if window.empty:
        return {**row, "judgement": "not_assessable"}
    low = window.loc[window["n_enrolled"].idxmin()]
    below = int((window["n_enrolled"] < tg.threshold).sum())
    n_months = len(window)
    partly = (n_months - below) / n_months >= float(tg.partly or DEFAULT_PARTLY_MONTHS)
    judgement = "met" if below == 0 else ("partly_met" if partly else "not_met")
    return {
        **row, "value": float(low["n_enrolled"]), "numerator": int(low["n_enrolled"]), "months_assessed": n_months,
        "months_below": below, "lowest_month": f"{low['month']:%Y-%m}", "judgement": judgement,
    }  # fmt: skip


def _measure_row(tg: Target, measures: pd.DataFrame) -> dict[str, Any]:
    row = _empty_row(tg)
    sel = measures[(measures["project"] == tg.project) & (measures["gender"] == ALL)]
    if sel.empty:
        raise ValueError(f"Target {tg.name!r} ({SETTING}): no participants in project {tg.project!r}")
    m = sel.iloc[0]
    num_col, den_col = MEASURES[tg.measure]
    row["numerator"] = int(m[num_col])
    if den_col is None:
        row["value"] = float(m[num_col])
        return {**row, "judgement": _judge(row["value"], tg)}
    row["denominator"] = int(m[den_col])
    if row["denominator"] == 0:
        return {**row, "judgement": "not_assessable"}
    row["value"] = row["numerator"] / row["denominator"]
    return {**row, "judgement": _judge(row["value"], tg)}


def goal_attainment(targets: list[Target], measures: pd.DataFrame, enrolment: pd.DataFrame) -> pd.DataFrame:
    """The goal-attainment table, unsuppressed (publish it through ``publishable_goal_table``).

    ``measures``: ``project_measures`` output; ``enrolment``: ``enrolment_by_month`` output. One row per
    target: target, target_en, measure, project, operator, threshold, partly_threshold, value (the share,
    the count, or for enrolled_every_month the lowest monthly enrolment), numerator (persons: n with the
    outcome, or the lowest monthly enrolment), denominator (persons the share is of; missing for counts),
    months_assessed, months_below (enrolment targets only), lowest_month ("YYYY-MM"), judgement.
    Raises ValueError for a target naming a project that has no participants. Warns
    (``TargetWindowWarning``) for each window reaching outside the data's months (``window_warnings``).
    """
    for text in window_warnings(targets, enrolment):
        warnings.warn(text, TargetWindowWarning, stacklevel=2)
    rows = [
        _enrolment_row(tg, enrolment) if tg.measure == "enrolled_every_month" else _measure_row(tg, measures)
        for tg in targets
    ]
    out = pd.DataFrame(rows, columns=GOAL_COLUMNS)
    out["value"] = out["value"].astype(float)
    for col in ("numerator", "denominator", "months_assessed", "months_below"):
        out[col] = out[col].astype("Int64")
    return out


def _count(value: Any, suppressed: bool, threshold: int, lang: str) -> str:
    return hidden_mark(lang) if suppressed else format_int(value, lang)


def goal_paragraph(row: pd.Series, lang: str, threshold: int) -> str:
    """A short paragraph for one row of a (suppressed) goal table: target, evidence with N, judgement.
    Counts hidden by disclosure control are written ``<threshold`` and their shares are not given."""
    label, evidence = MEASURE_TEXT[row["measure"]][lang]
    name = row["target_en"] if lang == "en" else row["target"]
    op = {">=": "≥", "<=": "≤"}[row["operator"]]
    share_measure = row["measure"].startswith("share_")
    thr = format_percent(row["threshold"], lang, 0) if share_measure else format_int(row["threshold"], lang)
    scope = "" if row["project"] == ALL else (f", project {row['project']}" if lang == "en" else f", {row['project']}")
    q = ("“", "”") if lang == "en" else ("”", "”")
    head = f"{'Target' if lang == 'en' else 'Mål'} {q[0]}{name}{q[1]} ({label} {op} {thr}{scope}): "
    hidden_num = bool(pd.isna(row["numerator"]) and row.get("suppressed", False))
    hidden_den = bool(pd.isna(row["denominator"]) and row.get("suppressed", False) and share_measure)
    judgement = JUDGEMENT_TEXT[lang][row["judgement"]]
    if row["measure"] == "enrolled_every_month":
        if pd.isna(row["months_assessed"]):
            body = "no months in the window." if lang == "en" else "inga månader i perioden."
        else:
            low = _count(row["numerator"], hidden_num, threshold, lang)
            n_m, below = format_int(row["months_assessed"], lang), format_int(row["months_below"], lang)
            if lang == "en":
                body = f"enrolment was below {thr} in {below} of {n_m} months; lowest {low} in {row['lowest_month']}."
            else:
                body = f"färre än {thr} inskrivna {below} av {n_m} månader; lägst {low} i {row['lowest_month']}."
    elif row["measure"] == "n_participants":
        body = f"{_count(row['numerator'], hidden_num, threshold, lang)} {evidence}."
    elif row["judgement"] == "not_assessable" and not hidden_den:
        body = "nobody to assess yet (N = 0)." if lang == "en" else "ingen att bedöma ännu (N = 0)."
    else:
        num = _count(row["numerator"], hidden_num, threshold, lang)
        den = _count(row["denominator"], hidden_den, threshold, lang)
        of = "of" if lang == "en" else "av"
        share = "" if pd.isna(row["value"]) else f" ({format_percent(row['value'], lang)})"
        body = f"{num} {of} {den} {evidence}{share}."
    return head + body + " " + judgement


def publishable_goal_table(table: pd.DataFrame, threshold: int) -> pd.DataFrame:
    """Suppress person counts 1..threshold-1 (numerator and denominator, and the value computed from them)
    and add the paragraphs ``paragraph_en`` and ``paragraph_sv`` written from the suppressed figures."""
    out = suppress_small_counts(
        table,
        ["numerator", "denominator"],
        threshold,
        derived_columns={"numerator": ["value"], "denominator": ["value"]},
    )
    # A judgement on a group too small to show can disclose it ("met" on a 100 % target for 3 people tells
    # all three outcomes), so such a row is published as not assessable. A small numerator in a large group
    # ("<5 of 30") discloses nothing more and keeps its judgement.
    small_group = table["denominator"].between(1, threshold - 1).fillna(False).to_numpy(dtype=bool)
    out.loc[small_group, "judgement"] = "not_assessable"
    out["paragraph_en"] = [goal_paragraph(r, "en", threshold) for _, r in out.iterrows()]
    out["paragraph_sv"] = [goal_paragraph(r, "sv", threshold) for _, r in out.iterrows()]
    return out
