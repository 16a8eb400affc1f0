"""Writing one AgiBot episode in the release layout: h5 proprio, videos, camera parameters."""

from __future__ import annotations

import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import h5py
import numpy as np

from goalframe.media.video import write_mp4
from goalframe.sim.agibot.constants import (
    CAMERA_FOLDER_ONLY_P,
    CAMERAS,
    COMMAND_PAUSE_PARTS,
    COMMAND_SILENT_END,
    COMMAND_SILENT_START,
    COPIES_STATE_P,
    DEXHAND_MAX_RAD,
    EPISODE_TIME_STEP_NS,
    EXTRINSICS_P,
    FLANGE_TO_GRASP,
    FPS,
    GRIPPER_IDS,
    HEIGHT,
    LABELS,
    OPEN_MM,
    SPARSE_ACTIONS_P,
    TIMESTAMP_BASE_NS,
    VIDEO_CRF,
    WIDTH,
)
from goalframe.sim.agibot.player import EpisodeRecording
from goalframe.sim.agibot.state import WorldState
from goalframe.sim.agibot.world import AgibotWorld
from goalframe.sources.agibot_cameras import camera_prefix


@dataclass(frozen=True)
class EpisodeLayout:
    """How one generated episode is written: the variants real releases hold (raw-formats.md)."""

    actions: str = (
        "commanded"  # a row per frame and shorter joint/end indexes; "sparse": rows at every 2nd frame only
    )
    copies_state: bool = False  # joint and end actions are the state, row for row (Beta)
    camera_folder: tuple[str, ...] = ("parameters", "camera")  # or ("camera",)
    extrinsics: str = (  # a pose a frame; "single": aligned file has frame 0; "unaligned": one-pose file only
        "aligned"
    )
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
        actions="sparse" if rng.random() < SPARSE_ACTIONS_P else "commanded",
        copies_state=bool(rng.random() < COPIES_STATE_P),
        camera_folder=("camera",) if rng.random() < CAMERA_FOLDER_ONLY_P else ("parameters", "camera"),
        extrinsics=str(rng.choice(list(EXTRINSICS_P), p=list(EXTRINSICS_P.values()))),
    )


def commanded_frames(n: int, rng: np.random.Generator) -> np.ndarray:
    """Frames where the operator sent joint/end commands: not the first and last moments, nor one pause."""
    sending = np.ones(n, bool)
    sending[: int(rng.integers(*COMMAND_SILENT_START))] = False
    sending[n - int(rng.integers(*COMMAND_SILENT_END)) :] = False
    gap = max(2, n // COMMAND_PAUSE_PARTS)
    start = int(rng.integers(n // 4, max(n // 4 + 1, 3 * n // 4 - gap)))
    sending[start : start + gap] = False
    return np.flatnonzero(sending).astype(np.int64)


def dexhand_angles(closure: np.ndarray) -> np.ndarray:
    """(T, 12) joint angles of two hands from (T, 2) closure in 0..1 (0 open)."""
    closure = np.clip(np.asarray(closure, np.float64), 0.0, 1.0)
    return np.concatenate([closure[:, :1] * DEXHAND_MAX_RAD, closure[:, 1:] * DEXHAND_MAX_RAD], axis=1)


def _recorded(
    rec: EpisodeRecording, layout: EpisodeLayout
) -> tuple[dict[str, np.ndarray], dict[str, np.ndarray]]:
    """The state and action arrays as the h5 holds them for ``layout`` (full length)."""
    state, action = dict(rec.proprio), dict(rec.actions)
    if layout.copies_state:
        for key in ("joint/position", "end/position", "end/orientation"):
            action[f"action/{key}"] = state[f"state/{key}"].copy()
    if layout.effector == "dexhand":
        state["state/effector/position"] = dexhand_angles(1.0 - state["state/effector/position"] / OPEN_MM)
        action["action/effector/position"] = dexhand_angles(action["action/effector/position"])
    return state, action


def _write_h5(
    path: Path, rec: EpisodeRecording, layout: EpisodeLayout, timestamps: np.ndarray, rng: np.random.Generator
) -> dict[str, Any]:
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
        for key in (
            "effector/position",
            "end/position",
            "end/orientation",
            "head/position",
            "waist/position",
        ):
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


def _write_camera_parameters(
    cam_dir: Path, world: AgibotWorld, rec: EpisodeRecording, layout: EpisodeLayout
) -> None:
    """Files named by the camera prefix without ``_color`` (``head_intrinsic_params.json``...)."""
    for cam in CAMERAS:
        prefix = camera_prefix(video_name(cam, layout))
        (cam_dir / f"{prefix}_intrinsic_params.json").write_text(
            json.dumps({"intrinsic": world.intrinsics(cam)})
        )
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
    scenario = rec.scenario or {}
    obs = out / "observations" / str(task_id) / str(episode_id)
    cam_dir = out.joinpath("parameters", str(task_id), str(episode_id), *layout.camera_folder)
    h5_path = out / "proprio_stats" / str(task_id) / str(episode_id) / "proprio_stats.h5"
    truth = out / "truth"
    for d in (obs / "videos", obs / "depth", cam_dir, truth):
        d.mkdir(parents=True, exist_ok=True)

    timestamps = (
        TIMESTAMP_BASE_NS
        + episode_id * EPISODE_TIME_STEP_NS
        + np.rint(np.arange(n) * 1e9 / FPS).astype(np.int64)
    )
    actions = _write_h5(h5_path, rec, layout, timestamps, np.random.default_rng([mode_seed, 3]))

    if rec.make_world is not None:
        world = rec.make_world()
    else:
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

                written = write_mp4(obs / "videos" / f"{video}.mp4", frames(), fps=FPS, crf=VIDEO_CRF)
                assert written == n

    truth_rec = {
        "task_id": task_id,
        "episode_id": episode_id,
        "key": key,
        "n_frames": n,
        "fps": FPS,
        "world": {"seed": rec.world_seed, "n_objects": rec.n_objects, "head": rec.head.tolist()},
        "objects": rec.objects,
        "labels": {str(k): v for k, v in {**LABELS, **scenario.get("labels", {})}.items()},
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
        "camera_poses": {
            video: _camera_poses(world, rec.states[:1], cam)[0] for cam, video in zip(CAMERAS, videos)
        },
    }
    if rec.scenario is not None:
        truth_rec["scenario"] = scenario["truth"]
    (truth / f"{key}.json").write_text(json.dumps(truth_rec, indent=1))
    names = [o["type"] for o in rec.objects]
    scene = ", ".join(f"a {t}" for t in names)
    return {
        "episode_id": episode_id,
        "task_name": scenario.get("task_name", "Tidy up the table"),
        "init_scene_text": scenario.get(
            "scene_text", f"The robot stands in front of a table with {scene} on it."
        ),
        "label_info": {
            "action_config": [
                {k: s[k] for k in ("start_frame", "end_frame", "action_text", "skill")} for s in rec.segments
            ]
        },
    }
