"""The one frame reader: frames of an episode camera by index, decoded and resized.

Every frame that leaves a dataset for a loader, an annotator or a review task is read
here. On local stores :class:`FrameReader` takes each chunk's bytes straight from the shard
file (:mod:`goalframe.storage.shard_files`, each chunk crc32c-checked): JPEG chunks (the
``goalframe.jpeg`` codec, one frame each) are decoded with libjpeg-turbo, at a reduced DCT
scale (1/2, 1/4, 1/8) when that still gives at least ``size`` pixels; video chunks
(``goalframe.video``) by :mod:`goalframe.storage.video_frames`, each chunk once per read and
only up to the wanted frames, through a small cache of decoded frames. Any other store or
codec goes through zarr. :func:`read_frame_range` reads a contiguous run at full resolution.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import cv2
import numpy as np

from goalframe.media.images import resize_frame
from goalframe.schemas.layout import DatasetError
from goalframe.storage.codecs import JpegCodec
from goalframe.storage.layout import FRAMES
from goalframe.storage.shard_files import ShardedFrames, sharded_frames
from goalframe.storage.shards import MISSING
from goalframe.storage.video_frames import DEFAULT_CACHE_BYTES, DecodedFrames, read_video_frames


class LRUCache(OrderedDict):
    """A dict that forgets its least recently used entries past ``capacity``."""

    def __init__(self, capacity: int):
        super().__init__()
        self.capacity = capacity

    def get_or(self, key, make):
        if key in self:
            self.move_to_end(key)
            return self[key]
        value = make()
        self[key] = value
        while len(self) > self.capacity:
            self.popitem(last=False)
        return value


def _reduced_flag(height: int, width: int, size: int) -> int:
    """The smallest libjpeg DCT scale that still decodes to at least ``size`` x ``size``."""
    for factor, flag in (
        (8, cv2.IMREAD_REDUCED_COLOR_8),
        (4, cv2.IMREAD_REDUCED_COLOR_4),
        (2, cv2.IMREAD_REDUCED_COLOR_2),
    ):
        if height // factor >= size and width // factor >= size:
            return flag
    return cv2.IMREAD_COLOR


class FrameReader:
    """Frames of one dataset by index, resized to ``size``, as (N, 3, size, size) uint8 RGB.

    One per process (the datasets make it lazily). ``threads`` decode frames (JPEG) or chunks
    (video) of one call in parallel (OpenCV and FFmpeg release the GIL); ``reduced_decode``
    allows libjpeg's scaled DCT; ``cache_bytes`` bounds the decoded video frames kept.
    """

    def __init__(
        self,
        ds,
        size: int,
        threads: int = 1,
        reduced_decode: bool = True,
        cache_bytes: int = DEFAULT_CACHE_BYTES,
    ):
        self.ds = ds
        self.size = int(size)
        self.threads = max(1, int(threads))
        self.reduced_decode = reduced_decode
        self._sources = LRUCache(1024)
        self._indexes = LRUCache(4096)
        self._decoded = DecodedFrames(cache_bytes)
        self._pool: ThreadPoolExecutor | None = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None

    def _source(self, episode: str, camera: str) -> tuple[Any, ShardedFrames | None]:
        def make():
            array = self.ds.zarr_array(episode, f"{FRAMES}/{camera}")
            return array, sharded_frames(array)

        return self._sources.get_or((episode, camera), make)

    def _map(self, function, items: list, minimum: int = 4) -> list:
        if self.threads <= 1 or len(items) < minimum:
            return [function(item) for item in items]
        if self._pool is None:
            self._pool = ThreadPoolExecutor(self.threads, thread_name_prefix="goalframe-decode")
        return list(self._pool.map(function, items))

    def read(self, episode: str, camera: str, frames: np.ndarray) -> np.ndarray:
        """Frames at ``frames`` (any order, repeats allowed) as (N, 3, size, size) uint8 RGB."""
        frames = np.asarray(frames, dtype=np.int64).reshape(-1)
        unique, inverse = np.unique(frames, return_inverse=True)
        array, sharded = self._source(episode, camera)
        n = array.shape[0]
        if len(unique) and (unique[0] < 0 or unique[-1] >= n):
            raise DatasetError(
                f"{self.ds.path}: frames {unique[0]}..{unique[-1]} outside episode {episode!r} of {n} frames"
            )
        out = np.empty((len(unique), 3, self.size, self.size), dtype=np.uint8)
        if sharded is not None and isinstance(sharded.serializer, JpegCodec):
            self._read_sharded(sharded, unique, out)
        elif sharded is not None:
            read_video_frames(
                sharded,
                unique,
                out,
                self.size,
                self._decoded,
                lambda number: self._shard_index(sharded, number),
                lambda function, items: self._map(function, items, minimum=2),
            )
        else:
            self._read_zarr(array, unique, out)
        return out[inverse]

    def _read_zarr(self, array, unique: np.ndarray, out: np.ndarray) -> None:
        # contiguous runs in one read each (zarr decodes a run's chunks concurrently)
        breaks = np.flatnonzero(np.diff(unique) != 1) + 1
        position = 0
        for run in np.split(unique, breaks):
            if not len(run):
                continue
            block = array[int(run[0]) : int(run[-1]) + 1]
            if block.ndim == 3:
                block = block[..., None].repeat(3, axis=-1)
            for image in block:
                out[position] = resize_frame(image, self.size)
                position += 1

    def _shard_index(self, source: ShardedFrames, number: int) -> np.ndarray:
        return self._indexes.get_or((source.directory, number), lambda: source.read_index(number))

    def _read_sharded(self, source: ShardedFrames, unique: np.ndarray, out: np.ndarray) -> None:
        flag = (
            _reduced_flag(source.height, source.width, self.size) if self.reduced_decode else cv2.IMREAD_COLOR
        )
        payloads: list[bytes | None] = []
        for number in np.unique(unique // source.shard):
            members = unique[unique // source.shard == number]
            index = self._shard_index(source, int(number))
            entries = index[members % source.shard]
            if np.all(entries[:, 0] == MISSING):
                payloads.extend([None] * len(members))
                continue
            with open(source.shard_file(int(number)), "rb") as handle:
                fd = handle.fileno()
                for frame, (offset, nbytes) in zip(members, entries):
                    payloads.append(
                        None
                        if offset == MISSING
                        else source.payload(os.pread(fd, int(nbytes), int(offset)), int(frame))
                    )

        def decode(position: int) -> None:
            data = payloads[position]
            if data is None:  # a chunk never written holds the fill value
                out[position] = 0
                return
            image = cv2.imdecode(np.frombuffer(data, dtype=np.uint8), flag)
            if image is None:
                raise DatasetError(
                    f"{source.directory}: corrupt JPEG chunk for frame {int(unique[position])}"
                )
            out[position] = resize_frame(image, self.size, bgr=True)

        self._map(decode, list(range(len(payloads))))


def read_frame_range(ds, episode: str, camera: str, start: int, stop: int) -> np.ndarray:
    """Frames ``[start, stop)`` of one camera at full resolution, (N, H, W, 3) uint8 RGB."""
    if camera not in ds.cameras(episode):
        raise DatasetError(
            f"{ds.path}: episode {episode!r} has no camera {camera!r} (has {ds.cameras(episode)})"
        )
    n = ds.length(episode)
    if not 0 <= start <= stop <= n:
        raise DatasetError(f"{ds.path}: frames [{start}, {stop}) outside episode {episode!r} of {n} frames")
    return ds.zarr_array(episode, f"{FRAMES}/{camera}")[start:stop]
