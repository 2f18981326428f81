"""Study 2 evaluation candidates: register design counts (checked against study 3's own design), minimum
detectable effect (against a hand computation) and the config's rules with their reason codes (checked against
the published table's contract)."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from scipy.stats import norm

from insats.tasks.evaluation.design import sequential_matching_sample
from insats.tasks.evaluation.panel import build_person_month_panel
from insats.tasks.mapping.candidates import CandidateRules, evaluation_candidates
from insats.tasks.mapping.inventory import check_inventory
from insats.tasks.mapping.power import design_counts, minimum_detectable_effect
from insats.validation import validate_frame


def _register(seed: int = 1, n: int = 300, months: int = 36) -> tuple[pd.DataFrame, ...]:
    rng = np.random.default_rng(seed)
    ids = [f"P{i:04d}" for i in range(n)]
    persons = pd.DataFrame(
        {
            "person_id": ids,
            "sex": rng.integers(1, 3, n),
            "birth_year": rng.integers(1960, 2000, n),
            "born_abroad": rng.integers(0, 2, n),
            "education": rng.integers(1, 4, n),
            "household_type": rng.integers(1, 5, n),
            "municipality": "0484",
        }
    )
    month = pd.date_range("2021-01-01", periods=months, freq="MS")
    on = rng.random((n, months)) < 0.5
    pi, ti = np.nonzero(on)
    assistance = pd.DataFrame({"person_id": np.array(ids)[pi], "month": month[ti], "amount": 1000.0})
    outcomes = pd.DataFrame(
        {"person_id": np.repeat(ids, months), "month": np.tile(month, n), "employed": 0, "studying": 0}
    )
    rows = []
    for iid, k in (("A", 60), ("B", 15)):
        for i in rng.choice(n, k, replace=False):
            offset = int(rng.integers(-3, months))  # some start before the extract: never counted
            rows.append(
                (ids[i], iid, month[0] + pd.DateOffset(months=offset) + pd.Timedelta(days=int(rng.integers(27))))
            )
    rows.append((rows[0][0], "A", rows[0][2] + pd.DateOffset(months=5)))  # a second spell: the first counts
    spells = pd.DataFrame(rows, columns=["person_id", "intervention_id", "start_date"])
    return persons, assistance, outcomes, spells


def test_design_counts_equal_study_3_design() -> None:
    persons, assistance, outcomes, spells = _register()
    panel = build_person_month_panel(persons, assistance, outcomes, "2021-01", "2023-12")
    got = design_counts(
        assistance, spells, "2021-01", "2023-12", horizon=12, window=3, intervention_ids=["A", "B", "C"]
    )
    got = got.set_index("intervention_id")
    for iid in ("A", "B"):
        sample = sequential_matching_sample(panel, spells, iid, horizon=12, window=3)
        treated = sample[sample["treated"] == 1]
        controls = sample[(sample["treated"] == 0) & sample["month"].isin(set(treated["month"]))]
        assert got.loc[iid, "n_treated"] == treated["person_id"].nunique() > 0
        assert got.loc[iid, "n_comparison"] == controls["person_id"].nunique()
        assert got.loc[iid, "base_rate"] == pytest.approx(controls["self_sufficient"].mean())
    assert got.loc["C", "n_treated"] == 0 and math.isnan(got.loc["C", "base_rate"])


def test_mde_matches_hand_computation() -> None:
    n1, n2, p0 = 315, 2600, 0.22
    h = (norm.ppf(0.975) + norm.ppf(0.8)) * math.sqrt(1 / n1 + 1 / n2)
    by_hand = math.sin(math.asin(math.sqrt(p0)) + h / 2) ** 2 - p0
    assert minimum_detectable_effect(n1, n2, p0) == pytest.approx(by_hand, rel=1e-4)
    # Equal groups of 100 at p0 = 0.5: h = 2.8016 * sqrt(0.02) = 0.3962; sin(pi/4 + 0.1981)^2 = 0.6930.
    assert minimum_detectable_effect(100, 100, 0.5) == pytest.approx(0.1930, abs=5e-4)
    assert minimum_detectable_effect(50, 500, 0.2) > minimum_detectable_effect(200, 500, 0.2)
    assert math.isnan(minimum_detectable_effect(0, 100, 0.2))
    with pytest.raises(ValueError, match="base_rate"):
        minimum_detectable_effect(10, 10, 1.5)


def _inventory() -> pd.DataFrame:
    raw = pd.DataFrame(
        {
            "intervention_id": ["A", "B", "C", "D"],
            "name": ["Jobb", "Coach", "Praktik", "Kurs"],
            "provider": "kommun",
            "method_family": ["supported_employment", "coordinator", "work_practice", "education"],
            "start_date": "2021-01-01",
            "competencies": "",
        }
    )
    return check_inventory(raw, "tiny", None)


def test_rules_choose_candidates_with_reasons() -> None:
    inv = _inventory()
    alignment = pd.DataFrame({"intervention_id": list("ABCD"), "alignment_score": [0.5, 0.1, 0.6, 0.3]})
    participants = pd.DataFrame({"intervention_id": list("ABCD"), "n_participants": [400, 300, 150, 30]})
    design = pd.DataFrame(
        {"intervention_id": list("ABCD"), "n_treated": [300, 250, 120, 25], "n_comparison": [2000, 2000, 40, 2000],
         "base_rate": [0.2, 0.2, 0.2, 0.2]}
    )  # fmt: skip
    evidence = pd.DataFrame(
        {"method_family": ["supported_employment", "coordinator"], "n_studies": [10, 4], "n_positive": [8, 0]}
    )
    rules = CandidateRules(min_participants=100, min_comparison=100, max_mde=0.12, support="evidence")
    cand = evaluation_candidates(inv, alignment, participants, design=design, evidence=evidence, rules=rules)
    got = cand.set_index("intervention_id")
    assert list(cand["intervention_id"][cand["eligible"]]) == ["A"] and cand.loc[0, "rank"] == 1
    codes = {iid: set(c.split(";")) for iid, c in got["reason_codes"].items()}
    # the reasons are codes; the numbers they refer to and the rules' limits are columns of their own
    assert codes["A"] == {"chosen"} and (got.loc["A", "n_treated"], got.loc["A", "n_comparison"]) == (300, 2000)
    assert got.loc["A", "mde"] == pytest.approx(minimum_detectable_effect(300, 2000, 0.2))
    assert got.loc["A", "n_positive_studies"] == 8 and got.loc["C", "n_studies"] == 0
    assert "no_support" in codes["B"]  # coordinator: 0 positive studies
    assert {"too_few_comparison", "mde_too_large"} <= codes["C"] and "too_few_treated" not in codes["C"]
    assert (got.loc["C", "n_comparison"], got.loc["C", "min_comparison"]) == (40, 100)
    assert "too_few_treated" in codes["D"] and (got.loc["D", "n_treated"], got.loc["D", "min_treated"]) == (25, 100)
    assert got["reason_codes"].str.fullmatch(r"chosen|[a-z_]+(;[a-z_]+)*").all()
    assert set(got["support"]) == {"evidence"} and set(got["max_mde"]) == {0.12}
    assert list(got.loc["C", "reason_codes"].split(";")) == ["too_few_comparison", "mde_too_large", "no_support"]
    # The contract guards the published table, which carries disclosure control's flag column.
    cand = cand.assign(suppressed=False)
    report = validate_frame(cand, "intervention_mapping.candidates")
    assert report.success, report.summary("candidates")
    bad = cand.assign(reason_codes=["chosen", "too few starters", *cand["reason_codes"][2:]])
    assert not validate_frame(bad, "intervention_mapping.candidates").success  # sentences do not pass the contract
    # Alignment as the support instead: B fails (0.10 < 0.2), C still fails on N; A chosen.
    rules2 = CandidateRules(min_participants=100, support="alignment", min_alignment=0.2)
    cand2 = evaluation_candidates(inv, alignment, participants, design=design, evidence=evidence, rules=rules2)
    assert list(cand2["intervention_id"][cand2["eligible"]]) == ["C", "A"]  # by alignment: C 0.6, A 0.5
