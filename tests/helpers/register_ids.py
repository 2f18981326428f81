"""Test keys and valid personnummer shared by the register-ingestion tests (tests/tasks/register)."""

from __future__ import annotations

from insats.tasks.identity import luhn_check_digit


def _pnr(date: str, serial: str) -> str:
    """A valid 12-digit personnummer with hyphen from ``YYYYMMDD`` and a 3-digit serial."""
    return f"{date}-{serial}{luhn_check_digit(date[2:] + serial)}"


PNR_1 = _pnr("19850612", "912")


PNR_2 = _pnr("20030101", "934")


PNR_3 = _pnr("19790375", "981")  # samordningsnummer (day 15 + 60)
