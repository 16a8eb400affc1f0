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
from goalframe.schemas.rotations import carried_pose, quaternion_matrix
from goalframe.schemas.vectors import vector_metadata
from goalframe.media.video import probe_video

FPS = 30.0
REQUIRED_KEYS = ("timestamp", "state/joint/position", "state/effector/position", "state/end/position")
EFFECTOR_THRESHOLD_FRACTION = 0.9
DEXHAND_JOINTS = 6  # joint angles per dexterous hand in state/effector/position
FLANGE = "the arm's flange (wrist mounting plate), not the grasp point: see GripperGeometry.grasp_offset"
UNITS = {
    "joint/position": {"unit": "rad", "axes": ["left arm joints [:7]", "right arm joints [7:]"]},
    "joint/current_value": {"unit": "motor steps", "meaning": "joint motor readings, NOT radians"},
    "end/position": {"unit": "m", "frame": "robot base", "axes": ["arm (left, right)", "xyz"], "pose_of": FLANGE},
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
    "dexhand": {"unit": "rad", "meaning": "dexterous hand joint angles", "axes": ["left hand [:6]", "right hand [6:]"]},
}
EFFECTOR_COMMAND = {
    "gripper": {"values": "0 = open, 1 = closed (as recorded: check the range before trusting it)"},
    "dexhand": {"unit": "rad", "meaning": "dexterous hand joint targets", "axes": ["left hand [:6]", "right hand [6:]"]},
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


def _read_index(path: Path, data: dict[str, np.ndarray], key: str, n: int) -> np.ndarray | None:
    """``action/<g>/index`` as int64 frame numbers in ``[0, n)``; None when absent or empty."""
    index = data.get(key)
    if index is None or index.size == 0:
        return None
    if index.ndim != 1:
        raise RawFormatError(path, f"{key} must be 1-D, got shape {index.shape}")
    if not np.issubdtype(index.dtype, np.integer):
        whole = np.issubdtype(index.dtype, np.floating) and np.all(np.isfinite(index)) and np.all(index == np.round(index))
        if not whole:
            raise RawFormatError(path, f"{key} holds non-integer frame numbers ({index.dtype})")
    index = index.astype(np.int64)
    if index.min() < 0 or index.max() >= n:
        raise RawFormatError(
            path, f"{key} out of range: frames {int(index.min())}..{int(index.max())} for {n} state frames"
        )
    return index


def _action_groups(data: dict[str, np.ndarray]) -> dict[str, dict[str, np.ndarray]]:
    """``{group: {name: rows}}`` of every non-empty ``action/<group>/<name>`` but the indexes."""
    groups: dict[str, dict[str, np.ndarray]] = {}
    for key, arr in data.items():
        parts = key.split("/")
        if parts[0] != "action" or len(parts) < 3 or arr.size == 0 or (len(parts) == 3 and parts[2] == "index"):
            continue
        groups.setdefault(parts[1], {})["/".join(parts[2:])] = arr
    return groups


def _rows_by_index(
    path: Path, key: str, index_key: str, arr: np.ndarray, index: np.ndarray, warnings: list[str]
) -> tuple[np.ndarray, np.ndarray]:
    """(frames, rows) of a short action array placed at its index frames, one row per frame."""
    if len(index) != len(arr):
        raise RawFormatError(path, f"{index_key} has {len(index)} entries but {key} has {len(arr)} rows")
    order = np.argsort(index, kind="stable")
    if np.any(np.diff(index) < 0):
        warnings.append(f"{index_key} is not sorted; rows were reordered by frame")
    frames, rows = index[order], arr[order]
    keep = np.ones(len(frames), bool)
    keep[:-1] = frames[1:] != frames[:-1]  # several rows for one frame: the last one wins
    if not keep.all():
        warnings.append(f"{key}: {int((~keep).sum())} rows share a frame with a later row; the last row per frame is kept")
    return frames[keep], rows[keep]


def _place_actions(
    path: Path, data: dict[str, np.ndarray], n: int, effector: dict[str, Any], warnings: list[str]
) -> tuple[dict[str, np.ndarray], dict[str, dict[str, Any]], dict[str, Any]]:
    """Actions as (T, ...) arrays, with ``commanded`` masks from the indexes (see :func:`read`)."""
    arrays: dict[str, np.ndarray] = {}
    attrs: dict[str, dict[str, Any]] = {}
    fill_info: dict[str, Any] = {}
    for group, members in sorted(_action_groups(data).items()):
        index_key = f"action/{group}/index"
        index = _read_index(path, data, index_key, n)
        commanded: np.ndarray | None = None
        filled = np.zeros(n, bool)
        for name in sorted(members):
            arr, key = np.asarray(members[name]), f"action/{group}/{name}"
            if arr.ndim == 0:
                raise RawFormatError(path, f"{key} is a scalar, expected one row per frame")
            m, out_key = len(arr), f"actions/{group}/{name}"
            if m > n:
                raise RawFormatError(path, f"{key} has {m} rows, longer than the {n} state frames: corrupt recording")
            if m == n:
                arrays[out_key] = arr
                attrs[out_key] = {"rows_in_file": m, "filled_rows": 0}
                if index is not None:
                    commanded = np.zeros(n, bool)
                    commanded[index] = True
                continue
            used_key, used = index_key, index
            if used is None and group == "end":  # a known quirk: an empty end index means the joint one
                used_key, used = "action/joint/index", _read_index(path, data, "action/joint/index", n)
            if used is None:
                raise RawFormatError(path, f"{key} has {m} rows, shorter than the {n} state frames, and no {index_key}")
            frames, rows = _rows_by_index(path, key, used_key, arr, used, warnings)
            out, source = _fill_source(data, group, name, arr, n, effector)
            out[frames] = rows
            placed = np.zeros(n, bool)
            placed[frames] = True
            commanded = placed if commanded is None else commanded | placed
            n_filled = int(n - placed.sum())
            arrays[out_key] = out
            attrs[out_key] = {"rows_in_file": m, "filled_rows": n_filled, "filled_from": source["source"], "placed_by": used_key}
            filled |= ~placed
            if n_filled:
                fill_info[f"{group}/{name}"] = {**source, "filled_rows": n_filled}
        arrays[f"actions/{group}/filled"] = filled
        attrs[f"actions/{group}/filled"] = {
            "meaning": f"True where no action row was recorded for the frame and actions/{group}/* was filled from state"
        }
        if commanded is not None:
            arrays[f"actions/{group}/commanded"] = commanded
            attrs[f"actions/{group}/commanded"] = {
                "meaning": f"True on the frames {index_key} lists: the control source was sending commands",
                "from": index_key,
                "frames_commanded": int(commanded.sum()),
            }
    return arrays, attrs, fill_info


def _fill_source(
    data: dict[str, np.ndarray], group: str, name: str, arr: np.ndarray, n: int, effector: dict[str, Any]
) -> tuple[np.ndarray, dict[str, Any]]:
    tail = arr.shape[1:]
    dtype = arr.dtype if np.issubdtype(arr.dtype, np.floating) else np.float64
    if group == "effector" and name == "position" and effector.get("type") == "gripper":
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
            return np.array(state, dtype=dtype), {"source": candidate, "method": "copy of the state at the same frame"}
    return np.zeros((n, *tail), dtype), {"source": "zeros", "method": "no matching state array: zeros"}


def _actions_equal_state(arrays: dict[str, np.ndarray]) -> dict[str, bool]:
    """Per action array with a state of the same name and shape: is it the state, row for row?

    Beta copies the state into the joint and end actions (while the operator's VR button is
    released the command is the state); such actions carry nothing of their own.
    """
    out: dict[str, bool] = {}
    for key in sorted(arrays):
        if not key.startswith("actions/"):
            continue
        state = arrays.get("states/" + key[len("actions/") :])
        action = arrays[key]
        if state is None or state.shape != action.shape or not np.issubdtype(action.dtype, np.number):
            continue
        out[key[len("actions/") :]] = bool(np.allclose(action, state, rtol=0.0, atol=1e-9, equal_nan=True))
    return out


def effector_kind(data: dict[str, np.ndarray]) -> dict[str, Any]:
    """What ``state/effector/position`` holds: two gripper openings (mm) or 12 dexhand joints (rad)."""
    state = np.asarray(data["state/effector/position"])
    width = int(np.prod(state.shape[1:])) if state.ndim > 1 else 1
    if width == 2 * DEXHAND_JOINTS:
        return {"type": "dexhand", "width": width, "unit": "rad", "joints_per_hand": DEXHAND_JOINTS,
                "axes": ["left hand joints [:6]", "right hand joints [6:]"]}  # fmt: skip
    return {"type": "gripper", "width": width, "unit": "mm", "axes": ["left opening", "right opening"]}


# ----------------------------------------------------------------------------- json


def _load_json(path: Path, warnings: list[str] | None = None) -> Any:
    """Parse a json file; with ``warnings``, bytes that are not UTF-8 are replaced and reported."""
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise RawFormatError(path, f"unreadable ({exc.__class__.__name__}: {exc})") from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        if warnings is None:
            raise RawFormatError(path, f"not UTF-8 (byte {exc.start})") from None
        text = raw.decode("utf-8", errors="replace")
        warnings.append(f"{path.name}: bytes that are not UTF-8 (first at byte {exc.start}) replaced by U+FFFD")
    try:
        return json.loads(text)
    except json.JSONDecodeError as exc:
        raise RawFormatError(path, f"malformed JSON (JSONDecodeError: {exc.msg})", exc.lineno) from None


def _task_record(ref: EpisodeRef, warnings: list[str]) -> dict[str, Any]:
    if not ref.task_info.is_file():
        raise RawFormatError(ref.task_info, "task info file is missing")
    records = _load_json(ref.task_info, warnings)
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
        text = seg.get("action_text", seg.get("english_action_text"))
        out.append({**seg, "start_frame": start, "end_frame": end, **({"action_text": text} if text is not None else {})})
    return out


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _intrinsic(path: Path) -> dict[str, float]:
    doc = _load_json(path)
    intr = doc.get("intrinsic") if isinstance(doc, dict) else None
    if not isinstance(intr, dict) or not all(_number(intr.get(k)) for k in ("fx", "fy", "ppx", "ppy")):
        raise RawFormatError(path, 'expected {"intrinsic": {"fx", "fy", "ppx", "ppy"}} with numbers')
    return {k: float(v) for k, v in intr.items() if _number(v)}


_CAM_FILE = re.compile(r"^(?P<cam>.+?)_(?P<kind>intrinsic_params|extrinsic_params_aligned|extrinsic_params)\.json$")
HAND_ARMS = {"hand_left": 0, "hand_right": 1}
CAMERA_POSE_MEANING = {"transform": "camera to robot base: p_base = R @ p_cam + t", "camera_frame": "x right, y down, z forward"}


def camera_prefix(video: str) -> str:
    """The name a camera's parameter files start with: the video's stem without ``_color``."""
    return video[: -len("_color")] if video.endswith("_color") else video


def _pose_entry(path: Path, entry: Any) -> tuple[np.ndarray, np.ndarray]:
    try:
        rot = np.array(entry["extrinsic"]["rotation_matrix"], dtype=np.float64)
        trans = np.array(entry["extrinsic"]["translation_vector"], dtype=np.float64)
    except (KeyError, TypeError, ValueError):
        raise RawFormatError(path, 'each entry must be {"extrinsic": {"rotation_matrix": 3x3, "translation_vector": 3}}') from None
    if rot.shape != (3, 3) or trans.shape != (3,):
        raise RawFormatError(path, f"rotation_matrix must be 3x3 and translation_vector 3, got {rot.shape} and {trans.shape}")
    if not (np.all(np.isfinite(rot)) and np.all(np.isfinite(trans))):
        raise RawFormatError(path, "non-finite extrinsics")
    return rot, trans


def _extrinsics(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(F, 3, 3), (F, 3) from an aligned list (one per frame) or an unaligned single dict."""
    doc = _load_json(path)
    entries = [doc] if isinstance(doc, dict) else doc
    if not isinstance(entries, list) or not entries:
        raise RawFormatError(path, "expected a non-empty list of per-frame extrinsics or one extrinsic object")
    poses = [_pose_entry(path, e) for e in entries]
    return np.stack([r for r, _ in poses]), np.stack([t for _, t in poses])


def _flange_poses(arrays: dict[str, np.ndarray], arm: int) -> tuple[np.ndarray, np.ndarray] | None:
    position, orientation = arrays.get("states/end/position"), arrays.get("states/end/orientation")
    if position is None or orientation is None:
        return None
    n = len(position)
    try:
        return quaternion_matrix(orientation.reshape(n, -1, 4)[:, arm]), position.reshape(n, -1, 3)[:, arm]
    except (ValueError, IndexError):
        return None


def _camera_track(
    prefix: str, path: Path, n: int, arrays: dict[str, np.ndarray], warnings: list[str]
) -> tuple[np.ndarray, np.ndarray, str]:
    """Per-frame camera poses and how they were obtained."""
    rot, trans = _extrinsics(path)
    if len(rot) == n:
        return rot, trans, f"per frame, from {path.name}"
    if len(rot) != 1:
        raise RawFormatError(path, f"{len(rot)} per-frame extrinsics for {n} frames")
    arm = HAND_ARMS.get(prefix.split("_fisheye")[0])
    flange = None if arm is None else _flange_poses(arrays, arm)
    if flange is not None:
        rot, trans = carried_pose(flange[0], flange[1], rot[0], trans[0])
        return rot, trans, f"one pose in {path.name}, carried with the {('left', 'right')[arm]} arm's flange pose (states/end/*)"
    if arm is not None:
        warnings.append(f"{path.name}: one extrinsic for a hand camera and no end pose to carry it; kept fixed")
    return np.repeat(rot, n, 0), np.repeat(trans, n, 0), f"one pose in {path.name}, fixed for every frame"


def _parameter_files(camera_dir: Path | None) -> tuple[dict[str, dict[str, Path]], list[str]]:
    files: dict[str, dict[str, Path]] = {}
    other: list[str] = []
    if camera_dir is not None and camera_dir.is_dir():
        for p in sorted(camera_dir.glob("*.json")):
            m = _CAM_FILE.match(p.name)
            if m:
                files.setdefault(m["cam"], {})[m["kind"]] = p
            else:
                other.append(p.name)
    return files, other


def _cameras(
    ref: EpisodeRef, video_cams: list[str], n: int, arrays: dict[str, np.ndarray], warnings: list[str]
) -> tuple[dict[str, Any], dict[str, np.ndarray], dict[str, dict[str, Any]]]:
    """Camera parameters linked to the videos by prefix (``head_color`` <-> ``head_*``)."""
    files, other = _parameter_files(ref.camera_dir)
    linked: dict[str, str] = {}
    for cam in video_cams:
        for name in (camera_prefix(cam), cam):  # the second: files named after the video (older exports)
            if name in files:
                linked[cam] = name
                break
    unlinked = sorted(set(files) - set(linked.values()))
    cams: dict[str, dict[str, Any]] = {}
    out_arrays: dict[str, np.ndarray] = {}
    out_attrs: dict[str, dict[str, Any]] = {}
    for cam in [*video_cams, *unlinked]:
        prefix = linked.get(cam, cam if cam in files else camera_prefix(cam))
        found = files.get(prefix, {})
        info: dict[str, Any] = {"has_video": cam in video_cams, "parameter_prefix": prefix}
        info["parameter_files"] = sorted(p.name for p in found.values())
        if "intrinsic_params" in found:
            info["intrinsic"] = _intrinsic(found["intrinsic_params"])
        elif cam in video_cams:
            warnings.append(f"{cam}: no {prefix}_intrinsic_params.json")
        info["has_intrinsics"] = "intrinsic" in info
        if "extrinsic_params" in found:  # parsed even beside an aligned file: a bad one is named
            rot, trans = _extrinsics(found["extrinsic_params"])
            info["unaligned_extrinsic"] = {"rotation_matrix": rot[0].tolist(), "translation_vector": trans[0].tolist()}
        pose_file = found.get("extrinsic_params_aligned") or found.get("extrinsic_params")
        info["has_extrinsics"] = pose_file is not None
        if pose_file is not None:
            rot, trans, how = _camera_track(prefix, pose_file, n, arrays, warnings)
            out_arrays[f"cameras/{cam}/rotation"], out_arrays[f"cameras/{cam}/translation"] = rot, trans
            out_attrs[f"cameras/{cam}/rotation"] = {**CAMERA_POSE_MEANING, "source": how}
            out_attrs[f"cameras/{cam}/translation"] = {**CAMERA_POSE_MEANING, "unit": "m", "source": how}
            info["extrinsics"] = how
        cams[cam] = info
    result: dict[str, Any] = dict(cams)
    if other:
        result["_other_files"] = other
    if ref.camera_dir is not None:
        result["_folder"] = str(ref.camera_dir.relative_to(ref.root)) if ref.camera_dir.is_relative_to(ref.root) else str(ref.camera_dir)
    return result, out_arrays, out_attrs


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
        "vectors": vector_metadata() if effector["type"] == "gripper" else {"refused": "dexterous-hand episode"},
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
