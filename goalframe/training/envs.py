"""Closed-loop environments over the generated worlds: seeded resets, steps from policy actions.

:class:`VptReachEnv` (ROCKET-2)
    A :class:`~goalframe.sim.vpt.world.VptWorld` with one target block (the bottom log of
    a tree, or a stone / ore block of a boulder). The goal is a cross-view goal: the image and
    the target's mask rendered from ANOTHER viewpoint (2.5 to 5 blocks from the target, at
    least 45 degrees around it from the start), as ROCKET-2's goals come from another view.
    The agent starts 4 to 7.5 blocks away, turned up to 15 degrees off the target
    (``start_offset`` makes it harder: the recorded players rarely turn toward an off-centre
    target, see the README). Success:
    the agent attacks while the target is under its crosshair within reach (the first hit
    of an interaction with it) within ``max_steps`` steps (VPT ticks). Each episode also
    reports ``approach``: how much closer (blocks, horizontally) the agent got to the target
    than it started. Actions are VPT env
    actions: the 20 buttons as 0/1 and ``camera`` = [pitch, yaw] degrees.

:class:`AgibotArrangeEnv` (Act2Goal)
    An :class:`~goalframe.sim.agibot.world.AgibotWorld` with ``n_objects`` objects; the
    goal image is the head-camera view of the arrangement the scripted player of the
    generator reaches from the same start (``simulate_episode``: every object moved). Success:
    every object within ``tolerance`` metres (horizontally) of its goal position and none held,
    within ``step_factor`` times the scripted episode's length. Actions are end-effector
    vectors in :data:`~goalframe.training.data.EE_ACTION` order (absolute targets).

Both reset from an integer seed only (the same seed gives the same world, start and goal) and
return observations at ``size`` x ``size`` (uint8, channels first), resized with area
interpolation as the datasets resize recorded frames.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from goalframe.media.images import resize_frame_area, resize_mask_nearest
from goalframe.sim.vpt.blocks import BLOCK_CODE
from goalframe.sim.vpt.constants import GROUND_Y, REGION
from goalframe.sim.vpt.geometry import look_angles
from goalframe.sim.vpt.world import VptWorld
from goalframe.sources.vpt_actions import (
    BUTTONS,
    CAMERA_NULL_BIN,
    N_CAMERA_BINS,
    discretize_camera,
    undiscretize_camera,
)

MINE = 2  # ROCKET interaction id of "mine" (goalframe.schemas.tables.INTERACTION_IDS)


def env_action(buttons: np.ndarray, camera_bins: np.ndarray) -> dict[str, Any]:
    """VPT env action from 20 button flags and (pitch, yaw) camera bins."""
    action: dict[str, Any] = {name: int(bool(b)) for name, b in zip(BUTTONS, np.asarray(buttons).reshape(-1))}
    action["camera"] = undiscretize_camera(np.asarray(camera_bins, dtype=np.int64).reshape(2)).astype(
        np.float64
    )
    return action


# ---------------------------------------------------------------------------- VPT


@dataclass
class VptEpisode:
    seed: int
    world_seed: int
    target_id: int
    target_cell: tuple[int, int, int]
    target_type: str
    start: dict[str, float]
    goal_view: dict[str, float]
    goal_pixels: int


@dataclass
class VptReachEnv:
    size: int = 64
    max_steps: int = 60
    targets: tuple[str, ...] = ("oak_log", "stone", "coal_ore", "iron_ore")
    start_distance: tuple[float, float] = (4.0, 7.5)
    start_offset: tuple[float, float] = (0.0, 15.0)  # degrees of yaw off the target
    goal_distance: tuple[float, float] = (2.5, 5.0)
    goal_min_angle: float = 45.0
    min_goal_pixels: int = 150  # of 640 x 360
    world: VptWorld = field(default_factory=VptWorld, repr=False)

    interaction = MINE

    # -- setup -----------------------------------------------------------------
    def _free(self, x: int, z: int) -> bool:
        w = self.world
        i, k = x - w.origin[0], z - w.origin[1]
        if not (2 <= i < REGION - 2 and 2 <= k < REGION - 2):
            return False
        return all((x, y, z) not in w.blocks for y in (GROUND_Y, GROUND_Y + 1)) and int(w.gdepth[i, k]) == 0

    def _place(self, x: float, z: float, yaw: float, pitch: float) -> None:
        w = self.world
        w.x, w.y, w.z = float(x), float(GROUND_Y), float(z)
        w.yaw, w.pitch = float((yaw + 180.0) % 360.0 - 180.0), float(np.clip(pitch, -89.0, 89.0))
        w.vx = w.vy = w.vz = 0.0
        w.on_ground = True

    def _cells_around(
        self, centre: tuple[float, float], distance: tuple[float, float]
    ) -> list[tuple[int, int]]:
        cx, cz = centre
        r = int(math.ceil(distance[1]))
        out = []
        for dx in range(-r, r + 1):
            for dz in range(-r, r + 1):
                x, z = int(math.floor(cx)) + dx, int(math.floor(cz)) + dz
                d = math.hypot(x + 0.5 - cx, z + 0.5 - cz)
                if distance[0] <= d <= distance[1] and self._free(x, z):
                    out.append((x, z))
        return out

    def _pixels(self, target_id: int) -> tuple[np.ndarray, np.ndarray, int]:
        rgb, ids = self.world.render(cursor=False)
        mask = ids == target_id
        return rgb, mask, int(mask.sum())

    def _under_crosshair(self, target_id: int) -> bool:
        _rgb, ids = self.world.render(cursor=False)
        h, w = ids.shape
        return bool(ids[h // 2, w // 2] == target_id)

    def reset(self, seed: int) -> dict[str, np.ndarray]:
        rng = np.random.default_rng([int(seed), 1729])
        codes = {BLOCK_CODE[name] for name in self.targets}
        w = self.world
        for _attempt in range(40):
            world_seed = int(rng.integers(2**31))
            w.reset(world_seed)
            groups: dict[str, list] = {}
            for pos, (code, _oid) in w.blocks.items():
                if code in codes and pos[1] == GROUND_Y:
                    groups.setdefault("log" if code == BLOCK_CODE["oak_log"] else "rock", []).append(pos)
            if not groups:
                continue
            for _pick in range(6):
                candidates = sorted(
                    groups[sorted(groups)[int(rng.integers(len(groups)))]]
                )  # a kind first, then a block
                cell = candidates[int(rng.integers(len(candidates)))]
                centre = (cell[0] + 0.5, cell[2] + 0.5)
                point = np.array([cell[0] + 0.5, GROUND_Y + 0.5, cell[2] + 0.5])
                target_id = w.blocks[cell][1]
                starts = self._cells_around(centre, self.start_distance)
                if not starts:
                    continue
                sx, sz = starts[int(rng.integers(len(starts)))]
                self._place(sx + 0.5, sz + 0.5, 0.0, 0.0)
                yaw, pitch = look_angles(w.eye, point)
                self._place(sx + 0.5, sz + 0.5, yaw, pitch)
                if not self._under_crosshair(target_id):
                    continue  # hidden from the start cell
                start_azimuth = math.atan2(sz + 0.5 - centre[1], sx + 0.5 - centre[0])
                goals = [
                    (x, z)
                    for x, z in self._cells_around(centre, self.goal_distance)
                    if abs(
                        math.degrees(
                            math.remainder(
                                math.atan2(z + 0.5 - centre[1], x + 0.5 - centre[0]) - start_azimuth,
                                2 * math.pi,
                            )
                        )
                    )
                    >= self.goal_min_angle
                ]
                rng.shuffle(goals)
                for gx, gz in goals[:6]:
                    self._place(gx + 0.5, gz + 0.5, 0.0, 0.0)
                    gyaw, gpitch = look_angles(w.eye, point)
                    gyaw += float(rng.uniform(-4, 4))
                    gpitch += float(rng.uniform(-3, 3))
                    self._place(gx + 0.5, gz + 0.5, gyaw, gpitch)
                    goal_rgb, goal_mask, pixels = self._pixels(target_id)
                    if (
                        pixels < self.min_goal_pixels
                        or not goal_mask[goal_mask.shape[0] // 2, goal_mask.shape[1] // 2]
                    ):
                        continue
                    offset = float(rng.uniform(*self.start_offset)) * (1 if rng.random() < 0.5 else -1)
                    spitch = pitch + float(rng.uniform(-8, 8))
                    self._place(sx + 0.5, sz + 0.5, yaw + offset, spitch)
                    self.episode = VptEpisode(
                        seed=int(seed),
                        world_seed=world_seed,
                        target_id=int(target_id),
                        target_cell=tuple(int(v) for v in cell),
                        target_type=str(w.objects[target_id]["type"]),
                        start={"x": sx + 0.5, "z": sz + 0.5, "yaw": w.yaw, "pitch": w.pitch},
                        goal_view={"x": gx + 0.5, "z": gz + 0.5, "yaw": gyaw, "pitch": gpitch},
                        goal_pixels=pixels,
                    )
                    self.goal_image = resize_frame_area(goal_rgb, self.size)
                    self.goal_mask = resize_mask_nearest(goal_mask, self.size)[None]
                    self.goal_full = (goal_rgb, goal_mask)
                    self.steps, self.success = 0, False
                    self.start_gap = self.min_gap = self.gap()
                    return self.observe()
        raise RuntimeError(f"VptReachEnv: no usable target for seed {seed}")

    # -- stepping --------------------------------------------------------------
    def observe(self) -> dict[str, Any]:
        rgb, _ids = self.world.render(cursor=False)
        self.last_rgb = rgb
        return {
            "frame": resize_frame_area(rgb, self.size),
            "goal_image": self.goal_image,
            "goal_mask": self.goal_mask,
            "interaction": self.interaction,
        }

    def on_target(self) -> bool:
        target = self.world.target()
        return target is not None and target.object_id == self.episode.target_id

    def step(self, action: dict[str, Any]) -> tuple[dict[str, Any], bool, dict[str, Any]]:
        if self.success or self.steps >= self.max_steps:
            raise RuntimeError("episode over: call reset(seed)")
        if action.get("attack") and self.on_target():
            self.success = True
        self.world.step(action)
        self.steps += 1
        self.min_gap = min(self.min_gap, self.gap())
        done = self.success or self.steps >= self.max_steps
        info = {
            "success": self.success,
            "steps": self.steps,
            "angle": self.angle_to_target(),
            "approach": self.start_gap - self.min_gap,
        }
        return self.observe(), done, info

    def gap(self) -> float:
        """Horizontal distance (blocks) from the player to the target block's centre."""
        c = self.episode.target_cell
        return float(math.hypot(c[0] + 0.5 - self.world.x, c[2] + 0.5 - self.world.z))

    def angle_to_target(self) -> float:
        """Degrees between the view direction and the direction to the target's centre."""
        c = self.episode.target_cell
        yaw, pitch = look_angles(self.world.eye, np.array([c[0] + 0.5, c[1] + 0.5, c[2] + 0.5]))
        return float(math.hypot(math.remainder(yaw - self.world.yaw, 360.0), pitch - self.world.pitch))


