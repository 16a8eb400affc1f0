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

import json
import math
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import h5py
import numpy as np

from goalframe.schemas.episode import RawEpisode, RawFormatError, VideoRef
from goalframe.sources.video import probe_video

FPS = 30.0
REQUIRED_KEYS = ("timestamp", "state/joint/position", "state/effector/position", "state/end/position")
EFFECTOR_THRESHOLD_FRACTION = 0.9
UNITS = {
    "joint/position": {"unit": "rad"},
    "joint/current_value": {"unit": "rad"},
    "effector/position": {"unit": "mm", "meaning": "gripper opening"},
    "end/position": {"unit": "m", "frame": "robot base", "axes": ["arm (left, right)", "xyz"]},
    "end/orientation": {
        "convention": "quaternion xyzw",
        "frame": "robot base",
        "axes": ["arm (left, right)", "xyzw"],
    },
    "head/position": {"unit": "rad", "axes": ["yaw", "pitch"]},
    "waist/position": {"axes": ["pitch (rad)", "lift (m)"]},
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
        ):
            if folder.is_dir():
                files.extend(p for p in folder.glob(pattern) if p.is_file())
        return sorted(files)


def _id_key(text: str) -> tuple[int, int, str]:
    return (0, int(text), "") if text.isdigit() else (1, 0, text)


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
        camera_dir=raw / "parameters" / task_id / episode_id / "parameters" / "camera",
        task_info=raw / "task_info" / f"task_{task_id}.json",
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


# ----------------------------------------------------------------------------- h5


def _load_h5(path: Path) -> dict[str, np.ndarray]:
    if not path.is_file():
        raise RawFormatError(path, "proprio_stats.h5 is missing")
    data: dict[str, np.ndarray] = {}
    try:
        with h5py.File(path, "r") as h5:
            for key in REQUIRED_KEYS:
                if key not in h5 or not isinstance(h5[key], h5py.Dataset):
                    raise RawFormatError(path, f"required dataset {key!r} is missing")

            def visit(name: str, obj: Any) -> None:
                if isinstance(obj, h5py.Dataset):
                    data[name] = obj[()]

            h5.visititems(visit)
    except RawFormatError:
        raise
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        raise RawFormatError(path, f"unreadable HDF5 ({exc.__class__.__name__}: {exc})") from None
    return data


def _effector_fill(opening: np.ndarray) -> tuple[np.ndarray, float]:
    finite = opening[np.isfinite(opening)]
    top = float(finite.max()) if finite.size else 0.0
    threshold = EFFECTOR_THRESHOLD_FRACTION * top
    if top <= 0:
        return np.ones_like(opening, dtype=np.float64), threshold
    return (opening < threshold).astype(np.float64), threshold


