"""Demo literature for study 2: ``N_WORKS`` distinct works (about 10 % relevant) spread over three exports with
planted duplicates and look-alike traps, the extraction sheet of the relevant works, and the RIS and BibTeX
text of the exports. The planted truths are described in :mod:`insats.demo.mapping_extra`."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

N_WORKS = 260
N_RELEVANT = 30
N_DOI_DUPES = 12
N_TITLE_DUPES = 8

# Planted evidence: supported employment has the most (and most positive) studies.
FAMILY_COUNTS = {"supported_employment": 10, "coordinator": 6, "work_practice": 5, "subsidised_employment": 4,
                 "education": 3, "joint_assessment": 2}  # fmt: skip

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


@dataclass(frozen=True)
class ReferenceSet:
    """The demo reference records and what the de-duplication must find in them.

    ``records``: dicts with record_id, title, abstract, authors (list), year, doi, journal, keywords (list), file
    ("ris"/"bib"/"csv") and relevant; ``labels``: record_id -> relevant, for every record incl. duplicates;
    ``unique_ids``: the record ids left after de-duplication; ``ids``: the record id of each distinct work (by
    work number); ``family_at``: work number -> method family of each relevant work, in work order;
    ``duplicates``: the (kept_id, removed_id, rule) dicts the de-duplication must report; ``n_traps``: records
    that look like duplicates but are distinct works.
    """

    records: list[dict[str, Any]]
    labels: dict[str, bool]
    unique_ids: list[str]
    ids: list[str]
    family_at: dict[int, str]
    duplicates: list[dict[str, str]]
    n_traps: int


def make_references(rng: np.random.Generator) -> ReferenceSet:
    """Draw the works, spread them over the RIS, BibTeX and CSV exports and plant duplicates and traps."""
    families = list(_RELEVANT_METHODS)
    assert sum(FAMILY_COUNTS.values()) == N_RELEVANT
    rel_families = [f for f in families for _ in range(FAMILY_COUNTS[f])]
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
    return ReferenceSet(records, labels, unique_ids, ids, family_at, duplicates, n_trap)


def make_extraction(rng: np.random.Generator, refs: ReferenceSet) -> tuple[list[dict[str, Any]], dict[str, Any]]:
    """One extraction row per relevant work (record_id, design, country, population, outcome, effect_direction,
    method_family) and the planted evidence: method family -> {n_studies, n_positive}."""
    extraction: list[dict[str, Any]] = []
    direction_p = {"supported_employment": (0.8, 0.2, 0.0), "coordinator": (0.5, 0.5, 0.0),
                   "work_practice": (0.4, 0.4, 0.2), "subsidised_employment": (0.75, 0.25, 0.0),
                   "education": (0.34, 0.66, 0.0), "joint_assessment": (0.0, 1.0, 0.0)}  # fmt: skip
    for pos, fam in refs.family_at.items():
        p = direction_p[fam]
        n_fam = FAMILY_COUNTS[fam]
        j = sum(1 for e in extraction if e["method_family"] == fam)
        # Deterministic directions: the first round(p * n) studies of a family are positive, then null, ...
        n_pos, n_null = round(p[0] * n_fam), round(p[1] * n_fam)
        direction = "positive" if j < n_pos else ("null" if j < n_pos + n_null else "negative")
        design = _DESIGNS[int(rng.integers(3 if fam == "supported_employment" else 4))]
        extraction.append({"record_id": refs.ids[pos], "design": design,
                           "country": _COUNTRIES[int(rng.integers(len(_COUNTRIES)))],
                           "population": _POPULATIONS[int(rng.integers(len(_POPULATIONS)))],
                           "outcome": "employment", "effect_direction": direction, "method_family": fam})  # fmt: skip
    evidence = {
        fam: {
            "n_studies": sum(e["method_family"] == fam for e in extraction),
            "n_positive": sum(e["method_family"] == fam and e["effect_direction"] == "positive" for e in extraction),
        }
        for fam in _RELEVANT_METHODS
    }
    return extraction, evidence


def to_ris(records: list[dict[str, Any]]) -> str:
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


def to_bibtex(records: list[dict[str, Any]]) -> str:
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
