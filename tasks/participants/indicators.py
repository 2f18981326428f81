"""Indicator questionnaires in the style of BIP / SKAPA: items answered on a Likert scale about every three
months, combined into indicators (coping with health, belief in getting a job, ...).

Spec YAML (template ``configs/indicators.template.yaml``)::

    likert: {min: 1, max: 5, labels: {Stämmer inte alls: 1, ..., Stämmer helt: 5}}   # labels optional
    indicators:
      - {id: coping_health, sv: Hantera hälsa, en: Coping with health, items: [h1, h2]}
      - {id: cooperation, sv: Samarbetsförmåga, en: Cooperation skills, items: [c1, c2, c3], reverse: [c3]}

Responses (CSV/XLSX): participant_id, date, one column per item; answers as numbers or as the declared
labels. An indicator's score on an occasion is the mean of its answered items (reversed items as
``min + max - answer``), on the Likert scale; it is missing when fewer than half of its items are answered.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml
from scipy import stats

from insats.tasks.participants.measures import ALL, _with_totals
from insats.tasks.participants.readers import SOURCE_ROW, DocumentationError, _blank, _dates, _ids, _raise, _read, _rows

MIN_PAIRS = 2  # a paired change needs at least two participants (a standard deviation)
MIN_EVENTS_FOR_REGRESSION = 5  # below this many favourable (or unfavourable) exits: not estimated
EVENTS_PER_PARAMETER = 10  # below this: estimated but flagged as imprecise


@dataclass(frozen=True)
class Indicator:
    id: str
    sv: str
    en: str
    items: tuple[str, ...]
    reverse: tuple[str, ...] = ()


@dataclass(frozen=True)
class IndicatorSpec:
    likert_min: int
    likert_max: int
    labels: dict[str, int]
    indicators: tuple[Indicator, ...]

    @property
    def items(self) -> list[str]:
        return [item for ind in self.indicators for item in ind.items]


def indicator_spec_from_dict(data: Any, source: str = "<indicators>") -> IndicatorSpec:
    """Parse and check the spec (module docstring); ValueError naming ``source`` for a bad scale, items in
    two indicators, reversed items the indicator lacks or labels outside the scale."""
    if not isinstance(data, dict) or not isinstance(data.get("indicators"), list) or not data["indicators"]:
        raise ValueError(f"Indicators {source}: expected a mapping with 'likert' and a list 'indicators'")
    likert = data.get("likert") or {}
    try:
        lo, hi = int(likert["min"]), int(likert["max"])
    except (KeyError, TypeError, ValueError) as exc:
        raise ValueError(f"Indicators {source}: 'likert' needs integer 'min' and 'max'") from exc
    if hi <= lo:
        raise ValueError(f"Indicators {source}: likert max ({hi}) must exceed min ({lo})")
    labels = {str(k).strip().lower(): int(v) for k, v in (likert.get("labels") or {}).items()}
    bad = [k for k, v in labels.items() if not lo <= v <= hi]
    if bad:
        raise ValueError(f"Indicators {source}: label(s) {bad} map outside the scale {lo}..{hi}")
    seen: dict[str, str] = {}
    out = []
    for i, ind in enumerate(data["indicators"], start=1):
        if not isinstance(ind, dict) or not ind.get("id") or not ind.get("items"):
            raise ValueError(f"Indicators {source}: indicator {i} needs an id and a list of items")
        items = tuple(str(x) for x in ind["items"])
        for item in items:
            if item in seen:
                raise ValueError(f"Indicators {source}: item {item!r} belongs to {seen[item]!r} and {ind['id']!r}")
            seen[item] = str(ind["id"])
        reverse = tuple(str(x) for x in ind.get("reverse") or [])
        if not set(reverse) <= set(items):
            raise ValueError(f"Indicators {source}: {ind['id']!r} reverses items it lacks: {set(reverse) - set(items)}")
        out.append(
            Indicator(str(ind["id"]), str(ind.get("sv", ind["id"])), str(ind.get("en", ind["id"])), items, reverse)
        )
    return IndicatorSpec(lo, hi, labels, tuple(out))


def load_indicator_spec(path: Path) -> IndicatorSpec:
    """Read an indicator spec YAML file (UTF-8); ValueError naming the file if unreadable or invalid."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"Indicators {path}: cannot be read as UTF-8 YAML: {exc}") from exc
    return indicator_spec_from_dict(data, str(path))


