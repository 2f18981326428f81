"""Study 1: reading, redaction, segmentation, codebook, dictionary coding and the demand profile."""

from __future__ import annotations

import unicodedata
from pathlib import Path

import pandas as pd
import pytest

from insats.demo.interviews import CODEBOOK, make_interviews, write_interviews
from insats.tasks.identity import find_identity_numbers
from insats.tasks.interviews.codebook import load_codebook, parse_codebook
from insats.tasks.interviews.coding import CODED_COLUMNS, code_segments, explain_matches, keyword_stems
from insats.tasks.interviews.profile import code_frequencies, demand_profile
from insats.tasks.interviews.redaction import redact
from insats.tasks.interviews.transcripts import read_transcript, segment_turns

# Tolerance for recovered vs planted employer shares. The generator writes sentences only for planted
# codes and the fillers carry no keyword, so recovery is exact on the demo; 0.05 (= 1 employer of 20)
# leaves room for template changes without hiding a systematic error.
SHARE_TOLERANCE = 0.05
BOOK = parse_codebook(CODEBOOK, source="demo-codebook")


# --- end to end on the demo material -------------------------------------------------------------------


@pytest.fixture(scope="module")
def demo(tmp_path_factory):
    bundle = make_interviews(seed=2026, n_employers=20)
    paths = write_interviews(bundle, tmp_path_factory.mktemp("study1"))
    book = load_codebook(paths["codebook"])
    employers = pd.read_csv(paths["employers"], dtype=str, encoding="utf-8", keep_default_na=False)
    texts, logs, frames = {}, {}, []
    for row in employers.itertuples():
        text, log = redact(read_transcript(paths["transcripts"] / row.file), names=[bundle.truth["pii"]["name"]])
        texts[row.interview_id], logs[row.interview_id] = text, log
        frames.append(segment_turns(text, row.interview_id))
    segments = pd.concat(frames, ignore_index=True)
    coded = code_segments(segments, book)
    return {
        "bundle": bundle, "paths": paths, "book": book, "employers": employers, "texts": texts,
        "logs": logs, "segments": segments, "coded": coded,
    }  # fmt: skip


def test_planted_top_competency_is_rank_one(demo):
    profile = demand_profile(demo["coded"], demo["employers"], demo["book"])
    assert list(profile.columns) == [
        "code_id", "label", "label_en", "n_employers", "n_employers_total", "share_employers", "rank",
        "ci_low", "ci_high", "n_employers_krav", "n_employers_neutral", "n_employers_inte_krav", "share_neutral",
        "share_inte_krav",
    ]  # fmt: skip
    assert (profile["ci_low"] <= profile["share_employers"]).all()
    assert (profile["share_employers"] <= profile["ci_high"]).all()
    assert set(profile["code_id"]) == {c.id for c in demo["book"].children("KOMP")}
    top = profile.iloc[0]
    assert top["code_id"] == demo["bundle"].truth["top_competency"] and top["rank"] == 1
    assert (profile["rank"] == 1).sum() == 1
    assert (profile["n_employers_total"] == 20).all()
    assert profile["rank"].is_monotonic_increasing


@pytest.mark.parametrize("parent", ["KOMP", "SYN"])
def test_shares_close_to_planted(demo, parent):
    """The demo plants *mentions* (some phrased as merits: "Det är en fördel med truckkort"), so the planted share
    is the share of employers who mention a code without denying it: krav + neutral. Demand (krav) is at most that."""
    profile = demand_profile(demo["coded"], demo["employers"], demo["book"], parent=parent)
    planted = demo["bundle"].truth["planted_shares"]
    for row in profile.itertuples():
        mentioned = (row.n_employers_krav + row.n_employers_neutral) / row.n_employers_total
        assert abs(mentioned - planted[row.code_id]) <= SHARE_TOLERANCE, row.code_id
        assert row.share_employers <= mentioned


def test_employer_sets_recovered(demo):
    """Beyond shares: exactly the employers the generator planted are found for every code."""
    emp = dict(zip(demo["employers"]["interview_id"], demo["employers"]["employer_id"], strict=True))
    coded = demo["coded"].assign(employer_id=demo["coded"]["interview_id"].map(emp))
    for code, planted in demo["bundle"].truth["planted_employers"].items():
        found = set(coded.loc[(coded["code_id"] == code) & ~coded["negated"], "employer_id"])
        assert found == set(planted), code


