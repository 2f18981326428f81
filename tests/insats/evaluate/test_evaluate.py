"""insats evaluate (insats/evaluate): any data set, labels in the report, formulas, provenance, DiD design."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat
import pytest
from typer.testing import CliRunner

from insats.cli import app
from insats.evaluate import evaluate, read_dataset, write_result
from insats.provenance import sha256_file
from tests.helpers.did_data import selection_panel, staggered_panel

VALUE_LABELS = {
    "region": {1: "Norrland", 2: "Svealand", 3: "Götaland"},
    "treat": {0: "ingen insats", 1: "påbörjad insats"},
}
VARIABLE_LABELS = ["Insats påbörjad", "Ålder i år", "Utbildningsår", "Landsdel", "Inkomst efter två år"]


def _frame(n: int = 400, seed: int = 1) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.integers(20, 60, n).astype(float)
    educ = rng.integers(9, 18, n).astype(float)
    region = rng.integers(1, 4, n).astype(float)
    p = 1 / (1 + np.exp(-(-3 + 0.06 * age + 0.1 * (region == 3))))
    treat = (rng.random(n) < p).astype(float)
    y = 2.0 * treat + 0.1 * age + 0.3 * educ + rng.normal(0, 1, n)
    return pd.DataFrame({"treat": treat, "age": age, "educ": educ, "region": region, "income": y})


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    df = _frame()
    out = {s: tmp_path / f"data.{s}" for s in ("dta", "sav", "csv", "parquet")}
    pyreadstat.write_dta(df, out["dta"], column_labels=VARIABLE_LABELS, variable_value_labels=VALUE_LABELS)
    pyreadstat.write_sav(df, out["sav"], column_labels=VARIABLE_LABELS, variable_value_labels=VALUE_LABELS)
    df.to_csv(out["csv"], index=False)
    df.to_parquet(out["parquet"])
    return out


def test_every_format_gives_the_same_effects_without_person_or_month(files: dict[str, Path]) -> None:
    results = {
        s: evaluate(p, outcome="income", treatment="treat", covariates=["age", "educ"], estimator="psm").effects
        for s, p in files.items()
    }
    first = results["dta"]
    assert list(first["estimator"]) == ["naive_difference", "psm_nn1_caliper"]
    assert first["att"].iloc[1] == pytest.approx(2.0, abs=0.5)
    for s, eff in results.items():
        np.testing.assert_allclose(eff["att"], first["att"], err_msg=s)
        np.testing.assert_allclose(eff["se"], first["se"], err_msg=s)


def test_formula_builds_squares_interactions_and_categoricals(files: dict[str, Path]) -> None:
    res = evaluate(
        files["dta"],
        outcome="income",
        treatment="treat",
        formula="treat ~ age + I(age**2) + educ*age + C(region)",
        estimator="psm",
        caliper=None,
    )
    assert set(res.covariates) >= {"age", "I(age ** 2)", "educ", "educ:age"}
    assert sum(c.startswith("C(region)") for c in res.covariates) == 2  # three regions, one reference
    by_hand = _frame().assign(age2=lambda d: d["age"] ** 2, ea=lambda d: d["educ"] * d["age"])
    by_hand = by_hand.assign(r2=(by_hand["region"] == 2) * 1.0, r3=(by_hand["region"] == 3) * 1.0)
    hand = evaluate(
        by_hand,
        outcome="income",
        treatment="treat",
        covariates=["age", "age2", "educ", "ea", "r2", "r3"],
        estimator="psm",
        caliper=None,
    )
    assert res.effects["att"].iloc[1] == pytest.approx(hand.effects["att"].iloc[1], rel=1e-9)
    with pytest.raises(ValueError, match="left side"):
        evaluate(files["dta"], outcome="income", treatment="treat", formula="educ ~ age")


def test_report_uses_variable_and_value_labels_and_manifest_records_provenance(
    files: dict[str, Path], tmp_path: Path
) -> None:
    res = evaluate(files["sav"], outcome="income", treatment="treat", formula="~ age + C(region)", estimator="psm")
    out = write_result(res, tmp_path / "out")
    report = (out / "report.md").read_text(encoding="utf-8")
    assert "Ålder i år" in report and "Inkomst efter två år" in report
    assert "0 = ingen insats; 1 = påbörjad insats" in report
    assert "Landsdel: Götaland" in report  # C(region)[T.3] in words
    assert "Götaland" in (out / "report.html").read_text(encoding="utf-8")
    for name in ("effects.csv", "balance.csv", "overlap.csv", "love.png", "overlap.png", "report.html"):
        assert (out / name).stat().st_size > 0, name
    manifest = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["inputs"][0]["sha256"] == sha256_file(files["sav"])
    assert manifest["parameters"]["formula"] == "~ age + C(region)" and manifest["parameters"]["estimator"] == "psm"
    assert manifest["code"]["package"] and {o["file"] for o in manifest["outputs"]} >= {"effects.csv", "report.md"}
    effects = pd.read_csv(out / "effects.csv")
    assert effects["variance_method"].notna().all()
    # A folder that is not an earlier output is never replaced.
    foreign = tmp_path / "mine"
    foreign.mkdir()
    (foreign / "notes.txt").write_text("keep me")
    with pytest.raises(ValueError, match="refusing to replace"):
        write_result(res, foreign)
    assert (foreign / "notes.txt").exists()
    write_result(res, out)  # an earlier output is replaced


def test_missing_values_are_dropped_and_counted(files: dict[str, Path]) -> None:
    df = read_dataset(files["parquet"]).frame
    df.loc[:9, "educ"] = np.nan
    res = evaluate(df, outcome="income", treatment="treat", covariates=["age", "educ"], estimator="psm")
    assert res.counts["n_dropped_missing"] == 10 and res.counts["n_used"] == len(df) - 10


def test_bad_column_is_one_line_listing_the_columns(files: dict[str, Path]) -> None:
    runner = CliRunner()
    result = runner.invoke(
        app,
        [
            "evaluate",
            str(files["csv"]),
            "--treatment",
            "treat",
            "--outcome",
            "incme",
            "--covariates",
            "age",
            "--out",
            "x",
        ],
    )
    assert result.exit_code != 0
    first = result.output.strip().splitlines()[0]
    assert "unknown column(s): incme" in first and "treat, age, educ, region, income" in first


def _csdid(data: pd.DataFrame, **kwargs):
    """csdid's ATTgt (port of R did::att_gt), doubly robust, analytic SEs (bstrap=False), never-treated."""
    att_gt = pytest.importorskip("csdid.att_gt", reason="reference implementation: pip install -e '.[dev]'").ATTgt
    ref = att_gt(yname="y", tname="year", idname="unit", gname="first_treat", data=data, **kwargs)
    return ref.fit(est_method="dr", bstrap=False)


