"""Reader for OpenAI VPT contractor recordings (Minecraft): ``.mp4`` + ``.jsonl`` (+ options).

Layout (openai/Video-Pre-Training README, "Data format"): one segment is
``<recorder-version>/<alias>-<session>-<YYYYMMDD>-<HHMMSS>`` plus ``.mp4`` (640x360, 20 fps),
``.jsonl`` (one JSON object per tick), ``-options.json`` and a world ``.zip`` (ignored).
Index files ``{"basedir": ..., "relpaths": [...]}`` list segments.

:func:`discover` finds segments cheaply; :func:`read` parses and validates one into a
:class:`~goalframe.schemas.RawEpisode` with typed arrays (see :func:`read` for names).
"""

from __future__ import annotations

import json
import math
import os
import re
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from goalframe.schemas.episode import RawEpisode, RawFormatError, VideoRef
from goalframe.media.video import probe_video
from goalframe.sources.vpt_actions import VPT_ACTION_ATTRS, convert_actions
from goalframe.sources.vpt_recorder import PAUSE_GAP_MS, Window, pauses_before, version_factor, window_from_options

SOURCE_FORMAT = "vpt"
CAMERA = "pov"  # MineRL's name for the first-person view
FPS = 20
N_MOUSE_BUTTONS = 8
OPTIONS_SUFFIX = "-options.json"
MAX_LINE_WARNINGS = 10  # per kind of line warning; the rest are summarised

_VERSION_RE = re.compile(r"^\d+(\.\d+)*$")
_UNSAFE_RE = re.compile(r"[^A-Za-z0-9._-]")


def _glfw_key_names() -> list[str]:
    """Minecraft's (1.16, GLFW) input names, as the recorder writes them in ``keys``."""
    names = ["key.keyboard.unknown"]
    names += [f"key.mouse.{b}" for b in ("left", "right", "middle")]
    names += [f"key.mouse.{i}" for i in range(4, 9)]
    names += [f"key.keyboard.{i}" for i in range(10)]
    names += [f"key.keyboard.{chr(c)}" for c in range(ord("a"), ord("z") + 1)]
    names += [f"key.keyboard.f{i}" for i in range(1, 26)]
    names += ["key.keyboard.num.lock"]
    names += [f"key.keyboard.keypad.{i}" for i in range(10)]
    names += [
        f"key.keyboard.keypad.{k}"
        for k in ("add", "decimal", "enter", "equal", "multiply", "divide", "subtract")
    ]
    names += [
        f"key.keyboard.{k}"
        for k in (
            "down", "left", "right", "up", "apostrophe", "backslash", "comma", "equal",
            "grave.accent", "left.bracket", "minus", "period", "right.bracket", "semicolon",
            "slash", "space", "tab", "left.alt", "left.control", "left.shift", "left.win",
            "right.alt", "right.control", "right.shift", "right.win", "enter", "escape",
            "backspace", "delete", "end", "home", "insert", "page.down", "page.up",
            "caps.lock", "pause", "scroll.lock", "menu", "print.screen", "world.1", "world.2",
        )
    ]  # fmt: skip
    return names


#: Fixed base key vocabulary; names seen in an episode but not here are appended, sorted.
BASE_KEY_VOCABULARY: list[str] = _glfw_key_names()

MOUSE_BUTTON_NAMES = ["left (attack)", "right (use)", "middle (pickItem)"] + [
    f"button {i}" for i in range(3, N_MOUSE_BUTTONS)
]

MOUSE_FIELDS = ("x", "y", "dx", "dy", "scaledX", "scaledY", "dwheel")
MOUSE_ARRAYS = ("x", "y", "dx", "dy", "scaled_x", "scaled_y", "dwheel")
POSE_FIELDS = ("yaw", "pitch", "xpos", "ypos", "zpos")


def safe_episode_id(stem: str) -> str:
    """A zarr-safe group name: characters outside ``[A-Za-z0-9._-]`` become ``_``."""
    name = _UNSAFE_RE.sub("_", stem) or "_"
    if name.startswith("__"):  # zarr reserves names starting with "__"
        name = "ep" + name
    if set(name) == {"."}:
        name = name.replace(".", "_")
    return name


def _version_of(folder: Path) -> str | None:
    return folder.name if _VERSION_RE.match(folder.name) else None


