"""Seminar brief: study 1 and 2 details - profile, coverage gaps, candidates and their reasons (issue 8)."""

from __future__ import annotations

import re

import pandas as pd
import pytest

from insats.tasks.disclosure import protect_for_publication
from insats.tasks.mapping.figures import alignment_heatmap
from insats.tasks.reporting.brief import (
    PERSON_COUNT_COLUMNS,
    BriefContent,
    candidate_reason,
    render_brief,
)
from insats.tasks.reporting.i18n import format_ci, format_number, format_percent
from tests.helpers.brief_content import RULES, SMALL, _cells, _images, _part


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
