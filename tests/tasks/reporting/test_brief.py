"""Seminar brief: self-contained HTML in English and Swedish, suppression of small counts, figures."""

from __future__ import annotations

import base64
import re
from datetime import UTC, datetime

import numpy as np
import pandas as pd
import pytest
from markupsafe import escape

from insats.demo.participants import AS_OF, ENROLMENT_WINDOW, LADDER, TARGETS, make_participant_demo
from insats.tasks.disclosure import protect_for_publication
from insats.tasks.mapping.figures import alignment_heatmap
from insats.tasks.participants.figures import enrolment_figure
from insats.tasks.participants.goals import goal_attainment, publishable_goal_table, targets_from_dict
from insats.tasks.participants.ladder import ladder_from_dict
from insats.tasks.participants.measures import enrolment_by_month, participant_steps, project_measures
from insats.tasks.participants.tables import suppress_table
from insats.tasks.reporting import figures
from insats.tasks.reporting.brief import (
    COUNT_COLUMNS,
    PERSON_COUNT_COLUMNS,
    BriefContent,
    candidate_reason,
    render_brief,
)
from insats.tasks.reporting.i18n import format_ci, format_number, format_percent

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"
# The limits study 2 publishes with each candidate (insats.tasks.mapping.candidates.CANDIDATE_COLUMNS).
RULES = {"min_treated": 100, "min_comparison": 50, "max_mde": 0.15, "support": "none", "min_alignment": 0.2,
         "min_positive_studies": 1}  # fmt: skip


@pytest.fixture(scope="module")
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


@pytest.fixture(scope="module")
def html_en(content: BriefContent) -> str:
    return render_brief(content, "en")


@pytest.fixture(scope="module")
def html_sv(content: BriefContent) -> str:
    return render_brief(content, "sv")


def _cells(html: str, column: str) -> list[str]:
    return re.findall(rf'<td data-col="{column}"[^>]*>([^<]*)</td>', html)


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_self_contained(lang: str, html_en: str, html_sv: str) -> None:
    html = html_en if lang == "en" else html_sv
    assert html.startswith("<!DOCTYPE html>")
    assert f'<html lang="{lang}">' in html
    assert '<meta charset="utf-8">' in html
    assert "http://" not in html and "https://" not in html and 'src="http' not in html
    assert "<script" not in html.lower() and "<link" not in html.lower()
    sources = re.findall(r'<img src="([^"]+)"', html)
    assert len(sources) == 4  # demand profile, alignment, effects, balance
    for src in sources:
        assert src.startswith("data:image/png;base64,")
        assert base64.b64decode(src.split(",", 1)[1], validate=True).startswith(PNG_MAGIC)


def test_english_content(html_en: str) -> None:
    assert "<title>Seminar brief 2025 Q4</title>" in html_en
    assert "Generated 23 November 2025, 12:50 UTC" in html_en
    assert "<em>egenförsörjning</em>" in html_en  # Swedish terms in italics
    assert "Jobbspåret – Supported Employment (IPS)" in html_en
    assert "0.92" in html_en and "12,345" in html_en  # English number format
    assert "[0.095, 0.212]" in html_en
    assert _cells(html_en, "state") == ["Completed", "Failed"]
    assert _cells(html_en, "config_hash") == ["a" * 12, "b" * 12]
    assert "dddddddddddd" in html_en and "eeeeeeeeeeee" in html_en and "0b8e-flow-run" in html_en
    assert "data/raw/transcripts/E01.txt" in html_en
    assert "Disclosure control" in html_en and "1 to 4" in html_en


def test_swedish_content(html_sv: str) -> None:
    assert "<title>Underlag för återföringsseminarium 2025 Q4</title>" in html_sv
    assert "Skapat 23 november 2025 kl. 12.50 UTC" in html_sv
    for ch in "åäöÅÖ":
        assert ch in html_sv
    assert "0,92" in _cells(html_sv, "alignment_score")
    assert "12\u00a0345" in _cells(html_sv, "n_participants")  # thousands separator: no-break space
    assert "85,0\u00a0%" in _cells(html_sv, "share_employers")
    assert "[0,095; 0,212]" in _cells(html_sv, "ci")
    assert _cells(html_sv, "duration_seconds") == ["12,3", "1\u00a0234,5"]
    for term in ("Egenförsörjning", "insatser", "matchning", "konfidensintervall", "Röjandekontroll"):
        assert term in html_sv
    assert _cells(html_sv, "state") == ["Slutförd", "Misslyckad"]
    assert _cells(html_sv, "eligible") == ["Ja", "Nej", "Nej"]


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_small_counts_never_shown(lang: str, html_en: str, html_sv: str) -> None:
    html = html_en if lang == "en" else html_sv
    shown = {col: _cells(html, col) for col in COUNT_COLUMNS}
    assert all(shown.values())
    for col, cells in shown.items():
        assert "3" not in cells, col
        assert all(not re.fullmatch(r"[1-4]", c) for c in cells), col
    assert shown["n_participants"][1] == ".."  # INS02 has 3 participants
    assert shown["n_treated"] == ["412", ".."]
    assert shown["n_treated_unmatched"] == ["..", "0"]
    assert shown["n_participants"][2] == "0"  # zero is shown
    # The reason must not leak the count, and estimates from 3 treated are hidden.
    assert not any("3" in r for r in _cells(html, "reason")[1:])
    assert _cells(html, "att")[1] == "–" and _cells(html, "ci")[1] == "–"
    assert "0.432" not in html and "0,432" not in html
    assert _cells(html, "max_smd_after")[1] == "–"
    assert ".." in html.split('id="appendix"')[1]  # the notation is explained