def _place_actions(
    path: Path, data: dict[str, np.ndarray], n: int, warnings: list[str]
) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]], dict[str, Any]]:
    """Actions as (T, ...) arrays placed at their index frames and filled from state."""
    arrays: dict[str, np.ndarray] = {}
    attrs: dict[str, dict[str, Any]] = {}
    fill_info: dict[str, Any] = {}
    groups: dict[str, dict[str, np.ndarray]] = {}
    for key, arr in data.items():
        parts = key.split("/")
        if (
            parts[0] != "action"
            or len(parts) < 3
            or arr.size == 0
            or parts[-1] == "index"
            and len(parts) == 3
        ):
            continue
        groups.setdefault(parts[1], {})["/".join(parts[2:])] = arr
    for group in sorted(groups):
        index_key = f"action/{group}/index"
        index = data.get(index_key)
        if index is not None and index.size == 0:
            index = None
        if index is not None:
            if index.ndim != 1:
                raise RawFormatError(path, f"{index_key} must be 1-D, got shape {index.shape}")
            if not np.issubdtype(index.dtype, np.integer):
                if not (
                    np.issubdtype(index.dtype, np.floating)
                    and np.all(np.isfinite(index))
                    and np.all(index == np.round(index))
                ):
                    raise RawFormatError(path, f"{index_key} holds non-integer frame numbers ({index.dtype})")
                index = index.astype(np.int64)
            if index.min() < 0 or index.max() >= n:
                raise RawFormatError(
                    path,
                    f"{index_key} out of range: frames {int(index.min())}..{int(index.max())} for {n} state frames",
                )
        filled = np.ones(n, bool)
        rows = None
        for name in sorted(groups[group]):
            arr = np.asarray(groups[group][name])
            key = f"action/{group}/{name}"
            if arr.ndim == 0:
                raise RawFormatError(path, f"{key} is a scalar, expected one row per frame")
            m = len(arr)
            if index is None:
                if m != n:
                    what = "longer" if m > n else "shorter"
                    raise RawFormatError(
                        path, f"{key} has {m} rows, {what} than the {n} state frames, and no {index_key}"
                    )
                rows, values = np.arange(n), arr
            else:
                if len(index) != m:
                    raise RawFormatError(path, f"{index_key} has {len(index)} entries but {key} has {m} rows")
                order = np.argsort(index, kind="stable")
                if np.any(np.diff(index) < 0):
                    warnings.append(f"{index_key} is not sorted; rows were reordered by frame")
                idx, values = index[order], arr[order]
                keep = np.ones(m, bool)
                keep[:-1] = idx[1:] != idx[:-1]  # several rows for one frame: the last one wins
                if not keep.all():
                    warnings.append(
                        f"{key}: {int((~keep).sum())} rows share a frame with a later row; the last row per frame is kept"
                    )
                rows, values = idx[keep], values[keep]
            out, source = _fill_source(data, group, name, arr, n)
            out[rows] = values
            filled_here = np.ones(n, bool)
            filled_here[rows] = False
            filled = filled_here  # same index for the whole group
            n_filled = int(filled_here.sum())
            path_out = f"actions/{group}/{name}"
            arrays[path_out] = out
            attrs[path_out] = {
                "rows_in_file": int(m),
                "filled_rows": n_filled,
                "filled_from": source["source"],
            }
            if group == "effector" and name == "position":
                attrs[path_out]["values"] = "0 = open, 1 = closed"
            if n_filled:
                fill_info[f"{group}/{name}"] = {**source, "filled_rows": n_filled}
        if rows is not None:
            arrays[f"actions/{group}/filled"] = filled
            attrs[f"actions/{group}/filled"] = {
                "meaning": f"True where no action row was recorded for the frame and actions/{group}/* was filled from state"
            }
    return arrays, attrs, fill_info


def _fill_source(
    data: dict[str, np.ndarray], group: str, name: str, arr: np.ndarray, n: int
) -> tuple[np.ndarray, dict[str, Any]]:
    tail = arr.shape[1:]
    dtype = arr.dtype if np.issubdtype(arr.dtype, np.floating) else np.float64
    if group == "effector" and name == "position":
        state = data.get("state/effector/position")
        if state is not None and state.shape[1:] == tail and len(state) == n:
            values, threshold = _effector_fill(np.asarray(state, np.float64))
            return values.astype(dtype), {
                "source": "state/effector/position",
                "method": "state opening thresholded",
                "threshold_mm": round(threshold, 3),
                "rule": f"1 (closed) where the opening is below {EFFECTOR_THRESHOLD_FRACTION} x the episode's largest opening, else 0",
            }
    for candidate in (f"state/{group}/{name}", f"state/{group}/position"):
        state = data.get(candidate)
        if state is not None and state.size and len(state) == n and state.shape[1:] == tail:
            return np.array(state, dtype=dtype), {
                "source": candidate,
                "method": "copy of the state at the same frame",
            }
    return np.zeros((n, *tail), dtype), {"source": "zeros", "method": "no matching state array: zeros"}


# ----------------------------------------------------------------------------- json


