"""Study 1: human coding of the demo, inter-coder reliability (vs krippendorff / sklearn), auto-coding quality."""

from __future__ import annotations

from pathlib import Path

import krippendorff
import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import cohen_kappa_score

from insats.demo.interviews import make_interviews, planted_codes, write_interviews
from insats.tasks.interviews.codebook import load_codebook
from insats.tasks.interviews.coding import code_segments
from insats.tasks.interviews.human import read_coded_spans, spans_to_redacted
from insats.tasks.interviews.redaction import map_offsets, redact
from insats.tasks.interviews.reliability import (
    ALL,
    alpha_interval,
    coded_to_labels,
    coding_quality,
    cohen_kappa,
    krippendorff_alpha,
    percent_agreement,
    reliability,
    spans_to_labels,
)
from insats.tasks.interviews.transcripts import read_transcript, segment_turns

# --- the statistics against the reference implementations ---------------------------------------------------

FIXTURES = {
    # Krippendorff (2011) "Computing Krippendorff's alpha-reliability", nominal example: alpha = 0.743
    "krippendorff_2011": [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, np.nan, np.nan, np.nan],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, np.nan, 3],
        [np.nan, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, np.nan],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, np.nan],
    ],
    "binary_two_coders_missing": [
        [1, 0, 0, 1, np.nan, 1, 0, 0, 1, 1, np.nan, 0],
        [1, 0, 1, 1, 0, np.nan, 0, 0, 0, 1, 1, np.nan],
    ],
}


@pytest.mark.parametrize("name", sorted(FIXTURES))
def test_alpha_equals_krippendorff_package(name):
    data = np.array(FIXTURES[name], dtype=float)
    ref = krippendorff.alpha(reliability_data=data, level_of_measurement="nominal")
    assert krippendorff_alpha(data) == pytest.approx(ref, abs=1e-12)
    if name == "krippendorff_2011":
        assert krippendorff_alpha(data) == pytest.approx(0.743, abs=5e-4)


# Krippendorff, K. (2011). Computing Krippendorff's Alpha-Reliability. Annenberg School for Communication,
# University of Pennsylvania, Departmental Papers (ASC) 43, section C ("nominal, ordinal, interval, ratio
# data, any number of observers, missing data"): 4 observers x 12 units, values 1-5; alpha nominal 0.743,
# ordinal 0.815, interval 0.849, ratio 0.797. Section A (binary data, two observers, 10 units): alpha 0.095.
PUBLISHED_2011 = {"nominal": 0.743, "ordinal": 0.815, "interval": 0.849, "ratio": 0.797}
BINARY_2011 = [[0, 1, 0, 0, 0, 0, 0, 0, 1, 0], [1, 1, 1, 0, 0, 1, 0, 0, 0, 0]]


@pytest.mark.parametrize("level", sorted(PUBLISHED_2011))
def test_alpha_at_every_level_equals_the_published_example_and_the_package(level):
    data = np.array(FIXTURES["krippendorff_2011"], dtype=float)
    assert krippendorff_alpha(data, level) == pytest.approx(PUBLISHED_2011[level], abs=5e-4)
    ref = krippendorff.alpha(reliability_data=data, level_of_measurement=level)
    assert krippendorff_alpha(data, level) == pytest.approx(ref, abs=1e-12)


def test_binary_published_example():
    assert krippendorff_alpha(BINARY_2011) == pytest.approx(0.095, abs=5e-4)


@pytest.mark.parametrize("level", ["ordinal", "interval", "ratio"])
def test_random_data_with_missing_values_equal_the_package(level):
    rng = np.random.default_rng(11)
    for _ in range(40):
        k, n = int(rng.integers(2, 6)), int(rng.integers(5, 40))
        m = rng.integers(1, int(rng.integers(3, 8)), size=(k, n)).astype(float) * rng.choice([1.0, 2.5])
        m[rng.random((k, n)) < 0.3] = np.nan
        if len(np.unique(m[~np.isnan(m)])) > 1 and ((~np.isnan(m)).sum(axis=0) >= 2).any():
            ref = krippendorff.alpha(reliability_data=m, level_of_measurement=level)
            assert krippendorff_alpha(m, level) == pytest.approx(ref, abs=1e-10)


