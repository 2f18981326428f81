"""Figures for the outcome evaluation (event study, Kaplan-Meier), returned as PNG bytes.

Same conventions as ``insats.tasks.reporting.figures``: matplotlib object API on the Agg canvas (no pyplot, no global
state), fixed size and dpi, no "Software" metadata, so the bytes are identical for the same data and
matplotlib version. Labels in English or Swedish (``lang`` "en"/"sv", decimal comma in Swedish).

Expected columns:
- event study coefficients: ``rel_month``, ``att``, ``ci_low``, ``ci_high`` (as ``EventStudyResult.coefficients``)
- Kaplan-Meier curves: ``group`` ("treated"/"control"), ``time`` (months), ``survival`` (share not yet
  self-sufficient, 0..1), ``ci_low``, ``ci_high`` (as ``insats.tasks.evaluation.survival.kaplan_meier``)
"""

from __future__ import annotations

import io

import numpy as np
import pandas as pd
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from insats.tasks.reporting.i18n import check_lang, format_number

DPI = 100
_LINE = "#2f6f8f"
_ACCENT = "#c8553d"
_GREY = "#9aa5ad"

_TEXT: dict[str, dict[str, str]] = {
    "es_title": {"en": "Event study: {outcome} around the start", "sv": "Händelsestudie: {outcome} kring start"},
    "es_x": {
        "en": "Months relative to start (0 = month of start)",
        "sv": "Månader i förhållande till start (0 = startmånad)",
    },
    "es_y": {"en": "Effect (percentage points)", "sv": "Effekt (procentenheter)"},
    "es_y_raw": {"en": "Effect", "sv": "Effekt"},
    "ci": {"en": "95 % confidence interval", "sv": "95 % konfidensintervall"},
    "estimate": {"en": "Estimate", "sv": "Skattning"},
    "km_title": {"en": "Time to self-sufficiency", "sv": "Tid till egenförsörjning"},
    "km_x": {"en": "Months since start", "sv": "Månader sedan start"},
    "km_y": {"en": "Share not yet self-sufficient", "sv": "Andel ännu inte egenförsörjda"},
    "treated": {"en": "Participants", "sv": "Deltagare"},
    "control": {"en": "Matched comparison group", "sv": "Matchad jämförelsegrupp"},
    "no_data": {"en": "No data", "sv": "Inga uppgifter"},
    "on_assistance": {"en": "assistance receipt", "sv": "försörjningsstöd"},
}


def _t(key: str, lang: str) -> str:
    return _TEXT[key][lang]


def _require(df: pd.DataFrame, cols: tuple[str, ...], what: str) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {', '.join(missing)}; found {', '.join(map(str, df.columns))}")


def _figure(width: float = 8.0, height: float = 4.2) -> Figure:
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def _to_png(fig: Figure) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def event_study_plot(
    coefficients: pd.DataFrame,
    lang: str = "en",
    outcome: str = "on_assistance",
    percentage_points: bool = True,
) -> bytes:
    """Event-study coefficients by relative month with a shaded 95 % CI band, a dashed zero line and a
    vertical line at the start (0). ``percentage_points``: multiply a 0/1 outcome's effects by 100."""
    check_lang(lang)
    _require(coefficients, ("rel_month", "att", "ci_low", "ci_high"), "event-study coefficients")
    coef = coefficients.sort_values("rel_month", kind="mergesort")
    scale = 100.0 if percentage_points else 1.0
    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    if coef.empty:
        ax.text(0.5, 0.5, _t("no_data", lang), ha="center", va="center", transform=ax.transAxes)
    else:
        x = coef["rel_month"].to_numpy(dtype=float)
        ax.fill_between(
            x,
            coef["ci_low"].to_numpy(dtype=float) * scale,
            coef["ci_high"].to_numpy(dtype=float) * scale,
            color=_LINE,
            alpha=0.2,
            linewidth=0,
            label=_t("ci", lang),
        )
        ax.plot(
            x, coef["att"].to_numpy(dtype=float) * scale, "o-", color=_LINE, ms=3, lw=1.2, label=_t("estimate", lang)
        )
        ax.axhline(0.0, color=_GREY, lw=0.8, ls="--")
        ax.axvline(0.0, color=_ACCENT, lw=1.0)
        ax.axvline(-0.5, color=_GREY, lw=0.6, ls=":")
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: format_number(v, lang, 1 if scale == 100 else 2)))
        ax.legend(loc="best", fontsize=8, frameon=False)
    label = _TEXT.get(outcome, {}).get(lang, outcome)
    ax.set_title(_t("es_title", lang).format(outcome=label))
    ax.set_xlabel(_t("es_x", lang))
    ax.set_ylabel(_t("es_y", lang) if percentage_points else _t("es_y_raw", lang))
    fig.tight_layout()
    return _to_png(fig)


def kaplan_meier_plot(curves: pd.DataFrame, lang: str = "en") -> bytes:
    """Kaplan-Meier step curves (share not yet self-sufficient) for treated and matched controls, with
    pointwise 95 % CI bands; the curves start at 1 at time 0."""
    check_lang(lang)
    _require(curves, ("group", "time", "survival", "ci_low", "ci_high"), "Kaplan-Meier curves")
    fig = _figure()
    ax = fig.add_subplot(1, 1, 1)
    if curves.empty:
        ax.text(0.5, 0.5, _t("no_data", lang), ha="center", va="center", transform=ax.transAxes)
    for group, color in (("treated", _ACCENT), ("control", _LINE)):
        part = curves[curves["group"] == group].sort_values("time", kind="mergesort")
        if part.empty:
            continue
        time = np.concatenate([[0.0], part["time"].to_numpy(dtype=float)])
        surv = np.concatenate([[1.0], part["survival"].to_numpy(dtype=float)])
        low = np.concatenate([[1.0], part["ci_low"].to_numpy(dtype=float)])
        high = np.concatenate([[1.0], part["ci_high"].to_numpy(dtype=float)])
        ax.step(time, surv, where="post", color=color, lw=1.5, label=_t(group, lang))
        ax.fill_between(time, low, high, step="post", color=color, alpha=0.15, linewidth=0)
    ax.set_ylim(0.0, 1.02)
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: format_number(v, lang, 1)))
    ax.set_title(_t("km_title", lang))
    ax.set_xlabel(_t("km_x", lang))
    ax.set_ylabel(_t("km_y", lang))
    if not curves.empty:
        ax.legend(loc="best", fontsize=8, frameon=False)
    fig.tight_layout()
    return _to_png(fig)