def test_negated_korkort_coded_but_not_demand(demo):
    seg, coded = demo["segments"], demo["coded"]
    hits = seg[seg["text"].str.contains("Vi kräver inte körkort", regex=False)]
    assert len(hits) >= 1
    rows = coded[coded["segment_id"].isin(hits["segment_id"]) & (coded["code_id"] == "KOMP.KORKORT")]
    assert len(rows) == len(hits) and rows["negated"].all()
    assert rows["matched"].str.lower().eq("körkort").all()
    truth = demo["bundle"].truth
    profile = demand_profile(coded, demo["employers"], demo["book"]).set_index("code_id")
    with_neg = demand_profile(coded, demo["employers"], demo["book"], include_negated=True).set_index("code_id")
    n_planted = len(truth["planted_employers"]["KOMP.KORKORT"])
    n_negated = len(truth["negated_employers"]["KOMP.KORKORT"])
    assert profile.loc["KOMP.KORKORT", "n_employers"] == n_planted
    assert with_neg.loc["KOMP.KORKORT", "n_employers"] == n_planted + n_negated


def test_redaction_of_planted_personal_data(demo):
    pii = demo["bundle"].truth["pii"]
    text = demo["texts"][pii["interview_id"]]
    for value in (pii["personnummer"], pii["phone"], pii["email"], pii["name"]):
        assert value not in text
    for placeholder in ("[PERSONNUMMER]", "[TELEFON]", "[E-POST]", "[NAMN]"):
        assert placeholder in text
    assert all(find_identity_numbers(t) == [] for t in demo["texts"].values())
    log = demo["logs"][pii["interview_id"]]
    assert sorted(e["kind"] for e in log) == ["email", "identity_number", "name", "phone"]
    for entry in log:
        assert set(entry) == {"kind", "placeholder", "start", "end"}
        assert text[entry["start"] : entry["end"]] == entry["placeholder"]
    # Other interviews had nothing to redact.
    assert all(not v for k, v in demo["logs"].items() if k != pii["interview_id"])
    # Segments are cut from the redacted text, so nothing downstream carries the values.
    assert not demo["segments"]["text"].str.contains(pii["personnummer"], regex=False).any()


def test_segment_offsets_point_into_text(demo):
    seg = demo["segments"]
    for row in seg.itertuples():
        assert demo["texts"][row.interview_id][row.start_char : row.end_char] == row.text
    assert seg["segment_id"].is_unique and (seg["end_char"] > seg["start_char"]).all()
    assert set(seg["speaker_role"]) == {"interviewer", "respondent"}
    assert set(seg["speaker"]) == {"I", "R", "Intervjuare", "Respondent"}
    # Header lines ("Intervju E01", "Datum: ...") are not turns.
    assert not seg["text"].str.startswith("Intervju E").any()


def test_interviewer_turns_not_coded_by_default(demo):
    roles = demo["segments"].set_index("segment_id")["speaker_role"]
    assert (demo["coded"]["segment_id"].map(roles) == "respondent").all()
    both = code_segments(demo["segments"], demo["book"], roles=("interviewer", "respondent"))
    asked = both[both["segment_id"].map(roles) == "interviewer"]
    assert {"KOMP.KORKORT", "SYN.KONTAKT"} <= set(asked["code_id"])  # the questions name them


def test_code_frequencies(demo):
    freq = code_frequencies(demo["coded"], demo["employers"])
    assert list(freq.columns) == ["employer_id", "code_id", "n_segments"]
    assert not freq.duplicated(["employer_id", "code_id"]).any() and (freq["n_segments"] >= 1).all()
    affirmative = demo["coded"][~demo["coded"]["negated"]]
    assert freq["n_segments"].sum() == len(affirmative)
    n_emp = freq[freq["code_id"] == "KOMP.SVENSKA"]["employer_id"].nunique()
    assert n_emp / 20 == demo["bundle"].truth["planted_shares"]["KOMP.SVENSKA"]


def test_coded_schema(demo):
    coded = demo["coded"]
    assert list(coded.columns) == CODED_COLUMNS
    assert not coded.duplicated(["segment_id", "code_id"]).any()
    assert coded["negated"].dtype == bool and coded["matched"].str.len().gt(0).all()


