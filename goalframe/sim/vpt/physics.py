"""The player's movement step: walking, sprinting, sneaking, jumping and falling against blocks.

Kept apart from ``VptWorld`` so the world's tick reads as "move, then interact"; the physics
object owns no state of its own and moves the world's player (``x, y, z, vx, vy, vz,
on_ground``) in place, so a given seed replays exactly as before.
"""

from __future__ import annotations

import math
from typing import Any

from goalframe.sim.vpt.constants import (
    AIR_DRAG,
    AIR_INPUT_TAKEN,
    AIR_VELOCITY_KEPT,
    GRAVITY_BLOCKS_PER_TICK2,
    GROUND_INPUT_TAKEN,
    GROUND_VELOCITY_KEPT,
    GROUND_Y,
    JUMP_SPEED_BLOCKS_PER_TICK,
    MIN_SPEED_BLOCKS_PER_TICK,
    PLAYER_HALF,
    PLAYER_HEIGHT,
    REGION,
    SNEAK_SPEED_FACTOR,
    SPRINT_SPEED_BLOCKS_PER_TICK,
    WALK_SPEED_BLOCKS_PER_TICK,
)
from goalframe.sim.vpt.geometry import camera_basis


class PlayerPhysics:
    """Moves the player of one world by one tick of the movement keys."""

    def __init__(self, world: Any) -> None:
        self.world = world

    def solid_at(self, x: float, y: float, z: float) -> bool:
        w = self.world
        h = PLAYER_HALF - 1e-6
        for cx in (math.floor(x - h), math.floor(x + h)):
            for cz in (math.floor(z - h), math.floor(z + h)):
                for cy in range(math.floor(y + 1e-6), math.floor(y + PLAYER_HEIGHT - 1e-6) + 1):
                    if (cx, cy, cz) in w.blocks:
                        return True
        ox, oz = w.origin
        return not (ox + 1 <= x <= ox + REGION - 1 and oz + 1 <= z <= oz + REGION - 1)

    def move(self, a: dict[str, int]) -> None:
        w = self.world
        fwd = a["forward"] - a["back"]
        strafe = a["left"] - a["right"]
        w.sneaking = bool(a["sneak"])
        if a["sprint"] and fwd > 0 and not w.sneaking:
            w.sprinting = True
        if fwd <= 0 or w.sneaking:
            w.sprinting = False
        speed = SPRINT_SPEED_BLOCKS_PER_TICK if w.sprinting else WALK_SPEED_BLOCKS_PER_TICK
        if w.sneaking:
            speed *= SNEAK_SPEED_FACTOR
        norm = math.hypot(fwd, strafe)
        mx = mz = 0.0
        if norm > 0:
            f, r, _ = camera_basis(w.yaw, 0.0)
            mx = (fwd * f[0] - strafe * r[0]) / norm * speed
            mz = (fwd * f[2] - strafe * r[2]) / norm * speed
        if w.on_ground:
            w.vx = GROUND_VELOCITY_KEPT * w.vx + GROUND_INPUT_TAKEN * mx
            w.vz = GROUND_VELOCITY_KEPT * w.vz + GROUND_INPUT_TAKEN * mz
        else:
            w.vx = AIR_VELOCITY_KEPT * w.vx + AIR_INPUT_TAKEN * mx
            w.vz = AIR_VELOCITY_KEPT * w.vz + AIR_INPUT_TAKEN * mz
        if abs(w.vx) < MIN_SPEED_BLOCKS_PER_TICK:
            w.vx = 0.0
        if abs(w.vz) < MIN_SPEED_BLOCKS_PER_TICK:
            w.vz = 0.0
        if a["jump"] and w.on_ground:
            w.vy = JUMP_SPEED_BLOCKS_PER_TICK
            w.on_ground = False
            w.count_stat("custom", "jump", 1)
        x0, z0 = w.x, w.z
        if w.vx and not self.solid_at(w.x + w.vx, w.y, w.z):
            w.x += w.vx
        elif w.vx:
            w.vx = 0.0
        if w.vz and not self.solid_at(w.x, w.y, w.z + w.vz):
            w.z += w.vz
        elif w.vz:
            w.vz = 0.0
        if not w.on_ground:
            ny = w.y + w.vy
            w.vy = (w.vy - GRAVITY_BLOCKS_PER_TICK2) * AIR_DRAG
            if w.vy < 0 and (ny <= GROUND_Y or self.solid_at(w.x, ny, w.z)):
                ny = max(float(GROUND_Y), float(math.floor(ny) + 1) if ny > GROUND_Y else float(GROUND_Y))
                w.vy = 0.0
                w.on_ground = True
            elif w.vy > 0 and self.solid_at(w.x, ny, w.z):
                ny = w.y
                w.vy = 0.0
            w.y = ny
        elif w.y > GROUND_Y and not self.solid_at(w.x, w.y - 0.01, w.z):
            w.on_ground = False
            w.vy = 0.0
        dist_cm = int(round(math.hypot(w.x - x0, w.z - z0) * 100))
        if dist_cm and w.on_ground:
            if w.sneaking:
                w.count_stat("custom", "crouch_one_cm", dist_cm)
            elif w.sprinting:
                w.count_stat("custom", "sprint_one_cm", dist_cm)
            else:
                w.count_stat("custom", "walk_one_cm", dist_cm)
