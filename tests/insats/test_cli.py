"""The command line without Prefect runs: help texts, validation exit codes, clear errors."""

from __future__ import annotations

import os
import subprocess
import sys

import pyreadstat
import pytest
from typer.testing import CliRunner

from insats.cli import app
from insats.demo import write_demo_data

runner = CliRunner()


@pytest.fixture(scope="module")
def demo_raw(tmp_path_factory):
    out = tmp_path_factory.mktemp("raw") / "demo"
    write_demo_data(out, seed=7, persons=300)
    return out


@pytest.mark.parametrize("command", ["demo", "demo-data", "run", "validate", "history"])
def test_every_command_explains_itself(command):
    result = runner.invoke(app, [command, "--help"])
    assert result.exit_code == 0
    assert "--config" in result.output or "--out" in result.output


def test_help_is_fast_because_heavy_libraries_load_lazily():
    heavy = "('prefect', 'great_expectations', 'statsmodels')"
    code = f"import sys, insats.cli; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_register_flow_imports_no_library_only_other_nodes_use():
    """`insats run register` imports this flow module before its (possibly cached) tasks run: nothing in it may
    pull in the libraries of the gate (GX, imported by a node that validates) or of other studies."""
    heavy = "('great_expectations', 'scipy', 'statsmodels', 'sklearn', 'nltk', 'matplotlib', 'babel')"
    code = f"import sys, insats.flows.ingestion; print(sorted(m for m in {heavy} if m in sys.modules))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


def test_console_tracebacks_are_quiet_even_when_prefect_was_not_imported_before():
    """The CLI calls quiet_console_tracebacks() before it imports the flow (so Prefect reads the server's URL
    at import): in a fresh process Prefect's terminal handler must still get the one-line formatter, so an
    exception logged through it prints its message and no traceback (`import prefect` alone sets up no logging)."""
    code = (
        "import logging\n"
        "from insats.runtime import quiet_console_tracebacks; quiet_console_tracebacks()\n"
        "from prefect import flow, task  # what a flow module imports\n"
        "try:\n"
        "    raise ValueError('bad row 7')\n"
        "except ValueError:\n"
        "    logging.getLogger('prefect').error('Task run failed', exc_info=True)\n"
    )
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PREFECT_", "INSATS_"))}
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, check=True)
    assert "Task run failed" in proc.stderr
    assert "Traceback" not in proc.stderr and "bad row 7" not in proc.stderr


@pytest.mark.parametrize("freeze", [False, True])
@pytest.mark.parametrize("enabled", [False, True])
def test_imports_without_gc_pauses_the_collector_and_restores_it(enabled, freeze):
    import gc

    from insats.runtime import imports_without_gc

    was = gc.isenabled()
    gc.unfreeze()  # nothing frozen before
    (gc.enable if enabled else gc.disable)()
    try:
        with pytest.raises(RuntimeError), imports_without_gc(freeze=freeze):
            assert not gc.isenabled()
            raise RuntimeError("an import failed")
        assert gc.isenabled() is enabled
        assert (gc.get_freeze_count() > 0) is freeze
    finally:
        gc.unfreeze()
        (gc.enable if was else gc.disable)()


def test_validate_register_extract_fit_for_use(demo_raw, tmp_path):
    result = runner.invoke(
        app,
        ["validate", str(demo_raw / "register" / "persons.sav"), "--suite", "input.persons", "--out", str(tmp_path)],
    )
    assert result.exit_code == 0, result.output
    assert "fit for use" in result.output and "passed" in result.output


def test_validate_reports_failures_with_masked_samples_and_exit_1(demo_raw, tmp_path):
    df, meta = pyreadstat.read_sav(demo_raw / "register" / "persons.sav")
    df.loc[df.index[:3], "kon"] = 9
    df.loc[df.index[3], "personnummer"] = df.loc[df.index[4], "personnummer"]  # a duplicated person
    bad = tmp_path / "personer.sav"
    pyreadstat.write_sav(df, bad)
    result = runner.invoke(app, ["validate", str(bad), "--suite", "input.persons", "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "NOT fit for use" in result.output
    assert "expect_column_values_to_be_in_set on column 'sex': 3 unexpected" in result.output
    assert "expect_column_values_to_be_unique on column 'personnummer'" in result.output
    assert df.loc[df.index[4], "personnummer"] not in result.output  # samples are masked
    assert df.loc[df.index[4], "personnummer"][:8] + "-****" in result.output


def test_validate_unreadable_file_exits_2(tmp_path):
    broken = tmp_path / "persons.sav"
    broken.write_bytes(b"this is not an SPSS file")
    result = runner.invoke(app, ["validate", str(broken), "--suite", "input.persons", "--out", str(tmp_path / "out")])
    assert result.exit_code == 2
    assert "cannot read" in result.output and "persons.sav" in result.output


def test_validate_unknown_suite_lists_the_known_ones(demo_raw, tmp_path):
    persons = str(demo_raw / "register" / "persons.sav")
    result = runner.invoke(app, ["validate", persons, "--suite", "persons", "--out", str(tmp_path)])
    assert result.exit_code == 2  # a usage error: exit 1 means "not fit for use" (issue 15)
    assert "No suite named 'persons'" in result.output and "input.persons" in result.output


def test_list_suites():
    result = runner.invoke(app, ["validate", "--list-suites"])
    assert result.exit_code == 0
    assert "outcome_evaluation.effects" in result.output and "Study 3" in result.output


def test_demo_data_refuses_to_overwrite(demo_raw):
    result = runner.invoke(app, ["demo-data", "--out", str(demo_raw)])
    assert result.exit_code == 1
    assert result.output.startswith("Error:") and "already holds files" in result.output
