"""The classical annotator: OpenCV segmentation seeded at the prompt, tracked backward by flow.

Event frame: flood fill (region growing) in CIELAB from the prompt point, seeded from the
median colour around it so that a crosshair or cursor drawn on the point does not decide
the seed.
Earlier frames: the next frame's mask is warped back by dense optical flow (DIS) and
re-segmented: a colour model of the object against its surroundings (Lab histograms,
object vs a ring around it) gives a likelihood ratio per pixel, the warped mask the prior,
and the posterior decides each pixel near the object. The score is the overlap of the new
mask with the warped one: it falls when the object leaves the frame or is hidden.
"""

from __future__ import annotations

from typing import Any

import cv2
import numpy as np

from goalframe.annotators.annotator import BackwardTracker, Point, mask_box

CHROMA_BINS, VALUE_BINS = 24, 6  # colour model: chromaticity (r, g) x brightness
N_BINS = CHROMA_BINS * CHROMA_BINS * VALUE_BINS


def colour_bins(frame: np.ndarray) -> np.ndarray:
    """Per-pixel colour-model bin: chromaticity r/(r+g+b), g/(r+g+b) (flat shading leaves it
    unchanged) and a coarse brightness, so that the faces of one object share bins."""
    red, green, blue = (c.astype(np.float32) for c in cv2.split(cv2.medianBlur(frame, 3)))
    scale = CHROMA_BINS / (red + green + blue + 1.0)
    r = np.minimum((red * scale).astype(np.int32), CHROMA_BINS - 1)
    g = np.minimum((green * scale).astype(np.int32), CHROMA_BINS - 1)
    v = (np.maximum(np.maximum(red, green), blue) * (VALUE_BINS / 256.0)).astype(np.int32)
    return ((r * CHROMA_BINS + g) * VALUE_BINS + np.minimum(v, VALUE_BINS - 1)).astype(np.intp)


def histogram(bins: np.ndarray, mask: np.ndarray) -> np.ndarray:
    """Normalised colour histogram of the masked pixels, smoothed over neighbouring bins."""
    counts = np.bincount(bins[mask], minlength=N_BINS).astype(np.float32).reshape(CHROMA_BINS, CHROMA_BINS, VALUE_BINS)
    padded = np.pad(counts, 1)
    smooth = sum(padded[1 + dr:1 + dr + CHROMA_BINS, 1 + dg:1 + dg + CHROMA_BINS, 1 + dv:1 + dv + VALUE_BINS] * (0.5 if dr or dg or dv else 2.0)
                 for dr in (-1, 0, 1) for dg in (-1, 0, 1) for dv in (-1, 0, 1))  # fmt: skip
    return (smooth / max(smooth.sum(), 1e-6)).reshape(-1)


def fill_holes(mask: np.ndarray) -> np.ndarray:
    """``mask`` with the background regions that do not touch the border filled in."""
    padded = np.pad(mask.astype(np.uint8), 1)
    flood = padded.copy()
    cv2.floodFill(flood, np.zeros((flood.shape[0] + 2, flood.shape[1] + 2), np.uint8), (0, 0), 1)
    return (padded | (flood == 0))[1:-1, 1:-1].astype(bool)


def seed_pixel(image: np.ndarray, row: int, col: int, radius: int) -> tuple[int, int]:
    """The pixel near (row, col) in the densest colour cluster around it, so that a
    crosshair or cursor drawn on the point (or a compression halo) does not become the seed."""
    height, width = image.shape[:2]
    r0, r1, c0, c1 = max(row - radius, 0), min(row + radius + 1, height), max(col - radius, 0), min(col + radius + 1, width)
    patch = image[r0:r1, c0:c1].reshape(-1, image.shape[2]).astype(np.float32)
    distance = np.abs(patch[:, None, :] - patch[None, :, :]).sum(2)
    density = (distance <= 12).sum(1) - distance.mean(1) * 1e-3  # ties: the most central in colour
    rows, cols = np.divmod(np.arange(len(patch)), c1 - c0)
    density -= 1e-6 * np.hypot(rows + r0 - row, cols + c0 - col)  # then the nearest
    best = int(np.argmax(density))
    return r0 + best // (c1 - c0), c0 + best % (c1 - c0)