@dataclass
class EpisodeRef:
    """One VPT segment: where its files are (or should be); nothing is opened."""

    episode_id: str
    jsonl: Path
    mp4: Path
    options: Path | None
    version: str | None

    @property
    def paths(self) -> list[Path]:
        return [p for p in (self.jsonl, self.mp4, self.options) if p is not None]


# --------------------------------------------------------------------------- discovery


def _ref_for(base: Path) -> EpisodeRef:
    """``base`` is a segment path without suffix (``.../6.13/alias-session-date-time``)."""
    options = base.parent / (base.name + OPTIONS_SUFFIX)
    return EpisodeRef(
        episode_id=safe_episode_id(base.name),
        jsonl=base.parent / (base.name + ".jsonl"),
        mp4=base.parent / (base.name + ".mp4"),
        options=options if options.is_file() else None,
        version=_version_of(base.parent),
    )


def _finish(bases: Iterable[Path]) -> list[EpisodeRef]:
    refs = [_ref_for(b) for b in sorted(set(bases), key=lambda p: (p.name, str(p)))]
    counts = Counter(r.episode_id for r in refs)
    for ref in refs:  # the same stem in two folders: prefix the folder name
        if counts[ref.episode_id] > 1:
            ref.episode_id = safe_episode_id(f"{ref.jsonl.parent.name}_{ref.jsonl.stem}")
    seen: Counter[str] = Counter()
    for ref in refs:  # still equal (same folder name twice): number them
        seen[ref.episode_id] += 1
        if seen[ref.episode_id] > 1:
            ref.episode_id = f"{ref.episode_id}-{seen[ref.episode_id]}"
    return sorted(refs, key=lambda r: (r.episode_id, str(r.jsonl)))


def _strip_suffix(relpath: str) -> str:
    for suffix in (".mp4", ".jsonl", OPTIONS_SUFFIX, ".zip"):
        if relpath.endswith(suffix):
            return relpath[: -len(suffix)]
    return relpath


def _discover_index(index: Path) -> list[EpisodeRef]:
    try:
        spec = json.loads(index.read_bytes())
    except (OSError, ValueError) as exc:
        raise RawFormatError(shown_path(index), f"unreadable index file ({exc.__class__.__name__}: {exc})") from None
    if not isinstance(spec, dict) or not isinstance(spec.get("relpaths"), list):
        raise RawFormatError(shown_path(index), 'index file needs {"basedir": ..., "relpaths": [...]}')
    basedir = spec.get("basedir")
    root = Path(basedir) if isinstance(basedir, str) and basedir else None
    if root is not None and not root.is_absolute():
        root = index.parent / root
    if root is None or not root.is_dir():  # a URL, or data copied elsewhere: use the index's folder
        root = index.parent
    bases = []
    for rel in spec["relpaths"]:
        if not isinstance(rel, str) or not rel.strip():
            raise RawFormatError(shown_path(index), f"relpaths entry {rel!r} is not a path")
        bases.append(root / _strip_suffix(rel.strip().lstrip("/")))
    return _finish(bases)


def discover(raw: str | Path) -> list[EpisodeRef]:
    """Find VPT segments under ``raw``, sorted by episode id; cheap, decodes nothing.

    ``raw`` may be a directory (searched recursively; ``.jsonl`` and ``.mp4`` paired by
    stem, a stem with only one of them still listed so that :func:`read` names the missing
    file), an index json ``{"basedir", "relpaths"}`` (``basedir`` falls back to the index
    file's folder when it does not exist locally), or one ``.jsonl``/``.mp4`` file.
    """
    raw = Path(raw)
    if raw.is_dir():
        bases = [p.with_suffix("") for p in raw.rglob("*.jsonl") if p.is_file()]
        bases += [p.with_suffix("") for p in raw.rglob("*.mp4") if p.is_file()]
        return _finish(bases)
    if raw.is_file():
        if raw.suffix in (".jsonl", ".mp4"):
            return _finish([raw.with_suffix("")])
        if raw.suffix == ".json":
            return _discover_index(raw)
        raise RawFormatError(shown_path(raw), "not a VPT directory, index .json, .jsonl or .mp4")
    raise RawFormatError(shown_path(raw), "does not exist")


# --------------------------------------------------------------------------- jsonl parsing


class _LineError(Exception):
    pass


