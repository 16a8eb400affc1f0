"""Mask annotators: the interface and the backward tracking loop they share.

An annotator takes a window of frames that ENDS at an event frame, and the event's prompt
point on that frame, and returns a :class:`~goalframe.storage.masks.MaskTrack`: per frame
the target object's mask, whether it is visible, its centroid (row, col), bbox
(x0, y0, x1, y1) and a score in [0, 1]. Tracking runs BACKWARD from the event frame (as
ROCKET-1's backward relabelling does): the prompt seeds a mask on the last frame, each
earlier frame is segmented from the mask of the frame after it, and once the object is
lost (no mask, or a score under ``min_score`` for more than ``patience`` frames) every
earlier frame is recorded as not visible. An empty first mask gives a track that is not
visible on any frame (it is still a track: nothing is dropped silently).

Annotators are built by name from the registry beside them,
:mod:`goalframe.annotators.registry` (``build_annotator("classical")``).
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Protocol

import cv2
import numpy as np

from goalframe.media.images import mask_box, resize_frames, resize_mask_smooth
from goalframe.storage.masks import MaskTrack

Point = tuple[float, float]  # (row, col) in pixels of the full-size frame


class StaticTarget(Protocol):
    """An object the recording places without image tracking: a block that does not move,
    projected by the camera poses (``geometry``), or an item in an open GUI (``gui_slots``).
    ``exact``: its silhouettes are what shows; otherwise what stands in front is still to cut."""

    exact: bool

    def fit(self, frames: np.ndarray, event_mask: np.ndarray, prompt: Point) -> bool:
        """Find the object on the window's last frames (the event frame is the last), given its
        mask there and the prompt; False if it cannot."""

    def silhouettes(self) -> np.ndarray:
        """(N, H, W) bool: where the fitted object projects on each frame, ignoring what hides it."""

    def describe(self) -> dict[str, Any]:
        """What was fitted, for the track's attributes."""


class Annotator(ABC):
    """``annotate(frames, prompt)``: the target's track over a window ending at the event frame."""

    name: str = "annotator"
    version: str = "0"

    @property
    def params(self) -> dict[str, Any]:
        """Settings that change the output (recorded with every track)."""
        return {}

    @abstractmethod
    def annotate(
        self, frames: np.ndarray, prompt: Point, first_frame: int = 0, target: StaticTarget | None = None
    ) -> MaskTrack:
        """Track over ``frames`` (N, H, W, 3) uint8 RGB whose LAST frame is the event frame.

        ``prompt`` is (row, col) on the event frame; ``first_frame`` is the episode frame of
        ``frames[0]`` (the track's ``frame_index`` starts there). ``target``, when the
        recording itself locates the object (a block that stood still, projected by the
        recorded camera poses; an item in an open GUI), places it on every frame instead of
        optical flow.
        """


def check_window(frames: np.ndarray, prompt: Point) -> tuple[int, int]:
    """Validate a window and prompt; (row, col) as ints. One-line ``ValueError`` on bad input."""
    frames = np.asarray(frames)
    if frames.ndim != 4 or frames.shape[-1] != 3 or frames.shape[0] < 1:
        raise ValueError(f"frames must be (N, H, W, 3) with N >= 1, got shape {tuple(frames.shape)}")
    if frames.dtype != np.uint8:
        raise ValueError(f"frames must be uint8 RGB, got {frames.dtype}")
    height, width = frames.shape[1:3]
    row, col = (float(v) if v is not None else math.nan for v in prompt)
    if not (math.isfinite(row) and math.isfinite(col)):
        raise ValueError(f"prompt point ({row}, {col}) is not a finite (row, col)")
    r, c = int(round(row)), int(round(col))
    if not (0 <= r < height and 0 <= c < width):
        raise ValueError(f"prompt point (row {row:g}, col {col:g}) is outside the {height}x{width} frame")
    return r, c


# ---- shared image helpers ----------------------------------------------------------


def work_size(height: int, width: int, max_side: int) -> tuple[int, int]:
    """(h, w) of the working resolution: the longer side at most ``max_side``."""
    scale = min(1.0, max_side / max(height, width))
    return max(8, int(round(height * scale))), max(8, int(round(width * scale)))


