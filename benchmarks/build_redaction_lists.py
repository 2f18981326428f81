"""Build the name and word lists that study 1's redaction ships (tasks/interviews/data/, see its README.md).

Run once by a maintainer (needs the dev-only packages ``faker`` and ``wordfreq``; the pipeline itself needs
neither): ``python benchmarks/build_redaction_lists.py``. Writes

- ``first_names.txt`` / ``surnames.txt``: Latin-script person names from Faker's person providers for
  Sweden and the countries most people born abroad who live in Sweden come from (Finland, Norway, Denmark,
  Poland, Turkey, former Yugoslavia/Croatia, Romania, Germany, the US/UK), one per line, sorted;
- ``common_words.txt``: lower-case Swedish words with a wordfreq Zipf frequency >= ``COMMON_ZIPF``, the
  words a capitalised token must *not* be to count as a name when it is in no list;
- ``ordinary_names.txt``: names that are also ordinary Swedish words ("Per", "Inga", "Dag"): at the start of
  a sentence they count as names only next to another name (a hand-checked subset of the names whose
  lower-case form has Zipf >= 4.0, written below in ``ORDINARY``).
"""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import wordfreq

OUT = Path(__file__).resolve().parents[1] / "tasks" / "interviews" / "data"
FIRST_LOCALES = ["sv_SE", "fi_FI", "no_NO", "da_DK", "pl_PL", "tr_TR", "hr_HR", "ro_RO", "de_DE", "en_US"]
SURNAME_LOCALES = ["sv_SE", "fi_FI", "no_NO", "da_DK", "hr_HR", "tr_TR", "pl_PL"]
COMMON_ZIPF = 3.0
LATIN = re.compile(r"[A-ZÅÄÖÉÜÇŞĞİÆØŁŚŻŹĆŃČŠŽ][a-zåäöéüçşğıæøłśżźćńèáíóúëïâêîôûãõčšžđ]+(?:-[A-ZÅÄÖ][a-zåäöéü]+)?")
# Names that are ordinary Swedish words when capitalised at a sentence start (checked by hand from the
# names whose lower-case form has Zipf >= 4.0 in Swedish).
ORDINARY = """
Alf Alm Asp Bo Bror Dag Ek Falk Fors Frid Frisk Fager Gran Hall Hans Holm Inga Klara Lo Lind Liv Love Lund Mark
Max Mina My Nord Per Rask Rosa Sjö Skog Stark Sten Stig Strand Strid Sund Vide Ville Vik Ask Berg Björn Ros Storm
Svan Dal Ström Ling Lust Mod Ro Tor Tro Bris Fred Kim Ben Tim Dan Bill Rita Bella Saga Inge Svea Borg Rose Green
Don May Lee
"""
# Never names here: Swedish function words, months, common nouns and place or company names that some
# country's name list carries ("Till", "Andra", "Maj", "Roman" = novel, "Ica" = a grocery chain, "Bergen").
NOT_NAMES = """
Till Bara Över Andra Sina Dina Ute Veta Jo Stan Rena Dam Ica Us Stilla Kristen Junior Anda Gren Roman Bergen Bali
Alla Med Man Vilja Mars April Augusti Juni Maj Juli Sommar Vinter Vår Höst Sol Kung Lag Hav Eld Kind Ren Våg Sand
Del Jesus
"""


def _names(locales: list[str], attrs: tuple[str, ...]) -> set[str]:
    found: set[str] = set()
    for loc in locales:
        provider = importlib.import_module(f"faker.providers.person.{loc}").Provider
        for attr in attrs:
            values = getattr(provider, attr, None) or ()
            found |= {n for n in (values.keys() if isinstance(values, dict) else values) if LATIN.fullmatch(n)}
    return found


def main() -> None:
    first = _names(FIRST_LOCALES, ("first_names", "first_names_female", "first_names_male"))
    last = _names(SURNAME_LOCALES, ("last_names",))
    words = sorted(
        w for w in wordfreq.top_n_list("sv", 400_000)
        if re.fullmatch(r"[a-zåäöéü]+", w) and wordfreq.zipf_frequency(w, "sv") >= COMMON_ZIPF
    )  # fmt: skip
    drop = set(NOT_NAMES.split())
    first, last = first - drop, last - drop
    names = first | last
    ordinary = sorted({w for w in ORDINARY.split() if w in names})
    for file, values in [("first_names.txt", sorted(first)), ("surnames.txt", sorted(last)),
                         ("common_words.txt", words), ("ordinary_names.txt", ordinary)]:  # fmt: skip
        (OUT / file).write_text("\n".join(values) + "\n", encoding="utf-8")
        print(f"{file}: {len(values)}")


if __name__ == "__main__":
    main()
