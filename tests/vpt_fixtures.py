"""Tiny hand-written VPT segments for reader tests: a real mp4 and a jsonl in the README format.

``write_episode`` writes ``<root>/<version>/<stem>.{mp4,jsonl}`` (+ ``-options.json``) and
can inject each kind of damage the reader must handle.
"""

from __future__ import annotations

import copy
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from goalframe.media.video import write_mp4

STEM = "cheeky-cornflower-setter-02e496ce4abb-20220421-092639"
VERSION = "7.6"
MILLI0 = 1649575088006
FRAME_SIZE = (32, 64)  # tiny, even (h264 yuv420p)
BAD_UTF8 = b"a\xff\xfeb"  # raw bytes put inside keyboard.chars
_PLACEHOLDER = "@@BAD_UTF8@@"


def make_line(t: int, **overrides: Any) -> dict[str, Any]:
    """Line ``t`` of a 7.x recording, every field present (as in the VPT README example)."""
    line: dict[str, Any] = {
        "mouse": {
            "x": 274.0 + t,
            "y": 338.0 - t,
            "dx": 0.0,
            "dy": 0.0,
            "scaledX": -366.0 + t,
            "scaledY": -22.0,
            "dwheel": 0.0,
            "buttons": [],
            "newButtons": [],
        },
        "keyboard": {"keys": [], "newKeys": [], "chars": ""},
        "isGuiOpen": False,
        "isGuiInventory": False,
        "hotbar": 0,
        "yaw": -112.35006 + t,
        "pitch": 8.099996,
        "xpos": 841.364694513396 + 0.1 * t,
        "ypos": 63.0,
        "zpos": 24.956354839537802,
        "tick": t,
        "milli": MILLI0 + 50 * t,
        "inventory": [
            {"type": "oak_door", "quantity": 3},
            {"type": "oak_planks", "quantity": 59},
            {"type": "stone_pickaxe", "quantity": 1},
            {"type": "oak_planks", "quantity": 64},
        ],
        "serverTick": 6001 + t,
        "serverTickDurationMs": 36.3466,
        "stats": {
            "minecraft.custom:minecraft.jump": 4,
            "minecraft.custom:minecraft.play_one_minute": 5999 + t,
            "minecraft.use_item:minecraft.oak_planks": 5,
        },
    }
    for key, value in overrides.items():
        if isinstance(value, dict) and isinstance(line.get(key), dict):
            line[key].update(value)
        else:
            line[key] = value
    return line


def encode_lines(lines: list[dict[str, Any] | bytes]) -> list[bytes]:
    out = []
    for line in lines:
        out.append(line if isinstance(line, bytes) else json.dumps(line).encode("utf-8"))
    return out


def write_jsonl(path: Path, lines: list[dict[str, Any] | bytes], final_newline: bool = True) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = b"\n".join(encode_lines(lines))
    path.write_bytes(data + (b"\n" if final_newline else b""))
    return path


def frame(i: int, size: tuple[int, int] = FRAME_SIZE) -> np.ndarray:
    h, w = size
    img = np.zeros((h, w, 3), dtype=np.uint8)
    img[..., 0] = (np.arange(w)[None, :] * 4) % 256
    img[..., 1] = (i * 37) % 256
    img[..., 2] = (np.arange(h)[:, None] * 8) % 256
    return img


def write_video(path: Path, n_frames: int, fps: int = 20, size: tuple[int, int] = FRAME_SIZE) -> Path:
    write_mp4(path, (frame(i, size) for i in range(n_frames)), fps=fps)
    return path


@dataclass
class Episode:
    root: Path
    base: Path  # <root>/<version>/<stem>, no suffix
    jsonl: Path
    mp4: Path
    options: Path
    lines: list[dict[str, Any]]  # the lines as intended (before damage)


def write_episode(
    root: Path,
    n_lines: int = 6,
    *,
    lines: list[dict[str, Any]] | None = None,
    stem: str = STEM,
    version: str | None = VERSION,
    n_frames: int | None = None,
    fps: int = 20,
    options: bool | dict[str, Any] = True,
    truncate_last: bool = False,
    malformed_line: int | None = None,
    bad_utf8_line: int | None = None,
    null_sections_line: int | None = None,
    drop_fields: tuple[str, ...] = (),
    garbage_mp4: bool = False,
    missing_mp4: bool = False,
    missing_jsonl: bool = False,
) -> Episode:
    """Write one segment; line numbers in the damage options are 1-based.

    ``n_frames`` defaults to the number of lines. ``truncate_last`` cuts the last line in
    the middle (no newline after it), ``malformed_line`` replaces a line by broken JSON,
    ``bad_utf8_line`` puts invalid UTF-8 bytes in that line's ``keyboard.chars``,
    ``null_sections_line`` writes ``"mouse": null, "keyboard": null`` there (old versions),
    ``drop_fields`` removes keys from every line (``"hotbar"`` or ``"mouse.dwheel"``).
    ``options`` as a dict is merged into the default options (``{"windowWidth": 1920, ...}``).
    """
    folder = root / version if version else root
    folder.mkdir(parents=True, exist_ok=True)
    base = folder / stem
    lines = copy.deepcopy(lines) if lines is not None else [make_line(t) for t in range(n_lines)]
    intended = copy.deepcopy(lines)
    n_lines = len(lines)

    for name in drop_fields:
        for line in lines:
            if "." in name:
                section, key = name.split(".", 1)
                if isinstance(line.get(section), dict):
                    line[section].pop(key, None)
            else:
                line.pop(name, None)
    if null_sections_line is not None:
        lines[null_sections_line - 1]["mouse"] = None
        lines[null_sections_line - 1]["keyboard"] = None
    if bad_utf8_line is not None:
        lines[bad_utf8_line - 1]["keyboard"]["chars"] = _PLACEHOLDER

    encoded = encode_lines(lines)
    if bad_utf8_line is not None:
        i = bad_utf8_line - 1
        encoded[i] = encoded[i].replace(_PLACEHOLDER.encode(), BAD_UTF8)
    if malformed_line is not None:
        encoded[malformed_line - 1] = b'{"mouse": {"x": 1.0,, "dy": }'
    final_newline = True
    if truncate_last:
        encoded[-1] = encoded[-1][: len(encoded[-1]) // 2]
        final_newline = False

    jsonl = base.parent / (stem + ".jsonl")
    mp4 = base.parent / (stem + ".mp4")
    opts = base.parent / (stem + "-options.json")
    if not missing_jsonl:
        write_jsonl(jsonl, encoded, final_newline=final_newline)
    if garbage_mp4:
        mp4.write_bytes(b"\x00\x01garbage, not an mp4 at all" * 40)
    elif not missing_mp4:
        write_video(mp4, n_lines if n_frames is None else n_frames, fps=fps)
    if options:
        values = {
            "fov": "0.0",
            "gamma": "2.0",
            "guiScale": "2",
            "windowWidth": 1280,
            "windowHeight": 720,
            "framebufferWidth": 1280,
            "framebufferHeight": 720,
        }
        opts.write_text(json.dumps({**values, **(options if isinstance(options, dict) else {})}))
    return Episode(root=root, base=base, jsonl=jsonl, mp4=mp4, options=opts, lines=intended)
