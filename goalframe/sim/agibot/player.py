"""The scripted AgiBot episode: pick-and-place phases driven through the world, recorded per frame."""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from goalframe.sim.agibot.constants import (
    ARM_SIDE_Y,
    ARMS,
    CLOSE_EXTRA_FRAMES,
    FRAMES_PER_OBJECT,
    GRASP_MIN_HALF_HEIGHT,
    HOME,
    HOVER_ABOVE_GRASP,
    JOINT_CURRENT_NOISE,
    LEAD_FRAMES,
    LIFT_ABOVE_GRASP,
    MIN_FRAMES_PER_OBJECT,
    OBJECT_GAP,
    PHASES,
    PLACE_CLEARANCE,
    PLACE_Y,
    RETREAT_RISE,
    SETTLE_MAX_FRAMES,
    SETTLE_TOLERANCE,
    SIDE_OF_TABLE_Y,
    TABLE_Z,
    TCP_DEPTH,
    WAIST,
)
from goalframe.sim.agibot.kinematics import (
    flange_of_palm,
    gripper_quaternion,
    joint_positions,
)
from goalframe.sim.agibot.state import WorldState
from goalframe.sim.agibot.world import AgibotAction, AgibotWorld


@dataclass
class EpisodeRecording:
    """One scripted episode, simulated but not yet written."""

    world_seed: int
    n_objects: int
    states: list[WorldState]
    proprio: dict[str, np.ndarray]  # state/<path> -> (T, ...)
    actions: dict[str, np.ndarray]  # action/<path> -> (T, ...), before any subsetting
    events: list[dict[str, Any]]
    segments: list[dict[str, Any]]
    objects: list[dict[str, Any]]
    head: np.ndarray
    # a scenario's episode (whiteboard): its world (rendered by the recorder) and truth
    make_world: Callable[[], AgibotWorld] | None = None
    scenario: dict[str, Any] | None = None

    @property
    def n_frames(self) -> int:
        return len(self.states)


def _min_jerk(s: np.ndarray) -> np.ndarray:
    return 10 * s**3 - 15 * s**4 + 6 * s**5


def _where(y: float) -> str:
    if y > SIDE_OF_TABLE_Y:
        return "on the left side of the table"
    if y < -SIDE_OF_TABLE_Y:
        return "on the right side of the table"
    return "in the middle of the table"


def recorded_arrays(
    world_seed: int,
    prop: list[dict[str, np.ndarray]],
    act_rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]],
    head: np.ndarray,
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The h5's state and action arrays from per-frame readings and (palm, yaw, grip) commands."""
    n = len(prop)
    proprio = {f"state/{k}": np.stack([p[k] for p in prop]) for k in prop[0]}
    jitter = np.random.default_rng([world_seed, 11]).normal(0, JOINT_CURRENT_NOISE, size=(n, 14))
    proprio["state/joint/current_value"] = proprio["state/joint/position"] + jitter
    pos = np.stack([r[0] for r in act_rows])
    yaw = np.stack([r[1] for r in act_rows])
    grip = np.stack([r[2] for r in act_rows])
    actions = {
        "action/joint/position": np.stack([joint_positions(p, y) for p, y in zip(pos, yaw)]),
        "action/effector/position": grip.astype(np.float64),
        "action/end/position": flange_of_palm(pos),
        "action/end/orientation": np.stack([[gripper_quaternion(float(v)) for v in row] for row in yaw]),
        "action/head/position": np.repeat(head[None], n, 0),
        "action/waist/position": np.repeat(WAIST[None], n, 0),
        "action/robot/velocity": np.zeros((n, 2)),
    }
    return proprio, actions


