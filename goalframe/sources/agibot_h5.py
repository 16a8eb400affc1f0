"""Reading proprio_stats.h5: state and action arrays, index-aligned actions, effector kind."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import h5py
import numpy as np

from goalframe.schemas.episode import RawFormatError
from goalframe.sources.agibot_format import (
    DEXHAND_JOINTS,
    EFFECTOR_THRESHOLD_FRACTION,
    REQUIRED_KEYS,
)

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
        whole = (
            np.issubdtype(index.dtype, np.floating)
            and np.all(np.isfinite(index))
            and np.all(index == np.round(index))
        )
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
        if (
            parts[0] != "action"
            or len(parts) < 3
            or arr.size == 0
            or (len(parts) == 3 and parts[2] == "index")
        ):
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
        warnings.append(
            f"{key}: {int((~keep).sum())} rows share a frame with a later row; the last row per frame is kept"
        )
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
                raise RawFormatError(
                    path, f"{key} has {m} rows, longer than the {n} state frames: corrupt recording"
                )
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
                raise RawFormatError(
                    path, f"{key} has {m} rows, shorter than the {n} state frames, and no {index_key}"
                )
            frames, rows = _rows_by_index(path, key, used_key, arr, used, warnings)
            out, source = _fill_source(data, group, name, arr, n, effector)
            out[frames] = rows
            placed = np.zeros(n, bool)
            placed[frames] = True
            commanded = placed if commanded is None else commanded | placed
            n_filled = int(n - placed.sum())
            arrays[out_key] = out
            attrs[out_key] = {
                "rows_in_file": m,
                "filled_rows": n_filled,
                "filled_from": source["source"],
                "placed_by": used_key,
            }
            filled |= ~placed
            if n_filled:
                fill_info[f"{group}/{name}"] = {**source, "filled_rows": n_filled}
        arrays[f"actions/{group}/filled"] = filled
        attrs[f"actions/{group}/filled"] = {
            "meaning": (
                f"True where no action row was recorded for the frame and actions/{group}/* was filled from"
                " state"
            )
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
                "rule": (
                    f"1 (closed) where the opening is below {EFFECTOR_THRESHOLD_FRACTION} x the episode's"
                    " largest opening, else 0"
                ),
            }
    for candidate in (f"state/{group}/{name}", f"state/{group}/position"):
        state = data.get(candidate)
        if state is not None and state.size and len(state) == n and state.shape[1:] == tail:
            return np.array(state, dtype=dtype), {
                "source": candidate,
                "method": "copy of the state at the same frame",
            }
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
        return {
            "type": "dexhand",
            "width": width,
            "unit": "rad",
            "joints_per_hand": DEXHAND_JOINTS,
            "axes": ["left hand joints [:6]", "right hand joints [6:]"],
        }
    return {"type": "gripper", "width": width, "unit": "mm", "axes": ["left opening", "right opening"]}
