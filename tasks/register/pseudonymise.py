"""Replace identity numbers by keyed pseudonyms at ingestion.

A pseudonym is HMAC-SHA256(key, 12-digit normalised identity number), written as 16 lowercase letters
(the digest as an integer, its 16 lowest base-26 digits; 26**16 ~ 4.4e22, so collisions are negligible
for any register). Letters only, so a pseudonym can never be mistaken for an identity number, and the
same person gets the same pseudonym whatever format the number came in (10/12 digits, with or without
``-``). Without the key the mapping cannot be recomputed: keep the key outside the project (environment
variable or a key file readable only by the analyst).
"""

from __future__ import annotations

import hashlib
import hmac
import os
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from insats.tasks.identity import mask_identity_number, normalise_identity_number

PSEUDONYM_PATTERN = r"^[a-z]{16}$"
PSEUDONYM_LENGTH = 16
MIN_KEY_BYTES = 16
# Outside demo mode a key must be at least this long and use at least this many distinct characters.
MIN_SITE_KEY_CHARS = 32
MIN_SITE_KEY_DISTINCT = 10
# Public and documented: only for the synthetic demo data. A site run refuses it (see load_key).
DEMO_KEY = b"insats-demo-key-not-secret"
_KEY_ADVICE = "make one with `python -c 'import secrets; print(secrets.token_hex(32))'`"
_ALPHABET = "abcdefghijklmnopqrstuvwxyz"
_MAX_SHOWN = 5


def _encode(digest: bytes) -> str:
    """16 base-26 letters of the digest (least significant first)."""
    value = int.from_bytes(digest, "big")
    letters = []
    for _ in range(PSEUDONYM_LENGTH):
        value, r = divmod(value, 26)
        letters.append(_ALPHABET[r])
    return "".join(letters)


def pseudonym(identity_number: str, key: bytes) -> str:
    """Pseudonym of one identity number; ``ValueError`` (without the number) if it is invalid."""
    normalised = normalise_identity_number(identity_number)
    if normalised is None:
        raise ValueError(f"invalid identity number {mask_identity_number(identity_number)}")
    return _encode(hmac.new(key, normalised.encode("ascii"), hashlib.sha256).digest())


def pseudonymise(df: pd.DataFrame, key: bytes, column: str = "personnummer", out: str = "person_id") -> pd.DataFrame:
    """Return ``df`` with ``column`` (identity numbers) replaced by pseudonyms in ``out``, the first column.

    Each distinct value is normalised with ``insats.tasks.identity.normalise_identity_number`` and hashed once
    (fast for person-month tables). Missing or invalid numbers raise ``ValueError`` listing the 1-based
    data rows and the MASKED values (``19850612-****``), never the clear number. The index is kept.
    """
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"pseudonymisation key too short: {len(key)} bytes, need at least {MIN_KEY_BYTES}")
    if column not in df.columns:
        raise ValueError(f"pseudonymise: no column {column!r} (columns: {', '.join(map(str, df.columns))})")
    if out in df.columns and out != column:
        raise ValueError(f"pseudonymise: output column {out!r} already exists")
    codes, uniques = pd.factorize(df[column], use_na_sentinel=True)
    normalised = [normalise_identity_number(str(v)) for v in uniques]
    bad_unique = np.array([n is None for n in normalised] + [True], dtype=bool)  # last: missing (-1)
    bad_rows = np.flatnonzero(bad_unique[codes])
    if bad_rows.size:
        raw = df[column].to_numpy()
        shown = ", ".join(
            f"{i + 1} ({'missing' if pd.isna(raw[i]) else mask_identity_number(str(raw[i]))})"
            for i in bad_rows[:_MAX_SHOWN]
        )
        more = f" and {bad_rows.size - _MAX_SHOWN} more" if bad_rows.size > _MAX_SHOWN else ""
        raise ValueError(
            f"column {column!r}: {bad_rows.size} missing or invalid identity number(s) (bad date or check "
            f"digit) in data row(s) {shown}{more}"
        )
    digests = (hmac.new(key, str(n).encode("ascii"), hashlib.sha256).digest() for n in normalised)
    table = np.array([_encode(d) for d in digests], dtype=object)
    result = df.drop(columns=[column])
    result.insert(0, out, pd.Series(table[codes] if codes.size else [], index=df.index, dtype="string"))
    return result


