"""Study 1: coding employer interviews into an employer demand profile.

Wiring only: the steps are functions of ``insats.tasks.interviews`` (study.py combines the modules, review.py
compares coders and builds the review project) run as content-cached nodes; see flows/nodes.py.
"""

from __future__ import annotations

from pathlib import Path

from prefect import flow

from insats.flows.nodes import node
from insats.flows.steps import load_study_config, publish, record_inputs, work_dir
from insats.tasks.interviews.profile import quote_bank
from insats.tasks.interviews.review import coder_agreement
from insats.tasks.interviews.study import (
    code_interviews,
    code_other_material,
    code_suggestions,
    coder_labels,
    profile_demand,
    review_export,
    segment_interviews,
    suggestion_quality,
    supervised_coding,
)
from insats.tasks.interviews.suggest import discover_themes

STUDY = "employer_interviews"
SEED = 6  # one seed for every random step: bootstrap, classifiers, NMF themes, quote sampling
N_BOOT = 1000  # bootstrap resamples of interviews behind the reliability CIs

segment = node(segment_interviews, "segments")
code = node(code_interviews, "coded_segments")
supervise = node(supervised_coding, "coded_segments_supervised")  # only with employer_interviews.supervised_coding
profile = node(profile_demand, ("code_frequencies", "demand_profile", "demand_by_sector"))
label = node(coder_labels, "labels")
agree = node(coder_agreement, ("reliability", "coding_quality"))
suggest = node(code_suggestions, "suggestions")
check_suggestions = node(suggestion_quality, "*")  # {} without human coding: no table
themes = node(discover_themes, "themes")
quotes = node(quote_bank, "quotes")
review = node(review_export, "review.qdpx")  # for researchers' QDA tools; stays in the interim folder
other = node(code_other_material, ("other_coding", "other_code_frequencies"))


@flow(name="employer-interviews")
def employer_interviews(config_path: str) -> dict[str, Path]:
    """Redact and segment the transcripts, code them against the codebook and profile employers' demands;
    compare the coding with human coders, suggest codes, find themes and quotes; code focus groups and open
    survey answers the same way; publish the tables through their contracts."""
    config = load_study_config(config_path, STUDY)
    cfg = config.employer_interviews
    optional = [p for p in (cfg.human_coding, cfg.focus_groups, cfg.survey) if p is not None]
    inputs = [cfg.transcripts, cfg.employers, cfg.codebook, *optional]
    record_inputs(STUDY, config, inputs)
    out = str(work_dir(config, STUDY))
    sources = dict(transcripts=cfg.transcripts, employers=cfg.employers)

    segments = segment(
        **sources,
        redact_names=cfg.redact_names,
        speaker_pattern=cfg.speaker_pattern,
        speaker_roles=cfg.speaker_roles,
        out_dir=out,
    )
    coded = code(segments=segments, codebook=cfg.codebook, out_dir=out)
    labels = label(
        segments=segments,
        coded_segments=coded,
        **sources,
        codebook=cfg.codebook,
        human_coding=cfg.human_coding,
        redact_names=cfg.redact_names,
        out_dir=out,
    )
    agreement = agree.submit(labels=labels, n_boot=N_BOOT, seed=SEED, out_dir=out)
    train_on = cfg.suggestions_train_on
    if cfg.supervised_coding:  # the classifiers recode the segments no human coded; reliability stays rules-only
        coded = supervise(
            segments=segments, coded_segments=coded, labels=labels, codebook=cfg.codebook, train_on=train_on,
            seed=SEED, mode=cfg.supervised_mode, out_dir=out,
        )  # fmt: skip
    demand = profile.submit(
        coded_segments=coded, employers=cfg.employers, codebook=cfg.codebook, parent=cfg.demand_parent, out_dir=out
    )
    quality = check_suggestions.submit(segments=segments, labels=labels, seed=SEED, train_on=train_on, out_dir=out)
    found = themes.submit(segments=segments, coded=coded, seed=SEED, out_dir=out)
    bank = quotes.submit(coded=coded, segments=segments, seed=SEED, out_dir=out)
    suggestions = suggest(segments=segments, labels=labels, seed=SEED, train_on=train_on, out_dir=out)
    review(
        segments=segments,
        suggestions=suggestions,
        **sources,
        codebook=cfg.codebook,
        redact_names=cfg.redact_names,
        labels=labels,
        unit=cfg.review_unit,
        out_dir=out,
    )
    tables = {"segments": segments, "coded_segments": coded, **demand.result(), **agreement.result()}
    tables |= {"suggestions": suggestions, "themes": found.result(), "quotes": bank.result(), **quality.result()}
    if cfg.focus_groups is not None or cfg.survey is not None:
        tables |= other(
            focus_groups=cfg.focus_groups,
            survey=cfg.survey,
            survey_id_column=cfg.survey_id_column,
            survey_text_columns=cfg.survey_text_columns,
            codebook=cfg.codebook,
            redact_names=cfg.redact_names,
            speaker_pattern=cfg.speaker_pattern,
            speaker_roles=cfg.speaker_roles,
            out_dir=out,
        )
    return publish(STUDY, config, tables, inputs)
