"""Seminar brief: what changed since the last brief, and the validation section (issues 6-7)."""

from __future__ import annotations

import pytest

from insats.tasks.reporting.brief import (
    BriefContent,
    render_brief,
)
from insats.tasks.reporting.i18n import format_ci, format_number
from tests.helpers.brief_content import SHA, _cells, _part


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