def flood(image: np.ndarray, seed: tuple[int, int], tolerance, blocked: np.ndarray | None = None) -> np.ndarray:
    """Fixed-range flood fill (region growing) from ``seed`` (row, col); ``blocked`` pixels stop it."""
    height, width = image.shape[:2]
    mask = np.zeros((height + 2, width + 2), np.uint8)
    if blocked is not None:
        mask[1:-1, 1:-1][blocked] = 1
        mask[seed[0] + 1, seed[1] + 1] = 0
    tolerance = tuple(float(t) for t in tolerance) + (0.0,) * (4 - len(tolerance))
    cv2.floodFill(image, mask, (seed[1], seed[0]), 0, tolerance, tolerance, 8 | cv2.FLOODFILL_FIXED_RANGE | cv2.FLOODFILL_MASK_ONLY | (2 << 8))
    return mask[1:-1, 1:-1] == 2


def seed_region(frame: np.ndarray, point: Point, tolerance=(14, 6, 6), chroma_tolerance: float = 0.04, min_saturation: float = 0.2, radius: int = 9, lab_only: bool = False) -> tuple[np.ndarray, bool]:
    """The object under ``point`` on a full-size RGB frame.

    Saturated colours grow in chromaticity (r, g, b divided by their sum, which flat
    shading does not change, so every face of a coloured object joins); dark pixels, whose
    chromaticity is noise, stop the growth. Grey and dark seeds grow in CIELAB.
    """
    smooth = cv2.medianBlur(frame, 5)
    row, col = int(round(point[0])), int(round(point[1]))
    seed = seed_pixel(smooth, row, col, radius=radius)
    colour = smooth[seed].astype(np.float32)
    value = colour.max()
    saturation = 0.0 if value <= 0 else 1.0 - colour.min() / value
    chromatic = bool(saturation >= min_saturation and value >= 50) and not lab_only
    if chromatic:
        pixels = smooth.astype(np.float32)
        total = pixels.sum(2, keepdims=True) + 1.0
        chroma = np.ascontiguousarray(np.concatenate([pixels[..., :2] / total, np.zeros_like(total)], axis=2))
        region = flood(chroma, seed, (chroma_tolerance, chroma_tolerance, 0.0), blocked=smooth.max(2) < 35)
    else:
        region = flood(cv2.cvtColor(smooth, cv2.COLOR_RGB2LAB), seed, tolerance)
    region = fill_holes(region)
    opened = cv2.morphologyEx(region.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)
    region = component_at(opened, *seed) if opened[seed] else region
    return snap_edges(frame, region), chromatic


