"""Resizing frames and masks, and mask overlap (IoU): the one place for each.

Two resize conventions exist on purpose, each named for what it keeps:

- :func:`resize_mask_nearest` (nearest neighbour) for training samples: a resized mask
  contains only source pixels, as torchvision resizes label maps;
- :func:`resize_mask_smooth` (bilinear on the 0/1 image, then > 0.5) for annotators, which
  move masks between working and frame resolution and want round edges back.

:func:`iou` makes each caller say what two empty masks score (``empty=``), because the
callers disagree (see its docstring).
"""

from __future__ import annotations

import cv2
import numpy as np


def resize_frame(image: np.ndarray, size: int, bgr: bool = False) -> np.ndarray:
    """(H, W, 3) uint8 -> (3, size, size) uint8 RGB, as torchvision's ``Resize(antialias=True)``.

    Antialiased bilinear on uint8 (torch's vectorised kernel): within 44 dB PSNR of exact
    area averaging at half its cost in OpenCV for 360x640 -> 224x224. ``bgr`` flips the
    channels of an OpenCV-decoded image on the way.
    """
    import torch  # only the loaders resize this way; the command line need not load torch
    import torch.nn.functional as F

    chw = torch.from_numpy(np.ascontiguousarray(image)).permute(2, 0, 1)
    if image.shape[:2] != (size, size):
        chw = F.interpolate(
            chw[None], size=(size, size), mode="bilinear", antialias=True, align_corners=False
        )[0]
    array = chw.numpy()
    return array[::-1] if bgr else array


def resize_mask_nearest(mask: np.ndarray, size: int) -> np.ndarray:
    """(H, W) bool -> (size, size) bool, nearest neighbour (the datasets' goal masks)."""
    if mask.shape != (size, size):
        mask = cv2.resize(mask.astype(np.uint8), (size, size), interpolation=cv2.INTER_NEAREST)
    return mask.astype(bool)


def resize_mask_smooth(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """A bool mask resized to (h, w): bilinear on the 0/1 image, then > 0.5."""
    height, width = size
    if mask.shape == (height, width):
        return mask.astype(bool)
    return cv2.resize(mask.astype(np.float32), (width, height), interpolation=cv2.INTER_LINEAR) > 0.5


def iou(a: np.ndarray, b: np.ndarray, *, empty: float) -> float:
    """Intersection over union of two bool masks; ``empty`` when both are empty.

    No default: scoring a track counts "nothing, and nothing found" as agreement
    (``empty=1.0``), while an annotator confirming a proposal must not be confirmed by an
    empty candidate (``empty=0.0``).
    """
    union = np.count_nonzero(a | b)
    return np.count_nonzero(a & b) / union if union else float(empty)
