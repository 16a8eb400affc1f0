"""What a goalframe dataset becomes in LeRobot's format: the feature dict and each frame's values.

Plain numpy and the goalframe readers only, so it runs (and is tested) without ``lerobot``;
:mod:`goalframe.interop.lerobot` hands these values to LeRobot's own writer.

Features (LeRobot's names where it has one):
- ``observation.images.<camera>``: every camera, as video.
- ``observation.state`` / ``action``: the loaders' vectors (:func:`episode_lowdim`), every
  column named: AgiBot's 20-dim state and 22-dim action in LeRobot's AgiBot-port order; VPT's
  20 buttons then the 2 camera bins as ``action``, a few named scalars as the state, and the
  camera move in degrees as ``action.camera``.
- ``event``: the names of the events that start on the frame (``"; "``-joined, ``""`` none).
- ``observation.masks.<camera>``: for a camera with mask tracks, a lossless (PNG) label image,
  0 = no mask, k = the k-th track of the episode on that camera (read back: round(value * 255));
  the tracks behind each label are in ``meta/goalframe/tracks.parquet``.
- the task text of a frame: the AgiBot segment's action text, else the episode's task name.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from goalframe.sampling.lowdim import VPT_BUTTONS, VPT_CAMERA, episode_lowdim
from goalframe.schemas.layout import DatasetError
from goalframe.schemas.vectors import AGIBOT_ACTION_NAMES, AGIBOT_STATE_NAMES

IMAGE_KEY, MASK_KEY = "observation.images.", "observation.masks."
VPT_STATE = ("states/xpos", "states/ypos", "states/zpos", "states/pitch", "states/yaw", "states/hotbar")
VPT_TASK = "Play Minecraft."
MAX_LABELS = 255  # a uint8 label image


@dataclass
class ExportPlan:
    """The LeRobot dataset one goalframe dataset becomes (the same for every episode)."""

    source_format: str
    fps: int
    cameras: list[str]
    height: int
    width: int
    features: dict = field(default_factory=dict)
    mask_cameras: list[str] = field(default_factory=list)


def _video(height: int, width: int) -> dict:
    return {"dtype": "video", "shape": (height, width, 3), "names": ["height", "width", "channels"]}


def _vector(names: list[str]) -> dict:
    return {"dtype": "float32", "shape": (len(names),), "names": list(names)}


def vector_names(ds, episode: str, source_format: str) -> dict[str, list[str]]:
    """Column names of ``observation.state``, ``action`` (and VPT's ``action.camera``)."""
    if source_format == "agibot":
        return {"observation.state": list(AGIBOT_STATE_NAMES), "action": list(AGIBOT_ACTION_NAMES)}
    buttons = ds.array_attrs(episode, VPT_BUTTONS).get("vocabulary") or [f"button.{i}" for i in range(20)]
    axes = ds.array_attrs(episode, VPT_CAMERA).get("axes") or ["pitch", "yaw"]
    return {
        "observation.state": [name.removeprefix("states/") for name in VPT_STATE],
        "action": [*buttons, *(f"camera_bin.{axis}" for axis in axes)],
        "action.camera": [f"camera.{axis}" for axis in axes],
    }


def _one(ds, values: dict[str, set], what: str):
    if len(values) != 1:
        shown = "; ".join(f"{value} in {', '.join(sorted(eps)[:2])}" for value, eps in values.items())
        raise DatasetError(f"{ds.path}: episodes differ in {what} ({shown}); a LeRobot dataset has one")
    return next(iter(values))


def plan_export(ds) -> ExportPlan:
    """The feature dict of the export; one-line DatasetError for what LeRobot's format cannot hold."""
    episodes = ds.episodes
    if not episodes:
        raise DatasetError(f"{ds.path}: no complete episode to export")
    seen: dict[str, dict] = {"format": {}, "fps": {}, "cameras": {}, "size": {}}
    for episode in episodes:
        meta = ds.meta(episode)
        for key, value in (
            ("format", meta.source_format),
            ("fps", meta.fps),
            ("cameras", tuple(meta.cameras)),
            ("size", (meta.height, meta.width)),
        ):
            seen[key].setdefault(value, set()).add(episode)
    source_format = _one(ds, seen["format"], "source format")
    if source_format not in ("agibot", "vpt"):
        raise DatasetError(f"{ds.path}: source format {source_format!r} has no LeRobot mapping (agibot, vpt)")
    fps = float(_one(ds, seen["fps"], "fps"))
    if fps != round(fps):
        raise DatasetError(f"{ds.path}: fps {fps} is not a whole number (LeRobot stores fps as an integer)")
    cameras = list(_one(ds, seen["cameras"], "cameras"))
    height, width = _one(ds, seen["size"], "frame size")
    plan = ExportPlan(source_format, int(fps), cameras, int(height), int(width))
    plan.features = {f"{IMAGE_KEY}{camera}": _video(height, width) for camera in cameras}
    for key, names in vector_names(ds, episodes[0], source_format).items():
        plan.features[key] = _vector(names)
    plan.features["event"] = {"dtype": "string", "shape": (1,), "names": None}
    tracked = set(ds.table("tracks")["camera"].to_list()) if "tracks" in ds.tables else set()
    plan.mask_cameras = [camera for camera in cameras if camera in tracked]
    for camera in plan.mask_cameras:
        plan.features[f"{MASK_KEY}{camera}"] = {**_video(height, width), "dtype": "image"}
    return plan


def episode_vectors(ds, episode: str, plan: ExportPlan) -> dict[str, np.ndarray]:
    """Per-frame float32 vectors of one episode, (T, D) each, keyed by LeRobot feature name."""
    lowdim = episode_lowdim(ds, episode)
    if plan.source_format == "agibot":
        return {"observation.state": lowdim["state"], "action": lowdim["action"]}
    n = ds.length(episode)
    state = [np.asarray(ds.array(episode, name), np.float32).reshape(n) for name in VPT_STATE]
    return {
        "observation.state": np.stack(state, axis=1),
        "action": lowdim["action"],
        "action.camera": np.asarray(ds.array(episode, "actions/vpt/camera"), np.float32).reshape(n, 2),
    }


def frame_tasks(ds, episode: str) -> list[str]:
    """The task text of every frame: its AgiBot segment's action text, else the episode's task."""
    meta = ds.meta(episode)
    n = meta.n_frames
    task = meta.source.get("task") or {}
    default = str(task.get("task_name") or (VPT_TASK if meta.source_format == "vpt" else "")) or episode
    texts = [default] * n
    for segment in task.get("action_config") or []:
        text = segment.get("action_text")
        if text:
            start, stop = max(0, int(segment["start_frame"])), min(n, int(segment["end_frame"]))
            texts[start:stop] = [str(text)] * max(0, stop - start)
    return texts


def frame_events(events: pl.DataFrame, episode: str, n: int) -> list[str]:
    """``"; "``-joined names of the events starting on each frame (``""`` on the others)."""
    names: list[list[str]] = [[] for _ in range(n)]
    if events.height:
        rows = events.filter(pl.col("episode_id") == episode).sort("frame", "event_id")
        for frame, name in zip(rows["frame"].to_list(), rows["name"].to_list()):
            if 0 <= frame < n:
                names[frame].append(str(name))
    return ["; ".join(found) for found in names]


def episode_tracks(ds, tracks: pl.DataFrame, episode: str, camera: str) -> list[str]:
    """Complete track ids of one episode and camera in label order (label k = the k-th, from 1)."""
    if not tracks.height:
        return []
    rows = tracks.filter((pl.col("episode_id") == episode) & (pl.col("camera") == camera))
    complete = {track for _, track in ds.track_ids(episode)}
    found = sorted(set(rows["track_id"].to_list()) & complete)
    if len(found) > MAX_LABELS:
        raise DatasetError(f"episode {episode!r} camera {camera!r}: {len(found)} mask tracks, at most 255")
    return found


def mask_labels(ds, episode: str, track_ids: list[str], n: int) -> Iterator[np.ndarray]:
    """(H, W, 3) uint8 label image of each frame: k where the k-th track's visible mask is, else 0."""
    meta = ds.meta(episode)
    by_frame: dict[int, list[tuple[int, np.ndarray]]] = {}
    for label, track_id in enumerate(track_ids, start=1):
        track = ds.read_track(episode, track_id)
        for row, frame in enumerate(track.frame_index.tolist()):
            if track.visible[row]:
                by_frame.setdefault(int(frame), []).append((label, track.mask[row]))
    blank = np.zeros((meta.height, meta.width, 3), np.uint8)
    for frame in range(n):
        if frame not in by_frame:
            yield blank
            continue
        label_image = np.zeros((meta.height, meta.width), np.uint8)
        for label, mask in by_frame[frame]:  # a later track wins where masks overlap
            label_image[mask] = label
        yield np.repeat(label_image[:, :, None], 3, axis=2)