def test_data_are_escaped(html_en: str) -> None:
    assert "<b>Öppen</b>" not in html_en
    assert "&lt;b&gt;Öppen&lt;/b&gt; &amp; co" in html_en


def test_bad_input(content: BriefContent) -> None:
    with pytest.raises(ValueError, match="language"):
        render_brief(content, "de")
    broken = BriefContent(**{**content.__dict__, "effects": content.effects.drop(columns=["n_controls"])})
    with pytest.raises(ValueError, match=r"table 'effects' lacks column\(s\) n_controls"):
        render_brief(broken, "en")


def test_empty_history_and_manifest(content: BriefContent) -> None:
    empty = BriefContent(**{**content.__dict__, "history": pd.DataFrame(), "manifests": {}})
    html = render_brief(empty, "sv")
    assert "Inga uppgifter för kvartalet." in html and "Inget manifest registrerat." in html


def test_figures_are_deterministic_png(content: BriefContent) -> None:
    calls = [
        (figures.demand_profile_figure, content.demand_profile),
        (figures.alignment_figure, content.alignment),
        (figures.effect_figure, content.effects),
        (figures.balance_figure, content.balance),
    ]
    for func, data in calls:
        for lang in ("en", "sv"):
            png = func(data, lang)
            assert png.startswith(PNG_MAGIC)
            assert func(data.copy(), lang) == png, func.__name__
    assert figures.effect_figure(content.effects.iloc[0:0], "en").startswith(PNG_MAGIC)
    assert figures.demand_profile_figure(content.demand_profile, "en") != figures.demand_profile_figure(
        content.demand_profile, "sv"
    )


def test_number_formats() -> None:
    assert format_number(12345.6, "sv", 1) == "12\u00a0345,6"
    assert format_number(12345.6, "en", 1) == "12,345.6"
    assert format_number(-0.0001, "en", 2) == "0.00"
    assert format_percent(0.125, "sv") == "12,5\u00a0%" and format_percent(0.125, "en") == "12.5%"
    assert format_ci(-0.1, 0.25, "sv", 2) == "[-0,10; 0,25]"
    assert format_number(None, "sv") == "–"


def test_studies_not_yet_run_render_as_no_data(content: BriefContent) -> None:
    early = BriefContent(
        **{
            **content.__dict__,
            "effects": pd.DataFrame(),
            "balance": pd.DataFrame(),
            "candidates": pd.DataFrame(),
        }
    )
    html = render_brief(early, "en")
    assert html.count("No data for this quarter.") == 3  # candidates, effects and balance tables
    assert _cells(html, "n_treated") == [] and _cells(html, "att") == []
    assert len(re.findall(r'<img src="data:image/png;base64,', html)) == 4


def test_missing_count_is_not_shown_as_suppressed(content: BriefContent) -> None:
    effects = content.effects.assign(n_treated_unmatched=[np.nan, 0])
    html = render_brief(BriefContent(**{**content.__dict__, "effects": effects}), "en")
    assert _cells(html, "n_treated_unmatched") == ["–", "0"]
    assert _cells(html, "n_treated") == ["412", ".."]


# ------------------------------------------------------------------ participant flow (issue 5)

# Two extra targets on small groups: "Pilot" (3 participants moved out of Vägen vidare, so its counts are 1..4
# and suppressed at threshold 5) and Vägen vidare's self-sufficient exits (5..9: shown at 5, hidden at 10).
EXTRA_TARGETS = [
    {"name": "Pilot: hälften med stegförflyttning", "name_en": "Pilot: half with an upward step",
     "measure": "share_upward", "threshold": 0.5, "project": "Pilot"},
    {"name": "Vägen vidare: 20 % egenförsörjda", "name_en": "Vägen vidare: 20% self-sufficient",
     "measure": "share_self_sufficient", "threshold": 0.2, "project": "Vägen vidare"},
]  # fmt: skip
JUDGEMENTS = {
    "en": {"met": "Met", "partly_met": "Partly met", "not_met": "Not met", "not_assessable": "Not assessable"},
    "sv": {
        "met": "Uppfyllt",
        "partly_met": "Delvis uppfyllt",
        "not_met": "Inte uppfyllt",
        "not_assessable": "Kan inte bedömas",
    },
}
SMALL = re.compile(r"(?<![\d.,])[1-4](?![\d.,])")  # a standalone number 1..4


