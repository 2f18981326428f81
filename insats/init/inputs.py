"""The other inputs of a site: interview transcripts, codebooks, the employers table, the intervention
inventory, literature references, screening and extraction sheets, surveys, and the participant-flow
documentation (participants, statuses, ladder, targets, indicators).

Tables are recognised by their column names (aliases compared after ``norm``), YAML files by their
top-level keys, transcripts by their speaker labels. Among several fitting files the one with more
recognised columns wins, then UTF-8 CSV before XLSX, then the shorter path; the others are listed.
"""

from __future__ import annotations

import re
from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from insats.init.model import Choice, norm, one_line
from insats.init.register import describe
from insats.init.sniff import SniffedFile
from insats.tasks.interviews.transcripts import DEFAULT_SPEAKER_PATTERN

# The participant-flow readers' column names (docs/participant_flow.md), kept here so that sniffing does not
# depend on the readers' internals.
PARTICIPANT_ALIASES: dict[str, tuple[str, ...]] = {
    "participant_id": ("participant_id", "deltagar_id", "deltagarid", "deltagare", "deltagarnummer"),
    "project": ("project", "projekt", "delprojekt", "sub_project", "subproject"),
    "gender": ("gender", "kön", "kon", "sex"),
    "birth_year": ("birth_year", "födelseår", "fodelsear"),
    "start_date": ("start_date", "startdatum", "inskrivningsdatum", "start"),
    "end_date": ("end_date", "slutdatum", "avslutsdatum", "end"),
    "exit_status": ("exit_status", "status_vid_avslut", "avslutsstatus", "status_at_exit"),
    "goal": ("goal", "mål", "mal"),
    "period_start": ("period_start", "periodstart", "period", "period_start_date"),
    "status": ("status",),
}
PARTICIPANT_ID = PARTICIPANT_ALIASES["participant_id"]
# A wide status sheet's period headers: 2021-Q1, 2021K1, 2021 kv 1, 2021-03, 2021-03-01
_PERIOD_LABEL = re.compile(
    r"^\d{4}\s*[-_ ]?\s*(?:q|k|kv|kvartal)\s*[1-4]$|^\d{4}-\d{1,2}$|^\d{4}-\d{2}-\d{2}", re.IGNORECASE
)
_SURVEY_WORDS = ("enkat", "survey", "verktyg", "questionnaire")
_FOCUS_WORDS = ("fokus", "focus")
_SPEAKER = re.compile(DEFAULT_SPEAKER_PATTERN, re.MULTILINE)
_TEXT_COLUMN_CHARS = 30  # a survey column whose answers average this many characters is free text


@dataclass(frozen=True)
class TableInput:
    """A config input that is a table: every ``required`` alias group must match, and ``min_optional`` of
    the ``optional`` groups. ``utf8_comma``: the pipeline reads it with pandas as UTF-8 with commas."""

    section: str
    key: str
    required: tuple[tuple[str, ...], ...]
    optional: tuple[tuple[str, ...], ...] = ()
    min_optional: int = 0
    utf8_comma: bool = False


