"""The classical annotator: OpenCV segmentation seeded at the prompt, tracked backward by flow.

Event frame: flood fill (region growing) in CIELAB from the prompt point, seeded from the
median colour around it so that a crosshair or cursor drawn on the point does not decide
the seed.
Earlier frames: the next frame's mask is warped back by dense optical flow (DIS) and
re-segmented: a colour model of the object against its surroundings (Lab histograms,
object vs a ring around it) gives a likelihood ratio per pixel, the warped mask the prior,
and the posterior decides each pixel near the object. The score is the overlap of the new
mask with the warped one: it falls when the object leaves the frame or is hidden.
Selection outlines: where a thin dark closed outline encloses the prompt point (a game's
selection box around the targeted block), the outlined silhouette is the mask on that frame
when it agrees with the tracked one; the latest outline on the frames just before the event
gives the event frame's mask unless the event frame's own outline confirms its flood fill.
The outline is drawn over nearer surfaces, so a colour region of another material that runs
across it is cut away (leaves in front of a log); where another material is outlined in the
object's place on an earlier frame, the object was behind that block, and the track ends.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from goalframe.annotators.annotator import BackwardTracker, Point, Window, mask_box
from goalframe.media.images import iou, resize_mask_smooth

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
    counts = (
        np.bincount(bins[mask], minlength=N_BINS)
        .astype(np.float32)
        .reshape(CHROMA_BINS, CHROMA_BINS, VALUE_BINS)
    )
    padded = np.pad(counts, 1)
    smooth = sum(
        padded[1 + dr : 1 + dr + CHROMA_BINS, 1 + dg : 1 + dg + CHROMA_BINS, 1 + dv : 1 + dv + VALUE_BINS]
        * (0.5 if dr or dg or dv else 2.0)
        for dr in (-1, 0, 1)
        for dg in (-1, 0, 1)
        for dv in (-1, 0, 1)
    )
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
    r0, r1, c0, c1 = (
        max(row - radius, 0),
        min(row + radius + 1, height),
        max(col - radius, 0),
        min(col + radius + 1, width),
    )
    patch = image[r0:r1, c0:c1].reshape(-1, image.shape[2]).astype(np.float32)
    distance = np.abs(patch[:, None, :] - patch[None, :, :]).sum(2)
    density = (distance <= 12).sum(1) - distance.mean(1) * 1e-3  # ties: the most central in colour
    rows, cols = np.divmod(np.arange(len(patch)), c1 - c0)
    density -= 1e-6 * np.hypot(rows + r0 - row, cols + c0 - col)  # then the nearest
    best = int(np.argmax(density))
    return r0 + best // (c1 - c0), c0 + best % (c1 - c0)


def flood(
    image: np.ndarray, seed: tuple[int, int], tolerance, blocked: np.ndarray | None = None
) -> np.ndarray:
    """Fixed-range flood fill (region growing) from ``seed`` (row, col); ``blocked`` pixels stop it."""
    height, width = image.shape[:2]
    mask = np.zeros((height + 2, width + 2), np.uint8)
    if blocked is not None:
        mask[1:-1, 1:-1][blocked] = 1
        mask[seed[0] + 1, seed[1] + 1] = 0
    tolerance = tuple(float(t) for t in tolerance) + (0.0,) * (4 - len(tolerance))
    cv2.floodFill(
        image,
        mask,
        (seed[1], seed[0]),
        0,
        tolerance,
        tolerance,
        8 | cv2.FLOODFILL_FIXED_RANGE | cv2.FLOODFILL_MASK_ONLY | (2 << 8),
    )
    return mask[1:-1, 1:-1] == 2


def seed_region(
    frame: np.ndarray,
    point: Point,
    tolerance=(14, 6, 6),
    chroma_tolerance: float = 0.04,
    min_saturation: float = 0.2,
    radius: int = 9,
    lab_only: bool = False,
) -> tuple[np.ndarray, bool]:
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


def deep_points(mask: np.ndarray, cells: int = 1) -> list[tuple[int, int]]:
    """The point deepest inside ``mask`` (farthest from its edge), or with ``cells`` > 1 the
    deepest point in each of a ``cells`` x ``cells`` grid over its box (where it reaches 3 px deep)."""
    depth = cv2.distanceTransform(np.pad(mask.astype(np.uint8), 1), cv2.DIST_L2, 3)[1:-1, 1:-1]
    if cells <= 1:
        return [tuple(int(v) for v in np.unravel_index(int(np.argmax(depth)), mask.shape))]
    x0, y0, x1, y1 = mask_box(mask)
    points = []
    for rows in np.array_split(np.arange(y0, y1), cells):
        for cols in np.array_split(np.arange(x0, x1), cells):
            if len(rows) and len(cols):
                cell = depth[rows[0] : rows[-1] + 1, cols[0] : cols[-1] + 1]
                r, c = np.unravel_index(int(np.argmax(cell)), cell.shape)
                if cell[r, c] >= 3:
                    points.append((int(rows[0] + r), int(cols[0] + c)))
    return sorted(points, key=lambda p: -depth[p])


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
    snapped[
        np.flatnonzero(ring.reshape(-1))[closer] // region.shape[1],
        np.flatnonzero(ring.reshape(-1))[closer] % region.shape[1],
    ] = True
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


def selection_outline(
    frame: np.ndarray,
    point: Point,
    darkness: int = 60,
    contrast: int = 12,
    max_area: float = 0.6,
    max_border: float = 0.4,
    min_area: int = 50,
    max_faces: int = 6,
    occlusion: bool = True,
) -> np.ndarray | None:
    """The silhouette enclosed by a thin dark outline around ``point`` (a game's selection box
    drawn around the targeted block), or None where no closed outline encloses it.

    Thin dark lines (black-hat response on dark, grey pixels) are closed over small gaps; the
    region of non-line pixels holding the point is one face; the line network around it, with
    the regions it encloses, is the outlined object. The face must be mostly enclosed by lines
    (little of it on the frame border) and not cover most of the frame.
    """
    grey = cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)
    black_hat = cv2.morphologyEx(grey, cv2.MORPH_BLACKHAT, cv2.getStructuringElement(cv2.MORPH_RECT, (7, 7)))
    lines = ((black_hat > contrast) & (grey < darkness)).astype(np.uint8)
    if not lines.any():
        return None
    lines = cv2.morphologyEx(lines, cv2.MORPH_CLOSE, np.ones((3, 3), np.uint8))
    height, width = lines.shape
    row, col = int(round(point[0])), int(round(point[1]))
    if not (0 <= row < height and 0 <= col < width) or lines[row, col]:
        return None
    _count, labels = cv2.connectedComponents(1 - lines, connectivity=4)
    face = labels == labels[row, col]
    area = int(face.sum())
    if area < min_area or area > max_area * height * width:
        return None
    border = int(face[0].sum() + face[-1].sum() + face[:, 0].sum() + face[:, -1].sum())
    perimeter = sum(
        len(c) for c in cv2.findContours(face.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)[0]
    )
    if border > max_border * max(perimeter, 1):
        return None
    ring = cv2.dilate(face.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool) & lines.astype(bool)
    _count, network = cv2.connectedComponents(lines, connectivity=8)
    ids = np.unique(network[ring])
    ids = ids[ids > 0]
    outlined = fill_holes(np.isin(network, ids) | face)
    # a box outline has a few faces; a grid of many (a GUI's slots) is not one
    _count, faces, stats, _c = cv2.connectedComponentsWithStats(
        (outlined & ~lines.astype(bool)).astype(np.uint8), connectivity=4
    )
    if np.count_nonzero(stats[1:, cv2.CC_STAT_AREA] >= 0.005 * outlined.sum()) > max_faces:
        return None
    return unoccluded(frame, outlined, lines.astype(bool), (row, col)) if occlusion else outlined


def unoccluded(
    frame: np.ndarray,
    outlined: np.ndarray,
    lines: np.ndarray,
    seed: tuple[int, int],
    edge: float = 10.0,
    material: float = 0.06,
    spill: float = 0.15,
) -> np.ndarray:
    """The part of an outlined silhouette not hidden behind a nearer surface.

    A game draws the selection outline over whatever is nearer (leaves in front of a log), so
    the outline is the whole block, seen or not. A nearer surface shows as a colour region that
    crosses the outline (the line was drawn over it) in another material than the one under
    the point (the targeted block is the first thing the point's ray hits, so the point is on
    it). Same-material regions crossing the outline are the block's own faces continuing into
    a neighbour's (a boulder's top): they stay.
    """
    height, width = outlined.shape
    x0, y0, x1, y1 = mask_box(outlined)
    pad = 6
    y0, x0, y1, x1 = max(y0 - pad, 0), max(x0 - pad, 0), min(y1 + pad, height), min(x1 + pad, width)
    crop, inside = frame[y0:y1, x0:x1], outlined[y0:y1, x0:x1]
    line_pixels = cv2.dilate(lines[y0:y1, x0:x1].astype(np.uint8), np.ones((3, 3), np.uint8))
    painted = cv2.inpaint(cv2.medianBlur(crop, 3), line_pixels, 2, cv2.INPAINT_TELEA)
    lab = cv2.cvtColor(painted, cv2.COLOR_RGB2LAB)
    gradient = cv2.morphologyEx(lab, cv2.MORPH_GRADIENT, np.ones((3, 3), np.uint8)).max(2)
    count, regions = cv2.connectedComponents((gradient <= edge).astype(np.uint8), connectivity=4)
    if count <= 2:
        return outlined
    outside = ~cv2.dilate(inside.astype(np.uint8), np.ones((5, 5), np.uint8)).astype(bool)
    total = np.bincount(regions.reshape(-1), minlength=count)
    beyond = np.bincount(regions[outside], minlength=count)
    within = np.bincount(regions[inside], minlength=count)
    chroma = chromaticity(painted)
    sums = np.stack(
        [
            np.bincount(regions.reshape(-1), weights=chroma[..., k].reshape(-1), minlength=count)
            for k in (0, 1)
        ],
        1,
    )
    region_chroma = sums / np.maximum(total, 1)[:, None]
    # the target's material: its regions near the point wholly inside the outline (not a HUD
    # drawn over a huge outline far from it), else the region nearest the point that is larger
    # than a crosshair or cursor drawn on it
    near, around = (square(regions.shape, (seed[0] - y0, seed[1] - x0), radius) for radius in (6, 16))
    enclosed = (np.bincount(regions[inside & ~near], minlength=count) >= 50) & (beyond == 0)
    enclosed &= np.bincount(regions[around & ~near], minlength=count) > 0
    enclosed[0] = False
    if enclosed.any():
        target_chroma = np.average(region_chroma[enclosed], axis=0, weights=within[enclosed])
    else:
        candidates = near & (regions > 0) & (total[regions] >= 50)
        if not candidates.any():
            return outlined
        rows, cols = np.nonzero(candidates)
        nearest = int(np.argmin(np.hypot(rows - (seed[0] - y0), cols - (seed[1] - x0))))
        target_chroma = region_chroma[regions[rows[nearest], cols[nearest]]]
    other = np.hypot(*(region_chroma - target_chroma).T) > material
    nearer = other & (beyond >= spill * total) & (within >= 4)
    nearer[0] = False
    if not nearer.any():
        return outlined
    hidden = cv2.dilate(
        np.isin(regions, np.flatnonzero(nearer)).astype(np.uint8), np.ones((3, 3), np.uint8)
    ).astype(bool)
    visible = outlined.copy()
    visible[y0:y1, x0:x1] &= ~hidden
    count, parts, stats, _c = cv2.connectedComponentsWithStats(visible.astype(np.uint8), connectivity=8)
    return parts == 1 + int(np.argmax(stats[1:, cv2.CC_STAT_AREA])) if count > 1 else outlined


def square(shape: tuple[int, int], centre: tuple[int, int], radius: int) -> np.ndarray:
    """A boolean mask of ``shape``, true on the square of half-side ``radius`` around ``centre``."""
    mask = np.zeros(shape, bool)
    mask[
        max(centre[0] - radius, 0) : centre[0] + radius + 1,
        max(centre[1] - radius, 0) : centre[1] + radius + 1,
    ] = True
    return mask


def chromaticity(pixels: np.ndarray) -> np.ndarray:
    """Per-pixel (r, g) / (r + g + b) of RGB ``pixels`` (an image or a list of pixels): unchanged
    by flat shading, so one material reads the same on its lit and shaded faces."""
    pixels = pixels.astype(np.float32)
    return pixels[..., :2] / (pixels.sum(-1, keepdims=True) + 1.0)


def material(frame: np.ndarray, mask: np.ndarray) -> np.ndarray | None:
    """The median chromaticity of the lit pixels under ``mask`` (dark outline pixels have
    none), or None where too few are lit."""
    lit = mask & (frame.max(2) >= 40)
    if np.count_nonzero(lit) < 8:
        return None
    return np.median(chromaticity(frame[lit]), axis=0)  # only the masked pixels, not the frame


@dataclass
class ClassicalWindowState:
    """What the classical annotator learns about one window's object while tracking it."""

    point: Point | None = None  # the prompt, full-size pixels
    outlines: dict[int, np.ndarray | None] = field(default_factory=dict)  # selection outline per frame
    cache: dict[int, np.ndarray] = field(default_factory=dict)  # colour bins of the frames in use
    recent: np.ndarray | None = None  # colour histogram of the object as last seen
    anchor: np.ndarray | None = None  # ... and as seen on the event frame
    material: np.ndarray | None = None  # its chromaticity (tells it from what stands in front)
    behind_block: bool = False  # another block took its place: broken, gone on every earlier frame


