"""The choose-target closed-loop environment (ROCKET-2): the goal decides which block to mine.

:class:`VptChooseEnv` resets a :class:`~goalframe.sim.vpt.world.VptWorld` into the scene of
``goalframe synth vpt --scenario choose-target`` (:mod:`goalframe.sim.vpt.choose_target`):
three candidate blocks around the agent, one ahead and one out of view on either side (with
``same_kind``, two of them of one kind). The goal is cross-view: the goal candidate's image
and mask rendered from another viewpoint. The episode ends at the first candidate the agent
attacks (its crosshair on it, within reach): the goal is a success, a distractor a failure
(``outcome`` "goal" / "distractor"); no candidate attacked within ``max_steps`` is a
failure too (``outcome`` None). Observations and actions are :class:`VptReachEnv`'s.

Baselines with access to the world (they read the environment, not the observation):
:class:`NearestCandidatePolicy` goes to the candidate nearest the crosshair at the start and
mines it (what a policy that ignores the goal does best: right one time in three);
:class:`ChooseOraclePolicy` goes to the goal one (the task is solvable within the steps).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from goalframe.media.images import resize_frame_area, resize_mask_nearest
from goalframe.sim.vpt.choose_target import ChooseTargetLayout, goal_view, setup_choose_target
from goalframe.sim.vpt.geometry import look_angles
from goalframe.sim.vpt.world import VptWorld
from goalframe.sources.vpt_actions import BUTTONS, discretize_camera
from goalframe.training.envs import MINE, env_action

SCENARIO_SAME_KIND = {"choose-target": False, "choose-target-same": True}


@dataclass
class VptChooseEnv:
    size: int = 64
    max_steps: int = 50
    same_kind: bool = False
    world: VptWorld = field(default_factory=VptWorld, repr=False)

    interaction = MINE

    def reset(self, seed: int) -> dict[str, Any]:
        rng = np.random.default_rng([int(seed), 4243, int(self.same_kind)])
        for _attempt in range(20):
            self.world_seed = int(rng.integers(2**31))
            self.world.reset(self.world_seed)
            draws = random.Random(int(rng.integers(2**31)))
            try:
                layout = setup_choose_target(self.world, draws, self.same_kind)
            except RuntimeError:  # no free cell for a candidate: another world
                continue
            view = goal_view(self.world, layout, draws)
            if view is None:
                continue
            goal_rgb, goal_mask, self.goal_view = view
            self.seed, self.layout = int(seed), layout
            self.goal_image = resize_frame_area(goal_rgb, self.size)
            self.goal_mask = resize_mask_nearest(goal_mask, self.size)[None]
            self.steps, self.success, self.outcome = 0, False, None
            self.start_gap = self.min_gap = self.gap()
            return self.observe()
        raise RuntimeError(f"VptChooseEnv: no usable scene for seed {seed}")

    def observe(self) -> dict[str, Any]:
        rgb, _ids = self.world.render(cursor=False)
        return {
            "frame": resize_frame_area(rgb, self.size),
            "goal_image": self.goal_image,
            "goal_mask": self.goal_mask,
            "interaction": self.interaction,
        }

    def candidate_under_crosshair(self) -> int | None:
        """Index of the candidate the crosshair is on within reach, or None."""
        target = self.world.target()
        return None if target is None else self.layout.index_of(target.object_id)

    def step(self, action: dict[str, Any]) -> tuple[dict[str, Any], bool, dict[str, Any]]:
        if self.outcome is not None or self.steps >= self.max_steps:
            raise RuntimeError("episode over: call reset(seed)")
        if action.get("attack"):
            hit = self.candidate_under_crosshair()
            if hit is not None:
                self.outcome = "goal" if hit == self.layout.goal else "distractor"
                self.success = hit == self.layout.goal
        self.world.step(action)
        self.steps += 1
        self.min_gap = min(self.min_gap, self.gap())
        done = self.outcome is not None or self.steps >= self.max_steps
        info = {
            "success": self.success,
            "steps": self.steps,
            "outcome": self.outcome,
            "angle": self.angle_to(self.layout.goal),
            "approach": self.start_gap - self.min_gap,
        }
        return self.observe(), done, info

    def gap(self) -> float:
        """Horizontal distance (blocks) from the agent to the goal candidate's centre."""
        c = self.layout.goal_candidate.centre
        return float(math.hypot(c[0] - self.world.x, c[2] - self.world.z))

    def angle_to(self, index: int) -> float:
        """Degrees between the view direction and the direction to candidate ``index``."""
        yaw, pitch = look_angles(self.world.eye, self.layout.candidates[index].centre)
        return float(math.hypot(math.remainder(yaw - self.world.yaw, 360.0), pitch - self.world.pitch))


class _GoToCandidate:
    """Turn to one candidate, walk within reach, attack it (as :class:`VptOracle` does)."""

    def __init__(self, env: VptChooseEnv):
        self.env = env
        self.pick = 0

    def choose(self, layout: ChooseTargetLayout) -> int:
        raise NotImplementedError

    def reset(self, observation: dict[str, Any]) -> None:
        self.pick = self.choose(self.env.layout)

    def act(self, observation: dict[str, Any]) -> dict[str, Any]:
        env, w = self.env, self.env.world
        point = env.layout.candidates[self.pick].centre
        yaw, pitch = look_angles(w.eye, point)
        dyaw, dpitch = math.remainder(yaw - w.yaw, 360.0), pitch - w.pitch
        camera = np.clip(np.array([dpitch, dyaw]) * 0.5, -10, 10)
        buttons = np.zeros(len(BUTTONS))
        if env.candidate_under_crosshair() == self.pick:
            buttons[BUTTONS.index("attack")] = 1
        elif math.hypot(point[0] - w.x, point[2] - w.z) > 2.0 and abs(dyaw) < 40:
            buttons[BUTTONS.index("forward")] = 1
        return env_action(buttons, discretize_camera(camera[None])[0])


class NearestCandidatePolicy(_GoToCandidate):
    """Mines the candidate nearest the crosshair (smallest view angle) at the start."""

    def choose(self, layout: ChooseTargetLayout) -> int:
        return int(np.argmin([self.env.angle_to(i) for i in range(len(layout.candidates))]))


class ChooseOraclePolicy(_GoToCandidate):
    """Mines the goal candidate: the upper bound of the task within ``max_steps``."""

    def choose(self, layout: ChooseTargetLayout) -> int:
        return layout.goal


def wilson_interval(successes: int, n: int, z: float = 1.96) -> tuple[float, float]:
    """Wilson score interval of a success rate (95% for ``z`` 1.96); (0, 1) for no trials."""
    if n <= 0:
        return 0.0, 1.0
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)
