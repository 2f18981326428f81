"""Material built on the study-1 demo interviews: the planted truth per sentence, simulated human coding,
a focus group and open survey answers (issue 6).

Each draws from its own seeded stream (``[seed, 6, k]``), so the interviews do not change with it. Phrases
and coder parameters come from ``data/interviews.yaml`` (:mod:`insats.demo.interview_text`).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from insats.demo.interview_text import (
    AFFIRMATIVE,
    CERTIFICATES,
    NEGATED,
    NEUTRAL,
    PHRASES,
    QUESTIONS,
    SECTOR_DESCRIPTIONS,
    SECTORS,
    SENTENCE_BREAK,
    SIZE_CLASSES,
    SIZE_WEIGHTS,
    SPEAKER_LABELS,
    TARGET_SHARES,
    DemoInterviews,
    Interview,
    document_text,
    pick,
    sentences,
)

# recall: chance a planted sentence is coded; confusion: chance a coded sentence gets a neighbouring code
# instead; extra: chance a neutral respondent sentence is (wrongly) coded with a random code.
HUMAN_CODERS: dict[str, dict[str, float]] = PHRASES["human_coders"]
CONFUSABLE: dict[str, str] = PHRASES["confusable"]  # codes coders plausibly confuse with each other (symmetric)
HUMAN_CODING_COLUMNS = ["document", "start", "end", "code", "coder"]
PLANTED_COLUMNS = ["interview_id", "segment_id", "code_id", "negated", "start", "end"]


def _sentence_codes(sector: str) -> dict[str, tuple[str, bool]]:
    """Template sentence -> (code, negated) for one sector (certificates filled in)."""
    out: dict[str, tuple[str, bool]] = {}
    for code, pool in AFFIRMATIVE.items():
        for sentence in pool:
            out[sentence.format(cert=CERTIFICATES[sector])] = (code, False)
    for code, pool in NEGATED.items():
        for sentence in pool:
            out[sentence] = (code, True)
    return out


def _split_sentences(text: str) -> list[tuple[int, int]]:
    """(start, end) of the sentences of one turn, split where the generator joined them."""
    spans, start = [], 0
    for m in SENTENCE_BREAK.finditer(text):
        spans.append((start, m.start()))
        start = m.end()
    spans.append((start, len(text)))
    return spans


def _turn_starts(interview: Interview, text: str, labels: dict[str, str] | None = None) -> list[int]:
    """Offset in ``text`` where each turn's text begins (after ``Label: ``)."""
    labels = labels or SPEAKER_LABELS[interview.speaker_style]
    cursor, starts = 0, []
    for role, turn in interview.turns:
        rendered = f"{labels.get(role, role)}: "
        pos = text.index(rendered, cursor) + len(rendered)
        if text[pos : pos + len(turn)].replace("\n", " ") != turn:
            raise AssertionError(f"{interview.interview_id}: turn text not found where expected")  # generator bug
        starts.append(pos)
        cursor = pos + len(turn)
    return starts


def planted_codes(interview: Interview) -> pd.DataFrame:
    """The generator's truth per sentence: one row per planted (sentence, code).

    Columns: interview_id, segment_id (``f"{interview_id}-{turn:03d}"`` as ``segment_turns`` numbers turns),
    code_id, negated (a "not required"/no-contact sentence), start, end (offsets of the sentence in
    :func:`document_text`). Respondent turns only; neutral sentences have no row.
    """
    text = document_text(interview)
    lookup = _sentence_codes(interview.sector)
    rows = []
    for n, ((role, turn), start) in enumerate(zip(interview.turns, _turn_starts(interview, text), strict=True), 1):
        if role != "respondent":
            continue
        for a, b in _split_sentences(turn):
            hit = lookup.get(turn[a:b])
            if hit is not None:
                rows.append((interview.interview_id, f"{interview.interview_id}-{n:03d}", hit[0], hit[1],
                             start + a, start + b))  # fmt: skip
    return pd.DataFrame(rows, columns=PLANTED_COLUMNS)


def _neutral_sentences(interview: Interview) -> list[tuple[int, int]]:
    text = document_text(interview)
    lookup = _sentence_codes(interview.sector)
    out = []
    for (role, turn), start in zip(interview.turns, _turn_starts(interview, text), strict=True):
        if role == "respondent":
            out += [(start + a, start + b) for a, b in _split_sentences(turn) if turn[a:b] not in lookup]
    return out


