"""Assessment tools (study 2): the caseworker survey, usage and usefulness by tool and purpose, coded comments.

The survey file (CSV or XLSX, read with the inventory's tolerant reader: UTF-8/cp1252, ``,``/``;``) has one
row per respondent and tool used, columns :data:`SURVEY_COLUMNS`:

- ``respondent_id`` (str), ``unit`` (str, optional),
- ``tool``: one of the configured tool list (codes compared ignoring case, accents, spaces and hyphens);
  ``annat`` / ``other`` = a tool not on the list, named in ``tool_other`` (free text, then required),
- ``purpose``: ";"-separated, each one of :data:`PURPOSES` (mapping, work_capacity, progression),
- ``frequency``: one of :data:`FREQUENCIES`, ``usefulness``: Likert 1 (not useful) .. 5 (very useful),
  may be empty, ``comment``: open comment (may be empty).

Open comments are coded with study 1's machinery: :func:`insats.tasks.interviews.coding.code_segments` with a
codebook loaded by :mod:`insats.tasks.interviews.codebook` (the same YAML format), each comment being a segment.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
from pydantic import BaseModel, ConfigDict, ValidationInfo, field_validator

from insats.errors import Problem, by_row, validate_rows
from insats.tasks.interviews.codebook import Codebook
from insats.tasks.interviews.coding import code_segments
from insats.tasks.mapping.inventory import InventoryError, _fold, read_inventory

SURVEY_COLUMNS: tuple[str, ...] = (
    "respondent_id",
    "unit",
    "tool",
    "tool_other",
    "purpose",
    "frequency",
    "usefulness",
    "comment",
)
PURPOSES: tuple[str, ...] = ("mapping", "work_capacity", "progression")
FREQUENCIES: tuple[str, ...] = ("daily", "weekly", "monthly", "rarely")
OTHER_TOOL: tuple[str, ...] = ("annat", "other")
USAGE_COLUMNS: tuple[str, ...] = (
    "tool",
    "purpose",
    "n_respondents",
    "share_respondents",
    "n_weekly_or_more",
    "mean_usefulness",
    "median_usefulness",
    "n_rated",
)
SETTING = "intervention_mapping.survey"
TOOLS_SETTING = "intervention_mapping.survey_tools"
THEME_COLUMNS: tuple[str, ...] = ("code_id", "label", "label_en", "n_comments", "n_respondents", "share_respondents")


def _required(value: Any) -> str:
    if not value:
        raise ValueError("value is missing")
    return value


class SurveyRow(BaseModel):
    """One survey row (cells as stripped text, "" when empty), checked against context ``tools`` (folded
    allowed tool codes). ``tool`` comes before ``tool_other`` so that the latter can see the tool."""

    model_config = ConfigDict(extra="ignore")

    respondent_id: str
    unit: str = ""
    tool: str
    tool_other: str = ""
    purpose: str
    frequency: str
    usefulness: int | None = None
    comment: str = ""

    _respondent = field_validator("respondent_id", mode="before")(lambda v: _required(v))

    @field_validator("tool", mode="before")
    @classmethod
    def _tool(cls, value: str, info: ValidationInfo) -> str:
        tools = info.context["tools"]
        tool = _fold(value) if value else ""
        if tool not in tools:
            raise ValueError(
                f"unknown value {value!r}; allowed values ({TOOLS_SETTING}, or annat/other): {', '.join(tools)}"
            )
        return tool

    @field_validator("tool_other")
    @classmethod
    def _other_named(cls, value: str, info: ValidationInfo) -> str:
        if info.data.get("tool") in OTHER_TOOL and not value:
            raise ValueError(f"tool '{info.data['tool']}' needs the tool's name here")
        return value

    @field_validator("purpose", mode="before")
    @classmethod
    def _purposes(cls, value: str) -> str:
        purposes = [_fold(p) for p in value.split(";") if p.strip()]
        if not purposes or any(p not in PURPOSES for p in purposes):
            raise ValueError(
                f"unknown or missing value {value!r}; allowed values (';'-separated): {', '.join(PURPOSES)}"
            )
        return ";".join(dict.fromkeys(purposes))

    @field_validator("frequency", mode="before")
    @classmethod
    def _frequency(cls, value: str) -> str:
        freq = _fold(value) if value else ""
        if freq not in FREQUENCIES:
            raise ValueError(f"unknown value {value!r}; allowed values: {', '.join(FREQUENCIES)}")
        return freq

    @field_validator("usefulness", mode="before")
    @classmethod
    def _likert(cls, value: str) -> int | None:
        if not value:
            return None
        try:
            number = float(value.replace(",", "."))
        except ValueError:
            number = float("nan")
        if not (number.is_integer() and 1 <= number <= 5):
            raise ValueError(f"expected a whole number 1..5, got {value!r}")
        return int(number)


def _repeated_tools(rows: list[SurveyRow | None], row_numbers: list[int]) -> list[Problem]:
    """The same tool twice for one respondent (other tools: the same name twice)."""
    seen: dict[tuple[str, str, str], int] = {}
    problems = []
    for row, r in zip(row_numbers, rows, strict=True):
        if r is None:
            continue
        key = (r.respondent_id, r.tool, r.tool_other.lower())
        if key in seen:
            problems.append(
                Problem(f"row {row}, column 'tool': respondent {r.respondent_id!r} lists {r.tool!r} twice "
                        f"(first in row {seen[key]})")
            )  # fmt: skip
        seen.setdefault(key, row)
    return problems


def read_survey(path: Path, tools: tuple[str, ...]) -> pd.DataFrame:
    """Read and check the survey (see module docstring) against the allowed ``tools`` codes.

    Returns columns :data:`SURVEY_COLUMNS`: str columns ("" when empty; codes normalised), ``usefulness``
    Int64 (<NA> when empty), file order. Each row is checked by the pydantic model :class:`SurveyRow`; raises
    one ``InventoryError`` (a ValueError) naming the file and listing every problem as ``row <n>, column
    '<col>': ...`` (header = row 1) for: missing columns, missing respondent_id, unknown tool (allowed: the
    config's ``intervention_mapping.survey_tools``) / purpose / frequency, ``annat`` without tool_other,
    usefulness not a whole number 1..5, and the same tool twice for one respondent.
    """
    path = Path(path)
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise ValueError(f"{path}: unsupported survey file type {path.suffix!r}; expected .csv or .xlsx")
    raw = read_inventory(path).rename(columns=lambda c: str(c).strip().lower())
    missing = [c for c in ("respondent_id", "tool", "purpose", "frequency", "usefulness") if c not in raw.columns]
    if missing:
        found = ", ".join(map(str, raw.columns))
        raise InventoryError(f"missing column(s) {', '.join(missing)}; found {found}", file=str(path), setting=SETTING)
    for c in SURVEY_COLUMNS:
        if c not in raw.columns:
            raw[c] = None
    row_numbers = raw.attrs.get("row_numbers") or list(range(2, len(raw) + 2))
    records = [
        {c: "" if v is None else str(v).strip() for c, v in rec.items()}
        for rec in raw[list(SURVEY_COLUMNS)].to_dict("records")
    ]
    context = {"tools": tuple(dict.fromkeys([_fold(t) for t in tools] + list(OTHER_TOOL)))}
    rows, problems = validate_rows(SurveyRow, records, row_numbers, context)
    problems = by_row(problems + _repeated_tools(rows, row_numbers))
    if problems:
        raise InventoryError("survey is not usable", problems, file=str(path), setting=SETTING)
    dumped = [r.model_dump() for r in rows]
    df = pd.DataFrame({c: [r[c] for r in dumped] for c in SURVEY_COLUMNS if c != "usefulness"}, dtype=object)
    df = df.astype(str)
    df.insert(6, "usefulness", pd.array([r["usefulness"] for r in dumped], dtype="Int64"))
    return df


def tool_usage(survey: pd.DataFrame) -> pd.DataFrame:
    """Usage and perceived usefulness per (tool, purpose); a row with several purposes counts for each.

    Output columns :data:`USAGE_COLUMNS`: ``n_respondents`` (distinct respondents using the tool for the
    purpose), ``share_respondents`` (of all respondents in the survey), ``n_weekly_or_more`` (of those, using
    it daily or weekly), ``mean_usefulness`` / ``median_usefulness`` (Likert 1-5 over rated rows; NaN if none)
    and ``n_rated``. Other tools are reported as ``annat: <name as written>``. Sorted by tool, purpose.
    """
    total = survey["respondent_id"].nunique()
    df = survey.copy()
    df["tool"] = [f"annat: {o}" if t in OTHER_TOOL else t for t, o in zip(df["tool"], df["tool_other"], strict=True)]
    df["purpose"] = df["purpose"].str.split(";")
    df = df.explode("purpose")
    rows = []
    for (tool, purpose), g in df.groupby(["tool", "purpose"], sort=True):
        rated = g["usefulness"].dropna().astype(float)
        rows.append(
            {
                "tool": tool,
                "purpose": purpose,
                "n_respondents": g["respondent_id"].nunique(),
                "share_respondents": g["respondent_id"].nunique() / total if total else float("nan"),
                "n_weekly_or_more": g.loc[g["frequency"].isin(["daily", "weekly"]), "respondent_id"].nunique(),
                "mean_usefulness": float(rated.mean()) if len(rated) else float("nan"),
                "median_usefulness": float(rated.median()) if len(rated) else float("nan"),
                "n_rated": len(rated),
            }
        )
    out = pd.DataFrame(rows, columns=list(USAGE_COLUMNS))
    return out.astype({"n_respondents": "int64", "n_weekly_or_more": "int64", "n_rated": "int64"})


def code_comments(survey: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Code the open comments with study 1's coder: each non-empty comment becomes a segment
    (interview_id = respondent_id, segment_id = ``<respondent_id>:<row position>``, speaker_role respondent).

    Returns :func:`insats.tasks.interviews.coding.code_segments`'s columns renamed: respondent_id, segment_id,
    code_id, matched, negated, plus ``tool``.
    """
    has = survey[survey["comment"].astype(str).str.strip() != ""]
    segments = pd.DataFrame(
        {
            "interview_id": has["respondent_id"].to_numpy(),
            "segment_id": [f"{r}:{i}" for r, i in zip(has["respondent_id"], has.index, strict=True)],
            "speaker_role": "respondent",
            "text": has["comment"].to_numpy(),
        }
    )
    coded = code_segments(segments, codebook)
    tool_by_segment = dict(zip(segments["segment_id"], has["tool"], strict=True))
    coded = coded.rename(columns={"interview_id": "respondent_id"})
    coded["tool"] = coded["segment_id"].map(tool_by_segment)
    return coded


def comment_themes(coded: pd.DataFrame, survey: pd.DataFrame, codebook: Codebook) -> pd.DataFrame:
    """Frequency of each coded theme (every mention: a comment is about a theme whether or not it is negated,
    e.g. "the results cannot be entered in the case system" is a documentation theme): columns
    :data:`THEME_COLUMNS`;
    ``n_comments`` = comments mentioning the code, ``share_respondents`` = respondents mentioning it over all
    respondents. Every code with keywords appears (0 when never mentioned), in codebook order."""
    total = survey["respondent_id"].nunique()
    aff = coded
    rows = []
    for code in codebook.codes:
        if not code.keywords:
            continue
        sub = aff[aff["code_id"] == code.id]
        n_resp = sub["respondent_id"].nunique()
        rows.append(
            {
                "code_id": code.id,
                "label": code.label,
                "label_en": code.label_en,
                "n_comments": sub["segment_id"].nunique(),
                "n_respondents": n_resp,
                "share_respondents": n_resp / total if total else float("nan"),
            }
        )
    out = pd.DataFrame(rows, columns=list(THEME_COLUMNS))
    return out.astype({"n_comments": "int64", "n_respondents": "int64"})
