"""Generating a VptWorld's terrain at reset: the ground layer, trees, boulders with ores, mobs.

Each function draws from the world's ``rng`` in the order ``VptWorld.reset`` calls them, and
places what it makes through the world (``_new_id``, ``_add_block``, ``_mob_fits``), so a given
seed builds the same world as before the split.
"""

from __future__ import annotations

import math
import random
from typing import TYPE_CHECKING

import cv2
import numpy as np

from goalframe.sim.vpt.blocks import BLOCK_CODE, BLOCKS
from goalframe.sim.vpt.constants import GROUND_Y, REGION
from goalframe.sim.vpt.mobs import MOBS, Mob

if TYPE_CHECKING:
    from goalframe.sim.vpt.world import VptWorld


def make_ground(world: VptWorld, rng: random.Random) -> None:
    nrng = np.random.default_rng(rng.randrange(2**32))
    n = REGION

    def noise(cells: int) -> np.ndarray:
        small = nrng.random((cells, cells)).astype(np.float32)
        return cv2.resize(small, (n, n), interpolation=cv2.INTER_CUBIC)

    n1, n2, n3 = noise(7), noise(10), noise(12)
    gtype = np.full((n, n), BLOCK_CODE["grass_block"], np.uint8)
    gtype[n1 < 0.16] = BLOCK_CODE["sand"]
    gtype[(n2 > 0.9)] = BLOCK_CODE["gravel"]
    gtype[(n3 > 0.86)] = BLOCK_CODE["stone"]
    gtype[(n3 < 0.1) & (n1 > 0.5)] = BLOCK_CODE["dirt"]
    c = n // 2
    gtype[c - 2 : c + 3, c - 2 : c + 3] = BLOCK_CODE["grass_block"]
    world.gtype = gtype
    world.gdepth = np.zeros((n, n), np.uint8)
    world.gvariant = nrng.integers(0, 4, (n, n)).astype(np.uint8)
    world.gid = np.zeros((n, n), np.int32)
    for i in range(n):
        for k in range(n):
            world.gid[i, k] = world._new_id("block", BLOCKS[gtype[i, k]].name)


def free_cell(world: VptWorld, i: int, k: int) -> bool:
    ox, oz = world.origin
    return all((ox + i, y, oz + k) not in world.blocks for y in (GROUND_Y, GROUND_Y + 1))


def make_trees(world: VptWorld, rng: random.Random) -> None:
    ox, oz = world.origin
    c = REGION // 2
    spots: list[tuple[int, int]] = []
    ang = rng.uniform(0, 2 * math.pi)
    first = (c + int(round(6 * math.cos(ang))), c + int(round(6 * math.sin(ang))))
    spots.append(first)
    tries = 0
    while len(spots) < 13 and tries < 500:
        tries += 1
        i, k = rng.randint(4, REGION - 5), rng.randint(4, REGION - 5)
        if abs(i - c) + abs(k - c) < 4 or any(abs(i - a) + abs(k - b) < 6 for a, b in spots):
            continue
        spots.append((i, k))
    for i, k in spots:
        world.gtype[i, k] = BLOCK_CODE["dirt"]
        world._objects[int(world.gid[i, k])]["type"] = "dirt"
        h = rng.randint(4, 6)
        x, z = ox + i, oz + k
        top = GROUND_Y + h - 1
        for y in range(GROUND_Y, top + 1):
            world._add_block((x, y, z), "oak_log")
        for y in range(top - 2, top + 2):
            rad = 2 if y < top else 1
            for dx in range(-rad, rad + 1):
                for dz in range(-rad, rad + 1):
                    if (x + dx, y, z + dz) in world.blocks:
                        continue
                    corner = abs(dx) == rad and abs(dz) == rad
                    if corner and (y == top + 1 or rng.random() < 0.5):
                        continue
                    if y == top + 1 and rad == 1 and corner:
                        continue
                    world._add_block((x + dx, y, z + dz), "oak_leaves")
        world._add_block((x, top + 2, z), "oak_leaves")


def make_boulders(world: VptWorld, rng: random.Random) -> None:
    ox, oz = world.origin
    c = REGION // 2
    centres = []
    ang = rng.uniform(0, 2 * math.pi)
    centres.append((c + int(round(9 * math.cos(ang))), c + int(round(9 * math.sin(ang)))))
    for _ in range(3):
        centres.append((rng.randint(6, REGION - 7), rng.randint(6, REGION - 7)))
    for ci, ck in centres:
        n = rng.randint(4, 8)
        cells = [(ci, ck)]
        while len(cells) < n:
            i, k = rng.choice(cells)
            d = rng.choice(((1, 0), (-1, 0), (0, 1), (0, -1)))
            cand = (i + d[0], k + d[1])
            if cand not in cells:
                cells.append(cand)
        for i, k in cells:
            if abs(i - c) <= 1 and abs(k - c) <= 1:
                continue
            if not free_cell(world, i, k):
                continue
            hgt = 2 if rng.random() < 0.4 else 1
            for y in range(GROUND_Y, GROUND_Y + hgt):
                r = rng.random()
                name = "coal_ore" if r < 0.3 else "iron_ore" if r < 0.42 else "stone"
                world._add_block((ox + i, y, oz + k), name)


def make_mobs(world: VptWorld, rng: random.Random) -> None:
    ox, oz = world.origin
    c = REGION // 2
    kinds = ["pig", "cow"] * 4
    n = rng.randint(5, 8)
    placed = 0
    tries = 0
    while placed < n and tries < 300:
        tries += 1
        dist = rng.uniform(4.0, 16.0) if placed < 2 else rng.uniform(5.0, 24.0)
        ang = rng.uniform(0, 2 * math.pi)
        x, z = ox + c + 0.5 + dist * math.cos(ang), oz + c + 0.5 + dist * math.sin(ang)
        if not world._mob_fits(x, z):
            continue
        kind = kinds[rng.randrange(len(kinds))]
        spawn_mob(world, kind, x, z, rng.uniform(-180, 180), rng)
        placed += 1
    if rng.random() < 0.35:
        for _ in range(50):
            ang = rng.uniform(0, 2 * math.pi)
            x, z = ox + c + 0.5 + 16 * math.cos(ang), oz + c + 0.5 + 16 * math.sin(ang)
            if world._mob_fits(x, z):
                spawn_mob(world, "zombie", x, z, rng.uniform(-180, 180), rng)
                break


def spawn_mob(world: VptWorld, kind: str, x: float, z: float, heading: float, rng: random.Random) -> None:
    oid = world._new_id("mob", kind)
    world.mobs.append(Mob(oid, kind, x, z, heading, MOBS[kind].health, state_ticks=rng.randint(5, 60)))
