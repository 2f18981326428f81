"""`insats init DIR`: a site folder with demo register extracts in several formats and encodings (SPSS with
value labels, a cp1252 semicolon CSV with Swedish column names, a UTF-16 CSV), transcripts, a codebook and an
inventory -> a commented config that loads, and whose column mapping the pipeline's own readers accept."""

from __future__ import annotations

import codecs
import shutil
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pyreadstat
import pytest
import yaml
from typer.testing import CliRunner

from insats.cli import app
from insats.config import load_config
from insats.demo.register import make_register, write_register
from insats.init import init_site, scan_site
from insats.init.sniff import detect_encoding, sniff_file
from insats.tasks.register.readers import read_extract
from insats.tasks.register.standardise import standardise
from tests.helpers import ROOT

PERSONS_SV = {  # demo column -> the Swedish spelling a municipality's Excel export might use
    "personnummer": "Pnr",
    "kon": "Kön",
    "fodelsear": "Födelseår",
    "utrikes_fodd": "Utrikes född",
    "utbildning": "Utbildningsnivå",
    "hushallstyp": "Hushållstyp",
    "kommunkod": "Kommun",
}
SPELLS_EN = {
    "personnummer": "personal_identity_number",
    "insats_id": "intervention_id",
    "startdatum": "start_date",
    "slutdatum": "end_date",
}


@pytest.fixture(scope="module")
def frames():
    frames, _ = make_register(seed=7, n_persons=200, n_months=24)
    return frames


@pytest.fixture(scope="module")
def site(tmp_path_factory, frames):
    """project/site/: assistance and outcomes as SPSS, persons as cp1252 ;-CSV, spells as UTF-16 tab-CSV,
    interviews (transcripts, employers, codebook), an inventory and a RIS export."""
    project = tmp_path_factory.mktemp("project")
    site = project / "site"
    sav = write_register(frames, project / "sav")
    (site / "register").mkdir(parents=True)
    shutil.copy(sav["assistance"], site / "register" / "utbetalningar.sav")
    shutil.copy(sav["outcomes"], site / "register" / "utfall.sav")
    persons = frames["persons"].rename(columns=PERSONS_SV)
    (site / "register" / "personer.csv").write_bytes(persons.to_csv(sep=";", index=False).encode("cp1252"))
    spells = frames["spells"].rename(columns=SPELLS_EN)
    spells_text = spells.to_csv(sep="\t", index=False, date_format="%Y-%m-%d")
    (site / "register" / "insatser.csv").write_bytes(spells_text.encode("utf-16"))  # BOM + UTF-16-LE
    transcripts = site / "intervjuer" / "transkript"
    transcripts.mkdir(parents=True)
    for i in (1, 2):
        text = f"Intervju E0{i}\n\nI: Vad krävs av en nyanställd?\nR: Att man kan svenska och kommer i tid.\n"
        (transcripts / f"E0{i}.txt").write_text(text, encoding="utf-8")
    (site / "intervjuer" / "arbetsgivare.csv").write_text(
        "interview_id,employer_id,sector,size_class,municipality,interview_date,file\n"
        "E01,AG01,vård,10-49,0484,2025-02-03,E01.txt\n",
        encoding="utf-8",
    )
    codebook = {
        "name": "Kodbok",
        "codes": [
            {
                "id": "KRAV",
                "label": "Kompetenskrav",
                "children": [{"id": "KRAV.SVENSKA", "label": "Svenska", "keywords": ["svenska"]}],
            },
            {"id": "SYN", "label": "Syn på insatser", "keywords": ["insats"]},
        ],
    }
    (site / "intervjuer" / "kodbok.yaml").write_text(yaml.safe_dump(codebook, allow_unicode=True), encoding="utf-8")
    (site / "kartläggning").mkdir()
    (site / "kartläggning" / "insatser.csv").write_text(
        "intervention_id;name;provider;method_family;capacity\nINS01;Jobbspåret;kommun;supported_employment;120\n",
        encoding="utf-8",
    )
    (site / "kartläggning" / "scopus.ris").write_text(
        "TY  - JOUR\nTI  - Arbete först\nPY  - 2020\nER  - \n", encoding="utf-8"
    )
    (site / "notes.json").write_text("{}", encoding="utf-8")
    return site


