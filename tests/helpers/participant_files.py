"""The demo status ladder and small participant files shared by the tests in tests/tasks/participants."""

from __future__ import annotations

from pathlib import Path

from insats.demo.participants import LADDER
from insats.tasks.participants.ladder import ladder_from_dict

LAD = ladder_from_dict(LADDER)


def _write(path: Path, rows: list[str]) -> Path:
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    return path


PEOPLE_HEADER = "participant_id;project;gender;birth_year;start_date;end_date;exit_status;goal"


def _people(tmp_path: Path, *rows: str) -> Path:
    return _write(tmp_path / "deltagare.csv", [PEOPLE_HEADER, *rows])
