"""Writing one episode: arrays first, frames shard by shard, ``complete`` last.

One task writes one whole episode group, so parallel writers never share a shard (the
measured silent-loss case in reference/storage-notes.md). A group without
``complete = true`` is invisible to readers and is deleted before it is written again.
"""

from __future__ import annotations

import hashlib
import os
import queue
import threading
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import TypeVar

import numpy as np
import zarr
from zarr.core.sync import sync

from goalframe import __version__
from goalframe.media.video import iter_frame_blocks
from goalframe.schemas.episode import EpisodeMeta, RawEpisode, episode_key
from goalframe.schemas.features import NUMERIC_CODEC, TEXT_CODEC, Feature, array_feature, frame_feature
from goalframe.schemas.layout import utc_now
from goalframe.storage.layout import (
    DEFAULT_FRAME_CODEC,
    FRAMES,
    create_numeric_array,
    episode_path,
    frame_array_options,
    frame_codec_attrs,
)

T = TypeVar("T")


def episode_state(root: zarr.Group, episode_id: str) -> str:
    """``complete``, ``partial`` (left by a failed or killed writer) or ``absent``.

    A group marked complete counts as complete only while every array it lists is there:
    one that lost arrays (a second writer once deleted them under a committed episode) is
    ``partial``, so a re-run rewrites it instead of skipping it forever.
    """
    try:
        group = zarr.open_group(root.store, path=_full_path(root, episode_id), mode="r")
    except (FileNotFoundError, KeyError, zarr.errors.GroupNotFoundError, zarr.errors.NodeTypeValidationError):
        return "absent"
    attrs = group.attrs.asdict()
    if attrs.get("complete") is not True:
        return "partial"
    return "partial" if missing_arrays(root, episode_id, attrs.get("arrays") or []) else "complete"


def missing_arrays(root: zarr.Group, episode_id: str, names: list[str]) -> list[str]:
    """The arrays of ``names`` whose metadata is not in the episode group (one key lookup each)."""
    prefix = _full_path(root, episode_id)
    return [name for name in names if not sync(root.store.exists(f"{prefix}/{name}/zarr.json"))]


def raw_id_of(root: zarr.Group, episode_id: str) -> str | None:
    """The raw id an existing episode group was written for (None when there is none)."""
    try:
        attrs = zarr.open_group(root.store, path=_full_path(root, episode_id), mode="r").attrs.asdict()
    except (FileNotFoundError, KeyError, zarr.errors.GroupNotFoundError, zarr.errors.NodeTypeValidationError):
        return None
    return attrs.get("raw_episode_id") or attrs.get("episode_id")


def remove_episode(root: zarr.Group, episode_id: str) -> None:
    try:
        del root[episode_path(episode_id)]
    except KeyError:
        pass


