"""Drawing on RGB frames for the overlay video: masks, prompt points, text banners (OpenCV).

A mask is filled half-transparently in a colour chosen against both the object's own pixels
and its surroundings (the palette colour farthest from the nearer of their means: not green
on grass, not purple on a purple cube) and outlined in that colour over a black edge, so it
reads on light and dark backgrounds alike. Text goes on bands above and below the frame,
so it never hides what the camera saw.
"""

from __future__ import annotations

import cv2
import numpy as np

from goalframe.media.images import mask_box
from goalframe.viewing.selection import PALETTE

FILL_ALPHA = 0.45
FONT = cv2.FONT_HERSHEY_SIMPLEX
FONT_SCALE = 0.5
LINE_HEIGHT = 20
WHITE, BLACK = (255, 255, 255), (0, 0, 0)


def contrasting_color(inside: np.ndarray, around: np.ndarray) -> tuple[int, int, int]:
    """The palette colour whose nearer distance to the mean of the object's pixels (``inside``)
    and to that of its surroundings (``around``), (N, 3) RGB each, is largest."""
    means = [
        pixels.reshape(-1, 3).astype(np.float64).mean(axis=0) for pixels in (inside, around) if len(pixels)
    ]
    if not means:
        return PALETTE[0]
    margins = [
        min(np.linalg.norm(np.asarray(color, np.float64) - mean) for mean in means) for color in PALETTE
    ]
    return PALETTE[int(np.argmax(margins))]


def surroundings(mask: np.ndarray, width: int = 9) -> np.ndarray:
    """The ring of pixels within ``width`` of the mask, outside it."""
    kernel = np.ones((2 * width + 1, 2 * width + 1), np.uint8)
    return cv2.dilate(mask.astype(np.uint8), kernel).astype(bool) & ~mask


def draw_mask(image: np.ndarray, mask: np.ndarray, color: tuple[int, int, int]) -> None:
    """Fill ``mask`` on ``image`` (in place) with ``color`` and outline it."""
    box = mask_box(mask)
    if box is None:
        return
    x0, y0, x1, y1 = box
    pad = 3  # room for the outline around the box
    x0, y0, x1, y1 = (
        max(0, x0 - pad),
        max(0, y0 - pad),
        min(mask.shape[1], x1 + pad),
        min(mask.shape[0], y1 + pad),
    )
    crop, inside = image[y0:y1, x0:x1], mask[y0:y1, x0:x1]  # work on the mask's box only
    region = crop[inside].astype(np.float32)
    crop[inside] = (region * (1 - FILL_ALPHA) + np.asarray(color, np.float32) * FILL_ALPHA).astype(np.uint8)
    contours, _ = cv2.findContours(inside.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    cv2.drawContours(crop, contours, -1, BLACK, 4, cv2.LINE_AA)
    cv2.drawContours(crop, contours, -1, color, 2, cv2.LINE_AA)


def draw_prompt(image: np.ndarray, x: float, y: float) -> None:
    """A ringed cross at the prompt point (column ``x``, row ``y``)."""
    centre = (int(round(x)), int(round(y)))
    for color, thickness in ((BLACK, 4), (WHITE, 2)):
        cv2.circle(image, centre, 9, color, thickness, cv2.LINE_AA)
        cv2.drawMarker(image, centre, color, cv2.MARKER_CROSS, 26, thickness, cv2.LINE_AA)


def draw_text(image: np.ndarray, text: str, x: int, y: int, color=WHITE) -> None:
    """One line of text with a dark outline, its baseline at row ``y``."""
    text = text.encode("ascii", "replace").decode()  # Hershey fonts draw ASCII only
    cv2.putText(image, text, (x, y), FONT, FONT_SCALE, BLACK, 3, cv2.LINE_AA)
    cv2.putText(image, text, (x, y), FONT, FONT_SCALE, color, 1, cv2.LINE_AA)


def text_width(text: str) -> int:
    return cv2.getTextSize(text, FONT, FONT_SCALE, 1)[0][0]


def fit_text(text: str, width: int) -> str:
    """``text`` cut (with "...") to what fits in ``width`` pixels."""
    if text_width(text) <= width:
        return text
    while text and text_width(text + "...") > width:
        text = text[:-1]
    return text + "..."


def draw_lines(band: np.ndarray, lines: list[tuple[str, tuple[int, int, int]]], x: int = 8) -> None:
    """Lines of (text, colour) on a band image (in place), one per LINE_HEIGHT from its top."""
    for index, (text, color) in enumerate(lines):
        draw_text(band, fit_text(text, band.shape[1] - x - 8), x, (index + 1) * LINE_HEIGHT - 4, color)
