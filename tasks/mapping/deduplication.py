"""Evidence review (study 2): removing duplicate records from a reference table
(:mod:`insats.tasks.mapping.reference_records`).

De-duplication (:func:`deduplicate`) merges records in two passes: (1) equal normalised DOI; (2) equal
normalised title + year + normalised first-author family name (accents, case and punctuation ignored),
but never two records whose DOIs are both present and different.
"""

from __future__ import annotations

import pandas as pd

from insats.tasks.mapping.reference_records import fold_text, normalise_doi

MERGE_REPORT_COLUMNS: tuple[str, ...] = ("kept_id", "removed_id", "rule", "doi", "title", "year", "first_author")


def deduplicate(refs: pd.DataFrame) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Merge duplicate records; returns ``(unique_records, merge_report)``.

    Pass 1 merges records with the same normalised DOI. Pass 2 merges records (or pass-1 groups) with the
    same :func:`fold_text` title, year and folded first-author family name, unless the group would then hold
    two different DOIs (a journal article and its erratum, say, stay apart). Records without a title do not
    take part in pass 2. Each group keeps its first record in input order; its empty fields (abstract, doi,
    journal, keywords, authors) are filled from the removed ones in order.

    ``unique_records``: the input columns, one row per group, in input order of the kept records.
    ``merge_report``: one row per removed record, columns :data:`MERGE_REPORT_COLUMNS`; ``rule`` is ``doi``
    or ``title_year_author`` (the pass that first joined it to the kept record's group).
    """
    missing = [c for c in ("record_id", "title", "year", "doi", "first_author") if c not in refs.columns]
    if missing:
        raise ValueError(f"references: missing column(s) {', '.join(missing)}")
    n = len(refs)
    parent = list(range(n))
    rule = [""] * n

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    dois = [normalise_doi(d) for d in refs["doi"]]
    first_by_doi: dict[str, int] = {}
    for i, d in enumerate(dois):
        if d:
            if d in first_by_doi:
                parent[i] = first_by_doi[d]
                rule[i] = "doi"
            else:
                first_by_doi[d] = i
    group_dois: dict[int, set[str]] = {}
    for i, d in enumerate(dois):
        if d:
            group_dois.setdefault(find(i), set()).add(d)

    first_by_key: dict[tuple[str, object, str], list[int]] = {}
    for i, (title, year, author) in enumerate(zip(refs["title"], refs["year"], refs["first_author"], strict=True)):
        t = fold_text(title)
        if not t:
            continue
        key = (t, None if pd.isna(year) else int(year), fold_text(author))
        roots = first_by_key.setdefault(key, [])
        ri = find(i)
        for r in roots:
            r = find(r)
            if r == ri:
                break
            da, db = group_dois.get(r, set()), group_dois.get(ri, set())
            if da and db and da != db:
                continue  # different DOIs: not the same work
            keep, drop = (r, ri) if r < ri else (ri, r)
            parent[drop] = keep
            group_dois[keep] = da | db
            group_dois.pop(drop, None)
            if not rule[drop]:
                rule[drop] = "title_year_author"
            ri = keep
            break
        else:
            roots.append(ri)

    roots = [find(i) for i in range(n)]
    out = refs.reset_index(drop=True).copy()
    fill = [c for c in ("abstract", "doi", "journal", "keywords", "authors", "first_author") if c in out.columns]
    report = []
    for i in range(n):
        r = roots[i]
        if r == i:
            continue
        for col in fill:
            if not str(out.at[r, col]) and str(out.at[i, col]):
                out.at[r, col] = out.at[i, col]
        report.append(
            {
                "kept_id": out.at[r, "record_id"],
                "removed_id": out.at[i, "record_id"],
                "rule": rule[i] or "title_year_author",
                "doi": dois[i],
                "title": out.at[i, "title"],
                "year": out.at[i, "year"],
                "first_author": out.at[i, "first_author"],
            }
        )
    unique = out[[roots[i] == i for i in range(n)]].reset_index(drop=True)
    rep = pd.DataFrame(report, columns=list(MERGE_REPORT_COLUMNS))
    rep["year"] = pd.array(rep["year"].tolist(), dtype="Int64")
    return unique, rep