def file_checksum(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths, key=lambda p: p.name):
        digest.update(os.fsencode(path.name))  # the name's bytes: the same as UTF-8 for every UTF-8 name
        with open(path, "rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
    return digest.hexdigest()


def prefetch(items: Iterator[T], depth: int = 2) -> Iterator[T]:
    """Run ``items`` in a thread ``depth`` steps ahead: decoding overlaps encoding and writing."""
    slots: queue.Queue = queue.Queue(maxsize=depth)
    done = object()

    def produce() -> None:
        try:
            for item in items:
                slots.put(item)
        except BaseException as exc:  # handed to the consumer, raised there
            slots.put(exc)
        slots.put(done)

    threading.Thread(target=produce, daemon=True).start()
    while (item := slots.get()) is not done:
        if isinstance(item, BaseException):
            raise item
        yield item


class WriterReplaced(RuntimeError):
    """Another writer (a re-run while a killed build's worker still ran) took the episode over."""


class ArraysVanished(RuntimeError):
    """Arrays the episode lists are gone before its commit: it must not be marked complete."""


def _full_path(root: zarr.Group, episode_id: str) -> str:
    return f"{root.path}/{episode_path(episode_id)}".lstrip("/")


def _writer_of(root: zarr.Group, episode_id: str) -> str | None:
    try:
        group = zarr.open_group(root.store, path=_full_path(root, episode_id), mode="r")
    except (FileNotFoundError, KeyError, zarr.errors.GroupNotFoundError, zarr.errors.NodeTypeValidationError):
        return None
    return group.attrs.get("writer")


def _commit(root: zarr.Group, episode_id: str, token: str) -> None:
    """Set ``complete`` (the commit point: readers see the episode from here on).

    The group's attrs are re-read from the store first, so a writer whose group was
    replaced by another writer's never commits (or overwrites) the other one's attrs.
    """
    group = zarr.open_group(root.store, path=_full_path(root, episode_id), mode="r+")
    if group.attrs.get("writer") != token:
        raise WriterReplaced(f"{episode_id}: another writer replaced this episode while it was being written")
    missing = missing_arrays(root, episode_id, group.attrs.get("arrays") or [])
    if missing:
        raise ArraysVanished(
            f"{episode_id}: {len(missing)} arrays vanished while it was written ({', '.join(missing[:4])});"
            " not committed"
        )
    group.attrs.update({"complete": True})


def write_frames(
    group: zarr.Group,
    camera: str,
    raw: RawEpisode,
    codec: str,
    decode_threads: int,
    on_frames: Callable[[int], None] | None,
    codec_options: dict | None = None,
) -> None:
    video = raw.videos[camera]
    options = frame_array_options(codec, video.height, video.width, **(codec_options or {}))
    array = group.create_array(
        f"{FRAMES}/{camera}", shape=(video.n_frames, video.height, video.width, 3), **options
    )
    array.attrs.update(
        {"camera": camera, "layout": "THWC", "color": "RGB", **frame_codec_attrs(array, codec)}
    )
    start = 0
    depth = 2
    shard = int(array.shards[0])  # whole shards of whole chunks: no video chunk is coded twice
    blocks = iter_frame_blocks(video.path, video.n_frames, shard, threads=decode_threads, ring=depth + 2)
    for block in prefetch(blocks, depth=depth):
        array[start : start + len(block)] = block  # a whole shard per write
        start += len(block)
        if on_frames:
            on_frames(len(block))


def write_numeric_arrays(group: zarr.Group, raw: RawEpisode) -> None:
    create_numeric_array(group, "timestamps", np.asarray(raw.timestamps, dtype=np.int64), {"unit": "ns"})
    for name, values in raw.arrays.items():
        create_numeric_array(group, name, values, raw.array_attrs.get(name))


def _dtype_name(values: np.ndarray) -> str:
    """The dtype as the record names it: strings are ``string`` whatever their longest value."""
    return "string" if values.dtype.kind in "UTO" else str(values.dtype)


def episode_features(raw: RawEpisode, codec: str) -> dict[str, Feature]:
    """The feature schema of what :func:`write_episode` stores for ``raw``, without a read."""
    vectors = isinstance(raw.attrs.get("vectors"), dict) and "state" in raw.attrs["vectors"]
    features = {
        f"{FRAMES}/{camera}": frame_feature(video.height, video.width, codec)
        for camera, video in raw.videos.items()
    }
    features["timestamps"] = Feature(dtype="int64", shape=[], unit="ns", codec=NUMERIC_CODEC)
    for name, values in raw.arrays.items():
        values = np.asarray(values)
        dtype = _dtype_name(values)
        array_codec = TEXT_CODEC if dtype == "string" else NUMERIC_CODEC
        features[name] = array_feature(
            name, dtype, values.shape, raw.n_frames, raw.array_attrs.get(name) or {}, array_codec, vectors
        )
    return dict(sorted(features.items()))


def write_episode(
    root: zarr.Group,
    raw: RawEpisode,
    codec: str = DEFAULT_FRAME_CODEC,
    decode_threads: int = 0,
    on_frames: Callable[[int], None] | None = None,
    codec_options: dict | None = None,
) -> EpisodeMeta:
    """Write ``raw`` as ``episodes/<key>``; on any error the partial group is removed.

    ``codec_options`` are :func:`frame_array_options`' video options (chunk_frames, crf).
    The key is :func:`episode_key` of the raw id: the one place where a source's episode
    ids become store keys, for every format and for the Python API alike.
    """
    key = episode_key(raw.episode_id)
    remove_episode(root, key)
    first = next(iter(raw.videos.values()))
    meta = EpisodeMeta(
        episode_id=key,
        raw_episode_id=raw.episode_id,
        source_format=raw.source_format,
        raw_path=raw.raw_path,
        fps=raw.fps,
        n_frames=raw.n_frames,
        cameras=list(raw.videos),
        height=first.height,
        width=first.width,
        frame_codec=codec,
        checksum=file_checksum(raw.raw_files),
        ingested=utc_now(),
        goalframe_version=__version__,
        warnings=raw.warnings,
        source=raw.attrs,
    )
    token = uuid.uuid4().hex
    extras = {
        "raw_files": [os.path.abspath(p) for p in raw.raw_files],  # for `goalframe verify`'s checksum
        "all_chunks_stored": True,  # every chunk file exists (write_empty_chunks): a missing one is damage
        "arrays": sorted(["timestamps", *raw.arrays, *(f"{FRAMES}/{camera}" for camera in raw.videos)]),
        "writer": token,
    }
    try:
        group = root.create_group(episode_path(key), attributes=meta.model_dump() | extras)
        # Dozens of small arrays cost ~5 ms of metadata writes each: overlap them with frames.
        with ThreadPoolExecutor(max_workers=1) as pool:
            numeric = pool.submit(write_numeric_arrays, group, raw)
            for camera in raw.videos:
                write_frames(group, camera, raw, codec, decode_threads, on_frames, codec_options)
            numeric.result()
        _commit(root, key, token)
    except WriterReplaced:
        raise  # the group is another writer's now: leave it alone
    except BaseException:
        if _writer_of(root, key) in (token, None):
            remove_episode(root, key)
        raise
    meta.complete = True
    return meta
