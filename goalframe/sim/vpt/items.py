"""Item entities: what a mined block, a killed mob or the drop key leaves in the world.

In Minecraft a drop is a small item entity (a quarter-block cube showing the item's texture)
that falls under gravity, rests on the floor bobbing up and down, and is collected when the
player comes near (the ``pickup`` stat). The world spawns one per drop when
``VptWorld(item_entities=True)``:

- a mined block's drop appears at the centre of the block's cell, offset a little in x and z
  (Minecraft offsets it at random; here the offset comes from a hash of the cell, so no
  random stream of the world or the player is drawn and every other part of an episode stays
  as it was), and falls to the floor under the cell;
- a killed mob's drops appear where the mob stood;
- a dropped item (``drop``) is thrown from just below the eye along the view.

Physics per tick as Minecraft's: gravity ``GRAVITY`` then drag ``DRAG`` on the velocity, and
on the floor friction ``GROUND_FRICTION`` in x and z. Rendered from the frame after the tick
it appears on (like every visible effect of an interaction, see ``world.py``), as an
axis-aligned cube (the spin is not drawn) whose bottom bobs ``BOB`` blocks above the floor.
A collected item is still drawn on the frame of its ``pickup`` and gone from the next.
Thrown items are not collected again (Minecraft waits 2 s before they can be).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from goalframe.sim.vpt.blocks import BLOCK_CODE, BLOCKS, ITEM_COLORS
from goalframe.sim.vpt.constants import GROUND_Y
from goalframe.sim.vpt.geometry import _hash01, camera_basis

ITEM_SIZE = 0.25  # blocks along each side of the cube an item entity is drawn as
GRAVITY = 0.04  # blocks / tick^2
DRAG = 0.98  # velocity kept per tick
GROUND_FRICTION = 0.6  # x, z velocity kept per tick on the floor
BOB = 0.1  # the bottom bobs between 0 and 2 * BOB above the floor ...
BOB_TICKS = 10.0  # ... as sin(age / BOB_TICKS + phase)
SPAWN_OFFSET = 0.15  # a mined block's drop: at most this far from the cell centre in x and z
THROW_SPEED, THROW_LIFT, THROW_BELOW_EYE = 0.3, 0.1, 0.3  # the drop key (Minecraft's values)
ITEM_ID_BASE = 50000  # item entity ids: their own range below GUI ids, so block and mob ids stay


@dataclass
class ItemEntity:
    id: int
    item: str
    count: int
    x: float
    y: float  # bottom of the resting cube (before bobbing)
    z: float
    floor: float
    born: int  # tick it appeared on (drawn from the frame after)
    phase: float
    vx: float = 0.0
    vy: float = 0.0
    vz: float = 0.0
    age: int = 0
    collected: bool = False
    thrown: bool = False

    def step(self) -> None:
        """One tick of Minecraft item physics."""
        self.age += 1
        self.vy = (self.vy - GRAVITY) * DRAG
        self.vx *= DRAG
        self.vz *= DRAG
        self.x += self.vx
        self.z += self.vz
        self.y += self.vy
        if self.y <= self.floor:
            self.y, self.vy = self.floor, 0.0
            self.vx *= GROUND_FRICTION
            self.vz *= GROUND_FRICTION

    def box(self) -> tuple[np.ndarray, np.ndarray, tuple[int, int, int]]:
        """(low, high, colour) of the cube as drawn this tick."""
        lift = BOB * (1.0 + math.sin(self.age / BOB_TICKS + self.phase)) if self.y <= self.floor else 0.0
        half = ITEM_SIZE / 2
        low = np.array([self.x - half, self.y + lift, self.z - half])
        return low, low + ITEM_SIZE, item_colour(self.item)


def item_colour(item: str) -> tuple[int, int, int]:
    """A block item shows its block's side texture colour; other items their icon colour."""
    if item in BLOCK_CODE:
        return BLOCKS[BLOCK_CODE[item]].side
    return ITEM_COLORS.get(item, (200, 200, 200))


def floor_under(blocks: dict, x: float, y: float, z: float) -> float:
    """Top of the highest block at or below height ``y`` in the column of (x, z), else the ground."""
    cx, cz = math.floor(x), math.floor(z)
    for level in range(math.floor(y) - 1, GROUND_Y - 1, -1):
        if (cx, level, cz) in blocks:
            return float(level + 1)
    return float(GROUND_Y)


class ItemEntities:
    """The item entities of one world; ids from ``ITEM_ID_BASE`` on."""

    def __init__(self, world) -> None:
        self.world = world
        self.items: list[ItemEntity] = []
        self._next = ITEM_ID_BASE

    def _spawn(self, item: str, count: int, x: float, y: float, z: float, floor: float) -> ItemEntity:
        oid = self._next
        self._next += 1
        self.world.objects[oid] = {"kind": "item", "type": item}
        phase = 2 * math.pi * _hash01(self.world.seed, oid, 7)
        entity = ItemEntity(oid, item, count, x, y, z, floor, self.world.tick, phase)
        self.items.append(entity)
        return entity

    def from_block(self, cell: tuple[float, float, float], item: str, count: int = 1) -> ItemEntity:
        """The drop of the block whose cell's low corner is ``cell`` (a ground cell: the one
        under the surface), falling to the floor under the cell."""
        x0, y0, z0 = (int(v) for v in cell)
        seed = self.world.seed
        x = x0 + 0.5 + SPAWN_OFFSET * (2 * _hash01(seed, x0, y0, z0, 1) - 1)
        z = z0 + 0.5 + SPAWN_OFFSET * (2 * _hash01(seed, x0, y0, z0, 2) - 1)
        y = y0 + 0.5 - ITEM_SIZE / 2
        floor = float(y0) if y0 < GROUND_Y else floor_under(self.world.blocks, x, y0, z)
        return self._spawn(item, count, x, y, z, floor)

    def from_mob(self, x: float, z: float, item: str, count: int) -> ItemEntity:
        return self._spawn(item, count, x, GROUND_Y + 0.5, z, float(GROUND_Y))

    def thrown(self, item: str) -> ItemEntity:
        """Thrown from below the eye along the view (the drop key)."""
        w = self.world
        eye = w.eye
        forward, _, _ = camera_basis(w.yaw, w.pitch)
        y = eye[1] - THROW_BELOW_EYE
        entity = self._spawn(item, 1, eye[0], y, eye[2], floor_under(w.blocks, eye[0], y, eye[2]))
        entity.vx, entity.vz = THROW_SPEED * forward[0], THROW_SPEED * forward[2]
        entity.vy = THROW_SPEED * forward[1] + THROW_LIFT
        entity.thrown = True
        return entity

    def begin_tick(self) -> None:
        """Forget the items collected on the last tick (their pickup frame has shown them)."""
        self.items = [e for e in self.items if not e.collected]

    def step(self) -> None:
        """Move every item but those that appeared on this tick; a thrown one lands on the
        floor of the column it flies over."""
        for entity in self.items:
            if entity.born < self.world.tick:
                if entity.thrown:
                    entity.floor = floor_under(self.world.blocks, entity.x, entity.y + 0.5, entity.z)
                entity.step()

    def drawn(self) -> list[ItemEntity]:
        """The items the frame of the current state shows."""
        return [e for e in self.items if e.born + 1 < self.world.tick]
