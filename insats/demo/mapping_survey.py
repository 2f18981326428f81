"""Demo caseworker survey for study 2: ``N_RESPONDENTS`` caseworkers, one row per respondent and assessment tool,
with open comments built from sentences whose codes are known, and the codebook for those comments."""

from __future__ import annotations

from typing import Any

import numpy as np

N_RESPONDENTS = 36

SURVEY_TOOLS: tuple[str, ...] = (
    "bip_indikatorer",
    "skapa",
    "af_arbetsformaga",
    "icf_kartlaggning",
    "stegmodell",
    "egen_mall",
    "annat",
)
SURVEY_PURPOSES: tuple[str, ...] = ("mapping", "work_capacity", "progression")
SURVEY_FREQUENCIES: tuple[str, ...] = ("daily", "weekly", "monthly", "rarely")

SURVEY_CODEBOOK: dict[str, Any] = {
    "name": "Handläggares kommentarer om bedömningsverktyg",
    "version": "1.0",
    "codes": [
        {
            "id": "VERKTYG",
            "label": "Synpunkter på bedömningsverktyg",
            "label_en": "Views on assessment tools",
            "definition": "Teman i fritextsvar om verktyg för kartläggning och bedömning.",
            "children": [
                {
                    "id": "VERKTYG.TID",
                    "label": "Tidskrävande",
                    "label_en": "Time-consuming",
                    "definition": "Verktyget tar mycket tid att använda.",
                    "keywords": ["tidskrävande", "tar tid", "hinner"],
                },
                {
                    "id": "VERKTYG.DIALOG",
                    "label": "Stöd i samtalet",
                    "label_en": "Supports the conversation",
                    "definition": "Verktyget strukturerar samtalet med den sökande.",
                    "keywords": ["samtal", "dialog"],
                },
                {
                    "id": "VERKTYG.UPPFOLJNING",
                    "label": "Synliggör progression",
                    "label_en": "Shows progression",
                    "definition": "Verktyget visar förändring över tid.",
                    "keywords": ["uppföljning", "progression", "förflyttning"],
                },
                {
                    "id": "VERKTYG.SPRAK",
                    "label": "Språkhinder",
                    "label_en": "Language barriers",
                    "definition": "Frågorna är svåra att förstå eller kräver tolk.",
                    "keywords": ["tolk", "språkbarriär", "översättning"],
                },
                {
                    "id": "VERKTYG.DOKUMENTATION",
                    "label": "Dubbeldokumentation",
                    "label_en": "Duplicate documentation",
                    "definition": "Resultaten måste föras in i flera system.",
                    "keywords": ["dokumentation", "verksamhetssystem"],
                },
            ],
        }
    ],
}

_COMMENT_SENTENCES: dict[str, tuple[str, ...]] = {
    "VERKTYG.TID": (
        "Det är tidskrävande att gå igenom alla frågor.",
        "Formuläret tar tid som jag hellre lägger på annat.",
        "Jag hinner sällan göra hela bedömningen.",
    ),
    "VERKTYG.DIALOG": (
        "Frågorna ger ett bra samtal med den sökande.",
        "Det öppnar för en dialog om vad personen själv vill.",
    ),
    "VERKTYG.UPPFOLJNING": (
        "Bra för uppföljning efter tre månader.",
        "Vi ser personens progression tydligt.",
    ),
    "VERKTYG.SPRAK": (
        "Många behöver tolk för att förstå frågorna.",
        "Det finns en språkbarriär i flera av påståendena.",
    ),
    "VERKTYG.DOKUMENTATION": (
        "All dokumentation måste göras två gånger.",
        "Resultaten går inte att föra in i verksamhetssystemet.",
    ),
}
_NEUTRAL_SENTENCES = ("Jag använder det mest med nya ärenden.", "Kollegorna gör likadant.", "Ingen mer kommentar.")


def make_survey(rng: np.random.Generator) -> tuple[list[dict[str, Any]], dict[str, int]]:
    """Rows: respondent_id, unit, tool, tool_other, purpose (";"-joined), frequency, usefulness (1-5), comment."""
    rows = []
    counts = {c: 0 for c in _COMMENT_SENTENCES}
    usefulness_mean = {"bip_indikatorer": 4.0, "skapa": 3.6, "af_arbetsformaga": 2.6, "icf_kartlaggning": 3.2,
                       "stegmodell": 3.8, "egen_mall": 3.0, "annat": 3.0}  # fmt: skip
    purposes = {"bip_indikatorer": ("progression", "mapping"), "skapa": ("progression",),
                "af_arbetsformaga": ("work_capacity",), "icf_kartlaggning": ("mapping", "work_capacity"),
                "stegmodell": ("progression",), "egen_mall": ("mapping",), "annat": ("mapping",)}  # fmt: skip
    for r in range(1, N_RESPONDENTS + 1):
        unit = ("Arbetsmarknadsenheten", "Försörjningsstöd vuxna", "Unga vuxna")[r % 3]
        n_tools = int(rng.integers(1, 4))
        tools = rng.choice(SURVEY_TOOLS[:-1], size=n_tools, replace=False).tolist()
        if r % 9 == 0:
            tools.append("annat")
        for t in tools:
            codes = rng.choice(list(_COMMENT_SENTENCES), size=int(rng.integers(0, 3)), replace=False).tolist()
            sentences = [_COMMENT_SENTENCES[c][int(rng.integers(len(_COMMENT_SENTENCES[c])))] for c in codes]
            if rng.random() < 0.3:
                sentences.append(_NEUTRAL_SENTENCES[int(rng.integers(len(_NEUTRAL_SENTENCES)))])
            for c in codes:
                counts[c] += 1
            use = int(np.clip(round(rng.normal(usefulness_mean[t], 0.8)), 1, 5))
            rows.append({"respondent_id": f"H{r:03d}", "unit": unit, "tool": t,
                         "tool_other": "Motiverande samtal-guide (MI)" if t == "annat" else "",
                         "purpose": ";".join(purposes[t]),
                         "frequency": SURVEY_FREQUENCIES[int(rng.integers(len(SURVEY_FREQUENCIES)))],
                         "usefulness": use, "comment": " ".join(sentences)})  # fmt: skip
    return rows, counts
