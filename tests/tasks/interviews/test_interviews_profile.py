"""Study 1: the demand profile (employers counted once, krav beside neutral and inte krav) and its brief."""

from __future__ import annotations

import pandas as pd
import pytest

from insats.tasks.interviews.profile import code_frequencies, demand_profile
from tests.helpers.interview_codebook import BOOK


def _toy():
    employers = pd.DataFrame({"interview_id": ["I1", "I2", "I3", "I4"], "employer_id": ["A", "A", "B", "C"]})
    coded = pd.DataFrame(
        {
            "interview_id": ["I1", "I2", "I2", "I3", "I3", "I4"],
            "segment_id": ["I1-1", "I2-1", "I2-2", "I3-1", "I3-2", "I4-1"],
            "code_id": [
                "KOMP.SVENSKA",
                "KOMP.SVENSKA",
                "KOMP.KORKORT",
                "KOMP.KORKORT",
                "KOMP.SVENSKA",
                "KOMP.DIGITAL",
            ],
            "matched": "x",
            "negated": [False, False, False, False, True, True],
        }
    )
    return coded, employers


def test_profile_counts_employers_once_ties_and_zeros():
    coded, employers = _toy()
    profile = demand_profile(coded, employers, BOOK).set_index("code_id")
    assert len(profile) == 8 and (profile["n_employers_total"] == 3).all()
    # Employer A mentions Swedish in two interviews: counted once; B's Swedish is negated.
    assert profile.loc["KOMP.SVENSKA", "n_employers"] == 1
    assert profile.loc["KOMP.KORKORT", "n_employers"] == 2 and profile.loc["KOMP.KORKORT", "rank"] == 1
    assert profile.loc["KOMP.SVENSKA", "rank"] == 2
    assert profile.loc["KOMP.DIGITAL", "n_employers"] == 0 and profile.loc["KOMP.DIGITAL", "rank"] == 3
    assert (profile.loc[profile["n_employers"] == 0, "rank"] == 3).all()
    assert profile.loc["KOMP.KORKORT", "share_employers"] == pytest.approx(2 / 3)
    freq = code_frequencies(coded, employers)
    assert freq.to_dict("records") == [
        {"employer_id": "A", "code_id": "KOMP.KORKORT", "n_segments": 1},
        {"employer_id": "A", "code_id": "KOMP.SVENSKA", "n_segments": 2},
        {"employer_id": "B", "code_id": "KOMP.KORKORT", "n_segments": 1},
    ]


def test_profile_counts_krav_and_shows_neutral_and_inte_krav_beside():
    coded, employers = _toy()
    # A: Swedish krav in I1 and neutral in I2 -> krav; B: Swedish neutral; C: digital inte_krav, körkort neutral.
    coded = pd.concat(
        [coded, pd.DataFrame({"interview_id": ["I4"], "segment_id": ["I4-2"], "code_id": ["KOMP.KORKORT"],
                              "matched": "x", "negated": [False]})],
        ignore_index=True,
    ).assign(stance=["krav", "neutral", "krav", "krav", "neutral", "inte_krav", "neutral"])  # fmt: skip
    profile = demand_profile(coded, employers, BOOK).set_index("code_id")
    sv, kk, dig = profile.loc["KOMP.SVENSKA"], profile.loc["KOMP.KORKORT"], profile.loc["KOMP.DIGITAL"]
    assert (sv["n_employers"], sv["n_employers_krav"], sv["n_employers_neutral"], sv["n_employers_inte_krav"]) == (
        1, 1, 1, 0,
    )  # fmt: skip
    assert (kk["n_employers"], kk["n_employers_neutral"]) == (2, 1) and kk["share_neutral"] == pytest.approx(1 / 3)
    assert (dig["n_employers"], dig["n_employers_inte_krav"], dig["share_inte_krav"]) == (0, 1, pytest.approx(1 / 3))
    # The three stance counts partition the employers who mentioned the code.
    everyone = demand_profile(coded, employers, BOOK, include_negated=True).set_index("code_id")
    parts = profile[["n_employers_krav", "n_employers_neutral", "n_employers_inte_krav"]].sum(axis=1)
    assert (parts == everyone["n_employers"].reindex(parts.index)).all()
    with pytest.raises(ValueError, match=r"column 'stance' has \['maybe'\]"):
        demand_profile(coded.assign(stance="maybe"), employers, BOOK)


def test_profile_rejects_bad_input():
    coded, employers = _toy()
    with pytest.raises(ValueError, match=r"interview_id\(s\) \['I4'\] not in the employers table"):
        demand_profile(coded, employers.iloc[:3], BOOK)
    with pytest.raises(ValueError, match="parent code 'NOPE'"):
        demand_profile(coded, employers, BOOK, parent="NOPE")
    with pytest.raises(ValueError, match="'KOMP.SVENSKA' has no child codes"):
        demand_profile(coded, employers, BOOK, parent="KOMP.SVENSKA")
    with pytest.raises(ValueError, match=r"code id\(s\) \['X.Y'\]"):
        demand_profile(coded.assign(code_id="X.Y"), employers, BOOK)
    with pytest.raises(ValueError, match=r"employers: missing column\(s\) \['employer_id'\]"):
        code_frequencies(coded, employers[["interview_id"]])
    with pytest.raises(ValueError, match="listed more than once"):
        code_frequencies(coded, pd.concat([employers, employers]))


@pytest.mark.parametrize(
    ("lang", "merit", "denied"),
    [("sv", "Arbetsgivare som ser det som meriterande", "Arbetsgivare som inte kräver det"),
     ("en", "Employers naming it as a merit", "Employers saying it is not required")],
)  # fmt: skip
def test_brief_shows_stance_counts_beside_demand(lang, merit, denied):
    from insats.tasks.reporting.brief.employer_interviews import profile_section

    coded, employers = _toy()
    coded = coded.assign(stance=["krav", "neutral", "krav", "krav", "neutral", "inte_krav"])
    section = profile_section(demand_profile(coded, employers, BOOK), lang)
    assert section["header"][-2:] == [merit, denied]
    row = {c: r for c, r in zip(section["header"], section["rows"][0], strict=True)}
    assert len(row) == len(section["header"]) and len(section["rows"]) == 8
