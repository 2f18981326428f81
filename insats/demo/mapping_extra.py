"""Demo material for study 2's depth: a literature reference set, screening decisions, an extraction sheet,
a caseworker survey on assessment tools and a codebook for the survey's open comments.

Everything is deterministic for a seed. Planted truths (returned by :func:`make_mapping_extras`, also written
to ``truth_mapping.json``):

- References: ``N_WORKS`` distinct works (about 10 % relevant: labour-market interventions for people on
  social assistance with an employment or self-sufficiency outcome), spread over a RIS, a BibTeX and a CSV
  export, plus planted duplicates in another file: ``N_DOI_DUPES`` with the same DOI written differently and
  ``N_TITLE_DUPES`` without a DOI but with the same title (other case, punctuation, accents), year and first
  author. Traps that are NOT duplicates: same title in another year, same title and year with another first
  author, and an erratum (same title, year and author, another DOI). ``truth["duplicates"]`` lists every
  (kept_id, removed_id, rule) pair the de-duplication must report, no more.
- Screening: ``screening_full.csv`` decides every distinct work (include iff relevant), for the simulation
  mode; ``screening_decisions.csv`` holds the first ``N_SCREENED`` decisions of a review in progress.
- Extraction: one row per relevant work (design, country, population, outcome, effect direction, method
  family); ``truth["evidence"]`` gives the number of studies and of positive effects per method family.
- Survey: ``N_RESPONDENTS`` caseworkers, one row per respondent and tool; comments built from sentences whose
  codes are known, so coding with study 1's machinery must recover ``truth["comment_codes"]``.

The literature and extraction sheet are made in :mod:`insats.demo.mapping_references`, the survey in
:mod:`insats.demo.mapping_survey`; this module puts them together and writes the files.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from insats.demo.mapping_references import make_extraction, make_references, to_bibtex, to_ris
from insats.demo.mapping_survey import N_RESPONDENTS, SURVEY_CODEBOOK, make_survey

N_SCREENED = 60


def make_mapping_extras(seed: int = 2026) -> dict[str, Any]:
    """Build the demo evidence-review and survey material in memory.

    Returns a dict with ``records`` (list of dicts: record_id, title, abstract, authors (list), year, doi,
    journal, keywords (list), file ("ris"/"bib"/"csv")), ``labels`` (record_id -> bool relevant, for every
    record incl. duplicates), ``extraction`` (list of row dicts), ``survey`` (list of row dicts), and
    ``truth`` (JSON-ready planted truths, see module docstring).
    """
    rng = np.random.default_rng(seed)
    refs = make_references(rng)
    extraction, evidence = make_extraction(rng, refs)
    survey, comment_codes = make_survey(rng)
    records, labels, unique_ids = refs.records, refs.labels, refs.unique_ids
    truth = {
        "n_records": len(records),
        "n_unique": len(unique_ids),
        "n_traps": refs.n_traps,
        "duplicates": refs.duplicates,
        "relevant_unique": sorted(r for r in unique_ids if labels[r]),
        "evidence": evidence,
        "comment_codes": comment_codes,
        "n_respondents": N_RESPONDENTS,
    }
    return {"records": records, "labels": labels, "unique_ids": unique_ids, "extraction": extraction,
            "survey": survey, "truth": truth}  # fmt: skip


# ---------------------------------------------------------------------------------------------- writers


def _write_csv(path: Path, rows: list[dict[str, Any]], columns: list[str]) -> Path:
    with path.open("w", encoding="utf-8", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns, lineterminator="\n")
        w.writeheader()
        for row in rows:
            w.writerow({c: row.get(c, "") for c in columns})
    return path


def write_mapping_extras(out_dir: Path, seed: int = 2026) -> dict[str, Path]:
    """Write the demo material to ``out_dir`` (created; the lead's demo writes it under ``<demo>/mapping/``).

    Files (UTF-8): ``references.ris``, ``references.bib``, ``references.csv``, ``screening_decisions.csv``
    (record_id, decision, reason, reviewer, decided_on; a review in progress), ``screening_full.csv`` (every
    distinct work decided, for the simulation mode), ``extraction.csv``, ``survey.csv`` (one row per
    respondent and tool), ``survey_codebook.yaml`` and ``truth_mapping.json``. Returns name -> path.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    extras = make_mapping_extras(seed)
    recs = extras["records"]
    paths: dict[str, Path] = {}
    paths["references_ris"] = out_dir / "references.ris"
    paths["references_ris"].write_text(to_ris([r for r in recs if r["file"] == "ris"]), encoding="utf-8")
    paths["references_bib"] = out_dir / "references.bib"
    paths["references_bib"].write_text(to_bibtex([r for r in recs if r["file"] == "bib"]), encoding="utf-8")
    csv_rows = [{**r, "authors": "; ".join(r["authors"]), "keywords": "; ".join(r["keywords"])}
                for r in recs if r["file"] == "csv"]  # fmt: skip
    cols = ["record_id", "title", "authors", "year", "journal", "doi", "abstract", "keywords"]
    paths["references_csv"] = _write_csv(out_dir / "references.csv", csv_rows, cols)

    labels = extras["labels"]
    rng = np.random.default_rng(seed + 1)
    full = [
        {"record_id": rid, "decision": "include" if labels[rid] else "exclude",
         "reason": "" if labels[rid] else "not social assistance / no employment outcome",
         "reviewer": "demo", "decided_on": "2024-05-01"}
        for rid in extras["unique_ids"]
    ]  # fmt: skip
    dcols = ["record_id", "decision", "reason", "reviewer", "decided_on"]
    paths["screening_full"] = _write_csv(out_dir / "screening_full.csv", full, dcols)
    order = rng.permutation(len(full))
    # A review in progress: a random start that holds a few inclusions (ASReview's prior knowledge).
    partial = [full[int(i)] for i in order[:N_SCREENED]]
    if not any(p["decision"] == "include" for p in partial):
        partial.append(next(f for f in full if f["decision"] == "include"))
    for k, p in enumerate(partial):
        p["reviewer"] = ("Anna", "Björn")[k % 2]
    paths["screening_decisions"] = _write_csv(out_dir / "screening_decisions.csv", partial, dcols)
    ecols = ["record_id", "design", "country", "population", "outcome", "effect_direction", "method_family"]
    paths["extraction"] = _write_csv(out_dir / "extraction.csv", extras["extraction"], ecols)
    scols = ["respondent_id", "unit", "tool", "tool_other", "purpose", "frequency", "usefulness", "comment"]
    paths["survey"] = _write_csv(out_dir / "survey.csv", extras["survey"], scols)
    paths["survey_codebook"] = out_dir / "survey_codebook.yaml"
    paths["survey_codebook"].write_text(
        yaml.safe_dump(SURVEY_CODEBOOK, allow_unicode=True, sort_keys=False, width=1000), encoding="utf-8"
    )
    paths["truth"] = out_dir / "truth_mapping.json"
    paths["truth"].write_text(json.dumps(extras["truth"], indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return paths
