"""The torch datasets: shapes, dtypes, values against the store, splits, multi-worker loading."""

from __future__ import annotations

import pickle

import cv2
import numpy as np
import polars as pl
import pytest
import torch
from test_pairs import fresh
from torch.utils.data import DataLoader

from goalframe.sampling import (
    CrossViewDataset,
    MSTHDataset,
    MSTHSpec,
    build_msth,
    build_pairs,
    split_episodes,
)
from goalframe.schemas.layout import DatasetError
from goalframe.storage import open_dataset
from goalframe.storage.frames import FrameReader

W, S = 8, 64

CROSS_VIEW = {
    "frames": ((W, 3, S, S), torch.uint8),
    "goal_image": ((3, S, S), torch.uint8),
    "goal_mask": ((1, S, S), torch.bool),
    "visible": ((W,), torch.bool),
    "centroid": ((W, 2), torch.float32),
    "bbox": ((W, 4), torch.float32),
    "interaction": ((), torch.int64),
    "action": ((W, 22), torch.float32),
    "pad": ((W,), torch.bool),
    "frame_index": ((W,), torch.int64),
    "goal_frame_index": ((), torch.int64),
    "sample_index": ((), torch.int64),
}


def resized(frames: np.ndarray) -> np.ndarray:
    """The documented resize: torchvision's Resize(antialias=True) to S x S, channels first."""
    chw = torch.from_numpy(np.ascontiguousarray(frames)).permute(0, 3, 1, 2)
    return torch.nn.functional.interpolate(
        chw, size=(S, S), mode="bilinear", antialias=True, align_corners=False
    ).numpy()


def check_keys(sample: dict, expected: dict) -> None:
    assert set(sample) == set(expected)
    for key, (shape, dtype) in expected.items():
        assert tuple(sample[key].shape) == shape and sample[key].dtype == dtype, key


@pytest.fixture
def vpt(tmp_path_factory, tmp_path) -> str:
    _raw, dataset = fresh(tmp_path_factory, tmp_path, "vpt")
    build_pairs(dataset, seed=0)
    return dataset


@pytest.fixture
def agibot(tmp_path_factory, tmp_path) -> str:
    _raw, dataset = fresh(tmp_path_factory, tmp_path, "agibot")
    build_pairs(dataset, seed=0, cross_episode=True, cross_camera=True)
    build_msth(dataset, MSTHSpec(horizon=12, near=6, stride=2, distal=3))
    return dataset


def test_cross_view_windows_shapes_values_and_labels(vpt):
    data = CrossViewDataset(vpt, split="all", window=W, size=S, reduced_decode=False)
    ds = open_dataset(vpt)
    pairs = ds.table("pairs")
    covered: dict[str, set] = {}
    for i in range(len(data)):
        sample = data[i]
        check_keys(sample, CROSS_VIEW | {"buttons": ((W, 20), torch.bool), "camera": ((W, 2), torch.int64)})
        rows = pairs.filter(pl.col("pair_id") == data.sample_pair(i)).sort("frame")
        episode, first = rows["episode_id"][0], rows.row(0, named=True)
        frames = sample["frame_index"].numpy()
        pad = sample["pad"].numpy()
        assert frames.min() >= first["window_start"] and frames.max() < first["window_stop"]
        covered.setdefault(data.sample_pair(i), set()).update(frames[~pad].tolist())
        np.testing.assert_array_equal(
            sample["frames"].numpy(),
            resized(np.stack([ds.read_frames(episode, f, f + 1)[0] for f in frames])),
        )
        goal = rows.row(0, named=True)
        np.testing.assert_array_equal(
            sample["goal_image"].numpy(),
            resized(ds.read_frames(goal["goal_episode_id"], goal["goal_frame"], goal["goal_frame"] + 1))[0],
        )
        track = ds.read_track(goal["goal_episode_id"], goal["goal_track_id"])
        expected_mask = cv2.resize(
            track.mask[track.row(goal["goal_frame"])].astype(np.uint8),
            (S, S),
            interpolation=cv2.INTER_NEAREST,
        )
        np.testing.assert_array_equal(sample["goal_mask"].numpy()[0], expected_mask.astype(bool))
        by_frame = {r["frame"]: r for r in rows.iter_rows(named=True)}
        for position, frame in enumerate(frames):
            if pad[position]:
                assert not sample["visible"][position] and not sample["centroid"][position].any()
                continue
            row = by_frame[int(frame)]
            assert bool(sample["visible"][position]) == row["visible"]
            if row["visible"]:
                np.testing.assert_allclose(
                    sample["centroid"][position].numpy(),
                    (row["centroid_row"], row["centroid_col"]),
                    rtol=1e-6,
                )
                np.testing.assert_allclose(
                    sample["bbox"][position].numpy(),
                    [row[k] for k in ("bbox_x0", "bbox_y0", "bbox_x1", "bbox_y1")],
                    rtol=1e-6,
                )
        assert int(sample["interaction"]) == first["interaction_id"]
        np.testing.assert_array_equal(
            sample["buttons"].numpy(), ds.array(episode, "actions/vpt/buttons")[frames]
        )
        np.testing.assert_array_equal(
            sample["action"][:, 20:].numpy(), ds.array(episode, "actions/vpt/camera_bin")[frames]
        )
    # the windows tile every paired frame
    expected = {pid: set(g["frame"].to_list()) for (pid,), g in pairs.group_by("pair_id")}
    assert covered == expected


