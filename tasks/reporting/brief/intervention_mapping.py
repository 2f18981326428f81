"""Study 2 in the brief: alignment with employers' demand (table and heatmap), coverage gaps, research evidence
per method family, and the evaluation candidates with their reasons worded from the published codes.

Columns (suites ``schemas/intervention_mapping.<table>.json``):
- alignment: intervention_id, name, method_family, alignment_score, matched_competencies (';'-joined codes)
- candidates: intervention_id, name, n_participants, alignment_score, eligible, rank, reason_codes,
  n_treated, n_comparison, base_rate, mde, n_positive_studies and the rules' limits min_treated,
  min_comparison, max_mde, support, min_alignment, min_positive_studies (insats.tasks.mapping.candidates)
- coverage_gaps: code_id, label, label_en, share_employers, rank, addressed_by_not_ongoing
- evidence: method_family, n_studies, n_rct, designs, n_positive, n_null, n_negative, n_mixed,
  share_positive, countries
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from insats.tasks.disclosure import hidden_column
from insats.tasks.mapping.candidates import CHOSEN, REASON_CODES, REASON_SEPARATOR
from insats.tasks.mapping.figures import alignment_heatmap
from insats.tasks.reporting import figures
from insats.tasks.reporting.brief.common import (
    cell,
    code_labels,
    complete_if_empty,
    count_text,
    data_uri,
    header,
    present,
    protect,
    require,
    text,
)
from insats.tasks.reporting.i18n import (
    MISSING,
    countries_label,
    designs_label,
    format_int,
    format_number,
    format_percent,
    lookup,
    method_family_label,
    t,
    yes_no,
)

STUDY = "intervention_mapping"
# Candidates' counts and what is computed from them: the MDE from starters and comparison persons, the base
# rate from the comparison persons.
CANDIDATE_DERIVED: dict[str, list[str]] = {"n_treated": ["mde"], "n_comparison": ["mde", "base_rate"]}
CANDIDATE_REQUIRED: tuple[str, ...] = (
    "intervention_id",
    "name",
    "n_participants",
    "alignment_score",
    "eligible",
    "rank",
    "reason_codes",
    "n_treated",
    "n_comparison",
    "base_rate",
    "mde",
    "n_positive_studies",
    "min_treated",
    "min_comparison",
    "max_mde",
    "support",
    "min_alignment",
    "min_positive_studies",
)
SHOWN_COUNTS = {"n_treated": "n_starters"}  # data-col of a count shown under another name


def alignment_section(alignment: pd.DataFrame, profile: pd.DataFrame | None, lang: str) -> dict[str, Any]:
    """Interventions by alignment score with their matched competencies, and the heatmap (bars without a
    demand profile)."""
    alignment = complete_if_empty(alignment, STUDY, "alignment")
    require(alignment, ("intervention_id", "name", "method_family", "alignment_score"), "alignment")
    labels = code_labels(profile, lang)
    cols = ["intervention_id", "name", "method_family", "alignment_score", "matched_competencies"]
    al = alignment.sort_values(["alignment_score", "intervention_id"], ascending=[False, True], kind="mergesort")
    rows = []
    for rec in al.to_dict("records"):
        matched = [c for c in str(rec.get("matched_competencies") or "").split(";") if c]
        rows.append(
            [
                cell(str(rec["intervention_id"]), "intervention_id"),
                cell(text(rec["name"]), "name"),
                cell(method_family_label(rec["method_family"], lang), "method_family"),
                cell(format_number(rec["alignment_score"], lang, 2), "alignment_score", True),
                cell("; ".join(labels.get(c, c) for c in matched) or MISSING, "matched_competencies"),
            ]
        )
    heatmap = len(al) > 0 and profile is not None and len(profile) > 0 and {"rank", "share_employers"} <= set(profile)
    if heatmap:
        # The heatmap only draws demanded competencies, so the matched ones stand in for the inventory's list.
        inventory = pd.DataFrame(
            {"intervention_id": al["intervention_id"].astype(str), "competencies": al["matched_competencies"]}
        )
        png = alignment_heatmap(inventory, profile.assign(code_id=profile["code_id"].astype(str)), lang)
    else:
        png = figures.alignment_figure(al, lang)
    return {
        "header": header(cols, lang),
        "rows": rows,
        "figure": data_uri(png),
        "alt": t("figure_alt_heatmap" if heatmap else "figure_alt_alignment", lang),
        "caption": t("heatmap_caption", lang) if heatmap else None,
    }


def _points(share: Any, lang: str) -> str:
    """A proportion as percentage points with one decimal (``7.2 pp`` / ``7,2 procentenheter``)."""
    if not present(share):
        return MISSING
    return lookup("reasons", "percentage_points", lang).format(value=format_number(float(share) * 100, lang, 1))


def candidate_reason(rec: dict[str, Any], threshold: int, lang: str) -> str:
    """The reason of one candidates row, worded in ``lang`` from its ``reason_codes`` and numbers.

    ``rec`` is a row after disclosure control (:func:`insats.tasks.disclosure.protect_for_publication`): a
    hidden count is written ``<threshold``, an MDE computed from a hidden count as an en dash. Raises
    ValueError for a code that is not ``chosen`` or one of :data:`insats.tasks.mapping.candidates.REASON_CODES`.
    """
    codes = [c.strip() for c in str(rec.get("reason_codes") or "").split(REASON_SEPARATOR) if c.strip()]
    if not codes:
        return MISSING
    unknown = [c for c in codes if c != CHOSEN and c not in REASON_CODES]
    if unknown:
        raise ValueError(
            f"brief: table 'candidates', intervention {rec.get('intervention_id')!r}: unknown reason code(s) "
            f"{', '.join(unknown)}; expected {CHOSEN} or {', '.join(REASON_CODES)}"
        )
    numbers = {
        "n_treated": count_text(rec, "n_treated", threshold, lang),
        "n_comparison": count_text(rec, "n_comparison", threshold, lang),
        "min_treated": format_int(rec["min_treated"], lang),
        "min_comparison": format_int(rec["min_comparison"], lang),
        "mde": _points(rec["mde"], lang),
        "max_mde": _points(rec["max_mde"], lang),
        "alignment": format_number(rec["alignment_score"], lang, 2),
        "n_positive": format_int(rec["n_positive_studies"], lang),
    }
    support = str(rec.get("support") or "none")
    need = f"need_{support}"
    numbers["need"] = (
        lookup("reasons", need, lang).format(
            min_positive=format_int(rec["min_positive_studies"], lang),
            min_alignment=format_number(rec["min_alignment"], lang, 2),
        )
        if need in ("need_evidence", "need_alignment", "need_evidence_or_alignment")
        else MISSING
    )
    if codes == [CHOSEN]:
        return lookup("reasons", "chosen_prefix", lang) + lookup("reasons", CHOSEN, lang).format(**numbers)
    parts = [lookup("reasons", code, lang).format(**numbers) for code in codes if code != CHOSEN]
    return lookup("reasons", "not_chosen_prefix", lang) + lookup("reasons", "separator", lang).join(parts)


def candidates_section(candidates: pd.DataFrame, threshold: int, lang: str) -> dict[str, Any]:
    """Candidates by rank with their person counts after disclosure control (participants, starters,
    comparison persons; MDE and base rate hidden with the counts they are computed from) and the reason."""
    candidates = complete_if_empty(candidates, STUDY, "candidates")
    require(candidates, CANDIDATE_REQUIRED, "candidates")
    sup = protect(candidates, STUDY, "candidates", threshold, CANDIDATE_DERIVED)
    counts = ["n_participants", "n_treated", "n_comparison"]
    cols = ["rank", "intervention_id", "name", "n_participants", "n_starters", "n_comparison", "base_rate", "mde"]
    cols += ["alignment_score", "eligible", "reason"]
    rows = []
    for rec in sup.sort_values("rank", kind="mergesort").to_dict("records"):
        eligible = bool(rec["eligible"]) and not any(rec[hidden_column(c)] for c in counts)
        rows.append(
            [
                cell(format_int(rec["rank"], lang), "rank", True),
                cell(str(rec["intervention_id"]), "intervention_id"),
                cell(text(rec["name"]), "name"),
                *[cell(count_text(rec, c, threshold, lang), SHOWN_COUNTS.get(c, c), True) for c in counts],
                cell(format_percent(rec["base_rate"], lang), "base_rate", True),
                cell(format_number(rec["mde"] * 100 if present(rec["mde"]) else None, lang, 1), "mde", True),
                cell(format_number(rec["alignment_score"], lang, 2), "alignment_score", True),
                cell(yes_no(eligible, lang), "eligible"),
                cell(candidate_reason(rec, threshold, lang), "reason"),
            ]
        )
    return {"header": header(cols, lang), "rows": rows}


def coverage_gaps_section(gaps: pd.DataFrame | None, lang: str) -> dict | None:
    """Demanded competencies no ongoing intervention addresses (None without the table)."""
    if gaps is None:
        return None
    cols = ["rank", "label", "code_id", "share_employers", "addressed_by_not_ongoing"]
    rows = []
    if len(gaps):
        require(gaps, ("code_id", "share_employers", "rank"), "coverage_gaps")
        label_col = "label" if lang == "sv" else "label_en"
        for rec in gaps.sort_values(["rank", "code_id"], kind="mergesort").to_dict("records"):
            ended = rec.get("addressed_by_not_ongoing")
            ended = "; ".join(x.strip() for x in str(ended).split(";") if x.strip()) if present(ended) else ""
            rows.append(
                [
                    cell(format_int(rec["rank"], lang), "rank", True),
                    cell(text(rec.get(label_col, rec.get("label"))), "label"),
                    cell(str(rec["code_id"]), "code_id"),
                    cell(format_percent(rec["share_employers"], lang), "share_employers", True),
                    cell(ended or t("none", lang), "addressed_by_not_ongoing"),
                ]
            )
    return {"header": header(cols, lang), "rows": rows}


def evidence_section(evidence: pd.DataFrame | None, lang: str) -> dict | None:
    """Included studies per method family with designs and effect directions (None without the table)."""
    if evidence is None:
        return None
    directions = ["n_positive", "n_null", "n_negative", "n_mixed"]
    cols = ["method_family", "n_studies", "n_rct", "designs", *directions, "share_positive", "countries"]
    rows = []
    if len(evidence):
        require(evidence, ("method_family", "n_studies"), "evidence")
        ev = evidence.assign(**{c: None for c in cols if c not in evidence.columns})
        ev = ev.sort_values(["n_studies", "method_family"], ascending=[False, True], kind="mergesort")
        for rec in ev.to_dict("records"):
            rows.append(
                [
                    cell(method_family_label(rec["method_family"], lang), "method_family"),
                    cell(format_int(rec["n_studies"], lang), "n_studies", True),
                    cell(format_int(rec["n_rct"], lang), "n_rct", True),
                    cell(designs_label(rec["designs"], lang), "designs"),
                    *[cell(format_int(rec[c], lang), c, True) for c in directions],
                    cell(format_percent(rec["share_positive"], lang, 0), "share_positive", True),
                    cell(countries_label(rec["countries"], lang), "countries"),
                ]
            )
    return {"header": header(cols, lang), "rows": rows}