def _number(obj: dict | None, key: str, name: str, missing: Counter, default: float) -> float:
    if obj is None:  # the whole section is null or absent (counted once, by _section)
        return default
    value = obj.get(key)
    if value is None:
        missing[name] += 1
        return default
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise _LineError(f"field '{name}' is {type(value).__name__} {value!r:.40}, expected a number")
    return value


def _integer(obj: dict | None, key: str, name: str, missing: Counter, default: int) -> int:
    value = _number(obj, key, name, missing, default)
    if isinstance(value, float):
        if not value.is_integer():
            raise _LineError(f"field '{name}' is {value!r}, expected an integer")
        value = int(value)
    return value


def _flag(obj: dict, key: str, missing: Counter) -> bool:
    value = obj.get(key)
    if value is None:
        missing[key] += 1
        return False
    if not isinstance(value, (bool, int)):
        raise _LineError(f"field '{key}' is {type(value).__name__}, expected a bool")
    return bool(value)


def _list(obj: dict | None, key: str, name: str, missing: Counter, kind: type) -> list:
    if obj is None:
        return []
    value = obj.get(key)
    if value is None:
        missing[name] += 1
        return []
    if not isinstance(value, list) or not all(
        isinstance(v, kind) and not (kind is int and isinstance(v, bool)) for v in value
    ):
        raise _LineError(f"field '{name}' is {value!r:.60}, expected a list of {kind.__name__}")
    return value


def _section(line: dict, key: str, missing: Counter, nulls: Counter) -> dict | None:
    if key not in line:
        missing[key] += 1
        return None
    value = line[key]
    if value is None:  # old recorder versions write null mouse / keyboard
        nulls[key] += 1
        return None
    if not isinstance(value, dict):
        raise _LineError(f"field '{key}' is {type(value).__name__}, expected an object")
    return value


_SURROGATE_RE = re.compile("[\ud800-\udfff]")


def _has_surrogates(text: str) -> bool:
    return _SURROGATE_RE.search(text) is not None


def shown_path(path: str | Path) -> str:
    """``path`` as printable text: name bytes that are not UTF-8 (surrogate escapes) become U+FFFD."""
    return _SURROGATE_RE.sub("\ufffd", str(path))


def raw_name(path: Path) -> str:
    """The file name's exact bytes, non-UTF-8 ones written as ``\\xff`` escapes."""
    return os.fsencode(path.name).decode("utf-8", errors="backslashreplace")


def _per_field(names: tuple[str, ...]):
    return field(default_factory=lambda: {k: [] for k in names})


@dataclass
class _Columns:
    mouse: dict[str, list[float]] = _per_field(MOUSE_FIELDS)
    buttons: list[list[int]] = field(default_factory=list)
    new_buttons: list[list[int]] = field(default_factory=list)
    keys: list[list[str]] = field(default_factory=list)
    new_keys: list[list[str]] = field(default_factory=list)
    chars: list[str] = field(default_factory=list)
    gui_open: list[bool] = field(default_factory=list)
    gui_inventory: list[bool] = field(default_factory=list)
    hotbar: list[int] = field(default_factory=list)
    pose: dict[str, list[float]] = _per_field(POSE_FIELDS)
    tick: list[int] = field(default_factory=list)
    milli: list[int | None] = field(default_factory=list)
    server_tick: list[int] = field(default_factory=list)
    server_ms: list[float] = field(default_factory=list)
    inventory: list[dict[str, int]] = field(default_factory=list)
    stats: list[dict[str, int | None] | None] = field(default_factory=list)
    lines: list[dict] = field(default_factory=list)  # minimal per-line dicts for the VPT conversion


