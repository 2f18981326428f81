"""Study 2 figures as PNG bytes in the project's style (:mod:`insats.tasks.reporting.plot_style`: Agg canvas,
deterministic PNG): inventory timeline, alignment heatmap, recall curve, and the coverage table by method family
and provider."""

from __future__ import annotations

import pandas as pd
from matplotlib import colormaps
from matplotlib.patches import Rectangle

from insats.tasks.mapping.inventory import PROVIDERS, split_competencies
from insats.tasks.reporting.i18n import format_number, t
from insats.tasks.reporting.plot_style import (
    CMAP_GROUPS,
    CMAP_SEQUENTIAL,
    GREY,
    SMALL_FONT,
    axes_figure,
    number_axis,
    to_png,
)


def timeline_figure(inventory: pd.DataFrame, as_of: pd.Timestamp) -> bytes:
    """Gantt-style PNG: one bar per intervention from start_date to end_date (ongoing ones to ``as_of``,
    hatched), coloured by provider, labelled ``<id> <name>`` and ordered by start date."""
    inv = inventory.sort_values(["start_date", "intervention_id"], ascending=[False, False])
    fig, ax = axes_figure(0.45 * len(inv) + 1.2, width=9)
    colours = {p: colormaps[CMAP_GROUPS](i) for i, p in enumerate(PROVIDERS)}
    as_of = pd.Timestamp(as_of)
    for y, rec in enumerate(inv.itertuples(index=False)):
        ongoing = pd.isna(rec.end_date)
        end = as_of if ongoing else rec.end_date
        ax.barh(y, (end - rec.start_date).days, left=rec.start_date, color=colours.get(rec.provider, GREY),
                hatch="//" if ongoing else None, edgecolor="black", linewidth=0.5)  # fmt: skip
    ax.set_yticks(range(len(inv)))
    ax.set_yticklabels([f"{i} {str(n)[:40]}" for i, n in zip(inv["intervention_id"], inv["name"], strict=True)])
    handles = [Rectangle((0, 0), 1, 1, color=c) for p, c in colours.items() if p in set(inv["provider"])]
    ax.legend(handles, [p for p in colours if p in set(inv["provider"])], fontsize=SMALL_FONT - 1, loc="lower right")
    ax.set_title("Interventions over time (hatched: ongoing)")
    fig.tight_layout()
    return to_png(fig)


def alignment_matrix(inventory: pd.DataFrame, demand_profile: pd.DataFrame) -> pd.DataFrame:
    """Intervention x demanded competency: the competency's share of employers where the intervention addresses
    it, 0 where not. Rows in inventory order (index intervention_id), columns code_id by demand rank."""
    prof = demand_profile.sort_values(["rank", "code_id"], kind="mergesort")
    share = dict(zip(prof["code_id"].astype(str).str.upper(), prof["share_employers"].astype(float), strict=True))
    codes = list(share)
    rows = {
        iid: [share[c] if c in set(split_competencies(comps)) else 0.0 for c in codes]
        for iid, comps in zip(inventory["intervention_id"], inventory["competencies"], strict=True)
    }
    return pd.DataFrame.from_dict(rows, orient="index", columns=codes)


def alignment_heatmap(inventory: pd.DataFrame, demand_profile: pd.DataFrame, lang: str = "en") -> bytes:
    """Heatmap PNG of :func:`alignment_matrix`: darker = an addressed competency that more employers demand.
    Titles in ``lang`` ("en"/"sv"), colour-bar ticks as locale-formatted shares."""
    mat = alignment_matrix(inventory, demand_profile)
    fig, ax = axes_figure(0.4 * mat.shape[0] + 1.8, width=1.0 * mat.shape[1] + 3)
    im = ax.imshow(mat.to_numpy(), cmap=CMAP_SEQUENTIAL, vmin=0, vmax=1, aspect="auto")
    ax.set_xticks(range(mat.shape[1]))
    ax.set_xticklabels([c.split(".")[-1] for c in mat.columns], rotation=45, ha="right")
    ax.set_yticks(range(mat.shape[0]))
    ax.set_yticklabels(mat.index)
    bar = fig.colorbar(im, ax=ax, label=t("figure_heatmap_colorbar", lang))
    number_axis(bar.ax, lambda v: format_number(v, lang, 1), "y")
    ax.set_title(t("figure_heatmap_title", lang))
    fig.tight_layout()
    return to_png(fig)


def recall_curve_figure(curve: pd.DataFrame) -> bytes:
    """PNG of the screening simulation: recall against share screened, active learning vs random order."""
    n = len(curve)
    fig, ax = axes_figure(4, width=5)
    ax.plot(curve["n_screened"] / n, curve["recall"], label="active learning")
    ax.plot(curve["n_screened"] / n, curve["recall_random"], linestyle="--", label="random order (expected)")
    ax.axhline(0.95, color=GREY, linewidth=0.5)
    ax.set_xlabel("share of records screened")
    ax.set_ylabel("recall")
    ax.legend()
    fig.tight_layout()
    return to_png(fig)


def coverage_by_family_provider(inventory: pd.DataFrame, as_of: pd.Timestamp | None = None) -> pd.DataFrame:
    """Counts of interventions per method_family x provider: columns method_family, provider,
    n_interventions, n_ongoing (ongoing: no end_date, or running at ``as_of``), capacity (sum of known
    capacities, Int64). Only combinations that occur; sorted by method_family, provider."""
    from insats.tasks.mapping.inventory import ongoing_mask

    df = inventory.assign(_on=ongoing_mask(inventory, as_of))
    out = (
        df.groupby(["method_family", "provider"], sort=True)
        .agg(n_interventions=("intervention_id", "size"), n_ongoing=("_on", "sum"), capacity=("capacity", "sum"))
        .reset_index()
    )
    return out.astype({"n_interventions": "int64", "n_ongoing": "int64", "capacity": "Int64"})
