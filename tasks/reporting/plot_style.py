"""One plotting style for every figure of the project: Agg canvas, colours, fonts, PNG output.

Figures are built with matplotlib's object API on the Agg canvas (no pyplot: no global figure state, no backend
switching). :func:`to_png` writes deterministic bytes for the same data and matplotlib version (fixed dpi, no
"Software" metadata). Figure modules (``insats.tasks.reporting.figures``, ``.evaluation_figures``,
``insats.tasks.participants.figures``, ``insats.tasks.mapping.figures``) import only the public names here.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pandas as pd
from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

DPI = 100
WIDTH_IN = 8.0
BAR = "#2f6f8f"  # main series
ACCENT = "#c8553d"  # highlight, targets, reference lines
GREY = "#9aa5ad"  # secondary series, zero lines
SMALL_FONT = 8  # tick labels, legends, bar annotations
LABEL_FONT = 10  # panel super-labels
CMAP_SEQUENTIAL = "Blues"  # heatmaps
CMAP_STEPS = "viridis"  # ordered categories (ladder steps)
CMAP_GROUPS = "tab10"  # unordered groups (projects, providers)


def new_figure(width: float = WIDTH_IN, height: float = 4.0) -> Figure:
    """An empty Figure (size in inches) attached to an Agg canvas."""
    fig = Figure(figsize=(width, height), dpi=DPI)
    FigureCanvasAgg(fig)
    return fig


def axes_figure(height: float = 4.0, width: float = WIDTH_IN, polar: bool = False) -> tuple[Figure, Axes]:
    """A Figure with one (optionally polar) Axes."""
    fig = new_figure(width, height)
    return fig, fig.add_subplot(1, 1, 1, projection="polar" if polar else None)


def rows_figure(n_rows: int, ncols: int = 1) -> tuple[Figure, list[Axes]]:
    """A Figure whose height grows with ``n_rows`` bars (2.5..12 in), ``ncols`` panels sharing the y axis."""
    fig = new_figure(WIDTH_IN, min(12.0, max(2.5, 0.9 + 0.38 * n_rows)))
    return fig, list(fig.subplots(1, ncols, sharey=True, squeeze=False)[0])


def to_png(fig: Figure) -> bytes:
    """The figure as PNG bytes (deterministic: fixed dpi, no software metadata)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI, metadata={"Software": None})
    return buf.getvalue()


def empty_axes(ax: Axes, message: str) -> None:
    """Write ``message`` (e.g. "No data") in the middle of ``ax`` and remove its ticks."""
    ax.text(0.5, 0.5, message, ha="center", va="center", transform=ax.transAxes)
    ax.set_xticks([])
    ax.set_yticks([])


def number_axis(ax: Axes, formatter: Callable[[float], str], axis: str = "x") -> None:
    """Tick labels on ``axis`` ("x" or "y") written by ``formatter(value) -> str`` (e.g. locale formatting)."""
    target = ax.xaxis if axis == "x" else ax.yaxis
    target.set_major_formatter(FuncFormatter(lambda v, _pos: formatter(v)))


def shorten(text: str, width: int = 42) -> str:
    """``text`` cut to ``width`` characters with an ellipsis."""
    return text if len(text) <= width else text[: width - 1].rstrip() + "…"


def require_columns(df: pd.DataFrame, cols: tuple[str, ...], what: str) -> None:
    """Raise ValueError naming ``what`` and the missing columns when ``df`` lacks any of ``cols``."""
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise ValueError(f"{what}: missing column(s) {', '.join(missing)}; found {', '.join(map(str, df.columns))}")