def make_human_coding(
    bundle: DemoInterviews, seed: int = 2026, n_interviews: int = 12
) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Simulated manual coding of part of the transcripts by two coders (:data:`HUMAN_CODERS`).

    ``n_interviews`` interviews (seeded choice) are coded; each coder skips one of them that the other coded
    (missing data for reliability). A coder codes each planted sentence (negated ones too: the topic is
    coded, the stance is not) with probability ``recall``, swaps the code for a :data:`CONFUSABLE` one with
    probability ``confusion``, and codes a neutral sentence with probability ``extra``.

    Returns ``(spans, truth)``: spans with columns document (the transcript file name), start, end
    (character offsets into :func:`document_text`, end exclusive), code, coder; truth with the coded
    interview ids per coder and the coder parameters.
    """
    rng = np.random.default_rng([seed, 6, 1])
    n = min(n_interviews, len(bundle.interviews))
    chosen = sorted(int(i) for i in rng.choice(len(bundle.interviews), size=n, replace=False))
    skip = rng.choice(chosen, size=2, replace=False) if n >= 3 else []
    coded_by = {
        coder: [bundle.interviews[i].interview_id for i in chosen if n < 3 or i != int(skip[k])]
        for k, coder in enumerate(HUMAN_CODERS)
    }
    codes = list(TARGET_SHARES)
    rows = []
    for coder, params in HUMAN_CODERS.items():
        for iv in bundle.interviews:
            if iv.interview_id not in coded_by[coder]:
                continue
            for r in planted_codes(iv).itertuples():
                if rng.random() >= params["recall"]:
                    continue
                code = CONFUSABLE[r.code_id] if rng.random() < params["confusion"] else r.code_id
                rows.append((iv.file, r.start, r.end, code, coder))
            for a, b in _neutral_sentences(iv):
                if rng.random() < params["extra"]:
                    rows.append((iv.file, a, b, codes[int(rng.integers(len(codes)))], coder))
    spans = pd.DataFrame(rows, columns=HUMAN_CODING_COLUMNS).astype({"start": "int64", "end": "int64"})
    spans = spans.sort_values(["coder", "document", "start", "code"], kind="stable").reset_index(drop=True)
    return spans, {"coded_interviews": coded_by, "coders": HUMAN_CODERS}


# Focus group: one moderator (I) and four employers (R1..R4) from different sectors.
FOCUS_GROUP_ID = "FG01"
FOCUS_GROUP_SECTORS: tuple[str, ...] = tuple(PHRASES["focus_group"]["sectors"])


def make_focus_group(seed: int = 2026) -> tuple[Interview, dict[str, Any]]:
    """A focus group transcript (``FG01``) with a moderator ``I`` and respondents ``R1``..``R4``.

    Each respondent answers the same four questions; what they say is drawn from the code templates, with a
    planted truth: ``codes_by_speaker`` (label -> sorted affirmative codes). In ``turns`` the role field holds
    the speaker label ("I", "R1".. "R4"); render with :func:`render_focus_group`.
    """
    rng = np.random.default_rng([seed, 6, 2])
    speakers = [f"R{k + 1}" for k in range(len(FOCUS_GROUP_SECTORS))]
    topics = [
        ("expect", ["KOMP.SVENSKA", "KOMP.PUNKTLIGHET", "KOMP.MOTIVATION", "KOMP.SAMARBETE"]),
        ("more", ["KOMP.SERVICE", "KOMP.YRKESKUNSKAP", "KOMP.DIGITAL", "KOMP.KORKORT"]),
        ("view", ["SYN.POSITIV", "SYN.NEGATIV"]),
        ("needs", ["SYN.HANDLEDNING", "SYN.KONTAKT"]),
    ]
    turns: list[tuple[str, str]] = [("I", PHRASES["focus_group"]["welcome"])]
    for label, sector in zip(speakers, FOCUS_GROUP_SECTORS, strict=True):
        turns.append((label, pick(rng, SECTOR_DESCRIPTIONS[sector])))
    truth: dict[str, set[str]] = {s: set() for s in speakers}
    for key, pool in topics:
        turns.append(("I", pick(rng, QUESTIONS[key])))
        for label, sector in zip(speakers, FOCUS_GROUP_SECTORS, strict=True):
            picked = [c for c in pool if rng.random() < 0.45]
            if not picked:
                turns.append((label, pick(rng, NEUTRAL["agree"] + NEUTRAL["closing"][:1])))
                continue
            said = [sentences(rng, c, 1, sector)[0] for c in picked]
            truth[label].update(picked)
            turns.append((label, " ".join(said)))
    turns.append(("I", pick(rng, QUESTIONS["thanks"])))
    fg = Interview(
        interview_id=FOCUS_GROUP_ID, employer_id="", sector="blandat", size_class="", n_employees=0,
        interview_date="2025-06-10", file_format="txt", speaker_style="focus", wrap_lines=False,
        turns=tuple(turns),
    )  # fmt: skip
    return fg, {
        "interview_id": FOCUS_GROUP_ID,
        "speakers": dict(zip(speakers, FOCUS_GROUP_SECTORS, strict=True)),
        "codes_by_speaker": {k: sorted(v) for k, v in truth.items()},
    }


def render_focus_group(fg: Interview) -> str:
    """``.txt`` form of a focus group: a header, then ``Label: text`` paragraphs (labels I, R1..R4)."""
    lines = [f"Fokusgrupp {fg.interview_id}", f"Datum: {fg.interview_date}", ""]
    for label, text in fg.turns:
        lines += [f"{label}: {text}", ""]
    return "\n".join(lines)


SURVEY_TEXT_COLUMNS = ("fritext_krav", "fritext_insatser")
SURVEY_LIKERT_COLUMNS = ("q_nojd_insatser", "q_ta_emot_fler", "q_kontakt_kommun")


def make_survey(seed: int = 2026, n_respondents: int = 60) -> tuple[pd.DataFrame, dict[str, Any]]:
    """Open survey answers from employers: one row per respondent.

    Columns: respondent_id (``S001``...), sector, size_class, three Likert items (1-5, see
    :data:`SURVEY_LIKERT_COLUMNS`; ``q_nojd_insatser`` is higher for respondents planted with SYN.POSITIV and
    lower with SYN.NEGATIV), and two free-text columns (:data:`SURVEY_TEXT_COLUMNS`; "" when skipped, about
    10 %). Truth: ``codes`` (respondent_id -> {column: sorted codes}) and ``shares`` (code -> share of
    respondents with the code in any answer).
    """
    rng = np.random.default_rng([seed, 6, 3])
    komp = [c for c in TARGET_SHARES if c.startswith("KOMP.")]
    syn = [c for c in TARGET_SHARES if c.startswith("SYN.")]
    rows, codes = [], {}
    for k in range(n_respondents):
        rid = f"S{k + 1:03d}"
        sector = SECTORS[int(rng.integers(len(SECTORS)))]
        size = SIZE_CLASSES[int(rng.choice(4, p=np.array(SIZE_WEIGHTS[sector])))]
        answer_codes: dict[str, list[str]] = {}
        texts: dict[str, str] = {}
        for col, pool in zip(SURVEY_TEXT_COLUMNS, (komp, syn), strict=True):
            picked = [c for c in pool if rng.random() < TARGET_SHARES[c] * 0.7]
            if rng.random() < 0.1:
                picked, text = [], ""
            elif not picked:
                text = pick(rng, NEUTRAL["expect"] if col == "fritext_krav" else NEUTRAL["view"])
            else:
                text = " ".join(sentences(rng, c, 1, sector)[0] for c in picked)
            answer_codes[col], texts[col] = sorted(picked), text
        tone = ("SYN.POSITIV" in answer_codes["fritext_insatser"]) - ("SYN.NEGATIV" in answer_codes["fritext_insatser"])
        likert = [int(np.clip(3 + tone + rng.integers(-1, 2), 1, 5)) for _ in SURVEY_LIKERT_COLUMNS]
        likert[1:] = [int(rng.integers(1, 6)) for _ in SURVEY_LIKERT_COLUMNS[1:]]
        rows.append([rid, sector, size, *likert, *texts.values()])
        codes[rid] = answer_codes
    survey = pd.DataFrame(
        rows, columns=["respondent_id", "sector", "size_class", *SURVEY_LIKERT_COLUMNS, *SURVEY_TEXT_COLUMNS]
    )
    shares = {c: sum(any(c in v for v in codes[r].values()) for r in codes) / n_respondents for c in TARGET_SHARES}
    return survey, {"codes": codes, "shares": shares}