class Flow:
    """Dense optical flow (OpenCV DIS) between consecutive frames, and mask warping with it."""

    def __init__(self, preset: int = cv2.DISOPTICAL_FLOW_PRESET_FAST):
        self._dis = cv2.DISOpticalFlow_create(preset)

    def __call__(self, source_gray: np.ndarray, target_gray: np.ndarray) -> np.ndarray:
        """Flow ``f`` with ``source(x) ~ target(x + f(x))`` (H, W, 2) float32 (dx, dy)."""
        return self._dis.calc(source_gray, target_gray, None)

    @staticmethod
    def warp(values: np.ndarray, flow: np.ndarray) -> np.ndarray:
        """``values`` (on the target frame) pulled back to the source frame: ``values(x + f(x))``."""
        height, width = flow.shape[:2]
        grid_x, grid_y = np.meshgrid(np.arange(width, dtype=np.float32), np.arange(height, dtype=np.float32))
        return cv2.remap(
            values.astype(np.float32),
            grid_x + flow[..., 0],
            grid_y + flow[..., 1],
            cv2.INTER_LINEAR,
            borderMode=cv2.BORDER_CONSTANT,
            borderValue=0,
        )


def gray(frame: np.ndarray) -> np.ndarray:
    return cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY)


# ---- the backward tracking loop --------------------------------------------------


@dataclass
class Window:
    """One ``annotate`` call's working state, handed to the hooks. Annotators keep only their
    parameters on ``self``, so one window's looks never leak into the next."""

    full: np.ndarray  # (n, H, W, 3) the window at full size
    frames: np.ndarray | None = None  # the window at working resolution, once chosen
    guide: np.ndarray | None = None  # a fitted StaticTarget's silhouettes: placed by the pose, not by flow
    guide_exact: bool = False  # the silhouettes are what shows: no segmentation to do
    lost: int = 0  # frames since the object was last seen (see ``resegment``)
    state: Any = None  # the subclass's own per-window state (``new_state``)

    @property
    def guided(self) -> bool:
        return self.guide is not None


