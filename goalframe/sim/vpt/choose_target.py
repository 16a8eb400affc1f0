"""The choose-target scenario: three candidate blocks around the player, one of them the goal.

:func:`setup_choose_target` turns a freshly reset :class:`~goalframe.sim.vpt.world.VptWorld`
into the scene: the area around the player is cleared (blocks within ``CLEAR_RADIUS``
blocks, every mob), and three stand-alone candidate blocks are placed on the ground, 3.5 to
6 blocks away, at bearings (degrees from the start yaw, positive to the right)
:data:`CANDIDATE_BEARINGS`: one ahead (in view at the start), one to the right and one to
the left (both out of view: the frame spans about 51 degrees either side). Their kinds are
the three :data:`KINDS` (all mined by hand in 15 to 40 ticks) in a random order, or, with
``same_kind``, two candidates of one kind and the third of another. One candidate, drawn
uniformly, is the goal.

:class:`ChooseTargetPlayer` is the scripted player of ``goalframe synth vpt --scenario
choose-target``: it waits, searches by sweeping to the right (always the same way, past any
distractor) until the goal candidate is near the crosshair, aims at it, walks up to it, mines
it, and then idles and looks around without attacking anything else, so the episode's only
interaction is with the goal. Every decision it takes is visible in its view and goal (where
to stop the sweep), none needs to know where an out-of-view candidate stands: what the demos
teach can be learnt from the observations.

:func:`goal_view` renders the cross-view goal of the closed-loop environment: the goal
candidate seen from another viewpoint (2.5 to 4.5 blocks from it, at least 45 degrees
around it from the player's start), with its mask.
"""

from __future__ import annotations

import math
import random
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np

from goalframe.sim.vpt.constants import CAMERA_SCALER, GROUND_Y, REGION
from goalframe.sim.vpt.geometry import look_angles
from goalframe.sim.vpt.player import ScriptedPlayer
from goalframe.sim.vpt.world import VptWorld

#: ``goalframe synth vpt --scenario`` values; ``default`` is the free-play world.
SCENARIOS = ("default", "choose-target", "choose-target-same")
KINDS = ("oak_log", "sand", "gravel")  # told apart by colour (dark brown, pale yellow, grey) at 32 x 32
CANDIDATE_BEARINGS = ((-20.0, 20.0), (70.0, 150.0), (-150.0, -70.0))
CANDIDATE_DISTANCE = (3.5, 6.0)
CLEAR_RADIUS = 10.0
GOAL_VIEW_DISTANCE = (2.5, 4.5)
GOAL_VIEW_MIN_ANGLE = 45.0
MIN_GOAL_PIXELS = 150  # of 640 x 360
SWEEP_DEG = 10.0  # yaw per tick of the search sweep (the largest camera bin)
SWEEP_STOP_DEG = 25.0  # the sweep stops once the goal is this close to the crosshair


@dataclass
class Candidate:
    object_id: int
    cell: tuple[int, int, int]
    kind: str
    bearing: float  # degrees from the start yaw to the block's centre, positive to the right
    distance: float  # blocks, horizontally, from the start position to the block's centre

    @property
    def centre(self) -> np.ndarray:
        return np.array([self.cell[0] + 0.5, self.cell[1] + 0.5, self.cell[2] + 0.5])


@dataclass
class ChooseTargetLayout:
    candidates: list[Candidate]
    goal: int  # index into candidates
    same_kind: bool
    start: dict[str, float]  # x, z, yaw, pitch

    @property
    def goal_candidate(self) -> Candidate:
        return self.candidates[self.goal]

    def index_of(self, object_id: int) -> int | None:
        return next((i for i, c in enumerate(self.candidates) if c.object_id == object_id), None)

    def to_json(self) -> dict[str, Any]:
        return {
            "scenario": "choose-target-same" if self.same_kind else "choose-target",
            "goal": self.goal,
            "goal_object_id": self.goal_candidate.object_id,
            "candidates": [asdict(c) | {"cell": list(c.cell)} for c in self.candidates],
            "start": self.start,
        }


