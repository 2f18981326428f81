"""Figures for the seminar brief, returned as PNG bytes (style, canvas and PNG output:
:mod:`insats.tasks.reporting.plot_style`).

Labels follow ``lang`` ("en"/"sv"; numbers on the axes are locale-formatted). Suppressed values (missing
estimates) are simply not drawn.

Expected columns:
- profile: ``code_id``, ``label`` (Swedish), ``label_en``, ``share_employers`` (0..1), ``rank``
- alignment: ``intervention_id``, ``name``, ``alignment_score`` (0..1)
- effects: ``intervention_id``, ``outcome``, ``horizon_months``, ``att``, ``ci_low``, ``ci_high``
  (``estimator`` used in labels when several; others ignored)
- balance: ``intervention_id``, ``covariate``, ``smd_before``, ``smd_after``
"""

from __future__ import annotations

import pandas as pd

from insats.tasks.reporting.i18n import check_lang, format_number, outcome_label, t
from insats.tasks.reporting.plot_style import (
    ACCENT,
    BAR,
    GREY,
    LABEL_FONT,
    SMALL_FONT,
    empty_axes,
    number_axis,
    require_columns,
    rows_figure,
    shorten,
    to_png,
)


def demand_profile_figure(profile: pd.DataFrame, lang: str = "en") -> bytes:
    """Horizontal bars of share_employers (in %) by competency label, most demanded at the top."""
    check_lang(lang)
    require_columns(profile, ("share_employers", "rank"), "demand profile")
    prof = profile.sort_values(["rank"], kind="mergesort")
    label_col = "label" if lang == "sv" else "label_en"
    if label_col not in prof.columns:
        label_col = "label" if "label" in prof.columns else "code_id"
    labels = [shorten(str(v)) for v in prof[label_col]]
    fig, (ax,) = rows_figure(len(prof))
    if prof.empty:
        empty_axes(ax, t("no_data", lang))
    else:
        y = list(range(len(prof)))[::-1]
        shares = prof["share_employers"].astype(float).to_numpy() * 100
        ax.barh(y, shares, color=BAR)
        ax.set_yticks(y, labels)
        ax.set_xlim(0, 100)
        for yi, s in zip(y, shares, strict=True):
            ax.text(s + 1, yi, format_number(s, lang, 0), va="center", fontsize=SMALL_FONT)
        number_axis(ax, lambda v: format_number(v, lang, 0))
        ax.set_xlabel(t("figure_demand_x", lang))
    ax.set_title(t("figure_demand_title", lang))
    fig.tight_layout()
    return to_png(fig)


def alignment_figure(alignment: pd.DataFrame, lang: str = "en") -> bytes:
    """Horizontal bars of alignment_score (0..1) per intervention, best-aligned at the top (highlighted)."""
    check_lang(lang)
    require_columns(alignment, ("intervention_id", "alignment_score"), "alignment")
    al = alignment.sort_values(["alignment_score", "intervention_id"], ascending=[False, True], kind="mergesort")
    fig, (ax,) = rows_figure(len(al))
    if al.empty:
        empty_axes(ax, t("no_data", lang))
    else:
        names = al["name"] if "name" in al.columns else al["intervention_id"]
        labels = [
            shorten(f"{i} {n}" if n != i else str(i), 46) for i, n in zip(al["intervention_id"], names, strict=True)
        ]
        y = list(range(len(al)))[::-1]
        scores = al["alignment_score"].astype(float).to_numpy()
        colors = [ACCENT if k == 0 else BAR for k in range(len(al))]
        ax.barh(y, scores, color=colors)
        ax.set_yticks(y, labels, fontsize=SMALL_FONT)
        ax.set_xlim(0, 1)
        for yi, s in zip(y, scores, strict=True):
            ax.text(s + 0.01, yi, format_number(s, lang, 2), va="center", fontsize=SMALL_FONT)
        number_axis(ax, lambda v: format_number(v, lang, 1))
        ax.set_xlabel(t("figure_alignment_x", lang))
    ax.set_title(t("figure_alignment_title", lang))
    fig.tight_layout()
    return to_png(fig)


