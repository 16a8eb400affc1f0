"""Mob kinds (pig, cow, zombie) and one live mob: its body boxes, health and wandering."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from goalframe.sim.vpt.constants import (
    GROUND_Y,
)


@dataclass(frozen=True)
class MobDef:
    name: str
    health: int
    speed: float
    parts: tuple  # ((x0, y0, z0, x1, y1, z1), (r, g, b)) in local coords facing +z
    drops: tuple  # ((item, min, max), ...)


MOBS: dict[str, MobDef] = {
    "pig": MobDef(
        "pig",
        10,
        0.045,
        (
            ((-0.3125, 0.0, -0.4375, -0.0625, 0.375, -0.1875), (222, 140, 140)),
            ((0.0625, 0.0, -0.4375, 0.3125, 0.375, -0.1875), (222, 140, 140)),
            ((-0.3125, 0.0, 0.1875, -0.0625, 0.375, 0.4375), (222, 140, 140)),
            ((0.0625, 0.0, 0.1875, 0.3125, 0.375, 0.4375), (222, 140, 140)),
            ((-0.3125, 0.375, -0.5, 0.3125, 0.875, 0.5), (240, 160, 160)),
            ((-0.25, 0.5, 0.5, 0.25, 1.0, 0.95), (244, 170, 168)),
            ((-0.125, 0.5625, 0.95, 0.125, 0.75, 1.02), (214, 112, 124)),
        ),
        (("porkchop", 1, 3),),
    ),
    "cow": MobDef(
        "cow",
        10,
        0.04,
        (
            ((-0.375, 0.0, -0.5, -0.125, 0.75, -0.25), (220, 214, 206)),
            ((0.125, 0.0, -0.5, 0.375, 0.75, -0.25), (70, 50, 38)),
            ((-0.375, 0.0, 0.25, -0.125, 0.75, 0.5), (70, 50, 38)),
            ((0.125, 0.0, 0.25, 0.375, 0.75, 0.5), (220, 214, 206)),
            ((-0.375, 0.75, -0.5625, 0.375, 1.375, 0.5625), (84, 60, 44)),
            ((-0.25, 1.0, 0.5625, 0.25, 1.5, 0.9375), (92, 66, 48)),
            ((-0.3125, 1.375, 0.6875, 0.3125, 1.5, 0.75), (212, 206, 190)),
        ),
        (("beef", 1, 3), ("leather", 0, 2)),
    ),
    "zombie": MobDef(
        "zombie",
        20,
        0.05,
        (
            ((-0.25, 0.0, -0.125, 0.0, 0.75, 0.125), (62, 58, 150)),
            ((0.0, 0.0, -0.125, 0.25, 0.75, 0.125), (56, 52, 140)),
            ((-0.25, 0.75, -0.125, 0.25, 1.5, 0.125), (0, 160, 164)),
            ((-0.5, 1.25, -0.125, -0.25, 1.5, 0.625), (94, 146, 80)),
            ((0.25, 1.25, -0.125, 0.5, 1.5, 0.625), (94, 146, 80)),
            ((-0.25, 1.5, -0.25, 0.25, 2.0, 0.25), (100, 152, 86)),
        ),
        (("rotten_flesh", 0, 2),),
    ),
}


@dataclass
class Mob:
    id: int
    kind: str
    x: float
    z: float
    heading: float  # degrees, Minecraft yaw convention
    health: int
    y: float = float(GROUND_Y)
    state: str = "idle"
    state_ticks: int = 0
    hurt_ticks: int = 0
    panic_ticks: int = 0
    dead_ticks: int = 0

    def facing(self) -> int:
        """Heading snapped to 0 (+z), 1 (-x), 2 (-z), 3 (+x)."""
        return int(round((self.heading % 360.0) / 90.0)) % 4

    def boxes(self, squash: float = 1.0) -> list[tuple[np.ndarray, np.ndarray, tuple]]:
        out = []
        k = self.facing()
        for (x0, y0, z0, x1, y1, z1), col in MOBS[self.kind].parts:
            # rotate (x, z) by k quarter turns: +z -> -x -> -z -> +x
            corners = [(x0, z0), (x1, z1)]
            rot = []
            for lx, lz in corners:
                for _ in range(k):
                    lx, lz = -lz, lx
                rot.append((lx, lz))
            (ax, az), (bx, bz) = rot
            lo = np.array([self.x + min(ax, bx), self.y + y0 * squash, self.z + min(az, bz)])
            hi = np.array([self.x + max(ax, bx), self.y + y1 * squash, self.z + max(az, bz)])
            out.append((lo, hi, col))
        return out


# ----------------------------------------------------------------------------- geometry helpers