def _load_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text())
    except OSError as exc:
        raise RawFormatError(path, f"unreadable ({exc.__class__.__name__}: {exc})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        line = getattr(exc, "lineno", None)
        raise RawFormatError(
            path, f"malformed JSON ({exc.__class__.__name__}: {getattr(exc, 'msg', exc)})", line
        ) from None


def _task_record(ref: EpisodeRef) -> dict[str, Any]:
    if not ref.task_info.is_file():
        raise RawFormatError(ref.task_info, "task info file is missing")
    records = _load_json(ref.task_info)
    if not isinstance(records, list):
        raise RawFormatError(
            ref.task_info, f"expected a list of episode records, got {type(records).__name__}"
        )
    for rec in records:
        if isinstance(rec, dict) and str(rec.get("episode_id")) == ref.raw_episode_id:
            return rec
    raise RawFormatError(ref.task_info, f"episode {ref.raw_episode_id} is not listed")


def _segments(ref: EpisodeRef, rec: dict[str, Any], n: int, warnings: list[str]) -> list[dict[str, Any]]:
    label_info = rec.get("label_info")
    if label_info is None:
        warnings.append(f"{ref.task_info.name}: episode {ref.raw_episode_id} has no label_info")
        return []
    config = label_info.get("action_config", []) if isinstance(label_info, dict) else None
    if not isinstance(config, list):
        raise RawFormatError(
            ref.task_info, f"episode {ref.raw_episode_id}: label_info.action_config is not a list"
        )
    out = []
    for i, seg in enumerate(config):
        if not isinstance(seg, dict):
            raise RawFormatError(
                ref.task_info, f"episode {ref.raw_episode_id}: action_config[{i}] is not an object"
            )
        try:
            start, end = int(seg["start_frame"]), int(seg["end_frame"])
        except (KeyError, TypeError, ValueError):
            raise RawFormatError(
                ref.task_info,
                f"episode {ref.raw_episode_id}: action_config[{i}] needs integer start_frame and end_frame",
            ) from None
        if not 0 <= start <= end <= n:
            warnings.append(
                f"{ref.task_info.name}: segment {i} [{start}, {end}) is outside the episode's {n} frames"
            )
        out.append({**seg, "start_frame": start, "end_frame": end})
    return out


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _intrinsic(path: Path) -> dict[str, float]:
    doc = _load_json(path)
    intr = doc.get("intrinsic") if isinstance(doc, dict) else None
    if not isinstance(intr, dict) or not all(_number(intr.get(k)) for k in ("fx", "fy", "ppx", "ppy")):
        raise RawFormatError(path, 'expected {"intrinsic": {"fx", "fy", "ppx", "ppy"}} with numbers')
    return {k: float(v) for k, v in intr.items() if _number(v)}


def _extrinsics(path: Path, n: int, warnings: list[str]) -> tuple[np.ndarray, np.ndarray]:
    doc = _load_json(path)
    if not isinstance(doc, list) or not doc:
        raise RawFormatError(path, "expected a non-empty list of per-frame extrinsics")
    try:
        rot = np.array([d["extrinsic"]["rotation_matrix"] for d in doc], dtype=np.float64)
        trans = np.array([d["extrinsic"]["translation_vector"] for d in doc], dtype=np.float64)
    except (KeyError, TypeError, ValueError):
        raise RawFormatError(
            path, 'each entry must be {"extrinsic": {"rotation_matrix": 3x3, "translation_vector": 3}}'
        ) from None
    if rot.shape[1:] != (3, 3) or trans.shape[1:] != (3,):
        raise RawFormatError(
            path,
            f"rotation_matrix must be 3x3 and translation_vector 3, got {rot.shape[1:]} and {trans.shape[1:]}",
        )
    if not (np.all(np.isfinite(rot)) and np.all(np.isfinite(trans))):
        raise RawFormatError(path, "non-finite extrinsics")
    if len(rot) != n:
        if len(rot) == 1:
            warnings.append(f"{path.name}: one extrinsic for {n} frames; repeated for every frame")
            rot, trans = np.repeat(rot, n, 0), np.repeat(trans, n, 0)
        else:
            raise RawFormatError(path, f"{len(rot)} per-frame extrinsics for {n} frames")
    return rot, trans


_CAM_FILE = re.compile(
    r"^(?P<cam>.+?)_(?P<kind>intrinsic_params|extrinsic_params_aligned|extrinsic_params)\.json$"
)


def _cameras(
    ref: EpisodeRef, video_cams: list[str], n: int, warnings: list[str]
) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, dict[str, Any]]]:
    cams: dict[str, dict[str, Any]] = {c: {} for c in video_cams}
    files: dict[str, dict[str, Path]] = {}
    other: list[str] = []
    if ref.camera_dir.is_dir():
        for p in sorted(ref.camera_dir.glob("*.json")):
            m = _CAM_FILE.match(p.name)
            if m:
                files.setdefault(m["cam"], {})[m["kind"]] = p
                cams.setdefault(m["cam"], {})
            else:
                other.append(p.name)
    arrays: dict[str, np.ndarray] = {}
    array_attrs: dict[str, dict[str, Any]] = {}
    for cam in sorted(cams):
        info = cams[cam]
        f = files.get(cam, {})
        if "intrinsic_params" in f:
            info["intrinsic"] = _intrinsic(f["intrinsic_params"])
            info["has_intrinsics"] = True
        else:
            info["has_intrinsics"] = False
            if cam in video_cams:
                warnings.append(f"{cam}: no intrinsic parameter file")
        if "extrinsic_params_aligned" in f:
            rot, trans = _extrinsics(f["extrinsic_params_aligned"], n, warnings)
            arrays[f"cameras/{cam}/rotation"] = rot
            arrays[f"cameras/{cam}/translation"] = trans
            meaning = {
                "transform": "camera to robot base: p_base = R @ p_cam + t",
                "camera_frame": "x right, y down, z forward",
            }
            array_attrs[f"cameras/{cam}/rotation"] = meaning
            array_attrs[f"cameras/{cam}/translation"] = {**meaning, "unit": "m"}
            info["has_extrinsics"] = True
        else:
            info["has_extrinsics"] = False
        if "extrinsic_params" in f:
            info["unaligned_extrinsic_file"] = f["extrinsic_params"].name
        info["has_video"] = cam in video_cams
    out: dict[str, Any] = dict(cams)
    if other:
        out["_other_files"] = other
    return out, arrays, array_attrs


