"""Large .sav/.dta extracts are read in row ranges; the frame is the one a whole-file read gives."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pyreadstat
import pytest

from insats.tasks.register import readers


@pytest.mark.parametrize("suffix", [".sav", ".dta"])
def test_reading_in_row_ranges_gives_the_whole_file_frame(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, suffix: str
) -> None:
    n = 23  # not a multiple of the chunk size: the last range is short
    frame = pd.DataFrame(
        {
            "personnummer": [f"1985061{i % 10}-12{i:02d}" for i in range(n)],
            "manad": [202101.0 + (i % 12) for i in range(n)],
            "ort": ["Västerås" if i % 3 else "Åsele" for i in range(n)],  # å ä ö survive every chunk
            "belopp": [None if i == 7 else 100.5 * i for i in range(n)],
            "kon": [1.0 + i % 2 for i in range(n)],
            "startdatum": pd.to_datetime([f"2021-{1 + i % 12:02d}-{1 + i:02d}" for i in range(n)]),
        }
    )
    path = tmp_path / f"extract{suffix}"
    (pyreadstat.write_sav if suffix == ".sav" else pyreadstat.write_dta)(frame, str(path))
    whole = readers.read_extract(path)
    monkeypatch.setattr(readers, "CHUNKED_READ_BYTES", 0)
    monkeypatch.setattr(readers, "STAT_CHUNK_ROWS", 5)
    chunked = readers.read_extract(path)
    pd.testing.assert_frame_equal(chunked, whole, check_exact=True)
    assert chunked["kon"].dtype == "Int64" and chunked["ort"].iloc[0] == "Åsele"
    assert chunked["startdatum"].dtype.kind == "M" and len(chunked) == n
