"""Reading a researcher's data set and turning a covariate list or a formula into a design matrix.

``read_dataset`` reads .dta, .sav/.zsav, .csv, .parquet (and the other formats of
``insats.tasks.register.readers.read_extract``) and keeps Stata/SPSS variable labels and value labels.
``design_matrix`` builds the covariates with ``formulaic`` (Wilkinson formulas: ``I(age**2)``, ``educ*re74``,
``C(region)``; text columns become indicator columns), after dropping (and counting) rows with a missing value
in any variable the analysis uses.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

LABELLED_SUFFIXES = (".dta", ".sav", ".zsav")


@dataclass
class Dataset:
    """A data frame with its labels: ``variable_labels`` {column: label}, ``value_labels`` {column: {code:
    label}}; ``source``: the file it came from (None for an in-memory frame)."""

    frame: pd.DataFrame
    variable_labels: dict[str, str] = field(default_factory=dict)
    value_labels: dict[str, dict] = field(default_factory=dict)
    source: Path | None = None

    def label(self, column: str) -> str:
        """``column`` with its variable label, e.g. "age (Age in years)"; the name alone without one."""
        text = self.variable_labels.get(column)
        return f"{column} ({text})" if text and text != column else column

    def term_label(self, term: str) -> str:
        """A design-matrix column in words: plain columns with their label, ``C(x)[T.2]`` / ``x[T.2]`` with
        the value label of 2 when x has one; other terms (``I(age ** 2)``, ``educ:re74``) as written."""
        if term in self.frame.columns:
            return self.label(term)
        m = re.fullmatch(r"(?:C\()?`?([^`()\[]+)`?(?:\))?\[T\.(.+)\]", term)
        if m and m.group(1) in self.frame.columns:
            col, level = m.group(1), m.group(2)
            labels = self.value_labels.get(col, {})
            key = next((k for k in labels if str(k) == level or str(k) == level.removesuffix(".0")), None)
            return f"{self.variable_labels.get(col) or col}: {labels[key] if key is not None else level}"
        return term


def read_dataset(path: str | Path) -> Dataset:
    """Read a data file with its labels (``.dta``/``.sav`` through pyreadstat; codes kept, labels aside)."""
    from insats.tasks.register.readers import read_extract, read_value_labels

    path = Path(path)
    frame = read_extract(path)
    variable_labels: dict[str, str] = {}
    value_labels: dict[str, dict] = {}
    if path.suffix.lower() in LABELLED_SUFFIXES:
        import pyreadstat

        reader = pyreadstat.read_dta if path.suffix.lower() == ".dta" else pyreadstat.read_sav
        _, meta = reader(str(path), metadataonly=True)
        variable_labels = {k: v for k, v in (meta.column_names_to_labels or {}).items() if v}
        value_labels = read_value_labels(path)
    return Dataset(frame, variable_labels, value_labels, path)


def check_columns(data: Dataset, columns: list[str], what: str = "") -> None:
    """Raise one line naming the unknown column(s) and listing the data set's columns."""
    unknown = [c for c in dict.fromkeys(columns) if c not in data.frame.columns]
    if unknown:
        where = f" in {data.source.name}" if data.source else ""
        raise ValueError(
            f"unknown column(s){' for ' + what if what else ''}: {', '.join(unknown)}; the columns{where} are: "
            + ", ".join(map(str, data.frame.columns))
        )


def _quote(column: str) -> str:
    return column if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", column) else f"`{column}`"


def formula_terms(formula: str | None, covariates: list[str] | None, treatment: str | None) -> tuple[str, list[str]]:
    """The right-hand side to build and the data columns it needs.

    ``formula``: "treat ~ age + I(age**2)" (the left side, if any, must be ``treatment``) or "age + educ";
    ``covariates``: plain column names (quoted for formulaic). Exactly one of the two."""
    if (formula is None) == (covariates is None):
        raise ValueError("give either covariates or a formula (one of the two)")
    if formula is None:
        if not covariates:
            raise ValueError("no covariates given")
        rhs = " + ".join(_quote(c) for c in covariates)
    else:
        lhs, _, rhs = formula.rpartition("~")
        if lhs.strip() and treatment and lhs.strip().strip("`") != treatment:
            raise ValueError(f"the formula's left side {lhs.strip()!r} is not the treatment {treatment!r}")
        rhs = rhs.strip()
    from formulaic import Formula

    needed = sorted(Formula(rhs).required_variables)
    return rhs, needed


def design_matrix(frame: pd.DataFrame, rhs: str) -> pd.DataFrame:
    """The covariate columns of ``rhs`` (no intercept) for complete rows of ``frame``, indexed like it."""
    from formulaic import model_matrix

    mm = model_matrix(rhs, frame, na_action="raise")
    x = pd.DataFrame(mm, index=frame.index).drop(columns=["Intercept"], errors="ignore")
    return x.astype(float)
