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
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator
from scipy import stats

from insats.errors import Problem, validation_problems
from insats.tasks.participants.cells import SOURCE_ROW, DocumentationError, blank, dates, ids, read_sheet, rows_text
from insats.tasks.participants.measures import ALL, _with_totals

MIN_PAIRS = 2  # a paired change needs at least two participants (a standard deviation)
MIN_EVENTS_FOR_REGRESSION = 5  # below this many favourable (or unfavourable) exits: not estimated
EVENTS_PER_PARAMETER = 10  # below this: estimated but flagged as imprecise
SETTING = "participant_flow.indicators"
DATE_ALIASES = ("datum", "occasion_date", "mättillfälle", "matttillfalle")


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


# --- the spec YAML as pydantic models ------------------------------------------------------------------------


class LikertModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    min: int
    max: int
    labels: dict[str, int] = {}

    @field_validator("labels")
    @classmethod
    def _lower_case(cls, labels: dict[str, int]) -> dict[str, int]:
        return {str(k).strip().lower(): int(v) for k, v in labels.items()}

    @model_validator(mode="after")
    def _scale(self) -> LikertModel:
        if self.max <= self.min:
            raise ValueError(f"max ({self.max}) must exceed min ({self.min})")
        bad = [k for k, v in self.labels.items() if not self.min <= v <= self.max]
        if bad:
            raise ValueError(f"label(s) {bad} map outside the scale {self.min}..{self.max}")
        return self


class IndicatorModel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(min_length=1)
    sv: str | None = None
    en: str | None = None
    items: list[str] = Field(min_length=1)
    reverse: list[str] = []

    @field_validator("items", "reverse", mode="before")
    @classmethod
    def _as_text(cls, value: Any) -> Any:
        return [str(v) for v in value] if isinstance(value, list) else value

    @model_validator(mode="after")
    def _reverse_own_items(self) -> IndicatorModel:
        stray = sorted(set(self.reverse) - set(self.items))
        if stray:
            raise ValueError(f"{self.id!r} reverses items it lacks: {stray}")
        return self


class IndicatorSpecModel(BaseModel):
    """The indicator spec YAML: ``likert`` (min, max, labels) and a non-empty list ``indicators``."""

    model_config = ConfigDict(extra="forbid")

    likert: LikertModel
    indicators: list[IndicatorModel] = Field(min_length=1)

    @field_validator("indicators")
    @classmethod
    def _item_in_one_indicator(cls, indicators: list[IndicatorModel]) -> list[IndicatorModel]:
        seen: dict[str, str] = {}
        for ind in indicators:
            for item in ind.items:
                if item in seen:
                    raise ValueError(f"item {item!r} belongs to {seen[item]!r} and {ind.id!r}")
                seen[item] = ind.id
        return indicators

    def to_spec(self) -> IndicatorSpec:
        inds = tuple(
            Indicator(i.id, i.sv or i.id, i.en or i.id, tuple(i.items), tuple(i.reverse)) for i in self.indicators
        )
        return IndicatorSpec(self.likert.min, self.likert.max, dict(self.likert.labels), inds)


def indicator_spec_from_dict(data: Any, source: str = "<indicators>", setting: str | None = SETTING) -> IndicatorSpec:
    """Parse and check the spec (module docstring). Raises ``InputError`` (a ValueError) naming ``source``,
    the setting and each field at fault: a bad scale, items in two indicators, reversed items the indicator
    lacks, labels outside the scale."""
    try:
        return IndicatorSpecModel.model_validate(data).to_spec()
    except ValidationError as exc:
        raise DocumentationError(
            "not a valid indicator spec", validation_problems(exc), file=source, setting=setting
        ) from None


def load_indicator_spec(path: Path, setting: str | None = SETTING) -> IndicatorSpec:
    """Read an indicator spec YAML file (UTF-8); ``InputError`` naming the file if unreadable or invalid."""
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as exc:
        raise DocumentationError(f"cannot be read as UTF-8 YAML: {exc}", file=str(path), setting=setting) from exc
    return indicator_spec_from_dict(data, str(path), setting)


