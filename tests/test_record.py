"""The typed dataset record: feature schema, step log table, typed tracks, old records still open."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import simple_source
import zarr

from goalframe.schemas.features import Feature, merge_features
from goalframe.schemas.tracks import TrackMeta
from goalframe.storage import ingest, open_dataset
from goalframe.storage.masks import MaskTrack, track_row, write_track
from goalframe.storage.store import new_step, open_root, read_info, record_step
from goalframe.storage.summary import dataset_summary


@pytest.fixture(scope="module")
def dataset(tmp_path_factory) -> Path:
    raw = tmp_path_factory.mktemp("record") / "raw"
    for i, n in enumerate((40, 30)):
        simple_source.write_simple_episode(raw, f"ep{i}", i, n)
    out = raw.parent / "ds.zarr"
    ingest(str(out), simple_source.discover(raw), simple_source.read, "simple")
    return out


def _attrs(dataset: Path) -> dict:
    return json.loads((dataset / "zarr.json").read_text())["attributes"]


def test_ingest_writes_the_feature_schema_into_the_root_record(dataset):
    features = {path: Feature.model_validate(f) for path, f in _attrs(dataset)["features"].items()}
    assert features["frames/main"] == Feature(
        dtype="uint8", shape=[72, 128, 3], names=["height", "width", "channel"], codec="av1"
    )
    assert (
        features["actions/move"].dtype == "float32"
        and features["actions/move"].shape == [2]
        and features["actions/move"].unit == "m/s"
    )
    assert features["timestamps"].unit == "ns" and features["timestamps"].per_frame
    assert features["states/label"].dtype == "string"


def test_features_merge_to_what_episodes_share():
    a = Feature(dtype="int32", shape=[3], names=["x", "y", "z"], unit="m")
    b = Feature(dtype="int32", shape=[4], names=["w", "x", "y", "z"], unit="m")
    merged = merge_features({"p": a}, {"p": b, "q": a})
    assert merged["p"] == Feature(dtype="int32", shape=[None], names=None, unit="m") and merged["q"] == a


def test_the_step_log_is_a_table_and_the_root_keeps_the_newest_run_of_each_step(dataset):
    root = open_root(str(dataset), "r+")
    for window in (3, 4):
        record_step(root, new_step("masks", {"window": window}, "t0", "t1", {}))
    assert (dataset / "tables" / "steps.parquet").exists() and (
        dataset / "tables" / "steps.parquet.sha256"
    ).exists()
    steps = read_info(open_root(str(dataset))).steps
    assert [s.step for s in steps] == ["ingest-simple", "masks", "masks"] and steps[-1].params == {
        "window": 4
    }
    assert [(s["step"], s["params"].get("window")) for s in _attrs(dataset)["steps"]] == [
        ("ingest-simple", None),
        ("masks", 4),
    ]
    assert "steps" not in open_dataset(dataset).tables, "the step log is part of the record, not a data table"


def test_info_comes_from_the_record(dataset):
    summary = dataset_summary(open_dataset(dataset))
    assert summary["episodes"] == 2 and summary["frames"] == 70 and summary["cameras"] == ["main"]
    assert summary["arrays_of"] == "ep0" and summary["arrays"]["actions/move"]["shape"] == [40, 2]
    assert summary["features"]["frames/main"]["codec"] == "av1"


def test_a_dataset_with_the_old_style_record_still_opens(dataset, tmp_path):
    """Before the record: the whole step log in the root attrs, no features, no steps table,
    manifest without the reader's extras."""
    import shutil

    import polars as pl

    old = tmp_path / "old.zarr"
    shutil.copytree(dataset, old)
    full_log = [s.model_dump() for s in read_info(open_root(str(old))).steps]
    for name in ("steps.parquet", "steps.parquet.sha256", "manifest.parquet.sha256"):
        (old / "tables" / name).unlink()
    manifest = pl.read_parquet(old / "tables" / "manifest.parquet").drop("effector", "actions_copying_state")
    manifest.write_parquet(old / "tables" / "manifest.parquet")
    group = zarr.open_group(str(old), mode="r+")
    attrs = dict(group.attrs)
    attrs.pop("features")
    attrs["steps"] = full_log
    group.attrs.clear()
    group.attrs.update(attrs)

    ds = open_dataset(old)
    assert [s.step for s in ds.info.steps] == [s["step"] for s in full_log] and ds.info.features == {}
    summary = dataset_summary(ds)
    assert (
        summary["episodes"] == 2
        and summary["arrays"]["actions/move"]["shape"] == [40, 2]
        and summary["features"] == {}
    )
    record_step(open_root(str(old), "r+"), new_step("events", {}, "t0", "t1", {}))
    assert [s.step for s in open_dataset(old).info.steps] == [s["step"] for s in full_log] + ["events"], (
        "the old log moves into the table"
    )


def test_track_attrs_are_typed_and_keep_unknown_keys(dataset, tmp_path):
    root = open_root(str(dataset), "r+")
    masks = np.zeros((2, 8, 8), bool)
    masks[:, 2:4, 2:4] = True
    meta = TrackMeta(
        event_id="ep0:00001",
        camera="main",
        annotator="classical",
        annotator_version="1",
        event_frame=5,
        window=2,
    )
    write_track(
        root, "ep0", "t0", MaskTrack.from_masks([4, 5], masks), meta.model_dump() | {"target": [1.0, 2.0]}
    )
    stored = TrackMeta.model_validate(dict(root["masks/ep0/t0"].attrs))
    assert (
        stored.complete
        and stored.kind == "automatic"
        and stored.event_frame == 5
        and stored.model_extra == {"target": [1.0, 2.0]}
    )
    row = track_row(root, "ep0", "t0")
    assert (row["event_id"], row["camera"], row["start_frame"], row["stop_frame"]) == (
        "ep0:00001",
        "main",
        4,
        6,
    )
