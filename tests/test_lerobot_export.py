"""``goalframe export lerobot``: generated datasets exported with LeRobot's own writer and read back
with the real ``lerobot`` LeRobotDataset in its own environment (.venv-lerobot: lerobot 0.6.1
needs Python >= 3.12 and torch < 2.12), compared with what goalframe reads from the same datasets.

The environment is ``$GOALFRAME_LEROBOT_PYTHON`` or ``.venv-lerobot/bin/python`` (``make
lerobot-env``; ``make test`` builds it): missing, the round trip fails in CI and is skipped elsewhere.
"""

from __future__ import annotations

import importlib.util
import json
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from goalframe.pipeline.chain import build
from goalframe.pipeline.prepare import prepare_vpt
from goalframe.sampling.lowdim import episode_lowdim
from goalframe.schemas.vectors import AGIBOT_ACTION_NAMES, AGIBOT_STATE_NAMES
from goalframe.sim.agibot.synth import synthesize_agibot
from goalframe.storage import open_dataset

ROOT = Path(__file__).resolve().parent.parent
LOAD_SCRIPT = Path(__file__).with_name("lerobot_load.py")
PSNR_FLOOR = 30.0  # dB, LeRobot's default AV1 (crf 30) against goalframe's stored frames


def lerobot_python() -> Path:
    path = Path(os.environ.get("GOALFRAME_LEROBOT_PYTHON") or ROOT / ".venv-lerobot" / "bin" / "python")
    if not path.exists():
        message = f"no LeRobot environment at {path}: run `make lerobot-env`"
        if os.environ.get("CI"):
            pytest.fail(message)
        pytest.skip(message)
    return path