# --- responses -----------------------------------------------------------------------------------------------


def _answer(value: Any, spec: IndicatorSpec) -> float | None:
    """One answer as a number on the scale (a number or a declared label), None when it is neither."""
    text = str(value).strip()
    number = spec.labels.get(text.lower())
    if number is None:
        try:
            number = float(text.replace(",", "."))
        except ValueError:
            return None
    ok = spec.likert_min <= number <= spec.likert_max and number == int(number)
    return float(number) if ok else None


def _answers(df: pd.DataFrame, item: str, spec: IndicatorSpec, source: str) -> tuple[list[float], list[Problem]]:
    labels = f" or one of the labels {', '.join(spec.labels)}" if spec.labels else ""
    values, problems = [], []
    for row, value in zip(df[SOURCE_ROW], df[item], strict=True):
        number = np.nan if blank(value) else _answer(value, spec)
        if number is None:
            problems.append(
                Problem(f"row {row}, column {item!r}: {value!r} is not an answer "
                        f"{spec.likert_min}..{spec.likert_max}{labels}", source)
            )  # fmt: skip
            number = np.nan
        values.append(number)
    return values, problems


def _match_problems(out: pd.DataFrame, participants: pd.DataFrame | None, source: str) -> list[Problem]:
    problems = [
        Problem(f"participant {pid!r} answered twice on {d:%Y-%m-%d} ({rows_text(rows)})", source)
        for (pid, d), rows in _duplicates(out)
    ]
    if participants is not None:
        stray = out.loc[
            out["participant_id"].notna() & ~out["participant_id"].isin(set(participants["participant_id"]))
        ]
        problems += [
            Problem(f"participant {pid!r} ({rows_text(sorted(rows))}) is not in the participant list", source)
            for pid, rows in stray.groupby("participant_id")[SOURCE_ROW]
        ]
    return problems


def _duplicates(out: pd.DataFrame) -> list[tuple[Any, list[int]]]:
    valid = out.dropna(subset=["participant_id", "date"])
    dup = valid.duplicated(["participant_id", "date"], keep=False)
    return [(key, sorted(rows)) for key, rows in valid.loc[dup].groupby(["participant_id", "date"])[SOURCE_ROW]]


def read_indicator_responses(path: Path, spec: IndicatorSpec, participants: pd.DataFrame | None = None) -> pd.DataFrame:
    """Read questionnaire responses: participant_id, date (datetime64), one float column per item (answers on
    the Likert scale), source_row. Raises one DocumentationError naming the file and listing every problem
    (rows and values): missing item columns, unparseable dates, answers off the scale, duplicated
    participant-dates and (with ``participants``) participants not in the participant list."""
    source = str(path)
    df = read_sheet(Path(path))
    if "date" not in df.columns:
        df = df.rename(columns={next((a for a in DATE_ALIASES if a in df.columns), "date"): "date"})
    missing = [c for c in ("participant_id", "date", *spec.items) if c not in df.columns]
    if missing:
        raise DocumentationError(
            f"missing column(s) {', '.join(missing)} (items come from the spec, {SETTING})", file=source
        )
    out = pd.DataFrame({SOURCE_ROW: df[SOURCE_ROW], "participant_id": ids(df["participant_id"])})
    problems = [
        Problem(f"row {row}, column 'participant_id': empty", source)
        for row in df.loc[out["participant_id"].isna(), SOURCE_ROW]
    ]
    out["date"] = dates(df, "date", source, problems, required=True)
    for item in spec.items:
        out[item], found = _answers(df, item, spec, source)
        problems += found
    problems += _match_problems(out, participants, source)
    if problems:
        raise DocumentationError("indicator responses are not usable", problems, file=source)
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
