"""Texts and locale-correct formatting for the seminar brief and the figures, in English and Swedish.

Texts live in data files, one per language: ``tasks/reporting/texts/<lang>.yaml`` (shipped as package data; every
key in every language with the same ``{placeholders}``, checked by tests/tasks/reporting/test_texts.py). Code lists
(method family, yes/no) come from ``schemas/codelists/<name>.csv`` (columns code, label_sv, label_en), the same
files the validation suites use. Numbers, percentages and dates are formatted by Babel with the catalogue's
``locale`` (``en_GB``, ``sv_SE``): Swedish output has a decimal comma, a no-break space as thousands separator
(``12 345,6``) and a space before the percent sign (``12,5 %``). Missing values (including suppressed cells) are
written with an en dash unless the caller says otherwise. Unknown languages raise ValueError.
"""

from __future__ import annotations

import functools
import math
import re
import string
from datetime import date, datetime
from pathlib import Path
from typing import Any

import pandas as pd
import yaml
from babel import Locale
from babel.dates import format_date as babel_date
from babel.dates import format_datetime as babel_datetime
from babel.numbers import format_decimal
from babel.numbers import format_percent as babel_percent
from markupsafe import Markup, escape

LANGUAGES: tuple[str, ...] = ("en", "sv")
TEXTS_DIR = Path(__file__).parent / "texts"
MISSING = "–"
_EMPHASIS = re.compile(r"\*([^*]+)\*")


def check_lang(lang: str) -> str:
    """Return ``lang`` if supported, else raise ValueError listing the supported languages."""
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}; expected one of {', '.join(LANGUAGES)}")
    return lang


@functools.lru_cache(maxsize=len(LANGUAGES))
def catalogue(lang: str) -> dict[str, Any]:
    """The parsed text catalogue ``texts/<lang>.yaml`` (a dict of sections: texts, columns, states, ...)."""
    path = TEXTS_DIR / f"{check_lang(lang)}.yaml"
    data = yaml.safe_load(path.read_text(encoding="utf-8"))
    if not isinstance(data, dict) or "locale" not in data or "texts" not in data:
        raise ValueError(f"{path}: expected a mapping with 'locale' and 'texts'")
    return data


def placeholders(text: str) -> set[str]:
    """The ``{name}`` fields of a format string."""
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def lookup(section: str, key: str, lang: str) -> str:
    """Entry ``key`` of catalogue ``section`` in ``lang``; KeyError naming the file when it is absent."""
    entries = catalogue(lang).get(section) or {}
    if key not in entries:
        raise KeyError(f"{TEXTS_DIR / (lang + '.yaml')}: no key {key!r} in section {section!r}")
    return str(entries[key])


def _locale(lang: str) -> Locale:
    return Locale.parse(catalogue(lang)["locale"])


def _missing(value: Any) -> bool:
    if value is None or value is pd.NA or value is pd.NaT:
        return True
    try:
        return bool(pd.isna(value))
    except (TypeError, ValueError):
        return False


# ------------------------------------------------------------------------------------------------ numbers


def format_number(value: Any, lang: str, decimals: int = 2, missing: str = MISSING) -> str:
    """``value`` with ``decimals`` decimals and the locale's separators (``12,345.6`` / ``12 345,6``)."""
    check_lang(lang)
    if _missing(value):
        return missing
    x = float(value)
    if not math.isinf(x) and round(x, decimals) == 0:
        x = 0.0  # no "-0.00"
    pattern = "#,##0" + ("." + "0" * decimals if decimals > 0 else "")
    return format_decimal(x, format=pattern, locale=_locale(lang))


def format_int(value: Any, lang: str, missing: str = MISSING) -> str:
    """A whole number with thousands separators (``12,345`` / ``12 345``)."""
    return format_number(value, lang, decimals=0, missing=missing)


