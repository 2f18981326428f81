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

import pandas as pd

from insats.tasks.interviews.codebook import Codebook
from insats.tasks.interviews.coding import code_segments
from insats.tasks.mapping.inventory import _fold, read_inventory

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
THEME_COLUMNS: tuple[str, ...] = ("code_id", "label", "label_en", "n_comments", "n_respondents", "share_respondents")


def read_survey(path: Path, tools: tuple[str, ...]) -> pd.DataFrame:
    """Read and check the survey (see module docstring) against the allowed ``tools`` codes.

    Returns columns :data:`SURVEY_COLUMNS`: str columns ("" when empty; codes normalised), ``usefulness``
    Int64 (<NA> when empty), file order. Raises one ValueError naming the file and listing every problem as
    ``row <n>, column '<col>': ...`` (header = row 1) for: missing columns, missing respondent_id, unknown
    tool / purpose / frequency (listing the allowed values), ``annat`` without tool_other, usefulness not a
    whole number 1..5, and the same tool twice for one respondent.
    """
    path = Path(path)
    if path.suffix.lower() not in (".csv", ".xlsx"):
        raise ValueError(f"{path}: unsupported survey file type {path.suffix!r}; expected .csv or .xlsx")
    raw = read_inventory(path).rename(columns=lambda c: str(c).strip().lower())
    required = ("respondent_id", "tool", "purpose", "frequency", "usefulness")
    missing = [c for c in required if c not in raw.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; found {', '.join(map(str, raw.columns))}")
    for c in SURVEY_COLUMNS:
        if c not in raw.columns:
            raw[c] = None
    allowed_tools = tuple(dict.fromkeys([_fold(t) for t in tools] + list(OTHER_TOOL)))
    rows = raw.attrs.get("row_numbers") or list(range(2, len(raw) + 2))
    problems: list[str] = []
    seen: dict[tuple[str, str, str], int] = {}
    out: dict[str, list[object]] = {c: [] for c in SURVEY_COLUMNS}
    for row, rec in zip(rows, raw[list(SURVEY_COLUMNS)].itertuples(index=False), strict=True):
        r = {c: "" if v is None else str(v).strip() for c, v in rec._asdict().items()}
        if not r["respondent_id"]:
            problems.append(f"row {row}, column 'respondent_id': value is missing")
        tool = _fold(r["tool"]) if r["tool"] else ""
        if tool not in allowed_tools:
            problems.append(
                f"row {row}, column 'tool': unknown value {r['tool']!r}; allowed values: {', '.join(allowed_tools)}"
            )
        elif tool in OTHER_TOOL and not r["tool_other"]:
            problems.append(f"row {row}, column 'tool_other': tool '{r['tool']}' needs the tool's name here")
        key = (r["respondent_id"], tool, r["tool_other"].lower())
        if r["respondent_id"] and tool and key in seen:
            problems.append(
                f"row {row}, column 'tool': respondent {r['respondent_id']!r} lists {tool!r} twice "
                f"(first in row {seen[key]})"
            )
        seen.setdefault(key, row)
        purposes = [_fold(p) for p in r["purpose"].split(";") if p.strip()]
        bad = [p for p in purposes if p not in PURPOSES]
        if bad or not purposes:
            problems.append(
                f"row {row}, column 'purpose': unknown or missing value {r['purpose']!r}; allowed values "
                f"(';'-separated): {', '.join(PURPOSES)}"
            )
        freq = _fold(r["frequency"]) if r["frequency"] else ""
        if freq not in FREQUENCIES:
            problems.append(
                f"row {row}, column 'frequency': unknown value {r['frequency']!r}; "
                f"allowed values: {', '.join(FREQUENCIES)}"
            )
        use: int | None = None
        if r["usefulness"]:
            try:
                f = float(r["usefulness"].replace(",", "."))
                use = int(f) if f.is_integer() and 1 <= f <= 5 else None
            except ValueError:
                use = None
            if use is None:
                problems.append(
                    f"row {row}, column 'usefulness': expected a whole number 1..5, got {r['usefulness']!r}"
                )
        out["respondent_id"].append(r["respondent_id"])
        out["unit"].append(r["unit"])
        out["tool"].append(tool)
        out["tool_other"].append(r["tool_other"])
        out["purpose"].append(";".join(dict.fromkeys(purposes)))
        out["frequency"].append(freq)
        out["usefulness"].append(use)
        out["comment"].append(r["comment"])
    if problems:
        raise ValueError(f"{path}: {len(problems)} problem(s) in the survey:\n" + "\n".join(problems[:50]))
    df = pd.DataFrame({c: out[c] for c in SURVEY_COLUMNS if c != "usefulness"}, dtype=object).astype(str)
    df.insert(6, "usefulness", pd.array(out["usefulness"], dtype="Int64"))
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
    """Frequency of each coded theme (affirmative mentions only): columns :data:`THEME_COLUMNS`;
    ``n_comments`` = comments mentioning the code, ``share_respondents`` = respondents mentioning it over all
    respondents. Every code with keywords appears (0 when never mentioned), in codebook order."""
    total = survey["respondent_id"].nunique()
    aff = coded[~coded["negated"]]
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
