"""A small first-person voxel world in the style of Minecraft, for synthetic VPT data.

``VptWorld`` is a deterministic environment: ``reset(seed)``, ``step(action)`` with the
VPT/MineRL env action (``attack``, ``forward``, ..., ``hotbar.1``..``hotbar.9`` as 0/1 and
``camera`` = ``[pitch_deg, yaw_deg]``), and ``render()`` returning an RGB frame (360, 640, 3)
plus a per-pixel object-id image (360, 640) uint16 that names the world object each pixel
shows (a block instance, a mob, or a GUI item slot, the HUD hotbar's item icons included;
0 for sky, far fog, the hand, HUD decorations and empty GUI areas). Ids below
``GUI_ID_BASE`` are world objects (``objects``); GUI ids encode slot and item
(``object_info``).
Rendering, stepping and file writing are separate: this module writes no files.

World model (Minecraft conventions): x east, y up, z south; yaw 0 faces +z, yaw grows when
turning right (clockwise seen from above), pitch > 0 looks down. The ground is a flat layer
of block columns whose top is at ``GROUND_Y``; mining a ground cell digs one block deeper.
Trees, boulders with ores, and blocks the player places stand on it. Pigs, cows and zombies
wander. The player mines (hold attack), hits mobs (press attack), places blocks and opens
crafting tables (use), opens the inventory (``inventory``) and crafts by clicking the output
slot with the cursor (camera deltas move the cursor while a GUI is open; 1 pixel of the
1280x720 window = 360/2400 degree of camera action).

Timing: ``step`` updates stats, inventory and player state at once; the visible effect of a
discrete interaction on a world object (a mined block vanishing, a killed mob, GUI slot
contents after a click) shows from the NEXT rendered frame, so the frame rendered after the
step whose stats first show an event still shows the object under the prompt point
(crosshair, or cursor when a GUI is open). Placed blocks show at once.
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass
from typing import Any

import numpy as np

from goalframe.sim.vpt import terrain
from goalframe.sim.vpt.blocks import (
    BLOCK_CODE,
    BLOCKS,
    FOOD,
    ITEMS,
    PLACEABLE,
    STACK_ONE,
    TOOLS,
)
from goalframe.sim.vpt.constants import (
    BUILD_HEIGHT,
    CX,
    CY,
    DAMAGE_STAT_PER_POINT,
    DEATH_TICKS,
    EAT_TICKS,
    EYE_HEIGHT,
    EYE_HEIGHT_SNEAK,
    FOCAL,
    GROUND_Y,
    GUI_ID_BASE,
    HURT_TICKS,
    IDLE_AFTER_IDLE_P,
    IDLE_TICKS,
    KNOCKBACK_BLOCKS,
    LOW_H,
    LOW_W,
    MAX_STACK,
    MINE_COOLDOWN_TICKS,
    MOB_HALF,
    MOB_PLAYER_GAP,
    MOB_RAY_RANGE,
    PANIC_SPEED_FACTOR,
    PANIC_TICKS,
    PANIC_TURN_DEG,
    PANIC_TURN_P,
    PLAYER_HALF,
    PLAYER_HEIGHT,
    REACH_BLOCK,
    REACH_ENTITY,
    REGION,
    SWING_TICKS,
    USE_COOLDOWN_TICKS,
    WALK_TICKS,
    WANDER_TURN_DEG,
    WINDOW_H,
    WINDOW_W,
    ZOMBIE_CHASE_BLOCKS,
    ZOMBIE_STOP_BLOCKS,
)
from goalframe.sim.vpt.geometry import (
    _hash01,
    _ray_box,
    camera_basis,
)
from goalframe.sim.vpt.gui import (
    SLOT_NAMES,
)
from goalframe.sim.vpt.gui_state import GuiScreen
from goalframe.sim.vpt.items import ItemEntities, ItemEntity
from goalframe.sim.vpt.mobs import MOBS, Mob
from goalframe.sim.vpt.physics import PlayerPhysics
from goalframe.sim.vpt.render import WorldRenderer


@dataclass
class Target:
    kind: str  # "block" (above ground), "ground", "mob"
    object_id: int
    distance: float
    pos: tuple[int, int, int] | None = None  # block cell; for ground: (i, depth, k) region cell
    normal: tuple[int, int, int] | None = None
    mob: Mob | None = None


@dataclass
class _Pending:
    tick: int
    item: str
    count: int
    entity: ItemEntity | None = None  # the item entity collected, when the world draws them


class VptWorld:
    """A deterministic Minecraft-like world: ``reset(seed)``, ``step(action)``, ``render()``."""

    def __init__(self, item_entities: bool = False) -> None:
        self.item_entities = item_entities  # drops as item entities (``items.py``) with their own ids
        cols = np.arange(LOW_W, dtype=np.float64)
        rows = np.arange(LOW_H, dtype=np.float64)
        self._a = ((cols - CX) / FOCAL).astype(np.float32)  # per column
        self._b = (rows - CY) / FOCAL  # per row
        self._norm = np.sqrt(1.0 + self._a[None, :].astype(np.float64) ** 2 + self._b[:, None] ** 2).astype(
            np.float32
        )
        self.renderer = WorldRenderer(self)  # before reset: placing blocks invalidates its faces
        self.physics = PlayerPhysics(self)
        self.gui = GuiScreen(self)
        self.reset(0)

    # ------------------------------------------------------------------ setup
    def reset(self, seed: int) -> None:
        self.seed = int(seed)
        rng = random.Random(self.seed * 7919 + 17)
        self.rng = rng
        self.tick = 0
        self.origin = (rng.randint(-600, 600), rng.randint(-600, 600))  # world x, z of cell (0, 0)
        self._objects: dict[int, dict[str, Any]] = {}
        self._next_id = 1
        terrain.make_ground(self, rng)
        self.blocks: dict[tuple[int, int, int], tuple[int, int]] = {}  # cell -> (code, id)
        self.mobs: list[Mob] = []
        self.dying: list[Mob] = []
        c = REGION // 2
        ox, oz = self.origin
        self.x, self.y, self.z = ox + c + 0.5, float(GROUND_Y), oz + c + 0.5
        self.yaw = rng.uniform(-180.0, 180.0)
        self.pitch = rng.uniform(-8.0, 18.0)
        terrain.make_trees(self, rng)
        self.gsurface = self.gtype.copy()
        terrain.make_boulders(self, rng)
        terrain.make_mobs(self, rng)
        # player
        self.vx = self.vz = self.vy = 0.0
        self.on_ground = True
        self.sprinting = False
        self.sneaking = False
        self.hotbar = 0
        self.slots: list[list[Any] | None] = [None] * 36
        self.grid: list[list[Any] | None] = [None] * 9
        self.held: list[Any] | None = None
        self.gui_open = False
        self.gui_inventory = False
        self.mouse_x, self.mouse_y = WINDOW_W / 2, WINDOW_H / 2
        self.stats: dict[str, int] = {}
        self._pending: list[_Pending] = []
        self._prev = {"attack": 0, "use": 0, "inventory": 0, "drop": 0}
        self._mine_target: int | None = None
        self._mine_progress = 0
        self._mine_cooldown = 0
        self._use_cooldown = 0
        self._eat_ticks = 0
        self._swing = 0
        self._ghost_blocks: list[tuple[tuple[int, int, int], int, int]] = []
        self._ghost_cells: list[tuple[int, int, int, int, int]] = []
        self.items = ItemEntities(self)
        self.renderer.invalidate()
        self._gui_visual = self.gui.snapshot()
        self._last_events: list[dict[str, Any]] = []

    def _new_id(self, kind: str, type_: str) -> int:
        oid = self._next_id
        self._next_id += 1
        if oid >= GUI_ID_BASE:
            raise RuntimeError("object id space exhausted")
        self._objects[oid] = {"kind": kind, "type": type_}
        return oid

    def layer_type(self, i: int, k: int, depth: int) -> int:
        """Block code at ``depth`` below the original surface of cell (i, k)."""
        surface = BLOCKS[int(self.gsurface[i, k])].name
        if depth == 0:
            return int(self.gsurface[i, k])
        if depth <= 2 and surface in ("grass_block", "dirt"):
            return BLOCK_CODE["dirt"]
        if depth <= 2 and surface == "sand":
            return BLOCK_CODE["sand"]
        if depth == 1 and surface == "gravel":
            return BLOCK_CODE["gravel"]
        h = _hash01(self.seed, i, k, depth)
        if h < 0.05:
            return BLOCK_CODE["coal_ore"]
        if h < 0.07:
            return BLOCK_CODE["iron_ore"]
        return BLOCK_CODE["stone"]

    def _cell(self, wx: float, wz: float) -> tuple[int, int]:
        return math.floor(wx) - self.origin[0], math.floor(wz) - self.origin[1]

    def _add_block(self, pos: tuple[int, int, int], name: str) -> int:
        oid = self._new_id("block", name)
        self.blocks[pos] = (BLOCK_CODE[name], oid)
        self.renderer.invalidate()
        return oid

    def _mob_fits(self, x: float, z: float, half: float = MOB_HALF) -> bool:
        ox, oz = self.origin
        if not (ox + 2 <= x <= ox + REGION - 2 and oz + 2 <= z <= oz + REGION - 2):
            return False
        for cx in (math.floor(x - half), math.floor(x + half)):
            for cz in (math.floor(z - half), math.floor(z + half)):
                if (cx, GROUND_Y, cz) in self.blocks or (cx, GROUND_Y + 1, cz) in self.blocks:
                    return False
        return True

    # ------------------------------------------------------------------ public state
    @property
    def eye(self) -> np.ndarray:
        return np.array([self.x, self.y + (EYE_HEIGHT_SNEAK if self.sneaking else EYE_HEIGHT), self.z])

    @property
    def inventory(self) -> dict[str, int]:
        """Item totals over the 36 inventory slots (held and crafting-grid items excluded)."""
        out: dict[str, int] = {}
        for s in self.slots:
            if s:
                out[s[0]] = out.get(s[0], 0) + s[1]
        return out

    def inventory_list(self) -> list[dict[str, Any]]:
        """Non-empty slots in slot order as ``{"type", "quantity"}`` (the jsonl format)."""
        return [{"type": s[0], "quantity": int(s[1])} for s in self.slots if s]

    @property
    def objects(self) -> dict[int, dict[str, Any]]:
        """World objects (blocks, mobs) ever created: id -> {"kind", "type"}; see ``object_info``."""
        return self._objects

    def object_info(self, oid: int) -> dict[str, Any]:
        """{"kind": "block"|"mob"|"gui", "type": name} for any id a frame can show."""
        if oid >= GUI_ID_BASE:
            slot, item = divmod(oid - GUI_ID_BASE, 64)
            return {"kind": "gui", "type": ITEMS[item], "slot": SLOT_NAMES[slot]}
        return dict(self._objects[oid])

    def held_item(self) -> str | None:
        s = self.slots[self.hotbar]
        return s[0] if s else None

    def add_item(self, item: str, count: int) -> int:
        """Put items into the inventory like a pickup; returns how many did not fit."""
        limit = 1 if item in STACK_ONE else MAX_STACK
        for s in self.slots:
            if count and s and s[0] == item and s[1] < limit:
                k = min(limit - s[1], count)
                s[1] += k
                count -= k
        for i in range(36):
            if count and self.slots[i] is None:
                k = min(limit, count)
                self.slots[i] = [item, k]
                count -= k
        return count

    def give(self, item: str, count: int, slot: int | None = None) -> None:
        """Start-of-episode inventory (no stats)."""
        if slot is not None and self.slots[slot] is None:
            self.slots[slot] = [item, count]
        else:
            self.add_item(item, count)
        self._gui_visual = self.gui.snapshot()

    # ------------------------------------------------------------------ stats
    def count_stat(self, kind: str, obj: str, n: int = 1, object_id: int | None = None) -> None:
        if n <= 0:
            return
        key = f"minecraft.{kind}:minecraft.{obj}"
        self.stats[key] = self.stats.get(key, 0) + int(n)
        if kind != "custom":
            self._last_events.append(
                {"stat": key, "type": kind, "object": obj, "object_id": object_id, "delta": int(n)}
            )

    # ------------------------------------------------------------------ targeting
    def target(self) -> Target | None:
        """What the crosshair points at within reach (``REACH_BLOCK``, ``REACH_ENTITY``)."""
        eye = self.eye
        d, _, _ = camera_basis(self.yaw, self.pitch)
        best: Target | None = None
        # mobs
        for mob in self.mobs:
            if (mob.x - eye[0]) ** 2 + (mob.z - eye[2]) ** 2 > MOB_RAY_RANGE**2:
                continue
            for lo, hi, _ in mob.boxes():
                t = _ray_box(eye, d, lo, hi)
                if t is not None and (best is None or t < best.distance):
                    best = Target("mob", mob.id, t, mob=mob)
        limit = REACH_BLOCK if best is None else min(REACH_BLOCK, best.distance)
        t_ground = (GROUND_Y - eye[1]) / d[1] if d[1] < -1e-12 else math.inf
        hit = self._dda(eye, d, min(limit, t_ground))
        if hit is not None:
            pos, t, normal = hit
            best = Target("block", self.blocks[pos][1], t, pos=pos, normal=normal)
        elif t_ground <= limit:
            gx, gz = eye[0] + t_ground * d[0], eye[2] + t_ground * d[2]
            i, k = self._cell(gx, gz)
            if 0 <= i < REGION and 0 <= k < REGION:
                best = Target(
                    "ground",
                    int(self.gid[i, k]),
                    t_ground,
                    pos=(i, int(self.gdepth[i, k]), k),
                    normal=(0, 1, 0),
                )
        if best is not None and best.kind == "mob" and best.distance > REACH_ENTITY:
            return None
        return best

    def _dda(self, o: np.ndarray, d: np.ndarray, tmax: float):
        cell = [math.floor(o[0]), math.floor(o[1]), math.floor(o[2])]
        step, tnext, tdelta = [0, 0, 0], [math.inf] * 3, [math.inf] * 3
        for a in range(3):
            if d[a] > 1e-12:
                step[a] = 1
                tnext[a] = (cell[a] + 1 - o[a]) / d[a]
                tdelta[a] = 1 / d[a]
            elif d[a] < -1e-12:
                step[a] = -1
                tnext[a] = (o[a] - cell[a]) / -d[a]
                tdelta[a] = -1 / d[a]
        t = 0.0
        normal = (0, 0, 0)
        for _ in range(64):
            key = (cell[0], cell[1], cell[2])
            if key in self.blocks and t <= tmax:
                return key, t, normal
            a = 0 if tnext[0] <= tnext[1] and tnext[0] <= tnext[2] else (1 if tnext[1] <= tnext[2] else 2)
            t = tnext[a]
            if t > tmax:
                return None
            cell[a] += step[a]
            tnext[a] += tdelta[a]
            n = [0, 0, 0]
            n[a] = -step[a]
            normal = (n[0], n[1], n[2])
        return None

    # ------------------------------------------------------------------ step
    def step(self, action: dict[str, Any]) -> list[dict[str, Any]]:
        """Advance one tick (50 ms); returns the stat events of this tick.

        Besides the VPT env keys, ``action`` may carry ``"dwheel"`` (scroll: negative selects
        the next hotbar slot), as the recorder logs scrolling apart from keys.
        """
        self._last_events = []
        self.items.begin_tick()
        self._ghost_blocks = []
        self._ghost_cells = []
        self._gui_visual = self.gui.snapshot()
        a = {
            k: int(bool(action.get(k, 0)))
            for k in (
                "attack",
                "use",
                "forward",
                "back",
                "left",
                "right",
                "jump",
                "sneak",
                "sprint",
                "drop",
                "inventory",
            )
        }
        cam = np.asarray(action.get("camera", (0.0, 0.0)), dtype=np.float64).reshape(2)
        press = {k: a[k] and not self._prev.get(k, 0) for k in ("attack", "use", "inventory", "drop")}

        # hotbar keys / scroll (not while a GUI is open)
        if not self.gui_open:
            for i in range(9):
                if action.get(f"hotbar.{i + 1}", 0):
                    self.hotbar = i
            wheel = float(action.get("dwheel", 0.0) or 0.0)
            if wheel:
                self.hotbar = (self.hotbar - (1 if wheel > 0 else -1)) % 9

        if press["inventory"]:
            if self.gui_open:
                self.gui.close()
            else:
                self.gui.open(inventory=True)
        elif self.gui_open:
            self.gui.tick(cam, press)
        if not self.gui_open:
            self._play_tick(a, cam, press)
        self._update_pickups()
        self.items.step()
        self._update_mobs()
        self.count_stat("custom", "play_one_minute")
        self.count_stat("custom", "time_since_death")
        self.count_stat("custom", "time_since_rest")
        for k in ("attack", "use", "inventory", "drop"):
            self._prev[k] = a[k]
        self.tick += 1
        return list(self._last_events)

    # -- playing
    def _play_tick(self, a: dict[str, int], cam: np.ndarray, press: dict[str, int]) -> None:
        self.pitch = min(90.0, max(-90.0, self.pitch + float(cam[0])))
        self.yaw = self.yaw + float(cam[1])
        self.physics.move(a)
        if self._swing > 0:
            self._swing -= 1
        if self._mine_cooldown > 0:
            self._mine_cooldown -= 1
        if self._use_cooldown > 0:
            self._use_cooldown -= 1
        tgt = self.target()
        # attack: hit mobs on press, mine blocks while held
        if a["attack"]:
            if press["attack"] or self._swing == 0:
                self._swing = SWING_TICKS
            if tgt is not None and tgt.kind == "mob":
                self._mine_target, self._mine_progress = None, 0
                if press["attack"]:
                    self._hit_mob(tgt.mob)
            elif tgt is not None and self._mine_cooldown == 0:
                if tgt.object_id != self._mine_target:
                    self._mine_target, self._mine_progress = tgt.object_id, 0
                self._mine_progress += 1
                if self._mine_progress >= self._ticks_needed(tgt):
                    self._break(tgt)
                    self._mine_target, self._mine_progress = None, 0
                    self._mine_cooldown = MINE_COOLDOWN_TICKS
            else:
                self._mine_target, self._mine_progress = None, 0
        else:
            self._mine_target, self._mine_progress = None, 0
        # use: interact / place / eat
        held = self.held_item()
        if a["use"]:
            if held in FOOD and not (
                tgt is not None
                and tgt.kind == "block"
                and BLOCKS[self.blocks[tgt.pos][0]].name == "crafting_table"
            ):
                self._eat_ticks += 1
                if self._eat_ticks >= EAT_TICKS:
                    self._eat_ticks = 0
                    self._consume_selected()
                    self.count_stat("use_item", held, 1)
            elif press["use"] or self._use_cooldown == 0:
                self._use_cooldown = USE_COOLDOWN_TICKS
                self._use(tgt)
        else:
            self._eat_ticks = 0
            self._use_cooldown = 0
        if press["drop"] and held:
            self._consume_selected()
            thrown = self.items.thrown(held) if self.item_entities else None
            self.count_stat("drop", held, 1, object_id=thrown.id if thrown else None)

    def _consume_selected(self) -> None:
        s = self.slots[self.hotbar]
        if s:
            s[1] -= 1
            if s[1] <= 0:
                self.slots[self.hotbar] = None

    def _ticks_needed(self, tgt: Target) -> int:
        code = self.blocks[tgt.pos][0] if tgt.kind == "block" else self._ground_code(tgt)
        b = BLOCKS[code]
        held = self.held_item()
        if b.tool and held in TOOLS and TOOLS[held][0] == b.tool:
            return b.ticks_tool
        return b.ticks_hand

    def _ground_code(self, tgt: Target) -> int:
        i, _, k = tgt.pos
        return int(self.gtype[i, k])

    def _break(self, tgt: Target) -> None:
        held = self.held_item()
        if tgt.kind == "block":
            code, oid = self.blocks.pop(tgt.pos)
            self._ghost_blocks.append((tgt.pos, code, oid))
            self.renderer.invalidate()
        else:
            i, depth, k = tgt.pos
            code, oid = int(self.gtype[i, k]), int(self.gid[i, k])
            self._ghost_cells.append((i, k, code, oid, depth))
            nd = depth + 1
            ncode = self.layer_type(i, k, nd)
            self.gdepth[i, k] = nd
            self.gtype[i, k] = ncode
            self.gid[i, k] = self._new_id("block", BLOCKS[ncode].name)
        b = BLOCKS[code]
        self.count_stat("mine_block", b.name, 1, object_id=oid)
        has_tool = held in TOOLS and TOOLS[held][0] == b.tool
        cell = tgt.pos if tgt.kind == "block" else (self.origin[0] + i, GROUND_Y - 1, self.origin[1] + k)
        if b.drop and (not b.needs_tool or has_tool):
            self._pending.append(self._drop_from(cell, self.tick + self.rng.randint(4, 10), b.drop))
        if b.name == "oak_leaves" and self.rng.random() < 0.1:
            self._pending.append(self._drop_from(cell, self.tick + self.rng.randint(4, 10), "oak_sapling"))

    def _drop_from(self, cell: tuple[int, int, int], tick: int, item: str) -> _Pending:
        """A mined block's drop, collected on ``tick``; an item entity in its cell until then
        when the world draws them (no random draw: the world's stream stays as it was)."""
        entity = self.items.from_block(cell, item) if self.item_entities else None
        return _Pending(tick, item, 1, entity)

    def _hit_mob(self, mob: Mob) -> None:
        if mob.hurt_ticks > 0:
            return
        held = self.held_item()
        dmg = TOOLS[held][1] if held in TOOLS else 1
        mob.health -= dmg
        mob.hurt_ticks = HURT_TICKS
        self.count_stat("custom", "damage_dealt", dmg * DAMAGE_STAT_PER_POINT)
        if mob.health <= 0:
            self.mobs.remove(mob)
            mob.dead_ticks = DEATH_TICKS + 1  # full size on the frame of the kill
            self.dying.append(mob)
            self.count_stat("kill_entity", mob.kind, 1, object_id=mob.id)
            self.count_stat("custom", "mob_kills", 1)
            for item, lo, hi in MOBS[mob.kind].drops:
                n = self.rng.randint(lo, hi)
                if n:
                    entity = self.items.from_mob(mob.x, mob.z, item, n) if self.item_entities else None
                    self._pending.append(_Pending(self.tick + self.rng.randint(6, 14), item, n, entity))
        else:
            # knockback away from the player, then panic
            d = math.hypot(mob.x - self.x, mob.z - self.z) or 1.0
            nx, nz = (
                mob.x + KNOCKBACK_BLOCKS * (mob.x - self.x) / d,
                mob.z + KNOCKBACK_BLOCKS * (mob.z - self.z) / d,
            )
            if self._mob_fits(nx, nz):
                mob.x, mob.z = nx, nz
            if mob.kind != "zombie":
                mob.panic_ticks = PANIC_TICKS

    def _use(self, tgt: Target | None) -> None:
        if tgt is None or tgt.kind == "mob":
            return
        if tgt.kind == "block" and BLOCKS[self.blocks[tgt.pos][0]].name == "crafting_table":
            if not self.sneaking:
                self.gui.open(inventory=False)
                self.count_stat("custom", "interact_with_crafting_table", 1)
                return
        held = self.held_item()
        if held not in PLACEABLE:
            return
        if tgt.kind == "ground":
            i, depth, k = tgt.pos
            if depth > 0:
                self.gdepth[i, k] = depth - 1
                self.gtype[i, k] = BLOCK_CODE[held]
                self.gid[i, k] = oid = self._new_id("block", held)
                self._consume_selected()
                self.count_stat("use_item", held, 1, object_id=oid)
                return
            ox, oz = self.origin
            pos = (ox + i, GROUND_Y, oz + k)
        else:
            pos = (tgt.pos[0] + tgt.normal[0], tgt.pos[1] + tgt.normal[1], tgt.pos[2] + tgt.normal[2])
        if pos in self.blocks or pos[1] < GROUND_Y or pos[1] > GROUND_Y + BUILD_HEIGHT:
            return
        i, k = pos[0] - self.origin[0], pos[2] - self.origin[1]
        if not (0 <= i < REGION and 0 <= k < REGION):
            return
        # not inside the player or a mob
        if (
            pos[0] < self.x + PLAYER_HALF
            and pos[0] + 1 > self.x - PLAYER_HALF
            and pos[2] < self.z + PLAYER_HALF
            and pos[2] + 1 > self.z - PLAYER_HALF
            and pos[1] < self.y + PLAYER_HEIGHT
            and pos[1] + 1 > self.y
        ):
            return
        for mob in self.mobs:
            if (
                abs(mob.x - (pos[0] + 0.5)) < 1.0
                and abs(mob.z - (pos[2] + 0.5)) < 1.0
                and pos[1] < GROUND_Y + 2
            ):
                return
        oid = self._add_block(pos, held)
        self._consume_selected()
        self.count_stat("use_item", held, 1, object_id=oid)

    def _update_pickups(self) -> None:
        keep = []
        for p in self._pending:
            if p.tick <= self.tick:
                left = self.add_item(p.item, p.count)
                if p.entity is not None:
                    p.entity.collected = True  # drawn on this pickup's frame, gone from the next
                self.count_stat("pickup", p.item, p.count - left, object_id=p.entity.id if p.entity else None)
            else:
                keep.append(p)
        self._pending = keep

    # -- mobs
    def _update_mobs(self) -> None:
        rng = self.rng
        for mob in list(self.dying):
            mob.dead_ticks -= 1
            if mob.dead_ticks <= 0:
                self.dying.remove(mob)
        for mob in self.mobs:
            if mob.hurt_ticks > 0:
                mob.hurt_ticks -= 1
            speed = MOBS[mob.kind].speed
            if mob.kind == "zombie" and math.hypot(mob.x - self.x, mob.z - self.z) < ZOMBIE_CHASE_BLOCKS:
                d = math.hypot(self.x - mob.x, self.z - mob.z)
                mob.heading = math.degrees(math.atan2(-(self.x - mob.x), self.z - mob.z))
                mob.state = "walk" if d > ZOMBIE_STOP_BLOCKS else "idle"
            elif mob.panic_ticks > 0:
                mob.panic_ticks -= 1
                speed *= PANIC_SPEED_FACTOR
                if mob.state != "walk" or rng.random() < PANIC_TURN_P:
                    away = math.degrees(math.atan2(-(mob.x - self.x), mob.z - self.z))
                    mob.heading = away + rng.uniform(-PANIC_TURN_DEG, PANIC_TURN_DEG)
                mob.state = "walk"
            else:
                mob.state_ticks -= 1
                if mob.state_ticks <= 0:
                    if mob.state == "walk" or rng.random() < IDLE_AFTER_IDLE_P:
                        mob.state, mob.state_ticks = "idle", rng.randint(*IDLE_TICKS)
                    else:
                        mob.state, mob.state_ticks = "walk", rng.randint(*WALK_TICKS)
                        mob.heading += rng.uniform(-WANDER_TURN_DEG, WANDER_TURN_DEG)
            if mob.state == "walk":
                h = math.radians(mob.heading)
                nx, nz = mob.x - math.sin(h) * speed, mob.z + math.cos(h) * speed
                if self._mob_fits(nx, nz) and math.hypot(nx - self.x, nz - self.z) > MOB_PLAYER_GAP:
                    mob.x, mob.z = nx, nz
                elif mob.kind != "zombie":
                    mob.heading += rng.choice((90.0, -90.0, 180.0))

    def render(self, cursor: bool = True) -> tuple[np.ndarray, np.ndarray]:
        return self.renderer.render(cursor)