def _parse_line(
    line: Any, index: int, cols: _Columns, missing: Counter, nulls: Counter, quirks: Counter
) -> None:
    """Validate one decoded JSON line and append it to ``cols`` (all or nothing)."""
    if not isinstance(line, dict):
        raise _LineError(f"line is a JSON {type(line).__name__}, expected an object")
    miss: Counter[str] = Counter()
    null: Counter[str] = Counter()
    mouse = _section(line, "mouse", miss, null)
    keyboard = _section(line, "keyboard", miss, null)
    mouse_values = {k: float(_number(mouse, k, f"mouse.{k}", miss, 0.0)) for k in MOUSE_FIELDS}
    buttons = _list(mouse, "buttons", "mouse.buttons", miss, int)
    new_buttons = _list(mouse, "newButtons", "mouse.newButtons", miss, int)
    keys = _list(keyboard, "keys", "keyboard.keys", miss, str)
    new_keys = _list(keyboard, "newKeys", "keyboard.newKeys", miss, str)
    chars = keyboard.get("chars") if keyboard is not None else ""
    if chars is None:
        miss["keyboard.chars"] += 1
        chars = ""
    elif not isinstance(chars, str):
        raise _LineError(f"field 'keyboard.chars' is {type(chars).__name__}, expected a string")
    if _has_surrogates(chars):  # "\udcxx" escapes: not encodable as UTF-8
        chars = _SURROGATE_RE.sub("\ufffd", chars)
        quirks["surrogates_replaced_lines"] += 1
    gui_open = _flag(line, "isGuiOpen", miss)
    gui_inventory = _flag(line, "isGuiInventory", miss)
    hotbar = _integer(line, "hotbar", "hotbar", miss, 0)
    pose = {k: float(_number(line, k, k, miss, math.nan)) for k in POSE_FIELDS}
    tick = _integer(line, "tick", "tick", miss, -1)
    if tick == -1 and "tick" in miss:
        tick = index  # one line per tick, 0 at file start
    milli_missing = "milli" not in line or line["milli"] is None
    milli = None if milli_missing else _integer(line, "milli", "milli", miss, -1)
    if milli_missing:
        miss["milli"] += 1
    server_tick = _integer(line, "serverTick", "serverTick", miss, -1)
    server_ms = float(_number(line, "serverTickDurationMs", "serverTickDurationMs", miss, math.nan))

    inventory: dict[str, int] = {}
    raw_inventory = line.get("inventory")
    if raw_inventory is None:
        miss["inventory"] += 1
    elif not isinstance(raw_inventory, list):
        raise _LineError(f"field 'inventory' is {type(raw_inventory).__name__}, expected a list")
    else:
        for slot in raw_inventory:
            if not isinstance(slot, dict) or not isinstance(slot.get("type"), str):
                raise _LineError(f"inventory entry {slot!r:.60} lacks a 'type'")
            quantity = _integer(slot, "quantity", "inventory.quantity", miss, 0)
            if slot["type"] in inventory:
                quirks["inventory_repeated_types"] += 1
            inventory[slot["type"]] = inventory.get(slot["type"], 0) + quantity

    stats = line.get("stats")
    if stats is None:
        miss["stats"] += 1
    elif not isinstance(stats, dict):
        raise _LineError(f"field 'stats' is {type(stats).__name__}, expected an object")
    else:
        # a null value is unknown, not 0: kept as None so that the counter does not "vanish"
        stats = {name: None if stats[name] is None else _integer(stats, name, name, miss, 0) for name in stats}

    # everything validated: commit the line
    missing.update(miss)
    nulls.update(null)
    for k in MOUSE_FIELDS:
        cols.mouse[k].append(mouse_values[k])
    cols.buttons.append(buttons)
    cols.new_buttons.append(new_buttons)
    cols.keys.append(keys)
    cols.new_keys.append(new_keys)
    cols.chars.append(chars)
    cols.gui_open.append(gui_open)
    cols.gui_inventory.append(gui_inventory)
    cols.hotbar.append(hotbar)
    for k in POSE_FIELDS:
        cols.pose[k].append(pose[k])
    cols.tick.append(tick)
    cols.milli.append(milli)
    cols.server_tick.append(server_tick)
    cols.server_ms.append(server_ms)
    cols.inventory.append(inventory)
    cols.stats.append(stats)
    cols.lines.append(
        {
            "mouse": None if mouse is None else {
                "dx": mouse_values["dx"], "dy": mouse_values["dy"],
                "buttons": buttons, "newButtons": new_buttons,
            },
            "keyboard": None if keyboard is None else {"keys": keys},
            "hotbar": hotbar,
        }
    )  # fmt: skip


def _split_lines(data: bytes) -> list[bytes]:
    lines = data.split(b"\n")
    if lines and lines[-1] == b"":
        lines.pop()  # the newline that ends the last line
    return [line[:-1] if line.endswith(b"\r") else line for line in lines]


def _summarise(warnings: list[str], items: list[str], what: str) -> None:
    warnings.extend(items[:MAX_LINE_WARNINGS])
    if len(items) > MAX_LINE_WARNINGS:
        warnings.append(f"... and {len(items) - MAX_LINE_WARNINGS} more lines with {what}")


