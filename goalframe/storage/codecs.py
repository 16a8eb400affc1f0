"""A JPEG frame codec for zarr 3 (array -> bytes), registered as ``goalframe.jpeg``.

No released imagecodecs has a zarr-3 JPEG codec, so goalframe ships one. It is registered
here on import and through the ``zarr.codecs`` entry point, so plain ``zarr.open`` reads
goalframe frames wherever goalframe is installed. Each chunk holds one frame (1, H, W, 3)
uint8 (RGB); it sits inside a sharding codec so 64 frames share one file.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from typing import TYPE_CHECKING

import cv2
import numpy as np
from zarr.abc.codec import ArrayBytesCodec
from zarr.core.buffer import Buffer, NDBuffer
from zarr.core.common import JSON, parse_named_configuration
from zarr.registry import register_codec

if TYPE_CHECKING:
    from typing import Self

    from zarr.core.array_spec import ArraySpec

CODEC_NAME = "goalframe.jpeg"


@dataclass(frozen=True)
class JpegCodec(ArrayBytesCodec):
    """Baseline JPEG (libjpeg-turbo through OpenCV) of RGB or gray uint8 frames."""

    is_fixed_size = False
    quality: int = 90

    def __init__(self, *, quality: int = 90) -> None:
        if not 1 <= int(quality) <= 100:
            raise ValueError(f"JPEG quality must be 1..100, got {quality}")
        object.__setattr__(self, "quality", int(quality))

    @classmethod
    def from_dict(cls, data: dict[str, JSON]) -> Self:
        _, configuration = parse_named_configuration(data, CODEC_NAME, require_configuration=False)
        return cls(**(configuration or {}))  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, JSON]:
        return {"name": CODEC_NAME, "configuration": {"quality": self.quality}}

    def validate(self, *, shape, dtype, chunk_grid) -> None:  # noqa: ANN001 - zarr's signature
        if np.dtype(dtype.to_native_dtype()) != np.uint8:
            raise ValueError(f"{CODEC_NAME} stores uint8 frames, not {dtype}")
        chunk_shape = getattr(chunk_grid, "chunk_shape", None)
        if chunk_shape is not None and (chunk_shape[0] != 1 or chunk_shape[-1] not in (1, 3)):
            raise ValueError(f"{CODEC_NAME} needs chunks of one frame (1, H, W, 1|3), got {chunk_shape}")

    def _encode_frame(self, chunk_array: NDBuffer, chunk_spec: ArraySpec) -> Buffer:
        frame = np.asarray(chunk_array.as_numpy_array())[0]
        if frame.shape[-1] == 3:
            frame = cv2.cvtColor(frame, cv2.COLOR_RGB2BGR)
        ok, encoded = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, self.quality])
        if not ok:
            raise ValueError("JPEG encoding failed")
        return chunk_spec.prototype.buffer.from_bytes(encoded.tobytes())

    def _decode_frame(self, chunk_bytes: Buffer, chunk_spec: ArraySpec) -> NDBuffer:
        data = np.frombuffer(chunk_bytes.to_bytes(), dtype=np.uint8)
        channels = chunk_spec.shape[-1]
        flag = cv2.IMREAD_COLOR if channels == 3 else cv2.IMREAD_GRAYSCALE
        frame = cv2.imdecode(data, flag)
        if frame is None:
            raise ValueError("corrupt JPEG chunk")
        if channels == 3:
            frame = cv2.cvtColor(frame, cv2.COLOR_BGR2RGB)
        frame = frame.reshape(chunk_spec.shape)
        return chunk_spec.prototype.nd_buffer.from_numpy_array(frame)

    # cv2 releases the GIL, so threads decode the frames of a window in parallel.
    async def _encode_single(self, chunk_array: NDBuffer, chunk_spec: ArraySpec) -> Buffer | None:
        return await asyncio.to_thread(self._encode_frame, chunk_array, chunk_spec)

    async def _decode_single(self, chunk_bytes: Buffer, chunk_spec: ArraySpec) -> NDBuffer:
        return await asyncio.to_thread(self._decode_frame, chunk_bytes, chunk_spec)

    def compute_encoded_size(self, input_byte_length: int, _chunk_spec: ArraySpec) -> int:
        raise NotImplementedError("JPEG output size is data dependent")


register_codec(CODEC_NAME, JpegCodec)
