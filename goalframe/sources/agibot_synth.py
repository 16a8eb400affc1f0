"""Synthetic AgiBot World recordings in the real release layout, plus ground truth.

:func:`synthesize_agibot` scripts pick-and-place episodes in :class:`AgibotWorld` (one to
five objects, either arm: approach, descend, grasp, lift, move, lower, release, retreat)
and writes, under ``out``::

    task_info/task_{task_id}.json                                  one record per episode
    observations/{task_id}/{episode_id}/videos/{camera}.mp4        h264, 30 fps, 480x640
    observations/{task_id}/{episode_id}/depth/head_depth_{frame:06d}.png   uint16 mm
    parameters/{task_id}/{episode_id}/parameters/camera/{prefix}_intrinsic_params.json   (or .../camera/)
    parameters/{task_id}/{episode_id}/parameters/camera/{prefix}_extrinsic_params_aligned.json
    parameters/{task_id}/{episode_id}/parameters/camera/{prefix}_extrinsic_params.json
    proprio_stats/{task_id}/{episode_id}/proprio_stats.h5
    truth/{task_id}_{episode_id}.npz    masks_<camera> (T, 480, 640) uint16 object ids
    truth/{task_id}_{episode_id}.json   objects, id labels, grasp/release events, segments

Frame ``t`` of every stream is the world state after ``t`` steps; the action row at frame
``t`` is the command issued at ``t`` (it moves the robot toward frame ``t + 1``). Segment
``end_frame`` is exclusive (LeRobot tags frames in ``[start_frame, end_frame)``); the
last segment ends at ``T``. A grasp or release event's ``frame`` is the first frame whose
state shows the object attached or let go.

Episode ``i`` of a run depends only on ``(seed, i)``. The files follow the real layouts
(``reference/raw-formats.md``), messy parts included, one variant per episode as
:func:`episode_layout` says: action rows for every frame with SHORTER joint/end indexes
(the frames the operator was sending), or the rarer short actions with an empty
``action/end/index``; joint/end actions that copy the state (Beta); camera files named by
the camera prefix (``head_intrinsic_params.json``) in either parameter folder, with
per-frame, single-frame or only unaligned extrinsics; intrinsics with fx != fy; a
dexterous-hand episode (twelve joint angles, hand videos named ``hand_*_fisheye_color``,
rendered with the pinhole model). ``state/end/*`` and ``action/end/*`` are the FLANGE pose,
:data:`~goalframe.sources.agibot_world.FLANGE_TO_GRASP` above the grasp point.
"""

from __future__ import annotations

import json
import math
import time
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import h5py
import numpy as np

from goalframe.sources.agibot_world import (
    ARMS,
    CAMERAS,
    FPS,
    GRIPPER_IDS,
    HEIGHT,
    HOME,
    LABELS,
    TABLE_Z,
    FLANGE_TO_GRASP,
    OPEN_MM,
    TCP_DEPTH,
    WAIST,
    WIDTH,
    AgibotAction,
    AgibotWorld,
    WorldState,
    flange_of_palm,
    gripper_quaternion,
    joint_positions,
)
from goalframe.sources.agibot import camera_prefix
from goalframe.media.video import write_mp4

FIRST_TASK_ID = 351
FIRST_EPISODE_ID = 648642
EPISODES_PER_TASK = 4
TIMESTAMP_BASE_NS = 1_725_000_000_000_000_000
# fractions of frames_per_object spent in each phase, and each phase's minimum length
PHASES = (
    ("approach", 0.20, 6),
    ("descend", 0.13, 4),
    ("close", 0.09, 4),
    ("lift", 0.12, 4),
    ("move", 0.18, 5),
    ("lower", 0.12, 4),
    ("open", 0.06, 3),
    ("retreat", 0.10, 3),
)
MIN_FRAMES_PER_OBJECT = 36
# 14 s per pick-and-place: a pick and a place segment of about 7 s each, as real AgiBot
# segments last seconds (the card's example spans frames 8-218), so MSTH's horizons fit.
FRAMES_PER_OBJECT = 420
LEAD_FRAMES = 3


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

    @property
    def n_frames(self) -> int:
        return len(self.states)


def _min_jerk(s: np.ndarray) -> np.ndarray:
    return 10 * s**3 - 15 * s**4 + 6 * s**5


def _where(y: float) -> str:
    if y > 0.08:
        return "on the left side of the table"
    if y < -0.08:
        return "on the right side of the table"
    return "in the middle of the table"


