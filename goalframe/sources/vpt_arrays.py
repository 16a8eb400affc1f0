"""Turning parsed VPT jsonl columns into the episode arrays: buttons, keys, mouse, stats, pauses."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from goalframe.sources.vpt_actions import VPT_ACTION_ATTRS, convert_actions
from goalframe.sources.vpt_format import (
    BASE_KEY_VOCABULARY,
    FPS,
    MOUSE_ARRAYS,
    MOUSE_BUTTON_NAMES,
    MOUSE_FIELDS,
    N_MOUSE_BUTTONS,
    POSE_FIELDS,
)
from goalframe.sources.vpt_jsonl import (
    _Columns,
    shown_path,
)
from goalframe.sources.vpt_recorder import (
    PAUSE_GAP_MS,
    Window,
    pauses_before,
    version_factor,
)

# --------------------------------------------------------------------------- arrays


def _multi_hot(rows: list[list[str]], index: dict[str, int]) -> np.ndarray:
    out = np.zeros((len(rows), len(index)), dtype=bool)
    for t, row in enumerate(rows):
        for name in row:
            out[t, index[name]] = True
    return out


def _button_hot(rows: list[list[int]], quirks: Counter) -> np.ndarray:
    out = np.zeros((len(rows), N_MOUSE_BUTTONS), dtype=bool)
    for t, row in enumerate(rows):
        for b in row:
            if 0 <= b < N_MOUSE_BUTTONS:
                out[t, b] = True
            else:
                quirks["mouse_buttons_out_of_range"] += 1
    return out


def _timestamps(
    milli: list[int | None], warnings: list[str], path: Path
) -> tuple[np.ndarray, np.ndarray, int]:
    """ns timestamps from ``milli``; lines without it get previous + 50 ms (or index * 50 ms)."""
    step_ns = 1_000_000_000 // FPS
    ms = np.array([-1 if m is None else m for m in milli], dtype=np.int64)
    ts = ms * 1_000_000
    gaps = [i for i, m in enumerate(milli) if m is None]
    for i in gaps:
        ts[i] = ts[i - 1] + step_ns if i > 0 else 0
    if gaps and milli[0] is None:  # anchor a leading gap on the first known stamp, if any
        first = next((i for i, m in enumerate(milli) if m is not None), None)
        if first is not None:
            ts[:first] = ts[first] - step_ns * np.arange(first, 0, -1)
    if gaps:
        warnings.append(
            f"{shown_path(path)}: {len(gaps)} line(s) without 'milli', timestamps filled at 50 ms steps"
        )
    return ms, ts, len(gaps)


def _stats_table(
    stats: list[dict[str, int | None] | None],
) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str], int]:
    """The sparse (frame, key, value) table of counter changes, and how many counters vanished.

    The recorder lists only NON-ZERO counters, so a counter missing from a line that has
    ``stats`` is 0 there: it gets a row with value 0 on the frame it vanished, and counts
    up from 0 when it comes back. A line without ``stats`` at all, or a counter listed with a
    null value, tells nothing: the last value stands.
    """
    names = sorted({name for s in stats if s for name, v in s.items() if v is not None})
    index = {n: i for i, n in enumerate(names)}
    frames: list[int] = []
    keys: list[int] = []
    values: list[int] = []
    last: dict[str, int] = {}
    vanished = 0

    def record(t: int, name: str, value: int) -> None:
        frames.append(t)
        keys.append(index[name])
        values.append(value)
        last[name] = value

    for t, s in enumerate(stats):
        if s is None:
            continue
        for name in sorted(n for n, v in s.items() if v is not None):
            if last.get(name) != s[name]:
                record(t, name, s[name])
        for name in sorted(n for n, v in last.items() if v != 0 and n not in s):
            record(t, name, 0)
            vanished += 1
    return (
        np.array(frames, dtype=np.int32),
        np.array(keys, dtype=np.int32),
        np.array(values, dtype=np.int64),
        names,
        vanished,
    )


@dataclass(frozen=True)
class _Recording:
    """What the reader knows about how a segment was recorded (beyond its lines)."""

    window: Window
    version: str | None
    truncate_camera: bool


def _mouse_arrays(
    cols: _Columns, recording: _Recording, attrs: dict[str, dict[str, Any]], quirks: dict[str, Any]
) -> dict[str, np.ndarray]:
    """``actions/mouse/*`` as recorded, except VPT's recorder-version factor on GUI-open deltas."""
    arrays = {
        f"actions/mouse/{name}": np.array(cols.mouse[field_name], dtype=np.float32)
        for field_name, name in zip(MOUSE_FIELDS, MOUSE_ARRAYS)
    }
    window = recording.window
    gui_scaled = np.array(cols.gui_open, dtype=bool)
    factor = version_factor(recording.version)
    if factor != 1.0:  # VPT lists these factors but never applies them; actions/vpt/* stays VPT's
        for name in ("dx", "dy"):
            arrays[f"actions/mouse/{name}"][gui_scaled] *= np.float32(factor)
    quirks["gui_open_lines"] = int(gui_scaled.sum())
    arrays["actions/mouse/gui_scaled"] = gui_scaled
    gui = {
        "gui_scaled": (
            "on frames where actions/mouse/gui_scaled is true (a GUI was open) the recorder "
            "divided this value by the GUI scale factor guiScale / framebufferToWindowRatio"
        ),
        "gui_scale_factor": window.gui_scale_factor,
    }
    position = {
        "units": f"window pixels ({window.width}x{window.height} window)",
        "window_size": list(window.size),
        "to_frame": "frame col = x * frame_width / window_width, row = y * frame_height / window_height",
    }
    attrs["actions/mouse/x"] = attrs["actions/mouse/y"] = position
    attrs["actions/mouse/dx"] = attrs["actions/mouse/dy"] = {
        "units": "mouse counts; camera deg = value * 360/2400",
        **gui,
        "recorder_version": recording.version,
        "recorder_version_factor": factor,
        "recorder_version_factor_note": (
            "VPT's MINEREC_VERSION_SPECIFIC_SCALERS (5.7, 5.8: x0.5; 6.7-6.9: x2.0), "
            "applied here to GUI-open frames only; actions/vpt/camera keeps the recorded deltas as VPT does"
        ),
    }
    attrs["actions/mouse/scaled_x"] = attrs["actions/mouse/scaled_y"] = {
        "units": "recorder scaledX/scaledY",
        **gui,
    }
    attrs["actions/mouse/dwheel"] = {"units": "scroll wheel steps"}
    attrs["actions/mouse/gui_scaled"] = {
        "meaning": "a GUI was open (states/gui/open): dx, dy, scaled_x, scaled_y are GUI-scaled"
    }
    return arrays


def _pause_array(
    ms: np.ndarray, attrs: dict[str, dict[str, Any]], quirks: dict[str, Any], warnings: list[str], shown: str
) -> np.ndarray:
    paused = pauses_before(ms)
    gaps = np.diff(ms)[paused[1:]] if len(ms) > 1 else np.zeros(0, dtype=np.int64)
    attrs["states/paused_before"] = {
        "meaning": (
            "the game was paused just before this frame: milli jumped while no line and no frame "
            "were written (tick does not advance in a pause); no frames are missing"
        ),
        "threshold_ms": PAUSE_GAP_MS,
    }
    quirks["pauses"] = int(paused.sum())
    quirks["paused_ms"] = int(gaps.sum())
    if paused.any():
        frames = ", ".join(str(int(f)) for f in np.flatnonzero(paused)[:5])
        warnings.append(
            f"{shown}: game paused {int(paused.sum())} time(s), {gaps.sum() / 1000:.1f} s in all (milli jumps"
            f" before frame {frames}); no frames are missing, flagged in states/paused_before"
        )
    return paused


def _build_arrays(
    cols: _Columns, quirks: dict[str, Any], warnings: list[str], path: Path, recording: _Recording
):
    counter: Counter[str] = Counter()
    arrays: dict[str, np.ndarray] = {}
    attrs: dict[str, dict[str, Any]] = {}

    arrays.update(_mouse_arrays(cols, recording, attrs, quirks))
    for name, rows in (("buttons", cols.buttons), ("new_buttons", cols.new_buttons)):
        arrays[f"actions/mouse/{name}"] = _button_hot(rows, counter)
        attrs[f"actions/mouse/{name}"] = {
            "vocabulary": list(range(N_MOUSE_BUTTONS)),
            "names": MOUSE_BUTTON_NAMES,
        }

    seen = {k for row in cols.keys for k in row} | {k for row in cols.new_keys for k in row}
    base = set(BASE_KEY_VOCABULARY)
    vocabulary = BASE_KEY_VOCABULARY + sorted(seen - base)
    key_index = {k: i for i, k in enumerate(vocabulary)}
    arrays["actions/keyboard/keys"] = _multi_hot(cols.keys, key_index)
    arrays["actions/keyboard/new_keys"] = _multi_hot(cols.new_keys, key_index)
    for name in ("keys", "new_keys"):
        attrs[f"actions/keyboard/{name}"] = {"vocabulary": vocabulary, "n_base": len(BASE_KEY_VOCABULARY)}
    chars = np.empty(len(cols.chars), dtype=object)
    chars[:] = cols.chars
    arrays["actions/keyboard/chars"] = chars
    attrs["actions/keyboard/chars"] = {"encoding": "utf-8 text typed during the tick"}

    arrays["states/gui/open"] = np.array(cols.gui_open, dtype=bool)
    arrays["states/gui/inventory"] = np.array(cols.gui_inventory, dtype=bool)
    arrays["states/hotbar"] = np.array(cols.hotbar, dtype=np.int8)
    attrs["states/hotbar"] = {"range": [0, 8]}
    for k in POSE_FIELDS:
        arrays[f"states/{k}"] = np.array(cols.pose[k], dtype=np.float64)
    attrs["states/yaw"] = attrs["states/pitch"] = {"units": "degrees"}
    attrs["states/xpos"] = attrs["states/ypos"] = attrs["states/zpos"] = {"units": "blocks"}
    arrays["states/tick"] = np.array(cols.tick, dtype=np.int64)
    ms, ts, n_gaps = _timestamps(cols.milli, warnings, path)
    arrays["states/milli"] = ms
    attrs["states/milli"] = {"units": "unix epoch ms", "missing": -1}
    arrays["states/paused_before"] = _pause_array(ms, attrs, quirks, warnings, shown_path(path))
    arrays["states/server_tick"] = np.array(cols.server_tick, dtype=np.int64)
    attrs["states/server_tick"] = {"missing": -1}
    arrays["states/server_tick_duration_ms"] = np.array(cols.server_ms, dtype=np.float32)
    attrs["states/server_tick_duration_ms"] = {"units": "ms", "missing": "NaN"}

    items = sorted({k for inv in cols.inventory for k in inv})
    item_index = {k: i for i, k in enumerate(items)}
    quantity = np.zeros((len(cols.inventory), len(items)), dtype=np.int32)
    for t, inv in enumerate(cols.inventory):
        for k, q in inv.items():
            quantity[t, item_index[k]] = q
    arrays["states/inventory/quantity"] = quantity
    attrs["states/inventory/quantity"] = {
        "vocabulary": items,
        "note": "summed over the slots holding each type",
    }

    frame, key, value, stat_names, vanished = _stats_table(cols.stats)
    arrays["states/stats/frame"] = frame
    arrays["states/stats/key"] = key
    arrays["states/stats/value"] = value
    sparse = {"sparse": True, "table": "states/stats", "columns": ["frame", "key", "value"]}
    attrs["states/stats/frame"] = {**sparse, "meaning": "frame where the cumulative counter changed"}
    attrs["states/stats/key"] = {**sparse, "vocabulary": stat_names}
    attrs["states/stats/value"] = {
        **sparse,
        "meaning": "cumulative counter value from that frame on",
        "vanished": (
            "the recorder lists only non-zero counters: a counter missing from a line is 0 there "
            "(a row with value 0 where it vanished); when it comes back it counts up from 0"
        ),
    }
    quirks["vanished_counters"] = vanished

    vpt_stats: dict[str, Any] = {}
    arrays.update(convert_actions(cols.lines, truncate_camera=recording.truncate_camera, stats=vpt_stats))
    attrs.update({k: dict(v) for k, v in VPT_ACTION_ATTRS.items()})
    attrs["actions/vpt/camera"]["conversion"] = (
        "truncated toward zero (VPT's integer array, --truncate-camera)"
        if recording.truncate_camera
        else "float (MineStudio)"
    )

    quirks.update(vpt_stats)
    quirks["mouse_buttons_out_of_range"] = counter["mouse_buttons_out_of_range"]
    quirks["timestamps_filled"] = n_gaps
    return arrays, attrs, ts