@pytest.fixture(scope="module")
def written(site):
    out = site.parent / "configs" / "site.yaml"
    result = init_site(site, out, project="eskilstuna-test", root=site.parent)
    return result, out, out.read_text(encoding="utf-8")


def test_encoding_detection_boms_utf8_and_guesses():
    assert detect_encoding(codecs.BOM_UTF8 + "kön".encode())[:2] == ("utf-8-sig", "UTF-8 byte-order mark")
    assert detect_encoding("kön;år".encode("utf-16"))[0] == "utf-16"
    assert detect_encoding("kön;år".encode("utf-32"))[0] == "utf-32"  # not mistaken for UTF-16
    assert detect_encoding("kön;år".encode()) == ("utf-8", "valid UTF-8", False)
    codec, how, guessed = detect_encoding("kön;år".encode("cp1252"))
    assert (codec, guessed) == ("cp1252", True) and "guessed" in how
    assert detect_encoding(b"k\x81n;\xe5r")[0] == "latin-1"  # 0x81 is undefined in cp1252
    assert detect_encoding("kön;födelseår\n1;1990\n".encode("utf-16-le"))[:1] == ("utf-16-le",)
    # A prefix cut inside a multi-byte character is still UTF-8.
    assert detect_encoding("åäö".encode()[:-1], complete=False)[0] == "utf-8"


def test_sniffs_encoding_delimiter_columns_and_value_labels(site):
    persons = sniff_file(site / "register" / "personer.csv", site)
    assert (persons.format, persons.encoding, persons.encoding_guessed, persons.delimiter) == (
        "csv",
        "cp1252",
        True,
        ";",
    )
    assert persons.columns == list(PERSONS_SV.values())  # å/ä/ö decoded
    spells = sniff_file(site / "register" / "insatser.csv", site)
    assert (spells.encoding, spells.encoding_guessed, spells.delimiter) == ("utf-16", False, "\t")
    assert spells.columns == list(SPELLS_EN.values())
    outcomes = sniff_file(site / "register" / "utfall.sav", site)
    assert outcomes.format == "spss" and outcomes.value_labels["sysselsatt"] == {0: "Nej", 1: "Ja"}
    assert outcomes.variable_labels["manad"] == "Månad (ÅÅÅÅMM)"
    assert outcomes.n_rows == 4800 and len(outcomes.sample) == 200  # metadata + row_limit, not the whole file


def test_proposes_register_files_mapping_and_period(site, frames):
    proposal = scan_site(site)
    files = {k: c.value.name for k, c in proposal.register_files.items()}
    assert files == {
        "persons": "personer.csv",
        "assistance": "utbetalningar.sav",
        "spells": "insatser.csv",
        "outcomes": "utfall.sav",
    }
    persons = {k: c.value for k, c in proposal.register_columns["persons"].items()}
    assert persons == {
        "personnummer": "Pnr",
        "sex": "Kön",
        "birth_year": "Födelseår",
        "born_abroad": "Utrikes född",
        "education": "Utbildningsnivå",
        "household_type": "Hushållstyp",
        "municipality": "Kommun",
    }
    spells = {k: c.value for k, c in proposal.register_columns["spells"].items()}
    assert spells == {
        "personnummer": "personal_identity_number",
        "intervention_id": "intervention_id",
        "start_date": "start_date",
        "end_date": "end_date",
    }
    months = frames["outcomes"]["manad"]
    assert proposal.period.value == (
        f"{months.min() // 100}-{months.min() % 100:02d}",
        f"{months.max() // 100}-{months.max() % 100:02d}",
    )
    inputs = proposal.inputs
    assert inputs["employer_interviews"]["transcripts"].value == site / "intervjuer" / "transkript"
    assert inputs["employer_interviews"]["demand_parent"].value == "KRAV"  # "Kompetenskrav"
    assert inputs["intervention_mapping"]["inventory"].value.name == "insatser.csv"
    assert list(inputs["intervention_mapping"]["references"].value.values()) == [site / "kartläggning" / "scopus.ris"]
    assert "participant_flow" not in inputs