class VptOracle:
    """A scripted expert with access to the world: turn to the target, walk within reach, attack."""

    def __init__(self, env: VptReachEnv):
        self.env = env

    def reset(self, observation: dict[str, Any]) -> None:
        pass

    def act(self, observation: dict[str, Any]) -> dict[str, Any]:
        env, w = self.env, self.env.world
        c = env.episode.target_cell
        point = np.array([c[0] + 0.5, c[1] + 0.5, c[2] + 0.5])
        yaw, pitch = look_angles(w.eye, point)
        dyaw, dpitch = math.remainder(yaw - w.yaw, 360.0), pitch - w.pitch
        camera = np.clip(np.array([dpitch, dyaw]) * 0.5, -10, 10)
        buttons = np.zeros(len(BUTTONS))
        distance = math.hypot(point[0] - w.x, point[2] - w.z)
        if env.on_target():
            buttons[BUTTONS.index("attack")] = 1
        elif distance > 2.0 and abs(dyaw) < 40:
            buttons[BUTTONS.index("forward")] = 1
        return env_action(buttons, discretize_camera(camera[None])[0])


class RandomVptPolicy:
    """Random actions: buttons Bernoulli(``button_p``) and camera bins drawn from ``camera_p``
    (both uniform by default; the trainer stores the training data's marginals for a stronger
    baseline). Seeded: the same seed gives the same action sequence."""

    def __init__(self, seed: int = 0, button_p: np.ndarray | None = None, camera_p: np.ndarray | None = None):
        self.rng = np.random.default_rng(seed)
        self.button_p = np.full(len(BUTTONS), 0.5) if button_p is None else np.asarray(button_p, float)
        self.camera_p = (
            np.full((2, N_CAMERA_BINS), 1.0 / N_CAMERA_BINS)
            if camera_p is None
            else np.asarray(camera_p, float)
        )

    def reset(self, observation: dict[str, Any]) -> None:
        pass

    def act(self, observation: dict[str, Any]) -> dict[str, Any]:
        buttons = self.rng.random(len(BUTTONS)) < self.button_p
        bins = [
            int(self.rng.choice(N_CAMERA_BINS, p=self.camera_p[i] / self.camera_p[i].sum())) for i in range(2)
        ]
        return env_action(buttons, np.array(bins))


