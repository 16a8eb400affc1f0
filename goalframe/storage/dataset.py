"""Reading a goalframe dataset: episodes, lengths, frame windows, arrays and tables.

A ``Dataset`` holds no open file handles beyond zarr's lazy metadata, so it is cheap to
open inside each DataLoader worker. Only episodes whose ``complete`` flag is set exist.
"""

from __future__ import annotations

from functools import cached_property
from typing import Any

import numpy as np
import polars as pl
import zarr

from goalframe.schemas.episode import EpisodeMeta
from goalframe.schemas.layout import DatasetError, DatasetInfo
from goalframe.storage import masks as mask_store
from goalframe.storage.frames import read_frame_range
from goalframe.storage.layout import FRAMES, episode_path
from goalframe.storage.manifest import complete_episode_metas
from goalframe.storage.step_log import STEPS_TABLE
from goalframe.storage.store import list_tables, open_root, read_info, read_table, store_path


def _selection_text(selection: Any) -> str:
    first = selection[0] if isinstance(selection, tuple) and selection else selection
    if first is Ellipsis or first == slice(None):
        return "all rows"
    if isinstance(first, slice):
        start = 0 if first.start is None else first.start
        return f"rows {start}-{first.stop - 1}" if first.stop is not None else f"rows {start}-"
    if isinstance(first, (int, np.integer)):
        return f"row {int(first)}"
    return "the selection"


def decode_problem(exc: BaseException) -> str:
    """zarr's decode errors in words (its bare checksum message names no array)."""
    text = str(exc).splitlines()[0] if str(exc) else ""
    if "computed checksum do not match" in text:
        return "CRC32C checksum mismatch: the stored bytes changed"
    return f"{exc.__class__.__name__}: {text}" if text else exc.__class__.__name__


class NamedArray:
    """A zarr array of one episode whose read errors name the dataset, episode and array.

    Everything but reading (shape, attrs, metadata, store...) is the zarr array's own.
    """

    def __init__(self, array: zarr.Array, dataset: str, episode: str, name: str):
        self._array, self._where = array, f"{dataset}: episode {episode!r} array {name!r}"

    def __getattr__(self, attribute: str) -> Any:
        if attribute.startswith("_"):  # not forwarded: keeps pickling and copying of the proxy sane
            raise AttributeError(attribute)
        return getattr(self._array, attribute)

    def __len__(self) -> int:
        return len(self._array)

    def __getitem__(self, selection: Any) -> Any:
        try:
            return self._array[selection]
        except (IndexError, TypeError, KeyboardInterrupt):
            raise  # a bad selection is the caller's, not damage
        except Exception as exc:  # noqa: BLE001 - any decode failure of stored bytes
            raise DatasetError(
                f"{self._where} {_selection_text(selection)}: {decode_problem(exc)} (run `goalframe verify`)"
            ) from None


class Dataset:
    def __init__(self, path: str, storage_options: dict[str, Any] | None = None):
        self.path = store_path(path)
        self.storage_options = storage_options
        self.root = open_root(path, mode="r", storage_options=storage_options)
        self._arrays: dict[tuple[str, str], NamedArray] = {}
        self._metas: dict[str, EpisodeMeta] = {}

    def __repr__(self) -> str:
        return f"Dataset({self.path!r}, episodes={len(self.episodes)})"

    @property
    def info(self) -> DatasetInfo:
        return read_info(self.root)

    @cached_property
    def _all_metas(self) -> dict[str, EpisodeMeta]:
        metas = {meta.episode_id: meta for meta in complete_episode_metas(self.root)}
        self._metas.update(metas)
        return metas

    @property
    def episodes(self) -> list[str]:
        """Ids of complete episodes, sorted (one metadata read per episode, once)."""
        return list(self._all_metas)

    def meta(self, episode: str) -> EpisodeMeta:
        """One episode's record, read alone: a task on one episode never scans them all."""
        if episode not in self._metas:
            try:
                attrs = dict(self.root[episode_path(episode)].attrs)
            except KeyError:
                attrs = {}
            if attrs.get("complete") is not True:
                raise DatasetError(f"{self.path}: no complete episode {episode!r}")
            self._metas[episode] = EpisodeMeta.model_validate(attrs)
        return self._metas[episode]

    def length(self, episode: str) -> int:
        return self.meta(episode).n_frames

    @property
    def lengths(self) -> dict[str, int]:
        return {episode: meta.n_frames for episode, meta in self._all_metas.items()}

    def cameras(self, episode: str) -> list[str]:
        return self.meta(episode).cameras

    def zarr_array(self, episode: str, name: str) -> NamedArray:
        """The lazy zarr array ``episodes/<episode>/<name>`` (cached per dataset object); a
        chunk that fails to decode is a DatasetError naming the episode, array and rows."""
        key = (episode, name)
        if key not in self._arrays:
            self.meta(episode)
            try:
                self._arrays[key] = NamedArray(
                    self.root[f"{episode_path(episode)}/{name}"], self.path, episode, name
                )
            except KeyError:
                raise DatasetError(f"{self.path}: episode {episode!r} has no array {name!r}") from None
        return self._arrays[key]

    def array(self, episode: str, name: str) -> np.ndarray:
        return self.zarr_array(episode, name)[...]

    def array_attrs(self, episode: str, name: str) -> dict[str, Any]:
        return dict(self.zarr_array(episode, name).attrs)

    def array_names(self, episode: str) -> list[str]:
        """Every array of the episode except frames, as slash paths."""
        group = self.root[episode_path(episode)]
        return sorted(
            name
            for name, node in group.members(max_depth=None)
            if isinstance(node, zarr.Array) and not name.startswith(FRAMES + "/")
        )

    def read_frames(self, episode: str, start: int, stop: int, camera: str | None = None) -> np.ndarray:
        """Frames ``[start, stop)`` of one camera as (N, H, W, 3) uint8 RGB."""
        return read_frame_range(self, episode, camera or self.cameras(episode)[0], start, stop)

    def table(self, name: str) -> pl.DataFrame:
        table = read_table(self.path, name, self.storage_options)
        if table is None:
            raise DatasetError(f"{self.path}: no table {name!r} (has {', '.join(self.tables) or 'none'})")
        return table

    @property
    def tables(self) -> list[str]:
        """The data tables (the step log is part of the record: see ``info.steps``)."""
        return [name for name in list_tables(self.path, self.storage_options) if name != STEPS_TABLE]

    @property
    def manifest(self) -> pl.DataFrame:
        return self.table("manifest")

    def read_track(self, episode: str, track_id: str, reviewed: bool = True) -> mask_store.MaskTrack:
        """A mask track; with ``reviewed`` (default) the newest human correction wins per frame."""
        try:
            return mask_store.read_track(self.root, episode, track_id, reviewed=reviewed)
        except (DatasetError, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - a mask chunk that fails to decode
            raise DatasetError(
                f"{self.path}: episode {episode!r} mask track {track_id!r}: {decode_problem(exc)} (run"
                " `goalframe verify`)"
            ) from None

    def track_ids(self, episode: str | None = None) -> list[tuple[str, str]]:
        """(episode, track_id) of complete tracks, optionally of one episode."""
        return [(e, t) for e, t in mask_store.list_tracks(self.root) if episode is None or e == episode]


def open_dataset(path: str, storage_options: dict[str, Any] | None = None) -> Dataset:
    """Open a goalframe dataset (a local ``NAME.zarr`` folder or an fsspec URL) for reading."""
    return Dataset(str(path), storage_options)
