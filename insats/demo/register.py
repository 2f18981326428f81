"""Synthetic register extract for the demo: persons, monthly assistance, intervention spells, outcomes.

The four tables look like what a municipality's case system exports (Swedish source column names, codes
with Swedish value labels, personnummer ``YYYYMMDD-NNNC``). Everything is simulated; the identity numbers
use the birth-number series 900-999 with a valid Luhn check digit, so they are valid in form but
recognisably synthetic.

The data generating process (selection into the planted intervention, its effect, the calibration of
the effect) is described in :mod:`insats.demo.register_simulation`.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pandas as pd
import pyreadstat

from insats.demo.register_simulation import (
    HORIZON_MONTHS,
    WINDOW_MONTHS,
    Covariates,
    Uniforms,
    calibrate_delta,
    self_sufficient,
    simulate,
)
from insats.tasks.identity import luhn_check_digit

DEFAULT_INTERVENTIONS: tuple[str, ...] = tuple(f"INS{i:02d}" for i in range(1, 11))

# Participants of the non-planted interventions, as a share of n_persons (cycled when there are more).
# At the default size: 270, 210, 150, 120, 90, 60, 36, 21, 12 persons; INS01 gets ~500 by selection.
_OTHER_SHARES = (0.09, 0.07, 0.05, 0.04, 0.03, 0.02, 0.012, 0.007, 0.004)

VALUE_LABELS: dict[str, dict[int, str]] = {
    "kon": {1: "Man", 2: "Kvinna"},
    "utrikes_fodd": {0: "Nej", 1: "Ja"},
    "utbildning": {1: "Förgymnasial", 2: "Gymnasial", 3: "Eftergymnasial"},
    "hushallstyp": {
        1: "Ensamstående utan barn",
        2: "Ensamstående med barn",
        3: "Sammanboende utan barn",
        4: "Sammanboende med barn",
    },
    "sysselsatt": {0: "Nej", 1: "Ja"},
    "studerar": {0: "Nej", 1: "Ja"},
}

VARIABLE_LABELS: dict[str, str] = {
    "personnummer": "Personnummer eller samordningsnummer",
    "kon": "Kön",
    "fodelsear": "Födelseår",
    "utrikes_fodd": "Född utomlands",
    "utbildning": "Högsta utbildningsnivå",
    "hushallstyp": "Hushållstyp",
    "kommunkod": "Kommunkod",
    "hushall_id": "Hushållets id i verksamhetssystemet",
    "manad": "Månad (ÅÅÅÅMM)",
    "belopp": "Utbetalt försörjningsstöd (kr)",
    "insats_id": "Insats",
    "startdatum": "Startdatum för insatsen",
    "slutdatum": "Slutdatum för insatsen (tomt = pågående)",
    "sysselsatt": "Sysselsatt under månaden",
    "studerar": "Studerar under månaden",
}

FILE_LABELS: dict[str, str] = {
    "persons": "Personer (syntetiska demodata)",
    "assistance": "Utbetalt ekonomiskt bistånd per person och månad (syntetiska demodata)",
    "spells": "Deltagande i insatser (syntetiska demodata)",
    "outcomes": "Sysselsättning och studier per månad (syntetiska demodata)",
}


def _month_ints(first_month: str, n_months: int) -> np.ndarray:
    """YYYYMM integers for the months of the extract."""
    periods = pd.period_range(pd.Period(first_month, freq="M"), periods=n_months, freq="M")
    return (periods.year * 100 + periods.month).to_numpy().astype(np.int64)


def _identity_numbers(rng: np.random.Generator, birth_year: np.ndarray, sex: np.ndarray) -> np.ndarray:
    """Unique synthetic identity numbers ``YYYYMMDD-9NNC`` (about 2 % samordningsnummer, day + 60).

    The birth-number digits are 900-999 (synthetic series); the last of them is odd for men and even for
    women, as in real personnummer; the check digit is Luhn over the 10-digit form.
    """
    n = birth_year.shape[0]
    month = rng.integers(1, 13, size=n)
    day = rng.integers(1, 29, size=n)
    coordination = rng.random(n) < 0.02
    serial = np.empty(n, dtype=np.int64)
    todo = np.arange(n)
    taken: set[str] = set()
    out = np.empty(n, dtype=object)
    while todo.size:
        # 900..999 with the right parity of the last digit.
        serial[todo] = 900 + 2 * rng.integers(0, 50, size=todo.size) + (sex[todo] == 1)
        retry = []
        for i in todo:
            d = day[i] + (60 if coordination[i] else 0)
            date_part = f"{birth_year[i]:04d}{month[i]:02d}{d:02d}"
            nine = f"{date_part[2:]}{serial[i]:03d}"
            number = f"{date_part}-{serial[i]:03d}{luhn_check_digit(nine)}"
            if number in taken:
                retry.append(i)
            else:
                taken.add(number)
                out[i] = number
        todo = np.asarray(retry, dtype=np.int64)
    return out.astype(str)


def make_register(
    seed: int = 2026,
    n_persons: int = 3000,
    first_month: str = "2021-01",
    n_months: int = 48,
    interventions: Sequence[str] = DEFAULT_INTERVENTIONS,
    planted: str = "INS01",
    planted_effect: float = 0.15,
) -> tuple[dict[str, pd.DataFrame], dict]:
    """Simulate a register extract with one intervention (``planted``) that has a known effect.

    Returns ``(frames, truth)``. ``frames`` holds the source tables ``persons`` (one row per person),
    ``assistance`` (one row per person-month WITH assistance: personnummer, hushall_id, manad YYYYMM int,
    belopp SEK), ``spells`` (personnummer, insats_id, startdatum, slutdatum; NaT = ongoing) and
    ``outcomes`` (one row per person-month: manad, sysselsatt 0/1, studerar 0/1). ``truth`` holds
    ``planted_intervention``, ``true_att_self_sufficiency_12m`` (sample ATT over starters with 12 months of
    follow-up, from common-random-number counterfactual paths), ``naive_difference`` (mean outcome of those
    starters minus that of all control person-months of the sequential design: on assistance, not yet
    started, in a month with 12 months of follow-up),
    ``n_treated_with_followup``, ``horizon_months``, ``window_months``, ``seed``, ``n_persons``, plus
    ``exit_uplift`` (the calibrated ``delta``) and ``share_controls_starting_within_horizon``.
    Deterministic for a given seed.
    """
    interventions = list(interventions)
    if planted not in interventions:
        raise ValueError(f"planted intervention {planted!r} is not among interventions {interventions}")
    if n_months < HORIZON_MONTHS + 2:
        raise ValueError(f"n_months must be at least {HORIZON_MONTHS + 2} to leave follow-up, got {n_months}")
    if n_persons < 50:
        raise ValueError(f"n_persons must be at least 50, got {n_persons}")
    rng = np.random.default_rng(seed)
    first_year = int(first_month[:4])
    n = n_persons

    # --- persons
    sex = rng.integers(1, 3, size=n)
    age0 = 18 + np.floor(47 * rng.beta(1.3, 1.8, size=n)).astype(np.int64)
    born_abroad = (rng.random(n) < 0.45).astype(np.int64)
    u_edu = rng.random(n)
    edu_cut1 = np.where(born_abroad == 1, 0.45, 0.25)
    education = np.where(u_edu < edu_cut1, 1, np.where(u_edu < edu_cut1 + 0.45, 2, 3))
    household_type = rng.choice([1, 2, 3, 4], size=n, p=[0.5, 0.2, 0.1, 0.2])
    municipality = rng.choice(["0484", "0482", "0483", "0486"], size=n, p=[0.9, 0.04, 0.03, 0.03])
    birth_year = first_year - age0
    cov = Covariates(sex, age0.astype(float), born_abroad, education, household_type)

    u = Uniforms(
        init=rng.random(n),
        trans=rng.random((n, n_months)),
        dest=rng.random((n, n_months)),
        part_time=rng.random((n, n_months)),
        treat=rng.random((n, n_months)),
    )

    # --- paths: untreated world (delta = 0) with the starts drawn; starts do not depend on delta
    base = simulate(cov, u, n_months, 0.0, None)
    start = base.start
    on, employed, studying = base.on.copy(), base.employed.copy(), base.studying.copy()
    last_start = n_months - 1 - HORIZON_MONTHS
    treated_idx = np.flatnonzero(start >= 0)
    follow_idx = np.flatnonzero((start >= 0) & (start <= last_start))
    y0 = self_sufficient(base.on[follow_idx], start[follow_idx])
    delta, y1 = calibrate_delta(
        cov.take(follow_idx), u.take(follow_idx), n_months, start[follow_idx], y0, planted_effect
    )
    # Observed world: all starters (with or without full follow-up) get the effect.
    treated_paths = simulate(cov.take(treated_idx), u.take(treated_idx), n_months, delta, start[treated_idx])
    on[treated_idx] = treated_paths.on
    employed[treated_idx] = treated_paths.employed
    studying[treated_idx] = treated_paths.studying

    # --- naive comparison and later starters among controls (same definitions as the design)
    months = np.arange(n_months)
    valid = months <= last_start
    start_or_never = np.where(start >= 0, start, np.iinfo(np.int64).max)
    control = on & (start_or_never[:, None] > months[None, :]) & valid[None, :]
    ctrl_p, ctrl_m = np.nonzero(control)
    y_ctrl = self_sufficient(on[ctrl_p], ctrl_m)
    later = start_or_never[ctrl_p] <= ctrl_m + HORIZON_MONTHS

    # --- tables
    pnr = _identity_numbers(rng, birth_year, sex)
    persons = pd.DataFrame(
        {
            "personnummer": pnr,
            "kon": sex.astype(np.int64),
            "fodelsear": birth_year.astype(np.int64),
            "utrikes_fodd": born_abroad,
            "utbildning": education.astype(np.int64),
            "hushallstyp": household_type.astype(np.int64),
            "kommunkod": municipality.astype(str),
        }
    )
    month_ints = _month_ints(first_month, n_months)
    household_ids = np.array([f"H{100000 + i}" for i in rng.permutation(n)])
    # Monthly amount: household-type norm x person level x monthly noise; lower in part-time-work months.
    norm = np.array([0.0, 6500.0, 11000.0, 9500.0, 14500.0])[household_type]
    level = norm * np.exp(rng.normal(0.0, 0.15, size=n))
    a_p, a_m = np.nonzero(on)
    amount = level[a_p] * rng.uniform(0.9, 1.1, size=a_p.size) * np.where(employed[a_p, a_m], 0.6, 1.0)
    assistance = pd.DataFrame(
        {
            "personnummer": pnr[a_p],
            "hushall_id": household_ids[a_p],
            "manad": month_ints[a_m],
            "belopp": np.round(np.clip(amount, 3000.0, 20000.0), 0),
        }
    )
    outcomes = pd.DataFrame(
        {
            "personnummer": np.repeat(pnr, n_months),
            "manad": np.tile(month_ints, n),
            "sysselsatt": employed.reshape(-1).astype(np.int64),
            "studerar": studying.reshape(-1).astype(np.int64),
        }
    )
    spells = _make_spells(rng, pnr, on, start, first_month, n_months, interventions, planted)

    truth = {
        "planted_intervention": planted,
        "true_att_self_sufficiency_12m": float(np.mean(y1 - y0)) if follow_idx.size else float("nan"),
        "naive_difference": float(np.mean(y1) - np.mean(y_ctrl)) if follow_idx.size else float("nan"),
        "n_treated_with_followup": int(follow_idx.size),
        "horizon_months": HORIZON_MONTHS,
        "window_months": WINDOW_MONTHS,
        "seed": int(seed),
        "n_persons": int(n_persons),
        "exit_uplift": float(delta),
        "share_controls_starting_within_horizon": float(later.mean()) if later.size else 0.0,
    }
    frames = {"persons": persons, "assistance": assistance, "spells": spells, "outcomes": outcomes}
    return frames, truth


def _make_spells(
    rng: np.random.Generator,
    pnr: np.ndarray,
    on: np.ndarray,
    start: np.ndarray,
    first_month: str,
    n_months: int,
    interventions: list[str],
    planted: str,
) -> pd.DataFrame:
    """Participation spells: the planted intervention at the simulated starts, others at random."""
    period_start = pd.Period(first_month, freq="M").to_timestamp()
    period_end = (pd.Period(first_month, freq="M") + n_months).to_timestamp() - pd.Timedelta(days=1)
    rows_p: list[np.ndarray] = []
    rows_m: list[np.ndarray] = []
    rows_id: list[np.ndarray] = []
    rows_len: list[np.ndarray] = []

    treated = np.flatnonzero(start >= 0)
    rows_p.append(treated)
    rows_m.append(start[treated])
    rows_id.append(np.full(treated.size, planted, dtype=object))
    lengths = rng.integers(3, 10, size=treated.size)
    rows_len.append(lengths)
    # About 5 % come back for a second spell after the first ends (the design uses the FIRST start).
    again_mask = rng.random(treated.size) < 0.05
    again = treated[again_mask]
    again_month = start[again] + lengths[again_mask] + 2
    keep = again_month < n_months
    rows_p.append(again[keep])
    rows_m.append(again_month[keep])
    rows_id.append(np.full(int(keep.sum()), planted, dtype=object))
    rows_len.append(rng.integers(2, 7, size=int(keep.sum())))

    ever_on = np.flatnonzero(on.any(axis=1))
    n_planted = treated.size
    others = [i for i in interventions if i != planted]
    for k, intervention in enumerate(others):
        size = round(_OTHER_SHARES[k % len(_OTHER_SHARES)] * pnr.size)
        size = min(size, int(0.6 * n_planted), ever_on.size)
        if size <= 0:
            continue
        people = rng.choice(ever_on, size=size, replace=False)
        # A random month on assistance for each (argmax of random keys among on-months).
        keys = np.where(on[people], rng.random((size, n_months)), -1.0)
        rows_p.append(people)
        rows_m.append(keys.argmax(axis=1))
        rows_id.append(np.full(size, intervention, dtype=object))
        rows_len.append(rng.integers(1, 13, size=size))

    p = np.concatenate(rows_p)
    m = np.concatenate(rows_m)
    length = np.concatenate(rows_len)
    month_start = pd.DatetimeIndex([period_start + pd.DateOffset(months=int(x)) for x in range(n_months)]).to_numpy()
    start_date = month_start[m] + rng.integers(0, 28, size=p.size).astype("timedelta64[D]")
    end_date = start_date + (length * 30 + rng.integers(-5, 6, size=p.size)).astype("timedelta64[D]")
    end = pd.Series(end_date).where(pd.Series(end_date) <= period_end)
    spells = pd.DataFrame(
        {
            "personnummer": pnr[p],
            "insats_id": np.concatenate(rows_id).astype(str),
            "startdatum": pd.to_datetime(start_date).normalize(),
            "slutdatum": pd.to_datetime(end.to_numpy()),
        }
    )
    return spells.sort_values(["startdatum", "personnummer"], kind="stable").reset_index(drop=True)


def write_register(frames: dict[str, pd.DataFrame], out_dir: Path) -> dict[str, Path]:
    """Write the four source tables as SPSS ``.sav`` files with Swedish variable and value labels.

    Files: ``persons.sav``, ``assistance.sav``, ``spells.sav``, ``outcomes.sav`` in ``out_dir`` (created).
    Codes are stored, labels attached as value labels (UTF-8, å/ä/ö kept); ``belopp`` has format F10.2.
    Returns ``{kind: path}``.
    """
    kinds = ("persons", "assistance", "spells", "outcomes")
    missing = [k for k in kinds if k not in frames]
    if missing:
        raise ValueError(f"write_register: frames lacks the table(s) {', '.join(missing)}")
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    paths: dict[str, Path] = {}
    for kind in kinds:
        df = frames[kind]
        path = out_dir / f"{kind}.sav"
        formats = {"belopp": "F10.2"} if "belopp" in df.columns else None
        pyreadstat.write_sav(
            df,
            str(path),
            file_label=FILE_LABELS[kind],
            column_labels={c: VARIABLE_LABELS.get(c, c) for c in df.columns},
            variable_value_labels={c: v for c, v in VALUE_LABELS.items() if c in df.columns},
            variable_format=formats,
        )
        paths[kind] = path
    return paths
