"""Demo intervention inventory: content rules, and identical round-trips through CSV and XLSX."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from insats.demo.inventory import COMPETENCY_CODES, make_inventory, write_inventory
from insats.tasks.mapping.inventory import (
    INVENTORY_COLUMNS,
    METHOD_FAMILIES,
    PROVIDERS,
    check_inventory,
    read_inventory,
)


@pytest.fixture(scope="module")
def inventory() -> pd.DataFrame:
    return make_inventory()


def test_demo_inventory_content(inventory: pd.DataFrame) -> None:
    assert list(inventory.columns) == list(INVENTORY_COLUMNS)
    assert list(inventory["intervention_id"]) == [f"INS{i:02d}" for i in range(1, 11)]
    assert set(inventory["provider"]) <= set(PROVIDERS)
    assert set(inventory["method_family"]) <= set(METHOD_FAMILIES)
    codes = {c for comps in inventory["competencies"] for c in comps.split(";") if c}
    assert codes <= set(COMPETENCY_CODES)
    ins01 = inventory.iloc[0]
    assert ins01["name"] == "Jobbspåret – Supported Employment (IPS)"
    assert ins01["method_family"] == "supported_employment"
    assert ins01["provider"] == "kommun"
    assert ins01["competencies"] == "KOMP.SVENSKA;KOMP.MOTIVATION;KOMP.PUNKTLIGHET"
    # Swedish letters in names, dates around the register period 2021-01..2024-12, some ongoing.
    names = " ".join(inventory["name"])
    assert all(ch in names for ch in "åäö")
    assert inventory["start_date"].min() >= pd.Timestamp("2019-01-01")
    assert inventory["start_date"].max() <= pd.Timestamp("2024-12-31")
    assert inventory["end_date"].isna().sum() >= 3
    ended = inventory.dropna(subset=["end_date"])
    assert (ended["start_date"] <= ended["end_date"]).all()
    assert (inventory["capacity"] > 0).all()


def test_demo_inventory_is_deterministic(inventory: pd.DataFrame) -> None:
    pd.testing.assert_frame_equal(make_inventory(), inventory)
    # Checking an already checked inventory changes nothing (typed cells are accepted).
    pd.testing.assert_frame_equal(check_inventory(inventory, "demo", set(COMPETENCY_CODES)), inventory)


def test_csv_and_xlsx_round_trip_identically(inventory: pd.DataFrame, tmp_path: Path) -> None:
    paths = write_inventory(inventory, tmp_path / "inv")
    assert set(paths) == {"csv", "xlsx"}
    assert paths["csv"].name == "interventions.csv" and paths["xlsx"].name == "interventions.xlsx"
    known = set(COMPETENCY_CODES)
    from_csv = check_inventory(read_inventory(paths["csv"]), str(paths["csv"]), known)
    from_xlsx = check_inventory(read_inventory(paths["xlsx"]), str(paths["xlsx"]), known)
    pd.testing.assert_frame_equal(from_csv, inventory)
    pd.testing.assert_frame_equal(from_xlsx, inventory)
    # Raw cells are the same too (as a plain reader sees them), and the CSV is UTF-8 with å ä ö intact.
    raw_csv = pd.read_csv(paths["csv"], dtype=str, encoding="utf-8").fillna("")
    raw_xlsx = pd.read_excel(paths["xlsx"], dtype=str).fillna("")
    pd.testing.assert_frame_equal(raw_csv, raw_xlsx)
    assert "Gränsgångare – digital vägledning i Årby och Lagersberg" in paths["csv"].read_text(encoding="utf-8")


def test_written_files_are_reproducible(inventory: pd.DataFrame, tmp_path: Path) -> None:
    first = write_inventory(inventory, tmp_path / "a")
    second = write_inventory(inventory, tmp_path / "b")
    for kind in ("csv", "xlsx"):
        assert first[kind].read_bytes() == second[kind].read_bytes(), kind
