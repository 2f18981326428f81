"""The simulation behind the demo register extract: the monthly paths, the starts of the planted intervention
and its calibrated effect (:func:`insats.demo.register.make_register` draws the covariates, writes the tables
and gives out the other interventions).

Data generating process (monthly, vectorised over persons; months indexed ``t = 0 .. n_months - 1``):

* Covariates: sex, birth year (age 18-64 at the start), born abroad, education (1-3), household type (1-4),
  municipality (mostly Eskilstuna 0484).
* Assistance is a Markov process. On assistance in ``t``: exit to ``t + 1`` with a logistic probability
  (``EXIT_COEF``) rising with education and months employed in the last 12, falling with age, being born
  abroad and the elapsed spell length (duration dependence, counted from the start of the extract).
  Exits go to work (70 %), studies (15 %) or neither; off assistance a person re-enters with a
  probability depending on that destination (``ENTRY_COEF``). 8 % of the months on assistance are months
  with part-time work (employment with supplementary assistance).
* Selection into the planted intervention (default INS01): in each month ``t`` a person on assistance who
  has not yet started it starts with a logistic probability (``TREAT_COEF``) that rises with months on
  assistance in the last 12 months, age and being born abroad, and falls with months employed in the last
  12 months and education. Every one of these is observable before ``t``, so matching on them removes the
  selection; a naive comparison does not (starters are long-term recipients with low exit rates). At the
  default size about 460 persons start INS01 (about 315 with 12 months of follow-up) and about 19 % of the
  matched controls start it themselves within 12 months (``share_controls_starting_within_horizon`` is
  the share among all controls).
* Effect: for the 12 months from the start the exit probability is raised by an additive ``delta``.
  ``delta`` is found by bisection so that the SAMPLE ATT on self-sufficiency at 12 months (no assistance
  in months ``s+10 .. s+12``) is ``planted_effect``. Common random numbers: every person has one stream of
  uniforms per month, so a starter's untreated path is the same simulation with ``delta = 0``.
* Other interventions are given to random persons in a random month they are on assistance; they have no
  effect on any outcome.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

HORIZON_MONTHS = 12
WINDOW_MONTHS = 3
EFFECT_MONTHS = 12  # months after the start during which the exit probability is raised


def _logistic(x: np.ndarray) -> np.ndarray:
    return 1.0 / (1.0 + np.exp(-x))


@dataclass(frozen=True)
class Covariates:
    """Person covariates as arrays of length n (codes as in the source tables)."""

    sex: np.ndarray  # 1 man, 2 woman
    age0: np.ndarray  # age in the first month
    born_abroad: np.ndarray  # 0/1
    education: np.ndarray  # 1..3
    household_type: np.ndarray  # 1..4

    def take(self, idx: np.ndarray) -> Covariates:
        return Covariates(*(getattr(self, f)[idx] for f in self.__dataclass_fields__))


@dataclass
class Paths:
    """Simulated monthly states, arrays of shape (n, T)."""

    on: np.ndarray  # on assistance (bool)
    employed: np.ndarray  # bool
    studying: np.ndarray  # bool
    start: np.ndarray  # month index of the planted intervention's start, -1 if none (shape (n,))


@dataclass(frozen=True)
class Uniforms:
    """Common random numbers, shape (n, T): one stream per person and purpose."""

    init: np.ndarray  # (n,) initial state
    trans: np.ndarray  # exit or entry
    dest: np.ndarray  # destination after exit
    part_time: np.ndarray  # part-time work while on assistance
    treat: np.ndarray  # starting the planted intervention

    def take(self, idx: np.ndarray) -> Uniforms:
        return Uniforms(*(getattr(self, f)[idx] for f in self.__dataclass_fields__))


# Coefficients of the data generating process (logit scale). Selection into the planted intervention
# and the exit hazard share covariates, so starters differ systematically from other recipients.
EXIT_COEF: dict[str, float] = {
    "const": -2.5,
    "edu2": 0.6,
    "edu3": 1.2,
    "abroad": -0.8,
    "age": -0.03,
    "male": 0.1,
    "hh2": -0.25,
    "duration": -0.1,
    "emp12": 0.08,
}
TREAT_COEF: dict[str, float] = {
    "const": -6.8,
    "asst12": 0.2,
    "emp12": -0.2,
    "age": 0.02,
    "edu2": -0.3,
    "edu3": -0.7,
    "abroad": 0.6,
}
ENTRY_COEF: dict[str, float] = {"none": -2.2, "work": -3.5, "study": -3.7, "edu3": -0.4, "abroad": 0.3}


def _exit_index(cov: Covariates, age: np.ndarray, duration: np.ndarray, emp12: np.ndarray) -> np.ndarray:
    """Linear index of the monthly exit probability from assistance (duration capped at 24 months)."""
    c = EXIT_COEF
    return (
        c["const"]
        + c["edu2"] * (cov.education == 2)
        + c["edu3"] * (cov.education == 3)
        + c["abroad"] * cov.born_abroad
        + c["age"] * (age - 40.0)
        + c["male"] * (cov.sex == 1)
        + c["hh2"] * (cov.household_type == 2)
        + c["duration"] * np.minimum(duration, 24)
        + c["emp12"] * emp12
    )


def _treat_index(cov: Covariates, age: np.ndarray, asst12: np.ndarray, emp12: np.ndarray) -> np.ndarray:
    """Linear index of the monthly probability of starting the planted intervention."""
    c = TREAT_COEF
    return (
        c["const"]
        + c["asst12"] * asst12
        + c["emp12"] * emp12
        + c["age"] * (age - 40.0)
        + c["edu2"] * (cov.education == 2)
        + c["edu3"] * (cov.education == 3)
        + c["abroad"] * cov.born_abroad
    )


def simulate(
    cov: Covariates,
    u: Uniforms,
    n_months: int,
    delta: float,
    start: np.ndarray | None,
) -> Paths:
    """Simulate the monthly paths.

    ``start=None``: starts of the planted intervention are drawn (selection on history). Otherwise
    ``start`` (month index per person, -1 = never) is imposed. ``delta`` is added to the exit probability
    in the ``EFFECT_MONTHS`` months from the start (clipped to [0, 0.95]).
    """
    n = cov.sex.shape[0]
    on = np.zeros((n, n_months), dtype=bool)
    employed = np.zeros((n, n_months), dtype=bool)
    studying = np.zeros((n, n_months), dtype=bool)
    draw_starts = start is None
    start_arr = np.full(n, -1, dtype=np.int64) if start is None else start.copy()

    on[:, 0] = u.init < 0.5
    # Off assistance at the start: 0 neither, 1 work, 2 studies (same split as after an exit).
    dest = np.where(on[:, 0], 0, np.where(u.dest[:, 0] < 0.6, 1, np.where(u.dest[:, 0] < 0.75, 2, 0)))
    duration = on[:, 0].astype(np.int64)
    for t in range(n_months):
        age = cov.age0 + t / 12.0
        cur_on = on[:, t]
        employed[:, t] = np.where(cur_on, u.part_time[:, t] < 0.08, dest == 1)
        studying[:, t] = ~cur_on & (dest == 2)
        emp12 = employed[:, max(0, t - 12) : t].sum(axis=1)
        if draw_starts:
            asst12 = on[:, max(0, t - 12) : t].sum(axis=1)
            eligible = cur_on & (start_arr < 0)
            p_treat = _logistic(_treat_index(cov, age, asst12, emp12))
            start_arr[eligible & (u.treat[:, t] < p_treat)] = t
        if t == n_months - 1:
            break
        treated_now = (start_arr >= 0) & (t >= start_arr) & (t < start_arr + EFFECT_MONTHS)
        p_exit = _logistic(_exit_index(cov, age, duration, emp12)) + delta * treated_now
        p_exit = np.clip(p_exit, 0.0, 0.95)
        e = ENTRY_COEF
        entry_index = np.select(
            [dest == 1, dest == 2],
            [e["work"], e["study"]],
            e["none"] + e["edu3"] * (cov.education == 3) + e["abroad"] * cov.born_abroad,
        )
        p_entry = _logistic(entry_index)
        u_t = u.trans[:, t]
        exits = cur_on & (u_t < p_exit)
        enters = ~cur_on & (u_t < p_entry)
        nxt = (cur_on & ~exits) | enters
        on[:, t + 1] = nxt
        new_dest = np.where(u.dest[:, t + 1] < 0.7, 1, np.where(u.dest[:, t + 1] < 0.85, 2, 0))
        dest = np.where(exits, new_dest, np.where(enters, 0, dest))
        duration = np.where(nxt, duration + 1, 0)
    return Paths(on=on, employed=employed, studying=studying, start=start_arr)


def self_sufficient(on: np.ndarray, month: np.ndarray) -> np.ndarray:
    """1 when no assistance in months ``month + H - W + 1 .. month + H`` (rows aligned with ``month``)."""
    rows = np.arange(on.shape[0])[:, None]
    cols = month[:, None] + np.arange(HORIZON_MONTHS - WINDOW_MONTHS + 1, HORIZON_MONTHS + 1)[None, :]
    return (~on[rows, cols].any(axis=1)).astype(float)


def calibrate_delta(
    cov: Covariates, u: Uniforms, n_months: int, start: np.ndarray, y0: np.ndarray, target: float
) -> tuple[float, np.ndarray]:
    """Bisection on the exit uplift ``delta`` so that mean(Y(1) - Y(0)) over ``start`` ~= ``target``.

    ``cov``/``u``/``start``/``y0`` refer to the starters with full follow-up only. Returns ``delta`` and
    Y(1). The sample ATT is a step function of ``delta`` (steps of 1/n), so the result is within a step.
    """

    def att(delta: float) -> tuple[float, np.ndarray]:
        paths = simulate(cov, u, n_months, delta, start)
        y1 = self_sufficient(paths.on, start)
        return float(np.mean(y1 - y0)), y1

    if target == 0.0:
        return 0.0, att(0.0)[1]
    lo, hi = (0.0, 0.9) if target > 0 else (-0.9, 0.0)
    best = (np.inf, 0.0, y0)
    for _ in range(40):
        mid = 0.5 * (lo + hi)
        value, y1 = att(mid)
        if abs(value - target) < best[0]:
            best = (abs(value - target), mid, y1)
        if abs(value - target) < 1e-9:
            break
        if value < target:
            lo = mid
        else:
            hi = mid
    return best[1], best[2]
