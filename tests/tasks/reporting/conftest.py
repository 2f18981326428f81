"""Seminar-brief fixtures shared by the reporting tests: the demo brief content (with and without every
optional table) and its HTML. Session-scoped: built once for the four brief test modules, and no test changes
them (a test that needs other content builds a new BriefContent)."""

from __future__ import annotations

from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest

from insats.tasks.reporting.brief import (
    BriefContent,
    render_brief,
)
from tests.helpers.brief_content import RULES, SHA


@pytest.fixture(scope="session")
def content() -> BriefContent:
    profile = pd.DataFrame(
        {
            "code_id": ["KOMP.SVENSKA", "KOMP.PUNKTLIGHET", "KOMP.KORKORT"],
            "label": ["Svenska språket", "Punktlighet", "Körkort"],
            "label_en": ["Swedish language skills", "Punctuality", "Driving licence"],
            "n_employers": [17, 11, 3],
            "n_employers_total": [20, 20, 20],
            "share_employers": [0.85, 0.55, 0.15],
            "rank": [1, 2, 3],
        }
    )
    alignment = pd.DataFrame(
        {
            "intervention_id": ["INS01", "INS02", "INS03"],
            "name": [
                "Jobbspåret – Supported Employment (IPS)",
                "Arbetsträning på Återbruket",
                "<b>Öppen</b> & co",
            ],
            "method_family": ["supported_employment", "work_practice", "other"],
            "alignment_score": [0.9247, 0.3548, 0.0],
            "matched_competencies": ["KOMP.SVENSKA;KOMP.PUNKTLIGHET", "KOMP.PUNKTLIGHET", ""],
            "n_competencies": [2, 1, 0],
        }
    )
    candidates = pd.DataFrame(
        {
            "intervention_id": ["INS01", "INS02", "INS03"],
            "name": alignment["name"],
            "method_family": alignment["method_family"],
            "n_participants": [12345, 3, 0],
            "alignment_score": alignment["alignment_score"],
            "eligible": [True, False, False],
            "reason_codes": ["chosen", "too_few_treated", "too_few_treated"],
            "rank": [1, 2, 3],
            "n_treated": [12345, 3, 0],
            "n_comparison": [9000, 9000, 9000],
            "base_rate": [0.2, 0.2, 0.2],
            "mde": [0.01, 0.5, np.nan],
            "n_studies": [10, 5, 0],
            "n_positive_studies": [8, 2, 0],
            **RULES,
        }
    )
    effects = pd.DataFrame(
        {
            "intervention_id": ["INS01", "INS02"],
            "outcome": ["self_sufficient", "self_sufficient"],
            "horizon_months": [12, 12],
            "estimator": ["psm_nn", "psm_nn"],
            "att": [0.1534, 0.4321],
            "se": [0.03, 0.2],
            "ci_low": [0.0946, 0.0401],
            "ci_high": [0.2122, 0.8241],
            "p_value": [0.00001, 0.03],
            "n_treated": [412, 3],
            "n_controls": [1234, 40],
            "n_treated_unmatched": [3, 0],
        }
    )
    rng = np.random.default_rng(7)
    covariates = ["months_on_assistance_12", "age", "born_abroad"]
    balance = pd.DataFrame(
        [
            {
                "intervention_id": iid,
                "covariate": cov,
                "mean_treated": 0.5,
                "mean_control_before": 0.4,
                "mean_control_after": 0.49,
                "smd_before": rng.normal(0, 0.3),
                "smd_after": rng.normal(0, 0.03),
            }
            for iid in ("INS01", "INS02")
            for cov in covariates
        ]
    )
    history = pd.DataFrame(
        {
            "flow_run_name": ["brave-otter", "calm-fox"],
            "study": ["study1", "study3"],
            "state": ["COMPLETED", "FAILED"],
            "start_time": pd.to_datetime(["2025-10-02T08:00:00Z", "2025-10-03T09:10:00Z"]),
            "duration_seconds": [12.34, 1234.5],
            "config_hash": ["a" * 64, "b" * 64],
            "failure_reason": [None, "ValueError: spells.sav: row 4"],
        }
    )
    manifests = {
        "study1": {
            "inputs": [{"path": "data/raw/transcripts/E01.txt", "sha256": "c" * 64}],
            "config_hash": "d" * 64,
            "code_version": "0.1.0",
            "flow_run_id": "0b8e-flow-run",
        },
        "study3": {"inputs": {"spells.sav": {"sha256": "e" * 64}}, "config_hash": "f" * 64},
    }
    return BriefContent(
        quarter="2025 Q4",
        generated_at=datetime(2025, 11, 23, 12, 50, tzinfo=UTC),
        demand_profile=profile,
        alignment=alignment,
        candidates=candidates,
        effects=effects,
        balance=balance,
        history=history,
        manifests=manifests,
        disclosure_threshold=5,
    )


