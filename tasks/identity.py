"""Swedish identity numbers: personnummer and samordningsnummer.

Format: ``[CC]YYMMDD[-+]NNNC`` where ``C`` is a Luhn check digit computed over the 10-digit form
``YYMMDDNNN``. A samordningsnummer has 60 added to the day. ``+`` in the 10-digit form marks a person
aged 100 or more. These helpers recognise, validate, normalise and mask such numbers; they never log
or return the clear-text number except where the caller passed it in.
"""

from __future__ import annotations

import re
from datetime import date

# Optional century, six date digits, optional separator, four digits; a token of its own, not part of a longer
# run of letters or digits (a sha256 digest such as "...f1301119655b..." holds digit runs that pass the check).
IDENTITY_NUMBER_PATTERN = re.compile(r"(?<![0-9A-Za-z])((?:19|20)?\d{6})([-+]?)(\d{4})(?![0-9A-Za-z])")


def luhn_check_digit(nine_digits: str) -> int:
    """Return the Luhn check digit for a 9-digit string (``YYMMDDNNN``)."""
    total = 0
    for i, ch in enumerate(nine_digits):
        d = int(ch) * (2 if i % 2 == 0 else 1)
        total += d - 9 if d > 9 else d
    return (10 - total % 10) % 10


def _date_part_valid(yyyymmdd: str) -> bool:
    year, month, day = int(yyyymmdd[:4]), int(yyyymmdd[4:6]), int(yyyymmdd[6:8])
    if day > 60:  # samordningsnummer
        day -= 60
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def normalise_identity_number(value: str, *, reference_year: int = 2026) -> str | None:
    """Return the 12-digit form ``YYYYMMDDNNNC`` of a personnummer/samordningsnummer, or None if invalid.

    Accepts 10 or 12 digits with an optional ``-`` or ``+``. For the 10-digit form the century is the
    latest one that does not put the birth date after ``reference_year``; ``+`` adds another 100 years.
    Invalid date part or Luhn check digit gives None.
    """
    m = IDENTITY_NUMBER_PATTERN.fullmatch(str(value).strip())
    if m is None:
        return None
    head, sep, tail = m.groups()
    if len(head) == 8:
        full = head + tail
    else:
        yy = int(head[:2])
        century = (reference_year // 100) * 100
        year = century + yy if century + yy <= reference_year else century - 100 + yy
        if sep == "+":
            year -= 100
        full = f"{year:04d}{head[2:]}{tail}"
    if not _date_part_valid(full[:8]):
        return None
    if luhn_check_digit(full[2:11]) != int(full[11]):
        return None
    return full


def is_identity_number(value: str) -> bool:
    """True when ``value`` is a valid personnummer or samordningsnummer (10 or 12 digits)."""
    return normalise_identity_number(value) is not None


def find_identity_numbers(text: str) -> list[tuple[int, int]]:
    """Return ``(start, end)`` character spans of valid identity numbers in ``text``.

    Only numbers with a valid date part and check digit count, so order numbers and phone numbers
    that merely look alike are not reported.
    """
    return [m.span() for m in IDENTITY_NUMBER_PATTERN.finditer(text) if is_identity_number(m.group(0))]


def mask_identity_number(value: str) -> str:
    """Mask the birth-number part: ``19850612-1234`` -> ``19850612-****``."""
    m = IDENTITY_NUMBER_PATTERN.fullmatch(str(value).strip())
    if m is None:
        return "****"
    head, sep, _ = m.groups()
    return f"{head}{sep or '-'}****"
