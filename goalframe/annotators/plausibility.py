"""Masks that cannot be right are not confident: the check the masks step runs on every track.

A prompt with no object under it (a pickup whose item is not under the crosshair, a drop:
the thrown item flies off, the crosshair stays on the grass) still seeds a mask: the
background region around the point, which grows over a large part of the frame and along
its edge. Such a mask is one object's only by accident. A frame of a track is implausible
when its mask covers more than ``max_area`` of the frame, or runs along more than
``max_border`` of the frame's edge (the pixels of its outermost rows and columns).

The check runs AFTER the annotator, on the track it returned (``annotators/masks.py``): it
never changes how the annotator tracks or how often it segments. An implausible frame
becomes not visible (its mask emptied, as on any not-visible frame) with a score of at most
``IMPLAUSIBLE_SCORE``. When the event frame itself is implausible, the mask every earlier
frame was tracked from was background, so every frame of the track is. The track's
``attrs["implausible"]`` says how many frames, why, and which (``frame_index``); review
prefills those frames as absent.

A VPT ``pickup`` or ``drop`` is counted when the item has already left the world under the
crosshair (collected into the inventory, or thrown away from the player), so nothing at the
prompt on the event frame is that item: unless the recording located it (``target``), the
whole track is implausible for that reason (``ITEM_GONE``), whatever its shape.

What the recording places (a mined block by the camera poses, an item in its GUI slot, a
placed block: ``attrs["target"]``) is exempt: a block right in front of the camera may fill
the view.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import replace
from typing import Any

import numpy as np

from goalframe.storage.masks import MaskTrack

MAX_AREA = 0.35  # a mask over more of the frame than this is background, not an object
MAX_BORDER = 0.25  # ... and so is one along more of the frame's edge than this
IMPLAUSIBLE_SCORE = 0.05  # the most an implausible frame may score
# recorded on each track, tracks checked by another version are redone (3: placed pickups
# score their doubtful frames low, annotators/vpt_items.py)
CHECK_VERSION = 3
#: Event kinds whose item is no longer at the prompt on the event frame, and why.
ITEM_GONE = {
    "pickup": "item collected by the event frame",
    "drop": "item thrown away by the event frame",
}


def check_fractions(max_area: float, max_border: float = MAX_BORDER) -> None:
    """One-line ``ValueError`` unless both limits are fractions in (0, 1]."""
    if not 0.0 < max_area <= 1.0:
        raise ValueError(f"--max-area must be a fraction of the frame in (0, 1], got {max_area}")
    if not 0.0 < max_border <= 1.0:
        raise ValueError(f"max_border must be a fraction of the frame's edge in (0, 1], got {max_border}")


def border_fraction(mask: np.ndarray) -> float:
    """The fraction of the frame's edge pixels (outermost rows and columns) the mask covers."""
    edge = np.concatenate([mask[0], mask[-1], mask[1:-1, 0], mask[1:-1, -1]])
    return float(np.count_nonzero(edge)) / max(edge.size, 1)


def frame_reason(mask: np.ndarray, max_area: float = MAX_AREA, max_border: float = MAX_BORDER) -> str | None:
    """Why ``mask`` (H, W) bool cannot be one object's (``"area>0.35"``, ``"edge>0.25"``), or None."""
    if not mask.any():
        return None
    if np.count_nonzero(mask) > max_area * mask.size:
        return f"area>{max_area:g}"
    if border_fraction(mask) > max_border:
        return f"edge>{max_border:g}"
    return None


def check_track(
    track: MaskTrack,
    max_area: float = MAX_AREA,
    max_border: float = MAX_BORDER,
    event_kind: str | None = None,
) -> MaskTrack:
    """``track`` with its implausible frames not visible and low-scored, and the reason in its
    attrs; the same track when none is (or when the recording placed the object). ``event_kind``
    is the events row's ``kind``: a pickup's or drop's item is gone from the prompt (``ITEM_GONE``)."""
    if "target" in track.attrs or not len(track):
        return track
    reasons = [
        frame_reason(m, max_area, max_border) if v else None for m, v in zip(track.mask, track.visible)
    ]
    event_reason = reasons[-1] or ITEM_GONE.get(event_kind or "")
    if event_reason:  # every earlier frame was tracked from a background region
        flagged = np.ones(len(track), bool)
    else:
        flagged = np.array([r is not None for r in reasons], bool)
    if not flagged.any():
        return track
    mask, visible = track.mask.copy(), track.visible.copy()
    centroid, bbox, score = track.centroid.copy(), track.bbox.copy(), track.score.copy()
    mask[flagged], visible[flagged] = False, False
    centroid[flagged], bbox[flagged] = np.nan, np.nan
    score[flagged] = np.minimum(score[flagged], IMPLAUSIBLE_SCORE)
    counts = Counter(r for r in reasons if r)
    finding: dict[str, Any] = {
        "frames": int(flagged.sum()),
        "reason": event_reason or counts.most_common(1)[0][0],
        "event_frame": bool(event_reason),
        "frame_index": [int(f) for f in track.frame_index[flagged]],
        "max_area": max_area,
        "max_border": max_border,
    }
    attrs = {**track.attrs, "implausible": finding}
    return replace(track, mask=mask, visible=visible, centroid=centroid, bbox=bbox, score=score, attrs=attrs)


def implausible_frames(attrs: dict[str, Any]) -> set[int]:
    """The episode frames a track's check found implausible (none for tracks made before it)."""
    finding = attrs.get("implausible")
    if not isinstance(finding, dict):
        return set()
    return {int(f) for f in finding.get("frame_index", [])}