@pytest.fixture(scope="session")
def html_en(content: BriefContent) -> str:
    return render_brief(content, "en")


@pytest.fixture(scope="session")
def html_sv(content: BriefContent) -> str:
    return render_brief(content, "sv")


PUBLISHED_CODES = [
    "chosen",
    "too_few_treated;too_few_comparison;mde_too_large",
    "too_few_treated",
    "too_few_treated",
]


@pytest.fixture(scope="session")
def full(content: BriefContent) -> BriefContent:
    """The base content with every optional table (issues 6-8) and the candidates as study 2 now publishes them.

    INS05 has 120 participants but 86 starters: its reason words the starters (the rule), not the
    participants. INS02 has 3 starters and 4 comparison persons (both hidden, and the MDE
    computed from them)."""
    candidates = pd.DataFrame(
        {
            "intervention_id": ["INS01", "INS02", "INS03", "INS05"],
            "name": ["Jobbspåret", "Arbetsträning", "Öppen", "Återbruket"],
            "method_family": ["supported_employment", "work_practice", "other", "work_practice"],
            "n_participants": [460, 3, 0, 120],
            "alignment_score": [0.9247, 0.3548, 0.0, 0.2838],
            "eligible": [True, False, False, False],
            "reason_codes": PUBLISHED_CODES,
            "rank": [1, 2, 3, 4],
            "n_treated": [315, 3, 0, 86],
            "n_comparison": [2619, 4, 2300, 2585],
            "base_rate": [0.216, 0.3, 0.23, 0.2147],
            "mde": [0.0724, 0.449, np.nan, 0.1375],
            "n_studies": [10, 5, 0, 5],
            "n_positive_studies": [8, 2, 0, 2],
            **RULES,
        }
    )
    profile = content.demand_profile.assign(ci_low=[0.6396, 0.3421, 0.0524], ci_high=[0.9476, 0.7418, 0.3604])
    changes = {
        "inputs": pd.DataFrame(
            {
                "study": ["study3", "study1", "study3", "study1"],
                "input": ["spells.sav", "E21.txt", "old.csv", "E01.txt"],
                "status": ["changed", "new", "removed", "unchanged"],
                "sha256_before": [SHA["1"], None, SHA["3"], SHA["4"]],
                "sha256_now": [SHA["2"], SHA["5"], None, SHA["4"]],
            }
        ),
        "tables": pd.DataFrame({"study": ["study1"], "table": ["quotes"], "rows_before": [30], "rows_now": [36]}),
        "estimates": pd.DataFrame(
            {
                "intervention_id": ["INS01", "INS01", "INS02", "INS09"],
                "outcome": ["self_sufficient", "employed", "self_sufficient", "self_sufficient"],
                "horizon_months": [12, 12, 12, 12],
                "estimator": ["psm_nn", "psm_nn", "psm_nn", "psm_nn"],
                "att_before": [0.1012, 0.05, np.nan, 0.2],
                "ci_low_before": [0.0211, 0.0, np.nan, 0.1],
                "ci_high_before": [0.1813, 0.1, np.nan, 0.3],
                "att_now": [0.1534, 0.07, 0.4321, np.nan],
                "ci_low_now": [0.0946, 0.02, 0.0401, np.nan],
                "ci_high_now": [0.2122, 0.12, 0.8241, np.nan],
                "change": [0.0522, 0.02, np.nan, np.nan],
                "ci_overlap": [True, True, None, None],
            }
        ),
        "runs": pd.DataFrame({"study": ["study1", "study3"], "state": ["COMPLETED", "FAILED"], "runs": [2, 1]}),
    }
    validation = pd.DataFrame(
        {
            "study": ["study1", "study1", "study3"],
            "item": ["E01.txt", "demand_profile", "effects"],
            "kind": ["input", "output", "output"],
            "suite": ["", "employer_interviews.demand_profile v1", "outcome_evaluation.effects v2"],
            "rows": [None, 8, 12345],
            "sha256": [SHA["6"][:12], SHA["7"][:12], SHA["8"][:12]],
            "status": ["passed", "passed", "failed"],
        }
    )
    stats = {
        "agreement": 0.98,
        "kappa": 0.8585,
        "kappa_ci_low": 0.6793,
        "kappa_ci_high": 0.9618,
        "alpha": 0.8587,
        "alpha_ci_low": 0.6782,
        "alpha_ci_high": 0.962,
    }
    reliability = pd.DataFrame(
        [
            {"code_id": code, "coder_a": a, "coder_b": b, "n_segments": n, "n_a": 9, "n_b": 8, **stats}
            for a, b, n in (("kodare_a", "kodare_b", 144), ("kodare_a", "auto", 158))
            for code in ("KOMP.SVENSKA", "SYN.POSITIV", "(alla koder)")
        ]
    )
    reliability.loc[(reliability["coder_b"] == "auto") & (reliability["code_id"] == "(alla koder)"), "kappa"] = 0.6123
    quotes = pd.DataFrame(
        {
            "code_id": ["KOMP.SVENSKA"] * 5 + ["KOMP.KORKORT", "SYN.POSITIV"],
            "quote_no": [1, 2, 3, 4, 5, 1, 1],
            "interview_id": ["E01", "E02", "E03", "E04", "E05", "E06", "E07"],
            "segment_id": ["E01-1", "E02-1", "E03-1", "E04-1", "E05-1", "E06-1", "E07-1"],
            "negated": [False, True, False, False, False, True, False],
            "quote": [
                "Svenskan är A och O för oss.",
                "Vi kräver inte perfekt svenska.",
                "Man måste förstå instruktioner, ring 121212-1212.",
                "Språket avgör mest.",
                "En femte om språket.",
                "Vi kräver inte körkort.",
                "Praktiken fungerade bra.",
            ],
        }
    )
    gaps = pd.DataFrame(
        {
            "code_id": ["KOMP.KORKORT"],
            "label": ["Körkort"],
            "label_en": ["Driving licence"],
            "share_employers": [0.15],
            "rank": [3],
            "addressed_by_not_ongoing": ["INS06"],
        }
    )
    evidence = pd.DataFrame(
        {
            "method_family": ["coordinator", "supported_employment"],
            "n_studies": [6, 10],
            "n_rct": [1, 3],
            "designs": ["rct 1; quasi_experimental 1; observational 3; qualitative 1", "rct 3; observational 7"],
            "n_positive": [3, 8],
            "n_null": [3, 2],
            "n_negative": [0, 0],
            "n_mixed": [0, 0],
            "share_positive": [0.5, 0.8],
            "countries": ["Denmark; Norway", "Norway; Sweden; USA"],
        }
    )
    return BriefContent(
        **{
            **content.__dict__,
            "demand_profile": profile,
            "candidates": candidates,
            "previous_quarter": "2025 Q3",
            "changes": changes,
            "validation": validation,
            "reliability": reliability,
            "quotes": quotes,
            "coverage_gaps": gaps,
            "evidence": evidence,
        }
    )


@pytest.fixture(scope="session")
def full_html(full: BriefContent) -> dict[str, str]:
    return {lang: render_brief(full, lang) for lang in ("en", "sv")}
