"""Three-valued stance of keyword mentions (tasks/interviews/stance.py via coding.explain_matches / code_segments)."""

from __future__ import annotations

import pandas as pd
import pytest

from insats.tasks.interviews.codebook import parse_codebook
from insats.tasks.interviews.coding import code_segments, explain_matches
from insats.tasks.interviews.stance import combine, combine_readings

BOOK = parse_codebook(
    {
        "name": "t",
        "codes": [
            {"id": "SV", "label": "Svenska", "keywords": ["svenska"]},
            {"id": "KK", "label": "Körkort", "keywords": ["körkort"]},
            {"id": "PUN", "label": "Punktlighet", "keywords": ["sen", "komma i tid"]},
            {"id": "YRK", "label": "Erfarenhet", "keywords": ["erfarenhet"]},
            {"id": "DIG", "label": "Digital", "keywords": ["dator", "datorvana", "app"]},
        ],
    }
)


def _stances(text: str) -> list[tuple[str, str]]:
    ex = explain_matches(text, BOOK)
    return list(zip(ex["code_id"], ex["stance"], strict=True))


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Körkort är ett krav.", [("KK", "krav")]),
        # Negation after the keyword, anywhere in the clause.
        ("Körkort spelar ingen roll för oss.", [("KK", "inte_krav")]),
        ("Svenskan är faktiskt inte det viktigaste.", [("SV", "inte_krav")]),
        ("Vi har inte alls något sådant krav på körkort.", [("KK", "inte_krav")]),
        # Clause boundaries: punctuation and "men".
        ("Vi kräver inte körkort, men svenska är viktigt.", [("KK", "inte_krav"), ("SV", "krav")]),
        ("Vi kräver inte körkort men svenska.", [("KK", "inte_krav"), ("SV", "krav")]),
        # Double negation, and "utan" as the preposition "without" vs the conjunction.
        ("Det går inte utan svenska.", [("SV", "krav")]),
        ("Utan körkort kan man inte jobba här.", [("KK", "krav")]),
        ("Vi tar folk utan körkort också.", [("KK", "inte_krav")]),
        ("Inte sitta still, utan prata svenska med kunderna.", [("SV", "krav")]),
        # Hedges and hypotheticals are neutral.
        ("Erfarenhet är meriterande men inget krav.", [("YRK", "neutral")]),
        ("Det är bra om man har svenska.", [("SV", "neutral")]),
        ("Datorvana är bra att ha.", [("DIG", "neutral")]),
        ("Traktorkort eller körkort, helst.", [("KK", "neutral")]),
        ("Om vi skulle börja köra ut skulle vi behöva körkort.", [("KK", "neutral")]),
        # Praise with a negation word, and litotes, affirm the quality.
        ("Hon är aldrig sen.", [("PUN", "krav")]),
        ("Man ska inte vara rädd för datorer.", [("DIG", "krav")]),
        # Spoken negation.
        ("Nä, svenskan är int så noga.", [("SV", "inte_krav")]),
        # Round 2: counterfactuals are neutral; a negation after "och" negates the next conjunct only; a
        # negated condition states a need; a negated relative clause describes people; learned on the job.
        ("Hade vi fått välja hade vi tagit folk med erfarenhet.", [("YRK", "neutral")]),
        ("Om vi hade haft bilar hade körkort behövts.", [("KK", "neutral")]),
        ("Att man pratar svenska och inte bara engelska.", [("SV", "krav")]),
        ("Har man inte körkort kan vi hjälpa till.", [("KK", "krav")]),
        ("Kan man inte svenska, så funkar det inte.", [("SV", "krav")]),
        ("De som inte har körkort åker med någon annan.", [("KK", "krav")]),
        ("Vi har en app i telefonen. Den lär man sig på en dag.", [("DIG", "inte_krav")]),
        ("Vi har en app i telefonen. Det är inget man lär sig på en dag.", [("DIG", "krav")]),
    ],
)
def test_mention_stance(text, expected):
    assert _stances(text) == expected


def _coded(*texts: str, roles=("interviewer", "respondent"), question_context=False) -> pd.DataFrame:
    seg = pd.DataFrame(
        {
            "interview_id": "T",
            "segment_id": [f"T-{i}" for i in range(len(texts))],
            "speaker_role": [roles[i % 2] for i in range(len(texts))],
            "text": list(texts),
        }
    )
    return code_segments(seg, BOOK, question_context=question_context)


def test_segment_stance_explicit_readings_decide():
    # A bare mention ("appen") does not outvote an explicit denial in the same turn.
    got = _coded("Datorer?", "Vi har appen i mobilen. Datorvana är inget vi bryr oss om.")
    assert got[["code_id", "stance", "negated"]].values.tolist() == [["DIG", "inte_krav", True]]
    # A requirement for some roles and not for others is a requirement.
    got = _coded("Körkort?", "Vi kräver inte körkort för lagret, men körkort är bra för chaufförerna.")
    assert got["stance"].tolist() == ["krav"] and not got["negated"].any()


def test_question_context_gives_short_answers_the_question_code():
    assert _coded("Körkort?", "Nej.").empty
    got = _coded("Körkort?", "Nej.", "Och att komma i tid?", "Vi börjar halv sju.", question_context=True)
    assert got[["segment_id", "code_id", "stance", "matched"]].values.tolist() == [
        ["T-1", "KK", "inte_krav", "I: Körkort"],
        ["T-3", "PUN", "krav", "I: komma i tid"],
    ]
    hedged = _coded("Erfarenhet?", "Nja, det är inget krav men bra om man har jobbat förut.", question_context=True)
    assert hedged["stance"].tolist() == ["neutral"]
    # The answer's own mention wins over the question's.
    own = _coded("Körkort?", "Körkort spelar ingen roll.", question_context=True)
    assert own[["stance", "matched"]].values.tolist() == [["inte_krav", "Körkort"]]


def test_combine_order_and_errors():
    assert combine(["inte_krav", "neutral"]) == "neutral" and combine(["neutral", "krav"]) == "krav"
    assert combine_readings([("krav", False), ("inte_krav", True)]) == "inte_krav"
    assert combine_readings([("krav", False), ("neutral", False)]) == "krav"
    with pytest.raises(ValueError, match="non-empty list"):
        combine([])
    with pytest.raises(ValueError, match="'maybe'"):
        combine(["maybe"])