def test_written_config_loads_with_comments_and_swedish_letters(written, site, frames):
    result, out, text = written
    assert result.load_error is None
    cfg = load_config(out)
    assert cfg.mode == "site" and cfg.project == "eskilstuna-test"
    assert cfg.paths.raw == site.resolve() and cfg.paths.interim == (site.parent / "data" / "interim").resolve()
    assert cfg.register.columns["persons"]["sex"] == "Kön"  # å/ä/ö survive the YAML round trip
    assert "born_abroad: Utrikes född" in text and "Månad (ÅÅÅÅMM)" in text
    assert all(p.exists() for p in cfg.register.files.values())
    assert cfg.employer_interviews.codebook.exists() and cfg.intervention_mapping.references
    assert cfg.participant_flow is None  # no participant documentation: the section is left out
    assert cfg.outcome_evaluation.interventions == "from_mapping" and "INS01" in text
    lines = text.splitlines()
    studying = next(i for i, line in enumerate(lines) if line.strip().startswith("studying: studerar"))
    assert "value labels 0=Nej, 1=Ja" in lines[studying] + lines[studying - 1]  # labels seen, in the comment
    assert "cp1252" in text and "guessed" in text  # the encoding guess is said
    # The UTF-16 spells file: the register reader cannot read it as it is; the config says so.
    assert any("utf-16" in t and "re-save as UTF-8" in t for t in result.todos)
    assert "notes.json" in text  # listed among the files not used
    # The pipeline's own reader and standardiser accept every proposed mapping.
    for kind, path in cfg.register.files.items():
        df = read_extract(path, encoding="utf-16" if kind == "spells" else None)
        out_df = standardise(df, kind, cfg.register.columns[kind], source=path.name)
        assert len(out_df) == len(frames[kind])


def test_value_labels_against_code_lists_and_missing_columns(tmp_path):
    site = tmp_path / "site"
    site.mkdir()
    df = pd.DataFrame({"personnummer": ["19850612-1234"], "kon": [1], "fodelsear": [1985]})
    pyreadstat.write_sav(df, str(site / "personer.sav"), variable_value_labels={"kon": {1: "Kvinna", 2: "Man"}})
    result = init_site(site, tmp_path / "site.yaml", root=tmp_path)
    text = (tmp_path / "site.yaml").read_text(encoding="utf-8")
    assert "code 1 is labelled 'Kvinna' here but 'Man' in sex.csv" in text  # reversed coding is caught
    assert "# born_abroad: TODO" in text  # a column not found stays out of the mapping, commented
    assert any("no column like utrikes_fodd" in t for t in result.todos)
    assert any("no assistance extract" in t for t in result.todos)
    assert result.load_error is None  # placeholders keep the required sections loadable


def test_only_transcripts_leaves_other_inputs_as_todo(tmp_path):
    folder = tmp_path / "intervjuer"
    folder.mkdir()
    for name in ("A.txt", "B.txt"):
        (folder / name).write_text("Intervjuare: Hej!\nRespondent: Hej.\n", encoding="utf-8")
    result = init_site(tmp_path, tmp_path / "configs" / "site.yaml", root=tmp_path)
    cfg = load_config(result.path)
    assert cfg.employer_interviews.transcripts == folder.resolve()
    # Each study needs only its own sections: nothing found for the others, so they are left out.
    assert cfg.register is None and cfg.intervention_mapping is None and cfg.participant_flow is None
    assert cfg.outcome_evaluation is None
    assert not cfg.employer_interviews.employers.exists()  # required by the section: a TODO placeholder
    text = result.path.read_text(encoding="utf-8")
    assert "employers: TODO/employers.csv" in text and "register:" not in text
    assert any("nothing found" in t and "employers" in t for t in result.todos)


def test_cli_writes_refuses_to_overwrite_and_forces(site, tmp_path):
    out = tmp_path / "configs" / "site.yaml"
    runner = CliRunner()
    first = runner.invoke(app, ["init", str(site), "--out", str(out), "--project", "testsite"])
    assert first.exit_code == 0, first.output
    assert f"Wrote {out}" in first.output and "TODO(s) to resolve" in first.output
    before = out.read_bytes()
    second = runner.invoke(app, ["init", str(site), "--out", str(out)])
    assert second.exit_code == 1 and "already exists" in second.output and out.read_bytes() == before
    forced = runner.invoke(app, ["init", str(site), "--out", str(out), "--force", "--project", "other"])
    assert forced.exit_code == 0 and "project: other" in out.read_text(encoding="utf-8")
    assert not list(out.parent.glob(".*.tmp"))  # written atomically: no temporary file left behind


