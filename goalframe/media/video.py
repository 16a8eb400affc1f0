"""mp4 reading and writing on PyAV (FFmpeg), shared by readers and generators."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path

import av
import numpy as np

from goalframe.schemas.episode import RawFormatError


@dataclass(frozen=True)
class VideoProbe:
    n_frames: int
    fps: float
    height: int
    width: int
    codec: str


def probe_video(path: str | Path) -> VideoProbe:
    """Frame count, rate and size from the container, counting packets when the header lacks a count."""
    path = Path(path)
    if not path.exists():
        raise RawFormatError(path, "video file is missing")
    try:
        with av.open(str(path)) as container:
            if not container.streams.video:
                raise RawFormatError(path, "no video stream")
            stream = container.streams.video[0]
            n_frames = stream.frames
            if n_frames <= 0:  # no count in the header: demux (cheap, no decoding)
                n_frames = sum(1 for p in container.demux(stream) if p.size)
            rate = stream.average_rate or stream.guessed_rate or 0
            return VideoProbe(
                n_frames=int(n_frames),
                fps=float(rate),
                height=stream.codec_context.height,
                width=stream.codec_context.width,
                codec=stream.codec_context.name,
            )
    except RawFormatError:
        raise
    except (av.error.FFmpegError, OSError, ValueError) as exc:
        raise RawFormatError(path, f"unreadable video ({exc.__class__.__name__}: {exc})") from None


def iter_frames(path: str | Path, limit: int | None = None, threads: int = 0) -> Iterator[np.ndarray]:
    """Decode RGB frames (H, W, 3) uint8 in order, at most ``limit`` of them.

    ``threads=0`` lets FFmpeg pick frame threading; pass 1 inside parallel workers that
    already use every core.
    """
    path = Path(path)
    try:
        with av.open(str(path)) as container:
            stream = container.streams.video[0]
            stream.thread_type = "AUTO"
            if threads:
                stream.codec_context.thread_count = threads
            count = 0
            for frame in container.decode(stream):
                if limit is not None and count >= limit:
                    return
                yield frame.to_ndarray(format="rgb24")
                count += 1
    except (av.error.FFmpegError, OSError) as exc:
        raise RawFormatError(path, f"video decoding failed ({exc.__class__.__name__}: {exc})") from None


def iter_frame_blocks(
    path: str | Path, n_frames: int, block: int, threads: int = 0, ring: int = 0
) -> Iterator[np.ndarray]:
    """Decode exactly ``n_frames`` frames as (block, H, W, 3) arrays (the last may be shorter).

    ``ring > 0`` reuses that many preallocated blocks in turn instead of allocating one per
    block (fresh 44 MB arrays cost as much in page faults as decoding them); the consumer
    must be done with a block before ``ring - 1`` further blocks are produced.
    Raises RawFormatError when the file holds fewer decodable frames than promised.
    """
    buffers: list[np.ndarray] = []
    produced = 0  # blocks handed out
    current: np.ndarray | None = None
    filled = decoded = 0
    for frame in iter_frames(path, limit=n_frames, threads=threads):
        if current is None:
            shape = (min(block, n_frames - decoded), *frame.shape)
            if ring and len(buffers) < ring:
                buffers.append(np.empty((block, *frame.shape), np.uint8))
            current = buffers[produced % ring][: shape[0]] if ring else np.empty(shape, np.uint8)
        current[filled] = frame
        filled += 1
        decoded += 1
        if filled == len(current):
            yield current
            produced += 1
            current, filled = None, 0
    if current is not None and filled:
        yield current[:filled]
    if decoded < n_frames:
        raise RawFormatError(path, f"video decodes to {decoded} frames, expected {n_frames}")


def write_mp4(
    path: str | Path,
    frames: Iterable[np.ndarray],
    fps: int,
    crf: int = 23,
    preset: str = "veryfast",
    gop: int | None = None,
) -> int:
    """Encode RGB uint8 frames to an h264 yuv420p mp4; returns the number written."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    count = 0
    with av.open(str(path), mode="w") as container:
        stream = container.add_stream("libx264", rate=Fraction(fps))
        stream.pix_fmt = "yuv420p"
        stream.options = {"crf": str(crf), "preset": preset}
        if gop:
            stream.codec_context.gop_size = gop
        for image in frames:
            if count == 0:
                stream.height, stream.width = image.shape[:2]
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24")
            for packet in stream.encode(frame):
                container.mux(packet)
            count += 1
        for packet in stream.encode():
            container.mux(packet)
    return count