TABLE_INPUTS = (
    TableInput(
        "employer_interviews",
        "employers",
        (("interview_id", "intervju_id", "intervjuid"), ("employer_id", "arbetsgivare_id", "arbetsgivar_id")),
        (
            ("sector", "bransch"),
            ("size_class", "storleksklass"),
            ("municipality", "kommun", "kommunkod"),
            ("interview_date", "intervjudatum", "datum"),
            ("file", "fil", "filnamn"),
        ),
        2,
        utf8_comma=True,
    ),
    TableInput(
        "employer_interviews",
        "human_coding",
        (("document", "dokument"), ("code", "kod")),
        (("start",), ("end", "slut"), ("coder", "kodare")),
        2,
        utf8_comma=True,
    ),
    TableInput(
        "intervention_mapping",
        "inventory",
        (("intervention_id", "insats_id", "insatsid"), ("name", "namn", "benamning", "insatsnamn")),
        (
            ("provider", "utforare", "anordnare"),
            ("method_family", "metodfamilj", "metod"),
            ("target_group", "malgrupp"),
            ("start_date", "startdatum"),
            ("end_date", "slutdatum"),
            ("capacity", "kapacitet", "platser"),
            ("competencies", "kompetenser"),
        ),
        2,
    ),
    TableInput(
        "intervention_mapping",
        "screening_decisions",
        (("record_id", "post_id"), ("decision", "beslut")),
        (("reason", "skal"), ("reviewer", "granskare")),
        0,
    ),
    TableInput(
        "intervention_mapping",
        "extraction",
        (("record_id", "post_id"), ("effect_direction", "effektriktning", "design", "studiedesign")),
        (("country", "land"), ("population",), ("outcome", "utfall"), ("method_family", "metodfamilj")),
        1,
    ),
    TableInput(
        "intervention_mapping",
        "survey",
        (("respondent_id", "respondent", "svarande_id"), ("tool", "verktyg")),
        (
            ("unit", "enhet"),
            ("purpose", "syfte"),
            ("frequency", "frekvens"),
            ("usefulness", "anvandbarhet", "nytta"),
            ("comment", "kommentar"),
        ),
        1,
    ),
    TableInput(
        "intervention_mapping",
        "references",
        (("title", "titel"), ("year", "ar", "publication_year", "publiceringsar")),
        (
            ("authors", "author", "forfattare"),
            ("journal", "tidskrift", "source"),
            ("doi",),
            ("abstract", "sammanfattning"),
            ("keywords", "nyckelord"),
        ),
        2,
    ),
    TableInput(
        "participant_flow",
        "participants",
        (PARTICIPANT_ID, PARTICIPANT_ALIASES["start_date"]),
        tuple(PARTICIPANT_ALIASES[k] for k in ("project", "gender", "birth_year", "end_date", "exit_status", "goal")),
        2,
    ),
    TableInput(
        "participant_flow",
        "status_documentation",
        (PARTICIPANT_ID, PARTICIPANT_ALIASES["period_start"], PARTICIPANT_ALIASES["status"]),
    ),
)
_PARTICIPANTS = next(spec for spec in TABLE_INPUTS if spec.key == "participants")
_FORMAT_RANK = {"csv": 0, "xlsx": 1}


def _norms(group: tuple[str, ...]) -> set[str]:
    return {norm(a) for a in group}


def _score(columns: list[str], spec: TableInput) -> int | None:
    """Number of alias groups matched, or None if the table is not this input."""
    keys = {norm(c) for c in columns}
    if not all(keys & _norms(g) for g in spec.required):
        return None
    optional = sum(bool(keys & _norms(g)) for g in spec.optional)
    return len(spec.required) + optional if optional >= spec.min_optional else None


def _wide_periods(info: SniffedFile) -> int:
    """How many columns of a participant table are period labels (2021-Q1, 2021K1, 2021-03 ...)."""
    return sum(bool(_PERIOD_LABEL.match(str(c).strip())) for c in info.columns)


def _free_text_columns(info: SniffedFile) -> list[str]:
    if info.sample is None:
        return []
    out = []
    for column in info.columns:
        values = info.sample[column].dropna().astype(str).str.strip()
        values = values[values != ""]
        if len(values) and values.str.len().mean() >= _TEXT_COLUMN_CHARS and not norm(column).endswith("id"):
            out.append(column)
    return out


def _csv_todo(info: SniffedFile, spec: TableInput | None) -> str:
    todo = list(info.notes)
    if spec is not None and spec.utf8_comma and info.format == "csv":
        if info.encoding not in ("utf-8", "utf-8-sig"):
            todo.append(f"this file is read as UTF-8: re-save it as UTF-8 (found {info.encoding})")
        if info.delimiter != ",":
            todo.append(f"this file is read with commas as separators (found {info.delimiter!r})")
    if info.format == "xlsx" and len(info.sheets) > 1:
        todo.append("check that the first sheet is the right one")
    return "; ".join(todo)


