"""Pipeline configuration: one YAML file per site (or the demo), validated with pydantic.

Relative paths are resolved against ``root``, which is itself relative to the folder holding the YAML
file. No path is ever built into code: every location the pipeline reads or writes comes from here.
"""

from __future__ import annotations

import functools
import hashlib
import json
import warnings
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

REGISTER_KINDS = ("persons", "assistance", "spells", "outcomes")


class ConfigError(ValueError):
    """The configuration file is missing, unreadable or invalid."""


class _Section(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Paths(_Section):
    raw: Path
    interim: Path
    processed: Path
    reports: Path
    prefect_home: Path


class DemoSettings(_Section):
    seed: int = 2026
    persons: int = Field(3000, ge=100)


class EmployerInterviews(_Section):
    transcripts: Path
    employers: Path
    codebook: Path
    demand_parent: str = "KOMP"
    redact_names: list[str] = []
    # Human coding: a turn sheet (CSV/XLSX: interview, turn, code[, coder]), a span sheet (document, start, end,
    # code, coder) or a REFI-QDA .qdpx from NVivo / ATLAS.ti / MAXQDA / QualCoder.
    human_coding: Path | None = None
    suggestions_train_on: str = "consensus"  # consensus | all | <a coder's name>: what suggestions learn from
    # Supervised layer (tasks/interviews/classifier.py): per-code classifiers trained on human_coding (as
    # suggestions_train_on says) recode the segments no human coded, over the dictionary coder's hits. Needs
    # human_coding. Off by default: see benchmarks/README.md "Study 1 coding quality" for what it adds.
    supervised_coding: bool = False
    # How classifiers and dictionary combine (classifier.py / per_code.py): "classifier" decides its codes,
    # "union" adds to the dictionary, "per_code" picks per code by grouped CV on the human coding.
    supervised_mode: Literal["classifier", "union", "per_code"] = "classifier"
    review_unit: Literal["turn", "sentence"] = "turn"  # what the auto-coder's codings cover in review.qdpx
    speaker_pattern: str | None = None  # regex with a group "speaker" (default: I:/R:, Intervjuare:/Respondent:, R1:)
    speaker_roles: dict[str, str] = {}  # speaker label -> interviewer | respondent, for named speakers
    focus_groups: Path | None = None  # folder of focus-group transcripts (several respondents per file)
    survey: Path | None = None  # open survey answers (CSV/XLSX), one row per respondent
    survey_id_column: str = "respondent_id"
    survey_text_columns: list[str] = []  # the free-text columns to code


class InterventionMapping(_Section):
    inventory: Path
    min_participants: int = Field(100, ge=1)  # minimum starters (treated N) in the register
    # Evidence review and assessment-tool survey (issue 8); each part runs only when its inputs are given.
    references: dict[str, Path] = {}  # name -> RIS / BibTeX / CSV export, read in this order
    screening_decisions: Path | None = None  # CSV that grows as reviewers screen (record_id, decision, reason)
    screening_simulation: Path | None = None  # decisions on EVERY record (a finished review): simulation mode
    extraction: Path | None = None  # extraction sheet of the included studies
    screening_seed: int = 2026
    survey: Path | None = None  # caseworker survey on assessment tools (one row per respondent and tool)
    survey_codebook: Path | None = None  # study 1's codebook format, for the survey's open comments
    survey_tools: list[str] = [
        "bip_indikatorer",
        "skapa",
        "af_arbetsformaga",
        "icf_kartlaggning",
        "stegmodell",
        "egen_mall",
    ]
    # Candidate rules (besides min_participants): see insats.tasks.mapping.candidates.CandidateRules.
    min_comparison: int = Field(0, ge=0)  # minimum eligible comparison persons
    max_mde: float | None = Field(None, gt=0, le=1)  # largest acceptable MDE on self-sufficiency (proportion)
    candidate_support: Literal["none", "evidence", "alignment", "evidence_or_alignment"] = "none"
    min_alignment: float = Field(0.2, ge=0, le=1)
    min_positive_studies: int = Field(1, ge=0)
    power: float = Field(0.8, gt=0, lt=1)
    alpha: float = Field(0.05, gt=0, lt=1)


class Period(_Section):
    first_month: str
    last_month: str

    @field_validator("first_month", "last_month")
    @classmethod
    def _yyyy_mm(cls, value: str) -> str:
        parts = value.split("-")
        if len(parts) != 2 or not all(p.isdigit() for p in parts) or not 1 <= int(parts[1]) <= 12:
            raise ValueError(f"expected a month as YYYY-MM, got {value!r}")
        return value


class Register(_Section):
    period: Period
    files: dict[Literal["persons", "assistance", "spells", "outcomes"], Path]
    columns: dict[Literal["persons", "assistance", "spells", "outcomes"], dict[str, str]]
    pseudonym_key_env: str = "INSATS_PSEUDONYM_KEY"
    pseudonym_key_file: Path | None = None
    amount_ceiling: float = Field(100_000, gt=0)  # SEK per person and month; above it a payment is implausible

    @field_validator("files")
    @classmethod
    def _all_kinds(cls, files: dict[str, Path]) -> dict[str, Path]:
        missing = [k for k in REGISTER_KINDS if k not in files]
        if missing:
            raise ValueError(f"register.files lacks {', '.join(missing)}")
        return files


EstimatorCode = Literal["psm_nn1", "psm_nn1_norepl", "psm_nn3", "psm_nn1_gbm", "ipw", "aipw", "naive"]
OutcomeCode = Literal["self_sufficient", "employed_at_horizon", "studying_at_horizon", "months_on_assistance"]


class OutcomeEvaluation(_Section):
    interventions: Literal["from_mapping"] | list[str] = "from_mapping"
    n_candidates: int = Field(1, ge=1)
    horizon_months: int = Field(12, ge=1)  # the main horizon (balance, sensitivity, headline)
    horizons: list[int] = [6, 12, 24]  # every horizon estimated; the main one is added if missing
    window_months: int = Field(3, ge=1)
    caliper_sd: float | None = Field(0.2, gt=0)  # in SDs of the logit score; null = no caliper
    outcomes: list[OutcomeCode] = [
        "self_sufficient",
        "employed_at_horizon",
        "studying_at_horizon",
        "months_on_assistance",
    ]
    estimators: list[EstimatorCode] = ["psm_nn1", "psm_nn1_norepl", "psm_nn3", "ipw", "aipw", "naive"]
    exact: list[str] = ["month"]  # exact matching / weighting strata (sample columns)
    trim: float = Field(0.0, ge=0, lt=0.5)  # IPW/AIPW: drop rows with propensity above 1 - trim (0 = none)
    common_support: bool = False  # IPW/AIPW: drop treated above their stratum's largest control score
    ps_penalty_c: float | None = Field(None, gt=0)  # L2 penalty C of the logit score; null = maximum likelihood
    match_ties: bool = True  # matching keeps every control tied at the k-th distance (as Stata)
    variance: Literal["ai2016", "ai2006"] = "ai2016"  # matching with replacement: Abadie-Imbens 2016 / 2006
    var_matches: int = Field(2, ge=1)  # same-arm neighbours for the Abadie-Imbens conditional variance
    n_boot: int = Field(49, ge=2)  # person-bootstrap replicates for estimators without an analytic SE
    boot_chunks: int = Field(2, ge=1)  # replicates run as this many parallel tasks
    seed: int = 2026
    heterogeneity_min_treated: int = Field(10, ge=1)


class ParticipantFlow(_Section):
    """Participant-flow documentation (issue 5); formats in docs/participant_flow.md."""

    participants: Path  # CSV/XLSX, one row per participant
    status_documentation: Path  # CSV/XLSX, long or wide status per three-month period
    ladder: Path  # YAML: ordered statuses and exit categories
    targets: Path | None = None  # YAML: the funder's targets
    indicators: Path | None = None  # YAML: indicator questionnaire items and Likert scale
    indicator_responses: Path | None = None  # CSV/XLSX: one row per participant and occasion
    as_of: str | None = None  # YYYY-MM-DD the documentation describes; default its last date
    # What end_date means: "inclusive" = the last enrolled day (default); "exclusive" = the first day no
    # longer enrolled (such dates are read as the day before). Used for enrolled months and enrolment.
    end_date: Literal["inclusive", "exclusive"] = "inclusive"

    @field_validator("as_of")
    @classmethod
    def _date(cls, value: str | None) -> str | None:
        parts = (value or "").split("-")
        if value is not None and (len(parts) != 3 or not all(p.isdigit() for p in parts)):
            raise ValueError(f"expected a date as YYYY-MM-DD, got {value!r}")
        return value


class Seminar(_Section):
    lang: Literal["en", "sv"] = "en"
    disclosure_threshold: int = Field(5, ge=1)


# "register" is the natural name of the register section; pydantic warns that it shadows ABCMeta.register,
# a class-level method nothing here uses.
warnings.filterwarnings("ignore", message='Field name "register"', category=UserWarning)


class Config(_Section):
    project: str
    mode: Literal["demo", "site"] = "site"
    root: Path = Path(".")
    paths: Paths
    demo: DemoSettings = DemoSettings()
    # Each study needs only its own sections (insats.studies.Study.sections); a missing one is None and
    # ``require`` names it. None also keeps BaseModel.register from standing in for an absent register section.
    employer_interviews: EmployerInterviews | None = None
    intervention_mapping: InterventionMapping | None = None
    register: Register | None = None
    outcome_evaluation: OutcomeEvaluation | None = None
    seminar: Seminar = Seminar()
    participant_flow: ParticipantFlow | None = None
    source: Path = Field(default=Path("."), exclude=True)
    sha256: str = Field(default="", exclude=True)

    def require(self, *sections: str, for_: str = "") -> None:
        """Raise a one-line ConfigError naming every section in ``sections`` that this config lacks."""
        missing = [s for s in sections if getattr(self, s, None) is None]
        if missing:
            who = f" (needed by {for_})" if for_ else ""
            names = ", ".join(f"`{m}:`" for m in missing)
            raise ConfigError(f"Config file {self.source} has no {names} section{'s' if len(missing) > 1 else ''}{who}")

    def section_hash(self, *sections: str) -> str:
        """Short hash of the named sections (what a step depends on), stable across machines."""
        data = {s: getattr(self, s).model_dump(mode="json") for s in sections}
        return hashlib.sha256(json.dumps(data, sort_keys=True).encode()).hexdigest()[:16]

    def study_dir(self, study: str) -> Path:
        return self.paths.processed / study

    def interim_dir(self, study: str) -> Path:
        return self.paths.interim / study


def _resolve(value: Any, root: Path) -> Any:
    if isinstance(value, BaseModel):
        for name in type(value).model_fields:
            if name in ("source", "root"):
                continue
            setattr(value, name, _resolve(getattr(value, name), root))
        return value
    if isinstance(value, Path):
        return value if value.is_absolute() else (root / value).resolve()
    if isinstance(value, dict):
        return {k: _resolve(v, root) for k, v in value.items()}
    return value


def load_config(path: str | Path) -> Config:
    """Read, validate and resolve a config file. Raises ConfigError naming the file and the field.

    Parsed once per process and file version (path, size, modification time); each call gets its own copy.
    """
    path = Path(path)
    try:
        st = path.stat()
    except OSError as exc:
        raise ConfigError(f"Cannot read config file {path}: {exc.strerror}") from exc
    return _load_config(str(path.resolve()), st.st_size, st.st_mtime_ns, str(path)).model_copy(deep=True)


@functools.lru_cache(maxsize=16)
def _load_config(resolved: str, size: int, mtime_ns: int, shown: str) -> Config:
    path = Path(shown)
    try:
        raw_bytes = Path(resolved).read_bytes()
    except OSError as exc:
        raise ConfigError(f"Cannot read config file {path}: {exc.strerror}") from exc
    try:
        data = yaml.safe_load(raw_bytes.decode("utf-8"))
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise ConfigError(f"Config file {path} is not valid UTF-8 YAML: {exc}") from exc
    if not isinstance(data, dict):
        raise ConfigError(f"Config file {path} must hold a mapping of settings, got {type(data).__name__}")
    try:
        config = Config.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(f"{'.'.join(str(p) for p in err['loc'])}: {err['msg']}" for err in exc.errors())
        raise ConfigError(f"Config file {path} is invalid: {problems}") from exc
    root = (path.parent / config.root).resolve()
    config.root = root
    config.source = path.resolve()
    config.sha256 = hashlib.sha256(raw_bytes).hexdigest()
    return _resolve(config, root)