def effect_figure(effects: pd.DataFrame, lang: str = "en") -> bytes:
    """Point estimate (ATT) and 95% CI per intervention/outcome/horizon row, with a line at 0.

    Rows whose estimate is missing (e.g. suppressed) are left out."""
    check_lang(lang)
    require_columns(effects, ("intervention_id", "outcome", "att", "ci_low", "ci_high"), "effects")
    eff = effects.dropna(subset=["att"]).reset_index(drop=True)
    fig, (ax,) = rows_figure(len(eff))
    if eff.empty:
        empty_axes(ax, t("no_data", lang))
    else:
        months = t("months_short", lang)
        labels = []
        for rec in eff.itertuples(index=False):
            h = getattr(rec, "horizon_months", None)
            est = getattr(rec, "estimator", None)
            text = f"{rec.intervention_id} · {outcome_label(rec.outcome, lang)}"
            if h is not None and not pd.isna(h):
                text += f" {int(h)} {months}"
            if est is not None and not pd.isna(est) and eff.get("estimator", pd.Series()).nunique() > 1:
                text += f" ({est})"
            labels.append(shorten(text, 50))
        y = list(range(len(eff)))[::-1]
        att = eff["att"].astype(float).to_numpy()
        low = pd.to_numeric(eff["ci_low"], errors="coerce").astype(float).to_numpy()
        high = pd.to_numeric(eff["ci_high"], errors="coerce").astype(float).to_numpy()
        ax.axvline(0, color=GREY, linewidth=1)
        for yi, a, lo, hi in zip(y, att, low, high, strict=True):
            if lo == lo and hi == hi:  # not NaN
                ax.plot([lo, hi], [yi, yi], color=BAR, linewidth=2)
            ax.plot([a], [yi], "o", color=ACCENT, markersize=7)
        ax.set_yticks(y, labels, fontsize=SMALL_FONT)
        ax.set_ylim(-0.7, len(eff) - 0.3)
        number_axis(ax, lambda v: format_number(v, lang, 2))
        ax.set_xlabel(t("figure_effect_x", lang))
    ax.set_title(t("figure_effect_title", lang))
    fig.tight_layout()
    return to_png(fig)


def balance_figure(balance: pd.DataFrame, lang: str = "en") -> bytes:
    """Love plot: |SMD| before (open circles) and after matching (filled) per covariate, with the 0.1 line;
    one panel per intervention (up to 4 side by side, sharing the covariate axis)."""
    check_lang(lang)
    require_columns(balance, ("intervention_id", "covariate", "smd_before", "smd_after"), "balance")
    bal = balance.dropna(subset=["smd_after"])
    interventions = list(dict.fromkeys(bal["intervention_id"].astype(str)))[:4]
    covariates = list(dict.fromkeys(bal["covariate"].astype(str)))
    fig, axes = rows_figure(len(covariates), ncols=max(1, len(interventions)))
    if bal.empty:
        empty_axes(axes[0], t("no_data", lang))
        axes[0].set_title(t("figure_balance_title", lang))
    else:
        pos = {c: len(covariates) - 1 - k for k, c in enumerate(covariates)}
        for ax, iid in zip(axes, interventions, strict=True):
            sub = bal[bal["intervention_id"].astype(str) == iid]
            y = [pos[c] for c in sub["covariate"].astype(str)]
            ax.axvline(0.1, color=ACCENT, linestyle="--", linewidth=1)
            ax.scatter(
                sub["smd_before"].astype(float).abs(),
                y,
                facecolors="none",
                edgecolors=GREY,
                label=t("before", lang),
            )
            ax.scatter(sub["smd_after"].astype(float).abs(), y, color=BAR, label=t("after", lang))
            ax.set_title(iid, fontsize=9)
            ax.set_xlim(left=0)
            number_axis(ax, lambda v: format_number(v, lang, 2))
        axes[0].set_yticks(list(pos.values()), [shorten(c, 30) for c in pos], fontsize=SMALL_FONT)
        axes[0].legend(loc="lower right", fontsize=SMALL_FONT)
        fig.supxlabel(t("figure_balance_x", lang), fontsize=LABEL_FONT)
        fig.suptitle(t("figure_balance_title", lang))
    fig.tight_layout()
    return to_png(fig)
