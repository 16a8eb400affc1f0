"""The one frame reader: frames of an episode camera by index, decoded and resized.

Every frame that leaves a dataset for a loader, an annotator or a review task is read
here. Frames are JPEG chunks (the ``goalframe.jpeg`` codec of :mod:`goalframe.storage.codecs`)
inside 64-frame shards. On local stores :class:`FrameReader` takes each frame's bytes
straight from the shard file (its index parsed by :mod:`goalframe.storage.shards`, each
chunk crc32c-checked) and decodes it with libjpeg-turbo, at a reduced DCT scale (1/2,
1/4, 1/8) when that still gives at least ``size`` pixels; any other store or codec goes
through zarr. :func:`read_frame_range` reads a contiguous run at full resolution.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import cv2
import google_crc32c
import numpy as np

from goalframe.media.images import resize_frame
from goalframe.schemas.layout import DatasetError
from goalframe.storage.codecs import JpegCodec
from goalframe.storage.layout import FRAMES
from goalframe.storage.shards import MISSING, ShardIndexError, all_missing, read_local_shard_index


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


@dataclass
class _ShardedJpeg:
    """Where the JPEG chunks of one frame array live: shard files of ``shard`` one-frame chunks."""

    directory: str
    keys: Any  # shard number -> chunk key (zarr's encoding)
    shard: int
    n_frames: int
    height: int
    width: int
    chunk_crc: bool  # each chunk ends with its crc32c (a Crc32cCodec after the JPEG codec)

    def payload(self, data: bytes, frame: int) -> bytes:
        """The JPEG bytes of a stored chunk, its checksum verified when it has one."""
        if not self.chunk_crc:
            return data
        body = data[:-4]
        if len(data) < 4 or google_crc32c.value(body) != int.from_bytes(data[-4:], "little"):
            raise DatasetError(
                f"{self.directory}: frame {frame} fails its checksum (corrupt chunk; see goalframe verify)"
            )
        return body

    def shard_file(self, number: int) -> str:
        return os.path.join(self.directory, self.keys(number))

    def read_index(self, number: int) -> np.ndarray:
        """(shard, 2) uint64 (offset, nbytes) of each chunk of a shard; missing chunks are 2**64-1."""
        path = self.shard_file(number)
        try:
            index = read_local_shard_index(path, self.shard)
        except ShardIndexError as exc:
            raise DatasetError(f"{path}: {exc.problem} (corrupt shard)") from None
        return all_missing(self.shard) if index is None else index


def _sharded_jpeg(array) -> _ShardedJpeg | None:
    """The fast-path description of a frame array, or None when zarr must read it."""
    from zarr.codecs import BytesCodec, Crc32cCodec, ShardingCodec, ShardingCodecIndexLocation
    from zarr.storage import LocalStore

    if not isinstance(array.store, LocalStore) or len(array.metadata.codecs) != 1:
        return None
    sharding = array.metadata.codecs[0]
    if (
        not isinstance(sharding, ShardingCodec)
        or not sharding.codecs
        or not isinstance(sharding.codecs[0], JpegCodec)
    ):
        return None
    inner = tuple(sharding.codecs[1:])
    if inner not in ((), (Crc32cCodec(),)):
        return None
    index = tuple(sharding.index_codecs)
    if sharding.index_location != ShardingCodecIndexLocation.end or len(index) != 2:
        return None
    if (
        not isinstance(index[0], BytesCodec)
        or str(getattr(index[0].endian, "value", index[0].endian)) != "little"
        or not isinstance(index[1], Crc32cCodec)
    ):
        return None
    n, height, width, channels = array.shape
    shard_shape = array.metadata.chunk_grid.chunk_shape
    if (
        tuple(sharding.chunk_shape) != (1, height, width, channels)
        or channels != 3
        or tuple(shard_shape[1:]) != (height, width, channels)
    ):
        return None
    encode = array.metadata.encode_chunk_key
    return _ShardedJpeg(
        directory=os.path.join(str(array.store.root), array.path),
        keys=lambda number: encode((number, 0, 0, 0)),
        shard=int(shard_shape[0]),
        n_frames=n,
        height=height,
        width=width,
        chunk_crc=bool(inner),
    )


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

    One per process (the datasets make it lazily). ``threads`` decode frames of one call in
    parallel (OpenCV releases the GIL); ``reduced_decode`` allows libjpeg's scaled DCT.
    """

    def __init__(self, ds, size: int, threads: int = 1, reduced_decode: bool = True):
        self.ds = ds
        self.size = int(size)
        self.threads = max(1, int(threads))
        self.reduced_decode = reduced_decode
        self._sources = LRUCache(1024)
        self._indexes = LRUCache(4096)
        self._pool: ThreadPoolExecutor | None = None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False)
            self._pool = None

    def _source(self, episode: str, camera: str) -> tuple[Any, _ShardedJpeg | None]:
        def make():
            array = self.ds.zarr_array(episode, f"{FRAMES}/{camera}")
            return array, _sharded_jpeg(array)

        return self._sources.get_or((episode, camera), make)

    def _map(self, function, items: list) -> list:
        if self.threads <= 1 or len(items) < 4:
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
        if sharded is not None:
            self._read_sharded(sharded, unique, out)
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

    def _read_sharded(self, source: _ShardedJpeg, unique: np.ndarray, out: np.ndarray) -> None:
        flag = (
            _reduced_flag(source.height, source.width, self.size) if self.reduced_decode else cv2.IMREAD_COLOR
        )
        payloads: list[bytes | None] = []
        for number in np.unique(unique // source.shard):
            members = unique[unique // source.shard == number]
            index = self._indexes.get_or(
                (source.directory, int(number)), lambda: source.read_index(int(number))
            )
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
