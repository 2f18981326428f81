"""From coded segments to code frequencies per employer and an employer demand profile.

The unit of the profile is the *employer* (``employer_id`` in the interview metadata), not the interview
or the segment: an employer interviewed twice, or mentioning Swedish in five turns, counts once.

Stance (``stance`` of the coded segments, :mod:`insats.tasks.interviews.stance`): each employer gets one
stance per code from all their mentions (krav > neutral > inte_krav), so every employer who mentioned a code
is counted in exactly one of ``n_employers_krav`` / ``n_employers_neutral`` / ``n_employers_inte_krav``.
Demand (``n_employers``, ``share_employers``) counts ``krav`` only: a hedge ("meriterande", "bra om man
har") or a denial ("vi kräver inte körkort") is not demand. Coded tables without a ``stance`` column (older
runs) read ``negated`` as inte_krav and everything else as krav.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats.tasks.interviews.codebook import Codebook

FREQUENCY_COLUMNS = ["employer_id", "code_id", "n_segments"]
PROFILE_COLUMNS = [
    "code_id",
    "label",
    "label_en",
    "n_employers",
    "n_employers_total",
    "share_employers",
    "rank",
    "ci_low",
    "ci_high",
    "n_employers_krav",
    "n_employers_neutral",
    "n_employers_inte_krav",
    "share_neutral",
    "share_inte_krav",
]
STANCE_ORDER = ("krav", "neutral", "inte_krav")


def _require(df: pd.DataFrame, columns: list[str], name: str) -> None:
    missing = [c for c in columns if c not in df.columns]
    if missing:
        raise ValueError(f"{name}: missing column(s) {missing}; has {list(df.columns)}")


def with_stance(coded: pd.DataFrame) -> pd.DataFrame:
    """``coded`` with a ``stance`` column: kept when present (values checked), else from ``negated``."""
    if "stance" not in coded.columns:
        return coded.assign(stance=coded["negated"].astype(bool).map({True: "inte_krav", False: "krav"}))
    bad = sorted(set(coded["stance"].astype(str)) - set(STANCE_ORDER))
    if bad:
        raise ValueError(f"coded segments: column 'stance' has {bad[:3]}; expected one of {list(STANCE_ORDER)}")
    return coded


def _with_employer(coded: pd.DataFrame, employers: pd.DataFrame, include_negated: bool) -> pd.DataFrame:
    """Coded rows with their employer_id and stance attached; ``inte_krav`` rows dropped unless
    ``include_negated``."""
    _require(coded, ["interview_id", "segment_id", "code_id", "negated"], "coded segments")
    _require(employers, ["interview_id", "employer_id"], "employers")
    if employers.empty:
        raise ValueError("employers: no interviews listed; cannot compute shares of employers")
    ids = employers["interview_id"].astype(str)
    if ids.duplicated().any():
        raise ValueError(f"employers: interview_id {ids[ids.duplicated()].iloc[0]!r} listed more than once")
    if employers["employer_id"].isna().any():
        row = int(employers["employer_id"].isna().to_numpy().argmax())
        raise ValueError(f"employers: row {row} (interview {ids.iloc[row]!r}) has no employer_id")
    unknown = sorted(set(coded["interview_id"].astype(str)) - set(ids))
    if unknown:
        raise ValueError(f"coded segments: interview_id(s) {unknown[:5]} not in the employers table")
    coded = with_stance(coded)
    rows = coded if include_negated else coded[coded["stance"] != "inte_krav"]
    mapping = dict(zip(ids, employers["employer_id"].astype(str), strict=True))
    return rows.assign(employer_id=rows["interview_id"].astype(str).map(mapping))


def code_frequencies(coded: pd.DataFrame, employers: pd.DataFrame, include_negated: bool = False) -> pd.DataFrame:
    """Number of distinct segments per employer and code.

    ``coded``: output of ``coding.code_segments``; ``employers``: interview metadata with interview_id and
    employer_id. Returns columns employer_id, code_id, n_segments (int >= 1), only for pairs that occur,
    sorted by employer_id and code_id. Segments whose stance is inte_krav (negated) are not counted unless
    ``include_negated``; krav and neutral mentions are.
    """
    rows = _with_employer(coded, employers, include_negated)
    out = rows.groupby(["employer_id", "code_id"], sort=True)["segment_id"].nunique().rename("n_segments").reset_index()
    return out[FREQUENCY_COLUMNS].astype({"n_segments": "int64"}).reset_index(drop=True)


def demand_profile(
    coded: pd.DataFrame,
    employers: pd.DataFrame,
    codebook: Codebook,
    parent: str = "KOMP",
    include_negated: bool = False,
) -> pd.DataFrame:
    """Share of employers demanding (stance ``krav``) each child code of ``parent``, with the hedged and the
    denying employers beside it.

    One row for every direct child of ``parent`` (codes nobody mentioned included with 0); a mention of
    a deeper descendant counts for the child it sits under. Columns: code_id, label, label_en,
    n_employers (employers whose stance on the code is krav; with ``include_negated`` every employer who
    mentioned it), n_employers_total (distinct employer_id in
    ``employers``, interviewed but silent employers included), share_employers (0..1), rank (1 = most
    mentioned; ties share the lowest rank, ``method="min"``), ci_low / ci_high (95 % Wilson interval of the
    share; the employers are treated as a sample of the municipality's employers), n_employers_krav /
    n_employers_neutral / n_employers_inte_krav (each mentioning employer's combined stance, a partition of
    the mentioning employers), share_neutral, share_inte_krav (of n_employers_total). Sorted by rank, then
    codebook order.
    Raises ValueError for an unknown parent, a parent without children, or code ids absent from the
    codebook.
    """
    if parent not in codebook.ids:
        raise ValueError(f"{codebook.source}: parent code {parent!r} not in the codebook")
    children = codebook.children(parent)
    if not children:
        raise ValueError(f"{codebook.source}: code {parent!r} has no child codes to profile")
    rows = _with_employer(coded, employers, include_negated=True)
    unknown = sorted(set(rows["code_id"].astype(str)) - set(codebook.ids))
    if unknown:
        raise ValueError(f"coded segments: code id(s) {unknown[:5]} not in {codebook.source}")
    roll_up = {child.id: child.id for child in children}
    for child in children:
        for d in codebook.descendants(child.id):
            roll_up[d.id] = child.id
    rows = rows.assign(child=rows["code_id"].astype(str).map(roll_up)).dropna(subset=["child"])
    rank_of = {s: i for i, s in enumerate(STANCE_ORDER)}
    per_employer = (
        rows.assign(_r=rows["stance"].map(rank_of)).groupby(["child", "employer_id"])["_r"].min().reset_index()
    )
    by = {
        s: per_employer[per_employer["_r"] == i].groupby("child")["employer_id"].nunique() for s, i in rank_of.items()
    }
    counts = per_employer.groupby("child")["employer_id"].nunique() if include_negated else by["krav"]
    total = int(employers["employer_id"].astype(str).nunique())
    out = pd.DataFrame(
        {
            "code_id": [c.id for c in children],
            "label": [c.label for c in children],
            "label_en": [c.label_en for c in children],
            "n_employers": [int(counts.get(c.id, 0)) for c in children],
            "n_employers_total": total,
            "order": range(len(children)),
            **{f"n_employers_{s}": [int(by[s].get(c.id, 0)) for c in children] for s in STANCE_ORDER},
        }
    )
    out["share_employers"] = out["n_employers"] / total
    out["share_neutral"] = out["n_employers_neutral"] / total
    out["share_inte_krav"] = out["n_employers_inte_krav"] / total
    out["rank"] = out["n_employers"].rank(method="min", ascending=False).astype("int64")
    out["ci_low"], out["ci_high"] = wilson_interval(out["n_employers"].to_numpy(), total)
    out = out.sort_values(["rank", "order"], kind="stable").reset_index(drop=True)
    counts_int = {c: "int64" for c in PROFILE_COLUMNS if c.startswith("n_employers")}
    return out[PROFILE_COLUMNS].astype(counts_int)


def wilson_interval(k: np.ndarray | int, n: int, z: float = 1.959964) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval for ``k`` successes of ``n`` (vectorised over ``k``); 95 % by default.

    Chosen over the normal approximation because shares near 0 or 1 with 10-30 employers are common.
    """
    if n <= 0:
        raise ValueError(f"n must be positive for a confidence interval, got {n}")
    p = np.asarray(k, dtype=float) / n
    centre = (p + z**2 / (2 * n)) / (1 + z**2 / n)
    half = z * np.sqrt(p * (1 - p) / n + z**2 / (4 * n**2)) / (1 + z**2 / n)
    return np.clip(centre - half, 0, 1), np.clip(centre + half, 0, 1)


BY_ATTRIBUTE_COLUMNS = [
    "attribute", "level", "code_id", "label", "n_employers", "n_employers_total", "share_employers", "ci_low",
    "ci_high", "n_employers_neutral", "n_employers_inte_krav",
]  # fmt: skip


def demand_by_attribute(
    coded: pd.DataFrame,
    employers: pd.DataFrame,
    codebook: Codebook,
    attribute: str = "sector",
    parent: str = "KOMP",
    include_negated: bool = False,
) -> pd.DataFrame:
    """The demand profile within each level of an employer attribute (sector, size_class, ...).

    Columns :data:`BY_ATTRIBUTE_COLUMNS`; one row per level x child code of ``parent``, shares of the
    employers in that level with Wilson 95 % intervals (wide with few employers per level: read them).
    Raises ValueError when ``attribute`` is not a column of ``employers``.
    """
    if attribute not in employers.columns:
        raise ValueError(f"employers: no column {attribute!r} to break the profile down by")
    frames = []
    for level, meta in employers.groupby(attribute, sort=True):
        sub = coded[coded["interview_id"].astype(str).isin(meta["interview_id"].astype(str))]
        prof = demand_profile(sub, meta, codebook, parent=parent, include_negated=include_negated)
        frames.append(prof.assign(attribute=attribute, level=str(level)))
    return pd.concat(frames, ignore_index=True)[BY_ATTRIBUTE_COLUMNS]


QUOTE_COLUMNS = ["code_id", "quote_no", "interview_id", "segment_id", "negated", "quote"]


def quote_bank(
    coded: pd.DataFrame, segments: pd.DataFrame, per_code: int = 3, max_chars: int = 300, seed: int = 0
) -> pd.DataFrame:
    """Up to ``per_code`` quotes per code, from different interviews where possible: krav first, then neutral,
    then inte_krav (negated).

    ``segments`` must be the *redacted* segments (``segment_turns`` on ``redaction.redact`` output): quotes
    are their text, cut at ``max_chars`` with "…". Columns :data:`QUOTE_COLUMNS`; deterministic for a seed.
    """
    _require(coded, ["interview_id", "segment_id", "code_id", "negated"], "coded segments")
    _require(segments, ["segment_id", "text"], "segments")
    text = segments.set_index("segment_id")["text"]
    rows = []
    coded = with_stance(coded)
    rank_of = {s: i for i, s in enumerate(STANCE_ORDER)}
    for code, g in coded.groupby("code_id", sort=True):
        g = g.sample(frac=1, random_state=seed)
        g = g.assign(_r=g["stance"].map(rank_of)).sort_values("_r", kind="stable")
        g = pd.concat([g.drop_duplicates("interview_id"), g[g.duplicated("interview_id")]])
        for n, r in enumerate(g.head(per_code).itertuples(), start=1):
            quote = str(text[r.segment_id])
            quote = quote if len(quote) <= max_chars else quote[: max_chars - 1].rstrip() + "…"
            rows.append([code, n, r.interview_id, r.segment_id, bool(r.negated), " ".join(quote.split())])
    return pd.DataFrame(rows, columns=QUOTE_COLUMNS).astype({"quote_no": "int64", "negated": "bool"})
