"""The evaluation corpus's split (benchmarks/coding_corpus/split.csv): the test half stays the same 20 interviews
when training-only interviews are added, and the benchmark never trains on test."""

import csv
import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CORPUS = ROOT / "benchmarks" / "coding_corpus"
pytestmark = pytest.mark.skipif(not (CORPUS / "split.csv").is_file(), reason="evaluation corpus not present")


def _load(name: str, path: Path):
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def _split() -> dict[str, str]:
    with open(CORPUS / "split.csv", encoding="utf-8") as fh:
        return {row["interview"]: row["part"] for row in csv.DictReader(fh)}


def test_test_half_is_the_same_twenty_interviews():
    split = _split()
    test = sorted(i for i, part in split.items() if part == "test")
    assert len(test) == 20 and all(int(i[1:]) <= 40 for i in test)
    # the first set's 12 test interviews (reported since round 1) and the second set's even numbers
    assert sum(int(i[1:]) <= 24 for i in test) == 12
    assert [i for i in test if int(i[1:]) > 24] == [f"i{n}" for n in range(26, 41, 2)]
    assert all(part == "train" for i, part in split.items() if int(i[1:]) >= 41)
    assert set(split.values()) <= {"dev", "test", "train"}


def test_part_rule_after_the_first_set():
    build = _load("coding_corpus_build", CORPUS / "build.py")
    assert [build.part_of(i) for i in ("i25", "i40", "i41", "i60", "i99")] == ["dev", "test", "train", "train", "train"]
    with pytest.raises(ValueError, match="first set"):
        build.part_of("i03")


def test_the_benchmark_never_trains_on_test():
    quality = _load("coding_quality_bench", ROOT / "benchmarks" / "coding_quality.py")
    assert set(quality.interview_ids(CORPUS, "dev+train")) == {i for i, p in _split().items() if p in ("dev", "train")}
    for parts in ("test", "dev+test", "all", ""):
        with pytest.raises(ValueError, match="test half never trains"):
            quality.check_training_side(parts)
    with pytest.raises(ValueError, match="test half never trains"):
        quality.run(CORPUS, "test", train_parts="dev+test")
