"""A video-chunk frame codec for zarr 3 (array -> bytes), registered as ``goalframe.video``.

One chunk holds k consecutive frames (k, H, W, 3) uint8 RGB and is stored as one short
video stream, so frames cost video-size bytes instead of one JPEG each. Like
``goalframe.jpeg`` it is registered here on import and through the ``zarr.codecs`` entry
point, so plain ``zarr.open`` decodes it wherever goalframe is installed.

Streams are standard bitstreams that decode without a container file: h264 as raw Annex-B
(x264 writes its SPS/PPS in-band), AV1 as IVF (a 32-byte header, then a 12-byte header per
temporal unit). A chunk's bytes written to ``chunk.h264`` / ``chunk.ivf`` play in ffmpeg.

The edge chunk of an array arrives padded to k frames by zarr (fill value 0); those
frames are encoded too (black frames cost a few bytes) so decode always returns exactly
the chunk shape. Odd frame sizes are padded to even for 4:2:0 and cropped on decode.
"""

from __future__ import annotations

import asyncio
import os
from dataclasses import dataclass
from fractions import Fraction
from typing import TYPE_CHECKING

import av
import numpy as np
from zarr.abc.codec import ArrayBytesCodec
from zarr.core.buffer import Buffer, NDBuffer
from zarr.core.common import JSON, parse_named_configuration
from zarr.registry import register_codec

from goalframe.storage.video_decode import DECODERS, ivf_frame, ivf_header, thread_decoder

if TYPE_CHECKING:
    from typing import Self

    from zarr.core.array_spec import ArraySpec

CODEC_NAME = "goalframe.video"

# SVT-AV1 prints a banner per encoder (one per chunk) unless told to log errors only
os.environ.setdefault("SVT_LOG", "1")

# per bitstream: (encoder, decoder, default crf, crf range, default preset)
BITSTREAMS: dict[str, tuple[str, str, int, tuple[int, int], str]] = {
    "h264": ("libx264", DECODERS["h264"], 23, (0, 51), "veryfast"),  # slower presets: see benchmarks/README
    "av1": ("libsvtav1", DECODERS["av1"], 26, (0, 63), "8"),  # 26: masks as good as on JPEG (README)
}
PIXEL_FORMAT = "yuv420p"  # what the raw recordings use; 4:4:4 would double the bytes
_TIME_BASE = Fraction(1, 30)  # nominal: a chunk's frames only need an order, not a clock


