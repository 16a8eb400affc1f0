"""Names and units of the AgiBot World release format, and the reference to one episode."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

FPS = 30.0
REQUIRED_KEYS = ("timestamp", "state/joint/position", "state/effector/position", "state/end/position")
EFFECTOR_THRESHOLD_FRACTION = 0.9
DEXHAND_JOINTS = 6  # joint angles per dexterous hand in state/effector/position
FLANGE = "the arm's flange (wrist mounting plate), not the grasp point: see GripperGeometry.grasp_offset"
UNITS = {
    "joint/position": {"unit": "rad", "axes": ["left arm joints [:7]", "right arm joints [7:]"]},
    "joint/current_value": {"unit": "motor steps", "meaning": "joint motor readings, NOT radians"},
    "end/position": {
        "unit": "m",
        "frame": "robot base",
        "axes": ["arm (left, right)", "xyz"],
        "pose_of": FLANGE,
    },
    "end/orientation": {
        "convention": "quaternion xyzw",
        "frame": "robot base",
        "axes": ["arm (left, right)", "xyzw"],
        "pose_of": FLANGE,
    },
    "head/position": {"unit": "rad", "axes": ["yaw", "pitch"]},
    "waist/position": {"axes": ["pitch (rad)", "lift (m)"]},
}
EFFECTOR_UNITS = {
    "gripper": {"unit": "mm", "meaning": "gripper opening", "axes": ["left", "right"]},
    "dexhand": {
        "unit": "rad",
        "meaning": "dexterous hand joint angles",
        "axes": ["left hand [:6]", "right hand [6:]"],
    },
}
EFFECTOR_COMMAND = {
    "gripper": {"values": "0 = open, 1 = closed (as recorded: check the range before trusting it)"},
    "dexhand": {
        "unit": "rad",
        "meaning": "dexterous hand joint targets",
        "axes": ["left hand [:6]", "right hand [6:]"],
    },
}


@dataclass(frozen=True)
class EpisodeRef:
    """Where one episode's files are; ``episode_id`` is ``f"{task_id}_{raw_episode_id}"``."""

    episode_id: str
    task_id: str
    raw_episode_id: str
    root: Path
    h5: Path
    videos_dir: Path
    depth_dir: Path
    camera_dir: Path
    task_info: Path
    tactile_dir: Path | None = None

    @property
    def paths(self) -> list[Path]:
        """The episode's own files (h5, videos, depth, camera parameters), sorted.

        The task_info json is shared by every episode of the task, so it is not listed.
        """
        files: list[Path] = []
        if self.h5.is_file():
            files.append(self.h5)
        for folder, pattern in (
            (self.videos_dir, "*.mp4"),
            (self.depth_dir, "*.png"),
            (self.camera_dir, "*.json"),
            (self.tactile_dir, "*.mp4"),
        ):
            if folder is not None and folder.is_dir():
                files.extend(p for p in folder.glob(pattern) if p.is_file())
        return sorted(files)


def _id_key(text: str) -> tuple[int, int, str]:
    return (0, int(text), "") if text.isdigit() else (1, 0, text)
