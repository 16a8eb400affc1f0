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
from goalframe.sim.vpt.constants import (
    ANIMALS,
    BOULDER_CELLS,
    BOULDER_EDGE_CELLS,
    BOULDERS,
    COAL_P,
    DIRT_BELOW,
    DIRT_SAND_NOISE_ABOVE,
    FAR_ANIMAL_BLOCKS,
    FIRST_BOULDER_BLOCKS,
    FIRST_TREE_BLOCKS,
    GRAVEL_ABOVE,
    GROUND_NOISE_CELLS,
    GROUND_Y,
    IRON_P,
    MOB_START_TICKS,
    MOB_TRIES,
    NEAR_ANIMAL_BLOCKS,
    NEAR_ANIMALS,
    REGION,
    SAND_BELOW,
    SPAWN_CLEAR,
    STONE_ABOVE,
    TALL_BOULDER_P,
    TREE_EDGE_CELLS,
    TREE_GAP,
    TREE_HEIGHT,
    TREE_SPAWN_GAP,
    TREE_TRIES,
    TREES,
    ZOMBIE_BLOCKS,
    ZOMBIE_P,
    ZOMBIE_TRIES,
)
from goalframe.sim.vpt.mobs import MOBS, Mob

if TYPE_CHECKING:
    from goalframe.sim.vpt.world import VptWorld


def make_ground(world: VptWorld, rng: random.Random) -> None:
    nrng = np.random.default_rng(rng.randrange(2**32))
    n = REGION

    def noise(cells: int) -> np.ndarray:
        small = nrng.random((cells, cells)).astype(np.float32)
        return cv2.resize(small, (n, n), interpolation=cv2.INTER_CUBIC)

    n1, n2, n3 = (noise(cells) for cells in GROUND_NOISE_CELLS)
    gtype = np.full((n, n), BLOCK_CODE["grass_block"], np.uint8)
    gtype[n1 < SAND_BELOW] = BLOCK_CODE["sand"]
    gtype[(n2 > GRAVEL_ABOVE)] = BLOCK_CODE["gravel"]
    gtype[(n3 > STONE_ABOVE)] = BLOCK_CODE["stone"]
    gtype[(n3 < DIRT_BELOW) & (n1 > DIRT_SAND_NOISE_ABOVE)] = BLOCK_CODE["dirt"]
    c, clear = n // 2, SPAWN_CLEAR
    gtype[c - clear : c + clear + 1, c - clear : c + clear + 1] = BLOCK_CODE["grass_block"]
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
    near = FIRST_TREE_BLOCKS
    spots.append((c + int(round(near * math.cos(ang))), c + int(round(near * math.sin(ang)))))
    lo, hi = TREE_EDGE_CELLS, REGION - 1 - TREE_EDGE_CELLS
    tries = 0
    while len(spots) < TREES and tries < TREE_TRIES:
        tries += 1
        i, k = rng.randint(lo, hi), rng.randint(lo, hi)
        if abs(i - c) + abs(k - c) < TREE_SPAWN_GAP or any(
            abs(i - a) + abs(k - b) < TREE_GAP for a, b in spots
        ):
            continue
        spots.append((i, k))
    for i, k in spots:
        world.gtype[i, k] = BLOCK_CODE["dirt"]
        world._objects[int(world.gid[i, k])]["type"] = "dirt"
        h = rng.randint(*TREE_HEIGHT)
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
    near = FIRST_BOULDER_BLOCKS
    centres.append((c + int(round(near * math.cos(ang))), c + int(round(near * math.sin(ang)))))
    lo, hi = BOULDER_EDGE_CELLS, REGION - 1 - BOULDER_EDGE_CELLS
    for _ in range(BOULDERS):
        centres.append((rng.randint(lo, hi), rng.randint(lo, hi)))
    for ci, ck in centres:
        n = rng.randint(*BOULDER_CELLS)
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
            hgt = 2 if rng.random() < TALL_BOULDER_P else 1
            for y in range(GROUND_Y, GROUND_Y + hgt):
                r = rng.random()
                name = "coal_ore" if r < COAL_P else "iron_ore" if r < COAL_P + IRON_P else "stone"
                world._add_block((ox + i, y, oz + k), name)


def make_mobs(world: VptWorld, rng: random.Random) -> None:
    ox, oz = world.origin
    c = REGION // 2
    kinds = ["pig", "cow"] * 4
    n = rng.randint(*ANIMALS)
    placed = 0
    tries = 0
    while placed < n and tries < MOB_TRIES:
        tries += 1
        dist = rng.uniform(*NEAR_ANIMAL_BLOCKS) if placed < NEAR_ANIMALS else rng.uniform(*FAR_ANIMAL_BLOCKS)
        ang = rng.uniform(0, 2 * math.pi)
        x, z = ox + c + 0.5 + dist * math.cos(ang), oz + c + 0.5 + dist * math.sin(ang)
        if not world._mob_fits(x, z):
            continue
        kind = kinds[rng.randrange(len(kinds))]
        spawn_mob(world, kind, x, z, rng.uniform(-180, 180), rng)
        placed += 1
    if rng.random() < ZOMBIE_P:
        for _ in range(ZOMBIE_TRIES):
            ang = rng.uniform(0, 2 * math.pi)
            far = ZOMBIE_BLOCKS
            x, z = ox + c + 0.5 + far * math.cos(ang), oz + c + 0.5 + far * math.sin(ang)
            if world._mob_fits(x, z):
                spawn_mob(world, "zombie", x, z, rng.uniform(-180, 180), rng)
                break


def spawn_mob(world: VptWorld, kind: str, x: float, z: float, heading: float, rng: random.Random) -> None:
    oid = world._new_id("mob", kind)
    world.mobs.append(
        Mob(oid, kind, x, z, heading, MOBS[kind].health, state_ticks=rng.randint(*MOB_START_TICKS))
    )
