"""The scripted VPT player: chooses key, mouse and GUI inputs that chase goals in the world."""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from typing import Any

import numpy as np

from goalframe.sim.vpt.blocks import BLOCK_CODE, BLOCKS, FOOD, PLACEABLE, TOOLS
from goalframe.sim.vpt.constants import (
    AIM_GAIN,
    AIM_MAX_DEG_PER_TICK,
    AIM_MAX_TICKS,
    AIM_NOISE_DEG,
    AIM_STEADY_DEG,
    AIM_TOLERANCE_DEG,
    ATTACK_COOLDOWN_TICKS,
    BEHAVIOUR_WEIGHTS,
    BLOCKED_MOVE_BLOCKS,
    CAMERA_SCALER,
    CHOP_STOP_BLOCKS,
    EAT_HOLD_TICKS,
    GIVE_UP_BLOCKED_TICKS,
    GROUND_Y,
    HUNT_MAX_TICKS,
    HUNT_NEAR_BLOCKS,
    HUNT_SPRINT_BLOCKS,
    HUNT_STOP_BLOCKS,
    JUMP_BLOCKED_TICKS,
    LET_GO_P,
    LOG_SEARCH_BLOCKS,
    MINE_ATTACK_DEG,
    MINE_MAX_TICKS,
    MOB_SEARCH_BLOCKS,
    ORE_REACH_BLOCKS,
    ORE_STOP_BLOCKS,
    REGION,
    REPEAT_WEIGHT,
    SCROLL_SELECT_P,
    SPRINT_FROM_BLOCKS,
    SPRINT_P,
    STONE_DETOUR_BLOCKS,
    STONE_SEARCH_BLOCKS,
    STRAFE_BLOCKED_TICKS,
    STRAFE_TICKS,
    TABLE_SEARCH_BLOCKS,
    TABLE_STOP_BLOCKS,
    WALK_FACING_DEG,
    WALK_MAX_TICKS,
    WORK_REACH_BLOCKS,
)
from goalframe.sim.vpt.geometry import look_angles
from goalframe.sim.vpt.player_gui import GuiHands
from goalframe.sim.vpt.world import VptWorld

MOB_AIM_HEIGHT = {"pig": 0.62, "cow": 1.05, "zombie": 1.1}


