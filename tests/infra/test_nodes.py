"""Nodes: pure functions made into content-cached tasks that load paths and save outputs by name."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from insats.flows.nodes import _named_results, _target, node


def scale(frame: pd.DataFrame, factor: int) -> pd.DataFrame:
    return frame.assign(x=frame["x"] * factor)


def test_outputs_are_named_and_typed(tmp_path: Path) -> None:
    assert _target(tmp_path, "panel", "", pd.DataFrame()) == tmp_path / "panel.parquet"
    assert _target(tmp_path, "love", "INS01", b"png") == tmp_path / "love_INS01.png"
    assert _target(tmp_path, "project.qdpx", "", b"zip") == tmp_path / "project.qdpx"
    assert _named_results(scale, ("a", "b"), (1, 2)) == {"a": 1, "b": 2}
    with pytest.raises(KeyError, match="returned no b"):
        _named_results(scale, ("a", "b"), {"a": 1})


@pytest.mark.slow
def test_cache_hit_miss_and_recompute_after_deletion(prefect_harness: None, tmp_path: Path) -> None:
    """Runs a real flow on the session's Prefect test API."""
    from prefect import flow

    scaled = node(scale, "scaled")
    calls: list[str] = []

    @flow
    def chain(src: str, factor: int) -> tuple[Path, str]:
        fut = scaled.submit(frame=src, factor=factor, out_dir=str(tmp_path / "out"))
        out = fut.result()
        calls.append(fut.state.name)
        return out

    src = tmp_path / "in.parquet"
    pd.DataFrame({"x": [1, 2]}).to_parquet(src)
    out = chain(str(src), 3)
    assert pd.read_parquet(out)["x"].tolist() == [3, 6]
    chain(str(src), 3)
    out.unlink()
    chain(str(src), 3)
    assert out.is_file()
    pd.DataFrame({"x": [5]}).to_parquet(src)
    chain(str(src), 3)
    assert pd.read_parquet(out)["x"].tolist() == [15]
    assert calls == ["Completed", "Cached", "Completed", "Completed"]


def test_a_columns_annotation_loads_only_those_columns_and_keys_on_the_whole_file(tmp_path: Path) -> None:
    """``Annotated[pd.DataFrame, Columns(...)]`` (person_links' parameters) reads one column of each file, while
    the cache key still hashes the whole file: a change in a column not read re-runs the node."""
    from insats.flows.nodes import _loader
    from insats.loading import PersonIds
    from insats.tasks.register.ingest import person_links

    src = tmp_path / "outcomes.parquet"
    pd.DataFrame({"person_id": ["a", "b"], "employed": [0, 1]}).to_parquet(src)
    assert list(_loader(PersonIds)(src).columns) == ["person_id"]
    assert list(_loader(dict[str, PersonIds])({"outcomes": src})["outcomes"].columns) == ["person_id"]
    assert list(_loader(PersonIds | None)(src).columns) == ["person_id"]
    assert list(_loader(pd.DataFrame)(src).columns) == ["person_id", "employed"]

    links = node(person_links, "person_links")
    assert links.cache_policy.files == ("persons", "tables")
    inputs = {"persons": str(src), "tables": {"outcomes": str(src)}, "out_dir": "x", "tag": ""}
    before = links.cache_policy.key_for("person_links", inputs)
    pd.DataFrame({"person_id": ["a", "b"], "employed": [1, 1]}).to_parquet(src)
    assert links.cache_policy.key_for("person_links", inputs) != before
