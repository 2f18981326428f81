"""Participant-flow measures: steps per participant, project and total shares, enrolment over time,
time to the first upward step (Kaplan-Meier), quarter-to-quarter transitions and statuses by quarter.

Inputs are the frames of ``insats.tasks.participants.readers``: participants (participant_id, project, gender,
start_date, end_date, exit_status, ...) and statuses (participant_id, period_start, status). Months are
calendar-length averages (days / 30.4375). ``end_date`` is the last enrolled day (the readers turn
exclusive end dates, config ``participant_flow.end_date: exclusive``, into it), so a participant enrolled
2021-01-01 .. 2021-01-31 is enrolled 31 days and in January only. ``as_of`` is the date the documentation
describes: ongoing participants are followed up to and including it. The total over all projects is the
project ``"all"`` and over all genders the gender ``"all"``.

A participant's ladder path is the documented statuses in period order, followed by the exit status
when that is a ladder step (dated at the end date): an exit to work after work practice is a step up.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from insats.tasks.participants.ladder import FAVOURABLE_CATEGORIES, ONGOING, Ladder
from insats.tasks.participants.readers import period_end

ALL = "all"
DAYS_PER_MONTH = 30.4375
Z95 = 1.959963984540054


def default_as_of(participants: pd.DataFrame, statuses: pd.DataFrame) -> pd.Timestamp:
    """The latest date the documentation covers: the end of the last documented period or the last end date."""
    last = period_end(statuses["period_start"]).max()
    ends = participants["end_date"].max()
    return max(d for d in (last, ends, participants["start_date"].max()) if pd.notna(d)).normalize()


def _months(delta: pd.Series) -> pd.Series:
    return delta.dt.days / DAYS_PER_MONTH


def participant_steps(
    participants: pd.DataFrame, statuses: pd.DataFrame, ladder: Ladder, as_of: pd.Timestamp
) -> pd.DataFrame:
    """One row per participant (same order as ``participants``).

    Columns: participant_id, project, gender, start_date, end_date, n_periods (documented periods),
    first_status, latest_status, highest_status, highest_rank (1 = lowest step), steps_up / steps_down
    (ladder rungs moved up / down over the path, summed), net_steps (last rank - first rank), any_upward
    (bool), first_upward_date (NaT if none), months_to_first_upward (from the start; censored: the follow-up
    time), exit_status, exit_category (self_sufficient / favourable / unclear / other / ongoing),
    favourable_exit (bool; self-sufficient counts as favourable; False while ongoing), months_enrolled
    (enrolled days from the start to the last enrolled day, or to ``as_of`` while ongoing, both included).
    """
    rank = ladder.rank
    docs = statuses[["participant_id", "period_start", "status"]].rename(columns={"period_start": "date"})
    exits = participants.loc[
        participants["exit_status"].isin(ladder.steps), ["participant_id", "end_date", "exit_status"]
    ].rename(columns={"end_date": "date", "exit_status": "status"})
    path = pd.concat([docs.assign(order=0), exits.assign(order=1)], ignore_index=True)
    path["rank"] = path["status"].map(rank).astype("int64")
    path = path.sort_values(["participant_id", "date", "order"], kind="mergesort")
    path["diff"] = path.groupby("participant_id")["rank"].diff().fillna(0).astype("int64")

    g = path.groupby("participant_id", sort=False)
    agg = pd.DataFrame(
        {
            "first_status": g["status"].first(),
            "latest_status": g["status"].last(),
            "highest_rank": g["rank"].max(),
            "first_rank": g["rank"].first(),
            "last_rank": g["rank"].last(),
            "steps_up": g["diff"].apply(lambda d: int(d[d > 0].sum())),
            "steps_down": g["diff"].apply(lambda d: int(-d[d < 0].sum())),
            "first_upward_date": path.loc[path["diff"] > 0].groupby("participant_id")["date"].min(),
        }
    )
    agg["n_periods"] = docs.groupby("participant_id").size()
    out = participants[["participant_id", "project", "gender", "start_date", "end_date", "exit_status"]].merge(
        agg, left_on="participant_id", right_index=True, how="left", validate="one_to_one"
    )
    out["n_periods"] = out["n_periods"].fillna(0).astype("int64")
    steps = list(ladder.steps)
    out["highest_status"] = out["highest_rank"].map(lambda r: steps[int(r) - 1] if pd.notna(r) else None)
    for col in ("highest_rank", "steps_up", "steps_down"):
        out[col] = out[col].fillna(0).astype("int64")
    out["net_steps"] = (out["last_rank"] - out["first_rank"]).fillna(0).astype("int64")
    out["any_upward"] = out["first_upward_date"].notna()
    follow_end = out["end_date"].fillna(as_of)
    out["months_enrolled"] = _months(follow_end - out["start_date"] + pd.Timedelta(days=1)).round(2)  # both ends count
    event_time = out["first_upward_date"].where(out["any_upward"], follow_end)
    out["months_to_first_upward"] = _months(event_time - out["start_date"]).clip(lower=0).round(2)
    out["exit_category"] = out["exit_status"].map(ladder.exit_category).fillna(ONGOING)
    out["favourable_exit"] = out["exit_category"].isin(FAVOURABLE_CATEGORIES)
    columns = [
        "participant_id", "project", "gender", "start_date", "end_date", "n_periods", "first_status",
        "latest_status", "highest_status", "highest_rank", "steps_up", "steps_down", "net_steps", "any_upward",
        "first_upward_date", "months_to_first_upward", "exit_status", "exit_category", "favourable_exit",
        "months_enrolled",
    ]  # fmt: skip
    return out[columns].reset_index(drop=True)


def _with_totals(df: pd.DataFrame, by: list[str]) -> list[tuple[tuple[str, ...], pd.DataFrame]]:
    """Groups of ``df`` by every combination of ``by`` and its total ("all"), projects first."""
    groups: list[tuple[tuple[str, ...], pd.DataFrame]] = []
    levels = [[*sorted(df[c].dropna().unique()), ALL] for c in by]
    for combo in pd.MultiIndex.from_product(levels):
        mask = pd.Series(True, index=df.index)
        for col, value in zip(by, combo, strict=True):
            if value != ALL:
                mask &= df[col] == value
        groups.append((tuple(combo), df.loc[mask]))
    return groups


def _share(num: int, den: int) -> float:
    return float(num / den) if den else float("nan")


def project_measures(steps: pd.DataFrame, by_gender: bool = True) -> pd.DataFrame:
    """Per project and in total (and by gender): counts and shares an evaluator reports.

    Columns: project, gender ("all" for totals), n_participants, n_upward, share_upward (of participants),
    n_exited, n_self_sufficient, share_self_sufficient, n_favourable, share_favourable, n_unclear,
    share_unclear (the three of exited participants; self-sufficient counts as favourable), n_ongoing,
    mean_months_enrolled, mean_steps_up. Shares are 0..1 (NaN with a zero denominator).
    """
    frame = steps if by_gender else steps.assign(gender=ALL)
    rows = []
    for (project, gender), grp in _with_totals(frame, ["project", "gender"]):
        if not by_gender and gender != ALL:
            continue
        exited = grp[grp["exit_category"] != ONGOING]
        n, n_exit = len(grp), len(exited)
        n_up = int(grp["any_upward"].sum())
        n_ss = int((exited["exit_category"] == "self_sufficient").sum())
        n_fav = int(exited["favourable_exit"].sum())
        n_unc = int((exited["exit_category"] == "unclear").sum())
        rows.append(
            {
                "project": project,
                "gender": gender,
                "n_participants": n,
                "n_upward": n_up,
                "share_upward": _share(n_up, n),
                "n_exited": n_exit,
                "n_self_sufficient": n_ss,
                "share_self_sufficient": _share(n_ss, n_exit),
                "n_favourable": n_fav,
                "share_favourable": _share(n_fav, n_exit),
                "n_unclear": n_unc,
                "share_unclear": _share(n_unc, n_exit),
                "n_ongoing": n - n_exit,
                "mean_months_enrolled": float(grp["months_enrolled"].mean()) if n else float("nan"),
                "mean_steps_up": float(grp["steps_up"].mean()) if n else float("nan"),
            }
        )
    out = pd.DataFrame(rows)
    return out[out["n_participants"] > 0].reset_index(drop=True) if len(out) else out


MEASURE_DERIVED: dict[str, list[str]] = {
    "n_participants": ["share_upward", "mean_months_enrolled", "mean_steps_up"],
    "n_upward": ["share_upward"],
    "n_exited": ["share_self_sufficient", "share_favourable", "share_unclear"],
    "n_self_sufficient": ["share_self_sufficient"],
    "n_favourable": ["share_favourable"],
    "n_unclear": ["share_unclear"],
    "n_ongoing": [],
}


def enrolment_by_month(participants: pd.DataFrame, as_of: pd.Timestamp) -> pd.DataFrame:
    """Participants enrolled each calendar month (enrolled on at least one day of it, ``end_date`` being the
    last enrolled day), per project and total.

    Columns: project, month (first day, datetime64), n_enrolled. Months run from the first start to
    ``as_of``'s month.
    """
    first = participants["start_date"].min().to_period("M")
    months = pd.period_range(first, pd.Timestamp(as_of).to_period("M"), freq="M")
    starts = months.to_timestamp(how="start")
    ends = months.to_timestamp(how="end").normalize()
    end_date = participants["end_date"].fillna(pd.Timestamp(as_of)).to_numpy()
    start_date = participants["start_date"].to_numpy()
    active = (start_date[None, :] <= ends.to_numpy()[:, None]) & (end_date[None, :] >= starts.to_numpy()[:, None])
    rows = []
    projects = [*sorted(participants["project"].unique()), ALL]
    for project in projects:
        cols = np.ones(len(participants), bool) if project == ALL else (participants["project"] == project).to_numpy()
        counts = active[:, cols].sum(axis=1)
        rows.append(pd.DataFrame({"project": project, "month": starts, "n_enrolled": counts.astype("int64")}))
    return pd.concat(rows, ignore_index=True)


def _km_at(times: np.ndarray, probs: np.ndarray, ses: np.ndarray, t: float) -> tuple[float, float]:
    idx = int(np.searchsorted(times, t, side="right")) - 1
    return (1.0, 0.0) if idx < 0 else (float(probs[idx]), float(ses[idx]))


def time_to_first_step(steps: pd.DataFrame, grid_months: int = 3, by: str = "project") -> pd.DataFrame:
    """Kaplan-Meier estimate of the time from start to the first upward step, ongoing (and exited without
    a step) participants censored at the end of their follow-up. Evaluated on a grid of months 0, 3, 6, ...
    while anyone is still at risk, per ``by`` group and in total.

    Columns: project, month, n_at_risk (followed at least that long without a step yet), n_events_cum
    (first steps up to that month), share_stepped (1 - S(t)), ci_low, ci_high (pointwise 95%, log-log).
    """
    from statsmodels.duration.survfunc import SurvfuncRight

    rows = []
    for (group,), grp in _with_totals(steps, [by]):
        if grp.empty:
            continue
        time = grp["months_to_first_upward"].to_numpy(float)
        event = grp["any_upward"].to_numpy(int)
        if event.sum() > 0:
            sf = SurvfuncRight(time, event)
            times, probs, ses = sf.surv_times, sf.surv_prob, sf.surv_prob_se
        else:
            times, probs, ses = np.array([]), np.array([]), np.array([])
        for month in np.arange(0, np.ceil(time.max() / grid_months) * grid_months + 1, grid_months):
            s, se = _km_at(times, probs, ses, month)
            if 0 < s < 1 and se > 0:
                half = Z95 * se / (s * abs(np.log(s)))
                theta = np.log(-np.log(s))
                s_low, s_high = np.exp(-np.exp(theta + half)), np.exp(-np.exp(theta - half))
            else:
                s_low = s_high = s
            n_at_risk = int((time >= month).sum())
            if n_at_risk == 0:  # past everyone's follow-up: nothing left to estimate
                break
            rows.append(
                {
                    by: group,
                    "month": int(month),
                    "n_at_risk": n_at_risk,
                    "n_events_cum": int(((event == 1) & (time <= month)).sum()),
                    "share_stepped": 1.0 - s,
                    "ci_low": 1.0 - s_high,
                    "ci_high": 1.0 - s_low,
                }
            )
    return pd.DataFrame(rows)


def transition_matrix(statuses: pd.DataFrame, participants: pd.DataFrame, ladder: Ladder) -> pd.DataFrame:
    """Moves between consecutive documented periods, per project and total.

    Columns: project, from_status, to_status, from_rank, to_rank, direction (up / same / down),
    n_transitions (participant-period pairs), n_persons (distinct participants making that move),
    share_of_from (n_transitions / all transitions out of from_status in that project).
    """
    rank = ladder.rank
    docs = statuses.sort_values(["participant_id", "period_start"], kind="mergesort")
    docs = docs.assign(to_status=docs.groupby("participant_id")["status"].shift(-1)).dropna(subset=["to_status"])
    docs = docs.merge(participants[["participant_id", "project"]], on="participant_id")
    rows = []
    for (project,), grp in _with_totals(docs, ["project"]):
        if grp.empty:
            continue
        counts = grp.groupby(["status", "to_status"]).agg(
            n_transitions=("participant_id", "size"), n_persons=("participant_id", "nunique")
        )
        counts = counts.reset_index().rename(columns={"status": "from_status"})
        counts["share_of_from"] = counts["n_transitions"] / counts.groupby("from_status")["n_transitions"].transform(
            "sum"
        )
        counts.insert(0, "project", project)
        rows.append(counts)
    cols = ["project", "from_status", "to_status", "n_transitions", "n_persons", "share_of_from"]
    out = pd.concat(rows, ignore_index=True) if rows else pd.DataFrame(columns=cols)
    out["from_rank"] = out["from_status"].map(rank).astype("int64")
    out["to_rank"] = out["to_status"].map(rank).astype("int64")
    out["direction"] = np.select(
        [out["to_rank"] > out["from_rank"], out["to_rank"] < out["from_rank"]], ["up", "down"], "same"
    )
    out = out.sort_values(["project", "from_rank", "to_rank"], kind="mergesort").reset_index(drop=True)
    return out[["project", "from_status", "to_status", "from_rank", "to_rank", "direction", *cols[3:]]]


def statuses_by_quarter(statuses: pd.DataFrame, participants: pd.DataFrame, ladder: Ladder) -> pd.DataFrame:
    """Distinct participants per calendar quarter (of the period start) and status, per project and total.

    Columns: project, quarter ("2021Q1"), status, rank, n_participants.
    """
    docs = statuses.merge(participants[["participant_id", "project"]], on="participant_id")
    docs = docs.assign(quarter=docs["period_start"].dt.to_period("Q").astype(str))
    rows = []
    for (project,), grp in _with_totals(docs, ["project"]):
        if grp.empty:
            continue
        n = grp.groupby(["quarter", "status"])["participant_id"].nunique().rename("n_participants").reset_index()
        n.insert(0, "project", project)
        rows.append(n)
    out = pd.concat(rows, ignore_index=True)
    out["rank"] = out["status"].map(ladder.rank).astype("int64")
    out = out.sort_values(["project", "quarter", "rank"], kind="mergesort").reset_index(drop=True)
    return out[["project", "quarter", "status", "rank", "n_participants"]]
