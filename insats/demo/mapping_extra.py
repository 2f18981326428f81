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
"""

from __future__ import annotations

import csv
import json
from pathlib import Path
from typing import Any

import numpy as np
import yaml

N_WORKS = 260
N_RELEVANT = 30
N_DOI_DUPES = 12
N_TITLE_DUPES = 8
N_SCREENED = 60
N_RESPONDENTS = 36

SURVEY_TOOLS: tuple[str, ...] = (
    "bip_indikatorer",
    "skapa",
    "af_arbetsformaga",
    "icf_kartlaggning",
    "stegmodell",
    "egen_mall",
    "annat",
)
SURVEY_PURPOSES: tuple[str, ...] = ("mapping", "work_capacity", "progression")
SURVEY_FREQUENCIES: tuple[str, ...] = ("daily", "weekly", "monthly", "rarely")

SURVEY_CODEBOOK: dict[str, Any] = {
    "name": "Handläggares kommentarer om bedömningsverktyg",
    "version": "1.0",
    "codes": [
        {
            "id": "VERKTYG",
            "label": "Synpunkter på bedömningsverktyg",
            "label_en": "Views on assessment tools",
            "definition": "Teman i fritextsvar om verktyg för kartläggning och bedömning.",
            "children": [
                {
                    "id": "VERKTYG.TID",
                    "label": "Tidskrävande",
                    "label_en": "Time-consuming",
                    "definition": "Verktyget tar mycket tid att använda.",
                    "keywords": ["tidskrävande", "tar tid", "hinner"],
                },
                {
                    "id": "VERKTYG.DIALOG",
                    "label": "Stöd i samtalet",
                    "label_en": "Supports the conversation",
                    "definition": "Verktyget strukturerar samtalet med den sökande.",
                    "keywords": ["samtal", "dialog"],
                },
                {
                    "id": "VERKTYG.UPPFOLJNING",
                    "label": "Synliggör progression",
                    "label_en": "Shows progression",
                    "definition": "Verktyget visar förändring över tid.",
                    "keywords": ["uppföljning", "progression", "förflyttning"],
                },
                {
                    "id": "VERKTYG.SPRAK",
                    "label": "Språkhinder",
                    "label_en": "Language barriers",
                    "definition": "Frågorna är svåra att förstå eller kräver tolk.",
                    "keywords": ["tolk", "språkbarriär", "översättning"],
                },
                {
                    "id": "VERKTYG.DOKUMENTATION",
                    "label": "Dubbeldokumentation",
                    "label_en": "Duplicate documentation",
                    "definition": "Resultaten måste föras in i flera system.",
                    "keywords": ["dokumentation", "verksamhetssystem"],
                },
            ],
        }
    ],
}

_COMMENT_SENTENCES: dict[str, tuple[str, ...]] = {
    "VERKTYG.TID": (
        "Det är tidskrävande att gå igenom alla frågor.",
        "Formuläret tar tid som jag hellre lägger på annat.",
        "Jag hinner sällan göra hela bedömningen.",
    ),
    "VERKTYG.DIALOG": (
        "Frågorna ger ett bra samtal med den sökande.",
        "Det öppnar för en dialog om vad personen själv vill.",
    ),
    "VERKTYG.UPPFOLJNING": (
        "Bra för uppföljning efter tre månader.",
        "Vi ser personens progression tydligt.",
    ),
    "VERKTYG.SPRAK": (
        "Många behöver tolk för att förstå frågorna.",
        "Det finns en språkbarriär i flera av påståendena.",
    ),
    "VERKTYG.DOKUMENTATION": (
        "All dokumentation måste göras två gånger.",
        "Resultaten går inte att föra in i verksamhetssystemet.",
    ),
}
_NEUTRAL_SENTENCES = ("Jag använder det mest med nya ärenden.", "Kollegorna gör likadant.", "Ingen mer kommentar.")

_RELEVANT_METHODS = {
    "supported_employment": ("Supported employment", "Individual placement and support"),
    "coordinator": ("Case management and coordination", "A coordinator model"),
    "work_practice": ("Work practice", "Workplace training"),
    "subsidised_employment": ("Subsidised employment", "Wage subsidies"),
    "education": ("Vocational education", "Adult vocational training"),
    "joint_assessment": ("Joint multi-agency assessment", "An interdisciplinary assessment team"),
}
_POPULATIONS = (
    "social assistance recipients",
    "welfare recipients",
    "long-term recipients of social assistance",
    "people receiving means-tested benefits",
)
_REL_OUTCOMES = ("employment", "self-sufficiency", "exit from social assistance", "earnings and employment")
_REL_SENTENCES = (
    "We study the effect on employment and self-sufficiency among recipients of social assistance.",
    "Participants were followed in administrative registers for welfare receipt and earnings.",
    "The intervention targeted long-term welfare recipients referred by municipal social services.",
    "Outcomes were exit from social assistance and entry into paid work after twelve months.",
    "The comparison group received the usual activation offered to benefit claimants.",
)
_OTHER_TOPICS = (
    ("Blood pressure control", "hypertension", "patients in primary care", "cardiovascular events"),
    ("School readiness", "preschool pedagogy", "children aged four", "reading scores"),
    ("Housing first", "homelessness services", "rough sleepers", "housing stability"),
    ("Pension reform", "retirement age", "older workers", "retirement timing"),
    ("Antibiotic stewardship", "prescribing", "hospital wards", "resistance rates"),
    ("Teacher turnover", "school leadership", "secondary schools", "staff retention"),
    ("Graduate labour markets", "university degrees", "young graduates", "wage premia"),
    ("Fidelity measurement", "fidelity scales", "mental health services", "scale reliability"),
    ("Child protection", "foster care placements", "children in care", "placement stability"),
    ("Diabetes self-management", "patient education", "adults with type 2 diabetes", "HbA1c"),
)
_OTHER_SENTENCES = (
    "Data came from a cross-sectional survey.",
    "We report descriptive statistics and regression estimates.",
    "The findings have implications for practice and policy.",
    "A mixed-methods design combined interviews with administrative data.",
    "Limitations include a small sample and self-reported measures.",
)
_NEAR_MISS_SENTENCES = (
    "Supported employment programmes were studied for their implementation in psychiatric care.",
    "The fidelity of individual placement and support was rated by external reviewers.",
    "Families receiving social assistance reported poorer child health.",
    "Employment rates of the parents were used as a control variable.",
    "Welfare recipients were over-represented among the respondents.",
)
_SURNAMES = (
    "Bond", "Drake", "Andersson", "Åström", "Löfgren", "Häggström", "Nilsson", "Card", "Kluve", "Weber",
    "Hansen", "Markussen", "Røed", "Bäckman", "Ek", "Persson", "Lindqvist", "Öberg", "Jensen", "Sianesi",
)  # fmt: skip
_GIVEN = ("A.", "B. K.", "C.", "D. R.", "E.", "G. R.", "H.", "J.", "K. M.", "L.", "M.", "P.", "S.", "T.")
_JOURNALS = (
    "Nordic Journal of Social Research",
    "Journal of Vocational Rehabilitation",
    "Labour Economics",
    "Socialvetenskaplig tidskrift",
    "Scandinavian Journal of Public Health",
)
_DESIGNS = ("RCT", "quasi_experimental", "observational", "qualitative")
_COUNTRIES = ("Sweden", "Norway", "Denmark", "Finland", "Netherlands", "USA")


def _work(rng: np.random.Generator, i: int, relevant: bool, family: str | None) -> dict[str, Any]:
    n_auth = int(rng.integers(1, 5))
    authors = [f"{_SURNAMES[int(rng.integers(len(_SURNAMES)))]}, {_GIVEN[int(rng.integers(len(_GIVEN)))]}"]
    authors += [
        f"{_SURNAMES[int(k)]}, {_GIVEN[int(k) % len(_GIVEN)]}" for k in rng.integers(len(_SURNAMES), size=n_auth - 1)
    ]
    if relevant:
        assert family is not None
        method = _RELEVANT_METHODS[family][int(rng.integers(2))]
        pop = _POPULATIONS[int(rng.integers(len(_POPULATIONS)))]
        out = _REL_OUTCOMES[int(rng.integers(len(_REL_OUTCOMES)))]
        title = f"{method} for {pop}: effects on {out} (study {i})"
        sentences = list(rng.choice(_REL_SENTENCES, size=3, replace=False)) + list(rng.choice(_OTHER_SENTENCES, size=1))
        keywords = ["social assistance", "employment", method.lower()]
        if i % 9 == 4:  # hard inclusions: a vague title and no abstract, as some database records are
            title, sentences, keywords = f"Evaluation of a municipal labour market programme (study {i})", [], []
    else:
        topic = _OTHER_TOPICS[int(rng.integers(len(_OTHER_TOPICS)))]
        title = f"{topic[0]} and {topic[1]} among {topic[2]}: {topic[3]} (study {i})"
        sentences = [f"This study examines {topic[1]} among {topic[2]}.", f"The main outcome was {topic[3]}."]
        sentences += list(rng.choice(_OTHER_SENTENCES, size=2, replace=False))
        if rng.random() < 0.3:  # near misses: method, population or outcome words in another topic
            sentences.append(_NEAR_MISS_SENTENCES[int(rng.integers(len(_NEAR_MISS_SENTENCES)))])
        keywords = [topic[1], topic[3]]
    if i == 7:  # one Swedish-language record keeps å ä ö through every format
        title = f"Arbetsmarknadsinsatser för personer med försörjningsstöd – en översikt (studie {i})"
    rng.shuffle(sentences)
    return {
        "title": title,
        "abstract": " ".join(sentences),
        "authors": authors,
        "year": int(rng.integers(2005, 2025)),
        "doi": f"10.{1000 + int(rng.integers(9000))}/demo.{i:04d}" if rng.random() < 0.7 else "",
        "journal": _JOURNALS[int(rng.integers(len(_JOURNALS)))],
        "keywords": keywords,
        "relevant": relevant,
        "family": family,
    }


def _title_variant(title: str) -> str:
    """Same title for the matching key: other case, punctuation and accents."""
    return title.upper().replace(":", " -").replace("(", "[").replace(")", "].").replace("Å", "A").replace("Ö", "O")


def make_mapping_extras(seed: int = 2026) -> dict[str, Any]:
    """Build the demo evidence-review and survey material in memory.

    Returns a dict with ``records`` (list of dicts: record_id, title, abstract, authors (list), year, doi,
    journal, keywords (list), file ("ris"/"bib"/"csv")), ``labels`` (record_id -> bool relevant, for every
    record incl. duplicates), ``extraction`` (list of row dicts), ``survey`` (list of row dicts), and
    ``truth`` (JSON-ready planted truths, see module docstring).
    """
    rng = np.random.default_rng(seed)
    families = list(_RELEVANT_METHODS)
    # Planted evidence: supported employment has the most (and most positive) studies.
    family_counts = {"supported_employment": 10, "coordinator": 6, "work_practice": 5, "subsidised_employment": 4,
                     "education": 3, "joint_assessment": 2}  # fmt: skip
    assert sum(family_counts.values()) == N_RELEVANT
    rel_families = [f for f in families for _ in range(family_counts[f])]
    rel_positions = sorted(rng.choice(np.arange(N_WORKS), size=N_RELEVANT, replace=False).tolist())
    family_at = dict(zip(rel_positions, rel_families, strict=True))
    works = [_work(rng, i, i in family_at, family_at.get(i)) for i in range(N_WORKS)]
    files = ["ris", "bib", "csv"]
    counters = {f: 0 for f in files}
    records: list[dict[str, Any]] = []

    def add(w: dict[str, Any], file: str, **changes: Any) -> str:
        counters[file] += 1
        rid = f"{file}-{counters[file]:04d}"
        records.append({**{k: w[k] for k in ("title", "abstract", "authors", "year", "doi", "journal", "keywords")},
                        **changes, "record_id": rid, "file": file, "relevant": w["relevant"]})  # fmt: skip
        return rid

    ids = [add(w, files[int(rng.choice(3, p=[0.45, 0.35, 0.2]))]) for w in works]
    duplicates: list[dict[str, str]] = []
    with_doi = [i for i, w in enumerate(works) if w["doi"]]
    without_doi = [i for i, w in enumerate(works) if not w["doi"]]
    # Traps, DOI duplicates and title duplicates are drawn from disjoint sets of works.
    traps = [int(i) for i in rng.choice(without_doi, size=5, replace=False)]
    # A duplicate is written to a file read AFTER its original's (ris, bib, csv), so the original is kept.
    early = {i for i in range(N_WORKS) if records[i]["file"] != "csv"}
    doi_dupes = [int(i) for i in rng.choice(sorted(early & set(with_doi)), size=N_DOI_DUPES, replace=False)]
    rest = [i for i in sorted(early) if i not in set(traps) | set(doi_dupes)]
    title_dupes = [int(i) for i in rng.choice(rest, size=N_TITLE_DUPES, replace=False)]
    for k, i in enumerate(doi_dupes):
        w = works[int(i)]
        later = files[files.index(records[int(i)]["file"]) + 1 :]
        other = later[k % len(later)]
        doi = f"https://doi.org/{w['doi'].upper()}" if k % 2 else f"doi: {w['doi']}"
        rid = add(w, other, doi=doi, abstract="" if k % 3 == 0 else w["abstract"], title=w["title"].lower())
        duplicates.append({"kept_id": ids[int(i)], "removed_id": rid, "rule": "doi"})
    for k, i in enumerate(title_dupes):
        w = works[int(i)]
        later = files[files.index(records[int(i)]["file"]) + 1 :]
        other = later[k % len(later)]
        first = w["authors"][0].split(",")[0]
        authors = [f"{w['authors'][0].split(', ')[1]} {first}", *w["authors"][1:]]  # "G. R. Bond" form
        rid = add(w, other, doi="", title=_title_variant(w["title"]), authors=authors)
        duplicates.append({"kept_id": ids[int(i)], "removed_id": rid, "rule": "title_year_author"})
    # Traps: look alike but are different works (distinct ids, no merge expected).
    n_trap = 0
    for k, i in enumerate(traps):
        w = dict(works[i])
        if k < 2:
            w = {**w, "year": w["year"] - 2}  # a report two years before the article
        elif k < 4:
            w = {**w, "authors": [f"Zetterberg, {_GIVEN[k]}", *w["authors"]]}  # another first author
        else:
            w = {**w, "doi": f"10.9999/erratum.{i:04d}"}
            rid0 = ids[i]
            records[[r["record_id"] for r in records].index(rid0)]["doi"] = f"10.9999/original.{i:04d}"
        add(w, files[k % 3])
        n_trap += 1
    labels = {r["record_id"]: bool(r["relevant"]) for r in records}
    dup_removed = {d["removed_id"] for d in duplicates}
    unique_ids = [r["record_id"] for r in records if r["record_id"] not in dup_removed]

    extraction = []
    direction_p = {"supported_employment": (0.8, 0.2, 0.0), "coordinator": (0.5, 0.5, 0.0),
                   "work_practice": (0.4, 0.4, 0.2), "subsidised_employment": (0.75, 0.25, 0.0),
                   "education": (0.34, 0.66, 0.0), "joint_assessment": (0.0, 1.0, 0.0)}  # fmt: skip
    for pos in rel_positions:
        fam = family_at[pos]
        p = direction_p[fam]
        n_fam = family_counts[fam]
        j = sum(1 for e in extraction if e["method_family"] == fam)
        # Deterministic directions: the first round(p * n) studies of a family are positive, then null, ...
        n_pos, n_null = round(p[0] * n_fam), round(p[1] * n_fam)
        direction = "positive" if j < n_pos else ("null" if j < n_pos + n_null else "negative")
        design = _DESIGNS[int(rng.integers(3 if fam == "supported_employment" else 4))]
        extraction.append({"record_id": ids[pos], "design": design,
                           "country": _COUNTRIES[int(rng.integers(len(_COUNTRIES)))],
                           "population": _POPULATIONS[int(rng.integers(len(_POPULATIONS)))],
                           "outcome": "employment", "effect_direction": direction, "method_family": fam})  # fmt: skip
    evidence = {
        fam: {
            "n_studies": sum(e["method_family"] == fam for e in extraction),
            "n_positive": sum(e["method_family"] == fam and e["effect_direction"] == "positive" for e in extraction),
        }
        for fam in families
    }

    survey, comment_codes = _make_survey(rng)
    truth = {
        "n_records": len(records),
        "n_unique": len(unique_ids),
        "n_traps": n_trap,
        "duplicates": duplicates,
        "relevant_unique": sorted(r for r in unique_ids if labels[r]),
        "evidence": evidence,
        "comment_codes": comment_codes,
        "n_respondents": N_RESPONDENTS,
    }
    return {"records": records, "labels": labels, "unique_ids": unique_ids, "extraction": extraction,
            "survey": survey, "truth": truth}  # fmt: skip


def _make_survey(rng: np.random.Generator) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Rows: respondent_id, unit, tool, tool_other, purpose (";"-joined), frequency, usefulness (1-5), comment."""
    rows = []
    counts = {c: 0 for c in _COMMENT_SENTENCES}
    usefulness_mean = {"bip_indikatorer": 4.0, "skapa": 3.6, "af_arbetsformaga": 2.6, "icf_kartlaggning": 3.2,
                       "stegmodell": 3.8, "egen_mall": 3.0, "annat": 3.0}  # fmt: skip
    purposes = {"bip_indikatorer": ("progression", "mapping"), "skapa": ("progression",),
                "af_arbetsformaga": ("work_capacity",), "icf_kartlaggning": ("mapping", "work_capacity"),
                "stegmodell": ("progression",), "egen_mall": ("mapping",), "annat": ("mapping",)}  # fmt: skip
    for r in range(1, N_RESPONDENTS + 1):
        unit = ("Arbetsmarknadsenheten", "Försörjningsstöd vuxna", "Unga vuxna")[r % 3]
        n_tools = int(rng.integers(1, 4))
        tools = rng.choice(SURVEY_TOOLS[:-1], size=n_tools, replace=False).tolist()
        if r % 9 == 0:
            tools.append("annat")
        for t in tools:
            codes = rng.choice(list(_COMMENT_SENTENCES), size=int(rng.integers(0, 3)), replace=False).tolist()
            sentences = [_COMMENT_SENTENCES[c][int(rng.integers(len(_COMMENT_SENTENCES[c])))] for c in codes]
            if rng.random() < 0.3:
                sentences.append(_NEUTRAL_SENTENCES[int(rng.integers(len(_NEUTRAL_SENTENCES)))])
            for c in codes:
                counts[c] += 1
            use = int(np.clip(round(rng.normal(usefulness_mean[t], 0.8)), 1, 5))
            rows.append({"respondent_id": f"H{r:03d}", "unit": unit, "tool": t,
                         "tool_other": "Motiverande samtal-guide (MI)" if t == "annat" else "",
                         "purpose": ";".join(purposes[t]),
                         "frequency": SURVEY_FREQUENCIES[int(rng.integers(len(SURVEY_FREQUENCIES)))],
                         "usefulness": use, "comment": " ".join(sentences)})  # fmt: skip
    return rows, counts


