"""The frame reader's path for video-chunk arrays (``goalframe.video``) on local stores.

A read groups its frames by chunk: each chunk's bytes are read once from the shard file
(crc32c-checked), and its decoder (:mod:`goalframe.storage.video_decode`, one per thread,
kept open) decodes only up to the last wanted frame, from the keyframe before the first,
converting only the wanted frames to RGB. Resized frames are kept in a per-process LRU
bounded in bytes (:class:`DecodedFrames`), so a frame read again soon (a window and its goal
view, overlapping windows, neighbouring MSTH samples) is not decoded again.
"""

from __future__ import annotations

import os
from collections import OrderedDict
from collections.abc import Callable

import numpy as np

from goalframe.media.images import resize_frame
from goalframe.schemas.layout import DatasetError
from goalframe.storage.shard_files import ShardedFrames
from goalframe.storage.shards import MISSING
from goalframe.storage.video_decode import thread_decoder

DEFAULT_CACHE_BYTES = 32 * 2**20  # about 220 frames at 224 x 224


class DecodedFrames:
    """Resized frames by (array folder, chunk) -> {position in chunk: frame}; least recently used go first."""

    def __init__(self, max_bytes: int = DEFAULT_CACHE_BYTES):
        self.max_bytes = int(max_bytes)
        self.bytes = 0
        self._entries: OrderedDict[tuple, dict[int, np.ndarray]] = OrderedDict()

    def get(self, key: tuple) -> dict[int, np.ndarray]:
        entry = self._entries.get(key)
        if entry is None:
            return {}
        self._entries.move_to_end(key)
        return entry

    def add(self, key: tuple, frames: dict[int, np.ndarray]) -> None:
        if self.max_bytes <= 0 or not frames:
            return
        entry = self._entries.setdefault(key, {})
        self._entries.move_to_end(key)
        for position, frame in frames.items():
            if position not in entry:
                entry[position] = frame
                self.bytes += frame.nbytes
        while self.bytes > self.max_bytes and len(self._entries) > 1:
            _key, dropped = self._entries.popitem(last=False)
            self.bytes -= sum(frame.nbytes for frame in dropped.values())


def read_video_frames(
    source: ShardedFrames,
    unique: np.ndarray,
    out: np.ndarray,
    size: int,
    cache: DecodedFrames,
    shard_index: Callable[[int], np.ndarray],
    parallel: Callable[[Callable, list], list],
) -> None:
    """Fill ``out[i]`` with frame ``unique[i]`` (sorted, distinct) resized to (3, size, size)."""
    k = source.chunk_frames
    chunk_of = unique // k
    jobs = []  # (chunk, out slice start, positions wanted, cached frames, positions to decode)
    start = 0
    for chunk in np.unique(chunk_of).tolist():
        positions = (unique[chunk_of == chunk] % k).tolist()
        cached = cache.get((source.directory, chunk))
        jobs.append((chunk, start, positions, cached, [p for p in positions if p not in cached]))
        start += len(positions)
    # shard indexes are looked up here, not in the decoding threads (the index cache is not thread-safe)
    entries = {
        job[0]: shard_index(job[0] // source.chunks_per_shard)[job[0] % source.chunks_per_shard]
        for job in jobs
        if job[4]
    }

    def decode(job) -> dict[int, np.ndarray]:
        chunk, missing = job[0], job[4]
        return _decode_chunk(source, chunk, entries[chunk], missing, size) if missing else {}

    for job, decoded in zip(jobs, parallel(decode, jobs)):
        chunk, first, positions, cached, _missing = job
        cache.add((source.directory, chunk), decoded)
        for offset, position in enumerate(positions):
            frame = cached.get(position)
            out[first + offset] = decoded[position] if frame is None else frame


def _decode_chunk(
    source: ShardedFrames, chunk: int, entry: np.ndarray, positions: list[int], size: int
) -> dict[int, np.ndarray]:
    k = source.chunk_frames
    number = chunk // source.chunks_per_shard
    offset, nbytes = entry
    if offset == MISSING:  # a chunk never written holds the fill value
        return {p: np.zeros((3, size, size), np.uint8) for p in positions}
    first = chunk * k
    with open(source.shard_file(number), "rb") as handle:
        data = source.payload(os.pread(handle.fileno(), int(nbytes), int(offset)), first + positions[0])
    codec = source.serializer
    try:
        return {
            position: resize_frame(frame.to_ndarray(format="rgb24")[: source.height, : source.width], size)
            for position, frame in thread_decoder(codec.bitstream).frames(data, k, positions, codec.gop)
        }
    except ValueError as exc:
        raise DatasetError(
            f"{source.directory}: frames {first}..{first + k - 1} do not decode ({exc}; see goalframe verify)"
        ) from None
