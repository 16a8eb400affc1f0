"""ROCKET-2 cross-view windows over tables/pairs.parquet (see goalframe.sampling.datasets)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
import torch

from goalframe.media.images import resize_mask_nearest
from goalframe.sampling.dataset_base import GoalframeDataset, episode_codes, split_for
from goalframe.sampling.lowdim import LOWDIM_KEYS
from goalframe.schemas.layout import DatasetError
from goalframe.storage import open_dataset
from goalframe.storage.masks import REVIEWED, track_path

# ---------------------------------------------------------------------------- ROCKET-2


class CrossViewDataset(GoalframeDataset):
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
        self.episodes = split_for(ds.episodes, split, val_fraction, seed)
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
            self._names[column], codes[column] = episode_codes(pairs[column].to_list())
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