# ---------------------------------------------------------------------------- AgiBot


def agibot_state_vector(world) -> np.ndarray:
    """The world's state in :data:`~goalframe.training.data.EE_ACTION` order (opening in mm / 100)."""
    from goalframe.sim.agibot.kinematics import flange_of_palm

    st = world.state
    return np.concatenate(
        [flange_of_palm(st.ee).reshape(6), st.yaw.reshape(2), st.opening.reshape(2) / 100.0]
    ).astype(np.float32)


def ee_vector_to_action(vector: np.ndarray):
    from goalframe.sim.agibot.world import AgibotAction

    v = np.asarray(vector, dtype=np.float64).reshape(-1)
    return AgibotAction(
        position=v[:6].reshape(2, 3), gripper=(v[8:10] >= 0.5).astype(float), yaw=v[6:8].copy()
    )


def agibot_observation(world, camera: str, size: int, goal_image: np.ndarray) -> dict[str, Any]:
    """What an Act2Goal policy sees in a tabletop world: the camera image, the goal image, the state."""
    rgb, _ids = world.render(camera)
    return {
        "image": resize_frame_area(rgb, size),
        "goal_image": goal_image,
        "state": agibot_state_vector(world),
    }


@dataclass
class AgibotArrangeEnv:
    n_objects: int = 1
    frames_per_object: int = 60
    size: int = 64
    camera: str = "head_color"
    tolerance: float = 0.04
    step_factor: float = 1.5

    def __post_init__(self):
        from goalframe.sim.agibot.world import AgibotWorld

        self.world = AgibotWorld()

    def reset(self, seed: int) -> dict[str, Any]:
        from goalframe.sim.agibot.player import simulate_episode
        from goalframe.training.data import quaternion_yaw

        rng = np.random.default_rng([int(seed), 31337, self.n_objects])
        for _attempt in range(20):
            world_seed = int(rng.integers(2**31))
            try:
                record = simulate_episode(world_seed, self.n_objects, self.frames_per_object)
            except RuntimeError:  # a scripted grasp failed: another world
                continue
            break
        else:
            raise RuntimeError(f"AgibotArrangeEnv: no world for seed {seed}")
        self.seed, self.world_seed, self.record = int(seed), world_seed, record
        goal = record.states[-1]
        self.world.reset(world_seed, self.n_objects)
        self.world.set_state(goal)
        goal_rgb, _ = self.world.render(self.camera)
        self.goal_image = resize_frame_area(goal_rgb, self.size)
        self.goal_positions = goal.positions.copy()
        self.world.reset(world_seed, self.n_objects)
        self.start_positions = self.world.state.positions.copy()
        actions = record.actions
        self.demo_actions = np.concatenate(
            [
                actions["action/end/position"].reshape(-1, 6),
                quaternion_yaw(actions["action/end/orientation"]),
                actions["action/effector/position"],
            ],
            axis=1,
        ).astype(np.float32)
        self.max_steps = int(math.ceil(self.step_factor * record.n_frames))
        self.steps, self.success = 0, False
        return self.observe()

    def observe(self) -> dict[str, Any]:
        return agibot_observation(self.world, self.camera, self.size, self.goal_image)

    def placed(self) -> np.ndarray:
        """(n,) bool: objects within tolerance of their goal position and not held."""
        st = self.world.state
        near = np.linalg.norm(st.positions[:, :2] - self.goal_positions[:, :2], axis=1) <= self.tolerance
        held = np.array([i + 1 in st.held for i in range(len(near))])
        return near & ~held

    def moved_to_goal(self) -> float:
        """Fraction of the start-to-goal distance covered, averaged over objects (can be < 0)."""
        st = self.world.state
        start = np.linalg.norm(self.start_positions[:, :2] - self.goal_positions[:, :2], axis=1)
        now = np.linalg.norm(st.positions[:, :2] - self.goal_positions[:, :2], axis=1)
        return float(np.mean(1.0 - now / np.maximum(start, 1e-6)))

    def step(self, action: np.ndarray) -> tuple[dict[str, Any], bool, dict[str, Any]]:
        if self.success or self.steps >= self.max_steps:
            raise RuntimeError("episode over: call reset(seed)")
        self.world.step(ee_vector_to_action(action))
        self.steps += 1
        placed = self.placed()
        self.success = bool(placed.all())
        done = self.success or self.steps >= self.max_steps
        return (
            self.observe(),
            done,
            {
                "success": self.success,
                "steps": self.steps,
                "placed": float(placed.mean()),
                "progress": self.moved_to_goal(),
            },
        )


