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
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa

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
_DAYS_IN_MONTH = np.array([31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31], dtype=np.int64)
# The common spellings of a 12-digit number, checked with array arithmetic; any other spelling goes through
# normalise_identity_number one value at a time (same answer, slower).
_FAST_FORMS = r"(?:19|20)\d{6}-?\d{4}"


def _encode(digest: bytes) -> str:
    """16 base-26 letters of the digest (least significant first)."""
    value = int.from_bytes(digest, "big")
    letters = []
    for _ in range(PSEUDONYM_LENGTH):
        value, r = divmod(value, 26)
        letters.append(_ALPHABET[r])
    return "".join(letters)


def normalise_identity_numbers(values: Sequence[object]) -> list[str | None]:
    """``normalise_identity_number`` of each value (``str(value)``), vectorised: the same 12-digit strings, None
    where invalid.

    Values written ``YYYYMMDDNNNC`` or ``YYYYMMDD-NNNC`` with century 19/20 (what ``standardise`` produces)
    are checked on a (n, 12) digit array: the date (a samordningsnummer's day minus 60, leap years) and the
    Luhn digit over the last ten digits, exactly as ``tasks.identity`` does through python-stdnum. Any other
    spelling is passed to ``normalise_identity_number`` one at a time.
    """
    text = pd.Series(np.asarray(values, dtype=object), dtype=object).astype(str)
    out: list[str | None] = [None] * len(text)
    fast = text.str.fullmatch(_FAST_FORMS).to_numpy(dtype=bool) if len(text) else np.zeros(0, dtype=bool)
    idx = np.flatnonzero(fast)
    if idx.size:
        twelve = text.iloc[idx].str.replace("-", "", regex=False).to_numpy(dtype=object)
        d = (np.frombuffer("".join(twelve).encode("ascii"), dtype=np.uint8).reshape(idx.size, 12) - 48).astype(np.int64)
        year = d[:, 0] * 1000 + d[:, 1] * 100 + d[:, 2] * 10 + d[:, 3]
        month = d[:, 4] * 10 + d[:, 5]
        day = d[:, 6] * 10 + d[:, 7]
        day = np.where(day > 60, day - 60, day)  # samordningsnummer
        leap = (year % 4 == 0) & ((year % 100 != 0) | (year % 400 == 0))
        days = _DAYS_IN_MONTH[np.clip(month - 1, 0, 11)] + ((month == 2) & leap)
        date_ok = (month >= 1) & (month <= 12) & (day >= 1) & (day <= days)
        doubled = d[:, 2::2] * 2  # Luhn over YYMMDDNNNC: every other digit from the left, doubled
        luhn = (d[:, 3::2].sum(axis=1) + (doubled - 9 * (doubled > 9)).sum(axis=1)) % 10 == 0
        for i, value, ok in zip(idx.tolist(), twelve.tolist(), (date_ok & luhn).tolist(), strict=True):
            out[i] = value if ok else None
    for i in np.flatnonzero(~fast).tolist():
        out[i] = normalise_identity_number(text.iat[i])
    return out


def _hmac_sha256_many(key: bytes, messages: Sequence[str]) -> bytes:
    """HMAC-SHA256 (RFC 2104) of each ASCII message, digests concatenated (32 bytes each).

    The padded key's inner and outer SHA-256 states are computed once and copied per message: the same
    digests as ``hmac.new(key, m, sha256)``, without re-hashing the key for every value.
    """
    block = hashlib.sha256().block_size
    padded = (hashlib.sha256(key).digest() if len(key) > block else key).ljust(block, b"\0")
    inner = hashlib.sha256(bytes(b ^ 0x36 for b in padded))
    outer = hashlib.sha256(bytes(b ^ 0x5C for b in padded))
    parts = []
    for message in messages:
        h = inner.copy()
        h.update(message.encode("ascii"))
        o = outer.copy()
        o.update(h.digest())
        parts.append(o.digest())
    return b"".join(parts)


def _encode_many(digests: bytes) -> np.ndarray:
    """``_encode`` of each 32-byte digest in ``digests``: an object array of 16-letter strings.

    Long division of the 256-bit big-endian number (8 x 32-bit limbs) by 26**6, 26**6 and 26**4 (each
    remainder fits: 26**6 * 2**32 < 2**64) gives the 16 lowest base-26 digits exactly, least significant first.
    """
    n = len(digests) // 32
    limbs = np.frombuffer(digests, dtype=">u4").reshape(n, 8).astype(np.uint64)
    letters = np.empty((n, PSEUDONYM_LENGTH), dtype=np.uint8)
    done = 0
    for width in (6, 6, 4):
        divisor = np.uint64(26**width)
        rem = np.zeros(n, dtype=np.uint64)
        for j in range(8):
            cur = (rem << np.uint64(32)) | limbs[:, j]
            limbs[:, j] = cur // divisor
            rem = cur - limbs[:, j] * divisor
        for k in range(width):
            letters[:, done + k] = (rem % np.uint64(26)).astype(np.uint8) + ord("a")
            rem //= np.uint64(26)
        done += width
    return np.array(letters.view(f"S{PSEUDONYM_LENGTH}").ravel().astype(f"U{PSEUDONYM_LENGTH}"), dtype=object)


def pseudonyms(normalised: Sequence[str], key: bytes) -> np.ndarray:
    """Pseudonyms of already normalised (12-digit, valid) identity numbers: an object array of str, the same
    values as :func:`pseudonym` gives one at a time."""
    return _encode_many(_hmac_sha256_many(key, normalised)) if len(normalised) else np.zeros(0, dtype=object)


def pseudonym(identity_number: str, key: bytes) -> str:
    """Pseudonym of one identity number; ``ValueError`` (without the number) if it is invalid."""
    normalised = normalise_identity_number(identity_number)
    if normalised is None:
        raise ValueError(f"invalid identity number {mask_identity_number(identity_number)}")
    return _encode(hmac.new(key, normalised.encode("ascii"), hashlib.sha256).digest())


def pseudonymise(df: pd.DataFrame, key: bytes, column: str = "personnummer", out: str = "person_id") -> pd.DataFrame:
    """Return ``df`` with ``column`` (identity numbers) replaced by pseudonyms in ``out``, the first column.

    Each distinct value is normalised (:func:`normalise_identity_numbers`, the same answers as
    ``insats.tasks.identity.normalise_identity_number``) and hashed once, vectorised (:func:`pseudonyms`).
    Missing or invalid numbers raise ``ValueError`` listing the 1-based data rows and the MASKED values
    (``19850612-****``), never the clear number. The index is kept.
    """
    if len(key) < MIN_KEY_BYTES:
        raise ValueError(f"pseudonymisation key too short: {len(key)} bytes, need at least {MIN_KEY_BYTES}")
    if column not in df.columns:
        raise ValueError(f"pseudonymise: no column {column!r} (columns: {', '.join(map(str, df.columns))})")
    if out in df.columns and out != column:
        raise ValueError(f"pseudonymise: output column {out!r} already exists")
    codes, uniques = pd.factorize(df[column], use_na_sentinel=True)
    normalised = normalise_identity_numbers(np.asarray(uniques, dtype=object))
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
    table = pseudonyms([str(n) for n in normalised], key)  # each distinct person hashed once
    # Broadcast to the rows inside Arrow (16 bytes a row), not as one Python string object per row.
    rows = pa.array(table, type=pa.string()).take(pa.array(codes)) if codes.size else pa.array([], pa.string())
    result = df.drop(columns=[column])
    result.insert(0, out, pd.Series(pd.arrays.ArrowStringArray(rows), index=df.index))
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
