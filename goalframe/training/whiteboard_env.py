"""The whiteboard closed-loop environment (Act2Goal): draw the goal image's strokes, K of them.

:class:`WhiteboardEnv` resets a :class:`~goalframe.sim.agibot.whiteboard.WhiteboardWorld`
into the scene of ``goalframe synth agibot --scenario whiteboard``: K strokes (K drawn
uniformly in the ``strokes`` band) that the scripted player would draw from the same start.
The goal image is the head camera's view of the finished drawing (the goal ink, what a
perfect pen leaves, with both arms home, as the recorded episodes end). Success: the ink on
the board overlaps the goal ink with an IoU (:func:`~goalframe.sim.agibot.whiteboard.ink_iou`)
of at least ``threshold``, within ``step_factor`` times the scripted episode's length. Extra
ink counts against the IoU, so scribbling over the board fails. Observations and actions
are :class:`~goalframe.training.envs.AgibotArrangeEnv`'s (``image``, ``goal_image``,
``state``; end-effector vectors in :data:`~goalframe.training.data.EE_ACTION` order).

Baselines: :class:`WhiteboardOracle` replays the scripted player (the task is solvable);
:class:`OtherGoalScript` replays the scripted player of ANOTHER seed (a fluent drawing, the
wrong one: what ignoring the goal does at best); :class:`MarginalAgibotPolicy` draws each
action dimension from the data's marginals; :class:`GoalZeroedAct2Goal` is a trained model
with its goal image zeroed.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from goalframe.media.images import resize_frame_area
from goalframe.sim.agibot.whiteboard import FRAMES_PER_STROKE, IOU_THRESHOLD, ink_iou, simulate_whiteboard
from goalframe.training.data import quaternion_yaw
from goalframe.training.envs import agibot_observation, ee_vector_to_action
from goalframe.training.evaluate import Act2GoalAgent


def demo_vectors(actions: dict[str, np.ndarray]) -> np.ndarray:
    """(T, 10) float32 :data:`~goalframe.training.data.EE_ACTION` rows of a recording's actions."""
    return np.concatenate(
        [
            actions["action/end/position"].reshape(-1, 6),
            quaternion_yaw(actions["action/end/orientation"]),
            actions["action/effector/position"],
        ],
        axis=1,
    ).astype(np.float32)


@dataclass
class WhiteboardEnv:
    strokes: tuple[int, int] = (1, 2)
    size: int = 64
    frames_per_stroke: int = FRAMES_PER_STROKE
    threshold: float = IOU_THRESHOLD
    step_factor: float = 1.5
    camera: str = "head_color"
    stroke_set: str = "free"

    def reset(self, seed: int) -> dict[str, Any]:
        low, high = self.strokes
        rng = np.random.default_rng([int(seed), 7717, low, high])
        self.k = int(rng.integers(low, high + 1))
        self.world_seed = int(rng.integers(2**31))
        record = simulate_whiteboard(self.world_seed, self.k, self.frames_per_stroke, self.stroke_set)
        self.seed, self.record = int(seed), record
        self.goal_ink = record.scenario["goal_ink"]
        self.world = record.make_world()
        finished = record.states[-1].copy()
        finished.ink = self.goal_ink.copy()
        self.world.set_state(finished)
        goal_rgb, _ = self.world.render(self.camera)
        self.goal_image = resize_frame_area(goal_rgb, self.size)
        self.world = record.make_world()
        self.demo_actions = demo_vectors(record.actions)
        self.max_steps = int(math.ceil(self.step_factor * record.n_frames))
        self.steps, self.success, self.iou = 0, False, 0.0
        return self.observe()

    def observe(self) -> dict[str, Any]:
        return agibot_observation(self.world, self.camera, self.size, self.goal_image)

    def step(self, action: np.ndarray) -> tuple[dict[str, Any], bool, dict[str, Any]]:
        if self.success or self.steps >= self.max_steps:
            raise RuntimeError("episode over: call reset(seed)")
        self.world.step(ee_vector_to_action(action))
        self.steps += 1
        self.iou = ink_iou(self.world.state.ink, self.goal_ink)
        self.success = self.iou >= self.threshold
        done = self.success or self.steps >= self.max_steps
        return self.observe(), done, {"success": self.success, "steps": self.steps, "iou": self.iou}


class WhiteboardOracle:
    """Replays the scripted player's actions from the same start (draws the goal by construction)."""

    def __init__(self, env: WhiteboardEnv):
        self.env = env

    def reset(self, observation: dict[str, Any]) -> None:
        self.actions = self.env.demo_actions

    def act(self, observation: dict[str, Any]) -> np.ndarray:
        return self.actions[min(self.env.steps, len(self.actions) - 1)]


class OtherGoalScript(WhiteboardOracle):
    """Replays the scripted player of another seed's strokes (same band): the wrong drawing."""

    def reset(self, observation: dict[str, Any]) -> None:
        other = WhiteboardEnv(
            self.env.strokes, 16, self.env.frames_per_stroke, stroke_set=self.env.stroke_set
        )
        other.reset(self.env.seed + 7919)
        self.actions = other.demo_actions


class MarginalAgibotPolicy:
    """Each action dimension drawn from its marginal over ``rows`` (N, 10), held ``hold`` steps."""

    def __init__(self, rows: np.ndarray, seed: int = 0, hold: int = 8):
        self.rows = np.asarray(rows, np.float32)
        self.rng = np.random.default_rng(seed)
        self.hold = hold

    def reset(self, observation: dict[str, Any]) -> None:
        self.current, self.t = None, 0

    def act(self, observation: dict[str, Any]) -> np.ndarray:
        if self.current is None or self.t % self.hold == 0:
            picks = self.rng.integers(len(self.rows), size=self.rows.shape[1])
            self.current = self.rows[picks, np.arange(self.rows.shape[1])].copy()
        self.t += 1
        return self.current


class GoalZeroedAct2Goal(Act2GoalAgent):
    """A trained Act2Goal model whose goal image is replaced by zeros (goal-blind)."""

    def reset(self, observation: dict[str, Any]) -> None:
        super().reset(observation)
        self.goal = torch.zeros_like(self.goal)