# ----------------------------------------------------------------------------- read


def read(ref: EpisodeRef) -> RawEpisode:
    """Parse and validate one episode.

    Actions: a group ``action/<g>`` whose datasets have as many rows as ``timestamp`` and
    no index (or an index that covers every frame) is taken as is. Otherwise the
    ``action/<g>/index`` frames say where each row goes; frames with no row are filled
    from the state at the same frame (``state/<g>/<name>``, else ``state/<g>/position``;
    ``action/effector/position`` (0 open, 1 closed) from ``state/effector/position``
    thresholded at 0.9 x the episode's largest opening; zeros where no state matches, as
    for ``robot/velocity``). ``actions/<g>/filled`` marks the filled frames and
    ``attrs["action_fill"]`` says how each array was filled. Several rows for one frame:
    the last wins (a warning).

    Raises :class:`RawFormatError` naming the file for: a missing or unreadable h5, a
    missing required key (``timestamp``, ``state/joint/position``,
    ``state/effector/position``, ``state/end/position``), a state array whose length is not
    ``T``, actions that cannot be placed (length differs from ``T`` without an index,
    index length mismatch, index out of range), a missing or unreadable video, a video
    whose frame count is not ``T``, a missing task_info file or an episode absent from it,
    and malformed task or camera json.
    """
    warnings: list[str] = []
    data = _load_h5(ref.h5)
    ts = np.asarray(data["timestamp"])
    if ts.ndim != 1 or ts.size == 0:
        raise RawFormatError(ref.h5, f"timestamp must be a non-empty 1-D array, got shape {ts.shape}")
    n = len(ts)
    if not np.issubdtype(ts.dtype, np.integer):
        warnings.append(f"timestamp is {ts.dtype}, converted to int64 nanoseconds")
        ts = np.rint(ts.astype(np.float64)).astype(np.int64)
    ts = ts.astype(np.int64)
    if n > 1 and np.any(np.diff(ts) <= 0):
        warnings.append("timestamps are not strictly increasing")

    arrays: dict[str, np.ndarray] = {}
    array_attrs: dict[str, dict[str, Any]] = {}
    empty: list[str] = []
    ignored: list[str] = []
    for key in sorted(data):
        arr = np.asarray(data[key])
        top = key.split("/")[0]
        if key == "timestamp":
            continue
        if arr.size == 0:
            empty.append(key)
            continue
        if top == "state":
            if arr.ndim == 0 or len(arr) != n:
                rows = "a scalar" if arr.ndim == 0 else f"{len(arr)} rows"
                raise RawFormatError(ref.h5, f"{key} has {rows}, timestamp has {n}")
            sub = key[len("state/") :]
            arrays[f"states/{sub}"] = arr
            if sub in UNITS:
                array_attrs[f"states/{sub}"] = dict(UNITS[sub])
        elif top != "action":
            ignored.append(key)
    if ignored:
        warnings.append(f"datasets outside state/ and action/ were not kept: {', '.join(ignored)}")
    act_arrays, act_attrs, fill_info = _place_actions(ref.h5, data, n, warnings)
    for key, value in act_attrs.items():
        sub = key[len("actions/") :]
        if sub in UNITS and sub != "effector/position":
            value = {**UNITS[sub], **value}
        array_attrs[key] = value
    arrays.update(act_arrays)

    # videos
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

    # task info and segments
    rec = _task_record(ref)
    segments = _segments(ref, rec, n, warnings)
    texts = [str(s.get("action_text", "")) for s in segments]
    skills = [str(s.get("skill", "")) for s in segments]
    arrays["segments/start_frame"] = np.array([s["start_frame"] for s in segments], np.int32)
    arrays["segments/end_frame"] = np.array([s["end_frame"] for s in segments], np.int32)
    seg_attrs = {"time_major": False, "action_text": texts, "skill": skills, "end_frame": "exclusive"}
    array_attrs["segments/start_frame"] = seg_attrs
    array_attrs["segments/end_frame"] = dict(seg_attrs)
    task = {k: v for k, v in rec.items() if k != "label_info"}
    task["task_id"] = int(ref.task_id) if ref.task_id.isdigit() else ref.task_id
    task["action_config"] = segments
    if isinstance(rec.get("label_info"), dict):
        extra = {k: v for k, v in rec["label_info"].items() if k != "action_config"}
        if extra:
            task["label_info_extra"] = extra

    # cameras
    cameras, cam_arrays, cam_attrs = _cameras(ref, list(videos), n, warnings)
    arrays.update(cam_arrays)
    array_attrs.update(cam_attrs)

    depth = sorted(p.name for p in ref.depth_dir.glob("head_depth_*.png")) if ref.depth_dir.is_dir() else []
    if len(ts) > 1:
        rate = 1e9 / float(np.median(np.diff(ts))) if np.median(np.diff(ts)) > 0 else 0.0
        if rate and abs(rate - FPS) > 0.1 * FPS:
            warnings.append(f"timestamps imply {rate:.1f} fps, expected {FPS:g}")

    attrs: dict[str, Any] = {
        "task_id": task["task_id"],
        "raw_episode_id": int(ref.raw_episode_id) if ref.raw_episode_id.isdigit() else ref.raw_episode_id,
        "task": task,
        "segments": {"action_text": texts, "skill": skills, "end_frame": "exclusive"},
        "cameras": cameras,
        "empty_datasets": empty,
        "action_fill": fill_info,
        "timestamp_unit": "ns",
        "depth": {"files": depth, "unit": "mm", "dtype": "uint16"},
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