@pytest.fixture(scope="module")
def flow_raw() -> tuple[pd.DataFrame, pd.DataFrame]:
    """Unsuppressed goal-attainment and enrolment tables computed from the seeded demo documentation."""
    demo = make_participant_demo(2026)
    people = demo.participants.copy()
    people.loc[people.index[people["project"] == "Vägen vidare"][:3], "project"] = "Pilot"
    steps = participant_steps(people, demo.statuses, ladder_from_dict(LADDER), AS_OF)
    enrolment = enrolment_by_month(people, AS_OF)
    targets = targets_from_dict({"targets": [*TARGETS["targets"], *EXTRA_TARGETS]})
    return goal_attainment(targets, project_measures(steps), enrolment), enrolment


@pytest.fixture(scope="module")
def flow_published(flow_raw: tuple[pd.DataFrame, pd.DataFrame]) -> tuple[pd.DataFrame, pd.DataFrame]:
    """The tables as the participant flow publishes them (threshold 5)."""
    goals, enrolment = flow_raw
    return publishable_goal_table(goals, 5), suppress_table("enrolment", enrolment, 5)


@pytest.fixture(scope="module")
def flow_content(content: BriefContent, flow_published: tuple[pd.DataFrame, pd.DataFrame]) -> BriefContent:
    goals, enrolment = flow_published
    return BriefContent(**{**content.__dict__, "goal_attainment": goals, "enrolment": enrolment})


@pytest.fixture(scope="module")
def flow_html(flow_content: BriefContent) -> dict[str, str]:
    return {lang: render_brief(flow_content, lang) for lang in ("en", "sv")}


def _images(html: str) -> list[bytes]:
    return [base64.b64decode(s, validate=True) for s in re.findall(r'<img src="data:image/png;base64,([^"]+)"', html)]


def _section(html: str) -> str:
    return html.split('<section id="participant-flow">')[1].split("</section>")[0]


def _expected_enrolment_png(
    enrolment: pd.DataFrame,
    threshold: int,
    target: float | None,
    lang: str,
    window: tuple[str | None, str | None] = ENROLMENT_WINDOW,
) -> bytes:
    total = suppress_table("enrolment", enrolment, threshold)
    return enrolment_figure(total[total["project"] == "all"], target, window, "all", lang)


