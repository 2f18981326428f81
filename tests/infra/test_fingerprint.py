"""A step's code key covers exactly the code it can run: a label edit does not recompute study 3."""

from __future__ import annotations

import importlib
import sys
import textwrap
from pathlib import Path

import pytest

from insats.fingerprint import code_parts, function_fingerprint


@pytest.fixture
def fake_package(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A throwaway ``insats.tasks._fp_*`` module tree whose sources the test edits."""
    import insats.tasks

    pkg = tmp_path / "fp"
    pkg.mkdir()
    monkeypatch.setattr(insats.tasks, "__path__", [*insats.tasks.__path__, str(pkg)])

    def write(name: str, source: str):
        (pkg / f"{name}.py").write_text(textwrap.dedent(source), encoding="utf-8")
        full = f"insats.tasks.{name}"
        sys.modules.pop(full, None)
        importlib.invalidate_caches()
        return importlib.import_module(full)

    yield write
    for name in [m for m in sys.modules if m.startswith("insats.tasks._fp_")]:
        sys.modules.pop(name)


def test_only_used_code_and_constants_count(fake_package) -> None:
    labels = fake_package("_fp_labels", 'LABELS = {"a": "Hälsa"}\nOTHER = {"b": 1}\n')
    helpers = fake_package(
        "_fp_helpers",
        """
        from insats.tasks._fp_labels import LABELS
        def used(x): return x + 1
        def unused(x): return LABELS
        """,
    )
    step = fake_package(
        "_fp_step",
        """
        from insats.tasks import _fp_helpers
        from insats.tasks._fp_labels import OTHER
        def step(x): return _fp_helpers.used(x) + OTHER["b"]
        """,
    )
    parts = code_parts(step.step)
    assert "insats.tasks._fp_helpers.used" in parts
    assert "insats.tasks._fp_helpers.unused" not in parts
    assert not any("LABELS" in k for k in parts)
    assert any(k.endswith(".OTHER") for k in parts)
    assert labels.LABELS["a"] == "Hälsa"
    assert helpers.unused(0) is labels.LABELS


def test_fingerprint_changes_with_a_called_helper_not_with_a_neighbour(fake_package) -> None:
    fake_package("_fp_h", "def used(x): return x + 1\ndef other(x): return 0\n")
    step = fake_package("_fp_s", "from insats.tasks._fp_h import used\ndef step(x): return used(x)\n")
    before = function_fingerprint(step.step)
    fake_package("_fp_h", "def used(x): return x + 1\ndef other(x): return 42\n")
    step = fake_package("_fp_s", "from insats.tasks._fp_h import used\ndef step(x): return used(x)\n")
    assert function_fingerprint(step.step) == before
    fake_package("_fp_h", "def used(x): return x + 2\ndef other(x): return 42\n")
    step = fake_package("_fp_s", "from insats.tasks._fp_h import used\ndef step(x): return used(x)\n")
    assert function_fingerprint(step.step) != before


def test_study_three_panel_does_not_depend_on_the_brief_labels() -> None:
    from insats.tasks.evaluation.panel import build_person_month_panel

    parts = code_parts(build_person_month_panel)
    assert any(k.startswith("insats.tasks.evaluation.panel.") for k in parts)
    assert not any(k.startswith("insats.tasks.reporting") for k in parts)


_EVERY_TASK = """
import importlib, json, pkgutil
import insats.flows
from prefect import Task
from insats.fingerprint import function_fingerprint
keys = {}
for info in pkgutil.iter_modules(insats.flows.__path__, "insats.flows."):
    module = importlib.import_module(info.name)
    for name, value in vars(module).items():
        if isinstance(value, Task):
            keys[f"{info.name}.{name}"] = function_fingerprint(value.fn)
print(json.dumps(keys, sort_keys=True))
"""


def test_fingerprint_is_the_same_in_every_process() -> None:
    """Every task's code key (nodes and the publish gate) is the same in a new process: no memory address or
    hash-seeded ordering may enter it, or every run recomputes the whole chain."""
    import json
    import os
    import subprocess
    import sys

    def start(seed: str) -> subprocess.Popen[str]:
        env = {**os.environ, "PYTHONHASHSEED": seed}
        return subprocess.Popen([sys.executable, "-c", _EVERY_TASK], stdout=subprocess.PIPE, text=True, env=env)

    def keys(proc: subprocess.Popen[str]) -> dict[str, str]:
        out, _ = proc.communicate(timeout=300)
        assert proc.returncode == 0, out
        return json.loads(out.strip().splitlines()[-1])

    runs = [start("1"), start("2")]  # side by side: each imports every flow module
    first, second = (keys(p) for p in runs)
    assert "insats.flows.steps.publish_study" in first
    assert len(first) > 20
    changed = sorted(k for k in first if first[k] != second.get(k))
    assert not changed, f"code keys differ between processes: {changed}"