def test_alpha_interval_is_a_vectorised_unit_bootstrap():
    data = np.array(FIXTURES["krippendorff_2011"], dtype=float)
    est, lo, hi = alpha_interval(data, "interval", n_boot=300, seed=4)
    assert est == pytest.approx(PUBLISHED_2011["interval"], abs=5e-4) and lo < est < hi <= 1
    # The same resamples by hand: draw the same multinomial weights over the pairable units, repeat each unit
    # as often as drawn, and compute alpha on the resampled matrix one resample at a time.
    pairable = data[:, (~np.isnan(data)).sum(axis=0) >= 2]
    weights = np.random.default_rng(4).multinomial(
        pairable.shape[1], np.full(pairable.shape[1], 1 / pairable.shape[1]), 300
    )
    by_hand = [krippendorff_alpha(np.repeat(pairable, w, axis=1), "interval") for w in weights]
    assert (lo, hi) == pytest.approx(tuple(np.nanquantile(by_hand, [0.025, 0.975])), abs=1e-12)
    with pytest.raises(ValueError, match="level of measurement 'kvot' unknown"):
        krippendorff_alpha(data, "kvot")
    with pytest.raises(ValueError, match="ratio data must be non-negative"):
        krippendorff_alpha([[-1, 2], [1, 2]], "ratio")


def test_random_fixtures_equal_references():
    rng = np.random.default_rng(7)
    for _ in range(60):
        k, n, cats = int(rng.integers(2, 5)), int(rng.integers(6, 40)), int(rng.integers(2, 4))
        m = rng.integers(0, cats, size=(k, n)).astype(float)
        m[rng.random((k, n)) < 0.25] = np.nan
        if len(np.unique(m[~np.isnan(m)])) > 1 and ((~np.isnan(m)).sum(axis=0) >= 2).any():
            ref = krippendorff.alpha(reliability_data=m, level_of_measurement="nominal")
            assert krippendorff_alpha(m) == pytest.approx(ref, abs=1e-10)
        both = ~np.isnan(m[0]) & ~np.isnan(m[1])
        if len(np.unique(np.r_[m[0][both], m[1][both]])) > 1:
            assert cohen_kappa(m[0], m[1]) == pytest.approx(cohen_kappa_score(m[0][both], m[1][both]), abs=1e-12)


def test_kappa_with_skipped_segments_and_degenerate_cases():
    a, b = FIXTURES["binary_two_coders_missing"]
    x, y = np.array(a), np.array(b)
    both = ~np.isnan(x) & ~np.isnan(y)
    assert cohen_kappa(a, b) == pytest.approx(cohen_kappa_score(x[both], y[both]))
    assert percent_agreement(a, b) == pytest.approx(np.mean(x[both] == y[both]))
    assert np.isnan(cohen_kappa([1, 1, 1], [1, 1, 1]))  # expected agreement 1: undefined, not 1 or 0
    assert np.isnan(cohen_kappa([1, np.nan], [np.nan, 0]))
    assert np.isnan(krippendorff_alpha([[1, 1], [1, 1]]))
    with pytest.raises(ValueError, match="2-D"):
        krippendorff_alpha([1, 0, 1])


def test_reliability_table_matches_references_per_code_and_overall():
    # Two interviews x 3 segments x 2 codes; coder b skipped interview I2 (missing, not zeros).
    rows = []
    a = {("I1-1", "X"): 1, ("I1-2", "X"): 0, ("I1-3", "X"): 1, ("I2-1", "X"): 1, ("I1-1", "Y"): 0,
         ("I1-2", "Y"): 1, ("I1-3", "Y"): 1, ("I2-1", "Y"): 0}  # fmt: skip
    b = {("I1-1", "X"): 1, ("I1-2", "X"): 1, ("I1-3", "X"): 1, ("I1-1", "Y"): 0, ("I1-2", "Y"): 1,
         ("I1-3", "Y"): 0}  # fmt: skip
    for coder, d in (("a", a), ("b", b)):
        rows += [(coder, s.split("-")[0], s, c, v) for (s, c), v in d.items()]
    labels = pd.DataFrame(rows, columns=["coder", "interview_id", "segment_id", "code_id", "value"])
    table = reliability(labels, "a", "b", n_boot=50, seed=1).set_index("code_id")
    assert table.loc["X", "n_segments"] == 3 and table.loc[ALL, "n_segments"] == 6
    keys = sorted(b)
    va, vb = np.array([a[k] for k in keys]), np.array([b[k] for k in keys])
    assert table.loc[ALL, "kappa"] == pytest.approx(cohen_kappa_score(va, vb))
    full = np.array([[a[k] for k in sorted(a)], [b.get(k, np.nan) for k in sorted(a)]], dtype=float)
    assert table.loc[ALL, "alpha"] == pytest.approx(
        krippendorff.alpha(reliability_data=full, level_of_measurement="nominal")
    )
    ky = [k for k in keys if k[1] == "Y"]
    assert table.loc["Y", "kappa"] == pytest.approx(cohen_kappa_score([a[k] for k in ky], [b[k] for k in ky]))
    kx = [k for k in keys if k[1] == "X"]  # coder b applied X everywhere: no agreement beyond chance
    assert table.loc["X", "kappa"] == pytest.approx(cohen_kappa_score([a[k] for k in kx], [b[k] for k in kx])) == 0
    with pytest.raises(ValueError, match="no decisions by coder 'c'"):
        reliability(labels, "a", "c")


