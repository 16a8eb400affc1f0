"""PyTorch datasets over a goalframe dataset: ROCKET-2 cross-view windows and Act2Goal MSTH samples.

Both datasets

- read only the tables (``pairs`` / ``msth``) and episode list when built, precompute every
  sample's indices once into numpy arrays (no per-sample Python objects, so forked
  DataLoader workers do not copy-on-write their way to gigabytes), and open the zarr store
  lazily in each process that reads samples (``DataLoader(num_workers > 0)`` works, each
  worker opens its own store);
- are deterministic: sample ``i`` depends only on the tables, the parameters and ``seed``
  (which draws the episode split), never on worker order or earlier samples;
- split by episode: ``split="train" | "val" | "all"``; ``val_fraction`` of the episodes
  (at least one when there are two or more) go to ``val``, drawn with ``seed``;
- return a dict of tensors with stable keys (below). Images are uint8 RGB, channels first,
  resized to ``size`` x ``size`` as torchvision's ``Resize(antialias=True)`` (masks: nearest),
  aspect ratio not kept (ROCKET's 360x640 -> 224x224). Padded positions
  repeat the nearest valid frame and are flagged ``True`` in the matching pad mask.

Frames come from the one frame reader, :class:`goalframe.storage.frames.FrameReader` (the
fast JPEG shard path is there).

Action vectors (``action``): AgiBot, 22 floats as LeRobot's AgiBot port: head 2, left arm
joints 7, left gripper, right arm joints 7, right gripper, waist 2, base velocity 2 (the
state, 20 floats, is the same without the base velocity; arrays an episode lacks are
zeros; every column is named in :mod:`goalframe.schemas.vectors` and in each AgiBot
episode's ``vectors`` attrs; dexterous-hand episodes are refused with one line). VPT, 22
floats: the 20 buttons (0/1) then the 2 camera bins (0..10, 5 = still).
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
import torch
from torch.utils.data import Dataset as TorchDataset

from goalframe.media.images import resize_mask_nearest
from goalframe.sampling.lowdim import LOWDIM_KEYS, episode_lowdim
from goalframe.schemas.layout import DatasetError
from goalframe.storage import open_dataset
from goalframe.storage.frames import FrameReader, LRUCache
from goalframe.storage.masks import REVIEWED, track_path

SPLITS = ("train", "val", "all")
MSTH_GOALS = ("hindsight", "segment_end", "episode_end")


# ---------------------------------------------------------------------------- splits


def split_episodes(
    episodes: Sequence[str], val_fraction: float = 0.1, seed: int = 0
) -> tuple[list[str], list[str]]:
    """(train, val) episode ids: a seeded draw of ``round(val_fraction * n)`` validation episodes.

    At least one validation episode when ``val_fraction > 0`` and there are two or more
    episodes, and never all of them. The result depends only on the set of ids and the seed.
    """
    if not 0 <= val_fraction < 1:
        raise ValueError(f"val_fraction must be in [0, 1), got {val_fraction}")
    ordered = sorted(episodes)
    n = len(ordered)
    n_val = int(round(val_fraction * n))
    if val_fraction > 0 and n >= 2:
        n_val = min(max(n_val, 1), n - 1)
    else:
        n_val = min(n_val, max(n - 1, 0))
    chosen = set(np.random.default_rng(seed).permutation(n)[:n_val].tolist())
    return [e for i, e in enumerate(ordered) if i not in chosen], [
        e for i, e in enumerate(ordered) if i in chosen
    ]


def _split(episodes: Sequence[str], split: str, val_fraction: float, seed: int) -> list[str]:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    if split == "all":
        return sorted(episodes)
    train, val = split_episodes(episodes, val_fraction, seed)
    return train if split == "train" else val


# ---------------------------------------------------------------------------- base


class _GoalframeDataset(TorchDataset):
    """Lazy per-process store handles and caches; everything else is plain numpy."""

    def __init__(
        self, dataset: str, size: int, threads: int | None, reduced_decode: bool, storage_options: dict | None
    ):
        if int(size) < 1:
            raise ValueError(f"size must be >= 1, got {size}")
        self.dataset = str(dataset)
        self.size = int(size)
        self.threads = threads
        self.reduced_decode = reduced_decode
        self.storage_options = storage_options
        self._state: dict[str, Any] | None = None

    def __getstate__(self) -> dict[str, Any]:
        state = dict(self.__dict__)
        state["_state"] = None  # never ship open stores, pools or caches to a worker
        return state

    def _local(self) -> dict[str, Any]:
        """This process's store, frame reader and caches (opened on first use, again after fork)."""
        state = self._state
        if state is None or state["pid"] != os.getpid():
            # (no cv2.setNumThreads here: after a fork it can wait forever on the parent's pool)
            in_worker = torch.utils.data.get_worker_info() is not None
            threads = (
                self.threads
                if self.threads is not None
                else (1 if in_worker else min(4, os.cpu_count() or 1))
            )
            ds = open_dataset(self.dataset, self.storage_options)
            state = {
                "pid": os.getpid(),
                "ds": ds,
                "reader": FrameReader(ds, self.size, threads, self.reduced_decode),
                "lowdim": LRUCache(64),
                "masks": LRUCache(256),
            }
            self._state = state
        return state

    def lowdim(self, episode: str) -> dict[str, np.ndarray]:
        state = self._local()
        return state["lowdim"].get_or(episode, lambda: episode_lowdim(state["ds"], episode))

    def frames(self, episode: str, camera: str, frames: np.ndarray) -> np.ndarray:
        return self._local()["reader"].read(episode, camera, frames)

    @staticmethod
    def _format(ds, episodes: Sequence[str]) -> str:
        formats = {ds.meta(e).source_format for e in episodes}
        if len(formats) > 1:
            raise DatasetError(
                f"{ds.path}: episodes of several formats ({', '.join(sorted(formats))}); one dataset per"
                " format"
            )
        return formats.pop() if formats else "none"