def run_in_lerobot(python: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    return subprocess.run([str(python), *args], capture_output=True, text=True, env=env, timeout=600)


def psnr(a: np.ndarray, b: np.ndarray) -> float:
    mse = np.mean((a.astype(np.float64) - b.astype(np.float64)) ** 2)
    return float("inf") if mse == 0 else 10 * np.log10(255.0**2 / mse)


def sample_indices(lengths: list[int]) -> list[int]:
    """First, middle and last frame of every episode (episode boundaries included)."""
    starts = np.cumsum([0, *lengths[:-1]])
    return sorted({int(s + f) for s, n in zip(starts, lengths) for f in (0, n // 2, n - 1)})


@pytest.fixture(scope="module")
def exported(tmp_path_factory) -> dict:
    """Both generated datasets exported through the CLI and loaded by LeRobotDataset."""
    python = lerobot_python()
    base = tmp_path_factory.mktemp("lerobot")
    # AgiBot: 2 episodes of one pick-and-place each (3 cameras, 2 task texts); VPT with truth masks
    synthesize_agibot(base / "raw-agibot", episodes=2, seed=1, frames_per_object=40, n_objects=1)
    build(base / "raw-agibot", str(base / "agibot.zarr"), "agibot", ["ingest", "events"], workers=1)
    datasets = {"agibot": str(base / "agibot.zarr"), "vpt": prepare_vpt(base, episodes=2, frames=60).dataset}
    specs, summaries = [], {}
    for name, dataset in datasets.items():
        out = base / f"{name}-lerobot"
        result = run_in_lerobot(
            python, "-m", "goalframe.toolkit.cli", "export", "lerobot", dataset, str(out), "--json"
        )
        assert result.returncode == 0, result.stderr[-3000:]
        summaries[name] = json.loads(result.stdout)
        lengths = list(open_dataset(dataset).lengths.values())
        specs.append(
            {
                "root": str(out),
                "repo_id": "local/" + name,
                "npz": str(base / f"{name}.npz"),
                "indices": sample_indices(lengths),
            }  # fmt: skip
        )
    result = run_in_lerobot(python, str(LOAD_SCRIPT), json.dumps(specs))
    assert result.returncode == 0, result.stderr[-3000:]
    reports = [json.loads(line) for line in result.stdout.splitlines() if line.startswith("{")]
    return {
        name: {
            "dataset": datasets[name],
            "summary": summaries[name],
            "spec": spec,
            "report": report,
            "columns": dict(np.load(spec["npz"])),
        }
        for name, spec, report in zip(datasets, specs, reports)
    }


def frame_positions(ds) -> list[tuple[str, int]]:
    return [(episode, t) for episode in ds.episodes for t in range(ds.length(episode))]


def check_frames(ds, export: dict, cameras: list[str]) -> None:
    positions = frame_positions(ds)
    for camera in cameras:
        decoded = export["columns"][f"observation.images.{camera}"]
        stored = np.stack(
            [ds.read_frames(*positions[i], positions[i][1] + 1, camera)[0] for i in export["spec"]["indices"]]
        )
        assert decoded.shape == stored.shape
        assert psnr(decoded, stored) > PSNR_FLOOR, camera


def check_indices(ds, export: dict) -> None:
    columns, report = export["columns"], export["report"]
    lengths = [ds.length(e) for e in ds.episodes]
    assert report["len"] == sum(lengths) and report["num_episodes"] == len(ds.episodes)
    assert report["codebase_version"] == "v3.0" and report["fps"] == ds.meta(ds.episodes[0]).fps
    np.testing.assert_array_equal(columns["episode_index"], np.repeat(np.arange(len(lengths)), lengths))
    np.testing.assert_array_equal(columns["frame_index"], np.concatenate([np.arange(n) for n in lengths]))
    np.testing.assert_array_equal(columns["index"], np.arange(sum(lengths)))
    episodes = pl.read_parquet(Path(export["spec"]["root"]) / "meta" / "goalframe" / "episodes.parquet")
    assert episodes["episode_id"].to_list() == ds.episodes
    assert set(report["stats"]) >= {"observation.state", "action"}
    assert {"mean", "std", "min", "max"} <= set(report["stats"]["action"])


def expected_tasks(ds, episode: str) -> list[str]:
    """Each frame's AgiBot segment text, from the segments arrays the events step reads too."""
    n = ds.length(episode)
    starts = ds.array(episode, "segments/start_frame")
    ends = ds.array(episode, "segments/end_frame")
    texts = ds.array_attrs(episode, "segments/start_frame")["action_text"]
    tasks = [ds.meta(episode).source["task"]["task_name"]] * n
    for start, end, text in zip(starts, ends, texts):
        tasks[start:end] = [text] * (end - start)
    return tasks


def test_agibot_export_loads_in_lerobot_and_matches(exported):
    export = exported["agibot"]
    ds = open_dataset(export["dataset"])
    columns, report = export["columns"], export["report"]
    cameras = ds.meta(ds.episodes[0]).cameras
    assert len(cameras) == 3
    assert {f"observation.images.{c}" for c in cameras} <= set(report["features"])
    assert all(report["features"][f"observation.images.{c}"]["dtype"] == "video" for c in cameras)
    assert report["features"]["observation.state"]["names"] == list(AGIBOT_STATE_NAMES)
    assert report["features"]["action"]["names"] == list(AGIBOT_ACTION_NAMES)
    check_indices(ds, export)
    lowdim = [episode_lowdim(ds, e) for e in ds.episodes]
    np.testing.assert_array_equal(columns["observation.state"], np.concatenate([x["state"] for x in lowdim]))
    np.testing.assert_array_equal(columns["action"], np.concatenate([x["action"] for x in lowdim]))
    tasks = [task for episode in ds.episodes for task in expected_tasks(ds, episode)]
    text_of = {index: text for text, index in report["tasks"].items()}
    assert [text_of[int(i)] for i in columns["task_index"]] == tasks
    assert report["item_tasks"] == [tasks[i] for i in export["spec"]["indices"]]
    check_frames(ds, export, cameras)
    events = ds.table("events")
    positions = {p: i for i, p in enumerate(frame_positions(ds))}
    for episode, frame, name in events.select("episode_id", "frame", "name").iter_rows():
        assert name in str(columns["event"][positions[(episode, frame)]]).split("; ")
    assert sum(bool(text) for text in columns["event"]) == events.select("episode_id", "frame").n_unique()
    assert report["batch_shapes"]["observation.images.head_color"] == [4, 3, 480, 640]


def test_vpt_export_keeps_actions_and_masks(exported):
    export = exported["vpt"]
    ds = open_dataset(export["dataset"])
    columns, report = export["columns"], export["report"]
    check_indices(ds, export)
    lowdim = [episode_lowdim(ds, e) for e in ds.episodes]
    np.testing.assert_array_equal(columns["action"], np.concatenate([x["action"] for x in lowdim]))
    names = report["features"]["action"]["names"]
    assert names[:2] == ["attack", "back"] and names[-2:] == ["camera_bin.pitch", "camera_bin.yaw"]
    check_frames(ds, export, ["pov"])
    # the mask labels: lossless, the k-th track of the episode where its mask is visible
    tracks = pl.read_parquet(Path(export["spec"]["root"]) / "meta" / "goalframe" / "tracks.parquet")
    assert tracks.height == len(ds.track_ids()) and tracks["mask_label"].null_count() == 0
    positions = frame_positions(ds)
    labels = export["columns"]["observation.masks.pov"]
    checked = 0
    for row, index in enumerate(export["spec"]["indices"]):
        episode, frame = positions[index]
        expected = np.zeros(labels.shape[1:3], np.uint8)
        for track_id, label in (
            tracks.filter(pl.col("episode_id") == episode).select("track_id", "mask_label").iter_rows()
        ):
            track = ds.read_track(episode, track_id)
            hit = np.flatnonzero(track.frame_index == frame)
            if len(hit) and track.visible[hit[0]]:
                expected[track.mask[hit[0]]] = label
                checked += 1
        np.testing.assert_array_equal(labels[row, :, :, 0], expected)
    assert checked, "no sampled frame carries a mask: the check would prove nothing"


def goalframe_cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "goalframe.toolkit.cli", *args], capture_output=True, text=True
    )


def test_bad_input_is_one_line(tmp_path):
    missing = goalframe_cli("export", "lerobot", str(tmp_path / "none.zarr"), str(tmp_path / "out"))
    assert missing.returncode == 2 and "none.zarr" in missing.stderr and len(missing.stderr.splitlines()) == 1
    (tmp_path / "taken").mkdir()
    (tmp_path / "taken" / "keep.txt").write_text("mine")
    taken = goalframe_cli("export", "lerobot", str(tmp_path / "none.zarr"), str(tmp_path / "taken"))
    assert taken.returncode == 2 and "already exists" in taken.stderr and len(taken.stderr.splitlines()) == 1
    assert (tmp_path / "taken" / "keep.txt").read_text() == "mine"


@pytest.mark.skipif(importlib.util.find_spec("lerobot") is not None, reason="lerobot is importable here")
def test_without_lerobot_the_error_says_where_to_run_it(tmp_path):
    prepared = prepare_vpt(tmp_path, episodes=1, frames=20, seed=0)
    result = goalframe_cli("export", "lerobot", prepared.dataset, str(tmp_path / "out"))
    assert result.returncode == 2 and len(result.stderr.splitlines()) == 1
    assert "make lerobot-env" in result.stderr and not (tmp_path / "out").exists()