def parse_jsonl(path: Path, warnings: list[str]) -> tuple[_Columns, int, dict[str, Any]]:
    """Parse a VPT action file; returns (columns, n_lines counted for the video rule, info)."""
    data = path.read_bytes()
    raw_lines = _split_lines(data)
    while raw_lines and not raw_lines[-1].strip():  # blank lines at the very end
        raw_lines.pop()
        warnings.append(f"{shown_path(path)}: blank line(s) at the end ignored")
    n_lines = len(raw_lines)
    if n_lines == 0:
        raise RawFormatError(shown_path(path), "action file has no lines")
    cols = _Columns()
    missing: Counter[str] = Counter()
    nulls: Counter[str] = Counter()
    quirks: Counter[str] = Counter()
    replaced: list[str] = []
    dropped_last = False
    for number, raw in enumerate(raw_lines, start=1):
        last = number == n_lines
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("utf-8", errors="replace")
            replaced.append(f"{shown_path(path)}:{number}: invalid UTF-8 bytes replaced with U+FFFD")
        try:
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as exc:
                # json's own messages may end in "at" ("Unterminated string starting at")
                raise _LineError(f"malformed JSON ({exc.msg.removesuffix(' at')} at column {exc.colno})") from None
            _parse_line(obj, len(cols.lines), cols, missing, nulls, quirks)
        except (_LineError, RecursionError) as exc:
            if not last:
                raise RawFormatError(shown_path(path), str(exc), line=number) from None
            warnings.append(f"{shown_path(path)}:{number}: truncated or malformed last line dropped ({exc})")
            dropped_last = True
    _summarise(warnings, replaced, "invalid UTF-8")
    if not cols.lines:
        raise RawFormatError(shown_path(path), "action file has no valid lines")
    if quirks["surrogates_replaced_lines"]:
        warnings.append(
            f"{shown_path(path)}: {quirks['surrogates_replaced_lines']} line(s) had unpaired surrogate escapes in "
            "keyboard.chars, replaced with U+FFFD"
        )
    if nulls:
        warnings.append(
            f"{shown_path(path)}: null "
            + ", ".join(f"{k} on {v} line(s)" for k, v in sorted(nulls.items()))
            + " (old recorder version), read as no input"
        )
    if missing:
        fields = sorted(missing)
        shown = ", ".join(fields[:8]) + (f" and {len(fields) - 8} more" if len(fields) > 8 else "")
        warnings.append(f"{shown_path(path)}: fields missing on some lines, filled with neutral values: {shown}")
    info = {
        "missing_fields": sorted(set(missing) | {f"{k} (null)" for k in nulls}),
        "quirks": {
            "missing_field_lines": dict(sorted(missing.items())),
            "null_mouse_lines": nulls["mouse"],
            "null_keyboard_lines": nulls["keyboard"],
            "invalid_utf8_lines": len(replaced),
            "surrogates_replaced_lines": quirks["surrogates_replaced_lines"],
            "inventory_repeated_types": quirks["inventory_repeated_types"],
            "dropped_last_line": dropped_last,
        },
    }
    return cols, n_lines, info


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
        warnings.append(f"{shown_path(path)}: {len(gaps)} line(s) without 'milli', timestamps filled at 50 ms steps")
    return ms, ts, len(gaps)


def _stats_table(stats: list[dict[str, int | None] | None]) -> tuple[np.ndarray, np.ndarray, np.ndarray, list[str], int]:
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
        "gui_scaled": "on frames where actions/mouse/gui_scaled is true (a GUI was open) the recorder "
        "divided this value by the GUI scale factor guiScale / framebufferToWindowRatio",
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
        "recorder_version_factor_note": "VPT's MINEREC_VERSION_SPECIFIC_SCALERS (5.7, 5.8: x0.5; 6.7-6.9: x2.0), "
        "applied here to GUI-open frames only; actions/vpt/camera keeps the recorded deltas as VPT does",
    }
    attrs["actions/mouse/scaled_x"] = attrs["actions/mouse/scaled_y"] = {"units": "recorder scaledX/scaledY", **gui}
    attrs["actions/mouse/dwheel"] = {"units": "scroll wheel steps"}
    attrs["actions/mouse/gui_scaled"] = {"meaning": "a GUI was open (states/gui/open): dx, dy, scaled_x, scaled_y are GUI-scaled"}
    return arrays


