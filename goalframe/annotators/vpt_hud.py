"""Where Minecraft's HUD covers the world on a VPT frame.

Outside a GUI screen the game draws its HUD over the world at fixed screen positions: the
hotbar (182 x 22 GUI pixels, centred at the bottom, the selected slot framed one pixel wider),
the experience bar over it, and the hearts (left) and hunger (right) rows over that. A world
object there is hidden behind the HUD, so a mask projected from the camera poses must leave
those pixels out. The layout is the game's at the recorder's GUI scale: one GUI pixel per frame
pixel on a 640 x 360 frame (``annotators/gui_slots.py``), scaled with the frame's height.
"""

from __future__ import annotations

import numpy as np

GUI_HEIGHT = 360  # the frame height at which one GUI pixel is one frame pixel
HOTBAR_W = 182
# (top, bottom, left, right) in GUI pixels, rows from the frame's bottom, columns from the
# hotbar's left edge: the hotbar with the selection frame, the experience bar, hearts, hunger
HUD_BOXES = (
    (24, 0, -2, HOTBAR_W + 3),
    (29, 24, 0, HOTBAR_W),
    (40, 32, 0, 80),
    (40, 32, HOTBAR_W - 80, HOTBAR_W),
)


def hud_mask(height: int, width: int) -> np.ndarray:
    """(height, width) bool: the pixels the HUD covers on a frame of that size."""
    scale = height / GUI_HEIGHT
    left = (width - HOTBAR_W * scale) / 2
    mask = np.zeros((height, width), bool)
    for top, bottom, x0, x1 in HUD_BOXES:
        rows = slice(max(int(round(height - top * scale)), 0), int(round(height - bottom * scale)))
        cols = slice(max(int(round(left + x0 * scale)), 0), int(round(left + x1 * scale)))
        mask[rows, cols] = True
    return mask