def simulate_episode(
    world_seed: int, n_objects: int, frames_per_object: int = FRAMES_PER_OBJECT
) -> EpisodeRecording:
    """Script and step one pick-and-place episode (no files); deterministic in its arguments."""
    if frames_per_object < MIN_FRAMES_PER_OBJECT:
        raise ValueError(f"frames_per_object must be >= {MIN_FRAMES_PER_OBJECT}, got {frames_per_object}")
    rng = np.random.default_rng([world_seed, 7])
    world = AgibotWorld()
    world.reset(world_seed, n_objects)
    lengths = {name: max(minimum, round(frac * frames_per_object)) for name, frac, minimum in PHASES}

    states: list[WorldState] = [world.get_state()]
    prop: list[dict[str, np.ndarray]] = [world.proprio()]
    act_rows: list[tuple[np.ndarray, np.ndarray, np.ndarray]] = []
    events: list[dict[str, Any]] = []
    segments: list[dict[str, Any]] = []
    cmd_pos = world.state.ee.copy()
    cmd_yaw = world.state.yaw.copy()
    cmd_grip = np.zeros(2)

    def advance(pos: np.ndarray, yaw: np.ndarray, grip: np.ndarray) -> None:
        act_rows.append((pos.copy(), yaw.copy(), grip.copy()))
        for ev in world.step(AgibotAction(flange_of_palm(pos), grip, yaw)):
            obj = world.object(ev.object_id)
            events.append(
                {
                    "kind": ev.kind,
                    "arm": ev.arm,
                    "frame": ev.frame,
                    "object_id": ev.object_id,
                    "object_type": obj.name,
                }
            )
        states.append(world.get_state())
        prop.append(world.proprio())

    def move(
        arm: int, goal: np.ndarray, n: int, yaw_goal: float | None = None, other_home: bool = False
    ) -> None:
        nonlocal cmd_pos, cmd_yaw
        start, yaw0 = cmd_pos.copy(), cmd_yaw.copy()
        for k in range(1, n + 1):
            s = _min_jerk(np.array(k / n))
            pos = cmd_pos.copy()
            pos[arm] = start[arm] + (goal - start[arm]) * s
            yaw = cmd_yaw.copy()
            if yaw_goal is not None:
                yaw[arm] = yaw0[arm] + math.remainder(yaw_goal - yaw0[arm], 2 * math.pi) * s
            if other_home:
                pos[1 - arm] = start[1 - arm] + (HOME[1 - arm] - start[1 - arm]) * s
            advance(pos, yaw, cmd_grip)
        cmd_pos[arm] = goal
        if other_home:
            cmd_pos[1 - arm] = HOME[1 - arm]
        if yaw_goal is not None:
            cmd_yaw[arm] = yaw_goal

    def settle(arm: int, limit: int = SETTLE_MAX_FRAMES) -> None:
        for _ in range(limit):
            if np.linalg.norm(world.state.ee[arm] - cmd_pos[arm]) < SETTLE_TOLERANCE:
                return
            advance(cmd_pos, cmd_yaw, cmd_grip)

    for _ in range(LEAD_FRAMES - 1):
        advance(cmd_pos, cmd_yaw, cmd_grip)

    order = rng.permutation(n_objects) + 1
    for oid in order:
        obj = world.object(int(oid))
        seq_start = len(states) - 1 if segments else 0
        y = float(obj.position[1])
        arm = 0 if y > ARM_SIDE_Y else 1 if y < -ARM_SIDE_Y else int(rng.integers(2))
        grasp_yaw = obj.yaw if obj.shape == "box" else float(cmd_yaw[arm])
        xy = obj.position[:2].copy()
        grasp_z = TABLE_Z + max(obj.height / 2, GRASP_MIN_HALF_HEIGHT) + TCP_DEPTH
        hover_z = grasp_z + HOVER_ABOVE_GRASP
        lift_z = grasp_z + LIFT_ABOVE_GRASP

        move(arm, np.array([*xy, hover_z]), lengths["approach"], grasp_yaw, other_home=True)
        move(arm, np.array([*xy, grasp_z]), lengths["descend"])
        settle(arm)
        cmd_grip[arm] = 1.0
        for k in range(lengths["close"] + CLOSE_EXTRA_FRAMES):
            advance(cmd_pos, cmd_yaw, cmd_grip)
            if world.state.held[arm] == obj.id and k + 1 >= lengths["close"]:
                break
        if world.state.held[arm] != obj.id:
            raise RuntimeError(f"scripted grasp of object {obj.id} failed (world seed {world_seed})")
        offset = world.state.hold_offset[arm].copy()
        move(arm, np.array([*xy, lift_z]), lengths["lift"])
        pick_end = len(states) - 1
        taken = [o.position[:2] for o in world.objects if o.id != obj.id]
        place_xy = world.free_spot(rng, [*taken, xy], OBJECT_GAP, PLACE_Y[arm])
        move(arm, np.array([*place_xy, lift_z]), lengths["move"])
        place_z = TABLE_Z + obj.height / 2 + PLACE_CLEARANCE - offset[2]
        move(arm, np.array([*place_xy, place_z]), lengths["lower"])
        settle(arm)
        cmd_grip[arm] = 0.0
        for _ in range(lengths["open"]):
            advance(cmd_pos, cmd_yaw, cmd_grip)
        move(arm, np.array([*place_xy, place_z + RETREAT_RISE]), lengths["retreat"])
        end = len(states) - 1
        side = ARMS[arm]
        segments.append(
            {
                "start_frame": seq_start,
                "end_frame": pick_end,
                "action_text": f"Pick up the {obj.name} with the {side} gripper.",
                "skill": "Pick",
                "arm": side,
                "object_id": obj.id,
            }
        )
        segments.append(
            {
                "start_frame": pick_end,
                "end_frame": end,
                "action_text": f"Place the {obj.name} {_where(float(place_xy[1]))}.",
                "skill": "Place",
                "arm": side,
                "object_id": obj.id,
            }
        )
    # the last frame's action row: hold
    act_rows.append((cmd_pos.copy(), cmd_yaw.copy(), cmd_grip.copy()))
    n = len(states)
    segments[-1]["end_frame"] = n

    proprio, actions = recorded_arrays(world_seed, prop, act_rows, world.head)
    objects = []
    for o, st0 in zip(world.objects, states[0].positions):
        rec = o.to_json()
        rec["initial_position"] = [round(float(v), 4) for v in st0]
        rec["final_position"] = [round(float(v), 4) for v in o.position]
        objects.append(rec)
    return EpisodeRecording(
        world_seed, n_objects, states, proprio, actions, events, segments, objects, world.head.copy()
    )
