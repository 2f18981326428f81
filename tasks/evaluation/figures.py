"""Study 3's figures from its published tables, as PNG bytes in the project's plotting style
(``insats.tasks.reporting.plot_style``): per intervention the love plot and propensity overlap of the headline
1:1 PSM, the matched event study of assistance receipt and the Kaplan-Meier curves of time to
self-sufficiency (the last two drawn by ``insats.tasks.reporting.evaluation_figures``)."""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats.tasks.reporting.evaluation_figures import event_study_plot, kaplan_meier_plot
from insats.tasks.reporting.plot_style import (
    ACCENT,
    BAR,
    GREY,
    SMALL_FONT,
    axes_figure,
    empty_axes,
    require_columns,
    to_png,
)

SMD_THRESHOLD = 0.1  # |standardised mean difference| usually read as balanced


def love_plot(balance: pd.DataFrame, title: str) -> bytes:
    """|SMD| before (open circles) and after (filled) matching per covariate, with the 0.1 line.

    ``balance``: one intervention's rows of the balance table (covariate, smd_before, smd_after)."""
    require_columns(balance, ("covariate", "smd_before", "smd_after"), "balance table")
    fig, ax = axes_figure(height=0.3 * len(balance) + 1.2, width=6.0)
    if balance.empty:
        empty_axes(ax, "No data")
    else:
        y = np.arange(len(balance))
        ax.scatter(balance["smd_before"].abs(), y, facecolors="none", edgecolors=GREY, label="before")
        ax.scatter(balance["smd_after"].abs(), y, color=BAR, label="after")
        ax.axvline(SMD_THRESHOLD, color=ACCENT, linewidth=0.8, linestyle="--")
        ax.set_yticks(list(y), balance["covariate"].astype(str).tolist(), fontsize=SMALL_FONT)
        ax.legend(fontsize=SMALL_FONT, frameon=False)
    ax.set_xlabel("|standardised mean difference|")
    ax.set_title(f"Balance, {title}")
    fig.tight_layout()
    return to_png(fig)


def overlap_plot(overlap: pd.DataFrame, title: str) -> bytes:
    """Share of treated and of control rows per bin of the propensity-score logit (equal-width bins).

    ``overlap``: one intervention's rows of the overlap table (logit_low, logit_high, n_treated, n_controls)."""
    require_columns(overlap, ("logit_low", "logit_high", "n_treated", "n_controls"), "overlap table")
    fig, ax = axes_figure(height=3.0, width=6.0)
    if overlap.empty:
        empty_axes(ax, "No data")
    else:
        mid = (overlap["logit_low"] + overlap["logit_high"]) / 2
        width = float((overlap["logit_high"] - overlap["logit_low"]).iloc[0])
        for col, color, label in (("n_controls", GREY, "controls"), ("n_treated", BAR, "treated")):
            # Counts hidden by disclosure control are missing: those bins get no bar (drawn from published data).
            counts = pd.to_numeric(overlap[col], errors="coerce").astype("float64")
            share = counts / max(float(counts.sum()), 1.0)
            ax.bar(mid, share, width=width, alpha=0.5, color=color, label=label)
        ax.legend(fontsize=SMALL_FONT, frameon=False)
    ax.set_xlabel("logit of the propensity score")
    ax.set_ylabel("share of rows")
    ax.set_title(f"Propensity overlap, {title}")
    fig.tight_layout()
    return to_png(fig)


def evaluation_figures(
    balance: pd.DataFrame, overlap: pd.DataFrame, event_study: pd.DataFrame, survival: pd.DataFrame, lang: str
) -> dict[str, bytes]:
    """Four PNGs per intervention of the published ``balance`` table: {"love_<id>", "overlap_<id>",
    "event_study_<id>" (matched-pairs design), "survival_<id>"}; ``lang`` ("en"/"sv") for the last two."""
    figures = {}
    for i in sorted(balance["intervention_id"].unique()):
        matched = event_study[(event_study["intervention_id"] == i) & (event_study["design"] == "matched_pairs")]
        figures[f"love_{i}"] = love_plot(balance[balance["intervention_id"] == i], str(i))
        figures[f"overlap_{i}"] = overlap_plot(overlap[overlap["intervention_id"] == i], str(i))
        figures[f"event_study_{i}"] = event_study_plot(matched, lang)
        figures[f"survival_{i}"] = kaplan_meier_plot(survival[survival["intervention_id"] == i], lang)
    return figures
