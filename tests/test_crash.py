"""Crash safety: `goalframe ingest` killed with SIGKILL part-way, then re-run, equals an
uninterrupted build; readers never see a partial episode, not even while the writer runs.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from dataset_compare import assert_same_dataset, assert_same_episode, check, goalframe

from goalframe.schemas.layout import DatasetError
from goalframe.sim.vpt.synth import synthesize_vpt
from goalframe.storage import open_dataset
from goalframe.storage.verify import verify_dataset

EPISODES = 5


@pytest.fixture(scope="module")
def raw(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("crash") / "raw"
    # 144 frames: after its first 64-frame shard an episode still has 80 frames to encode, a window the
    # mid-episode kill points can hit even on a busy machine
    synthesize_vpt(out, episodes=EPISODES, seed=31, frames=144, quirk_rate=0.0)
    return out


@pytest.fixture(scope="module")
def reference(raw, tmp_path_factory) -> str:
    out = str(tmp_path_factory.mktemp("crash-ref") / "ref.zarr")
    check(goalframe("ingest", "vpt", str(raw), "--out", out, "--workers", "1"))
    return out


def _episode_dirs(out: Path) -> dict[str, bool]:
    """{episode folder: has complete = true}, straight from the files (no zarr)."""
    found = {}
    folder = out / "episodes"
    if not folder.is_dir():
        return found
    for entry in folder.iterdir():
        if not entry.is_dir():
            continue
        try:
            attrs = json.loads((entry / "zarr.json").read_text()).get("attributes", {})
        except (OSError, ValueError):
            attrs = {}
        found[entry.name] = attrs.get("complete") is True
    return found


def _has_frame_shards(out: Path, episode: str) -> bool:
    shards = out / "episodes" / episode / "frames" / "pov" / "c"
    return shards.is_dir() and any(p.is_file() for p in shards.rglob("*"))


# Kill points: each says, from what is on disk, when to pull the plug.
def at_root(out: Path, started: float) -> bool:
    return (out / "zarr.json").exists()


def mid_first_episode(out: Path, started: float) -> bool:
    dirs = _episode_dirs(out)
    return not any(dirs.values()) and any(_has_frame_shards(out, e) for e, done in dirs.items() if not done)


def after_two_complete(out: Path, started: float) -> bool:
    return sum(_episode_dirs(out).values()) >= 2


def mid_later_episode(out: Path, started: float) -> bool:
    dirs = _episode_dirs(out)
    return sum(dirs.values()) >= 1 and any(_has_frame_shards(out, e) for e, done in dirs.items() if not done)


KILL_POINTS = {  # name: (trigger, workers, leaves a partial episode behind)
    "root-created": (at_root, 1, False),
    "mid-first-episode": (mid_first_episode, 1, True),
    "two-complete": (after_two_complete, 2, None),
    "mid-later-episode-2-workers": (mid_later_episode, 2, True),
}


def _live_members(group: int) -> list[int]:
    """Processes of a process group that are still running (zombies do not count)."""
    pids = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            text = stat.read_text()
        except OSError:
            continue
        fields = text.rsplit(")", 1)[-1].split()
        if len(fields) > 2 and int(fields[2]) == group and fields[0] != "Z":
            pids.append(int(stat.parent.name))
    return pids


def _check_visible(reference, out: Path, checked: set[str]) -> None:
    """Every episode a reader lists is whole: its metadata, every array, and its last frames
    (a partial episode would lack those first) equal the reference. Quick, so the reader
    keeps up with the writer; the full frame comparison comes after the kill."""
    if not (out / "zarr.json").exists():
        return
    try:
        ds = open_dataset(out)
    except DatasetError:
        return  # the root is being created right now
    for episode in ds.episodes:
        if episode not in checked:
            assert_same_episode(reference, ds, episode, frames=False)
            n = ds.length(episode)
            np.testing.assert_array_equal(
                ds.read_frames(episode, n - 2, n), reference.read_frames(episode, n - 2, n)
            )
            checked.add(episode)


def _run_until(raw: Path, out: Path, workers: int, trigger, reference) -> tuple[bool, int]:
    """Start an ingest, watch it as a reader, SIGKILL it when ``trigger`` says so."""
    command = [
        sys.executable,
        "-m",
        "goalframe.toolkit.cli",
        "ingest",
        "vpt",
        str(raw),
        "--out",
        str(out),
        "--workers",
        str(workers),
    ]
    process = subprocess.Popen(
        command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
    )
    started, killed, checked = time.monotonic(), False, set()
    try:
        while process.poll() is None and time.monotonic() - started < 120:
            if trigger(out, started):
                os.kill(process.pid, signal.SIGKILL)  # the driver only: its pool workers must die with it
                killed = True
                break
            _check_visible(reference, out, checked)
            time.sleep(0.01)
        process.wait(timeout=30)
        # Nothing of the killed build keeps writing (pool workers die with the driver).
        deadline = time.monotonic() + 15
        while _live_members(process.pid) and time.monotonic() < deadline:
            time.sleep(0.1)
        survivors = _live_members(process.pid)
        assert not survivors, f"processes of the killed build still running: {survivors}"
    finally:
        for pid in _live_members(process.pid):  # only ever our own build's processes
            os.kill(pid, signal.SIGKILL)
    return killed, process.returncode


@pytest.mark.timeout(300)
@pytest.mark.parametrize("name", list(KILL_POINTS))
def test_a_killed_build_resumes_to_the_uninterrupted_result(raw, reference, tmp_path, name):
    ref = open_dataset(reference)
    trigger, workers, leaves_partial = KILL_POINTS[name]
    out = tmp_path / f"{name}.zarr"
    killed, _code = _run_until(raw, out, workers, trigger, ref)
    assert killed, f"{name}: the build finished before its kill point"
    after_kill = _episode_dirs(out)
    if leaves_partial is not None:
        assert any(not done for done in after_kill.values()) == leaves_partial, after_kill
    # Right after the kill: readers list exactly the complete episodes, each whole.
    if (out / "zarr.json").exists():
        ds = open_dataset(out)
        assert set(ds.episodes) == {e for e, done in after_kill.items() if done}
        for episode in ds.episodes:
            assert_same_episode(ref, ds, episode)
    # The re-run (watched by a reader too) completes the dataset as if nothing happened.
    killed, code = _run_until(raw, out, 2, lambda _out, _started: False, ref)
    assert not killed and code == 0
    assert_same_dataset(reference, str(out))
    assert sum(_episode_dirs(out).values()) == EPISODES
    report = verify_dataset(str(out))
    assert report.ok, [d.line() for d in report.damage]
    assert not report.notes, report.notes
