"""Reader for extracted AgiBot World releases (Alpha/Beta, Genie-1), one episode at a time.

Layout (see ``reference/raw-formats.md``)::

    task_info/task_{task_id}.json
    observations/{task_id}/{episode_id}/videos/{camera}.mp4
    observations/{task_id}/{episode_id}/depth/head_depth_*.png
    parameters/{task_id}/{episode_id}/parameters/camera/*.json
    proprio_stats/{task_id}/{episode_id}/proprio_stats.h5

:func:`read` returns a :class:`RawEpisode` whose arrays are

* ``states/<path>`` for every non-empty ``state/<path>`` dataset (``states/joint/position``,
  ``states/effector/position`` (mm), ``states/end/position`` ...), shape ``(T, ...)``;
* ``actions/<group>/<name>`` for every non-empty ``action/<group>/<name>`` dataset, placed
  at the frames its ``action/<group>/index`` names and filled elsewhere from the matching
  state (see :func:`read`), plus ``actions/<group>/filled`` ``(T,)`` bool masks;
* ``segments/start_frame``, ``segments/end_frame`` ``(N,)`` int32 from the task record's
  ``label_info.action_config`` (texts and skills in ``array_attrs`` and ``attrs["task"]``);
* ``cameras/<cam>/rotation`` ``(T, 3, 3)`` and ``cameras/<cam>/translation`` ``(T, 3)``,
  camera to robot base, where the aligned extrinsic file exists.

Empty ``(0,)`` datasets are normal in real releases; their names go in
``attrs["empty_datasets"]``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from goalframe.media.video import probe_video
from goalframe.schemas.episode import RawEpisode, RawFormatError, VideoRef
from goalframe.schemas.vectors import vector_metadata
from goalframe.sources.agibot_cameras import (
    _cameras,
    _segments,
    _task_record,
)
from goalframe.sources.agibot_format import (
    EFFECTOR_COMMAND,
    EFFECTOR_UNITS,
    FPS,
    UNITS,
    EpisodeRef,
    _id_key,
)
from goalframe.sources.agibot_h5 import (
    _actions_equal_state,
    _load_h5,
    _place_actions,
    effector_kind,
)

CAMERA_FOLDERS = (("parameters", "camera"), ("camera",))  # both documented layouts, the usual first


def camera_folder(raw: Path, task_id: str, episode_id: str) -> Path:
    """``parameters/<t>/<e>/parameters/camera``, or ``parameters/<t>/<e>/camera`` where only that exists."""
    base = raw / "parameters" / task_id / episode_id
    for parts in CAMERA_FOLDERS:
        if base.joinpath(*parts).is_dir():
            return base.joinpath(*parts)
    return base.joinpath(*CAMERA_FOLDERS[0])


def episode_ref(raw: Path, task_id: str, episode_id: str) -> EpisodeRef:
    raw = Path(raw)
    obs = raw / "observations" / task_id / episode_id
    return EpisodeRef(
        episode_id=f"{task_id}_{episode_id}",
        task_id=task_id,
        raw_episode_id=episode_id,
        root=raw,
        h5=raw / "proprio_stats" / task_id / episode_id / "proprio_stats.h5",
        videos_dir=obs / "videos",
        depth_dir=obs / "depth",
        camera_dir=camera_folder(raw, task_id, episode_id),
        task_info=raw / "task_info" / f"task_{task_id}.json",
        tactile_dir=obs / "tactile",
    )


def discover(raw: Path) -> list[EpisodeRef]:
    """Episodes under ``proprio_stats/`` and ``observations/``, sorted by (task, episode)."""
    raw = Path(raw)
    if not raw.is_dir():
        raise RawFormatError(raw, "not a directory")
    found: set[tuple[str, str]] = set()
    for top in ("proprio_stats", "observations"):
        base = raw / top
        if not base.is_dir():
            continue
        for task in base.iterdir():
            if not task.is_dir():
                continue
            for ep in task.iterdir():
                if ep.is_dir():
                    found.add((task.name, ep.name))
    ordered = sorted(found, key=lambda k: (_id_key(k[0]), _id_key(k[1])))
    return [episode_ref(raw, t, e) for t, e in ordered]


# ----------------------------------------------------------------------------- read


def read(ref: EpisodeRef) -> RawEpisode:
    """Parse and validate one episode.

    Actions (``action/<g>/<name>``, see ``reference/raw-formats.md``):

    * one row per frame (the usual layout): taken as they are. A shorter
      ``action/<g>/index`` then lists the frames where the control source was sending, kept
      as ``actions/<g>/commanded`` (T,) bool;
    * fewer rows than frames (rarer): row ``i`` belongs to frame ``index[i]`` (an empty
      ``action/end/index`` falls back to ``action/joint/index``); the other frames are
      filled from the state at the same frame (``state/<g>/<name>``, else
      ``state/<g>/position``; the gripper command (0 open, 1 closed) from the opening
      thresholded at 0.9 x the episode's largest; zeros where no state matches) and marked
      in ``actions/<g>/filled``; several rows for one frame: the last wins (a warning);
    * more rows than frames: a corrupt recording, rejected.

    ``attrs["actions_equal_state"]`` says, per action array with a same-shaped state, whether
    it is the state row for row (Beta copies the state into the joint and end actions).
    ``attrs["effector"]`` says whether ``state/effector/position`` holds two gripper
    openings (mm) or twelve dexterous-hand joint angles (rad); the latter are never
    thresholded.

    Cameras: parameter files are named by the video's prefix without ``_color``
    (``head_color.mp4`` <-> ``head_intrinsic_params.json``,
    ``head_extrinsic_params_aligned.json``), in ``parameters/<t>/<e>/parameters/camera/`` or
    ``parameters/<t>/<e>/camera/``. The aligned file holds one pose per frame; where it
    (or the unaligned ``*_extrinsic_params.json``) holds a single pose, the head camera
    keeps it and a hand camera is carried with its arm's flange pose, as Genie-Envisioner's
    loader does (``cameras/<cam>/rotation`` attrs say which).

    Raises :class:`RawFormatError` naming the file for: a missing or unreadable h5, a
    missing required key (``timestamp``, ``state/joint/position``,
    ``state/effector/position``, ``state/end/position``), a state array whose length is not
    ``T``, actions that cannot be placed (longer than ``T``, shorter without an index, index
    length mismatch, index out of range), a missing or unreadable video, a video whose frame
    count is not ``T``, a missing task_info file or an episode absent from it, and malformed
    task or camera json.
    """
    warnings: list[str] = []
    data = _load_h5(ref.h5)
    ts, n = _timestamps(ref.h5, data, warnings)
    effector = effector_kind(data)
    arrays, array_attrs, empty = _states(ref.h5, data, n, effector, warnings)
    act_arrays, act_attrs, fill_info = _place_actions(ref.h5, data, n, effector, warnings)
    for key, value in act_attrs.items():
        sub = key[len("actions/") :]
        base = EFFECTOR_COMMAND[effector["type"]] if sub == "effector/position" else UNITS.get(sub, {})
        array_attrs[key] = {**base, **value}
    arrays.update(act_arrays)
    equal = _actions_equal_state(arrays)
    for sub, same in equal.items():
        array_attrs.setdefault(f"actions/{sub}", {})["equals_state"] = same

    videos = _videos(ref, n, warnings)
    rec = _task_record(ref, warnings)
    segments = _segments(ref, rec, n, warnings)
    texts = [str(s.get("action_text", "")) for s in segments]
    skills = [str(s.get("skill", "")) for s in segments]
    arrays["segments/start_frame"] = np.array([s["start_frame"] for s in segments], np.int32)
    arrays["segments/end_frame"] = np.array([s["end_frame"] for s in segments], np.int32)
    seg_attrs = {"time_major": False, "action_text": texts, "skill": skills, "end_frame": "exclusive"}
    array_attrs["segments/start_frame"] = seg_attrs
    array_attrs["segments/end_frame"] = dict(seg_attrs)

    cameras, cam_arrays, cam_attrs = _cameras(ref, list(videos), n, arrays, warnings)
    arrays.update(cam_arrays)
    array_attrs.update(cam_attrs)

    attrs: dict[str, Any] = {
        "task_id": int(ref.task_id) if ref.task_id.isdigit() else ref.task_id,
        "raw_episode_id": int(ref.raw_episode_id) if ref.raw_episode_id.isdigit() else ref.raw_episode_id,
        "task": _task_attrs(ref, rec, segments),
        "segments": {"action_text": texts, "skill": skills, "end_frame": "exclusive"},
        "cameras": cameras,
        "effector": effector,
        "actions_equal_state": equal,
        "empty_datasets": empty,
        "action_fill": fill_info,
        "timestamp_unit": "ns",
        "depth": {"files": _listed(ref.depth_dir, "head_depth_*.png"), "unit": "mm", "dtype": "uint16"},
        "tactile": {"files": _listed(ref.tactile_dir, "*.mp4"), "stored": False},
        "vectors": (
            vector_metadata() if effector["type"] == "gripper" else {"refused": "dexterous-hand episode"}
        ),
    }
    return RawEpisode(
        episode_id=ref.episode_id,
        source_format="agibot",
        raw_path=str(ref.videos_dir.parent),
        fps=FPS,
        n_frames=n,
        videos=videos,
        timestamps=ts,
        arrays=arrays,
        array_attrs=array_attrs,
        attrs=attrs,
        raw_files=ref.paths,
        warnings=warnings,
    )


def _timestamps(path: Path, data: dict[str, np.ndarray], warnings: list[str]) -> tuple[np.ndarray, int]:
    ts = np.asarray(data["timestamp"])
    if ts.ndim != 1 or ts.size == 0:
        raise RawFormatError(path, f"timestamp must be a non-empty 1-D array, got shape {ts.shape}")
    if not np.issubdtype(ts.dtype, np.integer):
        warnings.append(f"timestamp is {ts.dtype}, converted to int64 nanoseconds")
        ts = np.rint(ts.astype(np.float64))
    ts = ts.astype(np.int64)
    if len(ts) > 1:
        steps = np.diff(ts)
        if np.any(steps <= 0):
            warnings.append("timestamps are not strictly increasing")
        median = float(np.median(steps))
        rate = 1e9 / median if median > 0 else 0.0
        if rate and abs(rate - FPS) > 0.1 * FPS:
            warnings.append(f"timestamps imply {rate:.1f} fps, expected {FPS:g}")
    return ts, len(ts)


def _states(
    path: Path, data: dict[str, np.ndarray], n: int, effector: dict[str, Any], warnings: list[str]
) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]], list[str]]:
    """Every non-empty ``state/*`` dataset as ``states/*``, with units; the empty ones listed."""
    arrays: dict[str, np.ndarray] = {}
    attrs: dict[str, dict[str, Any]] = {}
    empty: list[str] = []
    ignored: list[str] = []
    for key in sorted(data):
        arr = np.asarray(data[key])
        if key == "timestamp":
            continue
        if arr.size == 0:
            empty.append(key)
            continue
        top = key.split("/")[0]
        if top == "state":
            if arr.ndim == 0 or len(arr) != n:
                rows = "a scalar" if arr.ndim == 0 else f"{len(arr)} rows"
                raise RawFormatError(path, f"{key} has {rows}, timestamp has {n}")
            sub = key[len("state/") :]
            arrays[f"states/{sub}"] = arr
            units = EFFECTOR_UNITS[effector["type"]] if sub == "effector/position" else UNITS.get(sub)
            if units:
                attrs[f"states/{sub}"] = dict(units)
        elif top != "action":
            ignored.append(key)
    if ignored:
        warnings.append(f"datasets outside state/ and action/ were not kept: {', '.join(ignored)}")
    return arrays, attrs, empty


def _videos(ref: EpisodeRef, n: int, warnings: list[str]) -> dict[str, VideoRef]:
    if not ref.videos_dir.is_dir():
        raise RawFormatError(ref.videos_dir, "videos folder is missing")
    videos: dict[str, VideoRef] = {}
    for mp4 in sorted(ref.videos_dir.glob("*.mp4")):
        probe = probe_video(mp4)
        if probe.n_frames != n:
            raise RawFormatError(mp4, f"video has {probe.n_frames} frames, proprio_stats.h5 has {n}")
        if abs(probe.fps - FPS) > 0.5:
            warnings.append(f"{mp4.name}: {probe.fps:.2f} fps, expected {FPS:g}")
        videos[mp4.stem] = VideoRef(mp4, n, probe.height, probe.width)
    if not videos:
        raise RawFormatError(ref.videos_dir, "no camera videos (*.mp4)")
    return videos


def _task_attrs(ref: EpisodeRef, rec: dict[str, Any], segments: list[dict[str, Any]]) -> dict[str, Any]:
    task = {k: v for k, v in rec.items() if k != "label_info"}
    if "task_name" not in task and "english_task_name" in task:
        task["task_name"] = task["english_task_name"]
    task["task_id"] = int(ref.task_id) if ref.task_id.isdigit() else ref.task_id
    task["action_config"] = segments
    if isinstance(rec.get("label_info"), dict):
        extra = {k: v for k, v in rec["label_info"].items() if k != "action_config"}
        if extra:
            task["label_info_extra"] = extra
    return task


def _listed(folder: Path | None, pattern: str) -> list[str]:
    return sorted(p.name for p in folder.glob(pattern)) if folder is not None and folder.is_dir() else []
