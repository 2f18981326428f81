"""Human coding as researchers keep it, read into one table of spans on the redacted transcripts.

Three formats, chosen by the file (:func:`read_human_coding`):

- **span sheet** (CSV UTF-8 / XLSX): ``document, start, end, code, coder``: character offsets (end exclusive)
  into the transcript as ``transcripts.read_transcript`` returns it; ``document`` is a file name or interview id.
- **turn sheet** (CSV / XLSX), the coding sheet most teams keep: ``interview, turn, code[, coder]``
  (``interview_id`` or ``document`` also name the interview; ``code_id`` the code). ``turn`` is the turn's
  number in the transcript (1 = the first speaker label, as ``segment_turns`` counts); several codes in one
  cell are separated by ``;``. Without a ``coder`` column the file's stem names the coder.
- **REFI-QDA project** (``.qdpx`` from NVivo, ATLAS.ti, MAXQDA, QualCoder, or a bare ``.qde`` with
  ``PlainTextContent``): every ``<Coding>``'s ``<CodeRef>`` of a text selection, its coder the name of the
  ``creatingUser`` of the coding (or of the selection). A source's text must equal the
  transcript as read (offsets are moved onto the redacted text) or the redacted text itself (a review
  project coded further).

:func:`human_spans` returns columns interview_id, start, end, code, coder on the *redacted* transcripts; a
turn is coded over its whole text, so it counts for exactly that segment.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Mapping, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from insats.tasks.interviews.codebook import Codebook
from insats.tasks.interviews.redaction import map_offsets, redact

HUMAN_SPAN_COLUMNS = ["document", "start", "end", "code", "coder"]
TURN_COLUMNS = ["document", "turn", "code", "coder"]
SPAN_COLUMNS = ["interview_id", "start", "end", "code", "coder"]
_INTERVIEW_ALIASES = ("interview", "interview_id", "document")


def _read_sheet(path: Path) -> pd.DataFrame:
    if path.suffix.lower() == ".xlsx":
        return pd.read_excel(path, dtype=str).fillna("")
    if path.suffix.lower() == ".csv":
        return pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    raise ValueError(f"{path}: unsupported coding file {path.suffix!r}; expected .csv, .xlsx or .qdpx")


def _non_empty(df: pd.DataFrame, columns: Sequence[str], path: Path) -> None:
    for col in columns:
        empty = np.flatnonzero((df[col].astype(str).str.strip() == "").to_numpy())
        if len(empty):
            raise ValueError(f"{path}: row {empty[0] + 2}, column {col!r} is empty")


def _integers(df: pd.DataFrame, col: str, path: Path, minimum: int) -> None:
    ok = df[col].astype(str).str.strip().str.fullmatch(r"\d+") & (
        pd.to_numeric(df[col], errors="coerce").fillna(-1) >= minimum
    )
    if not ok.all():
        i = int(np.flatnonzero(~ok.to_numpy())[0])
        kind = "a non-negative integer" if minimum == 0 else f"an integer >= {minimum}"
        raise ValueError(f"{path}: row {i + 2}, column {col!r}: expected {kind}, got {df[col].iloc[i]!r}")
    df[col] = df[col].astype(str).str.strip().astype("int64")


def read_coded_spans(path: Path) -> pd.DataFrame:
    """A span sheet (CSV/XLSX) with columns :data:`HUMAN_SPAN_COLUMNS`. Raises ValueError naming the file,
    row and column for missing columns, non-integer or negative offsets, end <= start, or empty code/coder."""
    path = Path(path)
    df = _read_sheet(path)
    missing = [c for c in HUMAN_SPAN_COLUMNS if c not in df.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {missing}; expected {HUMAN_SPAN_COLUMNS}")
    for col in ("start", "end"):
        _integers(df, col, path, 0)
    bad = np.flatnonzero((df["end"] <= df["start"]).to_numpy())
    if len(bad):
        raise ValueError(f"{path}: row {bad[0] + 2}: 'end' must be greater than 'start'")
    _non_empty(df, ("document", "code", "coder"), path)
    return df[HUMAN_SPAN_COLUMNS].reset_index(drop=True)


def read_turn_coding(path: Path) -> pd.DataFrame:
    """A turn sheet (CSV/XLSX): interview (or interview_id / document), turn, code (or code_id), optional
    coder. Returns :data:`TURN_COLUMNS`, one row per code (``;``-separated codes split). Raises ValueError
    naming file, row and column for a missing column, a turn that is not a positive integer, or an empty cell."""
    path = Path(path)
    df = _read_sheet(path)
    interview = next((c for c in _INTERVIEW_ALIASES if c in df.columns), None)
    code = next((c for c in ("code", "code_id") if c in df.columns), None)
    if interview is None or code is None or "turn" not in df.columns:
        raise ValueError(
            f"{path}: a turn coding sheet needs columns interview (or interview_id / document), turn and code "
            f"(or code_id), optionally coder; has {list(df.columns)}"
        )
    df = df.rename(columns={interview: "document", code: "code"})
    if "coder" not in df.columns:
        df["coder"] = path.stem
    _non_empty(df, ("document", "turn", "code", "coder"), path)
    _integers(df, "turn", path, 1)
    df["code"] = df["code"].astype(str).str.split(";")
    df = df.explode("code")
    df["code"] = df["code"].str.strip()
    df = df[df["code"] != ""]
    return df[TURN_COLUMNS].drop_duplicates().reset_index(drop=True)


def _interview_lookup(employers: pd.DataFrame) -> dict[str, str]:
    """Document name -> interview_id: the file name, its stem, or the id itself."""
    lookup = {str(i): str(i) for i in employers["interview_id"]}
    for i, f in zip(employers["interview_id"], employers["file"], strict=True):
        lookup[str(f)] = lookup[Path(str(f)).stem] = str(i)
    return lookup


def _documents(df: pd.DataFrame, employers: pd.DataFrame, what: str) -> pd.Series:
    lookup = _interview_lookup(employers)
    unknown = sorted(set(df["document"].astype(str)) - set(lookup))
    if unknown:
        raise ValueError(f"{what}: document(s) {unknown[:5]} not in the interview metadata (interview_id or file)")
    return df["document"].astype(str).map(lookup)


def spans_to_redacted(
    spans: pd.DataFrame, originals: Mapping[str, str], employers: pd.DataFrame, names: Sequence[str] = ()
) -> pd.DataFrame:
    """Attach interview_id to span-sheet rows and move their offsets onto the redacted transcripts.

    ``originals``: interview_id -> transcript text as read (before redaction); ``employers``: metadata with
    interview_id and file. Returns :data:`SPAN_COLUMNS` with offsets into ``redact(originals[id], names)[0]``.
    Raises ValueError for a document not in ``employers`` or a span beyond its transcript's end.
    """
    out = spans.reset_index(drop=True)
    out = out.assign(interview_id=_documents(out, employers, "coded spans"))
    for iid, idx in out.groupby("interview_id").groups.items():
        text = originals.get(str(iid))
        if text is None:
            raise ValueError(f"coded spans: no transcript text for interview {iid!r}")
        rows = out.loc[idx]
        if int(rows["end"].max()) > len(text):
            raise ValueError(f"coded spans: a span of interview {iid!r} ends after its transcript ({len(text)} chars)")
        out.loc[idx, "start"] = map_offsets(text, rows["start"].tolist(), names)
        out.loc[idx, "end"] = map_offsets(text, rows["end"].tolist(), names)
    return out[SPAN_COLUMNS].reset_index(drop=True)


def turns_to_spans(turns: pd.DataFrame, segments: pd.DataFrame, employers: pd.DataFrame) -> pd.DataFrame:
    """Turn-sheet rows as spans over their whole turn (``segments``: ``segment_turns`` output on the redacted
    text). Returns :data:`SPAN_COLUMNS`. Raises ValueError naming the interview and turn when a turn is not a
    non-empty turn of that transcript."""
    out = turns.assign(interview_id=_documents(turns, employers, "turn coding"))
    keyed = out.merge(
        segments[["interview_id", "turn", "start_char", "end_char"]], on=["interview_id", "turn"], how="left"
    )
    absent = keyed[keyed["start_char"].isna()]
    if len(absent):
        r = absent.iloc[0]
        raise ValueError(
            f"turn coding: interview {r['interview_id']!r} has no turn {int(r['turn'])} with text (turns count "
            "speaker labels from 1 in the transcript)"
        )
    keyed = keyed.rename(columns={"start_char": "start", "end_char": "end"})
    return keyed[SPAN_COLUMNS].astype({"start": "int64", "end": "int64"}).reset_index(drop=True)


def qdpx_spans(
    path: Path, codebook: Codebook, originals: Mapping[str, str], employers: pd.DataFrame, names: Sequence[str] = ()
) -> pd.DataFrame:
    """The codings of a REFI-QDA project as :data:`SPAN_COLUMNS` on the redacted transcripts (see module
    docstring). Codes are matched to the codebook by the id insats exported or by label. Raises ValueError
    naming the file and source when a source's text is neither the transcript nor its redacted form."""
    from insats.tasks.interviews.qdpx import coding_from_project, read_qdpx  # local: qdpx builds on codebook

    project = read_qdpx(Path(path))
    coding = coding_from_project(project, codebook)
    texts = dict(zip(project.sources["name"], project.sources["text"], strict=True))
    coding = coding.assign(interview_id=_documents(coding, employers, str(path)))
    frames = []
    for (doc, iid), rows in coding.groupby(["document", "interview_id"], sort=False):
        text, original = unicodedata.normalize("NFC", texts[doc]), originals.get(str(iid), "")
        redacted = redact(original, names)[0]
        if text == redacted:
            frames.append(rows[SPAN_COLUMNS])
        elif text == unicodedata.normalize("NFC", original):
            frames.append(
                rows.assign(
                    start=map_offsets(original, rows["start"].tolist(), names),
                    end=map_offsets(original, rows["end"].tolist(), names),
                )[SPAN_COLUMNS]  # fmt: skip
            )
        else:
            raise ValueError(
                f"{path}: source {doc!r} differs from interview {iid}'s transcript (as read, or redacted); "
                "import the transcript files unchanged into the QDA tool"
            )
    out = pd.concat(frames, ignore_index=True) if frames else pd.DataFrame(columns=SPAN_COLUMNS)
    return out.astype({"start": "int64", "end": "int64"})


def is_turn_sheet(path: Path) -> bool:
    """True when a CSV/XLSX coding file has a ``turn`` column (a turn sheet), False for a span sheet."""
    path = Path(path)
    if path.suffix.lower() in (".qdpx", ".qde"):
        return False
    head = pd.read_excel(path, dtype=str, nrows=0) if path.suffix.lower() == ".xlsx" else _read_sheet(path).head(0)
    return "turn" in head.columns


def human_spans(
    path: Path,
    segments: pd.DataFrame,
    codebook: Codebook,
    originals: Mapping[str, str],
    employers: pd.DataFrame,
    names: Sequence[str] = (),
) -> pd.DataFrame:
    """Human coding from ``path`` (span sheet, turn sheet or ``.qdpx``) as :data:`SPAN_COLUMNS` on the
    redacted transcripts ``segments`` were cut from."""
    path = Path(path)
    if path.suffix.lower() in (".qdpx", ".qde"):
        return qdpx_spans(path, codebook, originals, employers, names)
    if is_turn_sheet(path):
        return turns_to_spans(read_turn_coding(path), segments, employers)
    return spans_to_redacted(read_coded_spans(path), originals, employers, names)
