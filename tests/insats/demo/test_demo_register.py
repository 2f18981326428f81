"""Synthetic register generator: determinism, synthetic identity numbers, labels, planted truth."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest

from insats.demo.register import make_register, write_register
from insats.tasks.identity import normalise_identity_number

TRUTH_KEYS = {
    "planted_intervention",
    "true_att_self_sufficiency_12m",
    "naive_difference",
    "n_treated_with_followup",
    "horizon_months",
    "window_months",
    "seed",
    "n_persons",
}


@pytest.fixture(scope="module")
def demo() -> tuple[dict[str, pd.DataFrame], dict]:
    return make_register()


def test_deterministic_for_a_seed_and_different_across_seeds() -> None:
    a, truth_a = make_register(seed=7, n_persons=400, n_months=24)
    b, truth_b = make_register(seed=7, n_persons=400, n_months=24)
    c, _ = make_register(seed=8, n_persons=400, n_months=24)
    for kind in a:
        pd.testing.assert_frame_equal(a[kind], b[kind])
    assert truth_a == truth_b
    assert not a["assistance"].equals(c["assistance"])
    assert not a["persons"]["personnummer"].equals(c["persons"]["personnummer"])


def test_tables_have_the_source_columns(demo: tuple[dict[str, pd.DataFrame], dict]) -> None:
    frames, _ = demo
    assert list(frames["persons"].columns) == [
        "personnummer",
        "kon",
        "fodelsear",
        "utrikes_fodd",
        "utbildning",
        "hushallstyp",
        "kommunkod",
    ]
    assert list(frames["assistance"].columns) == ["personnummer", "hushall_id", "manad", "belopp"]
    assert list(frames["spells"].columns) == ["personnummer", "insats_id", "startdatum", "slutdatum"]
    assert list(frames["outcomes"].columns) == ["personnummer", "manad", "sysselsatt", "studerar"]
    assert len(frames["persons"]) == 3000
    assert len(frames["outcomes"]) == 3000 * 48


def test_identity_numbers_valid_synthetic_and_unique(demo: tuple[dict[str, pd.DataFrame], dict]) -> None:
    persons = demo[0]["persons"]
    pnr = persons["personnummer"]
    assert pnr.str.fullmatch(r"\d{8}-\d{4}").all()
    assert pnr.is_unique
    assert all(normalise_identity_number(v) == v.replace("-", "") for v in pnr)  # Luhn and date valid
    assert (pnr.str[9] == "9").all()  # birth-number series 9xx: synthetic
    day = pnr.str[6:8].astype(int)
    share_coordination = (day > 60).mean()
    assert 0.005 < share_coordination < 0.05
    # Sex digit (third of the birth number) odd for men, even for women.
    odd = pnr.str[11].astype(int) % 2 == 1
    assert (odd == (persons["kon"] == 1)).all()
    assert (pnr.str[:4].astype(int) == persons["fodelsear"]).all()


def test_codes_and_ranges(demo: tuple[dict[str, pd.DataFrame], dict]) -> None:
    frames, _ = demo
    p, a, o, s = frames["persons"], frames["assistance"], frames["outcomes"], frames["spells"]
    assert set(p["kon"]) == {1, 2}
    assert set(p["utbildning"]) == {1, 2, 3}
    assert set(p["hushallstyp"]) == {1, 2, 3, 4}
    assert set(p["kommunkod"]) <= {"0484", "0482", "0483", "0486"}
    assert (p["kommunkod"] == "0484").mean() > 0.8
    assert a["belopp"].between(3000, 20000).all()
    assert a["manad"].between(202101, 202412).all()
    assert not a.duplicated(["personnummer", "manad"]).any()
    assert set(o["sysselsatt"]) == {0, 1} and set(o["studerar"]) == {0, 1}
    # A person is never employed full-time off assistance and studying in the same month.
    assert not ((o["sysselsatt"] == 1) & (o["studerar"] == 1)).any()
    assert s["slutdatum"].isna().any()  # ongoing spells
    ended = s.dropna(subset=["slutdatum"])
    assert (ended["slutdatum"] >= ended["startdatum"]).all()
    assert set(s["personnummer"]) <= set(p["personnummer"])


def test_ins01_has_most_participants_and_small_interventions_exist(
    demo: tuple[dict[str, pd.DataFrame], dict],
) -> None:
    spells = demo[0]["spells"]
    participants = spells.groupby("insats_id")["personnummer"].nunique()
    assert set(participants.index) == {f"INS{i:02d}" for i in range(1, 11)}
    assert participants.idxmax() == "INS01"
    assert participants["INS01"] >= 300
    assert (participants < 30).sum() >= 2


def test_truth_is_planted(demo: tuple[dict[str, pd.DataFrame], dict]) -> None:
    _, truth = demo
    assert set(truth) >= TRUTH_KEYS
    assert truth["planted_intervention"] == "INS01"
    assert truth["horizon_months"] == 12 and truth["window_months"] == 3
    assert truth["seed"] == 2026 and truth["n_persons"] == 3000
    assert truth["true_att_self_sufficiency_12m"] == pytest.approx(0.15, abs=0.01)
    assert truth["n_treated_with_followup"] >= 250
    # Selection is real: starters have worse untreated prospects than other recipients.
    assert truth["naive_difference"] < truth["true_att_self_sufficiency_12m"] - 0.08
    assert truth["share_controls_starting_within_horizon"] < 0.15


def test_zero_effect_gives_zero_truth() -> None:
    _, truth = make_register(seed=3, n_persons=600, planted_effect=0.0)
    assert truth["true_att_self_sufficiency_12m"] == 0.0


def test_planted_must_be_an_intervention() -> None:
    with pytest.raises(ValueError, match="INS99"):
        make_register(n_persons=100, planted="INS99")


def test_sav_round_trip_keeps_codes_labels_and_swedish_characters(
    demo: tuple[dict[str, pd.DataFrame], dict], tmp_path: Path
) -> None:
    frames, _ = demo
    small = {k: v.head(200) for k, v in frames.items()}
    paths = write_register(small, tmp_path)
    assert {p.name for p in paths.values()} == {"persons.sav", "assistance.sav", "spells.sav", "outcomes.sav"}
    df, meta = pyreadstat.read_sav(str(paths["persons"]))
    assert list(df["personnummer"]) == list(small["persons"]["personnummer"])
    assert np.array_equal(df["kon"].to_numpy(), small["persons"]["kon"].to_numpy())
    assert meta.variable_value_labels["utbildning"][1.0] == "Förgymnasial"
    assert meta.variable_value_labels["hushallstyp"][2.0] == "Ensamstående med barn"
    assert meta.variable_value_labels["kon"] == {1.0: "Man", 2.0: "Kvinna"}
    assert meta.column_names_to_labels["kon"] == "Kön"
    assert meta.column_names_to_labels["fodelsear"] == "Födelseår"
    spells, meta_s = pyreadstat.read_sav(str(paths["spells"]), dates_as_pandas_datetime=True)
    assert meta_s.column_names_to_labels["slutdatum"].startswith("Slutdatum")
    assert (spells["startdatum"].to_numpy() == small["spells"]["startdatum"].to_numpy()).all()
    assert spells["slutdatum"].isna().sum() == small["spells"]["slutdatum"].isna().sum()
    outcomes, meta_o = pyreadstat.read_sav(str(paths["outcomes"]))
    assert meta_o.column_names_to_labels["manad"] == "Månad (ÅÅÅÅMM)"
    assert (outcomes["manad"].to_numpy() == small["outcomes"]["manad"].to_numpy()).all()


def test_write_register_requires_all_tables(tmp_path: Path) -> None:
    frames, _ = make_register(n_persons=100, n_months=20)
    del frames["spells"]
    with pytest.raises(ValueError, match="spells"):
        write_register(frames, tmp_path)
