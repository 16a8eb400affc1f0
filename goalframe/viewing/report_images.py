"""The report's pictures: frames with mask overlays, zooms, labelled panels, PNG bytes.

A mask is drawn as a translucent fill in whichever of a few saturated colours lies farthest
from the colours under and around it (a fixed teal vanished on grass in Label Studio), with
a dark-edged outline in the same colour, so it reads on bright and dark ground alike.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass

import cv2
import numpy as np
from PIL import Image, ImageDraw, ImageFont

from goalframe.media.images import mask_box

PANEL_WIDTH = 320  # pixels of one panel: half a VPT or AgiBot frame
THUMB_WIDTH = 210  # six cards to a row of the HTML page
HEADER_HEIGHT = 22
GAP = 4
FILL_ALPHA = 0.0  # between the stripes: the object as it is
STRIPE_ALPHA = 0.75
STRIPE = 3  # pixels per stripe, as drawn
MIN_ZOOM = 1.5  # below this enlargement the zoom panel would repeat the whole-frame one
THUMB_ZOOM = 3.0  # a thumbnail shows the mask enlarged from this magnification on
BACKGROUND = (255, 255, 255)
PLACEHOLDER_GREY = (225, 225, 225)
PALETTE = ((255, 0, 255), (255, 230, 0), (0, 230, 255), (255, 40, 40))


@dataclass(frozen=True)
class Picture:
    """One PNG of the report: its file name beside report.md, bytes, and alt text."""

    name: str
    png: bytes
    alt: str

    @property
    def size(self) -> tuple[int, int]:
        return png_size(self.png)


def png_bytes(rgb: np.ndarray) -> bytes:
    ok, data = cv2.imencode(".png", np.ascontiguousarray(rgb[..., ::-1]))
    if not ok:
        raise ValueError(f"could not encode a {rgb.shape} image as PNG")
    return data.tobytes()


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk."""
    if data[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("not a PNG")
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _font(size: int = 14) -> ImageFont.ImageFont:
    return ImageFont.load_default(size=size)


def contrasting_colour(frame: np.ndarray, mask: np.ndarray) -> tuple[int, int, int]:
    """The palette colour farthest from both the mean colour under the mask (the fill shows) and
    the mean colour of a ring around it (the outline shows): the larger of the two smaller distances."""
    box = mask_box(mask)
    if box is None:
        return _farthest([frame.reshape(-1, 3)])
    x0, y0, x1, y1 = box
    pad = max(4, (x1 - x0 + y1 - y0) // 4)
    window = (slice(max(0, y0 - pad), y1 + pad), slice(max(0, x0 - pad), x1 + pad))
    inside, around = frame[window][mask[window]], frame[window][~mask[window]]
    return _farthest([region for region in (inside, around) if len(region)])


def _farthest(regions: list[np.ndarray]) -> tuple[int, int, int]:
    means = [region.reshape(-1, 3).astype(np.float32).mean(0) for region in regions]
    nearest = [min(float(np.linalg.norm(np.array(c, np.float32) - m)) for m in means) for c in PALETTE]
    return PALETTE[int(np.argmax(nearest))]


def _scale(image: np.ndarray, width: int) -> np.ndarray:
    height = max(1, round(image.shape[0] * width / image.shape[1]))
    interpolation = cv2.INTER_AREA if width < image.shape[1] else cv2.INTER_LINEAR
    return cv2.resize(image, (width, height), interpolation=interpolation)


def _scale_mask(mask: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    """Mask at (h, w); a low threshold keeps a few-pixel mask from vanishing when shrunk."""
    height, width = size
    scaled = cv2.resize(mask.astype(np.float32), (width, height), interpolation=cv2.INTER_AREA)
    return scaled > (0.5 if width >= mask.shape[1] else 0.3)


def draw_mask(image: np.ndarray, mask: np.ndarray, colour: tuple[int, int, int]) -> np.ndarray:
    """``image`` with ``mask`` (same size) hatched and outlined (dark edge under a colour line).

    Diagonal stripes, not a flat tint: a tinted object reads as an object of another colour
    (cyan over a purple cube looks like a blue cube), stripes read as an overlay on anything.
    """
    out = image.copy()
    if mask.any():
        rows, cols = np.indices(mask.shape)
        stripe = ((rows + cols) // STRIPE) % 2 == 0
        fill = np.array(colour, np.float32)
        for alpha, where in ((STRIPE_ALPHA, mask & stripe), (FILL_ALPHA, mask & ~stripe)):
            out[where] = (out[where].astype(np.float32) * (1 - alpha) + fill * alpha).astype(np.uint8)
        contours, _ = cv2.findContours(mask.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
        cv2.drawContours(out, contours, -1, (0, 0, 0), 4, lineType=cv2.LINE_AA)
        cv2.drawContours(out, contours, -1, colour, 2, lineType=cv2.LINE_AA)
    return out


def draw_point(image: np.ndarray, row: float, col: float, colour: tuple[int, int, int]) -> np.ndarray:
    """A ringed crosshair at (row, col) of ``image``: where the prompt was."""
    out = image.copy()
    centre = (round(col), round(row))
    for thickness, paint in ((4, (0, 0, 0)), (2, colour)):
        cv2.circle(out, centre, 7, paint, thickness, lineType=cv2.LINE_AA)
        for dx, dy in ((1, 0), (-1, 0), (0, 1), (0, -1)):
            tip = (centre[0] + 12 * dx, centre[1] + 12 * dy)
            cv2.line(out, (centre[0] + 7 * dx, centre[1] + 7 * dy), tip, paint, thickness)
    return out


def frame_panel(frame: np.ndarray, width: int = PANEL_WIDTH, prompt: tuple[float, float] | None = None):
    """The frame at ``width``, with the prompt point (frame pixels) marked when given."""
    panel = _scale(frame, width)
    if prompt is not None and all(np.isfinite(prompt)):
        factor = width / frame.shape[1]
        near = np.zeros(frame.shape[:2], bool)
        row, col = (
            int(np.clip(prompt[0], 0, frame.shape[0] - 1)),
            int(np.clip(prompt[1], 0, frame.shape[1] - 1)),
        )
        near[max(0, row - 12) : row + 12, max(0, col - 12) : col + 12] = True
        panel = draw_point(panel, prompt[0] * factor, prompt[1] * factor, contrasting_colour(frame, near))
    return panel


def mask_panel(frame: np.ndarray, mask: np.ndarray, width: int = PANEL_WIDTH) -> np.ndarray:
    """The frame at ``width`` with the mask drawn over it."""
    panel = _scale(frame, width)
    return draw_mask(panel, _scale_mask(mask, panel.shape[:2]), contrasting_colour(frame, mask))


def zoom_box(mask: np.ndarray, aspect: float, centre: tuple[float, float] | None = None) -> tuple[int, ...]:
    """(x0, y0, x1, y1) of a crop with ``aspect`` (w / h) around the mask (or ``centre``), with margin."""
    height, width = mask.shape
    box = mask_box(mask)
    if box is None:
        row, col = centre if centre is not None else (height / 2, width / 2)
        box = (int(col), int(row), int(col) + 1, int(row) + 1)
    x0, y0, x1, y1 = box
    crop_h = max((y1 - y0) * 1.6, (x1 - x0) * 1.6 / aspect, 60.0)
    crop_h = min(crop_h, height, width / aspect)
    crop_w = crop_h * aspect
    cx, cy = (x0 + x1) / 2, (y0 + y1) / 2
    left = int(np.clip(round(cx - crop_w / 2), 0, width - round(crop_w)))
    top = int(np.clip(round(cy - crop_h / 2), 0, height - round(crop_h)))
    return left, top, left + round(crop_w), top + round(crop_h)


def enlarged(
    frame: np.ndarray, mask: np.ndarray, width: int, centre: tuple[float, float] | None = None
) -> tuple[np.ndarray, float]:
    """(panel, magnification against the whole frame at ``width``): the crop around the mask
    (or ``centre``) enlarged to ``width``, the mask drawn."""
    x0, y0, x1, y1 = zoom_box(mask, frame.shape[1] / frame.shape[0], centre)
    crop, crop_mask = frame[y0:y1, x0:x1], mask[y0:y1, x0:x1]
    height = round(width * crop.shape[0] / crop.shape[1])
    panel = cv2.resize(crop, (width, height), interpolation=cv2.INTER_CUBIC)
    scaled = cv2.resize(crop_mask.astype(np.uint8), (width, height), interpolation=cv2.INTER_NEAREST) > 0
    return draw_mask(panel, scaled, contrasting_colour(crop, crop_mask)), frame.shape[1] / (x1 - x0)


def zoom_panel(
    frame: np.ndarray, mask: np.ndarray, width: int = PANEL_WIDTH, centre: tuple[float, float] | None = None
) -> tuple[np.ndarray, str]:
    """(panel, title): the mask enlarged; for a mask too large to enlarge, the mask alone (white
    on black), which shows its holes and edges."""
    panel, magnification = enlarged(frame, mask, width, centre)
    if magnification < MIN_ZOOM:
        alone = np.repeat(_scale_mask(mask, _scale(frame, width).shape[:2])[..., None], 3, axis=2)
        return alone.astype(np.uint8) * 255, "mask alone (white)"
    return panel, f"enlarged x{magnification:.1f}"


def thumbnail(frame: np.ndarray, mask: np.ndarray, width: int = THUMB_WIDTH) -> tuple[np.ndarray, str]:
    """(panel, note): the frame with the mask at ``width``, or the mask enlarged when it would be
    a few pixels there (a sliver is what a reviewer must see)."""
    panel, magnification = enlarged(frame, mask, width)
    if mask.any() and magnification >= THUMB_ZOOM:
        return panel, f", x{magnification:.0f}"
    return mask_panel(frame, mask, width), ""


def placeholder(text: str, width: int = PANEL_WIDTH, height: int = 180) -> np.ndarray:
    """A grey panel saying why there is no picture."""
    image = Image.new("RGB", (width, height), PLACEHOLDER_GREY)
    draw = ImageDraw.Draw(image)
    lines = _wrap(draw, text, width - 20, _font(15))
    y = height // 2 - 10 * len(lines)
    for line in lines:
        draw.text((width // 2, y), line, fill=(60, 60, 60), font=_font(15), anchor="ma")
        y += 20
    return np.asarray(image)


def _wrap(draw: ImageDraw.ImageDraw, text: str, width: int, font) -> list[str]:
    lines, current = [], ""
    for word in text.split():
        trial = f"{current} {word}".strip()
        if current and draw.textlength(trial, font=font) > width:
            lines.append(current)
            current = word
        else:
            current = trial
    return [*lines, current] if current else lines


def labelled(panel: np.ndarray, title: str) -> np.ndarray:
    """``panel`` under a white strip with ``title`` (cut to fit)."""
    width = panel.shape[1]
    strip = Image.new("RGB", (width, HEADER_HEIGHT), BACKGROUND)
    draw = ImageDraw.Draw(strip)
    font = _font(14)
    while title and draw.textlength(title, font=font) > width - 6:
        title = title[:-2] + "…"
    draw.text((3, 3), title, fill=(20, 20, 20), font=font)
    return np.concatenate([np.asarray(strip), panel])


def side_by_side(panels: list[np.ndarray]) -> np.ndarray:
    """Panels left to right, top-aligned on white, ``GAP`` pixels apart."""
    height = max(p.shape[0] for p in panels)
    width = sum(p.shape[1] for p in panels) + GAP * (len(panels) - 1)
    out = np.full((height, width, 3), BACKGROUND, np.uint8)
    x = 0
    for panel in panels:
        out[: panel.shape[0], x : x + panel.shape[1]] = panel
        x += panel.shape[1] + GAP
    return out