def _pause_array(ms: np.ndarray, attrs: dict[str, dict[str, Any]], quirks: dict[str, Any], warnings: list[str], shown: str) -> np.ndarray:
    paused = pauses_before(ms)
    gaps = np.diff(ms)[paused[1:]] if len(ms) > 1 else np.zeros(0, dtype=np.int64)
    attrs["states/paused_before"] = {
        "meaning": "the game was paused just before this frame: milli jumped while no line and no frame "
        "were written (tick does not advance in a pause); no frames are missing",
        "threshold_ms": PAUSE_GAP_MS,
    }
    quirks["pauses"] = int(paused.sum())
    quirks["paused_ms"] = int(gaps.sum())
    if paused.any():
        frames = ", ".join(str(int(f)) for f in np.flatnonzero(paused)[:5])
        warnings.append(
            f"{shown}: game paused {int(paused.sum())} time(s), {gaps.sum() / 1000:.1f} s in all (milli jumps before "
            f"frame {frames}); no frames are missing, flagged in states/paused_before"
        )
    return paused


def _build_arrays(cols: _Columns, quirks: dict[str, Any], warnings: list[str], path: Path, recording: _Recording):
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
        "vanished": "the recorder lists only non-zero counters: a counter missing from a line is 0 there "
        "(a row with value 0 where it vanished); when it comes back it counts up from 0",
    }
    quirks["vanished_counters"] = vanished

    vpt_stats: dict[str, Any] = {}
    arrays.update(convert_actions(cols.lines, truncate_camera=recording.truncate_camera, stats=vpt_stats))
    attrs.update({k: dict(v) for k, v in VPT_ACTION_ATTRS.items()})
    attrs["actions/vpt/camera"]["conversion"] = (
        "truncated toward zero (VPT's integer array, --truncate-camera)" if recording.truncate_camera else "float (MineStudio)"
    )

    quirks.update(vpt_stats)
    quirks["mouse_buttons_out_of_range"] = counter["mouse_buttons_out_of_range"]
    quirks["timestamps_filled"] = n_gaps
    return arrays, attrs, ts


# --------------------------------------------------------------------------- read


def _read_options(ref: EpisodeRef, warnings: list[str]) -> tuple[dict | None, Path | None]:
    path = ref.options
    if path is None:
        candidate = ref.jsonl.parent / (ref.jsonl.stem + OPTIONS_SUFFIX)
        path = candidate if candidate.is_file() else None
    if path is None:
        warnings.append(f"{shown_path(ref.jsonl.parent / (ref.jsonl.stem + OPTIONS_SUFFIX))}: options file is missing (window taken as 1280x720)")
        return None, None
    try:
        options = json.loads(path.read_bytes())
    except (OSError, ValueError) as exc:
        warnings.append(f"{shown_path(path)}: unreadable options file ignored ({exc.__class__.__name__})")
        return None, path
    if not isinstance(options, dict):
        warnings.append(f"{shown_path(path)}: options file is not a JSON object, ignored")
        return None, path
    return options, path


def _window(options: dict | None, options_path: Path | None, ref: EpisodeRef, warnings: list[str]) -> Window:
    """The recording window from the options, with a warning when it is not the usual 1280x720."""
    window, missing = window_from_options(options)
    shown = shown_path(options_path or ref.jsonl)
    if missing is not None:
        if options is not None:  # a missing or unreadable options file has its own warning already
            warnings.append(f"{shown}: {missing}; cursor positions read as in a 1280x720 window")
    elif not window.is_usual:
        warnings.append(
            f"{shown}: window is {window.width}x{window.height}, not 1280x720; cursor positions are scaled from it"
        )
    return window


def _name_attrs(ref: EpisodeRef, warnings: list[str]) -> dict[str, Any]:
    """Raw file names that are not UTF-8: shown with U+FFFD, the exact bytes kept as escapes."""
    name = ref.jsonl.with_suffix("").name
    if not _has_surrogates(name):
        return {}
    warnings.append(
        f"{shown_path(ref.jsonl)}: file name has bytes that are not UTF-8, shown as U+FFFD; "
        "the exact name is in the episode attrs (raw_name)"
    )
    return {"raw_name": raw_name(ref.jsonl.with_suffix(""))}


