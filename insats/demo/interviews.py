"""Demo material for study 1: synthetic Swedish employer interviews, metadata and a codebook.

Twenty (by default) semi-structured interviews with employers in Eskilstuna (kommunkod 0484) about what
they expect of new hires and how they view the municipality's labour-market interventions. Each
interview is assembled from phrase templates with a seeded RNG: the generator first decides which
codes each employer mentions (the *planted truth*), then writes sentences for exactly those codes, so
dictionary coding should recover the planted shares. Neutral filler sentences contain no keyword of
the codebook. Deliberate traps:

- interviewer questions mention körkort, språket, kontakt, jobbcoach (only respondent turns are coded);
- negated mentions by employers who do *not* demand the code ("Vi kräver inte körkort, ...",
  "Man behöver inte prata perfekt svenska, ...", "Vi har ingen kontakt med kommunen längre");
- a double negation that *is* a demand ("Det går inte utan svenska, ...");
- compounds and inflections (svenskkunskaper, körkortet, samarbetsförmåga, passar tiderna, kundbemötandet);
- one transcript with a fictitious personnummer (valid check digit), a phone number from the range
  reserved for fiction (070-174 06 xx), an e-mail address and a person's name, for redaction.

About half the transcripts are ``.docx`` (one paragraph per turn), half UTF-8 ``.txt`` (header lines,
some turns wrapped over several lines); speaker labels are ``I:``/``R:`` or ``Intervjuare:``/``Respondent:``.

The phrases, the codebook and the planted shares live in ``data/interviews.yaml`` (read by
:mod:`insats.demo.interview_text`); human coding, the focus group and the survey are built in
:mod:`insats.demo.interview_material`.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import numpy as np
import pandas as pd
import yaml

from insats.demo.interview_material import (
    CONFUSABLE,
    FOCUS_GROUP_ID,
    FOCUS_GROUP_SECTORS,
    HUMAN_CODERS,
    HUMAN_CODING_COLUMNS,
    PLANTED_COLUMNS,
    SURVEY_LIKERT_COLUMNS,
    SURVEY_TEXT_COLUMNS,
    make_focus_group,
    make_human_coding,
    make_survey,
    planted_codes,
    render_focus_group,
)
from insats.demo.interview_text import (
    AFFIRMATIVE,
    CERTIFICATES,
    CODEBOOK,
    MUNICIPALITY,
    NEGATED,
    NEUTRAL,
    PII_EMAIL,
    PII_NAME,
    PII_PHONE,
    PII_SENTENCE,
    QUESTIONS,
    SECTOR_DESCRIPTIONS,
    SECTOR_WEIGHTS,
    SECTORS,
    SIZE_CLASSES,
    SIZE_RANGES,
    SIZE_WEIGHTS,
    SPEAKER_LABELS,
    TARGET_SHARES,
    TOP_COMPETENCY,
    DemoInterviews,
    Interview,
    document_text,
    pick,
    render_text,
    sentences,
)
from insats.tasks.identity import luhn_check_digit

# The demo's public names, wherever they are defined (tests and benchmarks import them from here).
__all__ = [
    "AFFIRMATIVE", "CERTIFICATES", "CODEBOOK", "CONFUSABLE", "FOCUS_GROUP_ID", "FOCUS_GROUP_SECTORS",
    "HUMAN_CODERS", "HUMAN_CODING_COLUMNS", "MUNICIPALITY", "NEGATED", "NEUTRAL", "PII_EMAIL", "PII_NAME",
    "PII_PHONE", "PII_SENTENCE", "PLANTED_COLUMNS", "QUESTIONS", "SECTORS", "SECTOR_DESCRIPTIONS",
    "SECTOR_WEIGHTS", "SIZE_CLASSES", "SIZE_RANGES", "SIZE_WEIGHTS", "SPEAKER_LABELS", "SURVEY_LIKERT_COLUMNS",
    "SURVEY_TEXT_COLUMNS", "TARGET_SHARES", "TOP_COMPETENCY", "DemoInterviews", "Interview", "document_text",
    "make_focus_group", "make_human_coding", "make_interviews", "make_survey", "planted_codes",
    "render_focus_group", "render_text", "write_interviews",
]  # fmt: skip


def _fictitious_personnummer(rng: np.random.Generator) -> str:
    nine = f"85061298{int(rng.integers(10))}"  # 19850612-98x + Luhn check digit
    return f"19{nine[:6]}-{nine[6:]}{luhn_check_digit(nine)}"


def _choose_employers(rng: np.random.Generator, sectors: list[str]) -> dict[str, set[int]]:
    n = len(sectors)
    chosen: dict[str, set[int]] = {}
    for code, share in TARGET_SHARES.items():
        k = min(n, int(round(share * n)))
        w = np.array([SECTOR_WEIGHTS.get(code, {}).get(s, 1.0) for s in sectors], dtype=float)
        chosen[code] = {int(i) for i in rng.choice(n, size=k, replace=False, p=w / w.sum())}
    return chosen


def _build_turns(
    rng: np.random.Generator,
    i: int,
    sector: str,
    n_employees: int,
    chosen: dict[str, set[int]],
    negated: dict[str, set[int]],
    pii: str | None,
) -> list[tuple[str, str]]:
    has = {code: i in members for code, members in chosen.items()}

    def q(key: str) -> tuple[str, str]:
        return ("interviewer", pick(rng, QUESTIONS[key]))

    def r(parts: list[str]) -> tuple[str, str]:
        return ("respondent", " ".join(parts))

    def n_sent() -> int:
        return 2 if rng.random() < 0.3 else 1

    # Competencies other than language and licence are spread over the "expect", "more" and "closing" answers.
    komp = [c for c in TARGET_SHARES if c.startswith("KOMP.") and c not in ("KOMP.SVENSKA", "KOMP.KORKORT")]
    pieces = [s for c in komp if has[c] for s in sentences(rng, c, n_sent(), sector)]
    order = rng.permutation(len(pieces))
    slots: dict[str, list[str]] = {"expect": [], "more": [], "closing": []}
    for j, idx in enumerate(order):
        slots[("expect", "more", "closing")[j % 3]].append(pieces[int(idx)])
    if has["KOMP.SVENSKA"] and rng.random() < 0.3:
        slots["expect"].insert(0, sentences(rng, "KOMP.SVENSKA", 1, sector)[0])

    turns = [
        q("intro"),
        r([pick(rng, SECTOR_DESCRIPTIONS[sector])]),
        q("size"),
        r([pick(rng, NEUTRAL["size"]).format(n=n_employees)]),
        q("recruit"),
        r([pick(rng, NEUTRAL["recruit"])]),
        q("expect"),
    ]
    expect = slots["expect"] or [pick(rng, NEUTRAL["expect"])]
    if len(expect) > 2:  # long answers get a follow-up question, as in a real interview
        turns += [r(expect[:2]), q("expand"), r(expect[2:])]
    else:
        turns.append(r(expect))
    turns += [q("more"), r(slots["more"] or [pick(rng, NEUTRAL["expect"])]), q("license")]
    if has["KOMP.KORKORT"]:
        turns += [
            r(sentences(rng, "KOMP.KORKORT", 1, sector)),
            q("confirm"),
            r([pick(rng, NEUTRAL["agree"])]),
        ]
    elif i in negated["KOMP.KORKORT"]:
        first = min(negated["KOMP.KORKORT"]) == i
        turns.append(r([NEGATED["KOMP.KORKORT"][0] if first else pick(rng, NEGATED["KOMP.KORKORT"])]))
    else:
        turns.append(r([pick(rng, NEUTRAL["license"])]))
    turns.append(q("language"))
    if has["KOMP.SVENSKA"]:
        turns.append(r(sentences(rng, "KOMP.SVENSKA", 1, sector)))
    elif i in negated["KOMP.SVENSKA"]:
        turns.append(r([pick(rng, NEGATED["KOMP.SVENSKA"])]))
    else:
        turns.append(r([pick(rng, NEUTRAL["language"])]))
    praktik = [pick(rng, NEUTRAL["praktik"])]
    if has["SYN.POSITIV"] and rng.random() < 0.3:
        praktik += sentences(rng, "SYN.POSITIV", 1, sector)
    if pii is not None:
        praktik.append(pii)
    turns += [q("praktik"), r(praktik), q("view")]
    view = [s for c in ("SYN.POSITIV", "SYN.NEGATIV") if has[c] for s in sentences(rng, c, 1, sector)]
    turns.append(r(view or [pick(rng, NEUTRAL["view"])]))
    turns += [
        q("needs"),
        r(
            sentences(rng, "SYN.HANDLEDNING", n_sent(), sector)
            if has["SYN.HANDLEDNING"]
            else [pick(rng, NEUTRAL["needs"])]
        ),
    ]
    contact_slot = pick(rng, ["contact", "coach", "both"]) if has["SYN.KONTAKT"] else ""
    for key in ("contact", "coach"):
        turns.append(q(key))
        if contact_slot in (key, "both"):
            turns.append(r(sentences(rng, "SYN.KONTAKT", 1, sector)))
        elif key == "contact" and i in negated["SYN.KONTAKT"]:
            turns.append(r([NEGATED["SYN.KONTAKT"][0]]))
        else:
            turns.append(r([pick(rng, NEUTRAL[key])]))
    turns += [
        q("closing"),
        r(slots["closing"] or [pick(rng, NEUTRAL["closing"])]),
        q("thanks"),
        r([pick(rng, NEUTRAL["thanks"])]),
    ]
    return turns


def _business_days(start: date, end: date) -> list[date]:
    days = [start + timedelta(d) for d in range((end - start).days + 1)]
    return [d for d in days if d.weekday() < 5]


def make_interviews(seed: int = 2026, n_employers: int = 20) -> DemoInterviews:
    """Generate ``n_employers`` interviews (one per employer), their metadata, the codebook and the truth.

    Returns a :class:`DemoInterviews` (unpackable as ``interviews, employers, codebook, truth``):

    - ``interviews``: list of :class:`Interview`, ids ``E01``..., 13-15 respondent turns each;
    - ``employers``: DataFrame with interview_id, employer_id (``AGxx``, shuffled against the interview
      ids), sector, size_class, municipality ("0484"), interview_date (YYYY-MM-DD, spring 2025), file;
    - ``codebook``: the codebook as a dict (see :data:`CODEBOOK`; ids fixed);
    - ``truth``: ``top_competency`` ("KOMP.SVENSKA"), ``planted_shares`` (code -> share of employers the
      generator made mention the code affirmatively), ``planted_employers`` (code -> employer ids),
      ``negated_employers`` (code -> employer ids that only mention it negated), ``pii`` (interview_id,
      personnummer, phone, email, name planted for redaction).

    Deterministic for a given ``seed``. Raises ValueError for fewer than 4 employers.
    """
    if n_employers < 4:
        raise ValueError(f"n_employers must be at least 4 to plant a clear top competency, got {n_employers}")
    rng = np.random.default_rng(seed)
    width = max(2, len(str(n_employers)))
    sectors = [SECTORS[int(k)] for k in rng.permutation(np.arange(n_employers) % len(SECTORS))]
    size_classes = [SIZE_CLASSES[int(rng.choice(4, p=np.array(SIZE_WEIGHTS[s])))] for s in sectors]
    n_employees = [int(rng.integers(SIZE_RANGES[c][0], SIZE_RANGES[c][1] + 1)) for c in size_classes]
    employer_ids = [f"AG{int(k) + 1:0{width}d}" for k in rng.permutation(n_employers)]
    days = _business_days(date(2025, 2, 3), date(2025, 5, 30))
    dates = sorted(days[int(k)] for k in rng.choice(len(days), size=n_employers, replace=n_employers > len(days)))
    formats = np.array(["txt"] * n_employers, dtype=object)
    formats[rng.permutation(n_employers)[: n_employers // 2]] = "docx"

    chosen = _choose_employers(rng, sectors)
    negated: dict[str, set[int]] = {}
    for code, fraction in (("KOMP.KORKORT", 0.25), ("KOMP.SVENSKA", 0.5), ("SYN.KONTAKT", 0.2)):
        others = sorted(set(range(n_employers)) - chosen[code])
        k = min(len(others), max(1, int(round(fraction * len(others)))))
        negated[code] = {int(x) for x in rng.choice(others, size=k, replace=False)} if others else set()

    pii_index = int(rng.integers(n_employers))
    pnr = _fictitious_personnummer(rng)
    interviews: list[Interview] = []
    for i in range(n_employers):
        pii = PII_SENTENCE.format(pnr=pnr, name=PII_NAME, phone=PII_PHONE, email=PII_EMAIL) if i == pii_index else None
        turns = _build_turns(rng, i, sectors[i], n_employees[i], chosen, negated, pii)
        interviews.append(
            Interview(
                interview_id=f"E{i + 1:0{width}d}",
                employer_id=employer_ids[i],
                sector=sectors[i],
                size_class=size_classes[i],
                n_employees=n_employees[i],
                interview_date=dates[i].isoformat(),
                file_format=str(formats[i]),
                speaker_style="long" if rng.random() < 0.3 else "short",
                wrap_lines=bool(rng.random() < 0.4),
                turns=tuple(turns),
            )
        )
    employers = pd.DataFrame(
        {
            "interview_id": [iv.interview_id for iv in interviews],
            "employer_id": [iv.employer_id for iv in interviews],
            "sector": [iv.sector for iv in interviews],
            "size_class": [iv.size_class for iv in interviews],
            "municipality": MUNICIPALITY,
            "interview_date": [iv.interview_date for iv in interviews],
            "file": [iv.file for iv in interviews],
        }
    )
    truth = {
        "seed": seed,
        "top_competency": TOP_COMPETENCY,
        "planted_shares": {c: len(m) / n_employers for c, m in chosen.items()},
        "planted_employers": {c: sorted(employer_ids[j] for j in m) for c, m in chosen.items()},
        "negated_employers": {c: sorted(employer_ids[j] for j in m) for c, m in negated.items()},
        "pii": {
            "interview_id": interviews[pii_index].interview_id,
            "personnummer": pnr,
            "phone": PII_PHONE,
            "email": PII_EMAIL,
            "name": PII_NAME,
        },
    }
    bundle = DemoInterviews(interviews=interviews, employers=employers, codebook=CODEBOOK, truth=truth)
    # Extra material from its own random streams, so the interviews above do not change with it.
    bundle.human_coding, truth["human_coding"] = make_human_coding(bundle, seed=seed)
    bundle.focus_group, truth["focus_group"] = make_focus_group(seed=seed)
    bundle.survey, truth["survey"] = make_survey(seed=seed)
    return bundle


def _write_docx(interview: Interview, path: Path) -> None:
    import docx  # python-docx

    labels = SPEAKER_LABELS[interview.speaker_style]
    document = docx.Document()
    props = document.core_properties
    props.author = "insats demo"
    props.title = f"Intervju {interview.interview_id}"
    props.created = props.modified = datetime(2025, 6, 1)
    document.add_paragraph(f"Intervju {interview.interview_id} – {interview.sector} – {interview.interview_date}")
    for role, text in interview.turns:
        document.add_paragraph(f"{labels[role]}: {text}")
    document.save(str(path))


def write_interviews(bundle: DemoInterviews, out_dir: Path) -> dict[str, Path]:
    """Write the demo material; return paths keyed "transcripts" (directory), "employers", "codebook", and,
    when the bundle has them, "human_coding" (CSV: document, start, end, code, coder), "focus_groups"
    (directory with ``FG01.txt``), "survey_csv" and "survey_xlsx" (same table, sheet "enkät").

    Layout: ``out_dir/transcripts/E01.txt|.docx ...``, ``out_dir/employers.csv`` (UTF-8, municipality
    kept as the string "0484"), ``out_dir/codebook.yaml`` (UTF-8, å ä ö written as is).
    """
    out_dir = Path(out_dir)
    transcripts = out_dir / "transcripts"
    transcripts.mkdir(parents=True, exist_ok=True)
    for interview in bundle.interviews:
        path = transcripts / interview.file
        if interview.file_format == "docx":
            _write_docx(interview, path)
        else:
            path.write_text(render_text(interview), encoding="utf-8")
    employers = out_dir / "employers.csv"
    bundle.employers.to_csv(employers, index=False, encoding="utf-8")
    codebook = out_dir / "codebook.yaml"
    # Keyword lists in flow style on one line each ([svenska, språket, ...]); width avoids wrapped phrases.
    text = yaml.safe_dump(bundle.codebook, allow_unicode=True, sort_keys=False, width=1000, default_flow_style=None)
    codebook.write_text(text, encoding="utf-8")
    paths = {"transcripts": transcripts, "employers": employers, "codebook": codebook}
    if not bundle.human_coding.empty:
        paths["human_coding"] = out_dir / "human_coding.csv"
        bundle.human_coding.to_csv(paths["human_coding"], index=False, encoding="utf-8")
    if bundle.focus_group is not None:
        folder = out_dir / "focus_groups"
        folder.mkdir(exist_ok=True)
        (folder / f"{bundle.focus_group.interview_id}.txt").write_text(
            render_focus_group(bundle.focus_group), encoding="utf-8"
        )
        paths["focus_groups"] = folder
    if not bundle.survey.empty:
        paths["survey_csv"] = out_dir / "survey.csv"
        paths["survey_xlsx"] = out_dir / "survey.xlsx"
        bundle.survey.to_csv(paths["survey_csv"], index=False, encoding="utf-8")
        bundle.survey.to_excel(paths["survey_xlsx"], index=False, sheet_name="enkät")
    return paths
