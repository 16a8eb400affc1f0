"""The inventory and crafting-table screens: slot layout, panel images, GUI object ids."""

from __future__ import annotations

import cv2
import numpy as np

from goalframe.sim.vpt.blocks import (
    ITEM_INDEX,
)
from goalframe.sim.vpt.constants import (
    GUI_ID_BASE,
    HEIGHT,
    WIDTH,
)

# ----------------------------------------------------------------------------- GUI layout

GUI_PANEL_W, GUI_PANEL_H = 176, 166
GUI_LEFT, GUI_TOP = (WIDTH - GUI_PANEL_W) // 2, (HEIGHT - GUI_PANEL_H) // 2
SLOT_OUTPUT = 45
SLOT_CRAFT0 = 36  # 36..44 crafting grid (3x3, row-major); the inventory screen uses 36, 37, 39, 40
SLOT_HUD0 = 46  # 46..54 the HUD hotbar
SLOT_NAMES = (
    [f"hotbar_{i}" for i in range(9)]
    + [f"inventory_{i}" for i in range(9, 36)]
    + [f"craft_{i}" for i in range(9)]
    + ["craft_output"]
    + [f"hud_hotbar_{i}" for i in range(9)]
)
HOTBAR_X, HOTBAR_Y = (WIDTH - 182) // 2, HEIGHT - 22


def gui_slot_rects(table: bool) -> dict[int, tuple[int, int]]:
    """Slot index -> top-left (x, y) of its 16x16 item area in frame pixels."""
    rects: dict[int, tuple[int, int]] = {}
    for i in range(9):
        rects[i] = (GUI_LEFT + 8 + 18 * i, GUI_TOP + 142)
    for i in range(27):
        rects[9 + i] = (GUI_LEFT + 8 + 18 * (i % 9), GUI_TOP + 84 + 18 * (i // 9))
    if table:
        for j in range(9):
            rects[SLOT_CRAFT0 + j] = (GUI_LEFT + 30 + 18 * (j % 3), GUI_TOP + 17 + 18 * (j // 3))
        rects[SLOT_OUTPUT] = (GUI_LEFT + 124, GUI_TOP + 35)
    else:
        for j in (0, 1, 3, 4):
            rects[SLOT_CRAFT0 + j] = (GUI_LEFT + 98 + 18 * (j % 3), GUI_TOP + 18 + 18 * (j // 3))
        rects[SLOT_OUTPUT] = (GUI_LEFT + 154, GUI_TOP + 28)
    return rects


_SLOT_RECTS = {False: gui_slot_rects(False), True: gui_slot_rects(True)}


def _make_panel(table: bool) -> np.ndarray:
    img = np.full((GUI_PANEL_H, GUI_PANEL_W, 3), 198, np.uint8)
    cv2.rectangle(img, (0, 0), (GUI_PANEL_W - 1, GUI_PANEL_H - 1), (0, 0, 0), 1)
    cv2.line(img, (1, 1), (GUI_PANEL_W - 3, 1), (255, 255, 255), 1)
    cv2.line(img, (1, 1), (1, GUI_PANEL_H - 3), (255, 255, 255), 1)
    cv2.line(img, (2, GUI_PANEL_H - 2), (GUI_PANEL_W - 2, GUI_PANEL_H - 2), (85, 85, 85), 1)
    cv2.line(img, (GUI_PANEL_W - 2, 2), (GUI_PANEL_W - 2, GUI_PANEL_H - 2), (85, 85, 85), 1)
    rects = dict(_SLOT_RECTS[table])
    if not table:
        for k in range(4):
            rects[100 + k] = (GUI_LEFT + 8, GUI_TOP + 8 + 18 * k)  # armour
        rects[104] = (GUI_LEFT + 77, GUI_TOP + 62)  # off hand
        cv2.rectangle(img, (26, 8), (75, 77), (0, 0, 0), -1)
        cv2.rectangle(img, (44, 18), (57, 31), (190, 150, 120), -1)  # a tiny player preview
        cv2.rectangle(img, (44, 32), (57, 52), (40, 160, 170), -1)
        cv2.rectangle(img, (44, 53), (57, 72), (60, 60, 150), -1)
    for s, (x, y) in rects.items():
        x, y = x - GUI_LEFT, y - GUI_TOP
        big = s == SLOT_OUTPUT
        pad = 5 if big else 1
        cv2.rectangle(img, (x - pad, y - pad), (x + 15 + pad, y + 15 + pad), (139, 139, 139), -1)
        cv2.line(img, (x - pad, y - pad), (x + 15 + pad, y - pad), (55, 55, 55), 1)
        cv2.line(img, (x - pad, y - pad), (x - pad, y + 15 + pad), (55, 55, 55), 1)
        cv2.line(img, (x - pad, y + 16 + pad), (x + 16 + pad, y + 16 + pad), (255, 255, 255), 1)
        cv2.line(img, (x + 16 + pad, y - pad), (x + 16 + pad, y + 16 + pad), (255, 255, 255), 1)
    if table:
        ax, ay = 90, 35
        cv2.putText(img, "Crafting", (28, 12), cv2.FONT_HERSHEY_PLAIN, 0.7, (64, 64, 64), 1)
    else:
        ax, ay = 134, 28
        cv2.putText(img, "Crafting", (97, 14), cv2.FONT_HERSHEY_PLAIN, 0.7, (64, 64, 64), 1)
    arrow = np.array(
        [
            [ax, ay + 5],
            [ax + 14, ay + 5],
            [ax + 14, ay + 1],
            [ax + 21, ay + 8],
            [ax + 14, ay + 15],
            [ax + 14, ay + 11],
            [ax, ay + 11],
        ],
        np.int32,
    )
    cv2.fillPoly(img, [arrow], (139, 139, 139))
    cv2.putText(img, "Inventory", (8, 80), cv2.FONT_HERSHEY_PLAIN, 0.7, (64, 64, 64), 1)
    return img


_PANELS = {False: _make_panel(False), True: _make_panel(True)}


def gui_object_id(slot: int, item: str) -> int:
    return GUI_ID_BASE + slot * 64 + ITEM_INDEX[item]
