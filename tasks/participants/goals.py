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
nobody has exited yet).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pandas as pd
import yaml

from insats.tasks.disclosure import suppress_small_counts
from insats.tasks.participants.measures import ALL
from insats.tasks.reporting.i18n import format_int, format_percent

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


@dataclass(frozen=True)
class Target:
    name: str
    name_en: str
    measure: str
    operator: str
    threshold: float
    partly: float
    project: str = ALL
    first_month: str | None = None
    last_month: str | None = None


def _month(value: Any, where: str) -> str | None:
    if value is None:
        return None
    try:
        return str(pd.Period(str(value), freq="M"))
    except (ValueError, TypeError) as exc:
        raise ValueError(f"{where}: {value!r} is not a month (YYYY-MM)") from exc


def targets_from_dict(data: Any, source: str = "<targets>") -> list[Target]:
    """Parse and check the targets YAML (module docstring). Raises ValueError naming ``source`` and the
    target for unknown measures or operators and missing thresholds."""
    items = data.get("targets") if isinstance(data, dict) else None
    if not isinstance(items, list) or not items:
        raise ValueError(f"Targets {source}: expected a mapping with a non-empty list 'targets'")
    out = []
    for i, item in enumerate(items, start=1):
        where = f"Targets {source}, target {i}"
        if not isinstance(item, dict) or not item.get("name"):
            raise ValueError(f"{where}: each target needs a name")
        where += f" ({item['name']!r})"
        measure = item.get("measure")
        if measure not in MEASURES:
            raise ValueError(f"{where}: unknown measure {measure!r}; expected one of {', '.join(MEASURES)}")
        op = str(item.get("operator", ">="))
        if op not in (">=", "<="):
            raise ValueError(f"{where}: operator must be '>=' or '<=', got {op!r}")
        try:
            threshold = float(item["threshold"])
        except (KeyError, TypeError, ValueError) as exc:
            raise ValueError(f"{where}: needs a numeric threshold") from exc
        if measure.startswith("share_") and not 0 <= threshold <= 1:
            raise ValueError(f"{where}: a share's threshold is 0..1 (20% = 0.2), got {threshold}")
        if measure == "enrolled_every_month":
            partly = float(item.get("partly", DEFAULT_PARTLY_MONTHS))
        else:
            partly = float(item.get("partly", threshold * (0.75 if op == ">=" else 1.25)))
        out.append(
            Target(
                name=str(item["name"]),
                name_en=str(item.get("name_en", item["name"])),
                measure=measure,
                operator=op,
                threshold=threshold,
                partly=partly,
                project=str(item.get("project", ALL)),
                first_month=_month(item.get("from"), where),
                last_month=_month(item.get("to"), where),
            )
        )
    return out


def load_targets(path: Path) -> list[Target]:
    """Read a targets YAML file (UTF-8); ValueError naming the file if unreadable or invalid."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"Targets {path}: cannot be read as UTF-8 YAML: {exc}") from exc
    return targets_from_dict(data, str(path))


def _judge(value: float, target: Target) -> str:
    eps = 1e-9
    if target.operator == ">=":
        if value >= target.threshold - eps:
            return "met"
        return "partly_met" if value >= target.partly - eps else "not_met"
    if value <= target.threshold + eps:
        return "met"
    return "partly_met" if value <= target.partly + eps else "not_met"


def goal_attainment(targets: list[Target], measures: pd.DataFrame, enrolment: pd.DataFrame) -> pd.DataFrame:
    """The goal-attainment table, unsuppressed (publish it through ``publishable_goal_table``).

    ``measures``: ``project_measures`` output; ``enrolment``: ``enrolment_by_month`` output. One row per
    target: target, target_en, measure, project, operator, threshold, partly_threshold, value (the share,
    the count, or for enrolled_every_month the lowest monthly enrolment), numerator (persons: n with the
    outcome, or the lowest monthly enrolment), denominator (persons the share is of; missing for counts),
    months_assessed, months_below (enrolment targets only), lowest_month ("YYYY-MM"), judgement.
    Raises ValueError for a target naming a project that has no participants.
    """
    rows = []
    for tg in targets:
        row: dict[str, Any] = {
            "target": tg.name,
            "target_en": tg.name_en,
            "measure": tg.measure,
            "project": tg.project,
            "operator": tg.operator,
            "threshold": tg.threshold,
            "partly_threshold": tg.partly,
            "value": float("nan"),
            "numerator": pd.NA,
            "denominator": pd.NA,
            "months_assessed": pd.NA,
            "months_below": pd.NA,
            "lowest_month": None,
        }
        if tg.measure == "enrolled_every_month":
            months = enrolment[enrolment["project"] == tg.project]
            if months.empty:
                raise ValueError(f"Target {tg.name!r}: no enrolment for project {tg.project!r}")
            period = months["month"].dt.to_period("M")
            keep = pd.Series(True, index=months.index)
            if tg.first_month:
                keep &= period >= pd.Period(tg.first_month, freq="M")
            if tg.last_month:
                keep &= period <= pd.Period(tg.last_month, freq="M")
            window = months[keep]
            if window.empty:
                row["judgement"] = "not_assessable"
            else:
                low = window.loc[window["n_enrolled"].idxmin()]
                below = int((window["n_enrolled"] < tg.threshold).sum())
                n_months = len(window)
                row.update(
                    value=float(low["n_enrolled"]),
                    numerator=int(low["n_enrolled"]),
                    months_assessed=n_months,
                    months_below=below,
                    lowest_month=f"{low['month']:%Y-%m}",
                )
                if below == 0:
                    row["judgement"] = "met"
                else:
                    row["judgement"] = "partly_met" if (n_months - below) / n_months >= tg.partly else "not_met"
        else:
            sel = measures[(measures["project"] == tg.project) & (measures["gender"] == ALL)]
            if sel.empty:
                raise ValueError(f"Target {tg.name!r}: no participants in project {tg.project!r}")
            m = sel.iloc[0]
            num_col, den_col = MEASURES[tg.measure]
            row["numerator"] = int(m[num_col])
            if den_col is None:
                row["value"] = float(m[num_col])
                row["judgement"] = _judge(row["value"], tg)
            else:
                row["denominator"] = int(m[den_col])
                if row["denominator"] == 0:
                    row["judgement"] = "not_assessable"
                else:
                    row["value"] = row["numerator"] / row["denominator"]
                    row["judgement"] = _judge(row["value"], tg)
        rows.append(row)
    out = pd.DataFrame(rows, columns=GOAL_COLUMNS)
    out["value"] = out["value"].astype(float)
    for col in ("numerator", "denominator", "months_assessed", "months_below"):
        out[col] = out[col].astype("Int64")
    return out


def _count(value: Any, suppressed: bool, threshold: int, lang: str) -> str:
    return f"<{threshold}" if suppressed else format_int(value, lang)


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
