"""Swedish identity numbers: personnummer and samordningsnummer.

Format: ``[CC]YYMMDD[-+]NNNC`` where ``C`` is a Luhn check digit computed over the 10-digit form
``YYMMDDNNN``. A samordningsnummer has 60 added to the day. ``+`` in the 10-digit form marks a person
aged 100 or more. People also write them with an en dash, a space or a dashed date (``2002-10-06-9761``);
all those spellings are recognised. The date and check digit are validated with ``python-stdnum``
(``stdnum.se.personnummer`` and ``stdnum.luhn``). These helpers recognise, validate, normalise and mask
such numbers; they never log or return the clear-text number except where the caller passed it in.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Iterator

from stdnum import luhn
from stdnum.exceptions import ValidationError
from stdnum.se import personnummer

# Hyphen-minus, the Unicode hyphens and dashes (en dash included) and the minus sign; spaces incl. no-break.
_DASHES = "\\-\u2010\u2011\u2012\u2013\u2014\u2212"
_SPACES = " \u00a0\u202f"
# Optional century, the date (optionally written with one dash or space between its parts, the same each
# time), optional separator (a dash, '+' or space), four digits; a token of its own, not part of a longer run
# of letters or digits (a sha256 digest such as "...f1301119655b..." holds digit runs that pass the check), nor
# the decimals of a fraction ("0.2108111796", "05:07:59.0001622026").
IDENTITY_NUMBER_PATTERN = re.compile(
    rf"(?<![0-9A-Za-z])(?<!\d\.)(?P<century>19|20)?(?P<yy>\d{{2}})(?P<ds>[{_DASHES}{_SPACES}]?)(?P<mm>\d{{2}})(?P=ds)"
    rf"(?P<dd>\d{{2}})(?P<sep>[{_DASHES}+{_SPACES}]?)(?P<serial>\d{{4}})(?![0-9A-Za-z])"
)
_MIN_LITERAL_DIGITS = 6  # an odd identity-column value (neither 10 nor 12 digits) is masked literally from here


def luhn_check_digit(nine_digits: str) -> int:
    """Return the Luhn check digit for a 9-digit string (``YYMMDDNNN``), from ``stdnum.luhn``."""
    return int(luhn.calc_check_digit(nine_digits))


def _twelve_digits(m: re.Match[str], reference_year: int) -> str:
    """12-digit form ``YYYYMMDDNNNC`` of a pattern match (not validated).

    For the 10-digit form the century is the latest one that does not put the birth year after
    ``reference_year``; ``+`` adds another 100 years.
    """
    tail = f"{m['mm']}{m['dd']}{m['serial']}"
    if m["century"]:
        return f"{m['century']}{m['yy']}{tail}"
    yy = int(m["yy"])
    century = (reference_year // 100) * 100
    year = century + yy if century + yy <= reference_year else century - 100 + yy
    if m["sep"] == "+":
        year -= 100
    return f"{year:04d}{tail}"


def _valid_twelve(full: str) -> bool:
    """True when a 12-digit number has a real birth date (day - 60 for a samordningsnummer) and Luhn digit.

    ``stdnum.se.personnummer`` validates dates of personnummer only, so a samordningsnummer's date is checked
    with the day moved back by 60, and its check digit with ``stdnum.luhn`` over the unmodified 10 digits.
    """
    day = int(full[6:8])
    birth = full if day <= 60 else f"{full[:6]}{day - 60:02d}{full[8:]}"
    try:
        personnummer.get_birth_date(f"{birth[:8]}-{birth[8:]}")
    except (ValidationError, ValueError):
        return False
    return luhn.is_valid(full[2:])


def normalise_identity_number(value: str, *, reference_year: int = 2026) -> str | None:
    """Return the 12-digit form ``YYYYMMDDNNNC`` of a personnummer/samordningsnummer, or None if invalid.

    Accepts 10 or 12 digits with an optional ``-``, ``+``, en dash or space before the last four digits and
    an optionally dashed date (``1985-06-12-1234``). For the 10-digit form the century is the latest one
    that does not put the birth date after ``reference_year``; ``+`` adds another 100 years.
    Invalid date part or Luhn check digit gives None.
    """
    m = IDENTITY_NUMBER_PATTERN.fullmatch(str(value).strip())
    if m is None:
        return None
    full = _twelve_digits(m, reference_year)
    return full if _valid_twelve(full) else None


def is_identity_number(value: str) -> bool:
    """True when ``value`` is a valid personnummer or samordningsnummer (10 or 12 digits, any spelling)."""
    return normalise_identity_number(value) is not None


def _matches(text: str, accept: Callable[[re.Match[str]], bool]) -> Iterator[re.Match[str]]:
    """Non-overlapping pattern matches that ``accept`` takes; after a rejected match the search resumes one
    character later, so a rejected reading never hides an accepted one that overlaps it."""
    pos = 0
    while (m := IDENTITY_NUMBER_PATTERN.search(text, pos)) is not None:
        if accept(m):
            yield m
            pos = m.end()
        else:
            pos = m.start() + 1


def _confirmed(m: re.Match[str]) -> bool:
    return _valid_twelve(_twelve_digits(m, 2026))


def find_identity_numbers(text: str) -> list[tuple[int, int]]:
    """Return ``(start, end)`` character spans of valid identity numbers in ``text``, in any spelling.

    Only numbers with a valid date part and check digit count, so order numbers and phone numbers
    that merely look alike are not reported.
    """
    return [m.span() for m in _matches(text, _confirmed)]


def _masked(m: re.Match[str]) -> str:
    date = f"{m['century'] or ''}{m['yy']}{m['mm']}{m['dd']}"
    return f"{date}{'+' if m['sep'] == '+' else '-'}****"


def mask_identity_number(value: str) -> str:
    """Mask the birth-number part: ``19850612-1234`` -> ``19850612-****`` (also ``1985-06-12–1234``)."""
    m = IDENTITY_NUMBER_PATTERN.fullmatch(str(value).strip())
    return "****" if m is None else _masked(m)


def mask_identity_numbers(text: str, *, confirmed: bool = True) -> str:
    """``text`` with every identity number masked (``19850612-****``), whatever its spelling.

    ``confirmed=False`` also masks look-alikes whose date or check digit is wrong (a mistyped number
    is still personal data): use it for messages about identity columns.
    """
    accept = _confirmed if confirmed else (lambda m: True)
    out, last = [], 0
    for m in _matches(text, accept):
        out += [text[last : m.start()], _masked(m)]
        last = m.end()
    return "".join(out) + text[last:]


def identity_key(value: object) -> str | None:
    """Spelling-independent key of an identity-number-like value: its last 10 digits (``YYMMDDNNNC``), or
    None when it has neither 10 nor 12 digits. Not validated: a mistyped number has a key too."""
    digits = re.sub(r"\D", "", str(value))
    return digits[-10:] if len(digits) in (10, 12) else None


def _distinct(values: Iterable[object]) -> Iterable[object]:
    """The distinct values of ``values``, in first-seen order: a register column repeats each person once a
    month, so a 30M-row column holds 0.5M distinct numbers. Missing values may remain (the caller skips them)."""
    unique = getattr(values, "unique", None)  # a pandas Series: hashed in C, no Python object per row
    if callable(unique):
        return unique()
    return dict.fromkeys(values)


def identity_masker(values: Iterable[object]) -> Callable[[str], str]:
    """A function masking, in any text, every value seen in an identity column, whatever its spelling there.

    ``values``: the column's clear values (str or int; missing ones are skipped). A value with 10 or 12
    digits is found in any spelling the pattern knows (12 or 10 digits, ``-``, ``–``, ``+``, space, dashed
    date), valid or not; any other value with at least six digits is masked where it occurs literally
    (``****``). Valid identity numbers that were not in the column are masked too.
    """
    keys: set[str] = set()
    literals: set[str] = set()
    for value in _distinct(values):
        text = "" if value is None else str(value).strip()
        if text in ("", "nan", "NaN", "<NA>", "None", "NaT"):  # missing values
            continue
        if text.isascii() and text[:2] in ("19", "20"):  # the usual spellings, decided without a regex
            if len(text) == 12 and text.isdigit():
                keys.add(text[2:])
                continue
            if len(text) == 13 and text[8] == "-" and text[:8].isdigit() and text[9:].isdigit():
                keys.add(text[2:8] + text[9:])
                continue
        key = identity_key(text)
        if key is not None:
            keys.add(key)
        if (key is None or IDENTITY_NUMBER_PATTERN.fullmatch(text) is None) and (
            sum(c.isdigit() for c in text) >= _MIN_LITERAL_DIGITS
        ):
            literals.add(text)
    literal_re = (
        re.compile("|".join(re.escape(v) for v in sorted(literals, key=len, reverse=True))) if literals else None
    )

    def known_or_valid(m: re.Match[str]) -> bool:
        return _twelve_digits(m, 2026)[2:] in keys or _confirmed(m)

    def mask(text: str) -> str:
        text = str(text)
        if literal_re is not None:
            text = literal_re.sub("****", text)
        out, last = [], 0
        for m in _matches(text, known_or_valid):
            out += [text[last : m.start()], _masked(m)]
            last = m.end()
        return "".join(out) + text[last:]

    return mask


def mask_known_identities(text: str, values: Iterable[object]) -> str:
    """``text`` with every value of ``values`` (an identity column's clear values) masked in any spelling;
    see ``identity_masker`` (build the masker once when masking many texts)."""
    return identity_masker(values)(text)
