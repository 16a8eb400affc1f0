"""Act2Goal MSTH samples over tables/msth.parquet (see goalframe.sampling.datasets)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl
import torch

from goalframe.sampling.dataset_base import GoalframeDataset, episode_codes, split_for
from goalframe.schemas.layout import DatasetError
from goalframe.storage import open_dataset

MSTH_GOALS = ("hindsight", "segment_end", "episode_end")


# ---------------------------------------------------------------------------- Act2Goal


def _msth_params(ds) -> dict[str, Any] | None:
    steps = [s for s in ds.info.steps if s.step == "msth"]
    return steps[-1].params if steps else None


class MSTHDataset(GoalframeDataset):
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
        self.episodes = split_for(ds.episodes, split, val_fraction, seed)
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

        self._names, self._episode = episode_codes(table["episode_id"].to_list())
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
