"""Open survey answers (CSV/XLSX, one row per respondent) as segments that the interview coder can code.

Each non-empty free-text answer becomes one segment: interview_id = the respondent id, segment_id =
``f"{respondent_id}-{column}"``, speaker_role "respondent", start_char 0 and end_char = its length (the
answer is its own text). Likert and other columns stay in the respondent table for cross-tabs.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import pandas as pd

from insats.tasks.interviews.transcripts import SEGMENT_COLUMNS, normalise_transcript_text


def read_survey(path: Path, id_column: str = "respondent_id") -> pd.DataFrame:
    """Read a survey export (``.csv`` UTF-8 with optional BOM, or ``.xlsx`` first sheet) as strings.

    Raises ValueError naming the file for another suffix, a missing or duplicated ``id_column``.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix == ".csv":
        df = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    elif suffix == ".xlsx":
        df = pd.read_excel(path, dtype=str).fillna("")
    else:
        raise ValueError(f"{path}: unsupported survey format {path.suffix!r}; expected .csv or .xlsx")
    if id_column not in df.columns:
        raise ValueError(f"{path}: no respondent id column {id_column!r}; columns are {list(df.columns)}")
    dup = df[id_column].duplicated()
    if dup.any():
        raise ValueError(
            f"{path}: row {int(dup.to_numpy().argmax()) + 2}: respondent {df[id_column][dup].iloc[0]!r} repeated"
        )
    return df


def survey_segments(
    survey: pd.DataFrame, text_columns: Sequence[str], id_column: str = "respondent_id"
) -> pd.DataFrame:
    """One segment per non-empty answer in ``text_columns`` (NFC-normalised, trimmed); columns as
    ``transcripts.segment_turns`` returns (speaker = the column name). Raises ValueError for a missing column."""
    missing = [c for c in [id_column, *text_columns] if c not in survey.columns]
    if missing:
        raise ValueError(f"survey: missing column(s) {missing}")
    rows = []
    for _, r in survey.iterrows():
        for n, col in enumerate(text_columns, start=1):
            text = normalise_transcript_text(str(r[col] if pd.notna(r[col]) else "")).strip()
            if text:
                rid = str(r[id_column])
                rows.append([rid, f"{rid}-{col}", n, col, "respondent", 0, len(text), text])
    return pd.DataFrame(rows, columns=SEGMENT_COLUMNS).astype(
        {"turn": "int64", "start_char": "int64", "end_char": "int64"}
    )
