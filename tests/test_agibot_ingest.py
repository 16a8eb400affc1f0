"""synth agibot -> ingest agibot -> info: every field round-trips, against the generator's files and truth."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import h5py
import numpy as np
import pytest

from goalframe.media.video import iter_frames
from goalframe.sim.agibot.synth import synthesize_agibot
from goalframe.sources import agibot
from goalframe.storage import open_dataset


def goalframe(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "goalframe.toolkit.cli", *args], capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path]:
    base = tmp_path_factory.mktemp("agibot")
    raw, out = base / "raw", base / "ds.zarr"
    synthesize_agibot(raw, episodes=2, seed=3, frames_per_object=40, n_objects=1)
    result = goalframe("ingest", "agibot", str(raw), "--out", str(out), "--workers", "2")
    assert result.returncode == 0, result.stderr
    return raw, out


def h5_datasets(path: Path) -> dict[str, np.ndarray]:
    found: dict[str, np.ndarray] = {}
    with h5py.File(path) as h5:
        h5.visititems(
            lambda name, node: found.__setitem__(name, node[()]) if isinstance(node, h5py.Dataset) else None
        )
    return found


def test_every_state_and_action_round_trips(built):
    raw, out = built
    ds = open_dataset(out)
    refs = agibot.discover(raw)
    assert ds.episodes == sorted(ref.episode_id for ref in refs)
    for ref in refs:
        episode = ref.episode_id
        stored = set(ds.array_names(episode))
        datasets = h5_datasets(ref.h5)
        np.testing.assert_array_equal(ds.array(episode, "timestamps"), datasets["timestamp"])
        for name, values in datasets.items():
            group, _, rest = name.partition("/")
            if group == "state":
                if values.size == 0:
                    assert f"states/{rest}" not in stored, "empty (0,) datasets are skipped"
                    assert name in ds.meta(episode).source["empty_datasets"]
                else:
                    np.testing.assert_array_equal(ds.array(episode, f"states/{rest}"), values)
            elif group == "action" and not rest.endswith("/index"):
                action_group = rest.rsplit("/", 1)[0]
                index = datasets[f"action/{action_group}/index"]
                filled = ds.array(episode, f"actions/{action_group}/filled")
                commanded = ds.array(episode, f"actions/{action_group}/commanded")
                if len(values) == ds.length(
                    episode
                ):  # a row per frame: as recorded, the index kept as a mask
                    np.testing.assert_array_equal(ds.array(episode, f"actions/{rest}"), values)
                    assert not filled.any() and np.array_equal(np.flatnonzero(commanded), index)
                    continue
                if not len(index):  # the known quirk: an empty end index means the joint index
                    index = datasets["action/joint/index"]
                np.testing.assert_array_equal(ds.array(episode, f"actions/{rest}")[index], values)
                assert not filled[index].any() and filled.sum() == ds.length(episode) - len(index)


def test_every_camera_is_stored_with_every_frame(built):
    raw, out = built
    ds = open_dataset(out)
    for ref in agibot.discover(raw):
        episode = ref.episode_id
        assert sorted(ds.cameras(episode)) == ["hand_left_color", "hand_right_color", "head_color"]
        for camera in ds.cameras(episode):
            frames = ds.read_frames(episode, 0, ds.length(episode), camera)
            decoded = np.stack(list(iter_frames(ref.videos_dir / f"{camera}.mp4")))
            assert frames.shape == decoded.shape == (ds.length(episode), 480, 640, 3)
            assert np.abs(frames.astype(np.int16) - decoded).mean() < 4.0


def test_task_info_segments_and_camera_parameters_round_trip(built):
    raw, out = built
    ds = open_dataset(out)
    for ref in agibot.discover(raw):
        episode = ref.episode_id
        truth = json.loads((raw / "truth" / f"{episode}.json").read_text())
        starts = ds.array(episode, "segments/start_frame").tolist()
        ends = ds.array(episode, "segments/end_frame").tolist()
        assert list(zip(starts, ends)) == [(s["start_frame"], s["end_frame"]) for s in truth["segments"]]
        task = ds.meta(episode).source["task"]
        assert task["episode_id"] == int(ref.raw_episode_id)
        for camera in ("head_color", "hand_left_color", "hand_right_color"):
            prefix = camera.removesuffix("_color")  # head_color.mp4 <-> head_*_params.json
            params = json.loads((ref.camera_dir / f"{prefix}_extrinsic_params_aligned.json").read_text())
            rotation = np.array([p["extrinsic"]["rotation_matrix"] for p in params])
            np.testing.assert_allclose(ds.array(episode, f"cameras/{camera}/rotation"), rotation)
            intrinsic = json.loads((ref.camera_dir / f"{prefix}_intrinsic_params.json").read_text())[
                "intrinsic"
            ]
            assert ds.meta(episode).source["cameras"][camera]["intrinsic"] == intrinsic


def test_info_reports_the_cameras_and_a_corrupt_episode_fails_alone(built, tmp_path):
    raw, out = built
    summary = json.loads(goalframe("info", str(out), "--json").stdout)
    assert summary["formats"] == ["agibot"] and len(summary["cameras"]) == 3
    assert summary["effectors"] == {"gripper": 2}
    # the generator's head and waist never move: their actions are the state, and info says so
    assert all({"head/position", "waist/position"} <= set(v) for v in summary["actions_equal_state"].values())
    assert "actions that copy the state" in goalframe("info", str(out)).stdout
    # a corrupt mp4 in one of two fresh episodes: one line naming it, the other lands
    raw2 = tmp_path / "raw"
    synthesize_agibot(raw2, episodes=2, seed=5, frames_per_object=36, n_objects=1)
    bad = agibot.discover(raw2)[0].videos_dir / "hand_left_color.mp4"
    bad.write_bytes(b"\x00" * 1000)
    result = goalframe("ingest", "agibot", str(raw2), "--out", str(tmp_path / "ds.zarr"))
    assert result.returncode == 1
    assert str(bad) in result.stderr
    assert len(open_dataset(tmp_path / "ds.zarr").episodes) == 1