def _codes(values: list[str]) -> tuple[list[str], np.ndarray]:
    names = sorted(set(values))
    lookup = {name: i for i, name in enumerate(names)}
    return names, np.array([lookup[v] for v in values], dtype=np.int32)


# ---------------------------------------------------------------------------- ROCKET-2


class CrossViewDataset(_GoalframeDataset):
    """Windows of ``window`` frames over the goal pairs of ``tables/pairs.parquet`` (ROCKET-2).

    Each pair's interaction window ``[window_start, window_stop)`` is tiled from its end (the
    event) backwards every ``window_stride`` frames (default ``window``) until covered;
    positions outside it repeat the edge frame and are padded. W = ``window``, S = ``size``.

    ====================  =====================  ========  ===============================================
    key                   shape                  dtype     meaning
    ====================  =====================  ========  ===============================================
    ``frames``            (W, 3, S, S)           uint8     RGB observations o_t
    ``goal_image``        (3, S, S)              uint8     the goal view o_g (another time, episode or camera)
    ``goal_mask``         (1, S, S)              bool      the target's mask m_g in the goal view (nearest)
    ``visible``           (W,)                   bool      target visible (mask non-empty) at t
    ``centroid``          (W, 2)                 float32   centroid (row / H, col / W); 0 if not visible
    ``bbox``              (W, 4)                 float32   (x0/W, y0/H, x1/W, y1/H); 0 if not visible
    ``interaction``       ()                     int64     ROCKET interaction (hunt 0 .. approach 6, none -1)
    ``action``            (W, Da)                float32   VPT: 20 buttons + 2 camera bins (Da 22); AgiBot: 22
    ``pad``               (W,)                   bool      position outside the interaction window (no labels)
    ``frame_index``       (W,)                   int64     episode frame of each position (edge-clamped)
    ``goal_frame_index``  ()                     int64     episode frame of the goal view
    ``sample_index``      ()                     int64     this sample's index in the dataset
    ``buttons``           (W, 20)                bool      VPT only: the 20 VPT buttons
    ``camera``            (W, 2)                 int64     VPT only: camera (pitch, yaw) bins 0..10
    ``state``             (W, 20)                float32   AgiBot only: LeRobot's 20-dim state
    ====================  =====================  ========  ===============================================

    ``goal_sources`` keeps only some kinds of pairs (same_episode, cross_episode,
    cross_camera); cross-episode pairs whose goal episode is outside the split are dropped,
    so validation images never appear as training goals. ``self.pairs`` and
    ``self.sample_pair(i)`` say which pair a sample comes from.
    """

    def __init__(
        self,
        dataset: str,
        split: str = "train",
        window: int = 128,
        size: int = 224,
        window_stride: int | None = None,
        goal_sources: Sequence[str] | None = None,
        val_fraction: float = 0.1,
        seed: int = 0,
        threads: int | None = None,
        reduced_decode: bool = True,
        storage_options: dict | None = None,
    ):
        super().__init__(dataset, size, threads, reduced_decode, storage_options)
        if int(window) < 1:
            raise ValueError(f"window must be >= 1, got {window}")
        self.window = int(window)
        self.window_stride = int(window_stride or window)
        if self.window_stride < 1:
            raise ValueError(f"window_stride must be >= 1, got {window_stride}")
        self.split, self.seed = split, seed
        ds = open_dataset(self.dataset, storage_options)
        if "pairs" not in ds.tables:
            raise DatasetError(f"{ds.path}: no pairs table; run `goalframe pairs {ds.path}` first")
        self.episodes = _split(ds.episodes, split, val_fraction, seed)
        self.format = self._format(ds, self.episodes)
        table = ds.table("pairs").filter(
            pl.col("episode_id").is_in(self.episodes) & pl.col("goal_episode_id").is_in(self.episodes)
        )
        if goal_sources is not None:
            unknown = set(goal_sources) - {"same_episode", "cross_episode", "cross_camera"}
            if unknown:
                raise ValueError(f"unknown goal sources {sorted(unknown)}")
            table = table.filter(pl.col("goal_source").is_in(list(goal_sources)))
        self._index(table.sort("pair_id", "frame"))

    def _index(self, table: pl.DataFrame) -> None:
        pairs = table.group_by("pair_id", maintain_order=True).agg(
            pl.col("episode_id", "camera", "window_start", "window_stop", "interaction_id").first(),
            pl.col("goal_episode_id", "goal_camera", "goal_track_id", "goal_frame").first(),
            pl.len().alias("rows"),
        )
        self.pairs: list[str] = pairs["pair_id"].to_list()
        self._names, codes = {}, {}
        for column in ("episode_id", "camera", "goal_episode_id", "goal_camera", "goal_track_id"):
            self._names[column], codes[column] = _codes(pairs[column].to_list())
        self._pair_codes = codes
        start = pairs["window_start"].to_numpy().astype(np.int64)
        stop = pairs["window_stop"].to_numpy().astype(np.int64)
        self._start, self._stop = start, stop
        self._interaction = pairs["interaction_id"].to_numpy().astype(np.int64)
        self._goal_frame = pairs["goal_frame"].to_numpy().astype(np.int64)
        # dense labels over each window: offset[p] + (frame - start[p])
        lengths = stop - start
        self._label_offset = (
            np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(np.int64)
            if len(lengths)
            else np.zeros(0, np.int64)
        )
        total = int(lengths.sum())
        self._has_label = np.zeros(total, bool)
        self._visible = np.zeros(total, bool)
        self._centroid = np.zeros((total, 2), np.float32)
        self._bbox = np.zeros((total, 4), np.float32)
        if total:
            pair_of_row = np.repeat(np.arange(len(pairs)), pairs["rows"].to_numpy())
            frame = table["frame"].to_numpy().astype(np.int64)
            position = self._label_offset[pair_of_row] + frame - start[pair_of_row]
            self._has_label[position] = True
            self._visible[position] = table["visible"].fill_null(False).to_numpy()
            self._centroid[position] = (
                table.select("centroid_row", "centroid_col").fill_null(0.0).fill_nan(0.0).to_numpy()
            )
            self._bbox[position] = (
                table.select("bbox_x0", "bbox_y0", "bbox_x1", "bbox_y1")
                .fill_null(0.0)
                .fill_nan(0.0)
                .to_numpy()
            )
        # samples: windows [end - W, end), end = stop, stop - stride, ... until start is covered
        item_pair, item_start = [], []
        for p in range(len(pairs)):
            end = int(stop[p])
            while True:
                item_pair.append(p)
                item_start.append(end - self.window)
                if end - self.window <= start[p]:
                    break
                end -= self.window_stride
        self._item_pair = np.array(item_pair, dtype=np.int32)
        self._item_start = np.array(item_start, dtype=np.int64)

    def __len__(self) -> int:
        return len(self._item_pair)

    def sample_pair(self, index: int) -> str:
        return self.pairs[int(self._item_pair[index])]

    def _name(self, column: str, p: int) -> str:
        return self._names[column][int(self._pair_codes[column][p])]

    def _goal_mask(self, p: int) -> np.ndarray:
        state = self._local()
        key = (self._name("goal_episode_id", p), self._name("goal_track_id", p), int(self._goal_frame[p]))
        return state["masks"].get_or(key, lambda: _resized_mask(state["ds"], *key, self.size))

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        index = int(index) % len(self)
        p = int(self._item_pair[index])
        start, stop = int(self._start[p]), int(self._stop[p])
        positions = np.arange(self._item_start[index], self._item_start[index] + self.window, dtype=np.int64)
        frame_index = np.clip(positions, start, stop - 1)
        label = self._label_offset[p] + frame_index - start
        pad = (positions < start) | (positions >= stop) | ~self._has_label[label]
        episode, camera = self._name("episode_id", p), self._name("camera", p)
        goal_episode, goal_camera = self._name("goal_episode_id", p), self._name("goal_camera", p)
        goal_frame = int(self._goal_frame[p])
        visible = self._visible[label] & ~pad
        sample = {
            "frames": torch.from_numpy(self.frames(episode, camera, frame_index)),
            "goal_image": torch.from_numpy(self.frames(goal_episode, goal_camera, np.array([goal_frame]))[0]),
            "goal_mask": torch.from_numpy(self._goal_mask(p)[None]),
            "visible": torch.from_numpy(visible),
            "centroid": torch.from_numpy(
                np.where(visible[:, None], self._centroid[label], 0).astype(np.float32)
            ),
            "bbox": torch.from_numpy(np.where(visible[:, None], self._bbox[label], 0).astype(np.float32)),
            "interaction": torch.tensor(int(self._interaction[p]), dtype=torch.int64),
            "pad": torch.from_numpy(pad),
            "frame_index": torch.from_numpy(frame_index),
            "goal_frame_index": torch.tensor(goal_frame, dtype=torch.int64),
            "sample_index": torch.tensor(index, dtype=torch.int64),
        }
        lowdim = self.lowdim(episode)
        for key in LOWDIM_KEYS.get(self.format, ("action",)):
            sample[key] = torch.from_numpy(np.ascontiguousarray(lowdim[key][frame_index]))
        return sample