def _pick(options: list[tuple[int, SniffedFile]], why: str, spec: TableInput | None = None) -> Choice:
    def rank(o: tuple[int, SniffedFile]) -> tuple[Any, ...]:
        utf8 = o[1].format != "csv" or o[1].encoding in ("utf-8", "utf-8-sig")
        return -o[0], not utf8, _FORMAT_RANK.get(o[1].format, 2), o[1].rel.count("/"), o[1].rel

    options = sorted(options, key=rank)
    info = options[0][1]
    return Choice(
        info.path,
        source=f"{info.rel}: {describe(info)}; {why}",
        todo=_csv_todo(info, spec),
        alternatives=[o[1].rel for o in options[1:]],
        file=info,
    )


def choose_tables(files: list[SniffedFile], taken: set[Path]) -> dict[str, dict[str, Choice]]:
    """Choices for the table inputs (section -> key -> Choice), from files not already ``taken``."""
    found: dict[tuple[str, str], list[tuple[int, SniffedFile]]] = defaultdict(list)
    for info in files:
        if not info.is_table or info.path in taken:
            continue
        for spec in TABLE_INPUTS:
            if (score := _score(info.columns, spec)) is not None:
                found[(spec.section, spec.key)].append((score, info))
        if (
            _score(info.columns, _PARTICIPANTS) is None
            and {norm(c) for c in info.columns} & _norms(PARTICIPANT_ID)
            and _wide_periods(info) >= 2
        ):
            found[("participant_flow", "status_documentation")].append((2, info))
        if (
            {norm(c) for c in info.columns} & _norms(("respondent_id", "respondent", "svarande_id"))
            and not ({norm(c) for c in info.columns} & _norms(("tool", "verktyg")))
            and _free_text_columns(info)
        ):
            found[("employer_interviews", "survey")].append((1, info))
    # Screening: a sheet named ..full../..simul.. holds decisions on every record (simulation mode).
    screening = found.pop(("intervention_mapping", "screening_decisions"), [])
    for score, info in screening:
        full = any(w in norm(info.path.stem) for w in ("full", "simul", "alla", "all"))
        found[("intervention_mapping", "screening_simulation" if full else "screening_decisions")].append((score, info))
    specs = {(s.section, s.key): s for s in TABLE_INPUTS}
    out: dict[str, dict[str, Choice]] = defaultdict(dict)
    for (section, key), options in found.items():
        if key == "references":
            continue  # collected with the .ris/.bib files
        spec = specs.get((section, key))
        why = "columns " + ", ".join(one_line(c, 25) for c in options[0][1].columns[:6])
        out[section][key] = _pick(options, why, spec)
        if key == "survey" and section == "employer_interviews":
            chosen = out[section][key].file
            text = _free_text_columns(chosen) if chosen else []
            out[section]["survey_text_columns"] = Choice(
                text, source=f"columns whose answers average {_TEXT_COLUMN_CHARS}+ characters"
            )
    refs = [(0, i) for i in files if i.format in ("ris", "bib") and _looks_like_references(i)]
    refs += [(0, i) for _, i in found.get(("intervention_mapping", "references"), [])]
    if refs:
        out["intervention_mapping"]["references"] = _references(sorted((i for _, i in refs), key=lambda i: i.rel))
    return dict(out)


def _looks_like_references(info: SniffedFile) -> bool:
    if info.format == "ris":
        return bool(re.search(r"^TY  - ", info.head, re.MULTILINE))
    return bool(re.search(r"^\s*@\w+\s*[{(]", info.head, re.MULTILINE))


def _references(files: list[SniffedFile]) -> Choice:
    stems = [norm(info.path.stem) or info.format for info in files]
    names: dict[str, Path] = {}
    for stem, info in zip(stems, files, strict=True):
        name = f"{stem}_{info.format}" if stems.count(stem) > 1 else stem
        while name in names:
            name += "_"
        names[name] = info.path
    counts = []
    for info in files:
        n = len(re.findall(r"^TY  - ", info.head, re.MULTILINE)) if info.format == "ris" else None
        counts.append(f"{info.rel}" + (f" ({n}{'' if info.size <= 65536 else '+'} record(s))" if n else ""))
    return Choice(names, source="literature exports, read (and de-duplicated) in this order: " + ", ".join(counts))