def test_cli_cross_section_and_did(files: dict[str, Path], tmp_path: Path) -> None:
    """The DiD part's reference: csdid 0.4.3 (PyPI), ``ATTgt(...).fit(est_method="dr", bstrap=False)`` and
    ``aggte("simple" | "dynamic")``, a port of R ``did::att_gt`` / ``did::aggte`` (analytic SEs), on the
    simulated balanced panel of tests/helpers/did_data.py written to CSV."""
    runner = CliRunner()
    out = tmp_path / "cs"
    r = runner.invoke(
        app,
        [
            "evaluate",
            str(files["dta"]),
            "--treatment",
            "treat",
            "--outcome",
            "income",
            "--covariates",
            "age educ",
            "--estimator",
            "psm",
            "--caliper",
            "none",
            "--no-replace",
            "--out",
            str(out),
        ],
    )
    assert r.exit_code == 0, r.output
    eff = pd.read_csv(out / "effects.csv")
    assert list(eff["estimator"]) == ["naive_difference", "psm_nn1_norepl"]
    assert eff["variance_method"].iloc[1].startswith("bootstrap")
    panel = tmp_path / "panel.csv"
    staggered_panel().to_csv(panel, index=False)
    r = runner.invoke(
        app,
        [
            "evaluate",
            str(panel),
            "--outcome",
            "y",
            "--design",
            "did",
            "--time",
            "year",
            "--group",
            "first_treat",
            "--id",
            "unit",
            "--out",
            str(tmp_path / "did"),
        ],
    )
    assert r.exit_code == 0, r.output
    eff = pd.read_csv(tmp_path / "did" / "effects.csv").set_index("estimator")
    # Reference: csdid 0.4.3 (port of R did::att_gt / did::aggte, analytic SEs) on the same simulated panel.
    ref = _csdid(staggered_panel())
    simple, dynamic = (ref.aggte(typec=k, bstrap=False).atte for k in ("simple", "dynamic"))
    assert eff.loc["callaway_santanna_simple", "att"] == pytest.approx(simple["overall_att"], abs=5e-4)
    assert eff.loc["callaway_santanna_simple", "se"] == pytest.approx(simple["overall_se"], abs=5e-4)
    assert eff.loc["callaway_santanna_dynamic", "att"] == pytest.approx(dynamic["overall_att"], abs=5e-4)
    assert eff.loc["callaway_santanna_dynamic", "se"] == pytest.approx(dynamic["overall_se"], abs=5e-4)
    assert (tmp_path / "did" / "event_study.png").stat().st_size > 0


def test_did_with_covariates_through_the_api_equals_csdid(tmp_path: Path) -> None:
    """Reference: csdid 0.4.3 ``ATTgt(xformla="~x").fit(est_method="dr", bstrap=False).aggte("simple")``, a
    port of R ``did::att_gt(xformla = ~x, est_method = "dr")`` + ``did::aggte(type = "simple")``, analytic SE,
    on a simulated panel where x drives adoption and trends (tests/helpers/did_data.py)."""
    ref = _csdid(selection_panel(), xformla="~x").aggte(typec="simple", bstrap=False).atte
    data = selection_panel()
    data.loc[data.index[:5], "y"] = np.nan  # missing outcomes are allowed and counted
    res = evaluate(data, outcome="y", design="did", time="year", group="first_treat", unit="unit", covariates=["x"])
    assert res.counts["n_missing_outcome"] == 5
    full = evaluate(
        selection_panel(),
        outcome="y",
        design="did",
        time="year",
        group="first_treat",
        unit="unit",
        formula="~ x",
    )
    simple = full.effects.set_index("estimator").loc["callaway_santanna_simple"]
    assert simple["att"] == pytest.approx(ref["overall_att"], abs=5e-4)
    assert simple["se"] == pytest.approx(ref["overall_se"], abs=5e-4)
    assert full.covariates == ["x"]
    out = write_result(full, tmp_path / "did")
    assert {"did_group_time.csv", "did_aggregates.csv", "event_study.png"} <= {p.name for p in out.iterdir()}