# --- reading ---------------------------------------------------------------------------------------------


def test_read_txt_encodings_and_normalisation(tmp_path: Path):
    body = "I: Vad krävs?\r\nR: Körkort och språket, två måsten.\r\n"
    (tmp_path / "bom.txt").write_bytes(body.encode("utf-8-sig"))
    (tmp_path / "win.txt").write_bytes(body.encode("cp1252"))
    (tmp_path / "nfd.txt").write_text(unicodedata.normalize("NFD", body), encoding="utf-8")
    expected = "I: Vad krävs?\nR: Körkort och språket, två måsten.\n"
    for name in ("bom.txt", "win.txt", "nfd.txt"):
        assert read_transcript(tmp_path / name) == expected, name


def test_read_docx(tmp_path: Path):
    import docx

    document = docx.Document()
    for line in ("Intervju X", "Intervjuare: Hur går det?", "Respondent: Jättebra, tack för frågan."):
        document.add_paragraph(line)
    document.save(str(tmp_path / "x.docx"))
    text = read_transcript(tmp_path / "x.docx")
    assert text == "Intervju X\nIntervjuare: Hur går det?\nRespondent: Jättebra, tack för frågan."


def test_read_rejects_unknown_suffix_and_bad_docx(tmp_path: Path):
    (tmp_path / "a.pdf").write_bytes(b"%PDF")
    with pytest.raises(ValueError, match=r"a\.pdf.*expected \.txt or \.docx"):
        read_transcript(tmp_path / "a.pdf")
    (tmp_path / "b.docx").write_text("not a zip", encoding="utf-8")
    with pytest.raises(ValueError, match=r"b\.docx"):
        read_transcript(tmp_path / "b.docx")
    with pytest.raises(FileNotFoundError):
        read_transcript(tmp_path / "missing.txt")


# --- segmentation -----------------------------------------------------------------------------------------


def test_segment_turns_multiline_and_empty_turns():
    text = "Rubrik\n\nI: Första frågan?\nR: Svar som\nfortsätter här.\n\nI:\nR2: Andra svaret."
    seg = segment_turns(text, "X1")
    assert list(seg["segment_id"]) == ["X1-001", "X1-002", "X1-004"]  # empty turn 3 dropped
    assert list(seg["speaker_role"]) == ["interviewer", "respondent", "respondent"]
    assert seg.loc[1, "text"] == "Svar som\nfortsätter här."
    for row in seg.itertuples():
        assert text[row.start_char : row.end_char] == row.text


def test_segment_turns_without_turns_raises():
    with pytest.raises(ValueError, match=r"interview E99: no speaker turns found.*'I:'"):
        segment_turns("Bara löptext utan talare.\nIngen struktur.", "E99")


def test_segment_turns_custom_pattern_and_roles():
    text = "F: Hur är läget?\nS: Bra."
    with pytest.raises(ValueError, match="speaker label 'F' has no role"):
        segment_turns(text, "C1", speaker_pattern=r"^(?P<speaker>[FS]):")
    seg = segment_turns(
        text,
        "C1",
        speaker_pattern=r"^(?P<speaker>[FS]):",
        speaker_roles={"F": "interviewer", "S": "respondent"},
    )
    assert list(seg["speaker_role"]) == ["interviewer", "respondent"] and list(seg["text"]) == [
        "Hur är läget?",
        "Bra.",
    ]
    with pytest.raises(ValueError, match="named group"):
        segment_turns(text, "C1", speaker_pattern=r"^[FS]:")


# --- redaction --------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "phone",
    ["070-123 45 67", "0701234567", "070 123 45 67", "+46 70 123 45 67", "+46701234567", "016-12 34 56",
     "+46 (0)16 12 34 56"],
)  # fmt: skip
def test_redact_phone_formats(phone):
    text, log = redact(f"Ring mig på {phone} efter lunch.")
    assert text == "Ring mig på [TELEFON] efter lunch." and [e["kind"] for e in log] == ["phone"]


def test_redact_identity_numbers_but_not_lookalikes():
    text, log = redact("Han har 850612-9884, hon 19850672-9881 (samordningsnummer).")
    assert text == "Han har [PERSONNUMMER], hon [PERSONNUMMER] (samordningsnummer)."
    keep = "Möte 2025-03-14, kommun 0484, order 19850612-9881 (fel kontrollsiffra), 12 500 kr, år 2024."
    assert redact(keep) == (keep, [])


