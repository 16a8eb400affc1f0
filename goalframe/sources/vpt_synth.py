"""Synthetic VPT contractor recordings with ground truth.

``synthesize_vpt`` plays seeded scripted players in :class:`~goalframe.sources.vpt_world.VptWorld`
and writes the file set of real contractor data (see ``raw-formats.md``, section VPT)::

    OUT/6.13/<alias>-<session>-<YYYYMMDD>-<HHMMSS>.mp4            h264 640x360 20 fps
    OUT/6.13/<stem>.jsonl                                          one JSON object per tick
    OUT/6.13/<stem>-options.json                                   game options + window size
    OUT/index_6.13.json                                            {"basedir", "relpaths"}

and, apart from it, the ground truth a reader and annotator can be checked against::

    OUT/truth/<stem>.npz    object_ids (T, 360, 640) uint16 and the per-tick values written
    OUT/truth/<stem>.json   quirks, objects, stat events, keys, inventory, final stats

T is the number of complete jsonl lines. Quirks (each with probability ``quirk_rate``):
``extra_frame`` (the last frame written twice), ``stuck_attack`` (attack held from before
the recording: first line ``newButtons == [0]``, button 0 listed until a fresh press, while
the game does not attack), ``truncated_last_line`` (the final line cut inside its JSON, no
newline; its frame is in the mp4) and ``non_utf8_line`` (raw byte 0xFF in ``keyboard.chars``).
An episode never has both ``extra_frame`` and ``truncated_last_line``, so the mp4 always
holds T or T + 1 frames.

The real recorder's layout, whatever ``quirk_rate`` (:class:`Layout`, by episode index so
that any two or three episodes show each; truth ``layout``): the window cycles through
1280x720, 1920x1080 and a 1280x720 window on a 2x (retina) framebuffer, and the jsonl is
written in that window's coordinates (``mouse.x, y``; GUI-open ``dx, dy, scaledX, scaledY``
divided by the GUI scale factor ``guiScale / framebufferToWindowRatio``); even episodes
have one stats counter that vanishes (reset to 0, no longer listed) and comes back counted
from 0 with its next event; odd episodes have a pause: ``milli`` jumps by seconds between
two lines while ``tick`` runs on. None of it changes a rendered frame, an event or a mask:
the world keeps its cursor in 1280x720 coordinates.

Truth events (``<stem>.json["events"]``) are the increases of non-``custom`` stats, one per
(tick, stat, object): ``frame`` is the tick whose stats line first shows the increase,
``delta`` the increase, ``object_id`` the world object involved (the mined block, killed mob,
placed block, or the crafting output slot as a GUI id; null for pickup, drop and eating),
``prompt`` the (row, col) prompt point on that frame (frame centre, or the cursor
``(mouse.x, mouse.y) * 360 / windowHeight`` when a GUI is open) and ``visible`` whether
``object_ids[frame][prompt] == object_id``. The world shows a mined block or killed mob on
the event frame and removes it from the next, so for mining and hunting the event frame is
the last frame where the target is visible under the crosshair.
"""

from __future__ import annotations

import json
import math
import random
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import numpy as np

from goalframe.media.video import write_mp4
from goalframe.sources.vpt_world import (
    BLOCK_CODE,
    BLOCKS,
    CAMERA_SCALER,
    FOOD,
    FPS,
    GROUND_Y,
    HEIGHT,
    PLACEABLE,
    REGION,
    SLOT_CRAFT0,
    SLOT_OUTPUT,
    TOOLS,
    WIDTH,
    WINDOW_H,
    WINDOW_W,
    VptWorld,
    look_angles,
)

VERSION = "6.13"
NON_UTF8_PLACEHOLDER = "\u0001NONUTF8\u0001"
GUI_SCALE = 2  # the options' guiScale
# (window, framebuffer) sizes in pixels, cycled over the episodes: usual, bigger, a 2x display
WINDOW_LAYOUTS = (((1280, 720), (1280, 720)), ((1920, 1080), (1920, 1080)), ((1280, 720), (2560, 1440)))
PAUSE_MS_RANGE = (2_000, 20_000)  # how long a generated pause lasts, ms
PAUSE_SPAN = (0.3, 0.8)  # where in the episode it falls (fraction of the frames)
COUNTER_RESET_SPAN = (0.2, 0.4)  # where a counter vanishes (fraction of the frames)


@dataclass(frozen=True)
class Layout:
    """How one episode is recorded: window, and the pause and counter reset it may have."""

    window: tuple[int, int]  # (width, height) window pixels
    framebuffer: tuple[int, int]  # (width, height) framebuffer pixels
    pause_tick: int | None  # the first line written after the pause
    pause_ms: int
    counter_reset_tick: int | None  # where a counter should vanish (the nearest tick that fits is used)

    @property
    def ratio(self) -> float:
        return self.framebuffer[0] / self.window[0]

    @property
    def gui_scale_factor(self) -> float:
        return GUI_SCALE / self.ratio

    @property
    def window_scale(self) -> float:
        """Window pixels per pixel of the world's 1280x720 cursor space."""
        return self.window[0] / WINDOW_W


def episode_layout(index: int, seed: int, frames: int) -> Layout:
    """The layout of episode ``index``; draws from its own generator, so frames do not change."""
    rng = random.Random(f"vpt-layout-{seed}")
    window, framebuffer = WINDOW_LAYOUTS[index % len(WINDOW_LAYOUTS)]
    pause_tick = rng.randint(max(1, int(frames * PAUSE_SPAN[0])), max(1, int(frames * PAUSE_SPAN[1])))
    pause_ms = rng.randint(*PAUSE_MS_RANGE)
    reset_tick = rng.randint(max(1, int(frames * COUNTER_RESET_SPAN[0])), max(1, int(frames * COUNTER_RESET_SPAN[1])))
    paused = index % 2 == 1 and frames > 2
    return Layout(window, framebuffer, pause_tick if paused else None, pause_ms, reset_tick if index % 2 == 0 else None)

# VPT's KEYBOARD_BUTTON_MAPPING (run_inverse_dynamics_model.py)
KEY_TO_ACTION = {
    "key.keyboard.escape": "ESC", "key.keyboard.s": "back", "key.keyboard.q": "drop",
    "key.keyboard.w": "forward", "key.keyboard.e": "inventory", "key.keyboard.space": "jump",
    "key.keyboard.a": "left", "key.keyboard.d": "right", "key.keyboard.left.shift": "sneak",
    "key.keyboard.left.control": "sprint", "key.keyboard.f": "swapHands",
    **{f"key.keyboard.{i}": f"hotbar.{i}" for i in range(1, 10)},
}
KEY_CHARS = {"key.keyboard.space": " ", **{f"key.keyboard.{c}": c for c in "abcdefghijklmnopqrstuvwxyz0123456789"}}
MOB_AIM_HEIGHT = {"pig": 0.62, "cow": 1.05, "zombie": 1.1}