class AgibotOracle:
    """Replays the scripted player's actions from the same start (reaches the goal by construction)."""

    def __init__(self, env: AgibotArrangeEnv):
        self.env = env

    def reset(self, observation: dict[str, Any]) -> None:
        pass

    def act(self, observation: dict[str, Any]) -> np.ndarray:
        actions = self.env.demo_actions
        return actions[min(self.env.steps, len(actions) - 1)]


class RandomAgibotPolicy:
    """Random end-effector targets in the workspace, random gripper commands, held ``hold`` steps."""

    def __init__(self, seed: int = 0, hold: int = 8):
        self.rng = np.random.default_rng(seed)
        self.hold = hold
        self.current: np.ndarray | None = None
        self.t = 0

    def reset(self, observation: dict[str, Any]) -> None:
        self.current, self.t = None, 0

    def act(self, observation: dict[str, Any]) -> np.ndarray:
        from goalframe.sim.agibot.constants import WORKSPACE_HI, WORKSPACE_LO
        from goalframe.sim.agibot.kinematics import flange_of_palm

        if self.current is None or self.t % self.hold == 0:
            position = flange_of_palm(self.rng.uniform(WORKSPACE_LO, WORKSPACE_HI, size=(2, 3))).reshape(6)
            yaw = self.rng.uniform(-0.8, 0.8, size=2)
            grip = (self.rng.random(2) < 0.5).astype(float)
            self.current = np.concatenate([position, yaw, grip]).astype(np.float32)
        self.t += 1
        return self.current