def site_key_problem(key: bytes) -> str | None:
    """Why ``key`` would not protect pseudonyms outside demo mode, or None when it is acceptable.

    Refused: the public ``DEMO_KEY`` (also with surrounding whitespace), a whitespace-only key, a key
    shorter than ``MIN_SITE_KEY_CHARS`` characters (bytes when it is not UTF-8 text) and a low-entropy key
    with fewer than ``MIN_SITE_KEY_DISTINCT`` distinct characters. The key itself never appears.
    """
    if hmac.compare_digest(key.strip(), DEMO_KEY):
        return "it is the public demo key, which anyone with the repository can use to reverse the pseudonyms"
    if not key.strip():
        return "it is whitespace only"
    try:
        chars: str | bytes = key.decode("utf-8")
        unit = "characters"
    except UnicodeDecodeError:
        chars, unit = key, "bytes"
    if len(chars) < MIN_SITE_KEY_CHARS:
        return f"it is too short: {len(chars)} {unit}, need at least {MIN_SITE_KEY_CHARS}"
    if len(set(chars)) < MIN_SITE_KEY_DISTINCT:
        return (
            f"it has too little entropy: only {len(set(chars))} distinct {unit}, need at least {MIN_SITE_KEY_DISTINCT}"
        )
    return None


def load_key(env_var: str = "INSATS_PSEUDONYM_KEY", key_file: Path | None = None, demo: bool = False) -> bytes:
    """The pseudonymisation key: environment variable ``env_var``, else ``key_file``, else (demo only)
    ``DEMO_KEY``.

    The environment variable's text is used as UTF-8 bytes; a key file's bytes are used with trailing
    newlines stripped. A key shorter than 16 bytes, an unreadable key file, or no key outside demo mode
    raises ``ValueError`` explaining how to provide one. Outside demo mode the demo key, short keys and
    low-entropy keys are refused too (``site_key_problem``), naming the config setting the key came from.
    The key itself never appears in a message.
    """
    value = os.environ.get(env_var)
    if value:
        key = value.encode("utf-8")
        origin = f"environment variable {env_var} (named by register.pseudonym_key_env)"
    elif key_file is not None:
        try:
            key = Path(key_file).read_bytes().rstrip(b"\r\n")
        except OSError as exc:
            raise ValueError(
                f"cannot read pseudonymisation key file {key_file} (register.pseudonym_key_file): {exc.strerror}"
            ) from exc
        origin = f"key file {key_file} (register.pseudonym_key_file)"
    elif demo:
        return DEMO_KEY
    else:
        raise ValueError(
            f"no pseudonymisation key: set the environment variable {env_var} (e.g. "
            f"`export {env_var}=$(python -c 'import secrets; print(secrets.token_hex(32))')`) or point "
            "register.pseudonym_key_file in the site config to a file holding the key (at least "
            f"{MIN_SITE_KEY_CHARS} characters). Keep the same key for every run so that pseudonyms stay stable."
        )
    problem = None if demo else site_key_problem(key)
    if problem is not None:
        raise ValueError(f"pseudonymisation key from {origin} refused outside demo mode: {problem}; {_KEY_ADVICE}")
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(
            f"pseudonymisation key from {origin} is too short: {len(key)} bytes, need at least {MIN_KEY_BYTES}"
        )
    return key


def check_pseudonym_key(config: Any) -> None:
    """Raise ``ValueError`` (with the reason and the setting) unless ``config``'s pseudonymisation key protects.

    ``config``: an ``insats.config.Config`` (anything with ``mode`` and ``register``). A config without a
    ``register`` section, or in ``mode: demo``, needs no key check. Call it before any study runs, so a
    chain never publishes study 1 and then stops at the register.
    """
    reg = getattr(config, "register", None)
    if reg is None or getattr(config, "mode", "site") == "demo":
        return
    load_key(env_var=reg.pseudonym_key_env, key_file=reg.pseudonym_key_file, demo=False)