class BackwardTracker(Annotator):
    """The loop every built-in annotator shares; subclasses segment and re-segment.

    Work happens at a working resolution (longer side ``max_side``); masks are scaled back
    to the frame size at the end. ``every = K > 1`` is the keyframe mode: the annotator's
    own re-segmentation runs on every K-th frame back from the event frame, and the frames
    between get the flow-warped mask of the frame after them.
    """

    def __init__(
        self,
        max_side: int = 320,
        every: int = 1,
        min_score: float = 0.3,
        min_area: float = 4e-5,
        patience: int = 12,
        min_extent: int = 48,
        recover_area: float = 0.6,
    ):
        if every < 1:
            raise ValueError(f"every must be 1 or more, got {every}")
        self.max_side = max_side
        self.every = every
        self.min_score = min_score
        self.min_area = min_area  # fraction of the working frame
        self.patience = patience
        self.min_extent = min_extent
        self.recover_area = recover_area
        self.flow = Flow()

    @property
    def params(self) -> dict[str, Any]:
        return {
            "max_side": self.max_side,
            "every": self.every,
            "min_score": self.min_score,
            "min_area": self.min_area,
            "patience": self.patience,
            "min_extent": self.min_extent,
            "recover_area": self.recover_area,
        }

    # subclasses ------------------------------------------------------------------
    # Every hook gets the call's :class:`Window` (the frames, the guide, the subclass's own
    # state from :meth:`new_state`); nothing of one window stays on ``self`` for the next.
    def new_state(self) -> Any:
        """A fresh per-window state object for the subclass's hooks (``window.state``)."""
        return None

    @abstractmethod
    def segment(self, window: Window, t: int, point: Point) -> tuple[np.ndarray, float]:
        """(mask, score) at FULL size of the object under ``point`` (full-size pixels), event frame ``t``."""

    @abstractmethod
    def resegment(
        self, window: Window, t: int, warped: np.ndarray, previous: np.ndarray
    ) -> tuple[np.ndarray, float]:
        """(mask, score) at working resolution on frame ``t`` given ``warped`` (frame
        ``t + 1``'s mask flow-warped to frame ``t``, float in [0, 1]) and ``previous``
        (that mask on frame ``t + 1``). ``window.lost`` is the number of frames since the
        object was last seen: when it is not 0, ``previous`` is only the flow's guess (the
        loop coasts through a short occlusion) and should not teach the object's looks."""

    def guided_event_mask(self, window: Window, event_mask: np.ndarray) -> np.ndarray:
        """With a fitted static target (``window.guide``, full size as ``window.frames`` then), the
        event frame's mask; the default keeps the annotator's own."""
        return event_mask

    def begin(self, window: Window, event_mask: np.ndarray) -> None:  # noqa: B027 - optional hook
        """Called once per window with the event frame's mask at working size, ``window.frames`` set."""

    def working_size(self, height: int, width: int, mask: np.ndarray) -> tuple[int, int]:
        """Longer side ``max_side``, but finer when the object is small (``min_extent`` px across)."""
        size = work_size(height, width, self.max_side)
        box = mask_box(mask)
        if box is not None:
            extent = max(box[2] - box[0], box[3] - box[1])
            scale = size[0] / height
            if extent * scale < self.min_extent:
                scale = min(1.0, self.min_extent / max(extent, 1))
                size = max(size, (max(8, int(round(height * scale))), max(8, int(round(width * scale)))))
        return size

    # the loop ----------------------------------------------------------------------
    def annotate(
        self, frames: np.ndarray, prompt: Point, first_frame: int = 0, target: StaticTarget | None = None
    ) -> MaskTrack:
        check_window(frames, prompt)
        n, height, width = frames.shape[:3]
        window = Window(full=frames, state=self.new_state())
        event_mask, event_score = self.segment(window, n - 1, (float(prompt[0]), float(prompt[1])))
        event_mask = np.asarray(event_mask, bool)
        guide = (
            target.silhouettes() if target is not None and target.fit(frames, event_mask, prompt) else None
        )
        window.guide = guide
        window.guide_exact = window.guided and bool(getattr(target, "exact", False))
        # projected silhouettes are exact at full size: work there rather than lose their edges
        size = (height, width) if window.guided else self.working_size(height, width, event_mask)
        small = resize_frames(frames, size)
        window.frames = small
        grays = None if window.guided else [gray(f) for f in small]
        masks = np.zeros((n, *size), bool)
        scores = np.zeros(n, np.float32)
        visible = np.zeros(n, bool)
        min_pixels = max(1.0, self.min_area * size[0] * size[1])

        mask = resize_mask_smooth(event_mask, size)
        if window.guide_exact:  # the target says what shows: no segmentation to do
            event_mask = mask = guide[-1] if guide[-1].any() else event_mask
        elif window.guided:
            event_mask = mask = self.guided_event_mask(window, event_mask)
        self.begin(window, mask)
        masks[-1], scores[-1] = mask, event_score
        visible[-1] = (
            event_mask.sum() >= self.min_area * height * width
            and mask.any()
            and event_score >= self.min_score
        )
        if visible[-1]:
            carried, lost, good_area = mask, 0, int(mask.sum())
            for t in range(n - 2, -1, -1):
                if window.guided:
                    warped = guide[t].astype(np.float32)
                    if not guide[t].any():
                        continue  # out of view: not visible, and nothing to look for
                else:
                    warped = Flow.warp(carried, self.flow(grays[t], grays[t + 1]))
                if window.guide_exact:
                    mask, score = guide[t], 1.0
                elif self.every > 1 and (n - 1 - t) % self.every:
                    mask, score = warped > 0.5, float(scores[t + 1]) * 0.98
                else:
                    window.lost = lost
                    mask, score = self.resegment(window, t, warped, carried)
                    mask = mask.astype(bool)
                area = int(mask.sum())
                ok = area >= min_pixels and score >= self.min_score
                if ok and lost and not window.guided and area < self.recover_area * good_area:
                    ok = False  # what the flow coasted onto is not the object that was lost
                if ok:
                    masks[t], scores[t], visible[t] = mask, score, True
                    carried, lost, good_area = mask, 0, area
                    continue
                lost += 1
                scores[t] = score
                if window.guided:
                    continue  # the pose still knows where it is: it may come back into view
                if lost > self.patience or not (warped > 0.5).any():
                    break
                carried = warped > 0.5  # coast through a short occlusion on the flow alone
        full = np.zeros((n, height, width), bool)
        for t in np.flatnonzero(visible):
            full[t] = event_mask if t == n - 1 else resize_mask_smooth(masks[t], (height, width))
        frame_index = np.arange(first_frame, first_frame + n, dtype=np.int32)
        track = MaskTrack.from_masks(frame_index, full, score=np.clip(scores, 0, 1), visible=visible)
        track.attrs.update(annotator=self.name, annotator_version=self.version, params=self.params)
        if window.guided:
            track.attrs["target"] = target.describe()
        return track
