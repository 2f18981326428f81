"""Figures for the outcome evaluation (event study, Kaplan-Meier), returned as PNG bytes.

Style, canvas and PNG output: :mod:`insats.tasks.reporting.plot_style` (deterministic bytes for the same data and
matplotlib version). Labels in English or Swedish (``lang`` "en"/"sv", locale-formatted numbers).

Expected columns:
- event study coefficients: ``rel_month``, ``att``, ``ci_low``, ``ci_high`` (as ``EventStudyResult.coefficients``)
- Kaplan-Meier curves: ``group`` ("treated"/"control"), ``time`` (months), ``survival`` (share not yet
  self-sufficient, 0..1), ``ci_low``, ``ci_high`` (as ``insats.tasks.evaluation.survival.kaplan_meier``)
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats.tasks.reporting.i18n import catalogue, check_lang, format_number, lookup
from insats.tasks.reporting.plot_style import (
    ACCENT,
    BAR,
    GREY,
    SMALL_FONT,
    axes_figure,
    empty_axes,
    number_axis,
    require_columns,
    to_png,
)


def _t(key: str, lang: str) -> str:
    return lookup("evaluation_figures", key, lang)


def event_study_plot(
    coefficients: pd.DataFrame,
    lang: str = "en",
    outcome: str = "on_assistance",
    percentage_points: bool = True,
) -> bytes:
    """Event-study coefficients by relative month with a shaded 95 % CI band, a dashed zero line and a
    vertical line at the start (0). ``percentage_points``: multiply a 0/1 outcome's effects by 100."""
    check_lang(lang)
    require_columns(coefficients, ("rel_month", "att", "ci_low", "ci_high"), "event-study coefficients")
    coef = coefficients.sort_values("rel_month", kind="mergesort")
    scale = 100.0 if percentage_points else 1.0
    fig, ax = axes_figure(4.2)
    if coef.empty:
        empty_axes(ax, _t("no_data", lang))
    else:
        x = coef["rel_month"].to_numpy(dtype=float)
        ax.fill_between(
            x,
            coef["ci_low"].to_numpy(dtype=float) * scale,
            coef["ci_high"].to_numpy(dtype=float) * scale,
            color=BAR,
            alpha=0.2,
            linewidth=0,
            label=_t("ci", lang),
        )
        ax.plot(x, coef["att"].to_numpy(dtype=float) * scale, "o-", color=BAR, ms=3, lw=1.2, label=_t("estimate", lang))
        ax.axhline(0.0, color=GREY, lw=0.8, ls="--")
        ax.axvline(0.0, color=ACCENT, lw=1.0)
        ax.axvline(-0.5, color=GREY, lw=0.6, ls=":")
        number_axis(ax, lambda v: format_number(v, lang, 1 if scale == 100 else 2), "y")
        ax.legend(loc="best", fontsize=SMALL_FONT, frameon=False)
    label = catalogue(lang)["evaluation_figures"].get(outcome, outcome)
    ax.set_title(_t("es_title", lang).format(outcome=label))
    ax.set_xlabel(_t("es_x", lang))
    ax.set_ylabel(_t("es_y", lang) if percentage_points else _t("es_y_raw", lang))
    fig.tight_layout()
    return to_png(fig)


def kaplan_meier_plot(curves: pd.DataFrame, lang: str = "en") -> bytes:
    """Kaplan-Meier step curves (share not yet self-sufficient) for treated and matched controls, with
    pointwise 95 % CI bands; the curves start at 1 at time 0."""
    check_lang(lang)
    require_columns(curves, ("group", "time", "survival", "ci_low", "ci_high"), "Kaplan-Meier curves")
    fig, ax = axes_figure(4.2)
    if curves.empty:
        empty_axes(ax, _t("no_data", lang))
    for group, color in (("treated", ACCENT), ("control", BAR)):
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
    number_axis(ax, lambda v: format_number(v, lang, 1), "y")
    ax.set_title(_t("km_title", lang))
    ax.set_xlabel(_t("km_x", lang))
    ax.set_ylabel(_t("km_y", lang))
    if not curves.empty:
        ax.legend(loc="best", fontsize=SMALL_FONT, frameon=False)
    fig.tight_layout()
    return to_png(fig)