class ScriptedPlayer(GuiHands):
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
        return {
            "keys": list(held),
            "dx": float(inp.get("dx", 0.0)),
            "dy": float(inp.get("dy", 0.0)),
            "buttons": set(inp.get("buttons", ())),
            "dwheel": float(inp.get("dwheel", 0.0)),
        }

    @staticmethod
    def _idle(**kw: Any) -> dict[str, Any]:
        return {"keys": set(), "dx": 0.0, "dy": 0.0, "buttons": set(), "dwheel": 0.0, **kw}

    def _aim(
        self,
        point: Any,
        gain: float = AIM_GAIN,
        max_deg: float = AIM_MAX_DEG_PER_TICK,
        noise: float = AIM_NOISE_DEG,
    ) -> tuple[float, float, float]:
        """Mouse (dx, dy) pixels turning toward ``point``; also the remaining angular error."""
        w = self.w
        yaw_t, pitch_t = look_angles(w.eye, np.asarray(point, float))
        ey = (yaw_t - w.yaw + 180.0) % 360.0 - 180.0
        ep = pitch_t - w.pitch
        err = math.hypot(ey, ep)
        sy = max(-max_deg, min(max_deg, ey * gain))
        sp = max(-max_deg, min(max_deg, ep * gain))
        if err > AIM_STEADY_DEG and noise:
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
    def _walk_to(
        self, x: float, z: float, stop: float, look: Any = None, max_ticks: int = WALK_MAX_TICKS
    ) -> Iterator[dict[str, Any]]:
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
            if blocked >= GIVE_UP_BLOCKED_TICKS and d < stop + 1.6:
                return
            pt = look if look is not None else (x, w.eye[1] - 0.1 * min(d, 6.0), z)
            dx, dy, _ = self._aim(pt, gain=0.35, max_deg=12.0)
            keys: set[str] = set()
            if self._yaw_error((x, w.eye[1], z)) < WALK_FACING_DEG:
                keys.add("key.keyboard.w")
                if d > SPRINT_FROM_BLOCKS and rng.random() < SPRINT_P:
                    keys.add("key.keyboard.left.control")
            if strafe > 0:
                keys.add(strafe_key)
                strafe -= 1
            if blocked >= JUMP_BLOCKED_TICKS and w.on_ground and rng.random() < 0.5:
                keys.add("key.keyboard.space")
            if blocked >= STRAFE_BLOCKED_TICKS and strafe == 0:
                strafe = rng.randint(*STRAFE_TICKS)
                strafe_key = rng.choice(("key.keyboard.a", "key.keyboard.d"))
                blocked = 0
            yield self._idle(keys=keys, dx=dx, dy=dy)
            moved = math.hypot(w.x - last[0], w.z - last[1])
            blocked = blocked + 1 if ("key.keyboard.w" in keys and moved < BLOCKED_MOVE_BLOCKS) else 0
            last = (w.x, w.z)

    def _aim_at(
        self, point: Any, tol: float = AIM_TOLERANCE_DEG, max_ticks: int = AIM_MAX_TICKS
    ) -> Iterator[dict[str, Any]]:
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
        if self.rng.random() < SCROLL_SELECT_P:
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
            weights = [wt * (REPEAT_WEIGHT if n == self._last_behavior else 1.0) for n, wt in options]
            name = self.rng.choices(names, weights)[0]
            self._last_behavior = name
            yield from getattr(self, f"_do_{name}")()
            yield from self._wait(0, 4)

    def _options(self) -> list[tuple[str, float]]:
        w = self.w
        weight = BEHAVIOUR_WEIGHTS
        opts: list[tuple[str, float]] = [("wander", weight["wander"]), ("dig", weight["dig"])]
        if self._nearest_log() is not None:
            opts.append(("chop", weight["chop"]))
        mob = self._nearest_mob(MOB_SEARCH_BLOCKS)
        if mob is not None:
            near = self._hdist(mob.x, mob.z) < HUNT_NEAR_BLOCKS
            opts.append(("hunt", weight["hunt_near"] if near else weight["hunt"]))
        if self._has("oak_log") or self._has("oak_planks") >= 2:
            opts.append(("craft", weight["craft"]))
        if any(self._has(b) for b in PLACEABLE if b != "crafting_table"):
            opts.append(("place", weight["place"]))
        if self._has("crafting_table") and (self._has("oak_planks") >= 2 or self._has("oak_log")):
            opts.append(("table", weight["table"]))
        if any(self._has(t) for t in TOOLS if TOOLS[t][0] == "pickaxe") and self._nearest_stone() is not None:
            opts.append(("ore", weight["ore"]))
        if any(self._hotbar_has(f) for f in FOOD):
            opts.append(("eat", weight["eat"]))
        if w.slots[w.hotbar] and w.slots[w.hotbar][0] in ("dirt", "gravel", "sand", "rotten_flesh"):
            opts.append(("drop", weight["drop"]))
        return opts

    def _nearest_log(self) -> tuple[int, int, int] | None:
        best, bd = None, LOG_SEARCH_BLOCKS
        for pos, (code, _) in self.w.blocks.items():
            if code == BLOCK_CODE["oak_log"] and pos[1] <= GROUND_Y + 1:
                d = self._hdist(pos[0] + 0.5, pos[2] + 0.5)
                if d < bd:
                    best, bd = pos, d
        return best

    def _nearest_stone(self) -> tuple[int, int, int] | None:
        best, bd = None, STONE_SEARCH_BLOCKS
        codes = {BLOCK_CODE[n] for n in ("stone", "coal_ore", "iron_ore")}
        for pos, (code, _) in self.w.blocks.items():
            if code in codes:
                d = self._hdist(pos[0] + 0.5, pos[2] + 0.5) + (
                    STONE_DETOUR_BLOCKS if code == BLOCK_CODE["stone"] else 0.0
                )
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

    def _mine(
        self,
        pos: tuple[int, int, int] | None,
        cell: tuple[int, int] | None,
        point: Any,
        max_ticks: int = MINE_MAX_TICKS,
    ) -> Iterator[dict[str, Any]]:
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
            elif err < MINE_ATTACK_DEG and tgt is not None and tgt.kind != "mob":
                buttons.add(0)
                if self.rng.random() < LET_GO_P:
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
            yield self._idle(
                keys=keys,
                dx=float(round(yaw_step / CAMERA_SCALER)),
                dy=float(round(pitch_step / CAMERA_SCALER)),
            )

    def _do_chop(self) -> Iterator[dict[str, Any]]:
        w, rng = self.w, self.rng
        pos = self._nearest_log()
        if pos is None:
            return
        x, z = pos[0] + 0.5, pos[2] + 0.5
        yield from self._walk_to(x, z, stop=CHOP_STOP_BLOCKS, max_ticks=200)
        if self._hdist(x, z) > WORK_REACH_BLOCKS:
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
            yield self._idle(
                dx=float(round(deg / n / CAMERA_SCALER)),
                dy=float(round((8.0 - self.w.pitch) * 0.15 / CAMERA_SCALER)),
            )

    def _placeable_item(self) -> str | None:
        items = [
            b
            for b in ("dirt", "cobblestone", "oak_planks", "sand", "gravel", "stone", "oak_log")
            if self._has(b)
        ]
        return self.rng.choice(items) if items else None

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
        mob = self._nearest_mob(MOB_SEARCH_BLOCKS)
        if mob is None:
            return
        weapon = next(
            (t for t in ("stone_pickaxe", "wooden_sword", "wooden_pickaxe") if self._hotbar_has(t)), None
        )
        if weapon and rng.random() < 0.7:
            yield from self._select(weapon)
        cooldown = 0
        for _ in range(HUNT_MAX_TICKS):
            if mob not in w.mobs:
                yield from self._wait(4, 12)  # watch it die, let drops come
                return
            pt = (mob.x, mob.y + MOB_AIM_HEIGHT[mob.kind], mob.z)
            d = self._hdist(mob.x, mob.z)
            dx, dy, err = self._aim(pt, gain=0.5, max_deg=14.0, noise=0.15)
            keys: set[str] = set()
            if d > HUNT_STOP_BLOCKS and self._yaw_error(pt) < 45:
                keys.add("key.keyboard.w")
                if d > HUNT_SPRINT_BLOCKS:
                    keys.add("key.keyboard.left.control")
            buttons: set[int] = set()
            cooldown -= 1
            tgt = w.target()
            if cooldown <= 0 and tgt is not None and tgt.kind == "mob" and tgt.object_id == mob.id:
                buttons.add(0)
                cooldown = rng.randint(*ATTACK_COOLDOWN_TICKS)
            yield self._idle(keys=keys, dx=dx, dy=dy, buttons=buttons)

    def _do_ore(self) -> Iterator[dict[str, Any]]:
        rng = self.rng
        pos = self._nearest_stone()
        if pos is None:
            return
        x, z = pos[0] + 0.5, pos[2] + 0.5
        yield from self._walk_to(x, z, stop=ORE_STOP_BLOCKS, max_ticks=200)
        if self._hdist(x, z) > WORK_REACH_BLOCKS:
            return
        pick = next((t for t in ("stone_pickaxe", "wooden_pickaxe") if self._has(t)), None)
        if pick:
            yield from self._ensure_hotbar(pick)
            yield from self._select(pick)
        for _ in range(rng.randint(1, 3)):
            pos = self._nearest_stone()
            if pos is None or self._hdist(pos[0] + 0.5, pos[2] + 0.5) > ORE_REACH_BLOCKS:
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
        yield from self._aim_at(
            (
                self.w.x - math.sin(math.radians(self.w.yaw)) * 5,
                self.w.eye[1] + 1.5,
                self.w.z + math.cos(math.radians(self.w.yaw)) * 5,
            ),
            tol=4.0,
        )
        for _ in range(EAT_HOLD_TICKS):
            yield self._idle(buttons={1})

    def _do_drop(self) -> Iterator[dict[str, Any]]:
        yield from self._tap("key.keyboard.q", 1)
        yield from self._wait(2, 5)

    def _do_table(self) -> Iterator[dict[str, Any]]:
        """Place a crafting table, open it and craft on the 3x3 grid."""
        w, rng = self.w, self.rng
        tables = [
            p
            for p, (c, _) in w.blocks.items()
            if c == BLOCK_CODE["crafting_table"] and self._hdist(p[0] + 0.5, p[2] + 0.5) < TABLE_SEARCH_BLOCKS
        ]
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
            tables = [
                p
                for p, (c, _) in w.blocks.items()
                if c == BLOCK_CODE["crafting_table"]
                and self._hdist(p[0] + 0.5, p[2] + 0.5) < TABLE_SEARCH_BLOCKS
            ]
            if not tables:
                return
        pos = min(tables, key=lambda p: self._hdist(p[0] + 0.5, p[2] + 0.5))
        yield from self._walk_to(pos[0] + 0.5, pos[2] + 0.5, stop=TABLE_STOP_BLOCKS, max_ticks=80)
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