def snap_edges(frame: np.ndarray, region: np.ndarray, width: int = 2) -> np.ndarray:
    """Add the blurred edge pixels just outside ``region`` whose colour is nearer the object's
    than the background's just beyond (video compression spreads an edge over 2-3 pixels;
    region growing from the inside stops at its start)."""
    if region.sum() < 4:
        return region
    kernel = lambda r: cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * r + 1, 2 * r + 1))  # noqa: E731
    inner = cv2.dilate(region.astype(np.uint8), kernel(width)).astype(bool)
    outer = cv2.dilate(region.astype(np.uint8), kernel(width + 3)).astype(bool) & ~inner
    ring = inner & ~region
    if not outer.any() or not ring.any():
        return region
    pixels = frame.astype(np.float32)
    eroded = cv2.erode(region.astype(np.uint8), kernel(1)).astype(bool)
    inside = np.median(pixels[eroded if eroded.any() else region], axis=0)
    beyond = np.median(pixels[outer], axis=0)
    ring_pixels = pixels[ring]
    closer = np.abs(ring_pixels - inside).sum(1) < np.abs(ring_pixels - beyond).sum(1)
    snapped = region.copy()
    snapped[np.flatnonzero(ring.reshape(-1))[closer] // region.shape[1], np.flatnonzero(ring.reshape(-1))[closer] % region.shape[1]] = True
    return component_at(snapped, *np.argwhere(region)[0])


def component_at(mask: np.ndarray, row: int, col: int) -> np.ndarray:
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    label = labels[row, col]
    return labels == label if label else np.zeros_like(mask, bool)


def components_touching(mask: np.ndarray, core: np.ndarray) -> np.ndarray:
    """The connected components of ``mask`` that overlap ``core``."""
    count, labels = cv2.connectedComponents(mask.astype(np.uint8), connectivity=8)
    keep = np.unique(labels[core & mask])
    keep = keep[keep > 0]
    return np.isin(labels, keep) if len(keep) else np.zeros_like(mask, bool)


class ClassicalAnnotator(BackwardTracker):
    name = "classical"
    version = "1"

    def __init__(self, tolerance: tuple[int, int, int] = (14, 6, 6), chroma_tolerance: float = 0.04, min_saturation: float = 0.2,
                 context: int = 16, grow: int = 3, memory: float = 0.5, max_prior: float = 0.98, regrow: float = 0.6, **kw: Any):  # fmt: skip
        super().__init__(**kw)
        self.tolerance = tuple(int(t) for t in tolerance)
        self.chroma_tolerance = chroma_tolerance
        self.min_saturation = min_saturation
        self.context = context
        self.grow = grow
        self.memory = memory
        self.max_prior = max_prior
        self.regrow = regrow

    @property
    def params(self) -> dict[str, Any]:
        return {**super().params, "tolerance": list(self.tolerance), "chroma_tolerance": self.chroma_tolerance, "min_saturation": self.min_saturation, "context": self.context, "grow": self.grow, "memory": self.memory, "max_prior": self.max_prior, "regrow": self.regrow}

    def begin(self, event_mask: np.ndarray) -> None:
        self._cache: dict[int, np.ndarray] = {}
        self._recent: np.ndarray | None = None
        last = len(self.frames) - 1
        self._anchor = histogram(self._bins(last), event_mask) if event_mask.any() else None

    def segment(self, t: int, point: Point) -> tuple[np.ndarray, float]:
        mask, _chromatic = seed_region(self.full[t], point, self.tolerance, self.chroma_tolerance, self.min_saturation)
        return mask, 1.0

    def _bins(self, t: int) -> np.ndarray:
        if t not in self._cache:
            self._cache = {k: v for k, v in self._cache.items() if abs(k - t) <= 1}
            self._cache[t] = colour_bins(self.frames[t])
        return self._cache[t]

    def resegment(self, t: int, warped: np.ndarray, previous: np.ndarray) -> tuple[np.ndarray, float]:
        image, before = self._bins(t), self._bins(t + 1)
        x0, y0, x1, y1 = mask_box(previous)
        pad = max(self.context, (x1 - x0 + y1 - y0) // 2)
        context = np.zeros_like(previous)
        context[max(y0 - pad, 0):y1 + pad, max(x0 - pad, 0):x1 + pad] = True
        near = cv2.dilate(previous.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        bg = histogram(before, context & ~near)
        if not self.lost or self._recent is None:
            self._recent = histogram(before, previous)
        recent = self._recent
        fg = recent if self._anchor is None else (1 - self.memory) * recent + self.memory * self._anchor
        fg_at, bg_at = fg[image], bg[image]
        likelihood = (fg_at + 1e-4) / (bg_at + 1e-4)
        grow = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * self.grow + 1, 2 * self.grow + 1))
        search = cv2.dilate((warped > 0.5).astype(np.uint8), grow).astype(bool)
        prior = np.where(search, 0.02 + (self.max_prior - 0.02) * np.clip(cv2.GaussianBlur(warped, (0, 0), 1.0), 0, 1), 0.0)
        mask = prior * likelihood > (1 - prior)
        core = warped > 0.5
        mask = components_touching(mask, core)
        mask = fill_holes(mask) if mask.any() else mask
        union = np.count_nonzero(mask | core)
        overlap = np.count_nonzero(mask & core) / union if union else 0.0
        colour = float(np.mean(fg_at[mask] / (fg_at[mask] + bg_at[mask] + 1e-4))) if mask.any() else 0.0
        score = overlap * min(1.0, colour / 0.6)
        if score < self.min_score and core.sum() >= 16:
            # the colour model lost it: has the object changed colour as a whole (a mob hit,
            # a block cracking)? Then region growing inside the warped mask finds its shape again.
            row, col = np.unravel_index(int(np.argmax(cv2.distanceTransform(np.pad(core.astype(np.uint8), 1), cv2.DIST_L2, 3)[1:-1, 1:-1])), core.shape)
            regrown, _ = seed_region(self.frames[t], (float(row), float(col)), self.tolerance, self.chroma_tolerance, self.min_saturation, radius=3, lab_only=True)
            union = np.count_nonzero(regrown | core)
            agreement = np.count_nonzero(regrown & core) / union if union else 0.0
            if agreement >= self.regrow:
                return regrown, agreement
        return mask, float(score)
