import pandas as pd
import pytest

from insats.storage import RawDataWriteError, protect_raw, publish_folder, write_parquet, write_text


def test_failed_publish_leaves_earlier_outputs_intact(tmp_path):
    target = tmp_path / "study"
    publish_folder(target, lambda d: write_text("first", d / "table.txt"))

    def half_then_fail(d):
        write_text("second", d / "table.txt")
        raise RuntimeError("gate failed")

    with pytest.raises(RuntimeError, match="gate failed"):
        publish_folder(target, half_then_fail)
    assert (target / "table.txt").read_text(encoding="utf-8") == "first"
    assert [p.name for p in tmp_path.iterdir()] == ["study"]  # no staging or backup folder left behind


def test_parquet_round_trip_keeps_swedish_characters_and_provenance(tmp_path):
    df = pd.DataFrame({"label": ["Svenska språket", "Körkort", "Punktlighet och pålitlighet"]})
    path = write_parquet(df, tmp_path / "t.parquet", metadata={"run": "åäö"})
    pd.testing.assert_frame_equal(pd.read_parquet(path), df)
    import pyarrow.parquet as pq

    assert "åäö" in pq.read_schema(path).metadata[b"insats"].decode()


def test_writes_under_raw_are_refused(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    protect_raw(raw)
    with pytest.raises(RawDataWriteError, match="read-only raw-data folder"):
        write_text("x", raw / "sub" / "file.txt")
    assert not (raw / "sub").exists()


def test_outputs_get_ordinary_file_permissions(tmp_path):
    from insats.storage import FILE_MODE

    path = write_text("x", tmp_path / "report.html")
    assert path.stat().st_mode & 0o777 == FILE_MODE