@dataclass(frozen=True)
class VideoCodec(ArrayBytesCodec):
    """k frames per chunk as one h264 or AV1 stream; ``gop`` 0 = one keyframe per chunk."""

    is_fixed_size = False
    bitstream: str = "h264"
    crf: int = 23
    preset: str = "veryfast"
    gop: int = 0

    def __init__(
        self, *, bitstream: str = "h264", crf: int | None = None, preset: str | None = None, gop: int = 0
    ) -> None:
        if bitstream not in BITSTREAMS:
            raise ValueError(
                f"{CODEC_NAME}: bitstream must be one of {', '.join(BITSTREAMS)}, got {bitstream!r}"
            )
        _, _, default_crf, (low, high), default_preset = BITSTREAMS[bitstream]
        crf = default_crf if crf is None else int(crf)
        if not low <= crf <= high:
            raise ValueError(f"{CODEC_NAME}: {bitstream} crf must be {low}..{high}, got {crf}")
        if int(gop) < 0:
            raise ValueError(f"{CODEC_NAME}: gop must be >= 0 (0: one keyframe per chunk), got {gop}")
        object.__setattr__(self, "bitstream", bitstream)
        object.__setattr__(self, "crf", crf)
        object.__setattr__(self, "preset", str(default_preset if preset is None else preset))
        object.__setattr__(self, "gop", int(gop))

    @classmethod
    def from_dict(cls, data: dict[str, JSON]) -> Self:
        _, configuration = parse_named_configuration(data, CODEC_NAME, require_configuration=False)
        return cls(**(configuration or {}))  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, JSON]:
        return {
            "name": CODEC_NAME,
            "configuration": {
                "bitstream": self.bitstream,
                "crf": self.crf,
                "preset": self.preset,
                "gop": self.gop,
            },
        }

    def validate(self, *, shape, dtype, chunk_grid) -> None:  # noqa: ANN001 - zarr's signature
        if np.dtype(dtype.to_native_dtype()) != np.uint8:
            raise ValueError(f"{CODEC_NAME} stores uint8 frames, not {dtype}")
        chunk_shape = getattr(chunk_grid, "chunk_shape", None)
        if chunk_shape is not None and (len(chunk_shape) != 4 or chunk_shape[-1] != 3):
            raise ValueError(f"{CODEC_NAME} needs chunks of RGB frames (k, H, W, 3), got {chunk_shape}")

    # -- encoding ---------------------------------------------------------------------------

    def encode_frames(self, frames: np.ndarray) -> bytes:
        """(k, H, W, 3) uint8 RGB -> one stream of k frames."""
        k, height, width, _ = frames.shape
        padded = _pad_even(frames)
        encoder = av.CodecContext.create(BITSTREAMS[self.bitstream][0], "w")
        encoder.width, encoder.height = padded.shape[2], padded.shape[1]
        encoder.pix_fmt = PIXEL_FORMAT
        encoder.time_base = _TIME_BASE
        encoder.framerate = 1 / _TIME_BASE
        encoder.gop_size = self.gop or k
        encoder.options = self._encoder_options(k)
        packets: list[bytes] = []
        for index, image in enumerate(padded):
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(image), format="rgb24").reformat(
                format=PIXEL_FORMAT
            )
            frame.pts = index
            packets.extend(bytes(packet) for packet in encoder.encode(frame))
        packets.extend(bytes(packet) for packet in encoder.encode(None))
        if self.bitstream == "h264":
            return b"".join(packets)  # x264's packets are Annex-B already
        return _ivf(packets, encoder.width, encoder.height)

    def _encoder_options(self, k: int) -> dict[str, str]:
        if self.bitstream == "h264":
            # no scene-cut keyframes: a chunk's keyframes are exactly where gop puts them
            return {"crf": str(self.crf), "preset": self.preset, "x264-params": "scenecut=0:log=-1"}
        # SVT-AV1's default keyframe interval and lookahead exceed a short chunk
        return {"crf": str(self.crf), "preset": self.preset, "svtav1-params": f"keyint={self.gop or k}:scd=0"}

    # -- decoding ---------------------------------------------------------------------------

    def decode_frames(self, data: bytes, shape: tuple[int, ...]) -> np.ndarray:
        """One stream -> exactly ``shape`` = (k, H, W, 3); a short or broken stream raises."""
        return thread_decoder(self.bitstream).decode_all(data, tuple(shape))

    def _encode_chunk(self, chunk_array: NDBuffer, chunk_spec: ArraySpec) -> Buffer:
        frames = np.asarray(chunk_array.as_numpy_array())
        return chunk_spec.prototype.buffer.from_bytes(self.encode_frames(frames))

    def _decode_chunk(self, chunk_bytes: Buffer, chunk_spec: ArraySpec) -> NDBuffer:
        frames = self.decode_frames(chunk_bytes.to_bytes(), tuple(chunk_spec.shape))
        return chunk_spec.prototype.nd_buffer.from_numpy_array(frames)

    # FFmpeg releases the GIL while it codes, so threads code a shard's chunks in parallel.
    async def _encode_single(self, chunk_array: NDBuffer, chunk_spec: ArraySpec) -> Buffer | None:
        return await asyncio.to_thread(self._encode_chunk, chunk_array, chunk_spec)

    async def _decode_single(self, chunk_bytes: Buffer, chunk_spec: ArraySpec) -> NDBuffer:
        return await asyncio.to_thread(self._decode_chunk, chunk_bytes, chunk_spec)

    def compute_encoded_size(self, input_byte_length: int, _chunk_spec: ArraySpec) -> int:
        raise NotImplementedError("video output size is data dependent")


def _pad_even(frames: np.ndarray) -> np.ndarray:
    """4:2:0 needs even sizes: repeat the last row / column where one is odd."""
    pad_h, pad_w = frames.shape[1] % 2, frames.shape[2] % 2
    if not (pad_h or pad_w):
        return frames
    return np.pad(frames, ((0, 0), (0, pad_h), (0, pad_w), (0, 0)), mode="edge")


def _ivf(packets: list[bytes], width: int, height: int) -> bytes:
    header = ivf_header(width, height, len(packets), _TIME_BASE.denominator)
    return header + b"".join(ivf_frame(pts, packet) for pts, packet in enumerate(packets))


register_codec(CODEC_NAME, VideoCodec)