def read_indicator_responses(path: Path, spec: IndicatorSpec, participants: pd.DataFrame | None = None) -> pd.DataFrame:
    """Read questionnaire responses: participant_id, date (datetime64), one float column per item (answers on
    the Likert scale), source_row. Raises DocumentationError naming the file, rows and values for missing item
    columns, unparseable dates, answers off the scale, duplicated participant-dates and (with
    ``participants``) participants not in the participant list."""
    source = str(path)
    df = _read(Path(path))
    if "date" not in df.columns:
        for alias in ("datum", "occasion_date", "mättillfälle", "matttillfalle"):
            if alias in df.columns:
                df = df.rename(columns={alias: "date"})
    missing = [c for c in ("participant_id", "date", *spec.items) if c not in df.columns]
    if missing:
        raise DocumentationError(f"{source}: missing column(s) {', '.join(missing)} (items come from the spec)")
    problems: list[str] = []
    out = pd.DataFrame({SOURCE_ROW: df[SOURCE_ROW], "participant_id": _ids(df["participant_id"])})
    for row in df.loc[out["participant_id"].isna(), SOURCE_ROW]:
        problems.append(f"row {row}, column 'participant_id': empty")
    out["date"] = _dates(df, "date", source, problems, required=True)
    for item in spec.items:
        values = []
        for row, value in zip(df[SOURCE_ROW], df[item], strict=True):
            if _blank(value):
                values.append(np.nan)
                continue
            text = str(value).strip()
            number = spec.labels.get(text.lower())
            if number is None:
                try:
                    number = float(text.replace(",", "."))
                except ValueError:
                    number = None
            if number is None or not spec.likert_min <= number <= spec.likert_max or number != int(number):
                problems.append(
                    f"row {row}, column {item!r}: {value!r} is not an answer {spec.likert_min}..{spec.likert_max}"
                    + (f" or one of the labels {', '.join(spec.labels)}" if spec.labels else "")
                )
                values.append(np.nan)
            else:
                values.append(float(number))
        out[item] = values
    _raise(source, "indicator responses are not usable", problems)
    dup = out.duplicated(["participant_id", "date"], keep=False)
    problems = [
        f"participant {pid!r} answered twice on {d:%Y-%m-%d} ({_rows(sorted(rows))})"
        for (pid, d), rows in out.loc[dup].groupby(["participant_id", "date"])[SOURCE_ROW]
    ]
    if participants is not None:
        stray = out.loc[~out["participant_id"].isin(set(participants["participant_id"]))]
        problems += [
            f"participant {pid!r} ({_rows(sorted(rows))}) is not in the participant list"
            for pid, rows in stray.groupby("participant_id")[SOURCE_ROW]
        ]
    _raise(source, "indicator responses do not match the documentation", problems)
    return out.sort_values(["participant_id", "date"], kind="mergesort").reset_index(drop=True)


def indicator_scores(responses: pd.DataFrame, spec: IndicatorSpec) -> pd.DataFrame:
    """Long table of scores: participant_id, date, occasion (1 = first questionnaire), indicator, score
    (mean of answered items on the Likert scale, reversed items flipped; NaN with fewer than half answered),
    n_items_answered."""
    resp = responses.sort_values(["participant_id", "date"], kind="mergesort")
    occasion = resp.groupby("participant_id").cumcount() + 1
    frames = []
    for ind in spec.indicators:
        items = resp[list(ind.items)].astype(float)
        for item in ind.reverse:
            items[item] = spec.likert_min + spec.likert_max - items[item]
        answered = items.notna().sum(axis=1)
        score = items.mean(axis=1).where(answered * 2 >= len(ind.items))
        frames.append(
            pd.DataFrame(
                {
                    "participant_id": resp["participant_id"],
                    "date": resp["date"],
                    "occasion": occasion.astype("int64"),
                    "indicator": ind.id,
                    "score": score,
                    "n_items_answered": answered.astype("int64"),
                }
            )
        )
    return pd.concat(frames, ignore_index=True)


def _first_latest(scores: pd.DataFrame) -> pd.DataFrame:
    """Per participant and indicator: the first and the latest scored occasion (two distinct occasions)."""
    s = scores.dropna(subset=["score"]).sort_values(["participant_id", "indicator", "occasion"], kind="mergesort")
    g = s.groupby(["participant_id", "indicator"])
    out = g.agg(first=("score", "first"), latest=("score", "last"), n_occasions=("score", "size")).reset_index()
    out = out[out["n_occasions"] >= 2]
    return out.assign(change=out["latest"] - out["first"])


def occasion_means(scores: pd.DataFrame, participants: pd.DataFrame) -> pd.DataFrame:
    """Mean indicator score per occasion: project (and "all"), indicator, occasion, n_participants, mean_score."""
    s = scores.dropna(subset=["score"]).merge(participants[["participant_id", "project"]], on="participant_id")
    rows = []
    for (project,), grp in _with_totals(s, ["project"]):
        agg = grp.groupby(["indicator", "occasion"]).agg(
            n_participants=("participant_id", "nunique"), mean_score=("score", "mean")
        )
        rows.append(agg.reset_index().assign(project=project))
    out = pd.concat(rows, ignore_index=True)
    return out[["project", "indicator", "occasion", "n_participants", "mean_score"]]


