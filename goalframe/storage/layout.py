"""Where things live inside a dataset and how each kind of array is chunked and encoded.

Frames: one frame per chunk (fast random access), 64 frames per shard file (60x fewer
files). Numeric arrays: one chunk per episode segment, Blosc zstd with bit-shuffle.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import zarr
from zarr.codecs import BloscCodec, Crc32cCodec

from goalframe.storage.codecs import JpegCodec

EPISODES = "episodes"
MASKS = "masks"
TABLES = "tables"
FRAMES = "frames"

FRAME_SHARD = 64  # frames per shard file: also the unit a writer owns and the ingest block
SEGMENT_ROWS = 8192  # rows per chunk of numeric time arrays (a VPT segment is <= 6000)
FRAME_CODECS = ("jpeg", "zstd")
JPEG_QUALITY = 90

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")


def safe_name(name: str) -> str:
    """A string usable as one zarr group name (no slashes, no surprises on any store)."""
    cleaned = _SAFE_NAME.sub("_", name).strip(".")
    if not cleaned:
        raise ValueError(f"cannot make a group name from {name!r}")
    return cleaned


def episode_path(episode_id: str) -> str:
    return f"{EPISODES}/{episode_id}"


def numeric_compressor() -> BloscCodec:
    return BloscCodec(cname="zstd", clevel=5, shuffle="bitshuffle")


def chunk_checksum() -> Crc32cCodec:
    """Last codec of every episode array: a flipped or cut chunk fails to decode (``goalframe verify``)."""
    return Crc32cCodec()


def frame_array_options(codec: str, height: int, width: int, channels: int = 3) -> dict[str, Any]:
    """create_array keyword arguments for a (T, H, W, C) uint8 frame array."""
    options: dict[str, Any] = {
        "dtype": np.uint8,
        "chunks": (1, height, width, channels),
        "shards": (FRAME_SHARD, height, width, channels),
        # Skip zarr's "is this chunk all fill value?" scan: ~1 ms per 640x360 frame, and
        # camera frames are never blank in practice (a blank one is stored, harmlessly).
        "config": {"write_empty_chunks": True},
    }
    if codec == "jpeg":
        options |= {"serializer": JpegCodec(quality=JPEG_QUALITY), "compressors": [chunk_checksum()]}
    elif codec == "zstd":
        options |= {"compressors": [numeric_compressor(), chunk_checksum()]}
    else:
        raise ValueError(f"unknown frame codec {codec!r}; choose one of {', '.join(FRAME_CODECS)}")
    return options


def create_numeric_array(group: zarr.Group, name: str, values: np.ndarray, attrs: dict | None = None) -> zarr.Array:
    """Write a whole numeric (or string) array in one go, chunked by episode segment."""
    values = np.asarray(values)
    if values.dtype == object:
        values = values.astype(str)
    chunks = (min(max(values.shape[0], 1), SEGMENT_ROWS), *values.shape[1:]) if values.ndim else ()
    is_text = values.dtype.kind in "UT"
    array = group.create_array(
        name,
        shape=values.shape,
        dtype=str if is_text else values.dtype,
        chunks=chunks,
        compressors=[chunk_checksum()] if is_text else [numeric_compressor(), chunk_checksum()],
        overwrite=True,
        # Every chunk is stored, even all-zero ones, so a missing chunk file is damage.
        config={"write_empty_chunks": True},
    )
    if values.size:
        array[...] = values
    if attrs:
        array.attrs.update(attrs)
    return array