def test_redact_email_and_names_case_insensitive_with_genitive():
    text, log = redact("Maila Per.Olsson@firma.se eller fråga Kalle; kalles chef vet.", names=["Kalle", ""])
    assert text == "Maila [E-POST] eller fråga [NAMN]; [NAMN] chef vet."
    assert [e["kind"] for e in log] == ["email", "name", "name"]
    assert all("Kalle" not in str(v) and "Olsson" not in str(v) for e in log for v in e.values())
    with pytest.raises(ValueError, match=r"names\[0\]"):
        redact("x", names=[None])  # type: ignore[list-item]


# --- codebook ---------------------------------------------------------------------------------------------


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "book.yaml"
    path.write_text(body, encoding="utf-8")
    return path


def test_codebook_duplicate_id_names_file_and_code(tmp_path: Path):
    path = _write(
        tmp_path,
        "codes:\n  - id: A\n    label: Å\n    children:\n      - {id: A.X, label: x, keywords: [ett]}\n"
        "      - {id: A.X, label: y, keywords: [två]}\n",
    )
    with pytest.raises(ValueError, match=r"book\.yaml: code 'A\.X': duplicate code id"):
        load_codebook(path)


@pytest.mark.parametrize(
    ("body", "message"),
    [
        ("codes:\n  - {id: A, label: a, keywords: svenska}\n", r"code 'A': 'keywords' must be a list"),
        ("codes:\n  - {id: A, label: a, keywords: [1, 2]}\n", r"code 'A': 'keywords' must be a list"),
        ("codes:\n  - {id: A}\n", r"code 'A': 'label' is required"),
        ("codes:\n  - {id: A, label: a, keyword: [x]}\n", r"code 'A': unknown key\(s\) \['keyword'\]"),
        ("codes:\n  - {id: A, label: a, children: x}\n", r"children of code 'A' must be a non-empty list"),
        ("name: x\n", r"missing the 'codes' list"),
        ("codes: [\n", r"not valid YAML"),
    ],
)
def test_codebook_validation_errors(tmp_path: Path, body: str, message: str):
    with pytest.raises(ValueError, match=r"book\.yaml: .*" + message):
        load_codebook(_write(tmp_path, body))


def test_codebook_flattening_and_frame():
    frame = BOOK.to_frame()
    assert list(frame.columns) == [
        "code_id",
        "parent",
        "level",
        "label",
        "label_en",
        "definition",
        "keywords",
    ]
    assert frame.set_index("code_id").loc["KOMP.KORKORT", "parent"] == "KOMP"
    assert frame.set_index("code_id").loc["SYN", "level"] == 1 and frame["level"].max() == 2
    assert [c.id for c in BOOK.descendants("SYN")] == [c.id for c in BOOK.children("SYN")]
    with pytest.raises(KeyError, match="NOPE"):
        BOOK.get("NOPE")


# --- coding -----------------------------------------------------------------------------------------------


def _code(*texts: str, roles: tuple[str, ...] = ("respondent",)) -> pd.DataFrame:
    seg = pd.DataFrame(
        {
            "interview_id": "T",
            "segment_id": [f"T-{i:03d}" for i in range(1, len(texts) + 1)],
            "speaker_role": "respondent",
            "text": list(texts),
        }
    )
    return code_segments(seg, BOOK, roles=roles)


def _codes(text: str) -> dict[str, tuple[str, bool]]:
    return {r.code_id: (r.matched, r.negated) for r in _code(text).itertuples()}


def test_stems_inflections_and_compounds():
    # Lemmas, not Snowball stems: inflections share a lemma; "punktlighet" is not cut to "punkt".
    assert keyword_stems("Svenskan") == ("svenska",)
    assert keyword_stems("datorer körkortet punktlighet") == ("dator", "körkort", "punktlighet")
    assert _codes("Vi kräver svenskkunskaper.") == {"KOMP.SVENSKA": ("svenskkunskaper", False)}
    assert _codes("Körkortet är viktigt.") == {"KOMP.KORKORT": ("Körkortet", False)}
    assert _codes("Att man passar tiderna.") == {"KOMP.PUNKTLIGHET": ("passar tiderna", False)}
    assert _codes("Samarbetsförmågan är viktig.") == {"KOMP.SAMARBETE": ("Samarbetsförmågan", False)}
    assert _codes("Hon har en undersköterskeutbildning.") == {"KOMP.YRKESKUNSKAP": ("undersköterskeutbildning", False)}
    # A phrase absorbs the single word inside it; matched words keep their spelling.
    assert _codes("Man ska kunna PRATA SVENSKA.") == {"KOMP.SVENSKA": ("PRATA SVENSKA", False)}


