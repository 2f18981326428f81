"""Identity numbers in every spelling are recognised, validated with python-stdnum and masked; pseudonymisation
keys that would not protect are refused outside demo mode."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import pytest

from insats.tasks.identity import (
    find_identity_numbers,
    identity_masker,
    is_identity_number,
    luhn_check_digit,
    mask_identity_number,
    mask_identity_numbers,
    normalise_identity_number,
)
from insats.tasks.register.pseudonymise import DEMO_KEY, check_pseudonym_key, load_key, site_key_problem
from insats.validation import _mask


def _pnr(date8: str, serial: str) -> str:
    """A valid 12-digit number ``YYYYMMDD-NNNC`` (day + 60 for a samordningsnummer)."""
    return f"{date8}-{serial}{luhn_check_digit(date8[2:] + serial)}"


PNR = _pnr("20021006", "976")  # born 2002: the 10-digit form starts with 0
SAMORDNING = _pnr("19850672", "123")  # 12 June + 60


def spellings(pnr: str) -> list[str]:
    """Every spelling people use for ``YYYYMMDD-NNNC``: 12 and 10 digits with '-', en dash, space, none and
    a dashed date."""
    date, tail = pnr[:8], pnr[9:]
    dashed = f"{date[:4]}-{date[4:6]}-{date[6:]}"
    return [
        pnr,
        f"{date}\u2013{tail}",
        f"{date} {tail}",
        f"{date}{tail}",
        f"{dashed}-{tail}",
        f"{dashed}\u2013{tail}",
        f"{date[2:]}-{tail}",
        f"{date[2:]}\u2013{tail}",
        f"{date[2:]} {tail}",
        f"{date[2:]}{tail}",
        f"{dashed[2:]}-{tail}",
    ]


@pytest.mark.parametrize("pnr", [PNR, SAMORDNING])
def test_every_spelling_normalises_to_the_same_twelve_digits(pnr: str) -> None:
    for spelling in spellings(pnr):
        assert normalise_identity_number(spelling) == pnr.replace("-", ""), spelling
        assert is_identity_number(spelling)


def test_plus_marks_a_centenarian_and_invalid_numbers_are_refused() -> None:
    old = _pnr("19250101", "123")  # 10-digit "250101-..." would be 2025; "+" says 1925
    assert normalise_identity_number(old[2:].replace("-", "+")) == old.replace("-", "")
    assert normalise_identity_number(old[2:]) == "20" + old[2:].replace("-", "")
    wrong_digit = PNR[:-1] + str((int(PNR[-1]) + 1) % 10)
    assert normalise_identity_number(wrong_digit) is None
    assert normalise_identity_number("20021306-9761") is None  # month 13
    assert normalise_identity_number("20020230-0000") is None  # 30 February
    assert not is_identity_number(wrong_digit[2:].replace("-", ""))  # 10 digits, wrong check digit
    assert not is_identity_number("hello")


@pytest.mark.parametrize("pnr", [PNR, SAMORDNING])
def test_every_spelling_is_found_and_masked_in_free_text(pnr: str) -> None:
    for spelling in spellings(pnr):
        text = f"Personen ({spelling}) saknas i registret."
        assert find_identity_numbers(text) == [(10, 10 + len(spelling))], spelling
        masked = mask_identity_numbers(text)
        assert pnr[9:] not in masked and pnr[-4:] not in masked, masked
        assert masked.startswith("Personen (") and masked.endswith("****) saknas i registret.")
        assert _mask(text) == masked  # validation reports mask the same way


def test_mask_format_is_kept() -> None:
    assert mask_identity_number("19850612-1234") == "19850612-****"
    assert mask_identity_number("850612+1234") == "850612+****"
    assert mask_identity_number("1985-06-12\u20131234") == "19850612-****"
    assert mask_identity_number("not a number") == "****"


def test_checksums_phone_numbers_and_timestamps_are_not_taken_for_identity_numbers() -> None:
    tail = PNR[2:].replace("-", "")
    wrong_digit_10 = tail[:-1] + str((int(tail[-1]) + 1) % 10)
    text = (
        f"sha256 ec66fadef{tail}b0e6291f, tel 070-123 45 67, at 2026-12-01 05:10:07, "
        f"order {wrong_digit_10}, n=1234567890, base rate 0.2108111796, at 05:07:59.0001622026"
    )
    assert find_identity_numbers("2108111796") == [(0, 10)]  # valid on its own, but not as decimals above
    assert find_identity_numbers(text) == []
    assert mask_identity_numbers(text) == text


def test_validation_masks_look_alikes_with_a_wrong_check_digit() -> None:
    wrong = PNR[:-1] + str((int(PNR[-1]) + 1) % 10)
    assert mask_identity_numbers(f"x {wrong}") == f"x {wrong}"  # free text: only confirmed numbers
    assert _mask(f"x {wrong.replace('-', chr(0x2013))}") == "x 20021006-****"


def test_the_column_masker_masks_every_value_of_the_identity_column_in_any_spelling() -> None:
    wrong = PNR[:-1] + str((int(PNR[-1]) + 1) % 10)  # mistyped, so no pattern would confirm it
    odd = "2002100697611"  # 13 digits: masked where it occurs as written
    mask = identity_masker([wrong, odd, None, float("nan"), "", SAMORDNING])
    date, tail = wrong[:8], wrong[9:]
    for spelling in [wrong, f"{date}\u2013{tail}", f"{date[2:]} {tail}", f"2002-10-06-{tail}", date + tail]:
        text = f"row 3: {spelling} not valid; row 4: {odd}"
        masked = mask(text)
        assert tail not in masked and odd not in masked, masked
        assert masked.endswith("row 4: ****")
    assert SAMORDNING[-4:] not in mask(f"also {SAMORDNING[2:]}")
    assert mask("2 persons, 3 rows, checksum ec66fade") == "2 persons, 3 rows, checksum ec66fade"


# -- keys ------------------------------------------------------------------------------------------------------

GOOD_KEY = "4f1c0a9e7b2d83f6c5e1a0b9d7c3e2f1"  # 32 hex characters, 14 distinct


@pytest.mark.parametrize(
    ("key", "reason"),
    [
        (DEMO_KEY.decode(), "public demo key"),
        (" " * 40, "whitespace only"),
        ("0123456789abcdef", "too short: 16 characters"),
        ("abababababababababababababababab12", "too little entropy: only 4 distinct"),
    ],
)
def test_site_mode_refuses_keys_that_do_not_protect(monkeypatch: pytest.MonkeyPatch, key: str, reason: str) -> None:
    monkeypatch.setenv("INSATS_TEST_KEY", key)
    with pytest.raises(ValueError, match=reason) as info:
        load_key("INSATS_TEST_KEY")
    message = str(info.value)
    assert "INSATS_TEST_KEY" in message and "register.pseudonym_key_env" in message
    assert not key.strip() or key.strip() not in message
    assert load_key("INSATS_TEST_KEY", demo=True) == key.encode()  # demo mode takes it (length >= 16)


def test_a_key_file_is_checked_and_named_by_its_setting(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INSATS_TEST_KEY", raising=False)
    key_file = tmp_path / "insats.key"
    key_file.write_bytes(DEMO_KEY + b"\n")
    with pytest.raises(ValueError, match=r"register\.pseudonym_key_file.*public demo key"):
        load_key("INSATS_TEST_KEY", key_file=key_file)
    key_file.write_text(GOOD_KEY + "\n", encoding="utf-8")
    assert load_key("INSATS_TEST_KEY", key_file=key_file) == GOOD_KEY.encode()


def test_a_good_key_is_accepted() -> None:
    assert site_key_problem(GOOD_KEY.encode()) is None
    assert site_key_problem(bytes(range(32))) is None  # binary key file: counted in bytes


def _config(mode: str, key_file: Path | None = None, register: bool = True) -> SimpleNamespace:
    reg = SimpleNamespace(pseudonym_key_env="INSATS_TEST_KEY", pseudonym_key_file=key_file)
    return SimpleNamespace(mode=mode, register=reg if register else None)


def test_check_pseudonym_key_refuses_before_any_study_runs(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INSATS_TEST_KEY", raising=False)
    with pytest.raises(ValueError, match="no pseudonymisation key.*INSATS_TEST_KEY"):
        check_pseudonym_key(_config("site"))
    check_pseudonym_key(_config("demo"))  # demo mode falls back to the demo key
    check_pseudonym_key(_config("site", register=False))  # nothing to pseudonymise
    monkeypatch.setenv("INSATS_TEST_KEY", DEMO_KEY.decode())
    with pytest.raises(ValueError, match="public demo key"):
        check_pseudonym_key(_config("site"))
    monkeypatch.setenv("INSATS_TEST_KEY", GOOD_KEY)
    check_pseudonym_key(_config("site"))


def test_run_pipeline_refuses_a_public_key_before_study_1_publishes(tmp_path: Path) -> None:
    import os
    import subprocess
    import sys

    from insats.provenance import PROJECT_ROOT

    (tmp_path / "configs").mkdir()
    site = tmp_path / "configs" / "site.yaml"
    demo_config = (PROJECT_ROOT / "configs" / "demo.yaml").read_text(encoding="utf-8")
    site.write_text(demo_config.replace("mode: demo", "mode: site", 1), encoding="utf-8")
    env = {**os.environ, "INSATS_PSEUDONYM_KEY": DEMO_KEY.decode()}
    proc = subprocess.run(
        [sys.executable, "-m", "insats", "run", "pipeline", "--config", str(site)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
    )
    assert proc.returncode == 1, proc.stdout + proc.stderr
    error = next(line for line in proc.stderr.splitlines() if line.startswith("Error:"))
    assert "public demo key" in error and "register.pseudonym_key_env" in error
    assert not (tmp_path / "data" / "processed").exists()  # study 1 published nothing


def test_validation_reports_mask_every_value_of_the_identity_column_in_the_block() -> None:
    import pandas as pd

    from insats.validation import identity_values_masked, validate_frame

    odd = [PNR[2:8] + "/" + PNR[9:], PNR.replace("-", "")[:11]]  # a slash, and a digit lost: no pattern fits
    n = len(odd) + 1
    df = pd.DataFrame(
        {
            "personnummer": [PNR, *odd],
            "sex": [1] * n,
            "birth_year": [2002] * n,
            "born_abroad": [0] * n,
            "education": [1] * n,
            "household_type": [1] * n,
            "municipality": ["0484"] * n,
        }
    )
    plain = validate_frame(df, "input.persons")
    assert any(v in " ".join(o.describe() for o in plain.failures) for v in odd)  # the gap the block closes
    with identity_values_masked(df["personnummer"]):
        report = validate_frame(df, "input.persons")
    shown = " ".join(o.describe() for o in report.failures) + str(report.raw)
    assert "personnummer" in shown and not any(v in shown for v in odd)
    assert PNR[9:] not in shown.replace("****", "")
