"""Items in the slots of an open game GUI (Minecraft's inventory and crafting screens).

A GUI does not move with the camera: while it stays open, an item sits on the same pixels
of every frame, in a slot drawn as a bevelled square (dark top and left edge, light bottom
and right edge; 18 px across, the crafting output 26 px, at the recorder's GUI scale) with
the item's 16 x 16 icon area in its middle. A crafting event's prompt is the cursor, on
the slot clicked. So the item's mask is that icon area, on the frames of the GUI session
that ends at the event where the slot shows the same item; not visible elsewhere (before
the recipe was complete the output slot is empty; before the GUI opened there is none).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

ICON = 16  # the item area of a slot, in frame pixels (GUI pixels at the recorder's scale)
BEVEL_DARK, BEVEL_LIGHT = 90, 200  # luminance of a slot's top-left and bottom-right edges


def slot_item_box(
    frame: np.ndarray, point: tuple[float, float], sizes: range = range(ICON, 27), min_ring: float = 0.75
) -> tuple[int, int, int, int] | None:
    """(row0, col0, row1, col1) exclusive of the icon area of the slot under ``point``, or None.

    Every square inside a bevel (``sizes`` pixels across: 16 for an inventory slot, 24 for
    the crafting output) that holds the point is scored by how much of its bevel is dark
    above and left and light below and right (``min_ring`` of it: the video's compression
    and the crafting arrow drawn over an edge spoil a few pixels); the icon area is the
    16 x 16 square in the middle of the best.
    """
    lum = frame.astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    height, width = lum.shape
    row, col = int(round(point[0])), int(round(point[1]))
    best, box = min_ring, None
    for inner in sizes:
        for top in range(max(row - inner + 1, 1), row + 1):
            for left in range(max(col - inner + 1, 1), col + 1):
                if top + inner >= height or left + inner >= width:
                    continue
                dark = np.concatenate(
                    [lum[top - 1, left - 1 : left + inner], lum[top : top + inner, left - 1]]
                )
                light = np.concatenate(
                    [lum[top + inner, left : left + inner + 1], lum[top : top + inner, left + inner]]
                )
                ring = (np.count_nonzero(dark <= BEVEL_DARK) + np.count_nonzero(light >= BEVEL_LIGHT)) / (
                    len(dark) + len(light)
                )
                if ring > best:
                    offset = (inner - ICON) // 2
                    best, box = ring, (top + offset, left + offset, top + offset + ICON, left + offset + ICON)
    return box


@dataclass
class GuiSlotTarget:
    """The item in the GUI slot under the prompt, for the window's frames (``gui_open`` per frame).

    ``exact``: its silhouettes are what shows (no further segmentation needed).
    """

    gui_open: np.ndarray
    max_difference: float = 12.0  # mean absolute RGB difference from the event's icon
    exact: bool = True
    box: tuple[int, int, int, int] | None = None
    reference: np.ndarray | None = None
    frames: np.ndarray | None = None

    def fit(self, frames: np.ndarray, event_mask: np.ndarray, prompt: tuple[float, float]) -> bool:
        self.box = self.reference = None
        if not self.gui_open[-1]:
            return False
        box = slot_item_box(frames[-1], prompt)
        if box is None:
            return False
        r0, c0, r1, c1 = box
        icon = frames[-1, r0:r1, c0:c1].astype(np.float32)
        if icon.std() < 2.0:
            return False  # an empty slot: nothing to track
        self.box, self.reference, self.frames = box, icon, frames
        return True

    def describe(self) -> dict:
        return {"kind": "gui_slot", "box": list(self.box) if self.box else None}

    def silhouettes(self) -> np.ndarray:
        if self.box is None or self.frames is None:
            raise ValueError("no slot fitted")
        n, height, width = self.frames.shape[:3]
        r0, c0, r1, c1 = self.box
        out = np.zeros((n, height, width), bool)
        for t in range(n - 1, -1, -1):
            if not self.gui_open[t]:
                break  # the GUI session that ends at the event starts here
            icon = self.frames[t, r0:r1, c0:c1].astype(np.float32)
            out[t, r0:r1, c0:c1] = float(np.abs(icon - self.reference).mean()) <= self.max_difference
        self.frames = None
        return out