def test_fast_shard_reads_equal_zarr_reads_and_reduced_decoding_is_close(vpt):
    ds = open_dataset(vpt)
    episode = ds.episodes[0]
    wanted = np.array([5, 3, 3, 70, 64, 63, 0, ds.length(episode) - 1])
    fast = FrameReader(ds, S, threads=2, reduced_decode=False)
    array, sharded = fast._source(episode, "pov")
    assert sharded is not None  # local JPEG shards: the fast path
    zarr_path = np.empty((len(np.unique(wanted)), 3, S, S), np.uint8)
    fast._read_zarr(array, np.unique(wanted), zarr_path)
    got = fast.read(episode, "pov", wanted)
    np.testing.assert_array_equal(got, zarr_path[np.unique(wanted, return_inverse=True)[1]])
    np.testing.assert_array_equal(
        got, resized(np.stack([ds.read_frames(episode, f, f + 1)[0] for f in wanted]))
    )
    reduced = FrameReader(ds, S, reduced_decode=True).read(episode, "pov", wanted)  # 360x640 decoded at 1/4
    assert np.abs(reduced.astype(int) - got.astype(int)).mean() < 4


def test_msth_samples_shapes_values_and_pads(agibot):
    ds = open_dataset(agibot)
    table = ds.table("msth")
    data = MSTHDataset(
        agibot, split="all", cameras=["head_color", "hand_right_color"], size=S, reduced_decode=False
    )
    assert len(data) == table.height
    C, Np, M, P = 2, 3, 3, 6
    expected = {
        "observation": ((C, 3, S, S), torch.uint8),
        "goal_image": ((C, 3, S, S), torch.uint8),
        "proximal_frames": ((Np, C, 3, S, S), torch.uint8),
        "distal_frames": ((M, C, 3, S, S), torch.uint8),
        "proximal_pad": ((Np,), torch.bool),
        "distal_pad": ((M,), torch.bool),
        "proximal_action": ((P, 22), torch.float32),
        "proximal_action_pad": ((P,), torch.bool),
        "distal_action": ((M, 22), torch.float32),
        "distal_action_pad": ((M,), torch.bool),
        "goal_pad": ((), torch.bool),
        "frame_index": ((), torch.int64),
        "goal_index": ((), torch.int64),
        "proximal_index": ((Np,), torch.int64),
        "distal_index": ((M,), torch.int64),
        "sample_index": ((), torch.int64),
        "state": ((20,), torch.float32),
    }
    episode = ds.episodes[0]
    head = resized(ds.read_frames(episode, 0, ds.length(episode), "head_color"))
    hand = resized(ds.read_frames(episode, 0, ds.length(episode), "hand_right_color"))
    joints = ds.array(episode, "states/joint/position")
    gripper = ds.array(episode, "states/effector/position")
    actions = ds.array(episode, "actions/joint/position")
    velocity = ds.array(episode, "actions/robot/velocity")
    rows = table.filter(pl.col("episode_id") == episode).sort("frame").to_dicts()
    for i, row in enumerate(rows):
        sample = data[i]
        check_keys(sample, expected)
        t = row["frame"]
        assert int(sample["frame_index"]) == t and int(sample["goal_index"]) == row["goal_hindsight"]
        np.testing.assert_array_equal(sample["observation"][0].numpy(), head[t])
        np.testing.assert_array_equal(sample["observation"][1].numpy(), hand[t])
        np.testing.assert_array_equal(sample["goal_image"][0].numpy(), head[row["goal_hindsight"]])
        np.testing.assert_array_equal(sample["proximal_frames"][:, 0].numpy(), head[row["proximal_frames"]])
        np.testing.assert_array_equal(sample["distal_frames"][:, 1].numpy(), hand[row["distal_frames"]])
        assert (
            sample["proximal_pad"].tolist() == row["proximal_pad"]
            and sample["distal_pad"].tolist() == row["distal_pad"]
        )
        assert bool(sample["goal_pad"]) == row["hindsight_pad"]
        action_rows = np.arange(t, t + P)
        assert sample["proximal_action_pad"].tolist() == (action_rows >= row["clip_end"]).tolist()
        clamped = np.minimum(action_rows, row["clip_end"] - 1)
        np.testing.assert_allclose(sample["proximal_action"][:, 2:9].numpy(), actions[clamped, :7], rtol=1e-6)
        np.testing.assert_allclose(sample["proximal_action"][:, 20:].numpy(), velocity[clamped], rtol=1e-6)
        np.testing.assert_allclose(
            sample["distal_action"][:, 10:17].numpy(), actions[row["distal_action_rows"], 7:], rtol=1e-6
        )
        np.testing.assert_allclose(
            sample["state"][[2, 9, 10, 17]].numpy(),
            [joints[t, 0], gripper[t, 0], joints[t, 7], gripper[t, 1]],
            rtol=1e-6,
        )
    assert any(r["proximal_pad"][-1] for r in rows) and not all(r["proximal_pad"][-1] for r in rows)
    segment_goals = MSTHDataset(agibot, split="all", cameras=["head_color"], size=S, goal="segment_end")
    assert int(segment_goals[0]["goal_index"]) == rows[0]["goal_segment_end"]


