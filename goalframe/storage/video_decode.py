"""Decoding video chunks (``goalframe.video``): reused decoders, only the frames a read wants.

A chunk is one closed-GOP stream of k frames with a keyframe every ``gop`` frames (``gop`` =
k by default), so the packets of keyframe g*gop onwards decode on their own: a read of
frame j starts at the keyframe at or before j and stops as soon as j is out, instead of
decoding the whole chunk. Frames between two wanted ones are decoded (they are references)
but never converted to RGB. Packet n of a chunk is frame n in decode order; with h264
B-frames the decoder outputs frames in display order a few packets later, which the
counting below follows (a closed GOP starts and ends with the same frames in both orders).

One :class:`ChunkDecoder` per bitstream and thread (:func:`thread_decoder`) keeps its
FFmpeg codec context open across chunks (flushed between them); a forked process makes its
own. Decoding is single-threaded per chunk: parallelism comes from decoding several chunks
at once.
"""

from __future__ import annotations

import os
import struct
import threading
from collections.abc import Iterable, Iterator

import av
import numpy as np

#: per bitstream: the FFmpeg decoder
DECODERS = {"h264": "h264", "av1": "libdav1d"}
_IVF_HEADER = struct.Struct("<4sHH4sHHIIII")
_IVF_FRAME = struct.Struct("<IQ")
_LOCAL = threading.local()


class ChunkDecoder:
    """A reusable decoder of one bitstream: whole chunks, or just the frames a read wants."""

    def __init__(self, bitstream: str):
        if bitstream not in DECODERS:
            raise ValueError(f"unknown video bitstream {bitstream!r}")
        self.bitstream = bitstream
        self._context: av.CodecContext | None = None
        self._parser: av.CodecContext | None = None
        self.frames_decoded = 0  # frames out of the decoder, wanted or not (what a read costs)

    def _fresh(self) -> av.CodecContext:
        """The open decoder with no state left from an earlier chunk."""
        if self._context is None:
            context = av.CodecContext.create(DECODERS[self.bitstream], "r")
            context.thread_count = 1
            self._context = context
        else:
            self._context.flush_buffers()
        return self._context

    def packets(self, data: bytes) -> list:
        """The chunk's packets in decode order (one per frame)."""
        if self.bitstream == "av1":
            return [av.Packet(payload) for payload in ivf_payloads(data)]
        if self._parser is None:
            self._parser = av.CodecContext.create(DECODERS["h264"], "r")
        return self._parser.parse(data) + self._parser.parse(None)

    def _from(self, packets: list, start: int) -> Iterator[tuple[int, av.VideoFrame]]:
        """(display position, frame) of every frame from keyframe ``start`` to the chunk's end."""
        context = self._fresh()
        position = start
        for packet in [*packets[start:], None]:
            for frame in context.decode(packet):
                self.frames_decoded += 1
                yield position, frame
                position += 1

    def frames(
        self, data: bytes, k: int, wanted: Iterable[int], gop: int = 0
    ) -> Iterator[tuple[int, av.VideoFrame]]:
        """(position, frame) of each wanted position (0 <= position < k), in increasing order.

        Raises ValueError for a stream that does not decode to k frames where it is read.
        """
        gop = gop or k
        try:
            packets = self.packets(data)
            if len(packets) != k:
                raise ValueError(f"{len(packets)} frames in the stream, expected {k}")
            stream, at = None, 0
            for position in sorted(set(int(p) for p in wanted)):
                keyframe = position - position % gop
                if stream is None or keyframe > at:  # a keyframe nearer than the decoder: seek
                    stream = self._from(packets, keyframe)
                for decoded, frame in stream:
                    at = decoded + 1
                    if decoded == position:
                        yield position, frame
                        break
                else:
                    raise ValueError(f"the stream ends before frame {position} of {k}")
        except av.error.FFmpegError as exc:
            self._context = None  # never reuse a decoder that failed midway
            raise ValueError(f"corrupt {self.bitstream} chunk: {exc}") from exc
        except ValueError as exc:
            self._context = None
            raise ValueError(f"corrupt {self.bitstream} chunk: {exc}") from None

    def decode_all(self, data: bytes, shape: tuple[int, ...]) -> np.ndarray:
        """The whole chunk as exactly ``shape`` = (k, H, W, 3) uint8 RGB (odd sizes cropped)."""
        k, height, width, _ = shape
        out = np.empty((k, height, width, 3), np.uint8)
        packets = None
        try:
            packets = self.packets(data)
            count = 0
            for _position, frame in self._from(packets, 0):
                if count < k:
                    out[count] = frame.to_ndarray(format="rgb24")[:height, :width]
                count += 1
        except av.error.FFmpegError as exc:
            self._context = None
            raise ValueError(f"corrupt {self.bitstream} chunk: {exc}") from exc
        if count != k:
            self._context = None
            raise ValueError(f"corrupt {self.bitstream} chunk: {count} frames decoded, expected {k}")
        return out


def thread_decoder(bitstream: str) -> ChunkDecoder:
    """This thread's decoder of ``bitstream`` (a new one after a fork)."""
    if getattr(_LOCAL, "pid", None) != os.getpid():
        _LOCAL.pid, _LOCAL.decoders = os.getpid(), {}
    decoder = _LOCAL.decoders.get(bitstream)
    if decoder is None:
        decoder = _LOCAL.decoders[bitstream] = ChunkDecoder(bitstream)
    return decoder


def ivf_header(width: int, height: int, frames: int, rate: int) -> bytes:
    return _IVF_HEADER.pack(b"DKIF", 0, 32, b"AV01", width, height, rate, 1, frames, 0)


def ivf_frame(pts: int, packet: bytes) -> bytes:
    return _IVF_FRAME.pack(len(packet), pts) + packet


def ivf_payloads(data: bytes) -> list[bytes]:
    """The temporal units of an IVF stream; a cut or headerless stream raises ValueError."""
    if len(data) < _IVF_HEADER.size or data[:4] != b"DKIF":
        raise ValueError("no IVF header")
    payloads, offset = [], _IVF_HEADER.size
    while offset < len(data):
        if offset + _IVF_FRAME.size > len(data):
            raise ValueError("truncated IVF frame header")
        size, _ = _IVF_FRAME.unpack_from(data, offset)
        offset += _IVF_FRAME.size
        if offset + size > len(data):
            raise ValueError("truncated IVF frame")
        payloads.append(data[offset : offset + size])
        offset += size
    return payloads
