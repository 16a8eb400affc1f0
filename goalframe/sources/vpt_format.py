"""Names of the VPT contractor format: key vocabulary, mouse and pose fields, episode refs and ids."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

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
            "down",
            "left",
            "right",
            "up",
            "apostrophe",
            "backslash",
            "comma",
            "equal",
            "grave.accent",
            "left.bracket",
            "minus",
            "period",
            "right.bracket",
            "semicolon",
            "slash",
            "space",
            "tab",
            "left.alt",
            "left.control",
            "left.shift",
            "left.win",
            "right.alt",
            "right.control",
            "right.shift",
            "right.win",
            "enter",
            "escape",
            "backspace",
            "delete",
            "end",
            "home",
            "insert",
            "page.down",
            "page.up",
            "caps.lock",
            "pause",
            "scroll.lock",
            "menu",
            "print.screen",
            "world.1",
            "world.2",
        )
    ]
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
