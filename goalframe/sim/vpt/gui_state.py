"""The open inventory or crafting-table screen of a world: cursor, slot clicks, crafting.

``GuiScreen`` holds no state of its own: the slots, crafting grid, held stack and cursor stay
on the world (the recorder and the scripted player read them there); this class is the logic
that changes them while a screen is open, kept apart from the world's play tick.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from goalframe.sim.vpt.blocks import STACK_ONE
from goalframe.sim.vpt.constants import (
    CAMERA_SCALER,
    GUI_SCALE,
    MAX_STACK,
    WINDOW_H,
    WINDOW_W,
)
from goalframe.sim.vpt.crafting import match_recipe
from goalframe.sim.vpt.gui import _SLOT_RECTS, SLOT_CRAFT0, SLOT_OUTPUT, gui_object_id


class GuiScreen:
    """The screen logic of one world: opening, closing, cursor moves and slot clicks."""

    def __init__(self, world: Any) -> None:
        self.world = world

    def open(self, inventory: bool) -> None:
        w = self.world
        w.gui_open = True
        w.gui_inventory = inventory
        w.mouse_x, w.mouse_y = WINDOW_W / 2, WINDOW_H / 2
        w._mine_progress = 0
        w._mine_target = None
        w.vx = w.vz = 0.0

    def close(self) -> None:
        w = self.world
        for j in range(9):
            if w.grid[j]:
                w.add_item(*w.grid[j])  # what does not fit is lost (dropped in the game)
                w.grid[j] = None
        if w.held:
            w.add_item(*w.held)
            w.held = None
        w.gui_open = False
        w.gui_inventory = False
        w.mouse_x, w.mouse_y = WINDOW_W / 2, WINDOW_H / 2

    def _slot_ref(self, s: int) -> tuple[list, int]:
        w = self.world
        if s < 36:
            return w.slots, s
        return w.grid, s - SLOT_CRAFT0

    def tick(self, cam: np.ndarray, press: dict[str, int]) -> None:
        w = self.world
        dx, dy = cam[1] / CAMERA_SCALER, cam[0] / CAMERA_SCALER
        dx = float(round(dx)) if abs(dx - round(dx)) < 1e-6 else dx
        dy = float(round(dy)) if abs(dy - round(dy)) < 1e-6 else dy
        w.mouse_x = min(max(w.mouse_x + dx, 0.0), float(WINDOW_W))
        w.mouse_y = min(max(w.mouse_y + dy, 0.0), float(WINDOW_H))
        if not (press["attack"] or press["use"]):
            return
        s = self.slot_at(w.mouse_x, w.mouse_y)
        if s is None:
            return
        if s == SLOT_OUTPUT:
            res = self.recipe_output()
            if res is None or not press["attack"]:
                return
            item, n = res
            if w.held and (w.held[0] != item or w.held[1] + n > (1 if item in STACK_ONE else MAX_STACK)):
                return
            oid = gui_object_id(SLOT_OUTPUT, item)
            for j in range(9):
                if w.grid[j]:
                    w.grid[j][1] -= 1
                    if w.grid[j][1] <= 0:
                        w.grid[j] = None
            if w.held:
                w.held[1] += n
            else:
                w.held = [item, n]
            w.count_stat("craft_item", item, n, object_id=oid)
            return
        if s >= SLOT_CRAFT0 and s < SLOT_OUTPUT and w.gui_inventory and (s - SLOT_CRAFT0) not in (0, 1, 3, 4):
            return
        arr, j = self._slot_ref(s)
        cur = arr[j]
        if press["attack"]:
            if w.held is None:
                if cur:
                    w.held, arr[j] = cur, None
            elif cur is None:
                arr[j], w.held = w.held, None
            elif cur[0] == w.held[0] and cur[0] not in STACK_ONE:
                k = min(MAX_STACK - cur[1], w.held[1])
                cur[1] += k
                w.held[1] -= k
                if w.held[1] <= 0:
                    w.held = None
            else:
                arr[j], w.held = w.held, cur
        else:  # right click
            if w.held is None:
                if cur:
                    half = (cur[1] + 1) // 2
                    w.held = [cur[0], half]
                    cur[1] -= half
                    if cur[1] <= 0:
                        arr[j] = None
            elif cur is None:
                arr[j] = [w.held[0], 1]
                w.held[1] -= 1
            elif cur[0] == w.held[0] and cur[1] < MAX_STACK and cur[0] not in STACK_ONE:
                cur[1] += 1
                w.held[1] -= 1
            if w.held is not None and w.held[1] <= 0:
                w.held = None

    def snapshot(self):
        w = self.world
        return (
            [list(s) if s else None for s in w.slots],
            [list(s) if s else None for s in w.grid],
            list(w.held) if w.held else None,
            self.recipe_output() if w.gui_open else None,
        )

    def slot_center(self, slot: int) -> tuple[float, float]:
        """Window coordinates (1280x720) of the centre of a GUI slot of the open screen."""
        w = self.world
        x, y = _SLOT_RECTS[not w.gui_inventory][slot]
        return (x + 8) * GUI_SCALE, (y + 8) * GUI_SCALE

    def slot_at(self, wx: float, wy: float) -> int | None:
        w = self.world
        fx, fy = wx / GUI_SCALE, wy / GUI_SCALE
        for s, (x, y) in _SLOT_RECTS[not w.gui_inventory].items():
            pad = 4 if s == SLOT_OUTPUT else 1
            if x - pad <= fx < x + 16 + pad and y - pad <= fy < y + 16 + pad:
                return s
        return None

    def grid_size(self) -> int:
        w = self.world
        return 2 if w.gui_inventory else 3

    def recipe_output(self) -> tuple[str, int] | None:
        w = self.world
        if not w.gui_open:
            return None
        return match_recipe(w.grid, self.grid_size())