# --- on the demo material ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    bundle = make_interviews(seed=2026, n_employers=20)
    paths = write_interviews(bundle, tmp_path_factory.mktemp("rel"))
    book = load_codebook(paths["codebook"])
    employers = pd.read_csv(paths["employers"], dtype=str, encoding="utf-8", keep_default_na=False)
    names = [bundle.truth["pii"]["name"]]
    originals, frames = {}, []
    for row in employers.itertuples():
        originals[row.interview_id] = read_transcript(paths["transcripts"] / row.file)
        frames.append(segment_turns(redact(originals[row.interview_id], names)[0], row.interview_id))
    segments = pd.concat(frames, ignore_index=True)
    codes = [c.id for c in book.codes if c.keywords]
    planted = pd.concat([planted_codes(iv) for iv in bundle.interviews], ignore_index=True)
    truth_spans = spans_to_redacted(
        planted.rename(columns={"code_id": "code"}).assign(document=planted["interview_id"], coder="truth"),
        originals, employers, names,
    )  # fmt: skip
    human = spans_to_redacted(read_coded_spans(paths["human_coding"]), originals, employers, names)
    coded = code_segments(segments, book)
    labels = pd.concat(
        [
            spans_to_labels(human, segments, codes),
            spans_to_labels(truth_spans, segments, codes, coverage={"truth": list(employers["interview_id"])}),
            coded_to_labels(coded, segments, codes),
        ],
        ignore_index=True,
    )
    return {"bundle": bundle, "paths": paths, "labels": labels, "segments": segments, "coded": coded,
            "planted": planted, "human": human, "originals": originals, "names": names}  # fmt: skip


def test_demo_human_coding_file(demo):
    spans = read_coded_spans(demo["paths"]["human_coding"])
    truth = demo["bundle"].truth["human_coding"]
    assert set(spans["coder"]) == {"kodare_a", "kodare_b"}
    coded_by = {c: set(g["document"].str.replace(r"\.\w+$", "", regex=True)) for c, g in spans.groupby("coder")}
    for coder, ids in truth["coded_interviews"].items():
        assert coded_by[coder] <= set(ids) and len(ids) == 11
    # Each coder skipped an interview the other coded: missing data in the reliability data.
    a, b = (set(truth["coded_interviews"][c]) for c in ("kodare_a", "kodare_b"))
    assert a - b and b - a


def test_demo_spans_point_at_planted_sentences(demo):
    """Human spans, moved onto the redacted text, still cover exactly the sentences coded."""
    text = demo["originals"]
    planted = demo["planted"]
    for row in planted.sample(20, random_state=1).itertuples():
        sentence = text[row.interview_id][row.start : row.end]
        assert sentence and sentence[0].isupper() and sentence[-1] in ".!?"
    pii = demo["bundle"].truth["pii"]["interview_id"]
    red, _ = redact(text[pii], demo["names"])
    rows = planted[planted["interview_id"] == pii]
    for r in rows.itertuples():
        a, b = map_offsets(text[pii], [r.start, r.end], demo["names"])
        assert red[a:b] == text[pii][r.start : r.end]  # sentences hold no personal data: same words


def test_demo_reliability_between_human_coders(demo):
    table = reliability(demo["labels"], "kodare_a", "kodare_b", n_boot=200, seed=3).set_index("code_id")
    overall = table.loc[ALL]
    # Simulated coders (recall 0.96 / 0.85, some confusions): substantial but imperfect agreement.
    assert 0.6 < overall["kappa"] < 0.95 and overall["kappa_ci_low"] < overall["kappa"] < overall["kappa_ci_high"]
    assert overall["alpha"] == pytest.approx(overall["kappa"], abs=0.01)  # two coders, large n
    assert overall["agreement"] > 0.95


