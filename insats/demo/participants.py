"""A seeded demo documentation set for the participant flow, with answers known by construction.

Two projects (``Steget``, ``Vägen vidare``) with planned numbers of participants with and without a
documented upward step and planned exits per category (``PLAN``). Status is documented every calendar
quarter from the start quarter to the end (or ``AS_OF``) quarter. Participants planned without an upward
step stay on or drop below their first step and leave to statuses off the ladder; self-sufficient exits
(to work or studies, above any documented step) are planned for participants with upward steps only.

``make_participant_demo`` also returns ``truth``: the planned counts, and the monthly enrolment computed
here by a plain loop over participants and months (independently of ``insats.tasks.participants.measures``), so
tests can check every number of the goal-attainment table. Indicator questionnaires (BIP/SKAPA style)
improve by ``INDICATOR_GAIN`` per occasion for participants with upward steps and not otherwise.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import yaml

AS_OF = pd.Timestamp("2023-12-31")
PLAN: dict[str, dict[str, int]] = {
    # participants, of whom with an upward step; exits per category (the rest are ongoing)
    "Steget": {"n": 72, "upward": 54, "self_sufficient": 16, "favourable": 12, "unclear": 10, "other": 4},
    "Vägen vidare": {"n": 48, "upward": 28, "self_sufficient": 8, "favourable": 10, "unclear": 10, "other": 0},
}
ENROLMENT_TARGET = 40
ENROLMENT_WINDOW = ("2022-01", "2023-12")
INDICATOR_GAIN = 0.35  # Likert points per three-month occasion, participants with upward steps

LADDER: dict[str, Any] = {
    "name": "Svensk standardstege",
    "steps": [
        {"status": "Ej aktuell för aktivitet just nu", "en": "Not currently able to take part"},
        {"status": "Kartläggning/utredning", "en": "Mapping/assessment"},
        {"status": "Förberedande insats", "en": "Preparatory activity"},
        {"status": "Arbetsprövning", "en": "Work trial"},
        {"status": "Arbetsträning/praktik", "en": "Work practice"},
        {"status": "Studier", "en": "Studies"},
        {"status": "Subventionerad anställning", "en": "Subsidised employment"},
        {"status": "Arbete", "en": "Work"},
    ],
    "exit": {
        "self_sufficient": ["Arbete", "Studier"],
        "favourable": [
            "Subventionerad anställning", "Arbetsträning/praktik", "Aktivt arbetssökande",
            "Annan insats eller myndighet",
        ],
        "unclear": ["Okänt", "Avbrutet", "Flyttat"],
        "other": [
            "Sjukskriven", "Arbetsprövning", "Förberedande insats", "Kartläggning/utredning",
            "Ej aktuell för aktivitet just nu",
        ],
    },
    "labels_en": {
        "Aktivt arbetssökande": "Actively seeking work",
        "Annan insats eller myndighet": "Other intervention or agency",
        "Okänt": "Unknown",
        "Avbrutet": "Dropped out",
        "Flyttat": "Moved away",
        "Sjukskriven": "On sick leave",
    },
}  # fmt: skip
STEPS = [s["status"] for s in LADDER["steps"]]

TARGETS: dict[str, Any] = {
    "targets": [
        {"name": "Stegförflyttning för alla deltagare", "name_en": "Step progression for every participant",
         "measure": "share_upward", "threshold": 1.0, "partly": 0.6},
        {"name": "Minst 20 % egenförsörjda vid avslut", "name_en": "At least 20% self-sufficient at exit",
         "measure": "share_self_sufficient", "threshold": 0.2},
        {"name": "Högst 25 % oklara utfall", "name_en": "At most 25% unclear outcomes",
         "measure": "share_unclear", "operator": "<=", "threshold": 0.25},
        {"name": "Minst 40 inskrivna hela tiden", "name_en": "At least 40 enrolled at all times",
         "measure": "enrolled_every_month", "threshold": ENROLMENT_TARGET,
         "from": ENROLMENT_WINDOW[0], "to": ENROLMENT_WINDOW[1]},
        {"name": "200 deltagare totalt", "name_en": "200 participants in all", "measure": "n_participants",
         "threshold": 200},
        {"name": "Steget: 70 % stegförflyttning", "name_en": "Steget: 70% step progression",
         "measure": "share_upward", "threshold": 0.7, "project": "Steget"},
    ]
}  # fmt: skip

INDICATORS: dict[str, Any] = {
    "likert": {"min": 1, "max": 5, "labels": {"Stämmer inte alls": 1, "Stämmer dåligt": 2, "Delvis": 3,
                                              "Stämmer ganska bra": 4, "Stämmer helt": 5}},
    "indicators": [
        {"id": "coping_health", "sv": "Hantera hälsa", "en": "Coping with health", "items": ["h1", "h2"]},
        {"id": "coping_everyday", "sv": "Hantera vardagen", "en": "Coping with everyday life", "items": ["v1", "v2"]},
        {"id": "job_belief", "sv": "Tro på att få arbete", "en": "Belief in getting a job", "items": ["t1", "t2"]},
        {"id": "job_search", "sv": "Jobbsökarbeteende", "en": "Job-search behaviour", "items": ["s1", "s2"]},
        {"id": "cooperation", "sv": "Samarbetsförmåga", "en": "Cooperation skills", "items": ["c1", "c2", "c3"],
         "reverse": ["c3"]},
        {"id": "labour_market", "sv": "Kunskap om arbetsmarknaden", "en": "Knowledge of the labour market",
         "items": ["k1", "k2"]},
    ],
}  # fmt: skip
GOALS = ["Arbete inom vården", "Börja studera på komvux", "Körkort och arbete", "Förbättrad hälsa", None]


@dataclass
class ParticipantDemo:
    participants: pd.DataFrame  # participant_id, project, gender, birth_year, start_date, end_date, exit_status, goal
    statuses: pd.DataFrame  # participant_id, period_start, status (long)
    indicators: pd.DataFrame  # participant_id, date, h1 ... k2
    truth: dict[str, Any]


def _quarters(start: pd.Timestamp, last: pd.Timestamp) -> list[pd.Timestamp]:
    return list(pd.period_range(start.to_period("Q"), last.to_period("Q"), freq="Q").to_timestamp(how="start"))


def _exit_status(category: str, upward: bool, rng: np.random.Generator) -> str | None:
    choices = {
        "self_sufficient": ["Arbete", "Studier"],
        "favourable": ["Subventionerad anställning", "Aktivt arbetssökande"]
        if upward
        else ["Aktivt arbetssökande", "Annan insats eller myndighet"],
        "unclear": ["Okänt", "Avbrutet", "Flyttat"],
        "other": ["Sjukskriven"],
    }
    return None if category == "ongoing" else str(rng.choice(choices[category]))


def _path(n_quarters: int, upward: bool, rng: np.random.Generator) -> list[int]:
    """Ranks per documented quarter: upward paths climb once (maybe dropping back one later); the others stay
    flat or drop one step."""
    if upward:
        base = int(rng.integers(1, 4))
        k = int(rng.integers(1, n_quarters))
        ranks = [base] * k + [min(5, base + int(rng.integers(1, 3)))] * (n_quarters - k)
        if n_quarters - k >= 2 and rng.random() < 0.3:
            ranks[-1] -= 1
        return ranks
    base = int(rng.integers(2, 5))
    if n_quarters >= 2 and rng.random() < 0.4:
        k = int(rng.integers(1, n_quarters))
        return [base] * k + [base - 1] * (n_quarters - k)
    return [base] * n_quarters


def _has_upward(ranks: list[int], exit_rank: int | None) -> bool:
    seq = ranks + ([exit_rank] if exit_rank is not None else [])
    return any(b > a for a, b in zip(seq, seq[1:], strict=False))


def make_participant_demo(seed: int = 2026) -> ParticipantDemo:
    """Build the demo documentation set and its truths (see module docstring)."""
    rng = np.random.default_rng(seed)
    people, docs = [], []
    pid = 0
    for project, plan in PLAN.items():
        n, n_up = plan["n"], plan["upward"]
        n_ongoing = n - sum(plan[c] for c in ("self_sufficient", "favourable", "unclear", "other"))
        upward = np.array([True] * n_up + [False] * (n - n_up))
        # self-sufficient exits go to participants with upward steps; the other categories are shuffled
        cats = np.array(["self_sufficient"] * plan["self_sufficient"] + [""] * (n - plan["self_sufficient"]), object)
        rest = ["favourable"] * plan["favourable"] + ["unclear"] * plan["unclear"] + ["other"] * plan["other"]
        rest = np.array(rest + ["ongoing"] * n_ongoing, dtype=object)
        cats[plan["self_sufficient"] :] = rng.permutation(rest)
        for up, cat in zip(upward, cats, strict=True):
            pid += 1
            if cat == "ongoing":
                start = pd.Timestamp("2022-07-01") + pd.Timedelta(days=int(rng.integers(0, 450)))
                end = None
            else:
                start = pd.Timestamp("2021-01-04") + pd.Timedelta(days=int(rng.integers(0, 700)))
                months = int(rng.integers(6, 19))
                end = min(start + pd.DateOffset(months=months) + pd.Timedelta(days=int(rng.integers(0, 28))), AS_OF)
            quarters = _quarters(start, end if end is not None else AS_OF)
            ranks = _path(len(quarters), bool(up), rng)
            exit_status = _exit_status(str(cat), bool(up), rng)
            exit_rank = STEPS.index(exit_status) + 1 if exit_status in STEPS else None
            if _has_upward(ranks, exit_rank) != bool(up):  # pragma: no cover - the plan's invariant
                raise AssertionError(f"demo participant {pid}: planned upward={up}, path {ranks} -> {exit_status}")
            pid_text = f"D{pid:04d}"
            people.append(
                {
                    "participant_id": pid_text,
                    "project": project,
                    "gender": str(rng.choice(["K", "M", "A"], p=[0.5, 0.46, 0.04])),
                    "birth_year": int(rng.integers(1965, 2004)),
                    "start_date": start,
                    "end_date": end,
                    "exit_status": exit_status,
                    "goal": GOALS[int(rng.integers(0, len(GOALS)))],
                    "_upward": bool(up),
                    "_category": str(cat),
                }
            )
            docs += [
                {"participant_id": pid_text, "period_start": q, "status": STEPS[r - 1]}
                for q, r in zip(quarters, ranks, strict=True)
            ]
    participants = pd.DataFrame(people)
    participants["start_date"] = pd.to_datetime(participants["start_date"])
    participants["end_date"] = pd.to_datetime(participants["end_date"])
    statuses = pd.DataFrame(docs)
    indicators = _indicators(participants, rng)
    truth = _truth(participants)
    return ParticipantDemo(participants.drop(columns=["_upward", "_category"]), statuses, indicators, truth)


def _enrolled(participants: pd.DataFrame, month: pd.Period) -> dict[str, int]:
    """Participants enrolled on at least one day of ``month``, by a plain loop (the truth, not the measure)."""
    first, last = month.start_time.normalize(), month.end_time.normalize()
    counts: dict[str, int] = {p: 0 for p in PLAN}
    for row in participants.itertuples():
        end = AS_OF if pd.isna(row.end_date) else row.end_date
        if row.start_date <= last and end >= first:
            counts[row.project] += 1
    counts["all"] = sum(counts.values())
    return counts


def _truth(participants: pd.DataFrame) -> dict[str, Any]:
    truth: dict[str, Any] = {"as_of": f"{AS_OF:%Y-%m-%d}", "projects": {}}
    for project in [*PLAN, "all"]:
        grp = participants if project == "all" else participants[participants["project"] == project]
        cats = grp["_category"].value_counts().to_dict()
        truth["projects"][project] = {
            "n": len(grp),
            "upward": int(grp["_upward"].sum()),
            "no_upward": int((~grp["_upward"]).sum()),
            **{c: int(cats.get(c, 0)) for c in ("self_sufficient", "favourable", "unclear", "other", "ongoing")},
        }
    months = pd.period_range(participants["start_date"].min().to_period("M"), AS_OF.to_period("M"), freq="M")
    monthly = {str(m): _enrolled(participants, m) for m in months}
    window = [m for m in monthly if ENROLMENT_WINDOW[0] <= m <= ENROLMENT_WINDOW[1]]
    below = [m for m in window if monthly[m]["all"] < ENROLMENT_TARGET]
    lowest = min(window, key=lambda m: (monthly[m]["all"], m))
    truth["enrolment"] = {
        "monthly_all": {m: v["all"] for m, v in monthly.items()},
        "target": ENROLMENT_TARGET,
        "window": list(ENROLMENT_WINDOW),
        "months_assessed": len(window),
        "months_below": below,
        "lowest_month": lowest,
        "lowest": monthly[lowest]["all"],
    }
    return truth


def _indicators(participants: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    """Questionnaires every three months from the start (up to 5 occasions) while enrolled; Likert 1..5.
    Latent scores rise by INDICATOR_GAIN per occasion for participants with upward steps."""
    items = [
        (ind["id"], item, item in ind.get("reverse", [])) for ind in INDICATORS["indicators"] for item in ind["items"]
    ]
    rows = []
    for p in participants.rename(columns={"_upward": "upward"}).itertuples():
        end = AS_OF if pd.isna(p.end_date) else p.end_date
        base = rng.normal(2.4, 0.4, size=len(INDICATORS["indicators"]))
        ind_index = {ind["id"]: i for i, ind in enumerate(INDICATORS["indicators"])}
        for occasion in range(5):
            when = p.start_date + pd.DateOffset(months=3 * occasion) + pd.Timedelta(days=int(rng.integers(0, 10)))
            if when > end:
                break
            row: dict[str, Any] = {"participant_id": p.participant_id, "date": when}
            for ind_id, item, reverse in items:
                latent = base[ind_index[ind_id]] + (INDICATOR_GAIN * occasion if p.upward else 0.0)
                value = int(np.clip(np.rint(latent + rng.normal(0, 0.5)), 1, 5))
                row[item] = 6 - value if reverse else value
                if rng.random() < 0.02:
                    row[item] = None
            rows.append(row)
    out = pd.DataFrame(rows)
    for _, item, _ in items:
        out[item] = out[item].astype("Int64")
    return out


def wide_statuses(statuses: pd.DataFrame) -> pd.DataFrame:
    """The long status documentation as a wide sheet: participant_id and one column per quarter (2021-Q1)."""
    wide = statuses.assign(quarter=statuses["period_start"].dt.to_period("Q").map(lambda q: f"{q.year}-Q{q.quarter}"))
    out = wide.pivot(index="participant_id", columns="quarter", values="status")
    return out[sorted(out.columns)].reset_index()


def write_participant_demo(demo: ParticipantDemo, folder: Path) -> dict[str, Path]:
    """Write the demo set to ``folder`` (UTF-8 throughout). Files: participants.csv (``;``-separated, ISO
    dates), participants.xlsx (spreadsheet dates), status_long.csv, status_wide.xlsx (one column per
    quarter), indicators.csv (dates as 1/3/2021, day first), ladder.yaml, targets.yaml, indicators.yaml,
    truth.json. Returns name -> path."""
    import json

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    paths = {
        "participants": folder / "participants.csv",
        "participants_xlsx": folder / "participants.xlsx",
        "status_long": folder / "status_long.csv",
        "status_wide": folder / "status_wide.xlsx",
        "indicator_responses": folder / "indicators.csv",
        "ladder": folder / "ladder.yaml",
        "targets": folder / "targets.yaml",
        "indicators": folder / "indicators.yaml",
        "truth": folder / "truth.json",
    }
    people = demo.participants.copy()
    csv_people = people.assign(
        start_date=people["start_date"].dt.strftime("%Y-%m-%d"), end_date=people["end_date"].dt.strftime("%Y-%m-%d")
    )
    csv_people.to_csv(paths["participants"], sep=";", index=False, encoding="utf-8")
    people.to_excel(paths["participants_xlsx"], index=False, engine="openpyxl")
    long = demo.statuses.assign(period_start=demo.statuses["period_start"].dt.strftime("%Y-%m-%d"))
    long.to_csv(paths["status_long"], index=False, encoding="utf-8")
    wide_statuses(demo.statuses).to_excel(paths["status_wide"], index=False, engine="openpyxl")
    ind = demo.indicators.assign(date=demo.indicators["date"].map(lambda d: f"{d.day}/{d.month}/{d.year}"))
    ind.to_csv(paths["indicator_responses"], index=False, encoding="utf-8")
    for key, data in (("ladder", LADDER), ("targets", TARGETS), ("indicators", INDICATORS)):
        paths[key].write_text(yaml.safe_dump(data, allow_unicode=True, sort_keys=False), encoding="utf-8")
    paths["truth"].write_text(json.dumps(demo.truth, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    return paths
