"""Where the chunks of a sharded frame array live on a local disk, for reads without zarr.

A frame array as goalframe writes it (a sharding codec whose inner codecs are the frame
codec, ``goalframe.jpeg`` with one frame per chunk or ``goalframe.video`` with k frames per
chunk, then a CRC32C; the shard index at the end, little-endian, checksummed) is described
by :class:`ShardedFrames`; the frame reader then takes each chunk's bytes straight from the
shard file. Any other layout or store returns None from :func:`sharded_frames` and is read
through zarr.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from typing import Any

import google_crc32c
import numpy as np

from goalframe.schemas.layout import DatasetError
from goalframe.storage.codecs import JpegCodec
from goalframe.storage.shards import ShardIndexError, all_missing, read_local_shard_index
from goalframe.storage.video_codec import VideoCodec


@dataclass
class ShardedFrames:
    """Shard files of ``shard`` frames each, in chunks of ``chunk_frames`` frames."""

    directory: str
    keys: Any  # shard number -> chunk key (zarr's encoding)
    shard: int
    chunk_frames: int
    n_frames: int
    height: int
    width: int
    chunk_crc: bool  # each chunk ends with its crc32c (a Crc32cCodec after the frame codec)
    serializer: JpegCodec | VideoCodec

    @property
    def chunks_per_shard(self) -> int:
        return self.shard // self.chunk_frames

    def payload(self, data: bytes, frame: int) -> bytes:
        """The codec bytes of a stored chunk, its checksum verified when it has one."""
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
        """(chunks, 2) uint64 (offset, nbytes) of each chunk of a shard; missing chunks are 2**64-1."""
        path = self.shard_file(number)
        try:
            index = read_local_shard_index(path, self.chunks_per_shard)
        except ShardIndexError as exc:
            raise DatasetError(f"{path}: {exc.problem} (corrupt shard)") from None
        return all_missing(self.chunks_per_shard) if index is None else index


def sharded_frames(array) -> ShardedFrames | None:
    """The direct-read description of a frame array, or None when zarr must read it."""
    from zarr.codecs import BytesCodec, Crc32cCodec, ShardingCodec, ShardingCodecIndexLocation
    from zarr.storage import LocalStore

    if not isinstance(array.store, LocalStore) or len(array.metadata.codecs) != 1:
        return None
    sharding = array.metadata.codecs[0]
    if not isinstance(sharding, ShardingCodec) or not sharding.codecs:
        return None
    serializer = sharding.codecs[0]
    if not isinstance(serializer, JpegCodec | VideoCodec):
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
    chunk_frames = int(sharding.chunk_shape[0])
    if (
        tuple(sharding.chunk_shape[1:]) != (height, width, channels)
        or channels != 3
        or tuple(shard_shape[1:]) != (height, width, channels)
        or int(shard_shape[0]) % chunk_frames
        or (isinstance(serializer, JpegCodec) and chunk_frames != 1)
    ):
        return None
    encode = array.metadata.encode_chunk_key
    return ShardedFrames(
        directory=os.path.join(str(array.store.root), array.path),
        keys=lambda number: encode((number, 0, 0, 0)),
        shard=int(shard_shape[0]),
        chunk_frames=chunk_frames,
        n_frames=n,
        height=height,
        width=width,
        chunk_crc=bool(inner),
        serializer=serializer,
    )