def read(ref: EpisodeRef, truncate_camera: bool = False) -> RawEpisode:
    """Parse and validate one VPT segment.

    Raises :class:`RawFormatError` (one line, naming the file) for a missing ``.jsonl`` or
    ``.mp4``, an unreadable video, fps other than 20, a malformed line before the last, or
    a frame count outside ``n_lines <= n_frames <= n_lines + 1`` (``n_lines`` counts a
    dropped truncated last line too). The episode keeps ``T`` = valid lines; extra frames
    are left out through ``VideoRef.n_frames``. ``truncate_camera`` truncates
    ``actions/vpt/camera`` toward zero as VPT's own integer array does (exact parity);
    floats are the default.

    Arrays (first axis T unless said): ``actions/mouse/{x,y,dx,dy,scaled_x,scaled_y,dwheel}``
    float32 (x, y in window pixels of the options' window size; dx, dy on GUI-open frames
    times VPT's recorder-version factor); ``actions/mouse/gui_scaled`` bool;
    ``actions/mouse/{buttons,new_buttons}`` (T, 8) bool; ``actions/keyboard/
    {keys,new_keys}`` (T, V) bool; ``actions/keyboard/chars`` object (str);
    ``states/gui/{open,inventory}`` bool; ``states/hotbar`` int8; ``states/{yaw,pitch,xpos,
    ypos,zpos}`` float64 (NaN if missing); ``states/{tick,milli,server_tick}`` int64 (-1 if
    missing); ``states/paused_before`` bool; ``states/server_tick_duration_ms`` float32 (NaN
    if missing); ``states/inventory/quantity`` (T, I) int32; the sparse ``states/stats/{frame
    (int32), key (int32), value (int64)}`` (one row per change, value 0 where a counter
    vanished); and ``actions/vpt/*`` from :func:`goalframe.sources.vpt_actions.convert_actions`.
    """
    if not ref.jsonl.is_file():
        raise RawFormatError(shown_path(ref.jsonl), "action file (.jsonl) is missing")
    if not ref.mp4.is_file():
        raise RawFormatError(shown_path(ref.mp4), "video file (.mp4) is missing")
    warnings: list[str] = []
    try:
        probe = probe_video(ref.mp4)
    except RawFormatError as exc:  # keep the one line printable when the name is not UTF-8
        raise RawFormatError(shown_path(ref.mp4), shown_path(exc.problem)) from None
    if abs(probe.fps - FPS) > 0.01:
        raise RawFormatError(shown_path(ref.mp4), f"video runs at {probe.fps:g} fps, VPT recordings are {FPS} fps")

    try:
        cols, n_lines, info = parse_jsonl(ref.jsonl, warnings)
    except OSError as exc:
        raise RawFormatError(shown_path(ref.jsonl), f"unreadable action file ({exc.__class__.__name__}: {exc})") from None
    if not n_lines <= probe.n_frames <= n_lines + 1:
        raise RawFormatError(
            shown_path(ref.mp4),
            f"video has {probe.n_frames} frames but {shown_path(ref.jsonl.name)} has {n_lines} lines "
            f"(expected {n_lines} or {n_lines + 1} frames)",
        )
    n_frames = len(cols.lines)
    quirks = info["quirks"]
    quirks["extra_video_frames"] = probe.n_frames - n_frames
    if (probe.width, probe.height) != (640, 360):
        quirks["video_size"] = [probe.width, probe.height]

    options, options_path = _read_options(ref, warnings)
    recording = _Recording(_window(options, options_path, ref, warnings), ref.version, truncate_camera)
    arrays, array_attrs, timestamps = _build_arrays(cols, quirks, warnings, ref.jsonl, recording)
    raw_files = [ref.jsonl, ref.mp4] + ([options_path] if options_path is not None else [])
    return RawEpisode(
        episode_id=ref.episode_id,
        source_format=SOURCE_FORMAT,
        raw_path=shown_path(ref.jsonl.with_suffix("")),
        fps=float(FPS),
        n_frames=n_frames,
        videos={CAMERA: VideoRef(path=ref.mp4, n_frames=n_frames, height=probe.height, width=probe.width)},
        timestamps=timestamps,
        arrays=arrays,
        array_attrs=array_attrs,
        attrs={
            "recorder_version": ref.version,
            "options": options,
            "window": recording.window.to_attrs(),
            "truncate_camera": truncate_camera,
            "missing_fields": info["missing_fields"],
            "jsonl": shown_path(ref.jsonl),
            **_name_attrs(ref, warnings),
            "quirks": quirks,
        },
        raw_files=raw_files,
        warnings=warnings,
    )