def simulate_episode(world_seed: int, n_objects: int, frames_per_object: int = FRAMES_PER_OBJECT) -> EpisodeRecording:
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

    def settle(arm: int, limit: int = 12) -> None:
        for _ in range(limit):
            if np.linalg.norm(world.state.ee[arm] - cmd_pos[arm]) < 0.003:
                return
            advance(cmd_pos, cmd_yaw, cmd_grip)

    for _ in range(LEAD_FRAMES - 1):
        advance(cmd_pos, cmd_yaw, cmd_grip)

    order = rng.permutation(n_objects) + 1
    for oid in order:
        obj = world.object(int(oid))
        seq_start = len(states) - 1 if segments else 0
        y = float(obj.position[1])
        arm = 0 if y > 0.05 else 1 if y < -0.05 else int(rng.integers(2))
        grasp_yaw = obj.yaw if obj.shape == "box" else float(cmd_yaw[arm])
        xy = obj.position[:2].copy()
        grasp_z = TABLE_Z + max(obj.height / 2, 0.03) + TCP_DEPTH
        hover_z = grasp_z + 0.10
        lift_z = grasp_z + 0.12

        move(arm, np.array([*xy, hover_z]), lengths["approach"], grasp_yaw, other_home=True)
        move(arm, np.array([*xy, grasp_z]), lengths["descend"])
        settle(arm)
        cmd_grip[arm] = 1.0
        for k in range(lengths["close"] + 12):
            advance(cmd_pos, cmd_yaw, cmd_grip)
            if world.state.held[arm] == obj.id and k + 1 >= lengths["close"]:
                break
        if world.state.held[arm] != obj.id:
            raise RuntimeError(f"scripted grasp of object {obj.id} failed (world seed {world_seed})")
        offset = world.state.hold_offset[arm].copy()
        move(arm, np.array([*xy, lift_z]), lengths["lift"])
        pick_end = len(states) - 1
        taken = [o.position[:2] for o in world.objects if o.id != obj.id]
        y_range = (-0.05, 0.30) if arm == 0 else (-0.30, 0.05)
        place_xy = world.free_spot(rng, [*taken, xy], 0.12, y_range)
        move(arm, np.array([*place_xy, lift_z]), lengths["move"])
        place_z = TABLE_Z + obj.height / 2 + 0.004 - offset[2]
        move(arm, np.array([*place_xy, place_z]), lengths["lower"])
        settle(arm)
        cmd_grip[arm] = 0.0
        for _ in range(lengths["open"]):
            advance(cmd_pos, cmd_yaw, cmd_grip)
        move(arm, np.array([*place_xy, place_z + 0.10]), lengths["retreat"])
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

    proprio = {f"state/{k}": np.stack([p[k] for p in prop]) for k in prop[0]}
    jitter = np.random.default_rng([world_seed, 11]).normal(0, 0.002, size=(n, 14))
    proprio["state/joint/current_value"] = proprio["state/joint/position"] + jitter
    pos = np.stack([r[0] for r in act_rows])
    yaw = np.stack([r[1] for r in act_rows])
    grip = np.stack([r[2] for r in act_rows])
    actions = {
        "action/joint/position": np.stack([joint_positions(p, y) for p, y in zip(pos, yaw)]),
        "action/effector/position": grip.astype(np.float64),
        "action/end/position": flange_of_palm(pos),
        "action/end/orientation": np.stack([[gripper_quaternion(float(v)) for v in row] for row in yaw]),
        "action/head/position": np.repeat(world.head[None], n, 0),
        "action/waist/position": np.repeat(WAIST[None], n, 0),
        "action/robot/velocity": np.zeros((n, 2)),
    }
    objects = []
    for o, st0 in zip(world.objects, states[0].positions):
        rec = o.to_json()
        rec["initial_position"] = [round(float(v), 4) for v in st0]
        rec["final_position"] = [round(float(v), 4) for v in o.position]
        objects.append(rec)
    return EpisodeRecording(
        world_seed, n_objects, states, proprio, actions, events, segments, objects, world.head.copy()
    )


@dataclass(frozen=True)
class EpisodeLayout:
    """How one generated episode is written: the variants real releases hold (raw-formats.md)."""

    actions: str = "commanded"  # a row per frame and shorter joint/end indexes; "sparse": rows at every 2nd frame only
    copies_state: bool = False  # joint and end actions are the state, row for row (Beta)
    camera_folder: tuple[str, ...] = ("parameters", "camera")  # or ("camera",)
    extrinsics: str = "aligned"  # one pose per frame; "single": the aligned file holds frame 0 only; "unaligned": only the one-pose file
    effector: str = "gripper"  # or "dexhand": twelve joint angles instead of two openings

    def to_json(self) -> dict[str, Any]:
        return {
            "actions": self.actions,
            "copies_state": self.copies_state,
            "camera_folder": "/".join(self.camera_folder),
            "extrinsics": self.extrinsics,
            "effector": self.effector,
        }


