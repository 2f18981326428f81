"""Seminar brief: self-contained HTML in English and Swedish, escaping, number formats, figures."""

from __future__ import annotations

import base64
import re

import numpy as np
import pandas as pd
import pytest

from insats.tasks.reporting import figures
from insats.tasks.reporting.brief import (
    COUNT_COLUMNS,
    BriefContent,
    render_brief,
)
from insats.tasks.reporting.i18n import format_ci, format_number, format_percent
from tests.helpers.brief_content import PNG_MAGIC, _cells


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
