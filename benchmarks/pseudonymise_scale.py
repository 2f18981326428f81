"""Pseudonymisation of N distinct persons: the vectorised path against the one-value-at-a-time path it replaced.

Both produce the same pseudonyms (checked here on every value). Old path, per distinct value:
``normalise_identity_number`` (regex + python-stdnum), ``hmac.new(key, ..., sha256)`` and ``_encode`` (16 divmods).
New path: ``normalise_identity_numbers`` (digit arrays), ``pseudonyms`` (HMAC from precomputed key states, numpy
base-26). Input: the persons' identity numbers of ``make_register`` as ``standardise`` leaves them (12 digits).

Usage: python benchmarks/pseudonymise_scale.py [--persons 500000]
"""

from __future__ import annotations

import argparse
import hashlib
import hmac
import time

import pandas as pd

from insats.demo.register import make_register
from insats.tasks.identity import normalise_identity_number
from insats.tasks.register.pseudonymise import DEMO_KEY, _encode, normalise_identity_numbers, pseudonyms
from insats.tasks.register.standardise import DEFAULT_COLUMNS, standardise


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--persons", type=int, default=500_000)
    args = parser.parse_args()
    frames, _ = make_register(n_persons=args.persons, n_months=14)
    persons = standardise(frames["persons"], "persons", DEFAULT_COLUMNS["persons"], "persons.sav")
    values = pd.unique(persons["personnummer"]).astype(str).tolist()

    t0 = time.perf_counter()
    normalised_old = [normalise_identity_number(v) for v in values]
    old = [_encode(hmac.new(DEMO_KEY, n.encode("ascii"), hashlib.sha256).digest()) for n in normalised_old]
    t_old = time.perf_counter() - t0

    t0 = time.perf_counter()
    normalised_new = normalise_identity_numbers(values)
    t_norm = time.perf_counter() - t0
    new = pseudonyms(normalised_new, DEMO_KEY)
    t_new = time.perf_counter() - t0

    assert normalised_new == normalised_old and new.tolist() == old, "pseudonyms differ"
    print(
        f"{len(values):,} distinct persons: one at a time {t_old:.2f} s; vectorised {t_new:.2f} s "
        f"(normalise {t_norm:.2f} s, HMAC + encode {t_new - t_norm:.2f} s) = {t_old / t_new:.1f}x; identical"
    )


if __name__ == "__main__":
    main()
