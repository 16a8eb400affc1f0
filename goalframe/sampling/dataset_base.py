"""Episode splits and the base of goalframe's torch datasets: lazy per-process stores and caches."""

from __future__ import annotations

import os
from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
from torch.utils.data import Dataset as TorchDataset

from goalframe.sampling.lowdim import episode_lowdim
from goalframe.schemas.layout import DatasetError
from goalframe.storage import open_dataset
from goalframe.storage.frames import FrameReader, LRUCache

SPLITS = ("train", "val", "all")


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


def split_for(episodes: Sequence[str], split: str, val_fraction: float, seed: int) -> list[str]:
    if split not in SPLITS:
        raise ValueError(f"split must be one of {', '.join(SPLITS)}, got {split!r}")
    if split == "all":
        return sorted(episodes)
    train, val = split_episodes(episodes, val_fraction, seed)
    return train if split == "train" else val


# ---------------------------------------------------------------------------- base


class GoalframeDataset(TorchDataset):
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


def episode_codes(values: list[str]) -> tuple[list[str], np.ndarray]:
    names = sorted(set(values))
    lookup = {name: i for i, name in enumerate(names)}
    return names, np.array([lookup[v] for v in values], dtype=np.int32)