def choose_transcripts(files: list[SniffedFile]) -> dict[str, Choice]:
    """``transcripts`` and ``focus_groups``: the folders holding the most .txt/.docx files with speaker turns."""
    folders: dict[Path, list[SniffedFile]] = defaultdict(list)
    for info in files:
        if info.format in ("text", "docx") and not info.problem:
            folders[info.path.parent].append(info)
    scored = []
    for folder, docs in folders.items():
        checked = docs[:5]
        labelled = sum(_has_turns(d) for d in checked)
        if labelled or len(docs) >= 2 and any(w in norm(folder.name) for w in ("intervju", "interview", "transkri")):
            scored.append((labelled / len(checked), len(docs), folder, labelled, len(checked)))
    out: dict[str, Choice] = {}
    for key, focus in (("transcripts", False), ("focus_groups", True)):
        options = [s for s in scored if any(w in norm(s[2].name) for w in _FOCUS_WORDS) == focus]
        if not options:
            continue
        options.sort(key=lambda s: (-s[0], -s[1], str(s[2])))
        share, n, folder, labelled, checked = options[0]
        kinds = sorted({d.path.suffix.lower() for d in folders[folder]})
        todo = (
            ""
            if labelled
            else ("no I:/R: or Intervjuare:/Respondent: turns found: set employer_interviews.speaker_pattern")
        )
        out[key] = Choice(
            folder,
            source=f"{n} transcript(s) ({', '.join(kinds)}); speaker turns in {labelled} of {checked} checked",
            todo=todo,
            alternatives=[str(o[2]) for o in options[1:]],
        )
    return out


def _has_turns(info: SniffedFile) -> bool:
    text = info.head
    if info.format == "docx":
        try:
            from insats.tasks.interviews.transcripts import read_transcript

            text = read_transcript(info.path)[:65536]
        except (ValueError, OSError):
            return False
    return len(_SPEAKER.findall(text)) >= 2


def choose_yaml(files: list[SniffedFile]) -> dict[str, dict[str, Choice]]:
    """Codebooks (study 1's and the tool survey's), ladder, targets and indicator YAMLs, by their keys."""
    found: dict[tuple[str, str], list[tuple[int, SniffedFile]]] = defaultdict(list)
    for info in files:
        data = info.yaml_data
        if info.format == "qdc" and not info.problem:
            found[("employer_interviews", "codebook")].append((1, info))
        if not isinstance(data, dict):
            continue
        if isinstance(data.get("codes"), list):
            survey = any(w in norm(info.rel) for w in _SURVEY_WORDS)
            where = ("intervention_mapping", "survey_codebook") if survey else ("employer_interviews", "codebook")
            found[where].append((2, info))
        for key, marker in (("ladder", "steps"), ("targets", "targets"), ("indicators", "indicators")):
            if isinstance(data.get(marker), list):
                found[("participant_flow", key)].append((1, info))
    out: dict[str, dict[str, Choice]] = defaultdict(dict)
    for (section, key), options in found.items():
        marker = {"codebook": "codes", "survey_codebook": "codes", "ladder": "steps"}.get(key, key)
        out[section][key] = _pick(options, f"top-level key {marker!r}")
    codebook = out.get("employer_interviews", {}).get("codebook")
    if codebook is not None:
        out["employer_interviews"]["demand_parent"] = _demand_parent(codebook.value)
    return dict(out)


def _demand_parent(path: Path) -> Choice:
    """The codebook's top-level branch of competencies (id or label mentions komp/competenc)."""
    from insats.tasks.interviews.codebook import load_codebook

    try:
        book = load_codebook(path)
    except Exception as exc:  # noqa: BLE001 - YAML, XML (.qdc) and structure errors all mean: fix the codebook
        return Choice(
            "KOMP",
            todo=f"the codebook does not load ({one_line(exc, 80)}); fix it, then name the "
            "branch of competencies employers demand",
        )
    top = [c for c in book.codes if c.parent is None]
    hits = [c for c in top if any(w in norm(f"{c.id} {c.label}") for w in ("komp", "competenc", "kunskap"))]
    if hits:
        return Choice(
            hits[0].id, source=f"top-level code {hits[0].id!r} ({one_line(hits[0].label, 40)}) of {path.name}"
        )
    return Choice(
        "KOMP",
        todo="no top-level code about competencies in the codebook; its top-level codes are "
        + ", ".join(c.id for c in top[:8]),
    )