def test_flow_fixture_has_small_and_hidden_cells(flow_published: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    goals, enrolment = flow_published
    pilot = goals[goals["project"] == "Pilot"].iloc[0]
    assert bool(pilot["suppressed"]) and pd.isna(pilot["denominator"]) and pd.isna(pilot["value"])
    vv = goals[goals["project"] == "Vägen vidare"].iloc[0]
    assert 5 <= vv["numerator"] < 10 and not vv["suppressed"]
    assert enrolment.loc[enrolment["project"] == "Pilot", "suppressed"].any()


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_participant_flow_section(
    lang: str, flow_html: dict[str, str], flow_published: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    html = flow_html[lang]
    goals, _ = flow_published
    heading = {"en": "Participant flow and goal attainment", "sv": "Deltagarflöde och måluppfyllelse"}[lang]
    assert f"<h2>{heading}</h2>" in html
    # after study 3, before the run history
    assert html.index('id="study3"') < html.index('id="participant-flow"') < html.index('id="history"')
    section = _section(html)
    targets = goals["target_en" if lang == "en" else "target"].tolist()
    assert _cells(section, "target") == [str(escape(x)) for x in targets]
    assert _cells(section, "judgement") == [JUDGEMENTS[lang][j] for j in goals["judgement"]]
    for paragraph in goals[f"paragraph_{lang}"]:
        assert f'<p class="goal">{escape(paragraph)}</p>' in section
    upward = goals.index[(goals["measure"] == "share_upward") & (goals["project"] == "all")][0]
    value = format_percent(goals.loc[upward, "value"], lang)
    basis = f"{goals.loc[upward, 'numerator']} / {goals.loc[upward, 'denominator']}"
    assert (_cells(section, "value")[upward], _cells(section, "basis")[upward]) == (value, basis)
    assert _cells(section, "threshold")[upward] == format_percent(1.0, lang, 0).join(["≥ ", ""])


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_participant_flow_translations(lang: str, flow_html: dict[str, str]) -> None:
    section = _section(flow_html[lang])
    if lang == "sv":
        assert "Måluppfyllelse" in section and "Bedömning" in section and "Alla projekt" in section
        assert "Delvis uppfyllt" in section and "Partly met" not in section
        assert "andel deltagare med dokumenterad stegförflyttning" in _cells(section, "measure")
    else:
        assert "Goal attainment" in section and "Judgement" in section and "All projects" in section
        assert "Partly met" in section and "uppfyllt" not in section.lower()
        assert "share of participants with a documented upward step" in _cells(section, "measure")


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_participant_flow_never_shows_small_counts(
    lang: str, flow_html: dict[str, str], flow_published: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    goals, _ = flow_published
    section = _section(flow_html[lang])
    pilot = int(goals.index[goals["project"] == "Pilot"][0])
    value, basis = _cells(section, "value")[pilot], _cells(section, "basis")[pilot]
    assert value == "–"  # the share of a hidden count is not shown either
    assert basis in (".. / ..", "0 / ..")
    assert not SMALL.search(value) and not SMALL.search(basis)
    paragraph = re.findall(r'<p class="goal">([^<]*)</p>', section)[pilot]
    assert ".." in paragraph and not SMALL.search(paragraph.split("):", 1)[1])


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_enrolment_figure_is_embedded_with_the_target(
    lang: str, flow_html: dict[str, str], flow_raw: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    html = flow_html[lang]
    sources = re.findall(r'<img src="([^"]+)"', _section(html))
    assert len(sources) == 1 and sources[0].startswith("data:image/png;base64,")
    png = base64.b64decode(sources[0].split(",", 1)[1], validate=True)
    assert png.startswith(PNG_MAGIC)
    assert len(_images(html)) == 5
    # project "all", enrolment suppressed, the target line at the enrolled-every-month goal's threshold (40)
    # over the planted window 2022-01..2023-12 (inferred: the goal table has months_assessed, not the window)
    assert png == _expected_enrolment_png(flow_raw[1], 5, 40.0, lang)
    assert png != _expected_enrolment_png(flow_raw[1], 5, None, lang)
    assert png != _expected_enrolment_png(flow_raw[1], 5, 40.0, lang, (None, None))


def test_enrolment_target_window(content: BriefContent, flow_published: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    """An explicit window (first_month/last_month) is used; a trailing window that does not reproduce the
    goal row's months below target is not guessed: the target line then spans every month."""
    goals, enrolment = flow_published
    enrol_row = goals["measure"] == "enrolled_every_month"

    def png(table: pd.DataFrame) -> bytes:
        return _images(
            render_brief(BriefContent(**{**content.__dict__, "goal_attainment": table, "enrolment": enrolment}), "en")
        )[-1]

    explicit = goals.assign(first_month=None, last_month=None)
    explicit.loc[enrol_row, ["first_month", "last_month"]] = ["2022-06", "2023-03"]
    assert png(explicit) == _expected_enrolment_png(enrolment, 5, 40.0, "en", ("2022-06", "2023-03"))
    inconsistent = goals.copy()
    inconsistent.loc[enrol_row, "months_below"] = inconsistent.loc[enrol_row, "months_below"] + 1
    assert png(inconsistent) == _expected_enrolment_png(enrolment, 5, 40.0, "en", (None, None))


def test_brief_suppresses_again_with_its_own_threshold(
    flow_content: BriefContent, flow_raw: tuple[pd.DataFrame, pd.DataFrame]
) -> None:
    """Tables published at threshold 5 shown in a brief with threshold 10: Vägen vidare's 5..9
    self-sufficient exits must be hidden in the table, the paragraph and the figure."""
    strict = BriefContent(**{**flow_content.__dict__, "disclosure_threshold": 10})
    html = render_brief(strict, "en")
    section = _section(html)
    goals = flow_content.goal_attainment
    assert goals is not None
    vv = int(goals.index[goals["project"] == "Vägen vidare"][0])
    number = int(goals.loc[vv, "numerator"])
    assert _cells(section, "value")[vv] == "–"
    assert _cells(section, "basis")[vv].startswith(".. / ")
    paragraph = re.findall(r'<p class="goal">([^<]*)</p>', section)[vv]
    assert ".. of" in paragraph and f"{number} of" not in paragraph
    assert f"{number} of" in goals.loc[vv, "paragraph_en"]  # the published paragraph did show it
    assert _images(html)[-1] == _expected_enrolment_png(flow_raw[1], 10, 40.0, "en")


def test_unsuppressed_enrolment_and_missing_total(
    content: BriefContent,
    flow_published: tuple[pd.DataFrame, pd.DataFrame],
    flow_raw: tuple[pd.DataFrame, pd.DataFrame],
) -> None:
    """Raw enrolment is suppressed before drawing; without "all" rows the total is the sum of the projects."""
    raw = flow_raw[1]
    expected = _expected_enrolment_png(raw, 5, 40.0, "sv")
    assert (raw.loc[raw["project"] == "all", "n_enrolled"].between(1, 4)).any()  # small months to hide
    for enrolment in (raw, raw[raw["project"] != "all"]):
        brief = BriefContent(**{**content.__dict__, "goal_attainment": flow_published[0], "enrolment": enrolment})
        assert _images(render_brief(brief, "sv"))[-1] == expected


def test_participant_flow_absent_or_empty(content: BriefContent, html_en: str, html_sv: str) -> None:
    assert content.goal_attainment is None and content.enrolment is None  # defaults keep old callers working
    assert 'id="participant-flow"' not in html_en and "Participant flow" not in html_en
    assert "Deltagarflöde" not in html_sv
    empty = BriefContent(**{**content.__dict__, "goal_attainment": pd.DataFrame()})
    html = render_brief(empty, "en")
    section = _section(html)
    assert "Participant flow and goal attainment" in section and "No data for this quarter." in section
    assert "<img" not in section and len(_images(html)) == 4


def test_participant_flow_bad_input(content: BriefContent, flow_published: tuple[pd.DataFrame, pd.DataFrame]) -> None:
    goals, enrolment = flow_published
    bad = goals.assign(judgement=["met", "maybe", *goals["judgement"][2:]])
    with pytest.raises(ValueError, match=r"goal_attainment', row 1: judgement 'maybe'"):
        render_brief(BriefContent(**{**content.__dict__, "goal_attainment": bad}), "en")
    with pytest.raises(ValueError, match=r"table 'goal_attainment' lacks column\(s\) numerator"):
        render_brief(BriefContent(**{**content.__dict__, "goal_attainment": goals.drop(columns="numerator")}), "en")
    with pytest.raises(ValueError, match=r"table 'enrolment' lacks column\(s\) n_enrolled"):
        render_brief(BriefContent(**{**content.__dict__, "enrolment": enrolment.drop(columns="n_enrolled")}), "en")


# ------------------------------------------------- what changed, validation, study 1 and 2 details (issues 6-8)

SHA = {k: k * 64 for k in "0123456789"}
PUBLISHED_CODES = [
    "chosen",
    "too_few_treated;too_few_comparison;mde_too_large",
    "too_few_treated",
    "too_few_treated",
]


@pytest.fixture(scope="module")
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


@pytest.fixture(scope="module")
def full_html(full: BriefContent) -> dict[str, str]:
    return {lang: render_brief(full, lang) for lang in ("en", "sv")}


def _part(html: str, anchor: str) -> str:
    """The HTML of the element opened by ``id="<anchor>"`` up to the next heading of the same or a higher level."""
    rest = html.split(f'id="{anchor}"', 1)[1]
    return re.split(r'<(?:section|div) id="|</section>', rest, maxsplit=1)[0]


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_changes_section(lang: str, full_html: dict[str, str]) -> None:
    html = full_html[lang]
    heading = {"en": "What changed since 2025 Q3", "sv": "Förändringar sedan 2025 Q3"}[lang]
    assert f"<h2>{heading}</h2>" in html
    assert html.index('id="changes"') < html.index('id="study1"')  # near the top
    inputs = _part(html, "changes-inputs")
    status = {"en": ["Changed", "New", "Removed"], "sv": ["Ändrad", "Ny", "Borttagen"]}[lang]
    assert _cells(inputs, "status") == status  # unchanged inputs are not listed, only counted
    assert _cells(inputs, "input") == ["spells.sav", "E21.txt", "old.csv"]
    assert _cells(inputs, "sha256_before") == [SHA["1"][:12], "–", SHA["3"][:12]]
    assert _cells(inputs, "sha256_now") == [SHA["2"][:12], SHA["5"][:12], "–"]
    assert SHA["1"][:13] not in html and SHA["4"][:12] not in inputs
    assert {"en": "1 input(s) unchanged.", "sv": "1 indatafil(er) oförändrade."}[lang] in inputs
    tables = _part(html, "changes-tables")
    assert (_cells(tables, "table"), _cells(tables, "rows_before"), _cells(tables, "rows_now")) == (
        ["quotes"],
        ["30"],
        ["36"],
    )
    est = _part(html, "changes-estimates")
    # only INS01 self-sufficiency exists in both and is shown in the brief's effects; INS02 is new
    assert _cells(est, "intervention_id") == ["INS01"]
    assert _cells(est, "att_before") == [format_number(0.1012, lang, 3)]
    assert _cells(est, "ci_before") == [format_ci(0.0211, 0.1813, lang)]
    assert _cells(est, "ci_now") == [format_ci(0.0946, 0.2122, lang)]
    assert _cells(est, "change") == [format_number(0.0522, lang, 3)]
    assert _cells(est, "ci_overlap") == [{"en": "Yes", "sv": "Ja"}[lang]]
    new = {"en": "New estimates this quarter: INS02", "sv": "Nya skattningar detta kvartal: INS02"}[lang]
    gone = {"en": "Estimates no longer reported: INS09", "sv": "Skattningar som inte längre redovisas: INS09"}[lang]
    assert new in est and gone in est
    assert {"en": "1 further estimate(s)", "sv": "Ytterligare 1 skattning(ar)"}[lang] in est  # INS01 employment
    runs = _part(html, "changes-runs")
    assert _cells(runs, "runs") == ["2", "1"]
    assert _cells(runs, "state") == {"en": ["Completed", "Failed"], "sv": ["Slutförd", "Misslyckad"]}[lang]


def test_changes_hide_suppressed_estimates(full: BriefContent) -> None:
    """INS02's current estimate rests on 3 treated: a change row for it shows no current value."""
    changes = dict(full.changes or {})
    est = changes["estimates"].copy()
    est.loc[2, ["att_before", "ci_low_before", "ci_high_before", "change", "ci_overlap"]] = [0.4, 0.1, 0.7, 0.03, True]
    html = render_brief(BriefContent(**{**full.__dict__, "changes": {**changes, "estimates": est}}), "en")
    part = _part(html, "changes-estimates")
    assert _cells(part, "intervention_id") == ["INS01", "INS02"]
    assert _cells(part, "att_now")[1] == "–" and _cells(part, "ci_now")[1] == "–"
    assert "0.432" not in html


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_first_brief(lang: str, html_en: str, html_sv: str) -> None:
    html = html_en if lang == "en" else html_sv
    part = _part(html, "changes")
    first = {"en": "This is the first brief", "sv": "Detta är det första underlaget"}[lang]
    assert first in part and "<table" not in part


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_validation_section(lang: str, full_html: dict[str, str]) -> None:
    html = full_html[lang]
    part = html.split('<section id="validation">')[1].split("</section>")[0]
    assert {"en": "Data validation status", "sv": "Validering av data"}[lang] in part
    assert html.index('id="participant-flow"' if 'id="participant-flow"' in html else 'id="study3"') < html.index(
        'id="validation"'
    )
    failures = _part(part, "open-failures")
    assert 'class="alert"' in part.split('id="open-failures"')[0][-30:]
    assert _cells(failures, "flow_run_name") == ["calm-fox"]
    assert _cells(failures, "failure_reason") == ["ValueError: spells.sav: row 4"]
    assert _cells(failures, "resolved") == [{"en": "No", "sv": "Nej"}[lang]]
    table = part.split("</div>", 1)[1]
    assert _cells(table, "item") == ["effects", "E01.txt", "demand_profile"]  # failed first
    status = {"en": ["Failed", "Passed", "Passed"], "sv": ["Underkänd", "Godkänd", "Godkänd"]}[lang]
    assert _cells(table, "status") == status
    assert _cells(table, "suite")[0] == "outcome_evaluation.effects v2" and _cells(table, "suite")[1] == "–"
    assert _cells(table, "rows")[0] == {"en": "12,345", "sv": "12\u00a0345"}[lang]
    # the failure is flagged in the header too
    alert = {"en": "1 failed run(s) this quarter", "sv": "1 misslyckad(e) körning(ar) detta kvartal"}[lang]
    assert alert in html.split("</header>")[0]


def test_optional_sections_absent_by_default(html_en: str, html_sv: str) -> None:
    for html in (html_en, html_sv):
        for anchor in ("validation", "reliability", "quotes", "coverage-gaps", "evidence"):
            assert f'id="{anchor}"' not in html, anchor
        assert 'id="changes"' in html  # says that this is the first brief


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_profile_ci_reliability_and_quotes(lang: str, full_html: dict[str, str]) -> None:
    html = full_html[lang]
    ci = _cells(html, "share_ci")
    sep = "; " if lang == "sv" else ", "
    assert ci[0] == f"[{format_percent(0.6396, lang)}{sep}{format_percent(0.9476, lang)}]"
    rel = _part(html, "reliability")
    assert {"en": "Inter-coder reliability", "sv": "Samstämmighet mellan kodare"}[lang] in rel
    main = rel.split("</table>")[0]
    all_codes = {"en": "All codes", "sv": "Alla koder"}[lang]
    label = {"en": "Swedish language skills", "sv": "Svenska språket"}[lang]
    assert _cells(main, "label") == [label, "SYN.POSITIV", all_codes]  # human pair only, overall last
    assert _cells(main, "n_segments") == ["144"] * 3
    assert _cells(main, "kappa")[0] == format_number(0.8585, lang, 2)
    assert _cells(main, "kappa_ci")[0] == format_ci(0.6793, 0.9618, lang, 2)
    assert _cells(main, "alpha_ci")[0] == format_ci(0.6782, 0.962, lang, 2)
    pairs = rel.split("</table>")[1]
    assert _cells(pairs, "coder_b") == ["kodare_b", "auto"]
    assert _cells(pairs, "kappa") == [format_number(0.8585, lang, 2), format_number(0.6123, lang, 2)]
    quotes = _part(html, "quotes")
    shown = re.findall(r'<p class="quote">([^<]*)</p>', quotes)
    # top 3 competencies; non-negated only; at most 3 per competency; KOMP.KORKORT has only a negated one
    assert shown == [
        "Svenskan är A och O för oss.",
        "Man måste förstå instruktioner, ring [PERSONNUMMER].",
        "Språket avgör mest.",
    ]
    assert "121212" not in html and "kräver inte" not in html
    assert {"en": "interview E01", "sv": "intervju E01"}[lang] in quotes


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_coverage_gaps_evidence_and_heatmap(lang: str, full: BriefContent, full_html: dict[str, str]) -> None:
    html = full_html[lang]
    gaps = _part(html, "coverage-gaps")
    assert _cells(gaps, "label") == [{"en": "Driving licence", "sv": "Körkort"}[lang]]
    assert _cells(gaps, "addressed_by_not_ongoing") == ["INS06"]
    assert _cells(gaps, "share_employers") == [format_percent(0.15, lang)]
    ev = _part(html, "evidence")
    assert {"en": "Research evidence per method family", "sv": "Forskningsstöd per metodfamilj"}[lang] in ev
    assert _cells(ev, "n_studies") == ["10", "6"]
    assert _cells(ev, "share_positive") == [format_percent(0.8, lang, 0), format_percent(0.5, lang, 0)]
    if lang == "sv":
        assert _cells(ev, "countries") == ["Norge; Sverige; USA", "Danmark; Norge"]
        assert "kvasiexperimentell 1" in _cells(ev, "designs")[1]
        assert _cells(ev, "method_family")[1] == "Samverkanskoordinator"
    else:
        assert _cells(ev, "designs")[1] == "RCT 1; quasi-experimental 1; observational 3; qualitative 1"
    study2 = html.split('<section id="study2">')[1].split("</section>")[0]
    images = _images(study2)
    al = full.alignment.sort_values(["alignment_score", "intervention_id"], ascending=[False, True])
    inventory = pd.DataFrame({"intervention_id": al["intervention_id"], "competencies": al["matched_competencies"]})
    assert images == [alignment_heatmap(inventory, full.demand_profile, lang)]
    assert lang == "en" or images[0] != alignment_heatmap(inventory, full.demand_profile, "en")  # Swedish labels


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_candidates_reasons_worded_from_codes_and_suppressed(lang: str, full_html: dict[str, str]) -> None:
    html = full_html[lang]
    study2 = html.split('<section id="study2">')[1].split("</section>")[0]
    reasons = _cells(study2, "reason")
    assert _cells(study2, "intervention_id")[-4:] == ["INS01", "INS02", "INS03", "INS05"]
    assert _cells(study2, "n_starters") == ["315", "..", "0", "86"]
    assert _cells(study2, "n_comparison")[:2] == [{"en": "2,619", "sv": "2\u00a0619"}[lang], ".."]
    assert _cells(study2, "mde")[1] == "–" and _cells(study2, "base_rate")[1] == "–"  # computed from hidden counts
    assert _cells(study2, "mde")[0] == format_number(7.24, lang, 1)
    if lang == "en":
        assert reasons[0] == (
            "Chosen: 315 starters and 2,619 comparison persons in the register, minimum detectable effect 7.2 pp; "
            "alignment 0.92; 8 positive stud(ies) of the method family"
        )
        assert reasons[1] == (
            "Not chosen: too few starters in the register (.. &lt; 100); too few eligible comparison persons "
            "(.. &lt; 50); minimum detectable effect too large (– &gt; 15.0 pp)"
        )
        assert reasons[3] == "Not chosen: too few starters in the register (86 &lt; 100)"  # not "participants"
    else:
        assert reasons[0].startswith("Vald: 315 deltagare som påbörjat insatsen och 2\u00a0619 jämförelsepersoner")
        assert "7,2 procentenheter" in reasons[0] and "matchning 0,92" in reasons[0]
        assert reasons[1].startswith("Inte vald: för få deltagare som påbörjat insatsen i registret (.. &lt; 100)")
        assert reasons[3] == "Inte vald: för få deltagare som påbörjat insatsen i registret (86 &lt; 100)"
    assert not any(SMALL.search(r.replace("..", "")) for r in reasons[1:3])


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_no_small_number_in_any_person_count_cell(lang: str, full_html: dict[str, str]) -> None:
    html = full_html[lang]
    seen = 0
    for col in PERSON_COUNT_COLUMNS:
        for cell in _cells(html, col):
            seen += 1
            assert not re.fullmatch(r"[1-4]", cell), (col, cell)
            assert not SMALL.search(cell.replace("..", "").replace("\u00a0", "")), (col, cell)
    assert seen >= 15
    assert all(_cells(html, col) for col in PERSON_COUNT_COLUMNS)


def _candidate(threshold: int, **values: object) -> dict:
    """One candidates row after the brief's disclosure control."""
    row = {"intervention_id": "X", "alignment_score": 0.35, "n_positive_studies": 3, "mde": 0.449, **RULES, **values}
    derived = {"n_treated": ["mde"], "n_comparison": ["mde"]}
    return protect_for_publication(pd.DataFrame([row]), threshold, ["n_treated", "n_comparison"], derived).iloc[0]


def test_candidate_reason() -> None:
    """The reason is worded from the codes; person counts 1..T-1 are written <T (zeros kept, studies are not
    persons), and an MDE computed from a hidden count is an en dash."""
    few = _candidate(5, reason_codes="too_few_treated", n_treated=3, n_comparison=60)
    assert candidate_reason(few.to_dict(), 5, "en") == "Not chosen: too few starters in the register (.. < 100)"
    assert candidate_reason(few.to_dict(), 5, "sv") == (
        "Inte vald: för få deltagare som påbörjat insatsen i registret (.. < 100)"
    )
    none = _candidate(5, reason_codes="too_few_treated", n_treated=0, n_comparison=60)
    assert candidate_reason(none.to_dict(), 5, "en").endswith("(0 < 100)")
    codes = "too_few_treated;no_support"
    kept = _candidate(5, reason_codes=codes, n_treated=7, n_comparison=60, support="evidence", min_positive_studies=4)
    assert candidate_reason(kept.to_dict(), 5, "en") == (
        "Not chosen: too few starters in the register (7 < 100); not supported by the evidence or employers' "
        "demand (3 positive stud(ies), alignment 0.35; need 4 positive stud(ies))"
    )
    strict = _candidate(10, reason_codes=codes, n_treated=7, n_comparison=60, support="evidence")
    assert "(.. < 100)" in candidate_reason(strict.to_dict(), 10, "en")
    hidden = _candidate(5, reason_codes="too_few_comparison;mde_too_large", n_treated=300, n_comparison=3)
    assert candidate_reason(hidden.to_dict(), 5, "en") == (
        "Not chosen: too few eligible comparison persons (.. < 50); minimum detectable effect too large (– > 15.0 pp)"
    )
    assert "(– > 15,0 procentenheter)" in candidate_reason(hidden.to_dict(), 5, "sv")
    with pytest.raises(ValueError, match="unknown reason code.*too_few_people"):
        candidate_reason(
            _candidate(5, reason_codes="too_few_people", n_treated=300, n_comparison=60).to_dict(), 5, "en"
        )


@pytest.mark.parametrize("lang", ["en", "sv"])
def test_studies_without_outputs_are_named_not_failed(lang: str, content: BriefContent) -> None:
    """A brief builds from whichever studies have validated outputs and says which are missing."""
    only_study1 = BriefContent(
        quarter="2025 Q4", generated_at=content.generated_at, demand_profile=content.demand_profile
    )
    html = render_brief(only_study1, lang)
    missing = {"en": "Not yet available", "sv": "Ännu inte tillgängligt"}[lang]
    assert missing not in _part(html, "study1") and _cells(html, "share_employers")
    for anchor in ("study2", "study3"):
        assert missing in _part(html, anchor) and "<table" not in _part(html, anchor)
    header = html.split("</header>")[0]
    assert {
        "en": "Study 2 (intervention mapping); Study 3",
        "sv": "Delstudie 2 (kartläggning av insatser); Delstudie 3",
    }[lang] in header
    nothing = render_brief(BriefContent(quarter="2025 Q4", generated_at=content.generated_at), lang)
    assert nothing.count(missing) == 3 and "<img" not in nothing
    # a study with one of its core tables: the other says it is not available
    partial = BriefContent(**{**content.__dict__, "balance": None})
    study3 = _part(render_brief(partial, lang), "study3")
    no_table = {
        "en": "Not yet available (no validated table).",
        "sv": "Ännu inte tillgängligt (ingen validerad tabell).",
    }
    assert _cells(study3, "att") and no_table[lang] in study3
    assert 'id="missing-studies"' not in render_brief(content, lang)


def test_new_tables_bad_input(full: BriefContent) -> None:
    for name, table, column in (
        ("reliability", full.reliability, "kappa_ci_low"),
        ("quotes", full.quotes, "negated"),
        ("validation", full.validation, "status"),
        ("coverage_gaps", full.coverage_gaps, "share_employers"),
    ):
        assert table is not None
        broken = BriefContent(**{**full.__dict__, name: table.drop(columns=column)})
        with pytest.raises(ValueError, match=rf"table '{name}' lacks column\(s\) {column}"):
            render_brief(broken, "en")