class ClassicalAnnotator(BackwardTracker):
    name = "classical"
    version = "5"

    def __init__(
        self,
        tolerance: tuple[int, int, int] = (14, 6, 6),
        chroma_tolerance: float = 0.04,
        min_saturation: float = 0.2,
        context: int = 16,
        grow: int = 3,
        memory: float = 0.5,
        max_prior: float = 0.98,
        regrow: float = 0.6,
        regrow_seeds: int = 3,
        outline: bool = True,
        outline_agree: float = 0.3,
        outline_lookback: int = 12,
        outline_faces: int = 6,
        outline_material: float = 0.06,
        **kw: Any,
    ):
        super().__init__(**kw)
        self.tolerance = tuple(int(t) for t in tolerance)
        self.chroma_tolerance = chroma_tolerance
        self.min_saturation = min_saturation
        self.context = context
        self.grow = grow
        self.memory = memory
        self.max_prior = max_prior
        self.regrow = regrow
        self.regrow_seeds = regrow_seeds
        self.outline = outline
        self.outline_agree = outline_agree
        self.outline_lookback = outline_lookback
        self.outline_faces = outline_faces
        self.outline_material = outline_material

    @property
    def params(self) -> dict[str, Any]:
        return {
            **super().params,
            "tolerance": list(self.tolerance),
            "chroma_tolerance": self.chroma_tolerance,
            "min_saturation": self.min_saturation,
            "context": self.context,
            "grow": self.grow,
            "memory": self.memory,
            "max_prior": self.max_prior,
            "regrow": self.regrow,
            "regrow_seeds": self.regrow_seeds,
            "outline": self.outline,
            "outline_agree": self.outline_agree,
            "outline_lookback": self.outline_lookback,
            "outline_faces": self.outline_faces,
            "outline_material": self.outline_material,
        }

    def new_state(self) -> ClassicalWindowState:
        return ClassicalWindowState()

    def begin(self, window: Window, event_mask: np.ndarray) -> None:
        last = len(window.frames) - 1
        window.state.anchor = histogram(self._bins(window, last), event_mask) if event_mask.any() else None
        if not window.guided:
            window.state.material = material(window.frames[last], event_mask)

    def segment(self, window: Window, t: int, point: Point) -> tuple[np.ndarray, float]:
        window.state.point = point
        mask, _chromatic = seed_region(
            window.full[t], point, self.tolerance, self.chroma_tolerance, self.min_saturation
        )
        if not self.outline:
            return mask, 1.0
        here = self._outline(window, t)
        if here is not None and iou(here, mask, empty=0.0) >= 0.8:
            return mask, 1.0  # the event frame's own outline confirms its region (a block placed)
        # else a selection outline around the point on a frame just before the event marks the
        # object acted on, also where the event frame shows it changed already (a block broken)
        for before in range(t - 1, max(t - 1 - self.outline_lookback, -1), -1):
            outlined = self._outline(window, before)
            if outlined is not None:
                return outlined, 1.0
        return mask, 1.0

    def _outline(self, window: Window, t: int) -> np.ndarray | None:
        if t not in window.state.outlines:
            window.state.outlines[t] = selection_outline(
                window.full[t], window.state.point, max_faces=self.outline_faces
            )
        return window.state.outlines[t]

    def _same_material(self, window: Window, t: int, mask: np.ndarray) -> bool:
        """Whether ``mask`` on frame ``t`` shows the tracked object's material: an outline in the
        same place may enclose another block (the leaves block in front of a log, before it broke)."""
        here = material(window.frames[t], mask)
        return (
            window.state.material is None
            or here is None
            or float(np.hypot(*(here - window.state.material))) <= self.outline_material
        )

    def guided_event_mask(self, window: Window, event_mask: np.ndarray) -> np.ndarray:
        # the object's material from the annotator's own event mask: its shape may be wrong (a
        # flood fill over a whole canopy) but it grew from the prompt, which is on the object;
        # the fitted faces may be half hidden behind another material. Then the part that shows.
        last = len(window.guide) - 1
        window.state.material = material(window.frames[last], event_mask)
        if window.state.material is None:
            window.state.material = material(window.frames[last], window.guide[last])
        visible, _ = self._visible_part(window, last, window.guide[last])
        return visible if visible.any() else event_mask

    def _visible_part(self, window: Window, t: int, silhouette: np.ndarray) -> tuple[np.ndarray, float]:
        """The pixels of a projected silhouette that show the object's material: what stands
        in front of it (leaves before a log, the hand, the hotbar) has another chromaticity."""
        if window.state.material is None:
            return silhouette, 1.0
        pixels = window.frames[t][silhouette].astype(np.float32)
        near = np.zeros_like(silhouette)
        near[silhouette] = (
            np.hypot(*(chromaticity(pixels) - window.state.material).T) <= self.outline_material
        )
        # dark outline lines and texture specks read as other material: close them over
        near = (
            cv2.morphologyEx(near.astype(np.uint8), cv2.MORPH_CLOSE, np.ones((5, 5), np.uint8)).astype(bool)
            & silhouette
        )
        near = cv2.morphologyEx(near.astype(np.uint8), cv2.MORPH_OPEN, np.ones((3, 3), np.uint8)).astype(bool)
        return near, 1.0 if near.any() else 0.0

    def _bins(self, window: Window, t: int) -> np.ndarray:
        if t not in window.state.cache:
            window.state.cache = {k: v for k, v in window.state.cache.items() if abs(k - t) <= 1}
            window.state.cache[t] = colour_bins(window.frames[t])
        return window.state.cache[t]

    def resegment(
        self, window: Window, t: int, warped: np.ndarray, previous: np.ndarray
    ) -> tuple[np.ndarray, float]:
        if self.outline:
            outlined = self._outline(window, t)
            if outlined is not None:
                outlined = resize_mask_smooth(outlined, warped.shape)
                if iou(outlined, warped > 0.5, empty=0.0) >= self.outline_agree:
                    if self._same_material(window, t, outlined):
                        return outlined, 1.0
                    # another block outlined in the object's place: the object is behind it, and
                    # stays behind it on every earlier frame (blocks do not move; it was broken)
                    window.state.behind_block = True
        if window.state.behind_block:
            return np.zeros_like(warped, bool), 0.0
        if window.guided:
            return self._visible_part(window, t, warped > 0.5)
        image, before = self._bins(window, t), self._bins(window, t + 1)
        x0, y0, x1, y1 = mask_box(previous)
        pad = max(self.context, (x1 - x0 + y1 - y0) // 2)
        context = np.zeros_like(previous)
        context[max(y0 - pad, 0) : y1 + pad, max(x0 - pad, 0) : x1 + pad] = True
        near = cv2.dilate(previous.astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)
        bg = histogram(before, context & ~near)
        if not window.lost or window.state.recent is None:
            window.state.recent = histogram(before, previous)
        recent = window.state.recent
        fg = (
            recent
            if window.state.anchor is None
            else (1 - self.memory) * recent + self.memory * window.state.anchor
        )
        fg_at, bg_at = fg[image], bg[image]
        likelihood = (fg_at + 1e-4) / (bg_at + 1e-4)
        grow = cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (2 * self.grow + 1, 2 * self.grow + 1))
        search = cv2.dilate((warped > 0.5).astype(np.uint8), grow).astype(bool)
        prior = np.where(
            search, 0.02 + (self.max_prior - 0.02) * np.clip(cv2.GaussianBlur(warped, (0, 0), 1.0), 0, 1), 0.0
        )
        mask = prior * likelihood > (1 - prior)
        core = warped > 0.5
        mask = components_touching(mask, core)
        mask = fill_holes(mask) if mask.any() else mask
        union = np.count_nonzero(mask | core)
        overlap = np.count_nonzero(mask & core) / union if union else 0.0
        colour = float(np.mean(fg_at[mask] / (fg_at[mask] + bg_at[mask] + 1e-4))) if mask.any() else 0.0
        score = overlap * min(1.0, colour / 0.6)
        if score < self.min_score and core.sum() >= 16 and not window.lost:
            # the colour model lost it: has the object changed colour as a whole (a mob hit,
            # a block cracking)? Then region growing inside the warped mask finds its shape again.
            regrown = np.zeros_like(core)
            for row, col in deep_points(core, self.regrow_seeds):
                if not regrown[
                    row, col
                ]:  # one seed per face: a lit top and a shaded side grow apart in CIELAB
                    regrown |= seed_region(
                        window.frames[t],
                        (float(row), float(col)),
                        self.tolerance,
                        self.chroma_tolerance,
                        self.min_saturation,
                        radius=3,
                        lab_only=True,
                    )[0]
            union = np.count_nonzero(regrown | core)
            agreement = np.count_nonzero(regrown & core) / union if union else 0.0
            if agreement >= self.regrow:
                return regrown, agreement
        return mask, float(score)
