"""Study 2 evidence review: reference readers, de-duplication, screening prioritisation and simulation,
the evidence table - on the demo reference set with planted duplicates and a known relevant set."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from insats.demo.mapping_extra import write_mapping_extras
from insats.tasks.mapping.deduplication import deduplicate
from insats.tasks.mapping.evidence import evidence_from_extraction, evidence_table, read_extraction
from insats.tasks.mapping.reference_records import fold_text, normalise_doi
from insats.tasks.mapping.references import read_bibtex, read_references, read_references_csv, read_ris
from insats.tasks.mapping.screening import (
    CURVE_COLUMNS,
    expected_random_screened,
    prioritise,
    rank_unscreened,
    read_screening_decisions,
    simulate_review,
    simulate_screening,
)
from insats.tasks.mapping.study import review_references


@pytest.fixture(scope="module")
def demo(tmp_path_factory: pytest.TempPathFactory) -> dict:
    paths = write_mapping_extras(tmp_path_factory.mktemp("mapping"))
    refs = read_references([paths["references_ris"], paths["references_bib"], paths["references_csv"]])
    unique, report = deduplicate(refs)
    truth = json.loads(paths["truth"].read_text(encoding="utf-8"))
    return {"paths": paths, "refs": refs, "unique": unique, "report": report, "truth": truth}


# ------------------------------------------------------------------------------------- readers


def test_readers_keep_swedish_letters_and_fields(demo: dict) -> None:
    refs = demo["refs"]
    assert len(refs) == demo["truth"]["n_records"]
    assert set(refs["source"]) == {"references.ris", "references.bib", "references.csv"}
    assert refs["title"].str.contains("försörjningsstöd – en översikt").any()
    # The BibTeX entry written with LaTeX escapes ({\"o}, {\AA}) reads back as letters.
    authors = " ".join(refs.loc[refs["source"] == "references.bib", "authors"])
    assert "\\" not in authors and "{" not in authors
    assert {"Åström", "Löfgren", "Häggström"} & set(refs["first_author"])
    ris = refs[refs["source"] == "references.ris"]
    assert (ris["abstract"].str.len() > 50).mean() > 0.8  # wrapped abstracts are joined
    assert refs["year"].dtype == "Int64" and refs["year"].notna().all()


def test_ris_bibtex_csv_parse_exactly(tmp_path: Path) -> None:
    ris = tmp_path / "a.ris"
    ris.write_text(
        "TY  - JOUR\nTI  - Stöd till arbete\nAU  - Åström, K.\nAU  - Bond, G. R.\nPY  - 2019///\n"
        "AB  - Första raden\n      andra raden\nDO  - https://doi.org/10.1/ABC\nKW  - IPS\nER  - \n",
        encoding="utf-8",
    )
    r = read_ris(ris).iloc[0]
    assert (r["record_id"], r["title"], r["first_author"], r["year"]) == ("a-1", "Stöd till arbete", "Åström", 2019)
    assert r["abstract"] == "Första raden andra raden" and r["doi"] == "10.1/abc"
    assert r["authors"] == "Åström, K.; Bond, G. R."
    bib = tmp_path / "b.bib"
    bib.write_text(
        '@comment{x}\n@article{key1,\n title = {The {IPS} model},\n author = {L{\\"o}fgren, Anna and Ek, B.},\n'
        ' year = 2020, doi = "10.2/X"}\n',
        encoding="utf-8",
    )
    b = read_bibtex(bib).iloc[0]
    assert (b["record_id"], b["title"], b["first_author"], b["year"], b["doi"]) == (
        "key1", "The IPS model", "Löfgren", 2020, "10.2/x"
    )  # fmt: skip
    csv = tmp_path / "c.csv"
    csv.write_text("Title;Author;Year\nEtt;Öberg, C.;2018\n", encoding="cp1252")
    c = read_references_csv(csv).iloc[0]
    assert (c["record_id"], c["first_author"], c["year"]) == ("c-1", "Öberg", 2018)


def test_bad_reference_input_names_file_and_place(tmp_path: Path) -> None:
    ris = tmp_path / "bad.ris"
    ris.write_text("TY  - JOUR\nTI  - X\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.ris: the record starting on line 1 has no end tag"):
        read_ris(ris)
    csv = tmp_path / "bad.csv"
    csv.write_text("title,year\nX,nineteen\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"bad\.csv: row 2, column 'year'"):
        read_references_csv(csv)
    with pytest.raises(ValueError, match=r"unsupported reference file type '\.txt'"):
        read_references([tmp_path / "refs.txt"])
    nocol = tmp_path / "nocol.csv"
    nocol.write_text("rubrik\nX\n", encoding="utf-8")
    with pytest.raises(ValueError, match="missing column 'title'"):
        read_references_csv(nocol)


# ------------------------------------------------------------------------------ de-duplication


def test_deduplication_recovers_planted_duplicates_exactly(demo: dict) -> None:
    truth, unique, report = demo["truth"], demo["unique"], demo["report"]
    assert len(unique) == truth["n_unique"]
    got = set(zip(report["kept_id"], report["removed_id"], report["rule"], strict=True))
    expected = {(d["kept_id"], d["removed_id"], d["rule"]) for d in truth["duplicates"]}
    assert got == expected  # every planted duplicate, and no trap (same title other year/author/DOI)
    assert unique["record_id"].is_unique
    assert not set(report["removed_id"]) & set(unique["record_id"])


def test_dedup_rules_on_a_small_hand_made_set() -> None:
    refs = pd.DataFrame(
        {
            "record_id": ["a", "b", "c", "d", "e", "f"],
            "title": ["Jobb först!", "JOBB FÖRST", "Jobb först", "Jobb först", "Jobb forst", "Annat"],
            "year": pd.array([2020, 2020, 2021, 2020, 2020, 2020], dtype="Int64"),
            "first_author": ["Åström", "Astrom", "Åström", "Åström", "Åström", "X"],
            "doi": ["10.1/a", "", "", "10.1/other", "", "https://doi.org/10.1/A"],
            "abstract": ["", "Sammanfattning", "", "", "", ""],
        }
    )
    unique, report = deduplicate(refs)
    # b and e match a by title+year+author (accents/case/punctuation ignored); f by DOI; c other year;
    # d has another DOI than a's group.
    assert list(unique["record_id"]) == ["a", "c", "d"]
    assert dict(zip(report["removed_id"], report["rule"], strict=True)) == {
        "b": "title_year_author", "e": "title_year_author", "f": "doi"
    }  # fmt: skip
    assert unique.loc[0, "abstract"] == "Sammanfattning"  # filled from the removed duplicate
    assert normalise_doi("doi: 10.1/A.") == "10.1/a" and fold_text("Ö-land: X") == "o land x"


# ----------------------------------------------------------------------------------- screening


def _labels(demo: dict) -> np.ndarray:
    full = read_screening_decisions(demo["paths"]["screening_full"], set(demo["unique"]["record_id"]))
    include = dict(zip(full["record_id"], full["decision"] == "include", strict=True))
    return demo["unique"]["record_id"].map(include).to_numpy(dtype=bool)


def test_simulation_finds_95_percent_far_sooner_than_random(demo: dict) -> None:
    labels = _labels(demo)
    assert sorted(demo["unique"]["record_id"][labels]) == demo["truth"]["relevant_unique"]
    curve, m = simulate_screening(demo["unique"], labels, seed=7)
    n, k = len(labels), int(labels.sum())
    assert m["n_records"] == n and m["n_relevant"] == k
    assert list(curve["n_screened"]) == list(range(1, n + 1)) and curve["record_id"].is_unique
    assert curve["recall"].iloc[-1] == 1.0 and curve["recall"].is_monotonic_increasing
    assert m["share_screened_95"] < 0.5 * m["random_share_screened_95"]  # clearly better than random
    assert m["wss_95"] > 0.5
    assert m["wss_95"] == pytest.approx((n - m["n_screened_95"]) / n - 0.05)
    found95 = int(np.ceil(0.95 * k))
    assert curve.loc[int(m["n_screened_95"]) - 1, "found"] >= found95
    assert curve.loc[int(m["n_screened_95"]) - 2, "found"] < found95
    # Same seed, same run.
    again, m2 = simulate_screening(demo["unique"], labels, seed=7)
    assert m2 == m and list(again["record_id"]) == list(curve["record_id"])


def test_random_order_baseline_formula_matches_monte_carlo() -> None:
    rng = np.random.default_rng(1)
    n, k = 120, 9
    need = int(np.ceil(0.95 * k))
    sims = []
    for _ in range(4000):
        pos = np.sort(rng.choice(n, size=k, replace=False)) + 1
        sims.append(pos[need - 1])
    assert expected_random_screened(n, k) == pytest.approx(np.mean(sims), rel=0.02)


def test_prioritise_ranks_relevant_records_first(demo: dict) -> None:
    labels = dict(zip(demo["unique"]["record_id"], _labels(demo), strict=True))
    decisions = read_screening_decisions(demo["paths"]["screening_decisions"], set(labels))
    ranked = prioritise(demo["unique"], decisions)
    assert len(ranked) == len(labels) - len(decisions) and set(ranked["basis"]) == {"model"}
    assert not set(ranked["record_id"]) & set(decisions["record_id"])
    remaining = [labels[r] for r in ranked["record_id"]]
    top = sum(remaining[: sum(remaining)])
    assert top >= 0.8 * sum(remaining)  # the first k ranked hold most of the k remaining inclusions
    # Without an inclusion there is no model: a seeded random order.
    only_ex = decisions[decisions["decision"] == "exclude"]
    r1, r2 = prioritise(demo["unique"], only_ex, seed=3), prioritise(demo["unique"], only_ex, seed=3)
    assert set(r1["basis"]) == {"random"} and list(r1["record_id"]) == list(r2["record_id"])


def test_decisions_file_errors_and_last_row_wins(tmp_path: Path) -> None:
    path = tmp_path / "beslut.csv"
    path.write_text(
        "record_id;decision;reason\nr1;exclude;fel population\nr2;kanske;\nr3;exclude;\nr1;Inkludera;\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError) as err:
        read_screening_decisions(path, {"r1", "r2"})
    msg = str(err.value)
    assert "row 3, column 'decision': unknown value 'kanske'; allowed values: include, exclude" in msg
    assert "row 4, column 'reason': an exclusion needs a reason" in msg
    assert "row 4, column 'record_id': 'r3' is not among the references" in msg
    path.write_text("record_id,decision,reason\nr1,exclude,x\nr2,include,\nr1,Inkludera,\n", encoding="utf-8")
    got = read_screening_decisions(path)
    assert list(got["record_id"]) == ["r2", "r1"] and list(got["decision"]) == ["include", "include"]


# ------------------------------------------------------------------------------------ evidence


def test_evidence_table_per_method_family(demo: dict) -> None:
    extraction = read_extraction(demo["paths"]["extraction"], set(demo["unique"]["record_id"]))
    table = evidence_table(extraction).set_index("method_family")
    for family, want in demo["truth"]["evidence"].items():
        assert table.loc[family, "n_studies"] == want["n_studies"]
        assert table.loc[family, "n_positive"] == want["n_positive"]
    assert table["n_studies"].sum() == len(extraction) == 30
    row = table.loc["supported_employment"]
    assert row["n_positive"] + row["n_null"] + row["n_negative"] + row["n_mixed"] == row["n_studies"]
    rct = extraction[(extraction["method_family"] == "supported_employment") & (extraction["design"] == "rct")]
    assert row["n_rct"] == len(rct) and (f"rct {len(rct)}" in row["designs"]) == (len(rct) > 0)


def test_extraction_rejects_unknown_codes(tmp_path: Path) -> None:
    path = tmp_path / "extraktion.csv"
    path.write_text(
        "record_id,design,country,population,outcome,effect_direction,method_family\n"
        "r1,RCT,Sverige,vuxna,arbete,positive,IPS\nr1,kohort,Sverige,vuxna,arbete,uppåt,coordinator\n",
        encoding="utf-8",
    )
    with pytest.raises(ValueError) as err:
        read_extraction(path)
    msg = str(err.value)
    assert "row 2, column 'method_family': unknown value 'IPS'; allowed values: supported_employment" in msg
    assert "row 3, column 'record_id': 'r1' extracted twice (first in row 2)" in msg
    assert "row 3, column 'design': unknown value 'kohort'" in msg
    assert "row 3, column 'effect_direction': unknown value 'uppåt'; allowed values: positive, null" in msg


# ------------------------------------------------------------------- the flow's steps (pure functions)


def test_review_steps_match_their_parts(demo: dict, tmp_path: Path) -> None:
    paths, unique = demo["paths"], demo["unique"]
    refs, report = review_references([paths["references_ris"], paths["references_bib"], paths["references_csv"]])
    pd.testing.assert_frame_equal(refs, unique)
    pd.testing.assert_frame_equal(report, demo["report"])
    decisions = read_screening_decisions(paths["screening_decisions"], set(unique["record_id"]))
    pd.testing.assert_frame_equal(
        rank_unscreened(unique, paths["screening_decisions"], seed=5), prioritise(unique, decisions, seed=5)
    )
    curve, metrics = simulate_review(unique, paths["screening_full"], seed=7)
    want_curve, want = simulate_screening(unique, _labels(demo), seed=7)
    pd.testing.assert_frame_equal(curve, want_curve)
    assert list(curve.columns) == list(CURVE_COLUMNS)
    assert dict(zip(metrics["metric"], metrics["value"], strict=True)) == pytest.approx(want)
    # A finished review needs a decision on every record; the error names the file and an undecided record.
    partial = tmp_path / "nästan_klar.csv"
    lines = paths["screening_full"].read_text(encoding="utf-8").splitlines()
    partial.write_text("\n".join(lines[:-1]) + "\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"nästan_klar\.csv: the simulation needs a decision on every record; 1 undec"):
        simulate_review(unique, partial)


def test_evidence_step_checks_ids_against_the_references(demo: dict) -> None:
    paths, unique = demo["paths"], demo["unique"]
    table = evidence_from_extraction(paths["extraction"], unique)
    pd.testing.assert_frame_equal(table, evidence_table(read_extraction(paths["extraction"])))
    some = unique[~unique["record_id"].isin(read_extraction(paths["extraction"])["record_id"].iloc[:1])]
    with pytest.raises(ValueError, match="is not an included reference"):
        evidence_from_extraction(paths["extraction"], some)
