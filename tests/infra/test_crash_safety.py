"""A run killed at any point of publishing leaves a state the next run repairs; one run per data tree."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from insats.locking import DataTreeBusy, data_tree_lock
from insats.storage import COMPLETE, publish_folder, recover_publications


def _publish(target: Path, text: str) -> None:
    publish_folder(target, lambda staging: (staging / "table.txt").write_text(text, encoding="utf-8"))


def test_kill_between_the_two_renames_restores_the_new_publication(tmp_path: Path) -> None:
    target = tmp_path / "study"
    _publish(target, "old")
    # the state after `os.replace(target, old)` and before `os.replace(staging, target)`:
    old, staging = tmp_path / ".study.old-1", tmp_path / ".study.staging-1"
    os.replace(target, old)
    staging.mkdir()
    (staging / "table.txt").write_text("new", encoding="utf-8")
    (staging / COMPLETE).touch()
    actions = recover_publications(tmp_path)
    assert (target / "table.txt").read_text(encoding="utf-8") == "new"
    assert not old.exists() and not staging.exists() and not (target / COMPLETE).exists()
    assert any("restored" in a for a in actions)


def test_half_filled_staging_is_removed_and_the_old_folder_comes_back(tmp_path: Path) -> None:
    target = tmp_path / "study"
    _publish(target, "old")
    os.replace(target, tmp_path / ".study.old-2")
    half = tmp_path / ".study.staging-2"
    half.mkdir()
    (half / "table.txt").write_text("ne", encoding="utf-8")  # no .complete: the fill was cut short
    recover_publications(tmp_path)
    assert (target / "table.txt").read_text(encoding="utf-8") == "old"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study"]


def test_leftover_staging_beside_an_intact_publication_is_removed(tmp_path: Path) -> None:
    target = tmp_path / "study"
    _publish(target, "kept")
    (tmp_path / ".study.staging-3").mkdir()
    recover_publications(tmp_path)
    assert (target / "table.txt").read_text(encoding="utf-8") == "kept"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["study"]


def test_a_second_run_on_the_same_data_tree_is_refused_with_the_holder(tmp_path: Path) -> None:
    interim = tmp_path / "data" / "interim"
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            textwrap.dedent(
                f"""
                import sys, time
                from insats.locking import data_tree_lock
                with data_tree_lock({str(interim)!r}):
                    print("locked", flush=True)
                    time.sleep(30)
                """
            ),
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "locked"
        with pytest.raises(DataTreeBusy, match=rf"pid {holder.pid}.*INSATS_LOCK_WAIT_SECONDS"), data_tree_lock(interim):
            pass
        holder.kill()  # a killed holder releases the lock with its process
        holder.wait()
        with data_tree_lock(interim, wait_seconds=5):
            pass
    finally:
        holder.kill()