def test_cli_in_a_fresh_process_without_prefect_or_gx(site, tmp_path):
    """`python -m insats init` end to end; the command stays light (no Prefect, no great-expectations)."""
    out = tmp_path / "site.yaml"
    code = (
        "import sys; from insats.cli import app\n"
        "try: app(sys.argv[1:])\n"
        "except SystemExit as e: assert not e.code, e.code\n"
        "print(sorted(m for m in ('prefect', 'great_expectations') if m in sys.modules))"
    )
    run = subprocess.run(
        [sys.executable, "-c", code, "init", str(site), "--out", str(out)], capture_output=True, text=True, cwd=tmp_path
    )
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().endswith("[]") and "Wrote" in run.stdout
    assert load_config(out).register.columns["persons"]["birth_year"] == "Födelseår"


def test_suffix_that_disagrees_with_content_is_noted(tmp_path, site):
    wrong = tmp_path / "personer.dta"
    shutil.copy(site / "register" / "utfall.sav", wrong)
    info = sniff_file(wrong, tmp_path)
    assert info.format == "spss" and "rename the file" in info.notes[0]
    empty = tmp_path / "tom.sav"
    empty.write_bytes(b"")
    assert "empty" in sniff_file(empty, tmp_path).problem
    assert Path(wrong).exists()


def test_participant_documentation_and_yaml_by_their_keys(tmp_path):
    """Participants (XLSX), a wide status sheet, ladder/targets/indicator YAMLs and responses -> participant_flow."""
    site = tmp_path / "deltagare"
    site.mkdir()
    repo = ROOT / "configs"
    shutil.copy(repo / "ladder.sv.yaml", site / "stege.yaml")
    shutil.copy(repo / "targets.template.yaml", site / "mål.yaml")
    shutil.copy(repo / "indicators.template.yaml", site / "indikatorer.yaml")
    pd.DataFrame(
        {
            "deltagar_id": ["D1", "D2"],
            "projekt": ["Steget", "Steget"],
            "kön": ["K", "M"],
            "startdatum": ["2022-01-10", "2022-02-01"],
            "slutdatum": [None, "2023-01-31"],
            "avslutsstatus": [None, "Arbete"],
        }
    ).to_excel(site / "deltagare.xlsx", index=False)
    pd.DataFrame(
        {"deltagar_id": ["D1", "D2"], "2022-Q1": ["Kartläggning/utredning"] * 2, "2022-Q2": ["Förberedande insats"] * 2}
    ).to_excel(site / "status.xlsx", index=False)
    pd.DataFrame({"participant_id": ["D1"], "date": ["2022-03-01"], "h1": [3], "h2": [4], "v1": [2]}).to_csv(
        site / "svar.csv", index=False
    )
    result = init_site(site, tmp_path / "site.yaml", root=tmp_path)
    flow = load_config(result.path).participant_flow
    assert flow is not None and result.load_error is None
    assert (flow.participants.name, flow.status_documentation.name) == ("deltagare.xlsx", "status.xlsx")
    assert (flow.ladder.name, flow.targets.name, flow.indicators.name) == ("stege.yaml", "mål.yaml", "indikatorer.yaml")
    assert flow.indicator_responses.name == "svar.csv"
    text = result.path.read_text(encoding="utf-8")
    assert "mål.yaml" in text and "register:" not in text and "employer_interviews:" not in text


def test_duplicate_extracts_prefer_labels_and_unknown_codes_are_flagged(tmp_path, frames):
    site = tmp_path / "site"
    (site / "csv").mkdir(parents=True)
    persons = frames["persons"].head(20)
    pyreadstat.write_sav(persons, str(site / "persons.sav"), variable_value_labels={"kon": {1: "Man", 2: "Kvinna"}})
    copy = persons.assign(kon=persons["kon"].map({1: "M", 2: "K"}))  # letters instead of the codes 1/2
    copy.to_csv(site / "csv" / "persons.csv", index=False)
    proposal = scan_site(site)
    chosen = proposal.register_files["persons"]
    assert chosen.value.name == "persons.sav" and chosen.alternatives == ["csv/persons.csv"]
    from insats.init.register import column_choices

    csv_choice = column_choices(next(f for f in proposal.files if f.path.suffix == ".csv"), "persons")["sex"]
    assert csv_choice.value == "kon" and "K, M not in schemas/codelists/sex.csv" in csv_choice.todo
    assert proposal.register_columns["persons"]["sex"].todo == ""  # the .sav agrees with the code list