def format_percent(share: Any, lang: str, decimals: int = 1, missing: str = MISSING) -> str:
    """A share 0..1 as a percentage in the locale's pattern: ``12.5%`` (en) / ``12,5 %`` (sv)."""
    check_lang(lang)
    if _missing(share):
        return missing
    x = float(share)
    if round(x * 100, decimals) == 0:
        x = 0.0
    base = _locale(lang).percent_formats[None].pattern
    pattern = base.replace("#,##0", "#,##0." + "0" * decimals) if decimals > 0 else base
    return babel_percent(x, format=pattern, locale=_locale(lang))


def format_pvalue(p: Any, lang: str, missing: str = MISSING) -> str:
    """A p-value with 3 decimals, small values as ``<0.001`` / ``<0,001``."""
    check_lang(lang)
    if _missing(p):
        return missing
    if float(p) < 0.001:
        return below(format_number(0.001, lang, 3), lang)
    return format_number(p, lang, 3)


def format_interval(low: str, high: str, lang: str) -> str:
    """Two formatted bounds as an interval: ``[a, b]`` (en) / ``[a; b]`` (sv, the comma is the decimal sign)."""
    return lookup("formats", "interval", lang).format(low=low, high=high)


def format_ci(low: Any, high: Any, lang: str, decimals: int = 3, missing: str = MISSING) -> str:
    """A confidence interval: ``[0.050, 0.210]`` (en) / ``[0,050; 0,210]`` (sv)."""
    check_lang(lang)
    if _missing(low) or _missing(high):
        return missing
    return format_interval(format_number(low, lang, decimals), format_number(high, lang, decimals), lang)


def hidden_mark(lang: str) -> str:
    """The mark of a count disclosure control hid (``..``, as SCB writes it): it may be small, or hidden to protect
    a small one, so it never says which."""
    return lookup("formats", "hidden", lang)


def below(value: str, lang: str) -> str:
    """ "Fewer than ``value``": ``<5`` (the notation of a suppressed count)."""
    return lookup("formats", "below", lang).format(value=value)


# ------------------------------------------------------------------------------------------------ dates


def format_date(value: Any, lang: str, missing: str = MISSING) -> str:
    """Long date: ``23 November 2025`` (en) / ``23 november 2025`` (sv)."""
    check_lang(lang)
    if _missing(value):
        return missing
    return babel_date(pd.Timestamp(value).date(), lookup("formats", "date", lang), locale=_locale(lang))


def format_datetime(value: datetime | date | pd.Timestamp | str, lang: str, missing: str = MISSING) -> str:
    """Long date and time: ``23 November 2025, 12:50`` (en) / ``23 november 2025 kl. 12.50`` (sv), with the
    time zone (``UTC``, ``CET``, ...) appended when the value is time-zone aware."""
    check_lang(lang)
    if _missing(value):
        return missing
    ts = pd.Timestamp(value)
    pattern = lookup("formats", "datetime", lang)
    if ts.tzinfo is None:
        return babel_datetime(ts.to_pydatetime(), pattern, locale=_locale(lang))
    return babel_datetime(ts.to_pydatetime(), pattern + " z", tzinfo=ts.tzinfo, locale=_locale(lang))


def format_timestamp(value: Any, missing: str = MISSING) -> str:
    """Compact ISO 8601 timestamp ``2025-11-23 12:50`` (same in both languages; ISO is standard in Sweden)."""
    if _missing(value):
        return missing
    return pd.Timestamp(value).strftime("%Y-%m-%d %H:%M")


# ------------------------------------------------------------------------------------------------ texts


def t(key: str, lang: str, **fmt: Any) -> str:
    """Plain text ``key`` (section ``texts``) in ``lang``, formatted with ``fmt`` (``*term*`` marks removed)."""
    text = lookup("texts", key, lang)
    text = text.format(**fmt) if fmt else text
    return _EMPHASIS.sub(r"\1", text)


