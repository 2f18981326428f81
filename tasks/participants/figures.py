"""Participant-flow figures as PNG bytes, in the project's style (:mod:`insats.tasks.reporting.plot_style`: Agg
canvas, deterministic PNG) with locale-formatted numbers (``lang="sv"``: decimal comma).

Draw them from the published (suppressed) tables: hidden values are missing and are simply not drawn.
Expected columns:
- status_by_quarter: project, quarter, status, rank, n_participants
- enrolment: project, month (datetime64), n_enrolled
- time_to_step: project, month, share_stepped, ci_low, ci_high
- indicator_change: project, indicator, indicator_sv, indicator_en, mean_first, mean_latest
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from matplotlib import colormaps

from insats.tasks.participants.ladder import Ladder
from insats.tasks.participants.measures import ALL
from insats.tasks.reporting.i18n import format_number, format_percent, lookup, t
from insats.tasks.reporting.plot_style import (
    ACCENT,
    BAR,
    CMAP_GROUPS,
    CMAP_STEPS,
    GREY,
    SMALL_FONT,
    axes_figure,
    empty_axes,
    number_axis,
    require_columns,
    to_png,
)


def _t(key: str, lang: str, **fmt: str) -> str:
    return lookup("participant_figures", key, lang).format(**fmt)


def _project(project: str, lang: str) -> str:
    return _t("all", lang) if project == ALL else project


def status_by_quarter_figure(table: pd.DataFrame, ladder: Ladder, project: str = ALL, lang: str = "en") -> bytes:
    """Stacked bars: participants per status (ladder order, lowest at the bottom) in each quarter."""
    require_columns(table, ("project", "quarter", "status", "n_participants"), "status by quarter")
    sub = table[table["project"] == project]
    fig, ax = axes_figure(4.5)
    if sub.empty:
        empty_axes(ax, t("no_data", lang))
    else:
        wide = sub.pivot_table(index="quarter", columns="status", values="n_participants", aggfunc="sum")
        wide = wide.reindex(columns=[s for s in ladder.steps if s in wide.columns]).astype(float)
        x = np.arange(len(wide))
        bottom = np.zeros(len(wide))
        cmap = colormaps[CMAP_STEPS]
        for k, status in enumerate(wide.columns):
            values = wide[status].fillna(0).to_numpy()
            ax.bar(
                x,
                values,
                bottom=bottom,
                color=cmap(k / max(1, len(ladder.steps) - 1)),
                label=ladder.label(status, lang),
            )
            bottom += values
        ax.set_xticks(x, list(wide.index), rotation=90, fontsize=SMALL_FONT - 1)
        ax.set_ylabel(_t("participants", lang))
        ax.legend(fontsize=SMALL_FONT - 1, loc="upper left", bbox_to_anchor=(1.0, 1.0))
    ax.set_title(_t("status_title", lang, project=_project(project, lang)))
    fig.tight_layout()
    return to_png(fig)


def enrolment_figure(
    enrolment: pd.DataFrame,
    target: float | None = None,
    window: tuple[str | None, str | None] = (None, None),
    project: str = ALL,
    lang: str = "en",
) -> bytes:
    """Monthly enrolment as a line, the target as a dashed line over its window (YYYY-MM, inclusive);
    months under the target inside the window are marked."""
    require_columns(enrolment, ("project", "month", "n_enrolled"), "enrolment")
    sub = enrolment[enrolment["project"] == project].sort_values("month")
    fig, ax = axes_figure(3.8)
    if sub.empty:
        empty_axes(ax, t("no_data", lang))
    else:
        months = pd.to_datetime(sub["month"])
        n = sub["n_enrolled"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
        ax.plot(months, n, color=BAR, linewidth=2, label=_t("enrolled", lang))
        if target is not None:
            period = months.dt.to_period("M")
            inside = pd.Series(True, index=sub.index)
            if window[0]:
                inside &= period >= pd.Period(window[0], freq="M")
            if window[1]:
                inside &= period <= pd.Period(window[1], freq="M")
            span = months[inside]
            if len(span):
                ax.hlines(target, span.min(), span.max(), colors=ACCENT, linestyles="--", label=_t("target", lang))
                below = inside.to_numpy() & (n < target)
                ax.scatter(months[below], n[below], color=ACCENT, zorder=3, s=18)
        ax.set_ylim(bottom=0)
        number_axis(ax, lambda v: format_number(v, lang, 0), "y")
        ax.set_ylabel(_t("participants", lang))
        ax.legend(fontsize=SMALL_FONT, loc="lower right")
    ax.set_title(_t("enrolment_title", lang, project=_project(project, lang)))
    fig.tight_layout()
    return to_png(fig)


def km_figure(time_to_step: pd.DataFrame, lang: str = "en") -> bytes:
    """Cumulative share with a first upward step by months since start, a step line per project (total in
    grey) with a pointwise 95% band. Suppressed points (few at risk) are not drawn."""
    require_columns(time_to_step, ("project", "month", "share_stepped", "ci_low", "ci_high"), "time to step")
    fig, ax = axes_figure(4.0)
    data = time_to_step.dropna(subset=["share_stepped"])
    if data.empty:
        empty_axes(ax, t("no_data", lang))
    else:
        cmap = colormaps[CMAP_GROUPS]
        for k, (project, grp) in enumerate(data.groupby("project", sort=True)):
            color = GREY if project == ALL else cmap(k)
            x = grp["month"].to_numpy(float)
            ax.step(x, grp["share_stepped"].astype(float), where="post", color=color, label=_project(project, lang))
            low = grp["ci_low"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
            high = grp["ci_high"].astype("Float64").to_numpy(dtype=float, na_value=np.nan)
            ax.fill_between(x, low, high, step="post", color=color, alpha=0.15)
        ax.set_ylim(0, 1)
        number_axis(ax, lambda v: format_percent(v, lang, 0), "y")
        ax.set_xlabel(_t("km_x", lang))
        ax.set_ylabel(_t("km_y", lang))
        ax.legend(fontsize=SMALL_FONT, loc="lower right")
    ax.set_title(_t("km_title", lang))
    fig.tight_layout()
    return to_png(fig)


def radar_figure(
    change: pd.DataFrame, project: str = ALL, scale: tuple[float, float] = (1, 5), lang: str = "en"
) -> bytes:
    """Spider chart of mean indicator scores at the first and the latest measurement for one project."""
    require_columns(change, ("project", "indicator", "mean_first", "mean_latest"), "indicator change")
    sub = change[(change["project"] == project)].dropna(subset=["mean_first", "mean_latest"])
    fig, ax = axes_figure(6.0, polar=True)
    if len(sub) < 3:
        empty_axes(ax, t("no_data", lang))
    else:
        label_col = "indicator_en" if lang == "en" else "indicator_sv"
        labels = sub[label_col] if label_col in sub.columns else sub["indicator"]
        angles = np.linspace(0, 2 * np.pi, len(sub), endpoint=False)
        closed = np.append(angles, angles[0])
        for col, color, key in (("mean_first", GREY, "first"), ("mean_latest", BAR, "latest")):
            values = sub[col].astype(float).to_numpy()
            ax.plot(closed, np.append(values, values[0]), color=color, linewidth=2, label=_t(key, lang))
            ax.fill(closed, np.append(values, values[0]), color=color, alpha=0.15)
        ax.set_xticks(angles, [str(v) for v in labels], fontsize=SMALL_FONT)
        ax.set_ylim(scale[0], scale[1])
        ax.legend(fontsize=SMALL_FONT, loc="upper right", bbox_to_anchor=(1.25, 1.1))
    ax.set_title(_t("radar_title", lang, project=_project(project, lang)), pad=20)
    fig.tight_layout()
    return to_png(fig)
