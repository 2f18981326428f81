"""Synthetic study-1 material for the supervised layer's tests: short interviews where a code without keywords
(KOMP.ÖDMJUK) is said in planted answers, written to disk with a turn-level coding sheet when needed."""

from __future__ import annotations

import random
from pathlib import Path

import pandas as pd
import yaml

from insats.tasks.interviews.transcripts import segment_turns

BOOK = {
    "name": "Test",
    "version": "1",
    "codes": [
        {"id": "KOMP", "label": "Kompetenser"},
        {"id": "KOMP.SVENSKA", "label": "Svenska språket", "parent": "KOMP", "keywords": ["svenska"]},
        {"id": "KOMP.ÖDMJUK", "label": "Ödmjukhet", "parent": "KOMP"},  # no keywords: only people code it
        {"id": "KOMP.SÄLLSYNT", "label": "Sällsynt", "parent": "KOMP"},  # coded twice: too little to learn
    ],
}
PLANTED = [
    "Man måste vara ödmjuk inför kunderna.",
    "Ödmjukhet är det viktigaste för oss.",
    "Vi vill ha ödmjuka personer som lyssnar.",
    "Att vara ödmjuk och lyssna, det är grejen.",
]
FILLER = [
    "Vi har tolv anställda och jobbar i två skift.",
    "Lokalen ligger vid torget sedan många år.",
    "Vi började med tre bilar och nu är vi fler.",
    "Det blir mycket jobb på våren när säsongen börjar.",
    "Ägaren bytte inriktning för fem år sedan.",
    "Vi säljer mest till andra företag i länet.",
    "Det är tungt ibland men det går bra.",
    "Vi har ett nytt lager ute vid motorvägen.",
]
SVENSKA = "Svenska är viktigt hos oss."


def interview(rng: random.Random, n_planted: int, n_answers: int = 6) -> tuple[str, list[int]]:
    """A transcript of ``n_answers`` question/answer pairs: ``n_planted`` answers say the planted code, one
    says Swedish, the rest are filler. Returns (text, respondent turn numbers of the planted answers)."""
    kinds = ["plant"] * n_planted + ["fill"] * (n_answers - 1 - n_planted) + ["svenska"]
    rng.shuffle(kinds)
    lines, planted = ["Intervju"], []
    for k, kind in enumerate(kinds):
        lines.append("I: Berätta mer?")
        text = {"plant": rng.choice(PLANTED), "fill": rng.choice(FILLER), "svenska": SVENSKA}
        lines.append("R: " + text[kind] + " " + rng.choice(FILLER))
        if kind == "plant":
            planted.append(2 * k + 2)
    return "\n".join(lines) + "\n", planted


def write_study(root: Path, n: int = 8, n_coded: int = 6, seed: int = 5) -> dict:
    """``n`` interviews E01.. under ``root`` (transcripts/, employers.csv, codebook.yaml) and a turn sheet
    (turns.csv) coding the first ``n_coded``: KOMP.ÖDMJUK on the planted answers, KOMP.SVENSKA, and
    KOMP.SÄLLSYNT in the first two. Returns the paths, the ids and the planted segment ids of the uncoded
    interviews (interview_id -> set)."""
    rng = random.Random(seed)
    (root / "transcripts").mkdir(parents=True, exist_ok=True)
    sheet, planted_uncoded = ["interview,turn,code,coder"], {}
    ids = [f"E{k:02d}" for k in range(1, n + 1)]
    for k, iid in enumerate(ids, start=1):
        text, planted = interview(rng, 2)
        (root / "transcripts" / f"{iid}.txt").write_text(text, encoding="utf-8")
        if k > n_coded:
            planted_uncoded[iid] = {f"{iid}-{t:03d}" for t in planted}
            continue
        seg = segment_turns(text, iid)
        sv = int(seg.loc[seg["text"].str.startswith(SVENSKA[:20]), "turn"].iloc[0])
        sheet += [f"{iid},{t},KOMP.ÖDMJUK,åsa" for t in planted] + [f"{iid},{sv},KOMP.SVENSKA,åsa"]
        if k <= 2:
            sheet.append(f"{iid},{sv},KOMP.SÄLLSYNT,åsa")
    (root / "turns.csv").write_text("\n".join(sheet) + "\n", encoding="utf-8")
    pd.DataFrame({"interview_id": ids, "employer_id": ids, "sector": ["bygg"] * n, "size_class": ["1-9"] * n,
                  "municipality": ["0484"] * n, "interview_date": ["2025-01-10"] * n,
                  "file": [f"{i}.txt" for i in ids]}).to_csv(root / "employers.csv", index=False)  # fmt: skip
    (root / "codebook.yaml").write_text(yaml.safe_dump(BOOK, allow_unicode=True), encoding="utf-8")
    files = {"transcripts": root / "transcripts", "employers": root / "employers.csv",
             "codebook": root / "codebook.yaml", "turns": root / "turns.csv"}  # fmt: skip
    return {"root": root, "ids": ids, "planted": planted_uncoded, **files}
