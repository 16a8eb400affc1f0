"""Parsing a VPT contractor jsonl into typed columns, with warnings for malformed lines."""

from __future__ import annotations

import json
import math
import os
import re
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from goalframe.schemas.episode import RawFormatError
from goalframe.sources.vpt_format import (
    MAX_LINE_WARNINGS,
    MOUSE_FIELDS,
    POSE_FIELDS,
)

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
        stats = {
            name: None if stats[name] is None else _integer(stats, name, name, miss, 0) for name in stats
        }

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
            "mouse": (
                None
                if mouse is None
                else {
                    "dx": mouse_values["dx"],
                    "dy": mouse_values["dy"],
                    "buttons": buttons,
                    "newButtons": new_buttons,
                }
            ),
            "keyboard": None if keyboard is None else {"keys": keys},
            "hotbar": hotbar,
        }
    )


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
                raise _LineError(
                    f"malformed JSON ({exc.msg.removesuffix(' at')} at column {exc.colno})"
                ) from None
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
            f"{shown_path(path)}: {quirks['surrogates_replaced_lines']} line(s) had unpaired surrogate"
            " escapes in keyboard.chars, replaced with U+FFFD"
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
        warnings.append(
            f"{shown_path(path)}: fields missing on some lines, filled with neutral values: {shown}"
        )
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