def t_html(key: str, lang: str, **fmt: Any) -> Markup:
    """Text ``key`` as HTML: escaped, with ``*term*`` (Swedish terms in English text) in <em>.

    Only the catalogue's fixed texts are marked up; format arguments are escaped too."""
    escaped = str(escape(lookup("texts", key, lang)))
    if fmt:
        escaped = escaped.format(**{k: escape(v) for k, v in fmt.items()})
    return Markup(_EMPHASIS.sub(r"<em>\1</em>", escaped))


def label(section: str, code: Any, lang: str) -> str:
    """The word for ``code`` in catalogue ``section`` (columns, states, outcomes, statuses, judgements,
    designs, countries); an en dash when missing, unknown codes as given (also tried in upper case)."""
    check_lang(lang)
    if _missing(code):
        return MISSING
    entries = catalogue(lang).get(section) or {}
    return str(entries.get(str(code), entries.get(str(code).upper(), code)))


@functools.lru_cache(maxsize=32)
def codelist_labels(name: str, lang: str) -> dict[str, str]:
    """Code -> label in ``lang`` from ``schemas/codelists/<name>.csv`` (columns code, label_sv, label_en)."""
    from insats.validation import codelists_dir  # lazy: keeps figure imports light

    path = codelists_dir() / f"{name}.csv"
    if not path.is_file():
        raise KeyError(f"no code list {name!r}: {path} does not exist")
    table = pd.read_csv(path, dtype=str, encoding="utf-8", keep_default_na=False)
    column = f"label_{check_lang(lang)}"
    missing = [c for c in ("code", column) if c not in table.columns]
    if missing:
        raise ValueError(f"{path}: missing column(s) {', '.join(missing)}; expected code, label_sv, label_en")
    return dict(zip(table["code"], table[column], strict=True))


def method_family_label(code: Any, lang: str) -> str:
    """Readable method family from the method_family code list (unknown codes as given)."""
    check_lang(lang)
    return MISSING if _missing(code) else codelist_labels("method_family", lang).get(str(code), str(code))


def yes_no(flag: bool, lang: str) -> str:
    """Yes / Ja or No / Nej from the yes_no code list."""
    return codelist_labels("yes_no", lang)["1" if flag else "0"]


def outcome_label(code: Any, lang: str) -> str:
    """Readable outcome name, e.g. self_sufficient -> Egenförsörjning (unknown codes as given)."""
    return label("outcomes", code, lang)


def state_label(code: Any, lang: str) -> str:
    """Readable Prefect state name, e.g. COMPLETED -> Slutförd (unknown states as given)."""
    return label("states", code, lang)


def column_label(column: str, lang: str) -> str:
    """Table header for a column name (unknown columns as given)."""
    return label("columns", column, lang)


def status_label(code: Any, lang: str) -> str:
    """Status or kind in words: new / changed / unchanged / removed / passed / failed / input / output."""
    return label("statuses", code, lang)


def judgement_label(code: Any, lang: str) -> str:
    """Goal judgement in words: met / partly_met / not_met / not_assessable (unknown codes as given)."""
    return label("judgements", code, lang)


def designs_label(value: Any, lang: str) -> str:
    """A "design n; design n" string with each design in words (unknown designs as given)."""
    check_lang(lang)
    if _missing(value) or not str(value).strip():
        return MISSING
    parts = []
    for item in str(value).split(";"):
        name, _, count = item.strip().rpartition(" ")
        if not name:
            name, count = count, ""
        parts.append(f"{label('designs', name, lang)} {count}".strip())
    return "; ".join(parts)


def countries_label(value: Any, lang: str) -> str:
    """A "; "-separated list of English country names, in ``lang`` (unknown names as given)."""
    check_lang(lang)
    if _missing(value) or not str(value).strip():
        return MISSING
    return "; ".join(label("countries", c.strip(), lang) for c in str(value).split(";") if c.strip())
