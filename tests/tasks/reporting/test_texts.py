"""The brief's text catalogues (tasks/reporting/texts/<lang>.yaml) are complete in every language, and the
locale formatting (Babel) follows each language's conventions."""

from __future__ import annotations

import re
from datetime import UTC, datetime

import pytest

from insats.tasks.reporting.i18n import (
    LANGUAGES,
    catalogue,
    format_datetime,
    format_int,
    format_number,
    format_percent,
    method_family_label,
    placeholders,
    yes_no,
)
from insats.validation import codelists_dir
from tests.helpers import ROOT

TASKS = ROOT / "tasks"


def _flat(tree: dict, prefix: str = "") -> dict[str, str]:
    out: dict[str, str] = {}
    for key, value in tree.items():
        if isinstance(value, dict):
            out.update(_flat(value, f"{prefix}{key}."))
        else:
            out[f"{prefix}{key}"] = str(value)
    return out


def test_every_key_in_every_language_with_the_same_placeholders() -> None:
    flat = {lang: _flat(catalogue(lang)) for lang in LANGUAGES}
    keys = set(flat["en"])
    assert len(keys) > 200
    for lang in LANGUAGES:
        assert set(flat[lang]) == keys, (lang, sorted(set(flat[lang]) ^ keys))
    for key in sorted(keys - {"locale"}):
        fields = {lang: placeholders(flat[lang][key]) for lang in LANGUAGES}
        assert fields["en"] == fields["sv"], (key, fields)
        assert all(flat[lang][key].strip() for lang in LANGUAGES), key


def test_every_text_the_code_asks_for_exists() -> None:
    sources = [p.read_text(encoding="utf-8") for p in TASKS.rglob("*.py")]
    calls = {m for src in sources for m in re.findall(r'\bt(?:_html)?\(\s*"([a-z0-9_]+)"', src)}
    lookups = {m for src in sources for m in re.findall(r'\blookup\(\s*"([a-z_]+)",\s*"([a-z0-9_]+)"', src)}
    assert len(calls) > 40 and lookups
    for lang in LANGUAGES:
        texts = catalogue(lang)["texts"]
        assert not sorted(k for k in calls if k not in texts), lang
        assert not sorted(f"{s}.{k}" for s, k in lookups if k not in catalogue(lang).get(s, {})), lang


def test_swedish_and_english_number_and_date_conventions() -> None:
    assert format_number(12345.6, "sv", 1) == "12\u00a0345,6"  # decimal comma, no-break space
    assert format_number(12345.6, "en", 1) == "12,345.6"
    assert format_int(1234567, "sv") == "1\u00a0234\u00a0567"
    assert format_percent(0.125, "sv") == "12,5\u00a0%" and format_percent(0.125, "en") == "12.5%"
    assert format_percent(0.5, "sv", 0) == "50\u00a0%"
    when = datetime(2025, 3, 2, 8, 5, tzinfo=UTC)
    assert format_datetime(when, "sv") == "2 mars 2025 kl. 08.05 UTC"
    assert format_datetime(when, "en") == "2 March 2025, 08:05 UTC"
    assert format_datetime(when.replace(tzinfo=None), "en") == "2 March 2025, 08:05"


def test_code_lists_come_from_the_shared_csv() -> None:
    rows = (codelists_dir() / "method_family.csv").read_text(encoding="utf-8").splitlines()
    code, sv, en = rows[1 + [r.split(",")[0] for r in rows[1:]].index("health_rehabilitation")].split(",")
    assert method_family_label(code, "sv") == sv and method_family_label(code, "en") == en
    assert method_family_label("not_a_family", "sv") == "not_a_family"
    assert (yes_no(True, "sv"), yes_no(False, "en")) == ("Ja", "No")


def test_unknown_language_or_key() -> None:
    with pytest.raises(ValueError, match="language"):
        catalogue("de")
    from insats.tasks.reporting.i18n import t

    with pytest.raises(KeyError, match="no key 'no_such_text'"):
        t("no_such_text", "en")
