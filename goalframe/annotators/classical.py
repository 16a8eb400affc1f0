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

from goalframe.annotators.annotator import BackwardTracker, Point, Window
from goalframe.annotators.regions import (
    chromaticity,
    colour_bins,
    components_touching,
    deep_points,
    fill_holes,
    histogram,
    material,
    seed_region,
    selection_outline,
)
from goalframe.media.images import iou, mask_box, resize_mask_smooth


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
        overlap = iou(mask, core, empty=0.0)
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
