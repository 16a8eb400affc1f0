"""The Zarr dataset store: codecs, episode commit, resumable parallel ingest, tables."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import simple_source
import zarr

from goalframe.media.video import iter_frames
from goalframe.schemas.layout import DatasetError
from goalframe.storage import ingest, open_dataset
from goalframe.storage.writer import episode_state


def build_raw(raw: Path, lengths=(70, 65, 130)) -> list[simple_source.SimpleRef]:
    return [simple_source.write_simple_episode(raw, f"ep{i}", i, n) for i, n in enumerate(lengths)]


def decoded(ref: simple_source.SimpleRef) -> np.ndarray:
    return np.stack(list(iter_frames(ref.mp4)))


@pytest.fixture
def raw(tmp_path: Path) -> Path:
    build_raw(tmp_path / "raw")
    return tmp_path / "raw"


def run(raw: Path, out: Path, **kwargs):
    refs = simple_source.discover(raw)
    return ingest(str(out), refs, simple_source.read, "simple", **kwargs)


def test_zstd_frames_are_bit_exact_and_arrays_round_trip(raw, tmp_path):
    report = run(raw, tmp_path / "ds.zarr", codec="zstd")
    assert report.count("written") == 3 and not report.failed
    ds = open_dataset(tmp_path / "ds.zarr")
    assert ds.episodes == ["ep0", "ep1", "ep2"]
    assert ds.lengths == {"ep0": 70, "ep1": 65, "ep2": 130}
    for ref in simple_source.discover(raw):
        np.testing.assert_array_equal(
            ds.read_frames(ref.episode_id, 0, ds.length(ref.episode_id)), decoded(ref)
        )
        np.testing.assert_array_equal(ds.array(ref.episode_id, "actions/move"), np.load(ref.actions))
    assert ds.array_attrs("ep0", "actions/move") == {"unit": "m/s"}
    assert list(ds.array("ep0", "states/label")[:2]) == ["a", "a"]
    assert ds.array("ep0", "timestamps")[1] == 50_000_000


def test_jpeg_frames_are_close_and_windows_are_exact_slices(raw, tmp_path):
    run(raw, tmp_path / "ds.zarr", codec="jpeg")
    ds = open_dataset(tmp_path / "ds.zarr")
    ref = simple_source.discover(raw)[2]
    frames = ds.read_frames("ep2", 0, 130)
    error = np.abs(frames.astype(np.int16) - decoded(ref).astype(np.int16))
    assert error.mean() < 3.0, "JPEG q90 on smooth frames stays within a few grey levels"
    np.testing.assert_array_equal(ds.read_frames("ep2", 60, 70), frames[60:70])  # across a shard edge
    assert ds.meta("ep2").frame_codec == "jpeg"


def test_frames_are_sharded_64_per_file_with_one_frame_chunks(raw, tmp_path):
    run(raw, tmp_path / "ds.zarr", codec="jpeg")
    array = zarr.open_array(str(tmp_path / "ds.zarr" / "episodes" / "ep2" / "frames" / "main"))
    assert array.chunks == (1, 72, 128, 3)
    assert array.shards == (64, 72, 128, 3)
    shard_files = sorted((tmp_path / "ds.zarr" / "episodes" / "ep2" / "frames" / "main" / "c").rglob("*"))
    assert len([p for p in shard_files if p.is_file()]) == 3  # 130 frames -> 3 shards


def test_plain_zarr_reads_jpeg_frames_through_the_entry_point(raw, tmp_path):
    run(raw, tmp_path / "ds.zarr", codec="jpeg")
    path = tmp_path / "ds.zarr" / "episodes" / "ep0" / "frames" / "main"
    code = (
        f"import zarr, sys; assert 'goalframe' not in sys.modules; a = zarr.open_array({str(path)!r});"
        " print(a[5].shape, int(a[5].max()))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.startswith("(72, 128, 3)")
    assert int(output.split()[-1]) > 100


def test_a_failed_episode_is_reported_and_the_others_land(raw, tmp_path):
    (raw / "ep1.npy").unlink()
    report = run(raw, tmp_path / "ds.zarr", workers=2)
    assert [r.status for r in report.results] == ["written", "failed", "written"]
    assert report.failed[0].error == f"{raw / 'ep1.npy'}: actions file is missing"
    ds = open_dataset(tmp_path / "ds.zarr")
    assert ds.episodes == ["ep0", "ep2"]
    assert ds.manifest["episode_id"].to_list() == ["ep0", "ep2"]
    assert episode_state(ds.root, "ep1") == "absent"


def test_rerun_skips_complete_episodes_and_replaces_partial_ones(raw, tmp_path):
    out = tmp_path / "ds.zarr"
    run(raw, out)
    before = open_dataset(out).read_frames("ep0", 0, 10)
    # Simulate a writer killed before its commit: the group is there, `complete` is not.
    group = zarr.open_group(str(out / "episodes" / "ep1"), mode="r+")
    group.attrs.update({"complete": False})
    del group["frames/main"]
    assert open_dataset(out).episodes == ["ep0", "ep2"], "an uncommitted episode is invisible"
    report = run(raw, out)
    assert {r.episode_id: r.status for r in report.results} == {
        "ep0": "skipped",
        "ep1": "written",
        "ep2": "skipped",
    }
    ds = open_dataset(out)
    assert ds.episodes == ["ep0", "ep1", "ep2"]
    np.testing.assert_array_equal(ds.read_frames("ep0", 0, 10), before)
    assert ds.read_frames("ep1", 0, 65).shape == (65, 72, 128, 3)
    assert [s.step for s in ds.info.steps] == ["ingest-simple", "ingest-simple"]


def test_process_pool_build_equals_serial_build(raw, tmp_path):
    run(raw, tmp_path / "serial.zarr", workers=1, codec="zstd")
    run(raw, tmp_path / "pool.zarr", workers=2, codec="zstd")
    serial, pool = open_dataset(tmp_path / "serial.zarr"), open_dataset(tmp_path / "pool.zarr")
    assert serial.episodes == pool.episodes
    for episode in serial.episodes:
        np.testing.assert_array_equal(
            serial.read_frames(episode, 0, serial.length(episode)),
            pool.read_frames(episode, 0, pool.length(episode)),
        )
        np.testing.assert_array_equal(
            serial.array(episode, "actions/move"), pool.array(episode, "actions/move")
        )


def test_an_existing_folder_that_is_not_a_dataset_is_refused_untouched(raw, tmp_path):
    precious = tmp_path / "precious"
    precious.mkdir()
    (precious / "notes.txt").write_text("mine")
    with pytest.raises(DatasetError, match="not a goalframe dataset"):
        run(raw, precious)
    assert [p.name for p in precious.iterdir()] == ["notes.txt"]


def test_reading_outside_an_episode_is_a_clear_error(raw, tmp_path):
    run(raw, tmp_path / "ds.zarr")
    ds = open_dataset(tmp_path / "ds.zarr")
    with pytest.raises(DatasetError, match=r"frames \[60, 80\) outside episode 'ep1' of 65 frames"):
        ds.read_frames("ep1", 60, 80)
    with pytest.raises(DatasetError, match="no camera"):
        ds.read_frames("ep1", 0, 1, camera="left")
    with pytest.raises(DatasetError, match="no complete episode"):
        ds.length("nope")


def test_root_record_says_layout_version(raw, tmp_path):
    run(raw, tmp_path / "ds.zarr")
    attrs = json.loads((tmp_path / "ds.zarr" / "zarr.json").read_text())["attributes"]
    assert attrs["goalframe_layout"] == "1.0"
    assert attrs["steps"][0]["params"]["codec"] == "av1"  # the default frame codec


def test_the_default_frame_codec_is_av1_crf_26_in_16_frame_chunks_with_a_keyframe_every_4(raw, tmp_path):
    run(raw, tmp_path / "ds.zarr")
    ds = open_dataset(tmp_path / "ds.zarr")
    assert ds.meta("ep2").frame_codec == "av1"
    array = zarr.open_array(str(tmp_path / "ds.zarr" / "episodes" / "ep2" / "frames" / "main"))
    assert array.chunks == (16, 72, 128, 3) and array.shards == (64, 72, 128, 3)
    assert {k: array.attrs[k] for k in ("codec", "chunk_frames", "crf", "gop")} == {
        "codec": "av1",
        "chunk_frames": 16,
        "crf": 26,
        "gop": 4,
    }
    ref = simple_source.discover(raw)[2]
    error = np.abs(ds.read_frames("ep2", 0, 130).astype(np.int16) - decoded(ref).astype(np.int16))
    assert error.mean() < 3.0, "AV1 crf 26 on smooth frames stays within a few grey levels"
