"""Study 1: coding employer interviews into an employer demand profile."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
from prefect import flow

from flows.steps import Outputs, publish, record_inputs, run_step, step, written
from insats.config import load_config
from insats.storage import write_parquet
from insats.validation import gate
from tasks.interviews.codebook import load_codebook
from tasks.interviews.coding import code_segments
from tasks.interviews.profile import code_frequencies, demand_profile
from tasks.interviews.redaction import redact
from tasks.interviews.transcripts import read_transcript, segment_turns

STUDY = "employer_interviews"


def read_employers(path: Path) -> pd.DataFrame:
    employers = pd.read_csv(path, dtype=str, encoding="utf-8-sig", keep_default_na=False)
    gate(employers, "input.employers", table=str(path))
    return employers


@step
def segment_interviews(transcripts: Path, employers: Path, redact_names: list[str], out_dir: str) -> dict:
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
        frames.append(segment_turns(text, row.interview_id))
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
    return written(
        code_frequencies=write_parquet(code_frequencies(coded, meta), Path(out_dir) / "code_frequencies.parquet"),
        demand_profile=write_parquet(
            demand_profile(coded, meta, book, parent=parent), Path(out_dir) / "demand_profile.parquet"
        ),
    )


@flow(name="employer-interviews")
def employer_interviews(config_path: str) -> Outputs:
    """Segment and redact transcripts, code them against the codebook, profile employers' demands."""
    config = load_config(config_path)
    cfg = config.employer_interviews
    inputs = [cfg.transcripts, cfg.employers, cfg.codebook]
    record_inputs(STUDY, config, inputs)
    interim = str(config.interim_dir(STUDY))

    segments = run_step(
        segment_interviews,
        transcripts=cfg.transcripts,
        employers=cfg.employers,
        redact_names=cfg.redact_names,
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
    return publish(STUDY, config, {**segments, **coded, **profile}, inputs, artifact_table="demand_profile")