def run_episode(env, policy, seed: int) -> dict[str, Any]:
    """One closed-loop episode: reset ``env`` from ``seed``, step ``policy`` until done."""
    observation = env.reset(seed)
    policy.reset(observation)
    done, info = False, {"success": False, "steps": 0}
    trace = []
    while not done:
        observation, done, info = env.step(policy.act(observation))
        trace.append({k: v for k, v in info.items() if k in ("angle", "approach", "placed", "progress")})
    result = {"seed": int(seed), "success": bool(info["success"]), "steps": int(info["steps"])}
    if "outcome" in info:  # choose-target: which kind of candidate ended the episode
        result["outcome"] = info["outcome"]
    if trace and "angle" in trace[0]:
        result["min_angle"] = float(min(t["angle"] for t in trace))
        result["approach"] = float(
            trace[-1]["approach"]
        )  # blocks closer to the target than at the start, at best
    if trace and "placed" in trace[0]:
        result["placed"] = float(trace[-1]["placed"])
        result["progress"] = float(trace[-1]["progress"])
    return result


__all__ = [
    "VptReachEnv",
    "VptOracle",
    "RandomVptPolicy",
    "AgibotArrangeEnv",
    "AgibotOracle",
    "RandomAgibotPolicy",
    "run_episode",
    "env_action",
    "agibot_state_vector",
    "ee_vector_to_action",
    "CAMERA_NULL_BIN",
]