_ADJ = ["cheeky", "brave", "quiet", "sunny", "lucky", "gentle", "rapid", "mellow", "witty", "fuzzy",
        "proud", "clever", "eager", "jolly", "noble", "breezy"]
_MID = ["cornflower", "amber", "cobalt", "saffron", "olive", "crimson", "ivory", "teal", "maple",
        "juniper", "coral", "slate", "hazel", "indigo"]
_NOUN = ["setter", "otter", "falcon", "badger", "heron", "lynx", "marmot", "gecko", "puffin", "ibex",
         "tapir", "wombat", "pika", "newt"]


# ============================================================================ scripted player


class ScriptedPlayer:
    """A seeded scripted contractor: walks, turns, chops, digs, places, hunts, crafts, eats.

    ``next_input()`` returns the raw recorder-level input of one tick:
    ``{"keys": [...held key names...], "dx", "dy" (mouse pixels), "buttons": {0, 1}, "dwheel"}``.
    """

    def __init__(self, world: VptWorld, seed: int) -> None:
        self.w = world
        self.rng = random.Random(seed)
        self.held_keys: list[str] = []
        self._plan = self._main()
        self._last_behavior = ""

    # ------------------------------------------------------------------ input helpers
    def next_input(self) -> dict[str, Any]:
        try:
            inp = next(self._plan)
        except StopIteration:  # pragma: no cover - the main loop never ends
            inp = self._idle()
        keys = inp.get("keys", ())
        held = [k for k in self.held_keys if k in keys] + sorted(k for k in keys if k not in self.held_keys)
        self.held_keys = held
        return {"keys": list(held), "dx": float(inp.get("dx", 0.0)), "dy": float(inp.get("dy", 0.0)),
                "buttons": set(inp.get("buttons", ())), "dwheel": float(inp.get("dwheel", 0.0))}

    @staticmethod
    def _idle(**kw: Any) -> dict[str, Any]:
        return {"keys": set(), "dx": 0.0, "dy": 0.0, "buttons": set(), "dwheel": 0.0, **kw}

    def _aim(self, point: Any, gain: float = 0.45, max_deg: float = 10.0, noise: float = 0.2) -> tuple[float, float, float]:
        """Mouse (dx, dy) pixels turning toward ``point``; also the remaining angular error."""
        w = self.w
        yaw_t, pitch_t = look_angles(w.eye, np.asarray(point, float))
        ey = (yaw_t - w.yaw + 180.0) % 360.0 - 180.0
        ep = pitch_t - w.pitch
        err = math.hypot(ey, ep)
        sy = max(-max_deg, min(max_deg, ey * gain))
        sp = max(-max_deg, min(max_deg, ep * gain))
        if err > 2.0 and noise:
            sy += self.rng.gauss(0.0, noise)
            sp += self.rng.gauss(0.0, noise * 0.6)
        dx = float(round(sy / CAMERA_SCALER))
        dy = float(round(sp / CAMERA_SCALER))
        if abs(ey) < 0.5 * CAMERA_SCALER:
            dx = 0.0
        if abs(ep) < 0.5 * CAMERA_SCALER:
            dy = 0.0
        return dx, dy, err

    def _yaw_error(self, point: Any) -> float:
        yaw_t, _ = look_angles(self.w.eye, np.asarray(point, float))
        return abs((yaw_t - self.w.yaw + 180.0) % 360.0 - 180.0)

    def _hdist(self, x: float, z: float) -> float:
        return math.hypot(x - self.w.x, z - self.w.z)

    def _wait(self, lo: int, hi: int) -> Iterator[dict[str, Any]]:
        for _ in range(self.rng.randint(lo, hi)):
            yield self._idle()

    def _tap(self, key: str, ticks: int = 1, **kw: Any) -> Iterator[dict[str, Any]]:
        for _ in range(ticks):
            yield self._idle(keys={key}, **kw)

    # ------------------------------------------------------------------ motion
    def _walk_to(self, x: float, z: float, stop: float, look: Any = None, max_ticks: int = 160) -> Iterator[dict[str, Any]]:
        """Walk until within ``stop`` blocks (horizontal) of (x, z); jumps and strafes when blocked."""
        w, rng = self.w, self.rng
        last = (w.x, w.z)
        blocked = 0
        strafe = 0
        strafe_key = "key.keyboard.a"
        for _ in range(max_ticks):
            d = self._hdist(x, z)
            if d <= stop:
                return
            if blocked >= 8 and d < stop + 1.6:
                return
            pt = look if look is not None else (x, w.eye[1] - 0.1 * min(d, 6.0), z)
            dx, dy, _ = self._aim(pt, gain=0.35, max_deg=12.0)
            keys: set[str] = set()
            if self._yaw_error((x, w.eye[1], z)) < 40:
                keys.add("key.keyboard.w")
                if d > 7 and rng.random() < 0.9:
                    keys.add("key.keyboard.left.control")
            if strafe > 0:
                keys.add(strafe_key)
                strafe -= 1
            if blocked >= 3 and w.on_ground and rng.random() < 0.5:
                keys.add("key.keyboard.space")
            if blocked >= 10 and strafe == 0:
                strafe = rng.randint(6, 14)
                strafe_key = rng.choice(("key.keyboard.a", "key.keyboard.d"))
                blocked = 0
            yield self._idle(keys=keys, dx=dx, dy=dy)
            moved = math.hypot(w.x - last[0], w.z - last[1])
            blocked = blocked + 1 if ("key.keyboard.w" in keys and moved < 0.03) else 0
            last = (w.x, w.z)

    def _aim_at(self, point: Any, tol: float = 2.0, max_ticks: int = 40) -> Iterator[dict[str, Any]]:
        for _ in range(max_ticks):
            dx, dy, err = self._aim(point)
            if err < tol:
                return
            yield self._idle(dx=dx, dy=dy)

    def _select(self, item: str) -> Iterator[dict[str, Any]]:
        """Select a hotbar slot holding ``item`` by number key or by scrolling."""
        w = self.w
        slot = next((i for i in range(9) if w.slots[i] and w.slots[i][0] == item), None)
        if slot is None:
            return
        if slot == w.hotbar:
            return
        if self.rng.random() < 0.4:
            for _ in range(12):
                if w.hotbar == slot:
                    break
                diff = (slot - w.hotbar) % 9
                yield self._idle(dwheel=-1.0 if diff <= 4 else 1.0)
        else:
            yield from self._tap(f"key.keyboard.{slot + 1}", self.rng.randint(1, 2))
        yield from self._wait(1, 3)

    def _has(self, item: str) -> int:
        return self.w.inventory.get(item, 0)

    def _hotbar_has(self, item: str) -> bool:
        return any(s and s[0] == item for s in self.w.slots[:9])

    # ------------------------------------------------------------------ behaviours
    def _main(self) -> Iterator[dict[str, Any]]:
        yield from self._wait(2, 6)
        while True:
            options = self._options()
            names = [n for n, _ in options]
            weights = [wt * (0.3 if n == self._last_behavior else 1.0) for n, wt in options]
            name = self.rng.choices(names, weights)[0]
            self._last_behavior = name
            yield from getattr(self, f"_do_{name}")()
            yield from self._wait(0, 4)

    def _options(self) -> list[tuple[str, float]]:
        w = self.w
        opts: list[tuple[str, float]] = [("wander", 0.6), ("dig", 1.0)]
        if self._nearest_log() is not None:
            opts.append(("chop", 3.0))
        mob = self._nearest_mob(22.0)
        if mob is not None:
            opts.append(("hunt", 4.0 if self._hdist(mob.x, mob.z) < 10 else 2.5))
        if self._has("oak_log") or self._has("oak_planks") >= 2:
            opts.append(("craft", 3.0))
        if any(self._has(b) for b in PLACEABLE if b != "crafting_table"):
            opts.append(("place", 2.0))
        if self._has("crafting_table") and (self._has("oak_planks") >= 2 or self._has("oak_log")):
            opts.append(("table", 6.0))
        if any(self._has(t) for t in TOOLS if TOOLS[t][0] == "pickaxe") and self._nearest_stone() is not None:
            opts.append(("ore", 2.5))
        if any(self._hotbar_has(f) for f in FOOD):
            opts.append(("eat", 0.5))
        if w.slots[w.hotbar] and w.slots[w.hotbar][0] in ("dirt", "gravel", "sand", "rotten_flesh"):
            opts.append(("drop", 0.25))
        return opts

    def _nearest_log(self) -> tuple[int, int, int] | None:
        best, bd = None, 40.0
        for pos, (code, _) in self.w.blocks.items():
            if code == BLOCK_CODE["oak_log"] and pos[1] <= GROUND_Y + 1:
                d = self._hdist(pos[0] + 0.5, pos[2] + 0.5)
                if d < bd:
                    best, bd = pos, d
        return best

    def _nearest_stone(self) -> tuple[int, int, int] | None:
        best, bd = None, 30.0
        codes = {BLOCK_CODE[n] for n in ("stone", "coal_ore", "iron_ore")}
        for pos, (code, _) in self.w.blocks.items():
            if code in codes:
                d = self._hdist(pos[0] + 0.5, pos[2] + 0.5) + (3.0 if code == BLOCK_CODE["stone"] else 0.0)
                if d < bd:
                    best, bd = pos, d
        return best

    def _nearest_mob(self, limit: float):
        best, bd = None, limit
        for mob in self.w.mobs:
            d = self._hdist(mob.x, mob.z)
            if d < bd:
                best, bd = mob, d
        return best

    def _mine(self, pos: tuple[int, int, int] | None, cell: tuple[int, int] | None, point: Any,
              max_ticks: int = 200) -> Iterator[dict[str, Any]]:
        """Aim at ``point`` and hold attack until the block (above-ground ``pos`` or ground
        ``cell``) is gone; blocks in the way (leaves) are mined too."""
        w = self.w
        orig = w.blocks[pos][1] if pos is not None else int(w.gid[cell])
        release = 0
        for _ in range(max_ticks):
            if pos is not None and (pos not in w.blocks or w.blocks[pos][1] != orig):
                return
            if cell is not None and int(w.gid[cell]) != orig:
                return
            dx, dy, err = self._aim(point, gain=0.5, max_deg=9.0, noise=0.1)
            tgt = w.target()
            buttons: set[int] = set()
            if release > 0:
                release -= 1
            elif err < 5.0 and tgt is not None and tgt.kind != "mob":
                buttons.add(0)
                if self.rng.random() < 0.01:
                    release = self.rng.randint(1, 4)  # a human lets go now and then
            if err < 3.0:
                dx, dy = (dx, dy) if self.rng.random() < 0.85 else (dx + self.rng.choice((-1.0, 1.0)), dy)
            yield self._idle(dx=dx, dy=dy, buttons=buttons)

    def _do_wander(self) -> Iterator[dict[str, Any]]:
        w, rng = self.w, self.rng
        turn = rng.uniform(-90, 90)
        n = rng.randint(20, 60)
        per = turn / n
        if rng.random() < 0.35:  # fidget with the scroll wheel
            direction = rng.choice((-1.0, 1.0))
            for _ in range(rng.randint(1, 3)):
                yield self._idle(dwheel=direction)
                yield from self._wait(0, 2)
        ox, oz = w.origin
        c = REGION / 2
        for i in range(n):
            # drift back toward the middle of the world
            to_mid = look_angles(w.eye, (ox + c, w.eye[1], oz + c))[0]
            far = math.hypot(w.x - ox - c, w.z - oz - c) > REGION * 0.3
            yaw_step = per if not far else max(-8.0, min(8.0, ((to_mid - w.yaw + 180) % 360 - 180) * 0.3))
            pitch_step = (5.0 - w.pitch) * 0.1 + rng.gauss(0, 0.4)
            keys = {"key.keyboard.w"} if i > 2 else set()
            if rng.random() < 0.04 and w.on_ground:
                keys.add("key.keyboard.space")
            if rng.random() < 0.3 and i > 5:
                keys.add("key.keyboard.left.control")
            yield self._idle(keys=keys, dx=float(round(yaw_step / CAMERA_SCALER)), dy=float(round(pitch_step / CAMERA_SCALER)))

    def _do_chop(self) -> Iterator[dict[str, Any]]:
        w, rng = self.w, self.rng
        pos = self._nearest_log()
        if pos is None:
            return
        x, z = pos[0] + 0.5, pos[2] + 0.5
        yield from self._walk_to(x, z, stop=2.2, max_ticks=200)
        if self._hdist(x, z) > 4.0:
            return
        # mine the trunk from the bottom, one to three logs
        n = rng.randint(1, 3)
        for y in range(pos[1], pos[1] + 3):
            if n == 0:
                break
            p = (pos[0], y, pos[2])
            if p not in w.blocks or BLOCKS[w.blocks[p][0]].name != "oak_log":
                continue
            pt = self._face_point(p)
            yield from self._mine(p, None, pt, max_ticks=160)
            n -= 1
            yield from self._wait(1, 5)

    def _face_point(self, p: tuple[int, int, int]) -> tuple[float, float, float]:
        """Centre of the face of block ``p`` turned toward the player."""
        w = self.w
        cx, cy, cz = p[0] + 0.5, p[1] + 0.5, p[2] + 0.5
        dx, dz = w.x - cx, w.z - cz
        if abs(dx) > abs(dz):
            return cx + 0.49 * math.copysign(1, dx), cy, cz
        return cx, cy, cz + 0.49 * math.copysign(1, dz)

    def _cell_ahead(self, dist: float) -> tuple[int, int] | None:
        w = self.w
        f = (-math.sin(math.radians(w.yaw)), math.cos(math.radians(w.yaw)))
        i, k = w._cell(w.x + f[0] * dist, w.z + f[1] * dist)
        if not (0 <= i < REGION and 0 <= k < REGION):
            return None
        wx, wz = i + w.origin[0], k + w.origin[1]
        if (wx, GROUND_Y, wz) in w.blocks:
            return None
        if abs(wx + 0.5 - w.x) < 0.9 and abs(wz + 0.5 - w.z) < 0.9:
            return None
        return i, k

    def _cell_point(self, cell: tuple[int, int], y: float = GROUND_Y) -> tuple[float, float, float]:
        w = self.w
        return cell[0] + w.origin[0] + 0.5, float(y), cell[1] + w.origin[1] + 0.5

    def _do_dig(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        for _ in range(rng.randint(1, 2)):
            cell = self._cell_ahead(rng.uniform(1.6, 2.6))
            if cell is None:
                yield from self._do_wander()
                return
            pt = self._cell_point(cell)
            yield from self._aim_at(pt, tol=2.5)
            for _ in range(rng.randint(1, 2)):
                yield from self._mine(None, cell, pt, max_ticks=120)
                yield from self._wait(1, 4)
            if rng.random() < 0.5:
                yield from self._turn(rng.uniform(-70, 70))

    def _turn(self, deg: float) -> Iterator[dict[str, Any]]:
        n = max(2, int(abs(deg) / 8))
        for _ in range(n):
            yield self._idle(dx=float(round(deg / n / CAMERA_SCALER)), dy=float(round((8.0 - self.w.pitch) * 0.15 / CAMERA_SCALER)))

    def _placeable_item(self) -> str | None:
        items = [b for b in ("dirt", "cobblestone", "oak_planks", "sand", "gravel", "stone", "oak_log") if self._has(b)]
        return self.rng.choice(items) if items else None

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

    def _do_place(self) -> Iterator[dict[str, Any]]:
        w, rng = self.w, self.rng
        item = self._placeable_item()
        if item is None:
            return
        yield from self._ensure_hotbar(item)
        yield from self._select(item)
        if w.held_item() != item:
            return
        for _ in range(rng.randint(1, 3)):
            if w.held_item() != item:
                return
            cell = self._cell_ahead(rng.uniform(2.0, 3.0))
            if cell is None:
                yield from self._turn(rng.uniform(40, 120) * rng.choice((-1, 1)))
                continue
            pt = self._cell_point(cell)
            yield from self._aim_at(pt, tol=1.5)
            yield self._idle(buttons={1})
            yield from self._wait(2, 6)
            wpos = (cell[0] + w.origin[0], GROUND_Y, cell[1] + w.origin[1])
            if wpos in w.blocks and rng.random() < 0.5 and w.held_item() == item:
                top = (wpos[0] + 0.5, GROUND_Y + 1.0, wpos[2] + 0.5)
                yield from self._aim_at(top, tol=1.5)
                yield self._idle(buttons={1})
                yield from self._wait(2, 6)
            if wpos in w.blocks and rng.random() < 0.35:
                yield from self._mine(wpos, None, self._face_point(wpos), max_ticks=120)
            yield from self._turn(rng.uniform(-60, 60))

    def _do_hunt(self) -> Iterator[dict[str, Any]]:
        w, rng = self.w, self.rng
        mob = self._nearest_mob(22.0)
        if mob is None:
            return
        weapon = next((t for t in ("stone_pickaxe", "wooden_sword", "wooden_pickaxe") if self._hotbar_has(t)), None)
        if weapon and rng.random() < 0.7:
            yield from self._select(weapon)
        cooldown = 0
        for _ in range(300):
            if mob not in w.mobs:
                yield from self._wait(4, 12)  # watch it die, let drops come
                return
            pt = (mob.x, mob.y + MOB_AIM_HEIGHT[mob.kind], mob.z)
            d = self._hdist(mob.x, mob.z)
            dx, dy, err = self._aim(pt, gain=0.5, max_deg=14.0, noise=0.15)
            keys: set[str] = set()
            if d > 2.0 and self._yaw_error(pt) < 45:
                keys.add("key.keyboard.w")
                if d > 5:
                    keys.add("key.keyboard.left.control")
            buttons: set[int] = set()
            cooldown -= 1
            tgt = w.target()
            if cooldown <= 0 and tgt is not None and tgt.kind == "mob" and tgt.object_id == mob.id:
                buttons.add(0)
                cooldown = rng.randint(5, 9)
            yield self._idle(keys=keys, dx=dx, dy=dy, buttons=buttons)

    def _do_ore(self) -> Iterator[dict[str, Any]]:
        w, rng = self.w, self.rng
        pos = self._nearest_stone()
        if pos is None:
            return
        x, z = pos[0] + 0.5, pos[2] + 0.5
        yield from self._walk_to(x, z, stop=2.3, max_ticks=200)
        if self._hdist(x, z) > 4.0:
            return
        pick = next((t for t in ("stone_pickaxe", "wooden_pickaxe") if self._has(t)), None)
        if pick:
            yield from self._ensure_hotbar(pick)
            yield from self._select(pick)
        for _ in range(rng.randint(1, 3)):
            pos = self._nearest_stone()
            if pos is None or self._hdist(pos[0] + 0.5, pos[2] + 0.5) > 3.8:
                return
            yield from self._mine(pos, None, self._face_point(pos), max_ticks=120)
            yield from self._wait(1, 4)

    def _do_eat(self) -> Iterator[dict[str, Any]]:
        food = next((f for f in sorted(FOOD) if self._hotbar_has(f)), None)
        if food is None:
            return
        yield from self._select(food)
        if self.w.held_item() != food:
            return
        # look up a bit (away from blocks) and hold use while eating
        yield from self._aim_at((self.w.x - math.sin(math.radians(self.w.yaw)) * 5, self.w.eye[1] + 1.5,
                                 self.w.z + math.cos(math.radians(self.w.yaw)) * 5), tol=4.0)
        for _ in range(34):
            yield self._idle(buttons={1})

    def _do_drop(self) -> Iterator[dict[str, Any]]:
        yield from self._tap("key.keyboard.q", 1)
        yield from self._wait(2, 5)

    # ------------------------------------------------------------------ GUI
    def _move_cursor(self, x: float, y: float) -> Iterator[dict[str, Any]]:
        w, rng = self.w, self.rng
        for _ in range(40):
            rx, ry = x - w.mouse_x, y - w.mouse_y
            if abs(rx) <= 1.5 and abs(ry) <= 1.5:
                return
            if math.hypot(rx, ry) < 8:
                dx, dy = round(rx), round(ry)
            else:
                k = rng.uniform(0.3, 0.6)
                dx = round(rx * k + rng.gauss(0, 2.0))
                dy = round(ry * k + rng.gauss(0, 2.0))
            yield self._idle(dx=float(dx), dy=float(dy))

    def _gui_click(self, slot: int, button: int = 0, times: int = 1) -> Iterator[dict[str, Any]]:
        cx, cy = self.w.gui_slot_center(slot)
        jx, jy = self.rng.randint(-5, 5), self.rng.randint(-5, 5)
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
        return next((i for i in list(range(9, 36)) + list(range(9)) if self.w.slots[i] and self.w.slots[i][0] == item), None)

    def _empty_slot(self) -> int | None:
        return next((i for i in list(range(9, 36)) + list(range(9)) if self.w.slots[i] is None), None)

    def _deposit(self) -> Iterator[dict[str, Any]]:
        """Put the stack on the cursor into a matching or empty inventory slot."""
        w = self.w
        if not w.held:
            return
        slot = self._find_slot(w.held[0]) if w.held[0] not in TOOLS else None
        if slot is not None and w.slots[slot][1] + w.held[1] > 64:
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
        out = w.recipe_output()
        if out is None or out[0] != want:
            return
        for _ in range(clicks):
            yield from self._gui_click(SLOT_OUTPUT)
            if w.recipe_output() is None:
                break
        yield from self._deposit()

    def _plan_recipe(self, size: int) -> tuple[dict[int, str], str, int] | None:
        logs, planks, sticks = self._has("oak_log"), self._has("oak_planks"), self._has("stick")
        rng = self.rng
        if size == 3 and planks >= 3 and sticks >= 2 and not self._has("wooden_pickaxe"):
            return {0: "oak_planks", 1: "oak_planks", 2: "oak_planks", 4: "stick", 7: "stick"}, "wooden_pickaxe", 1
        if size == 3 and planks >= 2 and sticks < 2 and rng.random() < 0.8:
            return {1: "oak_planks", 4: "oak_planks"}, "stick", 1
        if planks >= 4 and not self._has("crafting_table") and rng.random() < 0.6:
            return {0: "oak_planks", 1: "oak_planks", 3: "oak_planks", 4: "oak_planks"}, "crafting_table", 1
        if logs:
            return {rng.choice((0, 1, 3, 4)) if size == 2 else rng.randrange(9): "oak_log"}, "oak_planks", rng.randint(1, min(3, logs))
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

    def _do_table(self) -> Iterator[dict[str, Any]]:
        """Place a crafting table, open it and craft on the 3x3 grid."""
        w, rng = self.w, self.rng
        tables = [p for p, (c, _) in w.blocks.items() if c == BLOCK_CODE["crafting_table"] and self._hdist(p[0] + 0.5, p[2] + 0.5) < 10]
        if not tables:
            yield from self._ensure_hotbar("crafting_table")
            yield from self._select("crafting_table")
            if w.held_item() != "crafting_table":
                return
            cell = self._cell_ahead(2.5)
            if cell is None:
                yield from self._turn(rng.uniform(60, 150))
                return
            yield from self._aim_at(self._cell_point(cell), tol=1.5)
            yield self._idle(buttons={1})
            yield from self._wait(3, 8)
            tables = [p for p, (c, _) in w.blocks.items() if c == BLOCK_CODE["crafting_table"] and self._hdist(p[0] + 0.5, p[2] + 0.5) < 10]
            if not tables:
                return
        pos = min(tables, key=lambda p: self._hdist(p[0] + 0.5, p[2] + 0.5))
        yield from self._walk_to(pos[0] + 0.5, pos[2] + 0.5, stop=2.5, max_ticks=80)
        yield from self._aim_at(self._face_point(pos), tol=2.0)
        tgt = w.target()
        if tgt is None or tgt.kind != "block" or tgt.pos != pos:
            return
        yield self._idle(buttons={1})
        yield from self._wait(3, 6)
        if not w.gui_open:
            return
        for _ in range(rng.randint(1, 3)):
            plan = self._plan_recipe(3)
            if plan is None:
                break
            yield from self._craft(*plan)
            yield from self._wait(1, 5)
        yield from self._close_gui()


# ============================================================================ recording


def _env_action(inp: dict[str, Any], gui_open: bool) -> dict[str, Any]:
    act: dict[str, Any] = {k: 0 for k in (
        "attack", "back", "forward", "jump", "left", "right", "sneak", "sprint", "use", "drop", "inventory",
        *(f"hotbar.{i}" for i in range(1, 10)))}
    for k in inp["keys"]:
        name = KEY_TO_ACTION.get(k)
        if name in act:
            act[name] = 1
    act["attack"] = int(0 in inp["buttons"])
    act["use"] = int(1 in inp["buttons"])
    act["camera"] = np.array([inp["dy"] * CAMERA_SCALER, inp["dx"] * CAMERA_SCALER])
    act["dwheel"] = inp["dwheel"]
    return act


def _options_json(rng: random.Random, layout: Layout) -> dict[str, Any]:
    opts: dict[str, Any] = {
        "version": "2586", "autoJump": "false", "autoSuggestions": "true", "chatColors": "true",
        "enableVsync": "true", "entityShadows": "true", "forceUnicodeFont": "false",
        "fov": "0.0", "fovEffectScale": "1.0", "gamma": f"{rng.choice((0.0, 0.5, 1.0))}",
        "renderDistance": str(rng.choice((8, 10, 12))), "entityDistanceScaling": "1.0",
        "guiScale": str(GUI_SCALE), "particles": "0", "maxFps": "260", "difficulty": "2", "graphicsMode": "1",
        "ao": "2", "biomeBlendRadius": "2", "renderClouds": "\"true\"", "lang": "en_us",
        "mouseSensitivity": "0.5", "invertYMouse": "false", "rawMouseInput": "true",
        "mouseWheelSensitivity": "1.0", "discrete_mouse_scroll": "false", "touchscreen": "false",
        "bobView": "true", "toggleCrouch": "false", "toggleSprint": "false", "fullscreen": "false",
        "soundCategory_master": "1.0", "mainHand": "\"right\"", "attackIndicator": "1",
        "key_key.attack": "key.mouse.left", "key_key.use": "key.mouse.right", "key_key.forward": "key.keyboard.w",
        "key_key.left": "key.keyboard.a", "key_key.back": "key.keyboard.s", "key_key.right": "key.keyboard.d",
        "key_key.jump": "key.keyboard.space", "key_key.sneak": "key.keyboard.left.shift",
        "key_key.sprint": "key.keyboard.left.control", "key_key.drop": "key.keyboard.q",
        "key_key.inventory": "key.keyboard.e", "key_key.swapOffhand": "key.keyboard.f",
        "key_key.pickItem": "key.mouse.middle",
        **{f"key_key.hotbar.{i}": f"key.keyboard.{i}" for i in range(1, 10)},
    }
    (width, height), (fb_width, fb_height) = layout.window, layout.framebuffer
    opts.update({"windowWidth": width, "windowHeight": height, "framebufferWidth": fb_width,
                 "framebufferHeight": fb_height, "framebufferToWindowRatio": layout.ratio})
    return opts


def _start_inventory(world: VptWorld, rng: random.Random) -> None:
    r = rng.random()
    if r < 0.3:
        pass
    elif r < 0.7:
        world.give("oak_log", rng.randint(1, 5), slot=rng.randrange(9))
        world.give("dirt", rng.randint(4, 24), slot=rng.randrange(9))
        if rng.random() < 0.3:
            world.give("wooden_sword", 1, slot=rng.randrange(9))
        if rng.random() < 0.4:
            world.give("oak_planks", rng.randint(2, 9))
    else:
        world.give(rng.choice(("stone_pickaxe", "wooden_pickaxe")), 1, slot=0)
        if rng.random() < 0.5:
            world.give("wooden_sword", 1, slot=rng.randrange(1, 9))
        world.give("cobblestone", rng.randint(5, 40), slot=rng.randrange(1, 9))
        world.give("oak_planks", rng.randint(3, 16))
        if rng.random() < 0.5:
            world.give("stick", rng.randint(2, 6))
        if rng.random() < 0.5:
            world.give("porkchop", rng.randint(1, 4), slot=rng.randrange(1, 9))
    if r >= 0.3 and rng.random() < 0.4:
        world.give("crafting_table", 1)
    world.hotbar = rng.randrange(9)


def _start_stats(rng: random.Random) -> dict[str, int]:
    if rng.random() < 0.35:
        return {}
    t = rng.randint(2000, 60000)
    stats = {
        "minecraft.custom:minecraft.play_one_minute": t,
        "minecraft.custom:minecraft.time_since_death": rng.randint(100, t),
        "minecraft.custom:minecraft.time_since_rest": rng.randint(100, t),
        "minecraft.custom:minecraft.walk_one_cm": rng.randint(1000, t * 20),
        "minecraft.custom:minecraft.jump": rng.randint(5, t // 20),
        "minecraft.mine_block:minecraft.oak_log": rng.randint(0, 30),
        "minecraft.mine_block:minecraft.dirt": rng.randint(0, 40),
        "minecraft.pickup:minecraft.oak_log": rng.randint(0, 30),
        "minecraft.craft_item:minecraft.oak_planks": 4 * rng.randint(0, 10),
    }
    return {k: v for k, v in stats.items() if v}


class _Recorder:
    """Turns player inputs and world states into jsonl lines and truth arrays."""

    def __init__(self, rng: random.Random, start: datetime, stuck_attack: bool, layout: Layout) -> None:
        self.rng = rng
        self.layout = layout
        self.paused_ms = 0  # milli runs on through a pause while tick stops
        self.milli0 = int(start.timestamp() * 1000) + rng.randint(0, 999)
        self.server_tick = rng.randint(10000, 900000)
        self.prev_keys: list[str] = []
        self.prev_buttons: set[int] = set()
        self.stuck = stuck_attack
        self.last_milli = self.milli0

    def line(self, t: int, inp: dict[str, Any], w: VptWorld) -> tuple[dict[str, Any], list[int]]:
        rng = self.rng
        buttons = set(inp["buttons"])
        new_buttons = buttons - self.prev_buttons
        real_buttons = set(buttons)
        if self.stuck:
            if t > 0 and 0 in new_buttons:
                self.stuck = False
            else:
                buttons.add(0)
                if t == 0:
                    new_buttons = {0} | new_buttons
        self.prev_buttons = real_buttons
        keys = list(inp["keys"])
        new_keys = [k for k in keys if k not in self.prev_keys]
        self.prev_keys = keys
        chars = "".join(KEY_CHARS.get(k, "") for k in new_keys)
        if t == self.layout.pause_tick:
            self.paused_ms += self.layout.pause_ms
        milli = max(self.last_milli + 1, self.milli0 + 50 * t + rng.randint(-3, 3) + self.paused_ms)
        self.last_milli = milli
        r = rng.random()
        self.server_tick += 0 if r < 0.01 else 2 if r < 0.02 else 1
        # the world's cursor lives in 1280x720; the recorder writes the real window's pixels
        scale = self.layout.window_scale
        mx, my = (float(w.mouse_x), float(w.mouse_y)) if w.gui_open else (WINDOW_W / 2, WINDOW_H / 2)
        mx, my = mx * scale, my * scale
        dx, dy = float(inp["dx"]), float(inp["dy"])
        factor = self.layout.gui_scale_factor
        if w.gui_open:  # the recorder divides GUI-open deltas by the GUI scale factor
            dx, dy = dx * scale / factor, dy * scale / factor
        obj = {
            "mouse": {
                "x": mx, "y": my, "dx": dx, "dy": dy,
                "scaledX": mx / factor, "scaledY": my / factor, "dwheel": float(inp["dwheel"]),
                "buttons": sorted(buttons), "newButtons": sorted(new_buttons),
            },
            "keyboard": {"keys": keys, "newKeys": new_keys, "chars": chars},
            "isGuiOpen": bool(w.gui_open),
            "isGuiInventory": bool(w.gui_open and w.gui_inventory),
            "hotbar": int(w.hotbar),
            "yaw": float(w.yaw), "pitch": float(w.pitch),
            "xpos": float(w.x), "ypos": float(w.y), "zpos": float(w.z),
            "tick": t, "milli": milli,
            "inventory": w.inventory_list(),
            "serverTick": self.server_tick,
            "serverTickDurationMs": round(rng.uniform(1.2, 9.5), 4),
            "stats": dict(sorted(w.stats.items())),
        }
        return obj, sorted(buttons)


def _stem(rng: random.Random, used: set[str]) -> tuple[str, datetime]:
    while True:
        alias = f"{rng.choice(_ADJ)}-{rng.choice(_MID)}-{rng.choice(_NOUN)}"
        session = "".join(rng.choice("0123456789abcdef") for _ in range(12))
        start = datetime(2021, 12, 1, tzinfo=timezone.utc) + timedelta(seconds=rng.randint(0, 200 * 86400))
        stem = f"{alias}-{session}-{start:%Y%m%d}-{start:%H%M%S}"
        if stem not in used:
            used.add(stem)
            return stem, start


def _prompt_point(is_gui: bool, mx: float, my: float) -> tuple[int, int]:
    """(row, col) of the annotation prompt: frame centre, or the cursor when a GUI is open."""
    if is_gui:
        col = min(max(int(mx * HEIGHT / WINDOW_H), 0), WIDTH - 1)
        row = min(max(int(my * HEIGHT / WINDOW_H), 0), HEIGHT - 1)
        return row, col
    return HEIGHT // 2, WIDTH // 2


def _new_world(rng: random.Random) -> tuple[VptWorld, ScriptedPlayer]:
    """The episode's world, start inventory, start stats and player, drawn from ``rng``."""
    world = VptWorld()
    world.reset(rng.randrange(2**31))
    _start_inventory(world, rng)
    world.stats = _start_stats(rng)
    return world, ScriptedPlayer(world, rng.randrange(2**31))


def _stat_history(seed: int, frames: int) -> tuple[set[str], list[tuple[int, str]]]:
    """Replay the episode's world and player without rendering: the counters it starts with
    and (tick, stat) of every increase. Rendering does not change the world, so the real run
    makes the same increases."""
    world, player = _new_world(random.Random(seed))
    start = set(world.stats)
    history = []
    for t in range(frames):
        for ev in world.step(_env_action(player.next_input(), world.gui_open)):
            history.append((t, ev["stat"]))
    return start, history


def _plan_counter_reset(seed: int, frames: int, n_valid: int, target: int) -> tuple[int, str, int | None] | None:
    """(tick, stat, tick it comes back) for a counter that vanishes and returns, nearest ``target``.

    The counter must be non-zero when it vanishes and increase again on a later line, so that
    the episode shows both halves of the rule: gone means 0, back means counted from 0. Where
    no counter increases twice, a start counter vanishes for good (comes back: None).
    """
    start, history = _stat_history(seed, frames)
    nonzero_from = {name: 0 for name in start}
    windows = []  # (first tick it may vanish, tick it comes back, stat)
    for t, stat in history:
        if stat.startswith("minecraft.custom:") or t >= n_valid:
            continue
        if stat in nonzero_from and t - nonzero_from[stat] >= 2:
            windows.append((nonzero_from[stat] + 1, t, stat))
        nonzero_from[stat] = t
    if not windows:  # nothing increases twice: a start counter that just vanishes
        still = sorted(n for n in start if not n.startswith("minecraft.custom:") and n not in {s for _, s in history})
        return (min(target, n_valid - 1), still[0], None) if still else None
    first, back, stat = min(windows, key=lambda w: (max(w[0] - target, target - (w[1] - 1), 0), w[2]))
    return min(max(target, first), back - 1), stat, back


def synthesize_episode(out: Path, stem: str, start: datetime, seed: int, frames: int,
                       quirks: dict[str, Any], draw_cursor: bool = False, layout: Layout | None = None) -> Path:
    """Write one episode (mp4, jsonl, options, truth); returns the jsonl path."""
    layout = layout or episode_layout(0, seed, frames)
    rng = random.Random(seed)
    world, player = _new_world(rng)
    rec = _Recorder(random.Random(rng.randrange(2**31)), start, quirks["stuck_attack"], layout)
    vdir = out / VERSION
    tdir = out / "truth"
    vdir.mkdir(parents=True, exist_ok=True)
    tdir.mkdir(parents=True, exist_ok=True)

    n_valid = frames - 1 if quirks["truncated_last_line"] else frames
    non_utf8 = quirks["non_utf8_line"]
    # the npz is written as np.savez_compressed would, object_ids streamed frame by frame
    npz = zipfile.ZipFile(tdir / f"{stem}.npz", "w", compression=zipfile.ZIP_DEFLATED)
    ids_fh = npz.open("object_ids.npy", "w", force_zip64=True)
    np.lib.format.write_array_header_1_0(
        ids_fh, {"descr": np.lib.format.dtype_to_descr(np.dtype(np.uint16)), "fortran_order": False,
                 "shape": (n_valid, HEIGHT, WIDTH)})
    f64 = {k: np.zeros(n_valid) for k in ("yaw", "pitch", "xpos", "ypos", "zpos", "mouse_x", "mouse_y",
                                          "mouse_dx", "mouse_dy", "mouse_dwheel")}
    hotbar = np.zeros(n_valid, np.int8)
    gui = np.zeros(n_valid, bool)
    gui_inv = np.zeros(n_valid, bool)
    buttons_arr = np.zeros((n_valid, 3), bool)
    ticks = np.zeros(n_valid, np.int64)
    millis = np.zeros(n_valid, np.int64)
    events: list[dict[str, Any]] = []
    keys_per_tick: list[list[str]] = []
    inv_per_tick: list[list[dict[str, Any]]] = []
    lines: list[bytes] = []
    final_stats: dict[str, int] = {}
    seen = np.zeros(65536, bool)  # ids shown on some frame
    reset = None if layout.counter_reset_tick is None else _plan_counter_reset(seed, frames, n_valid, layout.counter_reset_tick)
    resets: list[dict[str, Any]] = []

    def frames_iter() -> Iterator[np.ndarray]:
        nonlocal final_stats
        last = None
        for t in range(frames):
            inp = player.next_input()
            step_events = world.step(_env_action(inp, world.gui_open))
            if reset is not None and t == reset[0] and reset[1] in world.stats:
                # the counter goes to 0, so the recorder stops listing it
                resets.append({"frame": t, "stat": reset[1], "value": world.stats.pop(reset[1])})
            rgb, ids = world.render(cursor=draw_cursor)
            obj, written_buttons = rec.line(t, inp, world)
            if non_utf8 is not None and t == non_utf8:
                obj["keyboard"]["chars"] = obj["keyboard"]["chars"] + NON_UTF8_PLACEHOLDER
            text = json.dumps(obj, separators=(",", ":"))
            data = text.encode("utf-8").replace(json.dumps(NON_UTF8_PLACEHOLDER)[1:-1].encode(), b"\xff")
            if t < n_valid:
                lines.append(data + b"\n")
                ids_fh.write(np.ascontiguousarray(ids, dtype=np.uint16).tobytes())
                seen[ids] = True
                for k, v in (("yaw", obj["yaw"]), ("pitch", obj["pitch"]), ("xpos", obj["xpos"]),
                             ("ypos", obj["ypos"]), ("zpos", obj["zpos"]), ("mouse_x", obj["mouse"]["x"]),
                             ("mouse_y", obj["mouse"]["y"]), ("mouse_dx", obj["mouse"]["dx"]),
                             ("mouse_dy", obj["mouse"]["dy"]), ("mouse_dwheel", obj["mouse"]["dwheel"])):
                    f64[k][t] = v
                hotbar[t] = obj["hotbar"]
                gui[t] = obj["isGuiOpen"]
                gui_inv[t] = obj["isGuiInventory"]
                for b in written_buttons:
                    if 0 <= b < 3:
                        buttons_arr[t, b] = True
                ticks[t] = obj["tick"]
                millis[t] = obj["milli"]
                keys_per_tick.append(list(obj["keyboard"]["keys"]))
                inv_per_tick.append(obj["inventory"])
                final_stats = dict(obj["stats"])
                row, col = _prompt_point(obj["isGuiOpen"], world.mouse_x, world.mouse_y)
                merged: dict[tuple[str, Any], dict[str, Any]] = {}
                for ev in step_events:
                    k = (ev["stat"], ev["object_id"])
                    if k in merged:
                        merged[k]["delta"] += ev["delta"]
                    else:
                        merged[k] = dict(ev)
                for ev in merged.values():
                    oid = ev["object_id"]
                    events.append({
                        "frame": t, "stat": ev["stat"], "type": ev["type"], "object": ev["object"],
                        "object_id": oid, "delta": ev["delta"], "gui_open": obj["isGuiOpen"],
                        "prompt": [row, col], "visible": bool(oid is not None and int(ids[row, col]) == oid),
                    })
            else:  # the truncated last line: cut inside its JSON
                cut = max(10, min(len(data) - 10, int(len(data) * rec.rng.uniform(0.3, 0.8))))
                lines.append(data[:cut])
            last = rgb
            yield rgb
        if quirks["extra_frame"] and last is not None:
            yield last

    mp4 = vdir / f"{stem}.mp4"
    try:
        n_mp4 = write_mp4(mp4, frames_iter(), fps=FPS)
        ids_fh.close()
        arrays = {
            "yaw": f64["yaw"], "pitch": f64["pitch"], "xpos": f64["xpos"], "ypos": f64["ypos"],
            "zpos": f64["zpos"], "hotbar": hotbar, "is_gui_open": gui, "is_gui_inventory": gui_inv,
            "mouse_x": f64["mouse_x"], "mouse_y": f64["mouse_y"], "mouse_dx": f64["mouse_dx"],
            "mouse_dy": f64["mouse_dy"], "mouse_dwheel": f64["mouse_dwheel"], "mouse_buttons": buttons_arr,
            "tick": ticks, "milli": millis,
        }
        for name, arr in arrays.items():
            with npz.open(f"{name}.npy", "w", force_zip64=True) as fh:
                np.lib.format.write_array(fh, np.ascontiguousarray(arr), allow_pickle=False)
    finally:
        if not ids_fh.closed:
            ids_fh.close()
        npz.close()
    jsonl = vdir / f"{stem}.jsonl"
    jsonl.write_bytes(b"".join(lines))
    (vdir / f"{stem}-options.json").write_text(json.dumps(_options_json(rng, layout), indent=2))

    seen[0] = False
    object_ids = sorted({int(i) for i in np.nonzero(seen)[0]} | {e["object_id"] for e in events if e["object_id"]})
    objects = [{"id": i, **world.object_info(i)} for i in object_ids]
    truth = {
        "stem": stem,
        "version": VERSION,
        "seed": seed,
        "n_lines": n_valid,
        "n_mp4_frames": n_mp4,
        "quirks": {"extra_frame": bool(quirks["extra_frame"]), "stuck_attack": bool(quirks["stuck_attack"]),
                   "truncated_last_line": bool(quirks["truncated_last_line"]), "non_utf8_line": non_utf8},
        "layout": _layout_truth(layout, millis, resets, events),
        "objects": objects,
        "events": events,
        "keys": keys_per_tick,
        "inventory": inv_per_tick,
        "final_stats": final_stats,
    }
    (tdir / f"{stem}.json").write_text(json.dumps(truth))
    return jsonl


def _layout_truth(layout: Layout, millis: np.ndarray, resets: list[dict[str, Any]], events: list[dict[str, Any]]) -> dict[str, Any]:
    """What the recorder's layout put in this episode, for the reader's tests."""
    pauses = []
    if layout.pause_tick is not None and layout.pause_tick < len(millis):
        t = layout.pause_tick
        pauses.append({"frame": t, "ms": int(millis[t] - millis[t - 1])})
    for reset in resets:
        back = [e["frame"] for e in events if e["stat"] == reset["stat"] and e["frame"] > reset["frame"]]
        reset["returned"] = back[0] if back else None
    return {
        "window": list(layout.window), "framebuffer": list(layout.framebuffer),
        "gui_scale_factor": layout.gui_scale_factor, "pauses": pauses, "counter_resets": resets,
    }


def synthesize_vpt(out: Path, episodes: int, seed: int, frames: int = 400, quirk_rate: float = 0.3,
                   progress: Callable[[int], None] | None = None, *, draw_cursor: bool = False) -> list[Path]:
    """Write ``episodes`` synthetic contractor recordings under ``out``; returns the jsonl paths.

    ``progress(n)`` is called after each episode with the number of frames it recorded.
    Same ``seed`` and arguments give byte-identical jsonl files (in any process).
    Like the real recorder, the mp4 shows GUI screens without the mouse cursor (VPT's loader
    draws it at ``(mouse.x, mouse.y) * 360/720``); ``draw_cursor=True`` burns it in.
    """
    out = Path(out)
    if frames < 2:
        raise ValueError("frames must be >= 2")
    rng = random.Random(seed)
    used: set[str] = set()
    paths: list[Path] = []
    relpaths: list[str] = []
    for e in range(episodes):
        ep_seed = rng.randrange(2**63)
        stem, start = _stem(rng, used)
        q = {k: rng.random() < quirk_rate for k in ("extra_frame", "stuck_attack", "truncated_last_line", "non_utf8")}
        if q["extra_frame"] and q["truncated_last_line"]:
            q["extra_frame" if e % 2 == 0 else "truncated_last_line"] = False
        n_valid = frames - 1 if q["truncated_last_line"] else frames
        non_utf8 = rng.randrange(1, n_valid) if q.pop("non_utf8") and n_valid > 1 else None
        q["non_utf8_line"] = non_utf8
        layout = episode_layout(e, ep_seed, frames)
        paths.append(synthesize_episode(out, stem, start, ep_seed, frames, q, draw_cursor, layout))
        relpaths.append(f"{VERSION}/{stem}.mp4")
        if progress is not None:
            progress(frames)
    index = out / f"index_{VERSION}.json"
    old: list[str] = []
    if index.exists():
        try:
            old = [p for p in json.loads(index.read_text()).get("relpaths", []) if (out / p).exists()]
        except (ValueError, AttributeError):
            old = []
    merged = list(dict.fromkeys(old + relpaths))
    index.write_text(json.dumps({"basedir": str(out), "relpaths": merged}, indent=1))
    return paths