def test_exact_match_blocks_compound_reading():
    # "kundkontakt" is a service keyword; its tail must not also count as contact with the municipality.
    assert _codes("Mycket kundkontakt i jobbet.") == {"KOMP.SERVICE": ("kundkontakt", False)}
    # ... while an unknown compound ending in a keyword stem is read as that code.
    assert _codes("Hon har bra servicekänsla.") == {"KOMP.SERVICE": ("servicekänsla", False)}


def test_negation_window_clause_and_parity():
    assert _codes("Vi kräver inte körkort.") == {"KOMP.KORKORT": ("körkort", True)}
    assert _codes("Det är inget krav på körkort.")["KOMP.KORKORT"][1] is True
    # The whole clause is the negation's scope, on both sides of the keyword.
    assert _codes("Vi har inte alls något sådant krav på körkort.")["KOMP.KORKORT"][1] is True
    assert _codes("Körkort spelar ingen roll för oss.")["KOMP.KORKORT"][1] is True
    # Clause boundaries: comma and "men".
    got = _codes("Vi kräver inte körkort, svenska är viktigt.")
    assert got == {"KOMP.KORKORT": ("körkort", True), "KOMP.SVENSKA": ("svenska", False)}
    assert _codes("Vi kräver inte körkort men svenska.")["KOMP.SVENSKA"][1] is False
    # Double negation is a demand.
    assert _codes("Det går inte utan svenska.") == {"KOMP.SVENSKA": ("svenska", False)}


def test_one_row_per_segment_and_code():
    coded = _code("Vi kräver inte körkort för lagret, men körkort är bra för chaufförerna.", "Ingen text här.")
    assert len(coded) == 1
    row = coded.iloc[0]
    assert row["code_id"] == "KOMP.KORKORT" and row["matched"] == "körkort" and not row["negated"]


def test_coding_respects_roles_and_rejects_bad_input():
    assert _code("Körkort krävs.", roles=("interviewer",)).empty
    empty = _code("Inget som matchar.")
    assert list(empty.columns) == CODED_COLUMNS and empty.empty
    with pytest.raises(ValueError, match=r"missing column\(s\) \['speaker_role'\]"):
        code_segments(pd.DataFrame({"interview_id": ["a"], "segment_id": ["a-1"], "text": ["x"]}), BOOK)
    with pytest.raises(ValueError, match="roles must be a tuple"):
        _code("x", roles="respondent")  # type: ignore[arg-type]


def test_explain_matches_gives_rule_and_offsets():
    text = "Vi kräver inte körkort, men språkkrav finns och att man kommer i tid."
    ex = explain_matches(text, BOOK)
    assert list(ex["code_id"]) == ["KOMP.KORKORT", "KOMP.SVENSKA", "KOMP.PUNKTLIGHET"]
    assert list(ex["rule"]) == ["exact", "compound", "phrase"]
    assert list(ex["negated"]) == [True, False, False]
    for row in ex.itertuples():
        assert text[row.start_char : row.end_char] == row.matched


# --- profile ----------------------------------------------------------------------------------------------


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


def test_a_site_speaker_pattern_segments_named_speakers():
    from insats.tasks.interviews.transcripts import segment_turns

    text = "Moderator: Vad krävs?\nAnna: Svenska.\nModerator: Något mer?\nBo: Körkort.\n"
    pattern = r"^(?P<speaker>Moderator|Anna|Bo):"
    seg = segment_turns(
        text, "FG9", pattern, speaker_roles={"Moderator": "interviewer", "Anna": "respondent", "Bo": "respondent"}
    )
    assert list(seg["speaker"]) == ["Moderator", "Anna", "Moderator", "Bo"]
    assert list(seg["speaker_role"]) == ["interviewer", "respondent", "interviewer", "respondent"]


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