def indicator_change(scores: pd.DataFrame, participants: pd.DataFrame, spec: IndicatorSpec) -> pd.DataFrame:
    """Change from the first to the latest measurement, per project (and "all") and indicator, among
    participants with at least two scored occasions.

    Columns: project, indicator, indicator_sv, indicator_en, n_participants, mean_first, mean_latest,
    mean_change, sd_change, ci_low, ci_high (95% t interval of the mean change), effect_size (paired
    Cohen's d_z = mean change / SD of changes), es_ci_low, es_ci_high (95%, normal approximation with
    SE = sqrt(1/n + d_z^2 / (2n))), p_value (paired t test). Statistics are NaN with fewer than 2 pairs.
    """
    pairs = _first_latest(scores).merge(participants[["participant_id", "project"]], on="participant_id")
    names = {ind.id: ind for ind in spec.indicators}
    rows = []
    for (project, ind_id), grp in _with_totals(pairs, ["project", "indicator"]):
        if ind_id == ALL:
            continue
        n = len(grp)
        row: dict[str, Any] = {
            "project": project,
            "indicator": ind_id,
            "indicator_sv": names[ind_id].sv,
            "indicator_en": names[ind_id].en,
            "n_participants": n,
            "mean_first": grp["first"].mean() if n else np.nan,
            "mean_latest": grp["latest"].mean() if n else np.nan,
            "mean_change": grp["change"].mean() if n else np.nan,
        }
        stats_cols = ("sd_change", "ci_low", "ci_high", "effect_size", "es_ci_low", "es_ci_high", "p_value")
        row.update(dict.fromkeys(stats_cols, np.nan))
        if n >= MIN_PAIRS:
            sd = float(grp["change"].std(ddof=1))
            mean = float(grp["change"].mean())
            half = stats.t.ppf(0.975, n - 1) * sd / np.sqrt(n)
            row.update(sd_change=sd, ci_low=mean - half, ci_high=mean + half)
            if sd > 0:
                d = mean / sd
                se = np.sqrt(1 / n + d**2 / (2 * n))
                row.update(
                    effect_size=d,
                    es_ci_low=d - 1.959963984540054 * se,
                    es_ci_high=d + 1.959963984540054 * se,
                    p_value=float(2 * stats.t.sf(abs(mean / (sd / np.sqrt(n))), n - 1)),
                )
        rows.append(row)
    return pd.DataFrame(rows)


def exit_association(scores: pd.DataFrame, steps: pd.DataFrame, spec: IndicatorSpec) -> pd.DataFrame:
    """Is indicator progress associated with a favourable exit? Per indicator, over all projects: logistic
    regression of favourable_exit (participants who have left) on the first-to-latest change (per Likert
    point), reported honestly for small N.

    Columns: indicator, n_participants, n_favourable, odds_ratio, ci_low, ci_high (95% Wald), p_value,
    estimated (bool), note. Not estimated (NaN, with the reason in ``note``) when fewer than
    MIN_EVENTS_FOR_REGRESSION favourable or unfavourable exits, no variation in the change, or perfect
    separation; flagged "imprecise" when fewer than EVENTS_PER_PARAMETER of either outcome.
    """
    import statsmodels.api as sm

    exited = steps.loc[steps["exit_category"] != "ongoing", ["participant_id", "favourable_exit"]]
    pairs = _first_latest(scores).merge(exited, on="participant_id")
    rows = []
    for ind in spec.indicators:
        grp = pairs[pairs["indicator"] == ind.id]
        n, events = len(grp), int(grp["favourable_exit"].sum())
        smaller = min(events, n - events)
        row: dict[str, Any] = {
            "indicator": ind.id,
            "n_participants": n,
            "n_favourable": events,
            "odds_ratio": np.nan,
            "ci_low": np.nan,
            "ci_high": np.nan,
            "p_value": np.nan,
            "estimated": False,
        }
        if smaller < MIN_EVENTS_FOR_REGRESSION:
            row["note"] = (
                f"not estimated: {events} favourable and {n - events} other exits among {n} participants with two "
                f"or more measurements; at least {MIN_EVENTS_FOR_REGRESSION} of each are needed"
            )
        elif grp["change"].std() == 0:
            row["note"] = "not estimated: the change is the same for everyone"
        else:
            x = sm.add_constant(grp["change"].to_numpy(float))
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    fit = sm.Logit(grp["favourable_exit"].to_numpy(int), x).fit(disp=0)
                beta, se = float(fit.params[1]), float(fit.bse[1])
                if not np.isfinite(se) or se > 50:
                    raise ValueError("separation")
            except Exception as exc:  # perfect separation, non-convergence: statsmodels' types vary
                row["note"] = f"not estimated: the model does not converge ({type(exc).__name__}; likely separation)"
            else:
                row.update(
                    odds_ratio=float(np.exp(beta)),
                    ci_low=float(np.exp(beta - 1.959963984540054 * se)),
                    ci_high=float(np.exp(beta + 1.959963984540054 * se)),
                    p_value=float(fit.pvalues[1]),
                    estimated=True,
                )
                row["note"] = (
                    f"imprecise: fewer than {EVENTS_PER_PARAMETER} exits of one kind ({smaller})"
                    if smaller < EVENTS_PER_PARAMETER
                    else f"odds ratio per Likert point of change; N = {n}"
                )
        rows.append(row)
    return pd.DataFrame(rows)
