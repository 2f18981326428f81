"""Study 1: coding employer interviews into an employer demand profile."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from prefect import flow

from insats.config import load_config
from insats.flows.steps import Outputs, publish, record_inputs, run_step, step, written
from insats.storage import write_parquet
from insats.tasks.interviews.codebook import load_codebook
from insats.tasks.interviews.coding import code_segments, match_spans
from insats.tasks.interviews.profile import code_frequencies, demand_by_attribute, demand_profile, quote_bank
from insats.tasks.interviews.qdpx import project_from_coding, write_qdpx
from insats.tasks.interviews.redaction import redact
from insats.tasks.interviews.reliability import (
    QUALITY_COLUMNS,
    RELIABILITY_COLUMNS,
    coded_to_labels,
    coding_quality,
    read_coded_spans,
    reliability,
    spans_to_labels,
    spans_to_redacted,
)
from insats.tasks.interviews.suggest import cross_validate_suggestions, discover_themes, suggest_codes
from insats.tasks.interviews.survey import read_survey, survey_segments
from insats.tasks.interviews.transcripts import DEFAULT_SPEAKER_PATTERN, read_transcript, segment_turns
from insats.validation import gate

STUDY = "employer_interviews"
# Optional inputs found beside the interview metadata until the config names them (tell the lead).


def read_employers(path: Path) -> pd.DataFrame:
    employers = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    gate(employers, "input.employers", table=str(path))
    return employers


@step
def segment_interviews(
    transcripts: Path,
    employers: Path,
    redact_names: list[str],
    speaker_pattern: str | None,
    speaker_roles: dict[str, str],
    out_dir: str,
) -> dict:
    """Read every transcript listed in the metadata, redact it, and split it into speaker turns."""
    meta = read_employers(employers)
    frames = []
    for row in meta.itertuples():
        source = transcripts / row.file
        if not source.is_file():
            raise FileNotFoundError(
                f"{employers}: interview {row.interview_id} names {row.file}, not found in {transcripts}"
            )
        text, _log = redact(read_transcript(source), names=redact_names)
        frames.append(
            segment_turns(text, row.interview_id, speaker_pattern or DEFAULT_SPEAKER_PATTERN, speaker_roles or None)
        )
    return written(segments=write_parquet(pd.concat(frames, ignore_index=True), Path(out_dir) / "segments.parquet"))


@step
def code_interviews(segments: Path, codebook: Path, out_dir: str) -> dict:
    """Deductive dictionary coding of respondent segments (Swedish stemming) against the codebook."""
    coded = code_segments(pd.read_parquet(segments), load_codebook(codebook))
    return written(coded_segments=write_parquet(coded, Path(out_dir) / "coded_segments.parquet"))


@step
def profile_demand(coded_segments: Path, employers: Path, codebook: Path, parent: str, out_dir: str) -> dict:
    """Code frequencies per employer and the share of employers demanding each competency."""
    coded, meta, book = pd.read_parquet(coded_segments), read_employers(employers), load_codebook(codebook)
    out = Path(out_dir)
    return written(
        code_frequencies=write_parquet(code_frequencies(coded, meta), out / "code_frequencies.parquet"),
        demand_profile=write_parquet(demand_profile(coded, meta, book, parent=parent), out / "demand_profile.parquet"),
        demand_by_sector=write_parquet(
            demand_by_attribute(coded, meta, book, attribute="sector", parent=parent), out / "demand_by_sector.parquet"
        ),
    )


@step
def assess_coding(
    segments: Path,
    coded_segments: Path,
    transcripts: Path,
    employers: Path,
    codebook: Path,
    human_coding: Path | None,
    redact_names: list[str],
    out_dir: str,
) -> dict:
    """Reliability between coders (human-human, human-auto), auto-coding quality, supervised suggestions,
    NMF themes, the quote bank, and a REFI-QDA project of auto-codes and suggestions for review."""
    seg, coded = pd.read_parquet(segments), pd.read_parquet(coded_segments)
    meta, book, out = read_employers(employers), load_codebook(codebook), Path(out_dir)
    codes = [c.id for c in book.codes if c.keywords]
    labels = [coded_to_labels(coded, seg, codes)]
    originals = {r.interview_id: read_transcript(transcripts / r.file) for r in meta.itertuples()}
    redacted = {iid: redact(text, names=redact_names)[0] for iid, text in originals.items()}
    if human_coding is not None:
        human = spans_to_redacted(read_coded_spans(human_coding), originals, meta, redact_names)
        labels.append(spans_to_labels(human, seg, codes))
    labels = pd.concat(labels, ignore_index=True)
    humans = sorted(set(labels["coder"]) - {"auto"})
    pairs = [(a, b) for i, a in enumerate(humans) for b in humans[i + 1 :]] + [(h, "auto") for h in humans]
    rel = pd.concat(
        [reliability(labels, a, b, n_boot=1000, seed=6) for a, b in pairs]
        or [pd.DataFrame(columns=RELIABILITY_COLUMNS)],
        ignore_index=True,
    )
    quality = pd.concat(
        [coding_quality(labels, "auto", h) for h in humans] or [pd.DataFrame(columns=QUALITY_COLUMNS)],
        ignore_index=True,
    )
    if humans:
        suggestions = suggest_codes(seg, labels, humans[0], codes, seed=6)
        cv = cross_validate_suggestions(seg, labels, humans[0], codes, seed=6)
    else:
        suggestions, cv = pd.DataFrame(columns=["interview_id", "segment_id", "code_id", "confidence"]), None
    spans = match_spans(seg, book)
    review = spans.assign(
        coder="insats-auto", description=spans["matched"] + spans["negated"].map({True: " (inte krav)", False: ""})
    )
    sugg_spans = suggestions.merge(seg[["segment_id", "start_char", "end_char"]], on="segment_id")
    review = pd.concat([review, pd.DataFrame({
        "interview_id": sugg_spans["interview_id"], "start": sugg_spans["start_char"], "end": sugg_spans["end_char"],
        "code_id": sugg_spans["code_id"], "coder": "insats-förslag",
        "description": "förslag, säkerhet " + sugg_spans["confidence"].round(2).astype(str),
    })], ignore_index=True)  # fmt: skip
    # For researchers to open in their QDA tool; stays in the interim folder (the gate publishes tables only).
    write_qdpx(project_from_coding("insats: autokodning och förslag", book, redacted, review), out / "review.qdpx")
    outputs = {
        "reliability": write_parquet(rel, out / "reliability.parquet"),
        "coding_quality": write_parquet(quality, out / "coding_quality.parquet"),
        "suggestions": write_parquet(suggestions.astype({"confidence": "float64"}), out / "suggestions.parquet"),
        "themes": write_parquet(discover_themes(seg, coded, seed=6), out / "themes.parquet"),
        "quotes": write_parquet(quote_bank(coded, seg, seed=6), out / "quotes.parquet"),
    }
    if cv is not None:
        outputs["suggestion_quality"] = write_parquet(cv, out / "suggestion_quality.parquet")
    return written(**outputs)


@step
def code_other_material(
    focus_groups: Path | None,
    survey: Path | None,
    survey_id_column: str,
    survey_text_columns: list[str],
    codebook: Path,
    redact_names: list[str],
    speaker_pattern: str | None,
    speaker_roles: dict[str, str],
    out_dir: str,
) -> dict:
    """Focus groups (several respondents per transcript) and open survey answers, redacted and coded with the
    same codebook mechanism as the interviews; one row per coded segment and a summary per source and code."""
    frames = []
    if focus_groups is not None:
        for path in sorted(p for p in focus_groups.iterdir() if p.suffix.lower() in (".txt", ".docx")):
            text, _log = redact(read_transcript(path), names=redact_names)
            turns = segment_turns(text, path.stem, speaker_pattern or DEFAULT_SPEAKER_PATTERN, speaker_roles or None)
            frames.append(turns.assign(source="focus_group"))
    if survey is not None:
        answers = survey_segments(read_survey(survey, id_column=survey_id_column), survey_text_columns)
        answers["text"] = [redact(t, names=redact_names)[0] for t in answers["text"]]
        frames.append(answers.assign(source="survey"))
    segments = pd.concat(frames, ignore_index=True)
    coded = code_segments(segments, load_codebook(codebook)).merge(
        segments[["segment_id", "source", "speaker"]], on="segment_id"
    )
    coded = coded[["source", "interview_id", "segment_id", "speaker", "code_id", "matched", "negated"]]
    demand = coded[~coded["negated"]]
    summary = (
        demand.groupby(["source", "code_id"])
        .agg(n_segments=("segment_id", "nunique"), n_documents=("interview_id", "nunique"))
        .reset_index()
    )
    totals = segments.groupby("source")["interview_id"].nunique().rename("n_documents_total")
    summary = summary.merge(totals, on="source")
    out = Path(out_dir)
    return written(
        other_coding=write_parquet(coded, out / "other_coding.parquet"),
        other_code_frequencies=write_parquet(summary, out / "other_code_frequencies.parquet"),
    )


@flow(name="employer-interviews")
def employer_interviews(config_path: str) -> Outputs:
    """Segment and redact transcripts, code them against the codebook, profile employers' demands."""
    config = load_config(config_path)
    cfg = config.employer_interviews
    optional = [p for p in (cfg.human_coding, cfg.focus_groups, cfg.survey) if p is not None]
    inputs = [cfg.transcripts, cfg.employers, cfg.codebook, *optional]
    record_inputs(STUDY, config, inputs)
    interim = str(config.interim_dir(STUDY))

    segments = run_step(
        segment_interviews,
        transcripts=cfg.transcripts,
        employers=cfg.employers,
        redact_names=cfg.redact_names,
        speaker_pattern=cfg.speaker_pattern,
        speaker_roles=cfg.speaker_roles,
        out_dir=interim,
    )
    coded = run_step(code_interviews, segments=Path(segments["segments"]), codebook=cfg.codebook, out_dir=interim)
    profile = run_step(
        profile_demand,
        coded_segments=Path(coded["coded_segments"]),
        employers=cfg.employers,
        codebook=cfg.codebook,
        parent=cfg.demand_parent,
        out_dir=interim,
    )
    assessed = run_step(
        assess_coding,
        segments=Path(segments["segments"]),
        coded_segments=Path(coded["coded_segments"]),
        transcripts=cfg.transcripts,
        employers=cfg.employers,
        codebook=cfg.codebook,
        human_coding=cfg.human_coding,
        redact_names=cfg.redact_names,
        out_dir=interim,
    )
    other = {}
    if cfg.focus_groups is not None or cfg.survey is not None:
        other = run_step(
            code_other_material,
            focus_groups=cfg.focus_groups,
            survey=cfg.survey,
            survey_id_column=cfg.survey_id_column,
            survey_text_columns=cfg.survey_text_columns,
            codebook=cfg.codebook,
            redact_names=cfg.redact_names,
            speaker_pattern=cfg.speaker_pattern,
            speaker_roles=cfg.speaker_roles,
            out_dir=interim,
        )
    tables = {**segments, **coded, **profile, **assessed, **other}
    return publish(STUDY, config, tables, inputs, artifact_table="demand_profile")