FIXED_LAYOUTS = (
    EpisodeLayout(),
    EpisodeLayout(actions="sparse"),
    EpisodeLayout(copies_state=True, camera_folder=("camera",), extrinsics="single"),
    EpisodeLayout(camera_folder=("camera",), extrinsics="unaligned"),
    EpisodeLayout(effector="dexhand"),
)


def episode_layout(i: int, rng: np.random.Generator, dexhand: bool = True) -> EpisodeLayout:
    """Episode ``i``'s layout: the first five cover every variant once, later ones are drawn."""
    if i < len(FIXED_LAYOUTS) and (dexhand or FIXED_LAYOUTS[i].effector == "gripper"):
        return FIXED_LAYOUTS[i]
    return EpisodeLayout(
        actions="sparse" if rng.random() < 0.15 else "commanded",
        copies_state=bool(rng.random() < 0.3),
        camera_folder=("camera",) if rng.random() < 0.25 else ("parameters", "camera"),
        extrinsics=str(rng.choice(["aligned", "single", "unaligned"], p=[0.7, 0.2, 0.1])),
    )


def commanded_frames(n: int, rng: np.random.Generator) -> np.ndarray:
    """Frames where the operator was sending joint/end commands: not the first and last moments, nor one pause."""
    sending = np.ones(n, bool)
    sending[: int(rng.integers(2, 6))] = False
    sending[n - int(rng.integers(3, 10)) :] = False
    gap = max(2, n // 25)
    start = int(rng.integers(n // 4, max(n // 4 + 1, 3 * n // 4 - gap)))
    sending[start : start + gap] = False
    return np.flatnonzero(sending).astype(np.int64)


DEXHAND_MAX_RAD = np.array([1.4, 1.5, 1.5, 1.5, 1.5, 1.1])  # per finger joint, fully closed


def dexhand_angles(closure: np.ndarray) -> np.ndarray:
    """(T, 12) joint angles of two hands from (T, 2) closure in 0..1 (0 open)."""
    closure = np.clip(np.asarray(closure, np.float64), 0.0, 1.0)
    return np.concatenate([closure[:, :1] * DEXHAND_MAX_RAD, closure[:, 1:] * DEXHAND_MAX_RAD], axis=1)


def _recorded(rec: EpisodeRecording, layout: EpisodeLayout) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The state and action arrays as the h5 holds them for ``layout`` (full length)."""
    state, action = dict(rec.proprio), dict(rec.actions)
    if layout.copies_state:
        for key in ("joint/position", "end/position", "end/orientation"):
            action[f"action/{key}"] = state[f"state/{key}"].copy()
    if layout.effector == "dexhand":
        state["state/effector/position"] = dexhand_angles(1.0 - state["state/effector/position"] / OPEN_MM)
        action["action/effector/position"] = dexhand_angles(action["action/effector/position"])
    return state, action


def _write_h5(path: Path, rec: EpisodeRecording, layout: EpisodeLayout, timestamps: np.ndarray, rng: np.random.Generator) -> dict[str, Any]:
    """Write proprio_stats.h5; returns what the action rows and indexes are."""
    path.parent.mkdir(parents=True, exist_ok=True)
    n = rec.n_frames
    state, action = _recorded(rec, layout)
    empty = np.zeros((0,), np.float32)
    every = np.arange(n, dtype=np.int64)
    if layout.actions == "sparse":
        rows = indexes = {g: every[::2] for g in ("joint", "effector", "end", "head", "waist", "robot")}
        indexes = {**indexes, "end": np.zeros((0,), np.int64)}  # the known quirk: use the joint index
    else:
        rows = {g: every for g in ("joint", "effector", "end", "head", "waist", "robot")}
        sending = commanded_frames(n, rng)
        indexes = {**rows, "joint": sending, "end": sending}
    with h5py.File(path, "w") as h5:
        h5.create_dataset("timestamp", data=timestamps.astype(np.int64))
        for key in ("joint/position", "joint/current_value"):
            h5.create_dataset(f"state/{key}", data=state[f"state/{key}"].astype(np.float64))
        h5.create_dataset("state/joint/effort", data=empty)
        h5.create_dataset("state/joint/velocity", data=empty)
        for key in ("effector/position", "end/position", "end/orientation", "head/position", "waist/position"):
            h5.create_dataset(f"state/{key}", data=state[f"state/{key}"].astype(np.float64))
        for key in ("orientation", "orientation_drift", "position", "position_drift"):
            h5.create_dataset(f"state/robot/{key}", data=empty)
        for key, arr in action.items():
            group = key.split("/")[1]
            h5.create_dataset(key, data=arr[rows[group]].astype(np.float64))
        for group in sorted(indexes):
            h5.create_dataset(f"action/{group}/index", data=indexes[group])
    return {
        "mode": layout.actions,
        "rows": {g: int(len(r)) for g, r in rows.items()},
        "index": {g: int(len(i)) for g, i in indexes.items()},
        "commanded_frames": indexes["joint"].tolist() if layout.actions == "commanded" else None,
    }


def _camera_poses(world: AgibotWorld, states: list[WorldState], camera: str) -> list[dict[str, Any]]:
    out = []
    for st in states:
        world.set_state(st)
        rot, t = world.camera_pose(camera)
        out.append({"extrinsic": {"rotation_matrix": rot.tolist(), "translation_vector": t.tolist()}})
    return out


def video_name(camera: str, layout: EpisodeLayout) -> str:
    """The video stem a camera is written under: dexterous-hand episodes film the hands with fisheyes."""
    if layout.effector == "dexhand" and camera.startswith("hand_"):
        return camera.replace("_color", "_fisheye_color")
    return camera


def _write_camera_parameters(cam_dir: Path, world: AgibotWorld, rec: EpisodeRecording, layout: EpisodeLayout) -> None:
    """Files named by the camera prefix without ``_color`` (``head_intrinsic_params.json``...)."""
    for cam in CAMERAS:
        prefix = camera_prefix(video_name(cam, layout))
        (cam_dir / f"{prefix}_intrinsic_params.json").write_text(json.dumps({"intrinsic": world.intrinsics(cam)}))
        poses = _camera_poses(world, rec.states, cam)
        (cam_dir / f"{prefix}_extrinsic_params.json").write_text(json.dumps(poses[0]))
        if layout.extrinsics != "unaligned":
            aligned = poses if layout.extrinsics == "aligned" else poses[:1]
            (cam_dir / f"{prefix}_extrinsic_params_aligned.json").write_text(json.dumps(aligned))


def write_episode(
    out: Path, task_id: int, episode_id: int, rec: EpisodeRecording, layout: EpisodeLayout, mode_seed: int
) -> dict[str, Any]:
    """Write one simulated episode's files (not the task_info record: returned instead)."""
    n = rec.n_frames
    key = f"{task_id}_{episode_id}"
    obs = out / "observations" / str(task_id) / str(episode_id)
    cam_dir = out.joinpath("parameters", str(task_id), str(episode_id), *layout.camera_folder)
    h5_path = out / "proprio_stats" / str(task_id) / str(episode_id) / "proprio_stats.h5"
    truth = out / "truth"
    for d in (obs / "videos", obs / "depth", cam_dir, truth):
        d.mkdir(parents=True, exist_ok=True)

    timestamps = (
        TIMESTAMP_BASE_NS
        + episode_id * 1_000_000_000_000
        + np.rint(np.arange(n) * 1e9 / FPS).astype(np.int64)
    )
    actions = _write_h5(h5_path, rec, layout, timestamps, np.random.default_rng([mode_seed, 3]))

    world = AgibotWorld()
    world.reset(rec.world_seed, rec.n_objects)
    _write_camera_parameters(cam_dir, world, rec, layout)

    depth_frames = sorted({0, n // 2, n - 1})
    for t in depth_frames:
        world.set_state(rec.states[t])
        cv2.imwrite(str(obs / "depth" / f"head_depth_{t:06d}.png"), world.render_depth("head_color"))

    header = {
        "descr": np.lib.format.dtype_to_descr(np.dtype(np.uint16)),
        "fortran_order": False,
        "shape": (n, HEIGHT, WIDTH),
    }
    videos = [video_name(cam, layout) for cam in CAMERAS]
    with zipfile.ZipFile(truth / f"{key}.npz", "w", zipfile.ZIP_DEFLATED, compresslevel=1) as zf:
        for cam, video in zip(CAMERAS, videos):
            with zf.open(f"masks_{video}.npy", "w", force_zip64=True) as fh:
                np.lib.format.write_array_header_1_0(fh, header)

                def frames(cam: str = cam, fh=fh):
                    for st in rec.states:
                        world.set_state(st)
                        rgb, ids = world.render(cam)
                        fh.write(np.ascontiguousarray(ids, np.uint16).tobytes())
                        yield rgb

                written = write_mp4(obs / "videos" / f"{video}.mp4", frames(), fps=FPS, crf=20)
                assert written == n

    truth_rec = {
        "task_id": task_id,
        "episode_id": episode_id,
        "key": key,
        "n_frames": n,
        "fps": FPS,
        "world": {"seed": rec.world_seed, "n_objects": rec.n_objects, "head": rec.head.tolist()},
        "objects": rec.objects,
        "labels": {str(k): v for k, v in LABELS.items()},
        "gripper_ids": {"left": GRIPPER_IDS[0], "right": GRIPPER_IDS[1]},
        "events": rec.events,
        "segments": rec.segments,
        "segment_end": "exclusive",
        "layout": layout.to_json(),
        "actions": actions,
        "end_pose": "flange",
        "flange_to_grasp_m": FLANGE_TO_GRASP,
        "depth_frames": depth_frames,
        "cameras": videos,
        "camera_poses": {video: _camera_poses(world, rec.states[:1], cam)[0] for cam, video in zip(CAMERAS, videos)},
    }
    (truth / f"{key}.json").write_text(json.dumps(truth_rec, indent=1))
    names = [o["type"] for o in rec.objects]
    scene = ", ".join(f"a {t}" for t in names)
    return {
        "episode_id": episode_id,
        "task_name": "Tidy up the table",
        "init_scene_text": f"The robot stands in front of a table with {scene} on it.",
        "label_info": {
            "action_config": [
                {k: s[k] for k in ("start_frame", "end_frame", "action_text", "skill")} for s in rec.segments
            ]
        },
    }


def episode_ids(episodes: int) -> list[tuple[int, int]]:
    """(task_id, episode_id) of each episode of a run."""
    return [(FIRST_TASK_ID + i // EPISODES_PER_TASK, FIRST_EPISODE_ID + 17 * i) for i in range(episodes)]


def truth_paths(out: Path, task_id: int, episode_id: int) -> tuple[Path, Path]:
    """The truth ``.npz`` (masks) and ``.json`` of one episode."""
    key = f"{task_id}_{episode_id}"
    return Path(out) / "truth" / f"{key}.npz", Path(out) / "truth" / f"{key}.json"


def synthesize_agibot(
    out: Path,
    episodes: int,
    seed: int,
    frames_per_object: int = FRAMES_PER_OBJECT,
    progress: Callable[[int], None] | None = None,
    n_objects: int | None = None,
    stats: dict[str, Any] | None = None,
    dexhand: bool = True,
) -> list[Path]:
    """Write ``episodes`` synthetic AgiBot episodes under ``out``; returns their observation dirs.

    ``n_objects`` fixes the number of objects picked and placed per episode (default: 1 to
    5, drawn per episode). Episode layouts follow :func:`episode_layout`: the first five
    episodes of a run are, in order, the usual Beta layout (a row per frame, shorter
    joint/end indexes), the rarer short actions with an empty end index, actions copying the
    state with single-frame extrinsics in the ``camera/`` folder, unaligned extrinsics only,
    and a dexterous-hand episode (``dexhand=False`` leaves it out, for the gripper-only
    trainers). ``progress`` is called after each episode with the number of
    frames it added. ``stats``, when given, receives ``frames`` and ``seconds`` (the
    generation rate is ``frames / seconds`` frames per second, all three cameras).
    """
    out = Path(out)
    if episodes < 1:
        raise ValueError("episodes must be >= 1")
    out.mkdir(parents=True, exist_ok=True)
    records: dict[int, list[dict[str, Any]]] = {}
    paths: list[Path] = []
    started = time.perf_counter()
    total = 0
    for i, (task_id, episode_id) in enumerate(episode_ids(episodes)):
        ss = np.random.SeedSequence([seed, i])
        world_seed = int(ss.generate_state(1)[0])
        rng = np.random.default_rng(ss)
        count = n_objects if n_objects is not None else int(rng.integers(1, 6))
        rec = simulate_episode(world_seed, count, frames_per_object)
        layout = episode_layout(i, rng, dexhand)
        records.setdefault(task_id, []).append(write_episode(out, task_id, episode_id, rec, layout, world_seed))
        paths.append(out / "observations" / str(task_id) / str(episode_id))
        total += rec.n_frames
        if progress is not None:
            progress(rec.n_frames)
    info = out / "task_info"
    info.mkdir(parents=True, exist_ok=True)
    for task_id, recs in records.items():
        (info / f"task_{task_id}.json").write_text(json.dumps(recs, indent=1))
    if stats is not None:
        stats["frames"] = total
        stats["seconds"] = time.perf_counter() - started
    return paths
