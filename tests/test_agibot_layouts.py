"""Every AgiBot layout variant the generator writes goes through ingest -> events -> masks -> pairs -> msth.

The five fixed variants (``goalframe.sim.agibot.recorder.FIXED_LAYOUTS``): the usual Beta layout (a row per
frame, shorter joint/end indexes), the rarer short actions with an empty end index, actions
that copy the state with single-frame extrinsics in the ``camera/`` folder, unaligned
extrinsics only, and a dexterous-hand episode.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl
import pytest

from goalframe.schemas.vectors import AGIBOT_ACTION_NAMES, AGIBOT_STATE_NAMES, VectorLayoutError
from goalframe.sim.agibot.recorder import FIXED_LAYOUTS
from goalframe.sim.agibot.synth import synthesize_agibot
from goalframe.sources import agibot
from goalframe.storage import open_dataset

EPISODES = len(FIXED_LAYOUTS)


def goalframe(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "goalframe.toolkit.cli", *args], capture_output=True, text=True
    )


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> tuple[Path, Path, dict]:
    base = tmp_path_factory.mktemp("agibot-layouts")
    raw, out = base / "raw", base / "ds.zarr"
    synthesize_agibot(raw, episodes=EPISODES, seed=11, frames_per_object=40, n_objects=1)
    result = goalframe(
        "build",
        str(raw),
        "--format",
        "agibot",
        "--out",
        str(out),
        "--window",
        "24",
        "--horizon",
        "30",
        "--near",
        "9",
        "--stride",
        "3",
        "--distal",
        "3",
        "--json",
    )
    assert result.returncode == 0, result.stderr
    truth = {
        ref.episode_id: json.loads((raw / "truth" / f"{ref.episode_id}.json").read_text())
        for ref in agibot.discover(raw)
    }
    return raw, out, truth


def _by_layout(truth: dict) -> dict[str, str]:
    """A short name of each episode's variant -> episode id."""
    names = {}
    for episode, record in truth.items():
        layout = record["layout"]
        if layout["effector"] == "dexhand":
            names["dexhand"] = episode
        elif layout["actions"] == "sparse":
            names["sparse"] = episode
        elif layout["copies_state"]:
            names["copies_state"] = episode
        elif layout["extrinsics"] == "unaligned":
            names["unaligned"] = episode
        else:
            names["beta"] = episode
    return names


def test_every_variant_is_generated_and_ingested_with_linked_cameras(built) -> None:
    raw, out, truth = built
    variants = _by_layout(truth)
    assert set(variants) == {"beta", "sparse", "copies_state", "unaligned", "dexhand"}
    ds = open_dataset(out)
    assert sorted(ds.episodes) == sorted(truth)
    for episode in ds.episodes:
        source = ds.meta(episode).source
        cameras = [c for c in ds.cameras(episode)]
        assert len(cameras) == 3
        for camera in cameras:  # every video camera has its parameters, under the prefix name
            assert (
                source["cameras"][camera]["has_intrinsics"] and source["cameras"][camera]["has_extrinsics"]
            ), (episode, camera)
            assert ds.array(episode, f"cameras/{camera}/rotation").shape == (ds.length(episode), 3, 3)
    assert ds.meta(variants["copies_state"]).source["actions_equal_state"]["joint/position"] is True
    assert ds.meta(variants["beta"]).source["actions_equal_state"]["joint/position"] is False
    assert ds.meta(variants["dexhand"]).source["effector"]["type"] == "dexhand"
    assert "hand_left_fisheye_color" in ds.cameras(variants["dexhand"])
    commanded = ds.array(variants["beta"], "actions/joint/commanded")
    assert 0 < commanded.sum() < len(commanded)
    assert ds.array(variants["sparse"], "actions/end/filled").any()


def test_events_find_every_grasp_with_prompts_and_dexhand_gives_segments(built) -> None:
    raw, out, truth = built
    variants = _by_layout(truth)
    events = pl.read_parquet(out / "tables" / "events.parquet")
    for name, episode in variants.items():
        rows = events.filter(pl.col("episode_id") == episode)
        segments = rows.filter(pl.col("kind") == "segment")
        assert segments.height == len(truth[episode]["segments"]), name
        gripper = rows.filter(pl.col("kind").is_in(["grasp", "release"]) & (pl.col("camera") == "head_color"))
        if name == "dexhand":
            assert gripper.height == 0
            continue
        true_frames = sorted(e["frame"] for e in truth[episode]["events"])
        found = sorted(gripper["frame"].to_list())
        assert len(found) == len(true_frames) and all(abs(a - b) <= 1 for a, b in zip(found, true_frames)), (
            name
        )
        assert gripper["prompt_visible"].all(), name  # the cameras are linked, so every grasp has a point


def test_masks_pairs_and_msth_cover_the_variants(built) -> None:
    raw, out, truth = built
    variants = _by_layout(truth)
    tracks = pl.read_parquet(out / "tables" / "tracks.parquet")
    for name in ("beta", "sparse", "copies_state", "unaligned"):
        assert tracks.filter(pl.col("episode_id") == variants[name]).height > 0, name
    pairs = pl.read_parquet(out / "tables" / "pairs.parquet")
    assert pairs.height > 0
    msth = pl.read_parquet(out / "tables" / "msth.parquet")
    assert set(msth["episode_id"].unique().to_list()) == set(truth)


def test_vectors_name_every_column_and_refuse_dexterous_hands(built) -> None:
    from goalframe.sampling.lowdim import episode_lowdim

    raw, out, truth = built
    variants = _by_layout(truth)
    ds = open_dataset(out)
    lowdim = episode_lowdim(ds, variants["beta"])
    assert lowdim["state"].shape[1] == len(AGIBOT_STATE_NAMES) == 20
    assert lowdim["action"].shape[1] == len(AGIBOT_ACTION_NAMES) == 22
    assert ds.meta(variants["beta"]).source["vectors"]["state"] == list(AGIBOT_STATE_NAMES)
    # the opening columns hold the gripper openings, as named
    opening = ds.array(variants["beta"], "states/effector/position")
    assert np.array_equal(
        lowdim["state"][:, AGIBOT_STATE_NAMES.index("right_gripper.opening")],
        opening[:, 1].astype(np.float32),
    )
    with pytest.raises(VectorLayoutError, match=f"{variants['dexhand']}: a dexterous-hand episode"):
        episode_lowdim(ds, variants["dexhand"])
