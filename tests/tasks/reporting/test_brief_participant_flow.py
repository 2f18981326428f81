"""Seminar brief: the participant-flow section, enrolment figure and goal table (issue 5)."""

from __future__ import annotations

import base64
import re

import pandas as pd
import pytest
from markupsafe import escape

from insats.demo.participants import AS_OF, ENROLMENT_WINDOW, LADDER, TARGETS, make_participant_demo
from insats.tasks.participants.figures import enrolment_figure
from insats.tasks.participants.goals import goal_attainment, publishable_goal_table, targets_from_dict
from insats.tasks.participants.ladder import ladder_from_dict
from insats.tasks.participants.measures import enrolment_by_month, participant_steps, project_measures
from insats.tasks.participants.tables import suppress_table
from insats.tasks.reporting.brief import (
    BriefContent,
    render_brief,
)
from insats.tasks.reporting.i18n import format_percent
from tests.helpers.brief_content import PNG_MAGIC, SMALL, _cells, _images

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
