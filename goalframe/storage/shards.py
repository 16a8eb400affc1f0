"""The index at the end of a zarr shard file: where each chunk's bytes are.

A shard written by zarr's sharding codec with ``index_location = end`` ends with one
(offset, nbytes) pair of little-endian uint64 per chunk, in C order of the chunks inside
the shard, then (with a ``Crc32cCodec`` index codec, as goalframe writes them) the CRC32C of
those pairs. A chunk that was never stored has both fields 2**64 - 1.

The frame reader (:mod:`goalframe.storage.frames`) reads frames through it without zarr,
and ``goalframe verify`` (:mod:`goalframe.storage.verify`) checks it; both parse it here.
"""

from __future__ import annotations

import google_crc32c
import numpy as np

#: The (offset, nbytes) entry of a chunk that is not stored in the shard.
MISSING = np.uint64(2**64 - 1)
ENTRY_BYTES = 16  # two uint64 per chunk
CRC_BYTES = 4


class ShardIndexError(ValueError):
    """A shard index that cannot be trusted; ``problem`` says why in a few words."""

    def __init__(self, problem: str):
        super().__init__(problem)
        self.problem = problem


def index_bytes(n_chunks: int, has_crc: bool = True) -> int:
    """How many bytes at the end of a shard file its index takes."""
    return ENTRY_BYTES * n_chunks + (CRC_BYTES if has_crc else 0)


def parse_shard_index(tail: bytes, n_chunks: int, has_crc: bool = True) -> np.ndarray:
    """(n_chunks, 2) uint64 (offset, nbytes) from the last :func:`index_bytes` of a shard file.

    Raises :class:`ShardIndexError` when ``tail`` is short (a cut file) or fails its checksum.
    """
    size = ENTRY_BYTES * n_chunks
    if len(tail) != index_bytes(n_chunks, has_crc):
        raise ShardIndexError("shard index truncated")
    table = tail[:size]
    if has_crc and google_crc32c.value(table) != int.from_bytes(tail[size:], "little"):
        raise ShardIndexError("shard index checksum mismatch")
    return np.frombuffer(table, dtype="<u8").reshape(n_chunks, 2)


def read_local_shard_index(path: str, n_chunks: int, has_crc: bool = True) -> np.ndarray | None:
    """The index of a shard file on the local disk, or None when the file does not exist
    (zarr writes no file for a shard whose chunks were never stored)."""
    size = index_bytes(n_chunks, has_crc)
    try:
        with open(path, "rb") as handle:
            handle.seek(0, 2)
            handle.seek(max(0, handle.tell() - size))
            tail = handle.read(size)
    except FileNotFoundError:
        return None
    return parse_shard_index(tail, n_chunks, has_crc)


def all_missing(n_chunks: int) -> np.ndarray:
    """The index of a shard with no stored chunk."""
    return np.full((n_chunks, 2), MISSING, dtype=np.uint64)
