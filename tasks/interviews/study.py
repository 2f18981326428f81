"""Study 1's steps that combine several modules, as plain functions the employer-interviews flow wires.

Each reads at most the raw inputs it is given (transcripts folder, interview metadata, codebook, human coding,
focus groups, survey) and returns tables (DataFrames) or a file's bytes; earlier results arrive as loaded
DataFrames. Nothing here writes files. Segment offsets refer to the redacted transcripts.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pandas as pd

from insats.tasks.interviews.classifier import (
    MODE,
    combine_with_rules,
    fit_turn_coder,
    predict_proba,
    training_shortfall,
    turn_table,
)
from insats.tasks.interviews.codebook import Codebook, load_codebook
from insats.tasks.interviews.coding import code_segments
from insats.tasks.interviews.human import human_spans
from insats.tasks.interviews.names import name_lists
from insats.tasks.interviews.per_code import combine_per_code, fit_per_code
from insats.tasks.interviews.profile import code_frequencies, demand_by_attribute, demand_profile
from insats.tasks.interviews.redaction import redact, redaction_counts
from insats.tasks.interviews.reliability import coded_to_labels, spans_to_labels
from insats.tasks.interviews.review import AUTO_CODER, review_project, review_spans
from insats.tasks.interviews.suggest import (
    SUGGESTION_COLUMNS,
    cross_validate_suggestions,
    nothing_to_suggest,
    suggest_codes,
    training_labels,
)
from insats.tasks.interviews.survey import read_survey, survey_segments
from insats.tasks.interviews.transcripts import DEFAULT_SPEAKER_PATTERN, read_transcript, segment_turns
from insats.validation import gate

OTHER_CODING_COLUMNS = ["source", "interview_id", "segment_id", "speaker", "code_id", "matched", "negated"]


def read_employers(path: Path) -> pd.DataFrame:
    """The interview metadata (CSV, UTF-8, all columns text), gated against ``input.employers``."""
    employers = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    gate(employers, "input.employers", table=str(path))
    return employers


def read_interviews(transcripts: Path, employers: Path) -> tuple[pd.DataFrame, dict[str, str]]:
    """(metadata, interview_id -> transcript text as read, before redaction) for every listed interview.
    Raises FileNotFoundError naming the metadata file and interview when a listed transcript is missing."""
    meta = read_employers(employers)
    texts = {}
    for row in meta.itertuples():
        source = Path(transcripts) / row.file
        if not source.is_file():
            raise FileNotFoundError(
                f"{employers}: interview {row.interview_id} names {row.file}, not found in {transcripts}"
            )
        texts[row.interview_id] = read_transcript(source)
    return meta, texts


def pseudonymise_speakers(segments: pd.DataFrame, names: list[str]) -> pd.DataFrame:
    """``segments`` with speaker labels that are person names (a word of the shipped name lists, or a configured
    name) replaced by "[NAMN 1]", "[NAMN 2]", ... per interview in order of appearance, so named speakers
    ("Anna:") stay apart but unnamed in the published tables. Labels such as I, R1, Intervjuare are kept."""
    listed = name_lists()[0] | {p for n in names for p in n.split()}
    configured = {n.strip().lower() for n in names}
    out = segments.copy()
    for _iid, rows in out.groupby("interview_id", sort=False):
        named = [s for s in dict.fromkeys(rows["speaker"]) if s.lower() in configured or any(
            w in listed for w in s.replace("-", " ").split())]  # fmt: skip
        mapping = {s: f"[NAMN {k}]" for k, s in enumerate(named, start=1)}
        out.loc[rows.index, "speaker"] = rows["speaker"].map(lambda s, m=mapping: m.get(s, s))
    return out


def segment_interviews(
    transcripts: Path,
    employers: Path,
    redact_names: list[str],
    speaker_pattern: str | None,
    speaker_roles: dict[str, str],
) -> pd.DataFrame:
    """Every interview listed in ``employers``, redacted and split into speaker turns (``segment_turns``
    columns; ``speaker_pattern`` None = the default I:/R: labels, ``speaker_roles`` label -> role)."""
    _meta, texts = read_interviews(transcripts, employers)
    pattern = speaker_pattern or DEFAULT_SPEAKER_PATTERN
    frames, logs = [], []
    for iid, text in texts.items():
        redacted, log = redact(text, names=redact_names)
        frames.append(segment_turns(redacted, iid, pattern, speaker_roles or None))
        logs += log
    counts = ", ".join(f"{kind} {n}" for kind, n in redaction_counts(logs).items())
    logging.getLogger("insats.interviews").info("redacted in %d interviews: %s", len(texts), counts)
    return pseudonymise_speakers(pd.concat(frames, ignore_index=True), redact_names)


def code_interviews(segments: pd.DataFrame, codebook: Path) -> pd.DataFrame:
    """Deductive dictionary coding of respondent segments (Swedish stemming) against the codebook file."""
    return code_segments(segments, load_codebook(codebook))


def profile_demand(
    coded_segments: pd.DataFrame, employers: Path, codebook: Path, parent: str
) -> dict[str, pd.DataFrame]:
    """code_frequencies (per employer), demand_profile (share of employers demanding each code below
    ``parent``) and demand_by_sector."""
    meta, book = read_employers(employers), load_codebook(codebook)
    return {
        "code_frequencies": code_frequencies(coded_segments, meta),
        "demand_profile": demand_profile(coded_segments, meta, book, parent=parent),
        "demand_by_sector": demand_by_attribute(coded_segments, meta, book, attribute="sector", parent=parent),
    }


def _keyword_codes(book: Codebook) -> list[str]:
    """The codes the dictionary coder can apply (those with keywords), in codebook order."""
    return [c.id for c in book.codes if c.keywords]


def _human_codes(labels: pd.DataFrame) -> list[str]:
    """The codes human coders were compared on (in the order of ``labels``)."""
    return list(dict.fromkeys(labels.loc[labels["coder"] != AUTO_CODER, "code_id"]))


def coder_labels(
    segments: pd.DataFrame,
    coded_segments: pd.DataFrame,
    transcripts: Path,
    employers: Path,
    codebook: Path,
    human_coding: Path | None,
    redact_names: list[str],
) -> pd.DataFrame:
    """Segment decisions (``reliability.LABEL_COLUMNS``) of the dictionary coder (on the codes with keywords)
    and, when ``human_coding`` is given (span sheet, turn sheet or ``.qdpx``: :mod:`.human`), of each human
    coder on the codes with keywords and every code a human applied (a ``.qdc`` codebook has no keywords)."""
    book = load_codebook(codebook)
    auto_codes = _keyword_codes(book)
    labels = [coded_to_labels(coded_segments, segments, auto_codes, coder=AUTO_CODER)]
    if human_coding is not None:
        meta, originals = read_interviews(transcripts, employers)
        human = human_spans(human_coding, segments, book, originals, meta, redact_names)
        unknown = sorted(set(human["code"].astype(str)) - set(book.ids))
        if unknown:
            raise ValueError(
                f"{human_coding}: code(s) {unknown[:5]} are not in the codebook {codebook} "
                "(employer_interviews.human_coding / .codebook); use the codebook's ids or labels"
            )
        used = set(human["code"].astype(str))
        labels.append(spans_to_labels(human, segments, [c for c in book.ids if c in used or c in auto_codes]))
    return pd.concat(labels, ignore_index=True)


def supervised_coding(
    segments: pd.DataFrame,
    coded_segments: pd.DataFrame,
    labels: pd.DataFrame,
    codebook: Path,
    train_on: str = "consensus",
    seed: int = 0,
    mode: str = MODE,
) -> pd.DataFrame:
    """The dictionary coding with the supervised layer (:mod:`.classifier`, config
    ``employer_interviews.supervised_coding``): per-code classifiers trained on the human coding in ``labels``
    (``train_on`` as for suggestions) recode the respondent segments no human coded; segments a human coded
    keep the dictionary coding. ``mode`` (``employer_interviews.supervised_mode``): "classifier" or "union"
    for every code, or "per_code" (:mod:`.per_code`: each code's strategy chosen by grouped CV on the human
    coding; the choices are logged). Same columns as ``coded_segments``; added codes have matched
    "classifier p=...". Codes with too little human coding are named in a warning (logger
    ``insats.interviews``) and keep the dictionary coding. Raises ValueError without human coding."""
    log = logging.getLogger("insats.interviews")
    train = training_labels(labels, train_on, auto=AUTO_CODER)
    if train.empty:
        raise ValueError(
            "employer_interviews.supervised_coding is on but there is no human coding to train on: set "
            "employer_interviews.human_coding to a coding sheet (or turn supervised_coding off)"
        )
    codes = _human_codes(labels)
    turns = turn_table(segments, coded_segments, load_codebook(codebook))
    shortfall = training_shortfall(train, codes)
    if shortfall:
        log.warning("supervised coding: %s", shortfall)
    uncoded = turns[~turns["segment_id"].isin(set(train["segment_id"]))].reset_index(drop=True)
    if mode == "per_code":
        chooser = fit_per_code(turns, train, coded_segments, codes, seed=seed)
        model = chooser.with_rules
        log.info("supervised coding per code (grouped CV F1 on the human coding): %s",
                 "; ".join(f"{c} {s}" for c, s in chooser.strategy().items()))  # fmt: skip
        out = combine_per_code(coded_segments, predict_proba(chooser.text, uncoded),
                               predict_proba(chooser.with_rules, uncoded), turns, chooser.strategy())  # fmt: skip
    else:
        model = fit_turn_coder(turns, train, codes, seed=seed)
        out = combine_with_rules(coded_segments, predict_proba(model, uncoded), turns, mode=mode)
    before = set(zip(coded_segments["segment_id"], coded_segments["code_id"], strict=True))
    after = set(zip(out["segment_id"], out["code_id"], strict=True))
    log.info(
        "supervised coding: classifiers for %d code(s) recoded %d segment(s) no human coded: %d code(s) added, "
        "%d dictionary code(s) dropped",
        len(model.models), len(uncoded), len(after - before), len(before - after),
    )  # fmt: skip
    return out


def code_suggestions(
    segments: pd.DataFrame, labels: pd.DataFrame, seed: int, train_on: str = "consensus"
) -> pd.DataFrame:
    """Codes suggested for the segments no human coded, learned from the human coding as ``train_on`` says
    (``suggest.training_labels``: consensus, all, or a coder). Empty (:data:`SUGGESTION_COLUMNS`) when there
    is nothing to learn from; the reason is logged (logger ``insats.interviews``). confidence is float64."""
    train = training_labels(labels, train_on, auto=AUTO_CODER)
    codes = _human_codes(labels)
    reason = nothing_to_suggest(train, codes)
    if reason:
        logging.getLogger("insats.interviews").warning("no code suggestions: %s", reason)
        return pd.DataFrame(columns=SUGGESTION_COLUMNS).astype({"confidence": "float64"})
    found = suggest_codes(segments, train, sorted(set(train["coder"])), codes, seed=seed)
    if found.empty:
        logging.getLogger("insats.interviews").warning(
            "no code suggestions: every uncoded segment scored below the confidence threshold, or no segment "
            "is left uncoded by the human coders (training on %s)",
            train_on,
        )
    return found.astype({"confidence": "float64"})


def suggestion_quality(
    segments: pd.DataFrame, labels: pd.DataFrame, seed: int, train_on: str = "consensus"
) -> dict[str, pd.DataFrame]:
    """{"suggestion_quality": cross-validated quality per code} of the suggestions' classifiers (trained as
    ``train_on`` says; its ``coder`` column names the training coders), or {} without human coding."""
    train = training_labels(labels, train_on, auto=AUTO_CODER)
    if train.empty:
        return {}
    coders = sorted(set(train["coder"]))
    return {"suggestion_quality": cross_validate_suggestions(segments, train, coders, _human_codes(labels), seed=seed)}


def review_export(
    segments: pd.DataFrame,
    suggestions: pd.DataFrame,
    transcripts: Path,
    employers: Path,
    codebook: Path,
    redact_names: list[str],
    labels: pd.DataFrame | None = None,
    unit: str = "turn",
) -> bytes:
    """The REFI-QDA review project (``.qdpx`` bytes) of the redacted transcripts with the dictionary coder's
    codings (whole turns, or sentences: ``unit``), the suggestions and every human coder's turn decisions in
    ``labels`` as their own users, for researchers to open in NVivo, ATLAS.ti, MAXQDA or QualCoder."""
    _meta, originals = read_interviews(transcripts, employers)
    redacted = {iid: redact(text, names=redact_names)[0] for iid, text in originals.items()}
    book = load_codebook(codebook)
    return review_project(redacted, book, review_spans(segments, book, suggestions, labels, unit))


def code_other_material(
    focus_groups: Path | None,
    survey: Path | None,
    survey_id_column: str,
    survey_text_columns: list[str],
    codebook: Path,
    redact_names: list[str],
    speaker_pattern: str | None,
    speaker_roles: dict[str, str],
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(other_coding, other_code_frequencies) of focus groups (``.txt``/``.docx`` files in ``focus_groups``,
    several respondents each) and open survey answers, redacted and coded with the interviews' codebook.

    other_coding: :data:`OTHER_CODING_COLUMNS`, one row per coded segment; other_code_frequencies: per source
    and code the demanding (not negated) segments and documents, and the documents of that source.
    """
    frames = []
    if focus_groups is not None:
        pattern = speaker_pattern or DEFAULT_SPEAKER_PATTERN
        for path in sorted(p for p in Path(focus_groups).iterdir() if p.suffix.lower() in (".txt", ".docx")):
            text, _log = redact(read_transcript(path), names=redact_names)
            turns = pseudonymise_speakers(segment_turns(text, path.stem, pattern, speaker_roles or None), redact_names)
            frames.append(turns.assign(source="focus_group"))
    if survey is not None:
        answers = survey_segments(read_survey(survey, id_column=survey_id_column), survey_text_columns)
        answers["text"] = [redact(t, names=redact_names)[0] for t in answers["text"]]
        frames.append(answers.assign(source="survey"))
    if not frames:
        raise ValueError("other material: neither focus_groups nor survey is set (config: employer_interviews)")
    segments = pd.concat(frames, ignore_index=True)
    coded = code_segments(segments, load_codebook(codebook)).merge(
        segments[["segment_id", "source", "speaker"]], on="segment_id"
    )
    return coded[OTHER_CODING_COLUMNS], other_frequencies(coded, segments)


def other_frequencies(coded: pd.DataFrame, segments: pd.DataFrame) -> pd.DataFrame:
    """Per source and code: n_segments and n_documents with a demanding (not negated) mention, and
    n_documents_total (documents of that source). ``coded`` has source, interview_id, segment_id, code_id,
    negated; ``segments`` source and interview_id."""
    demand = coded[~coded["negated"]]
    summary = (
        demand.groupby(["source", "code_id"])
        .agg(n_segments=("segment_id", "nunique"), n_documents=("interview_id", "nunique"))
        .reset_index()
    )
    totals = segments.groupby("source")["interview_id"].nunique().rename("n_documents_total")
    return summary.merge(totals, on="source")