def test_auto_coding_recovers_planted_codes(demo):
    """Acceptance: planted codes found with precision and recall >= 0.9 (per code and overall)."""
    quality = coding_quality(demo["labels"], "auto", "truth").set_index("code_id")
    assert (quality["precision"] >= 0.9).all() and (quality["recall"] >= 0.9).all(), quality
    assert quality.loc[ALL, "tp"] == demo["planted"].drop_duplicates(["segment_id", "code_id"]).shape[0]
    # Stance: planted negated sentences are coded with the negation.
    coded = demo["coded"].set_index(["segment_id", "code_id"])["negated"]
    neg = demo["planted"][demo["planted"]["negated"]]
    assert len(neg) >= 3 and all(coded[(r.segment_id, r.code_id)] for r in neg.itertuples())
    vs_human = coding_quality(demo["labels"], "auto", "kodare_a").set_index("code_id").loc[ALL]
    assert vs_human["precision"] > 0.85 and vs_human["recall"] > 0.9


def test_read_coded_spans_rejects_bad_rows(tmp_path: Path):
    path = tmp_path / "kod.csv"
    path.write_text("document,start,end,code,coder\nE01.txt,10,5,KOMP.SVENSKA,a\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"kod\.csv: row 2: 'end' must be greater"):
        read_coded_spans(path)
    path.write_text("document,start,end,code,coder\nE01.txt,x,5,KOMP.SVENSKA,a\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"row 2, column 'start': expected a non-negative integer"):
        read_coded_spans(path)
    path.write_text("document,start,code\n", encoding="utf-8")
    with pytest.raises(ValueError, match=r"missing column\(s\) \['end', 'coder'\]"):
        read_coded_spans(path)


def test_spans_to_labels_rejects_unknown_code(demo):
    bad = demo["human"].assign(code="NOPE")
    with pytest.raises(ValueError, match=r"code\(s\) \['NOPE'\] not in the codebook"):
        spans_to_labels(bad, demo["segments"], ["KOMP.SVENSKA"])


# --- which coders are compared, and the review project (tasks/interviews/review.py) ----------------------------


def test_coder_pairs_and_agreement_tables(demo):
    from insats.tasks.interviews.review import coder_agreement, coder_pairs

    labels = demo["labels"][demo["labels"]["coder"] != "truth"]
    assert coder_pairs(labels) == [("kodare_a", "kodare_b"), ("kodare_a", "auto"), ("kodare_b", "auto")]
    rel, quality = coder_agreement(labels, n_boot=50, seed=3)
    for a, b in coder_pairs(labels):
        part = rel[(rel["coder_a"] == a) & (rel["coder_b"] == b)].reset_index(drop=True)
        pd.testing.assert_frame_equal(part, reliability(labels, a, b, n_boot=50, seed=3))
    assert list(quality["reference"].unique()) == ["kodare_a", "kodare_b"]
    # Without human coders: empty tables with the published columns.
    rel, quality = coder_agreement(labels[labels["coder"] == "auto"], n_boot=50, seed=3)
    assert rel.empty and quality.empty and "kappa_ci_low" in rel and "f1" in quality


def test_review_project_shows_matches_and_suggestions(demo, tmp_path: Path):
    from insats.tasks.interviews.qdpx import coding_from_project, read_qdpx
    from insats.tasks.interviews.review import review_project, review_spans

    book = load_codebook(demo["paths"]["codebook"])
    seg = demo["segments"]
    target = seg[seg["speaker_role"] == "respondent"].iloc[3]
    suggestions = pd.DataFrame(
        {"interview_id": [target["interview_id"]], "segment_id": [target["segment_id"]],
         "code_id": ["KOMP.SVENSKA"], "confidence": [0.8349]}
    )  # fmt: skip
    spans = review_spans(seg, book, suggestions)
    last = spans.iloc[-1]
    assert (last["coder"], last["description"]) == ("insats-förslag", "förslag, säkerhet 0.83")
    assert (last["start"], last["end"]) == (target["start_char"], target["end_char"])
    assert spans["description"].str.endswith(" (inte krav)").any()  # negated matches are marked
    texts = {iid: redact(t, demo["names"])[0] for iid, t in demo["originals"].items()}
    path = tmp_path / "review.qdpx"
    path.write_bytes(review_project(texts, book, spans))
    flat = coding_from_project(read_qdpx(path), book)
    assert len(flat) == len(spans) and set(flat["coder"]) == {"insats-auto", "insats-förslag"}