def _dump_if_stuck(_worker: int) -> None:
    import faulthandler

    faulthandler.dump_traceback_later(90)  # a stuck worker shows where (the loader times out at 120 s)


def batches(data, workers: int) -> list[dict]:
    options = {"worker_init_fn": _dump_if_stuck, "timeout": 120} if workers else {}
    loader = DataLoader(
        data,
        batch_size=3,
        shuffle=True,
        num_workers=workers,
        generator=torch.Generator().manual_seed(7),
        **options,
    )
    return list(loader)


def test_two_workers_yield_the_same_samples_as_one(agibot):
    for data in (
        CrossViewDataset(agibot, split="all", window=W, size=S),
        MSTHDataset(agibot, split="all", size=S, frame_stride=4),
    ):
        data[0]  # the parent's store and caches must not leak into the workers
        single, multi = batches(data, 0), batches(data, 2)
        assert len(single) == len(multi) > 1
        for a, b in zip(single, multi):
            assert a.keys() == b.keys()
            for key in a:
                assert torch.equal(a[key], b[key]), key


def test_split_by_episode_is_seeded_and_keeps_goals_inside(agibot):
    episodes = [f"e{i}" for i in range(10)]
    train, val = split_episodes(episodes, 0.2, seed=1)
    assert len(val) == 2 and not set(train) & set(val) and sorted(train + val) == episodes
    assert split_episodes(list(reversed(episodes)), 0.2, seed=1) == (train, val)
    assert split_episodes(episodes, 0.2, seed=2) != (train, val)
    assert split_episodes(["a", "b"], 0.01, seed=0)[1] != []  # one validation episode at least
    with pytest.raises(ValueError, match="val_fraction"):
        split_episodes(episodes, 1.0)
    ds = open_dataset(agibot)
    a = CrossViewDataset(agibot, split="train", window=W, size=S, val_fraction=0.5, seed=3)
    b = CrossViewDataset(agibot, split="val", window=W, size=S, val_fraction=0.5, seed=3)
    assert len(a.episodes) == len(b.episodes) == 1 and set(a.episodes) | set(b.episodes) == set(ds.episodes)
    pairs = ds.table("pairs")
    for data in (a, b):
        mine = pairs.filter(pl.col("pair_id").is_in(data.pairs))
        assert set(mine["episode_id"]) | set(mine["goal_episode_id"]) == set(data.episodes)
        assert "cross_episode" not in set(mine["goal_source"])  # its goal episode is in the other split
    again = CrossViewDataset(agibot, split="train", window=W, size=S, val_fraction=0.5, seed=3)
    assert again.pairs == a.pairs and torch.equal(again[1]["frames"], a[1]["frames"])
    m = MSTHDataset(agibot, split="val", size=S, val_fraction=0.5, seed=3)
    assert {m._names[int(c)] for c in m._episode} == set(b.episodes)


def test_pickles_without_open_stores_and_needs_its_table(agibot, vpt):
    data = CrossViewDataset(agibot, split="all", window=W, size=S)
    before = data[2]
    clone = pickle.loads(pickle.dumps(data))
    assert clone._state is None
    assert all(torch.equal(before[k], clone[2][k]) for k in before)
    with pytest.raises(DatasetError, match="no msth table; run `goalframe msth"):
        MSTHDataset(vpt)
    with pytest.raises(IndexError):
        data[len(data)]