def scenario_same_kind(scenario: str) -> bool:
    """Whether a choose-target scenario name asks for two candidates of one kind."""
    if scenario not in SCENARIOS or scenario == "default":
        raise ValueError(f"--scenario must be one of {', '.join(SCENARIOS)}, got {scenario!r}")
    return scenario == "choose-target-same"


def bearing_to(world: VptWorld, point: np.ndarray) -> float:
    """Degrees from the player's view yaw to ``point``, positive to the right."""
    yaw, _pitch = look_angles(world.eye, point)
    return math.remainder(yaw - world.yaw, 360.0)


def set_pose(world: VptWorld, x: float, z: float, yaw: float, pitch: float) -> None:
    world.x, world.y, world.z = float(x), float(GROUND_Y), float(z)
    world.yaw, world.pitch = float((yaw + 180.0) % 360.0 - 180.0), float(np.clip(pitch, -89.0, 89.0))
    world.vx = world.vy = world.vz = 0.0
    world.on_ground = True


def _free(world: VptWorld, x: int, z: int) -> bool:
    i, k = x - world.origin[0], z - world.origin[1]
    if not (2 <= i < REGION - 2 and 2 <= k < REGION - 2):
        return False
    taken = any((x, y, z) in world.blocks for y in (GROUND_Y, GROUND_Y + 1))
    return not taken and int(world.gdepth[i, k]) == 0


def _clear_around(world: VptWorld) -> None:
    """No block within ``CLEAR_RADIUS`` of the player, no mob anywhere: only candidates to choose."""
    for pos in [
        p for p in world.blocks if math.hypot(p[0] + 0.5 - world.x, p[2] + 0.5 - world.z) < CLEAR_RADIUS
    ]:
        del world.blocks[pos]
    world.mobs, world.dying = [], []
    world.renderer.invalidate()


def _kinds(rng: random.Random, same_kind: bool) -> list[str]:
    if not same_kind:
        return rng.sample(KINDS, 3)
    twin, other = rng.sample(KINDS, 2)
    kinds = [twin, twin, other]
    rng.shuffle(kinds)
    return kinds


def _place_candidate(
    world: VptWorld, rng: random.Random, bearings: tuple[float, float], kind: str
) -> Candidate:
    for _draw in range(40):
        bearing = rng.uniform(*bearings)
        distance = rng.uniform(*CANDIDATE_DISTANCE)
        heading = math.radians(world.yaw + bearing)
        x = math.floor(world.x - distance * math.sin(heading))
        z = math.floor(world.z + distance * math.cos(heading))
        if not _free(world, x, z) or math.hypot(x + 0.5 - world.x, z + 0.5 - world.z) < 2.5:
            continue
        centre = np.array([x + 0.5, GROUND_Y + 0.5, z + 0.5])
        actual = bearing_to(world, centre)
        if not bearings[0] <= actual <= bearings[1]:  # the cell's centre, not the drawn point, counts
            continue
        cell = (x, GROUND_Y, z)
        return Candidate(
            object_id=world._add_block(cell, kind),
            cell=cell,
            kind=kind,
            bearing=round(actual, 3),
            distance=round(math.hypot(centre[0] - world.x, centre[2] - world.z), 3),
        )
    raise RuntimeError("choose-target: no free ground cell for a candidate")


def setup_choose_target(world: VptWorld, rng: random.Random, same_kind: bool = False) -> ChooseTargetLayout:
    """Clear the player's surroundings and place the three candidates; draws from ``rng`` only."""
    _clear_around(world)
    set_pose(world, world.x, world.z, world.yaw, rng.uniform(4.0, 14.0))
    kinds = _kinds(rng, same_kind)
    candidates = [_place_candidate(world, rng, b, k) for b, k in zip(CANDIDATE_BEARINGS, kinds)]
    start = {"x": world.x, "z": world.z, "yaw": world.yaw, "pitch": world.pitch}
    return ChooseTargetLayout(candidates, rng.randrange(3), same_kind, start)


