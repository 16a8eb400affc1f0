"""Reading task_info and camera parameter json files: segments, intrinsics, extrinsics, camera tracks."""

from __future__ import annotations

import json
import math
import re
from pathlib import Path
from typing import Any

import numpy as np

from goalframe.schemas.episode import RawFormatError
from goalframe.schemas.rotations import carried_pose, quaternion_matrix
from goalframe.sources.agibot_format import (
    EpisodeRef,
)

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
        warnings.append(
            f"{path.name}: bytes that are not UTF-8 (first at byte {exc.start}) replaced by U+FFFD"
        )
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
        out.append(
            {
                **seg,
                "start_frame": start,
                "end_frame": end,
                **({"action_text": text} if text is not None else {}),
            }
        )
    return out


def _number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


def _intrinsic(path: Path) -> dict[str, float]:
    doc = _load_json(path)
    intr = doc.get("intrinsic") if isinstance(doc, dict) else None
    if not isinstance(intr, dict) or not all(_number(intr.get(k)) for k in ("fx", "fy", "ppx", "ppy")):
        raise RawFormatError(path, 'expected {"intrinsic": {"fx", "fy", "ppx", "ppy"}} with numbers')
    return {k: float(v) for k, v in intr.items() if _number(v)}


_CAM_FILE = re.compile(
    r"^(?P<cam>.+?)_(?P<kind>intrinsic_params|extrinsic_params_aligned|extrinsic_params)\.json$"
)
HAND_ARMS = {"hand_left": 0, "hand_right": 1}
CAMERA_POSE_MEANING = {
    "transform": "camera to robot base: p_base = R @ p_cam + t",
    "camera_frame": "x right, y down, z forward",
}


def camera_prefix(video: str) -> str:
    """The name a camera's parameter files start with: the video's stem without ``_color``."""
    return video[: -len("_color")] if video.endswith("_color") else video


def _pose_entry(path: Path, entry: Any) -> tuple[np.ndarray, np.ndarray]:
    try:
        rot = np.array(entry["extrinsic"]["rotation_matrix"], dtype=np.float64)
        trans = np.array(entry["extrinsic"]["translation_vector"], dtype=np.float64)
    except (KeyError, TypeError, ValueError):
        raise RawFormatError(
            path, 'each entry must be {"extrinsic": {"rotation_matrix": 3x3, "translation_vector": 3}}'
        ) from None
    if rot.shape != (3, 3) or trans.shape != (3,):
        raise RawFormatError(
            path, f"rotation_matrix must be 3x3 and translation_vector 3, got {rot.shape} and {trans.shape}"
        )
    if not (np.all(np.isfinite(rot)) and np.all(np.isfinite(trans))):
        raise RawFormatError(path, "non-finite extrinsics")
    return rot, trans


def _extrinsics(path: Path) -> tuple[np.ndarray, np.ndarray]:
    """(F, 3, 3), (F, 3) from an aligned list (one per frame) or an unaligned single dict."""
    doc = _load_json(path)
    entries = [doc] if isinstance(doc, dict) else doc
    if not isinstance(entries, list) or not entries:
        raise RawFormatError(
            path, "expected a non-empty list of per-frame extrinsics or one extrinsic object"
        )
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
        return (
            rot,
            trans,
            (
                f"one pose in {path.name}, carried with the {('left', 'right')[arm]} arm's flange pose"
                " (states/end/*)"
            ),
        )
    if arm is not None:
        warnings.append(
            f"{path.name}: one extrinsic for a hand camera and no end pose to carry it; kept fixed"
        )
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
            info["unaligned_extrinsic"] = {
                "rotation_matrix": rot[0].tolist(),
                "translation_vector": trans[0].tolist(),
            }
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
        result["_folder"] = (
            str(ref.camera_dir.relative_to(ref.root))
            if ref.camera_dir.is_relative_to(ref.root)
            else str(ref.camera_dir)
        )
    return result, out_arrays, out_attrs