# ---------------------------------------------------------------------------------------------- writers


def _ris(records: list[dict[str, Any]]) -> str:
    out = []
    for r in records:
        out += ["TY  - JOUR", f"ID  - {r['record_id']}", f"TI  - {r['title']}"]
        out += [f"AU  - {a}" for a in r["authors"]]
        out.append(f"PY  - {r['year']}")
        if r["journal"]:
            out.append(f"JO  - {r['journal']}")
        if r["abstract"]:  # wrapped over two lines, as some databases export
            half = len(r["abstract"]) // 2
            cut = r["abstract"].find(" ", half)
            out += [f"AB  - {r['abstract'][:cut]}", f"      {r['abstract'][cut + 1:]}"] if cut > 0 else [
                f"AB  - {r['abstract']}"]  # fmt: skip
        out += [f"KW  - {k}" for k in r["keywords"]]
        if r["doi"]:
            out.append(f"DO  - {r['doi']}")
        out += ["ER  - ", ""]
    return "\n".join(out)


def _bib(records: list[dict[str, Any]]) -> str:
    out = ["@comment{Demo export from a literature database}", ""]
    for k, r in enumerate(records):
        authors = " and ".join(r["authors"])
        if k == 0:  # one entry with LaTeX escapes for Swedish letters
            authors = authors.replace("ö", '{\\"o}').replace("Å", "{\\AA}").replace("ä", '{\\"a}')
        fields = [f"  title = {{{r['title']}}}", f"  author = {{{authors}}}", f"  year = {r['year']}"]
        if r["journal"]:
            fields.append(f'  journal = "{r["journal"]}"')
        if r["abstract"]:
            fields.append(f"  abstract = {{{r['abstract']}}}")
        if r["keywords"]:
            fields.append(f"  keywords = {{{'; '.join(r['keywords'])}}}")
        if r["doi"]:
            fields.append(f"  doi = {{{r['doi']}}}")
        out.append(f"@article{{{r['record_id']},\n" + ",\n".join(fields) + "\n}\n")
    return "\n".join(out)


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
    paths["references_ris"].write_text(_ris([r for r in recs if r["file"] == "ris"]), encoding="utf-8")
    paths["references_bib"] = out_dir / "references.bib"
    paths["references_bib"].write_text(_bib([r for r in recs if r["file"] == "bib"]), encoding="utf-8")
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