def goal_view(
    world: VptWorld, layout: ChooseTargetLayout, rng: random.Random
) -> tuple[np.ndarray, np.ndarray, dict[str, float]] | None:
    """The goal candidate seen from another viewpoint: (rgb, mask, view), or None where no
    viewpoint shows it well; the player's pose is restored either way."""
    goal = layout.goal_candidate
    cx, cz = goal.centre[0], goal.centre[2]
    start_azimuth = math.atan2(world.z - cz, world.x - cx)
    pose = (world.x, world.z, world.yaw, world.pitch)
    r = int(math.ceil(GOAL_VIEW_DISTANCE[1]))
    cells = []
    for dx in range(-r, r + 1):
        for dz in range(-r, r + 1):
            x, z = int(math.floor(cx)) + dx, int(math.floor(cz)) + dz
            d = math.hypot(x + 0.5 - cx, z + 0.5 - cz)
            around = math.degrees(
                abs(math.remainder(math.atan2(z + 0.5 - cz, x + 0.5 - cx) - start_azimuth, 2 * math.pi))
            )
            if (
                GOAL_VIEW_DISTANCE[0] <= d <= GOAL_VIEW_DISTANCE[1]
                and around >= GOAL_VIEW_MIN_ANGLE
                and _free(world, x, z)
            ):
                cells.append((x, z))
    rng.shuffle(cells)
    try:
        for x, z in cells[:8]:
            set_pose(world, x + 0.5, z + 0.5, 0.0, 0.0)
            yaw, pitch = look_angles(world.eye, goal.centre)
            yaw, pitch = yaw + rng.uniform(-4, 4), pitch + rng.uniform(-3, 3)
            set_pose(world, x + 0.5, z + 0.5, yaw, pitch)
            rgb, ids = world.render(cursor=False)
            mask = ids == goal.object_id
            if int(mask.sum()) >= MIN_GOAL_PIXELS and mask[mask.shape[0] // 2, mask.shape[1] // 2]:
                return rgb, mask, {"x": x + 0.5, "z": z + 0.5, "yaw": yaw, "pitch": pitch}
        return None
    finally:
        set_pose(world, *pose)


class ChooseTargetPlayer(ScriptedPlayer):
    """Sweeps right until the goal candidate is near the crosshair, aims at it, walks up to
    it and mines it; then idles and looks around, attacking nothing."""

    def __init__(self, world: VptWorld, seed: int, layout: ChooseTargetLayout) -> None:
        super().__init__(world, seed)
        self.layout = layout

    def _sweep(self, point: np.ndarray, max_ticks: int = 40) -> Iterator[dict[str, Any]]:
        """Turn right SWEEP_DEG a tick (pitch back to level) until ``point`` is within SWEEP_STOP_DEG."""
        for _ in range(max_ticks):
            if abs(bearing_to(self.w, point)) <= SWEEP_STOP_DEG:
                return
            yield self._idle(
                dx=float(round(SWEEP_DEG / CAMERA_SCALER)),
                dy=float(round((8.0 - self.w.pitch) * 0.15 / CAMERA_SCALER)),
            )

    def _main(self) -> Iterator[dict[str, Any]]:
        rng, goal = self.rng, self.layout.goal_candidate
        yield from self._wait(2, 8)
        yield from self._sweep(goal.centre)
        yield from self._aim_at(goal.centre, tol=4.0, max_ticks=60)
        x, z = goal.centre[0], goal.centre[2]
        yield from self._walk_to(x, z, stop=rng.uniform(1.9, 2.6), look=goal.centre, max_ticks=160)
        yield from self._mine(goal.cell, None, self._face_point(goal.cell))
        while True:
            yield from self._wait(5, 25)
            yield from self._turn(rng.uniform(-50, 50))
