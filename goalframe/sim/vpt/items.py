"""Dropped items: the small floating item entities of Minecraft, from a mined block, a killed mob
or the player's drop key, until the player walks over them.

An item entity falls under gravity, comes to rest on the ground or on the block below it,
and floats there: it bobs up and down and turns about its vertical axis (Minecraft's
``ItemEntityRenderer``: bob ``sin(age / 10 + phase) * 0.1 + 0.1`` blocks, a turn of
``age / 20 + phase`` radians). A dropped block shows as a quarter-size cube of the block, any
other item as a thin square plate of its colour. The player collects it when its box, grown
by one block sideways and half a block up and down, reaches the item and the item's pickup
delay is over (10 ticks for a block's or a mob's drops, 40 for one the player threw).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np

from goalframe.sim.vpt.blocks import BLOCK_CODE, BLOCKS, ITEM_COLORS
from goalframe.sim.vpt.constants import GROUND_Y, PLAYER_HALF, PLAYER_HEIGHT
from goalframe.sim.vpt.geometry import _FACE_CORNERS, _FACE_SHADE

GRAVITY, DRAG, GROUND_FRICTION = 0.04, 0.98, 0.6  # blocks per tick^2; kept per tick
BLOCK_ITEM_SIZE = 0.25  # a dropped block: a cube a quarter of a block across
PLATE_SIZE, PLATE_THICKNESS = 0.4, 0.06  # any other item: a thin square plate
PICKUP_REACH, PICKUP_REACH_UP = 1.0, 0.5  # the player's box grown by this much to collect
BLOCK_DROP_DELAY, THROWN_DELAY = 10, 40  # ticks before an item can be picked up
THROW_SPEED = 0.3  # blocks per tick along the look direction


@dataclass
class ItemEntity:
    id: int
    item: str
    count: int
    x: float
    y: float  # bottom of the item at rest, before the bob
    z: float
    vx: float = 0.0
    vy: float = 0.0
    vz: float = 0.0
    age: int = 0
    pickup_delay: int = BLOCK_DROP_DELAY
    phase: float = 0.0  # where its bob and turn start (random per item)
    thrown: bool = False  # the player dropped it
    on_ground: bool = False

    @property
    def size(self) -> float:
        return BLOCK_ITEM_SIZE if self.item in BLOCK_CODE else PLATE_SIZE

    def bob(self) -> float:
        return math.sin(self.age / 10.0 + self.phase) * 0.1 + 0.1

    def turn(self) -> float:
        return self.age / 20.0 + self.phase

    def centre(self) -> tuple[float, float, float]:
        """Where it shows now (the bob included): the point to look at."""
        return self.x, self.y + self.bob() + self.size / 2, self.z

    def step(self, floor: float) -> None:
        """One tick of motion: gravity and drag, resting on ``floor`` (the surface under it)."""
        self.age += 1
        self.vy -= GRAVITY
        self.x += self.vx
        self.y += self.vy
        self.z += self.vz
        self.vx, self.vy, self.vz = self.vx * DRAG, self.vy * DRAG, self.vz * DRAG
        self.on_ground = self.y <= floor
        if self.on_ground:
            self.y, self.vy = floor, 0.0
            self.vx, self.vz = self.vx * GROUND_FRICTION, self.vz * GROUND_FRICTION

    def reachable(self, x: float, y: float, z: float) -> bool:
        """Whether a player standing at (x, y, z) (feet) collects it now."""
        if self.age < self.pickup_delay:
            return False
        reach = PLAYER_HALF + PICKUP_REACH + self.size / 2
        return (
            abs(self.x - x) < reach
            and abs(self.z - z) < reach
            and y - PICKUP_REACH_UP < self.y + self.size
            and self.y < y + PLAYER_HEIGHT + PICKUP_REACH_UP
        )

    def faces(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """(centres (6, 3), normals (6, 3), corners (6, 4, 3), colours (6, 3)) of its box where it
        shows now: turned by :meth:`turn` about its vertical axis, lifted by :meth:`bob`."""
        if self.item in BLOCK_CODE:
            block = BLOCKS[BLOCK_CODE[self.item]]
            size = np.array([BLOCK_ITEM_SIZE] * 3)
            colours = [block.top if k == 2 else block.side for k in range(6)]
        else:
            size = np.array([PLATE_SIZE, PLATE_SIZE, PLATE_THICKNESS])
            colours = [ITEM_COLORS.get(self.item, (200, 0, 200))] * 6
        local = (_FACE_CORNERS - 0.5) * size  # (6, 4, 3) about the box centre
        angle = self.turn()
        c, s = math.cos(angle), math.sin(angle)
        rotation = np.array([[c, 0.0, s], [0.0, 1.0, 0.0], [-s, 0.0, c]])
        corners = local @ rotation.T + np.array(self.centre())
        normals = (
            np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]], np.float64)
            @ rotation.T
        )
        shade = np.array(colours, np.float64) * _FACE_SHADE[:, None]
        return corners.mean(1), normals, corners, shade


def block_drop(
    oid: int, item: str, count: int, x: float, y: float, z: float, rng: random.Random
) -> ItemEntity:
    """What a mined block or a killed mob leaves at (x, y, z): a small hop in a random direction."""
    return ItemEntity(
        oid,
        item,
        count,
        x + rng.uniform(-0.25, 0.25),
        y,
        z + rng.uniform(-0.25, 0.25),
        vx=rng.uniform(-0.05, 0.05),
        vy=0.2,
        vz=rng.uniform(-0.05, 0.05),
        phase=rng.uniform(0.0, 2 * math.pi),
    )


def thrown(oid: int, item: str, eye: np.ndarray, forward: np.ndarray, rng: random.Random) -> ItemEntity:
    """An item the player dropped: it leaves the hand below the eye and flies along the look."""
    return ItemEntity(
        oid,
        item,
        1,
        float(eye[0] + 0.3 * forward[0]),
        float(eye[1] - 0.3 - BLOCK_ITEM_SIZE / 2),
        float(eye[2] + 0.3 * forward[2]),
        vx=float(forward[0] * THROW_SPEED + rng.uniform(-0.02, 0.02)),
        vy=float(forward[1] * THROW_SPEED + 0.1),
        vz=float(forward[2] * THROW_SPEED + rng.uniform(-0.02, 0.02)),
        pickup_delay=THROWN_DELAY,
        phase=rng.uniform(0.0, 2 * math.pi),
        thrown=True,
    )


def resting_height(blocks: dict, x: float, y: float, z: float) -> float:
    """The top of what stands under (x, y, z): the ground, or the highest block below it in its column."""
    cx, cz = math.floor(x), math.floor(z)
    top = float(GROUND_Y)
    for cy in range(GROUND_Y, math.floor(y) + 1):
        if (cx, cy, cz) in blocks and cy + 1 <= y + 0.5:
            top = float(cy + 1)
    return top