def _resized_mask(ds, episode: str, track_id: str, frame: int, size: int) -> np.ndarray:
    """The newest reviewed (else automatic) mask of ``track_id`` at ``frame``, nearest-resized to (S, S)."""
    parent = ds.root[track_path(episode, track_id)]
    groups = []
    if REVIEWED in parent:
        groups = [
            g
            for _name, g in sorted(parent[REVIEWED].groups(), key=lambda item: item[0], reverse=True)
            if g.attrs.get("complete") is True
        ]
    for group in [*groups, parent]:
        rows = np.flatnonzero(group["frame_index"][...] == frame)
        if len(rows):
            return resize_mask_nearest(np.asarray(group["mask"][int(rows[0])]), size)
    raise DatasetError(
        f"{ds.path}: track {episode}/{track_id} has no frame {frame} (pairs table out of date? re-run"
        " goalframe pairs)"
    )


# ---------------------------------------------------------------------------- Act2Goal


def _msth_params(ds) -> dict[str, Any] | None:
    steps = [s for s in ds.info.steps if s.step == "msth"]
    return steps[-1].params if steps else None


class MSTHDataset(_GoalframeDataset):
    """One sample per frame row of ``tables/msth.parquet`` (Act2Goal's multi-scale temporal hashing).

    C = len(``cameras``) (default: every camera of the episodes), S = ``size``, Np = P / r
    proximal frames, M distal anchors, P proximal actions, Da action width (22 for AgiBot and
    VPT, see the module docstring). ``goal`` picks the goal frame: ``hindsight`` (the frame
    reached at t + K, clipped), ``segment_end`` or ``episode_end``.

    =======================  ==================  =======  ==========================================
    key                      shape               dtype    meaning
    =======================  ==================  =======  ==========================================
    ``observation``          (C, 3, S, S)        uint8    current frame t, every camera
    ``goal_image``           (C, 3, S, S)        uint8    goal frame, every camera
    ``proximal_frames``      (Np, C, 3, S, S)    uint8    t + r, t + 2r, ..., t + P
    ``distal_frames``        (M, C, 3, S, S)     uint8    t + d_1 .. t + d_M (d_M = K)
    ``proximal_pad``         (Np,)               bool     past the clip end (edge frame repeated)
    ``distal_pad``           (M,)                bool
    ``proximal_action``      (P, Da)             float32  action rows t .. t + P - 1
    ``proximal_action_pad``  (P,)                bool
    ``distal_action``        (M, Da)             float32  action rows t + d_m - 1 (they produce t + d_m)
    ``distal_action_pad``    (M,)                bool
    ``goal_pad``             ()                  bool     hindsight goal past the clip end (clamped)
    ``frame_index``          ()                  int64    t
    ``goal_index``           ()                  int64    episode frame of the goal
    ``proximal_index``       (Np,)               int64    clamped episode frames
    ``distal_index``         (M,)                int64
    ``sample_index``         ()                  int64
    ``state``                (20,)               float32  AgiBot only: LeRobot's 20-dim state at t
    =======================  ==================  =======  ==========================================

    ``frame_stride`` keeps every n-th frame of each episode as a sample (all by default).
    """

    def __init__(
        self,
        dataset: str,
        split: str = "train",
        cameras: Sequence[str] | None = None,
        size: int = 224,
        goal: str = "hindsight",
        frame_stride: int = 1,
        val_fraction: float = 0.1,
        seed: int = 0,
        threads: int | None = None,
        reduced_decode: bool = True,
        storage_options: dict | None = None,
    ):
        super().__init__(dataset, size, threads, reduced_decode, storage_options)
        if goal not in MSTH_GOALS:
            raise ValueError(f"goal must be one of {', '.join(MSTH_GOALS)}, got {goal!r}")
        if int(frame_stride) < 1:
            raise ValueError(f"frame_stride must be >= 1, got {frame_stride}")
        self.goal, self.split, self.seed = goal, split, seed
        ds = open_dataset(self.dataset, storage_options)
        if "msth" not in ds.tables:
            raise DatasetError(
                f"{ds.path}: no msth table; run `goalframe msth {ds.path} --horizon K --near P --stride r"
                " --distal M` first"
            )
        self.episodes = _split(ds.episodes, split, val_fraction, seed)
        self.format = self._format(ds, self.episodes)
        if cameras is None:
            cameras = ds.cameras(self.episodes[0]) if self.episodes else []
        self.cameras = list(cameras)
        for episode in self.episodes:
            missing = set(self.cameras) - set(ds.cameras(episode))
            if missing:
                raise DatasetError(f"{ds.path}: episode {episode!r} has no camera {sorted(missing)[0]!r}")
        table = ds.table("msth").filter(pl.col("episode_id").is_in(self.episodes))
        if frame_stride > 1:
            table = table.filter(pl.col("frame") % frame_stride == 0)
        table = table.sort("episode_id", "frame")
        params = _msth_params(ds) or {}
        self._index(table, params)

    def _index(self, table: pl.DataFrame, params: dict[str, Any]) -> None:
        self.spec = {k: params.get(k) for k in ("horizon", "near", "stride", "distal", "clip")}

        def matrix(column: str, dtype) -> np.ndarray:
            if table.is_empty():
                return np.zeros((0, 0), dtype)
            widths = table[column].list.len().unique()
            if len(widths) != 1:
                raise DatasetError(
                    f"{self.dataset}: msth column {column} has rows of several lengths; re-run goalframe msth"
                )
            return (
                table.select(pl.col(column).list.to_array(int(widths[0])))
                .to_series()
                .to_numpy()
                .astype(dtype)
            )

        self._names, self._episode = _codes(table["episode_id"].to_list())
        self._frame = table["frame"].to_numpy().astype(np.int64)
        self._proximal, self._proximal_pad = matrix("proximal_frames", np.int64), matrix("proximal_pad", bool)
        self._distal, self._distal_pad = matrix("distal_frames", np.int64), matrix("distal_pad", bool)
        self._distal_rows, self._distal_row_pad = (
            matrix("distal_action_rows", np.int64),
            matrix("distal_action_pad", bool),
        )
        self._action_stop = table["action_stop"].to_numpy().astype(np.int64)
        near = self.spec.get("near")
        if near is None:  # table written without a step record: the longest unclipped chunk
            near = int((self._action_stop - self._frame).max()) if table.height else 0
        self.near = int(near)
        column = {
            "hindsight": "goal_hindsight",
            "segment_end": "goal_segment_end",
            "episode_end": "goal_episode_end",
        }[self.goal]
        self._goal = table[column].to_numpy().astype(np.int64)
        self._goal_pad = (
            table["hindsight_pad"].to_numpy().astype(bool)
            if self.goal == "hindsight"
            else np.zeros(table.height, bool)
        )

    def __len__(self) -> int:
        return len(self._frame)

    def __getitem__(self, index: int) -> dict[str, torch.Tensor]:
        if not -len(self) <= index < len(self):
            raise IndexError(index)
        index = int(index) % len(self)
        episode = self._names[int(self._episode[index])]
        t = int(self._frame[index])
        goal = int(self._goal[index])
        proximal, distal = self._proximal[index], self._distal[index]
        n_prox = len(proximal)
        wanted = np.concatenate([[t, goal], proximal, distal]).astype(np.int64)
        per_camera = np.stack(
            [self.frames(episode, camera, wanted) for camera in self.cameras], axis=1
        )  # (F, C, 3, S, S)
        rows = np.arange(t, t + self.near, dtype=np.int64)
        stop = int(self._action_stop[index])
        action_pad = rows >= stop
        rows = np.minimum(rows, stop - 1)
        lowdim = self.lowdim(episode)
        sample = {
            "observation": torch.from_numpy(np.ascontiguousarray(per_camera[0])),
            "goal_image": torch.from_numpy(np.ascontiguousarray(per_camera[1])),
            "proximal_frames": torch.from_numpy(np.ascontiguousarray(per_camera[2 : 2 + n_prox])),
            "distal_frames": torch.from_numpy(np.ascontiguousarray(per_camera[2 + n_prox :])),
            "proximal_pad": torch.from_numpy(self._proximal_pad[index].copy()),
            "distal_pad": torch.from_numpy(self._distal_pad[index].copy()),
            "proximal_action": torch.from_numpy(np.ascontiguousarray(lowdim["action"][rows])),
            "proximal_action_pad": torch.from_numpy(action_pad),
            "distal_action": torch.from_numpy(
                np.ascontiguousarray(lowdim["action"][self._distal_rows[index]])
            ),
            "distal_action_pad": torch.from_numpy(self._distal_row_pad[index].copy()),
            "goal_pad": torch.tensor(bool(self._goal_pad[index])),
            "frame_index": torch.tensor(t, dtype=torch.int64),
            "goal_index": torch.tensor(goal, dtype=torch.int64),
            "proximal_index": torch.from_numpy(proximal.copy()),
            "distal_index": torch.from_numpy(distal.copy()),
            "sample_index": torch.tensor(index, dtype=torch.int64),
        }
        if "state" in lowdim:
            sample["state"] = torch.from_numpy(lowdim["state"][t].copy())
        return sample
