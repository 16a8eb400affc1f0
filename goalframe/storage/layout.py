"""Where things live inside a dataset and how each kind of array is chunked and encoded.

Frames: JPEG / zstd keep one frame per chunk (fast random access), 64 frames per shard
file (60x fewer files); the video codecs (h264, av1) keep k consecutive frames per chunk as
one stream, in shards of a whole number of chunks. Numeric arrays: one chunk per episode segment,
Blosc zstd with bit-shuffle.
"""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import zarr
from zarr.codecs import BloscCodec, Crc32cCodec

from goalframe.storage.codecs import JpegCodec
from goalframe.storage.video_codec import BITSTREAMS, VideoCodec

EPISODES = "episodes"
MASKS = "masks"
TABLES = "tables"
FRAMES = "frames"

FRAME_SHARD = 64  # frames per shard file: also the unit a writer owns and the ingest block
SEGMENT_ROWS = 8192  # rows per chunk of numeric time arrays (a VPT segment is <= 6000)
VIDEO_CODECS = tuple(BITSTREAMS)  # h264, av1
FRAME_CODECS = ("jpeg", "zstd", *VIDEO_CODECS)
# What ingest and build write without --codec: at most LeRobot's bytes at LeRobot's quality,
# loaders faster (benchmarks/storage.py; README "Frame codecs").
DEFAULT_FRAME_CODEC = "av1"
JPEG_QUALITY = 90
VIDEO_CHUNK_FRAMES = 16  # frames per video chunk: what a read of one frame decodes at most
VIDEO_GOP = 4  # a keyframe every 4 frames inside a chunk: a sparse read decodes at most 3 extra

_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]")
# zarr's local store writes a metadata document to ``zarr.<32 hex>.partial`` and renames it into
# place: a writer killed in between leaves that file behind, and it is no group of the dataset
_ORPHAN_WRITE = re.compile(r"^zarr\.[0-9a-f]{32}\.partial$")


def is_orphan_write(name: str) -> bool:
    """Whether a folder entry is the temporary file of a metadata write a killed writer left."""
    return bool(_ORPHAN_WRITE.match(name))


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


def frame_array_options(
    codec: str,
    height: int,
    width: int,
    channels: int = 3,
    chunk_frames: int | None = None,
    crf: int | None = None,
    gop: int | None = None,
) -> dict[str, Any]:
    """create_array keyword arguments for a (T, H, W, C) uint8 frame array.

    ``chunk_frames``, ``crf`` and ``gop`` (frames per keyframe inside a chunk, 0: one per
    chunk) apply to the video codecs only (defaults: VIDEO_CHUNK_FRAMES, the bitstream's own
    crf, VIDEO_GOP or one per chunk if chunks are that short); a video shard holds the smallest whole
    number of chunks that reaches FRAME_SHARD frames, so a writer still owns whole chunks.
    """
    chunk = 1
    if codec in VIDEO_CODECS:
        chunk = int(chunk_frames or VIDEO_CHUNK_FRAMES)
        if chunk < 1:
            raise ValueError(f"chunk frames must be >= 1, got {chunk}")
        if gop is not None and not 0 <= int(gop) <= chunk:
            raise ValueError(
                f"gop must be 0..{chunk} (the chunk frames; 0: one keyframe per chunk), got {gop}"
            )
        if gop is None:
            gop = VIDEO_GOP if chunk > VIDEO_GOP else 0
    elif chunk_frames not in (None, 1) or crf is not None or gop is not None:
        raise ValueError(
            f"--chunk-frames, --crf and --gop apply to the video codecs ({', '.join(VIDEO_CODECS)}),"
            f" not {codec!r}"
        )
    options: dict[str, Any] = {
        "dtype": np.uint8,
        "chunks": (chunk, height, width, channels),
        "shards": (frame_shard(chunk), height, width, channels),
        # Skip zarr's "is this chunk all fill value?" scan: ~1 ms per 640x360 frame, and
        # camera frames are never blank in practice (a blank one is stored, harmlessly).
        "config": {"write_empty_chunks": True},
    }
    if codec == "jpeg":
        options |= {"serializer": JpegCodec(quality=JPEG_QUALITY), "compressors": [chunk_checksum()]}
    elif codec == "zstd":
        options |= {"compressors": [numeric_compressor(), chunk_checksum()]}
    elif codec in VIDEO_CODECS:
        # the checksum after the stream: `verify` names a flipped byte before the decoder sees it
        options |= {
            "serializer": VideoCodec(bitstream=codec, crf=crf, gop=int(gop or 0)),
            "compressors": [chunk_checksum()],
        }
    else:
        raise ValueError(f"unknown frame codec {codec!r}; choose one of {', '.join(FRAME_CODECS)}")
    return options


def frame_shard(chunk_frames: int) -> int:
    """Frames per shard file for chunks of ``chunk_frames``: a whole number of chunks, >= FRAME_SHARD."""
    return chunk_frames * -(-FRAME_SHARD // chunk_frames)


def frame_codec_attrs(array: zarr.Array, codec: str) -> dict[str, Any]:
    """What the frame array's attrs record of its codec (the metadata holds the same)."""
    attrs: dict[str, Any] = {"codec": codec}
    serializer = array.serializer
    if isinstance(serializer, VideoCodec):
        attrs |= {
            "chunk_frames": int(array.chunks[0]),
            "crf": serializer.crf,
            "preset": serializer.preset,
            "gop": serializer.gop or int(array.chunks[0]),
        }
    return attrs


def create_numeric_array(
    group: zarr.Group, name: str, values: np.ndarray, attrs: dict | None = None
) -> zarr.Array:
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
