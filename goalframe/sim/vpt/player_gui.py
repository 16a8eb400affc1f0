"""The scripted player's GUI hands: cursor moves, slot clicks, and crafting through the screens.

A mixin of :class:`~goalframe.sim.vpt.player.ScriptedPlayer`: its methods use the player's
``w`` (the world), ``rng`` and input helpers (``_idle``, ``_wait``, ``_tap``, ``_has``,
``_hotbar_has``), and draw from the same generator in the same order as before the split.
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

from goalframe.sim.vpt.blocks import TOOLS
from goalframe.sim.vpt.constants import (
    CLICK_JITTER_PX,
    CURSOR_JUMP_PX,
    CURSOR_MAX_TICKS,
    CURSOR_TOLERANCE_PX,
    MAX_STACK,
)
from goalframe.sim.vpt.gui import SLOT_CRAFT0, SLOT_OUTPUT


class GuiHands:
    """Inventory and crafting-table work for a scripted player (see the module docstring)."""

    def _move_cursor(self, x: float, y: float) -> Iterator[dict[str, Any]]:
        w, rng = self.w, self.rng
        for _ in range(CURSOR_MAX_TICKS):
            rx, ry = x - w.mouse_x, y - w.mouse_y
            if abs(rx) <= CURSOR_TOLERANCE_PX and abs(ry) <= CURSOR_TOLERANCE_PX:
                return
            if math.hypot(rx, ry) < CURSOR_JUMP_PX:
                dx, dy = round(rx), round(ry)
            else:
                k = rng.uniform(0.3, 0.6)
                dx = round(rx * k + rng.gauss(0, 2.0))
                dy = round(ry * k + rng.gauss(0, 2.0))
            yield self._idle(dx=float(dx), dy=float(dy))

    def _gui_click(self, slot: int, button: int = 0, times: int = 1) -> Iterator[dict[str, Any]]:
        cx, cy = self.w.gui.slot_center(slot)
        jitter = CLICK_JITTER_PX
        jx, jy = self.rng.randint(-jitter, jitter), self.rng.randint(-jitter, jitter)
        yield from self._move_cursor(cx + jx, cy + jy)
        yield from self._wait(0, 2)
        for _ in range(times):
            yield self._idle(buttons={button})
            yield from self._wait(1, 3)

    def _open_inventory(self) -> Iterator[dict[str, Any]]:
        if not self.w.gui_open:
            yield from self._tap("key.keyboard.e", 1)
        yield from self._wait(2, 5)

    def _close_gui(self) -> Iterator[dict[str, Any]]:
        yield from self._wait(1, 4)
        if self.w.gui_open:
            yield from self._tap("key.keyboard.e", 1)
        yield from self._wait(1, 4)

    def _find_slot(self, item: str) -> int | None:
        return next(
            (
                i
                for i in list(range(9, 36)) + list(range(9))
                if self.w.slots[i] and self.w.slots[i][0] == item
            ),
            None,
        )

    def _empty_slot(self) -> int | None:
        return next((i for i in list(range(9, 36)) + list(range(9)) if self.w.slots[i] is None), None)

    def _deposit(self) -> Iterator[dict[str, Any]]:
        """Put the stack on the cursor into a matching or empty inventory slot."""
        w = self.w
        if not w.held:
            return
        slot = self._find_slot(w.held[0]) if w.held[0] not in TOOLS else None
        if slot is not None and w.slots[slot][1] + w.held[1] > MAX_STACK:
            slot = None
        if slot is None:
            slot = self._empty_slot()
        if slot is not None:
            yield from self._gui_click(slot)

    def _craft(self, pattern: dict[int, str], want: str, clicks: int) -> Iterator[dict[str, Any]]:
        """Fill grid cells (grid index -> item), click the output ``clicks`` times, store the result."""
        w = self.w
        by_item: dict[str, list[int]] = {}
        for j, item in pattern.items():
            by_item.setdefault(item, []).append(j)
        for item, cells in by_item.items():
            src = self._find_slot(item)
            if src is None:
                return
            yield from self._gui_click(src)  # pick up the stack
            if len(cells) == 1 and self.rng.random() < 0.5:
                yield from self._gui_click(SLOT_CRAFT0 + cells[0])  # the whole stack
            else:
                for j in cells:
                    yield from self._gui_click(SLOT_CRAFT0 + j, button=1)
                yield from self._deposit()
        out = w.gui.recipe_output()
        if out is None or out[0] != want:
            return
        for _ in range(clicks):
            yield from self._gui_click(SLOT_OUTPUT)
            if w.gui.recipe_output() is None:
                break
        yield from self._deposit()

    def _plan_recipe(self, size: int) -> tuple[dict[int, str], str, int] | None:
        logs, planks, sticks = self._has("oak_log"), self._has("oak_planks"), self._has("stick")
        rng = self.rng
        if size == 3 and planks >= 3 and sticks >= 2 and not self._has("wooden_pickaxe"):
            return (
                {0: "oak_planks", 1: "oak_planks", 2: "oak_planks", 4: "stick", 7: "stick"},
                "wooden_pickaxe",
                1,
            )
        if size == 3 and planks >= 2 and sticks < 2 and rng.random() < 0.8:
            return {1: "oak_planks", 4: "oak_planks"}, "stick", 1
        if planks >= 4 and not self._has("crafting_table") and rng.random() < 0.6:
            return {0: "oak_planks", 1: "oak_planks", 3: "oak_planks", 4: "oak_planks"}, "crafting_table", 1
        if logs:
            return (
                {rng.choice((0, 1, 3, 4)) if size == 2 else rng.randrange(9): "oak_log"},
                "oak_planks",
                rng.randint(1, min(3, logs)),
            )
        if planks >= 2:
            return {0: "oak_planks", 3: "oak_planks"}, "stick", 1
        return None

    def _do_craft(self) -> Iterator[dict[str, Any]]:
        yield from self._open_inventory()
        for _ in range(self.rng.randint(1, 2)):
            plan = self._plan_recipe(2)
            if plan is None:
                break
            yield from self._craft(*plan)
            yield from self._wait(1, 6)
        yield from self._close_gui()

    def _ensure_hotbar(self, item: str) -> Iterator[dict[str, Any]]:
        """Move ``item`` into the hotbar through the inventory screen when it is not there."""
        w = self.w
        if self._hotbar_has(item) or not self._has(item):
            return
        src = next((i for i in range(9, 36) if w.slots[i] and w.slots[i][0] == item), None)
        if src is None:
            return
        dst = next((i for i in range(9) if w.slots[i] is None), self.rng.randrange(9))
        yield from self._open_inventory()
        yield from self._gui_click(src)
        yield from self._gui_click(dst)
        if w.held:
            yield from self._gui_click(src)
        yield from self._close_gui()
