"""VPT's conversion of recorded contractor inputs into the agent's action space.

Follows openai/Video-Pre-Training step by step:

* ``run_inverse_dynamics_model.json_action_to_env_action``: keyboard keys through
  :data:`KEYBOARD_BUTTON_MAPPING`, camera ``[dy, dx] * 360/2400`` degrees (pitch, yaw), mouse
  buttons 0 -> attack, 1 -> use, 2 -> pickItem, and the ``is_null_action`` flag;
* ``data_loader.data_loader_worker``: the stuck-attack fix and the hotbar-change-by-scroll
  rule (both applied around ``json_action_to_env_action``, in VPT's order);
* ``lib/actions.py``: ``Buttons.ALL`` (the 20 buttons kept, in order) and
  ``CameraQuantizer`` with the agent's settings (mu-law, binsize 2, maxval 10, mu 10);
* ``lib/action_mapping.py``: ``CameraHierarchicalMapping.from_factored`` (8641 joint button
  classes, 121 joint camera classes).

ESC, swapHands and pickItem are dropped from the 20 kept buttons, as VPT's agent space
(and MineStudio) do. The raw keys and mouse buttons stay available in ``actions/keyboard``
and ``actions/mouse``.

Two faithful oddities are kept on purpose and documented here:

* the ``|angle| > 180 -> 0`` guard only runs in the branch where ``dx == dy == 0``, so it
  never changes anything; large camera moves keep their value (and clip to the edge bins);
* ``is_null`` is decided before the scroll-hotbar rule, so a line whose only action is a
  scroll-wheel hotbar change is still a null action (VPT's loader skips it).

VPT's own script stores the camera in an integer array (``np.array([0, 0])``), which
truncates the degrees toward zero; that looks accidental, so floats are kept unless
``truncate_camera=True`` asks for the original behaviour.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

KEYBOARD_BUTTON_MAPPING: dict[str, str] = {
    "key.keyboard.escape": "ESC",
    "key.keyboard.s": "back",
    "key.keyboard.q": "drop",
    "key.keyboard.w": "forward",
    **{f"key.keyboard.{i}": f"hotbar.{i}" for i in range(1, 10)},
    "key.keyboard.e": "inventory",
    "key.keyboard.space": "jump",
    "key.keyboard.a": "left",
    "key.keyboard.d": "right",
    "key.keyboard.left.shift": "sneak",
    "key.keyboard.left.control": "sprint",
    "key.keyboard.f": "swapHands",
}

#: ``lib/actions.py`` ``Buttons.ALL``: the agent's 20 buttons, in order.
BUTTONS: list[str] = [
    "attack",
    "back",
    "forward",
    "jump",
    "left",
    "right",
    "sneak",
    "sprint",
    "use",
    "drop",
    "inventory",
] + [f"hotbar.{i}" for i in range(1, 10)]
BUTTON_INDEX = {name: i for i, name in enumerate(BUTTONS)}

MOUSE_BUTTON_MAPPING = {0: "attack", 1: "use", 2: "pickItem"}
CAMERA_SCALER = 360.0 / 2400.0

# Agent settings (agent.py ACTION_TRANSFORMER_KWARGS, CameraHierarchicalMapping(n_camera_bins=11)).
CAMERA_MAXVAL = 10
CAMERA_BINSIZE = 2
CAMERA_MU = 10
N_CAMERA_BINS = 11
CAMERA_NULL_BIN = N_CAMERA_BINS // 2  # 5

# CameraHierarchicalMapping.BUTTONS_GROUPS (camera meta action last) and its combinations.
BUTTONS_GROUPS: dict[str, list[str]] = {
    "hotbar": ["none"] + [f"hotbar.{i}" for i in range(1, 10)],
    "fore_back": ["none", "forward", "back"],
    "left_right": ["none", "left", "right"],
    "sprint_sneak": ["none", "sprint", "sneak"],
    "use": ["none", "use"],
    "drop": ["none", "drop"],
    "attack": ["none", "attack"],
    "jump": ["none", "jump"],
    "camera": ["none", "camera"],
}
N_BUTTON_CLASSES = int(np.prod([len(v) for v in BUTTONS_GROUPS.values()])) + 1  # 8641
INVENTORY_CLASS = N_BUTTON_CLASSES - 1  # the lone "inventory" combination, 8640
N_CAMERA_CLASSES = N_CAMERA_BINS * N_CAMERA_BINS  # 121
CAMERA_NULL_CLASS = CAMERA_NULL_BIN * N_CAMERA_BINS + CAMERA_NULL_BIN  # 60
BUTTON_NULL_CLASS = 0  # every group "none"


def _noop_env_action() -> dict[str, Any]:
    action: dict[str, Any] = {name: 0 for name in ["ESC", "swapHands", "pickItem", *BUTTONS]}
    action["camera"] = np.zeros(2, dtype=np.float64)
    return action


def json_action_to_env_action(
    line: Mapping[str, Any], truncate_camera: bool = False
) -> tuple[dict[str, Any], bool]:
    """One jsonl line to a MineRL-style action dict; returns ``(action, is_null_action)``.

    ``line`` needs ``keyboard.keys``, ``mouse.dx``, ``mouse.dy`` and ``mouse.buttons``; a
    null ``mouse``/``keyboard`` (old recorder versions) counts as no input.
    """
    env_action = _noop_env_action()
    is_null_action = True
    keyboard = line.get("keyboard") or {}
    for key in keyboard.get("keys") or ():
        if key in KEYBOARD_BUTTON_MAPPING:
            env_action[KEYBOARD_BUTTON_MAPPING[key]] = 1
            is_null_action = False

    mouse = line.get("mouse") or {}
    dx = mouse.get("dx") or 0.0
    dy = mouse.get("dy") or 0.0
    camera = env_action["camera"]
    camera[0] = dy * CAMERA_SCALER
    camera[1] = dx * CAMERA_SCALER
    if truncate_camera:
        camera[:] = np.trunc(camera)
    if dx != 0 or dy != 0:
        is_null_action = False
    else:  # VPT's guard sits in this branch only (where the camera is already 0)
        if abs(camera[0]) > 180:
            camera[0] = 0
        if abs(camera[1]) > 180:
            camera[1] = 0

    buttons = mouse.get("buttons") or ()
    for number, name in MOUSE_BUTTON_MAPPING.items():
        if number in buttons:
            env_action[name] = 1
            is_null_action = False
    return env_action, is_null_action


def discretize_camera(degrees: np.ndarray) -> np.ndarray:
    """``CameraQuantizer.discretize`` with mu-law, maxval 10, binsize 2, mu 10 -> bins 0..10."""
    xy = np.clip(np.asarray(degrees, dtype=np.float64), -CAMERA_MAXVAL, CAMERA_MAXVAL)
    xy = xy / CAMERA_MAXVAL
    xy = np.sign(xy) * (np.log(1.0 + CAMERA_MU * np.abs(xy)) / np.log(1.0 + CAMERA_MU))
    xy = xy * CAMERA_MAXVAL
    return np.round((xy + CAMERA_MAXVAL) / CAMERA_BINSIZE).astype(np.int64)


def undiscretize_camera(bins: np.ndarray) -> np.ndarray:
    """``CameraQuantizer.undiscretize``: bin centres in degrees."""
    xy = np.asarray(bins, dtype=np.float64) * CAMERA_BINSIZE - CAMERA_MAXVAL
    xy = xy / CAMERA_MAXVAL
    xy = np.sign(xy) * (1.0 / CAMERA_MU) * ((1.0 + CAMERA_MU) ** np.abs(xy) - 1.0)
    return xy * CAMERA_MAXVAL


def _group_choice(buttons: np.ndarray, group: list[str]) -> np.ndarray:
    """``ActionMapping.factored_buttons_to_groups`` as indices into ``group`` (0 = none)."""
    members = [BUTTON_INDEX[b] for b in group[1:]]
    chosen = buttons[:, members].astype(bool)
    if ("forward" in group and "back" in group) or ("left" in group and "right" in group):
        chosen[np.all(chosen, axis=-1)] = False  # both pressed means neither
    choice = np.zeros(len(buttons), dtype=np.int64)
    for j in range(chosen.shape[1]):  # a later member of the group wins
        choice[chosen[:, j]] = j + 1
    return choice


def joint_encode(buttons: np.ndarray, camera_bin: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``CameraHierarchicalMapping.from_factored`` (11 camera bins).

    ``buttons`` (T, 20) in :data:`BUTTONS` order, ``camera_bin`` (T, 2) bins; returns the
    8641-way button class and the 121-way camera class per step.
    """
    buttons = np.asarray(buttons)
    camera_bin = np.asarray(camera_bin, dtype=np.int64)
    index = np.zeros(len(buttons), dtype=np.int64)
    for name, group in BUTTONS_GROUPS.items():
        if name == "camera":
            choice = (~np.all(camera_bin == CAMERA_NULL_BIN, axis=1)).astype(np.int64)
        else:
            choice = _group_choice(buttons, group)
        index = index * len(group) + choice  # itertools.product order: last group fastest
    inventory = buttons[:, BUTTON_INDEX["inventory"]].astype(bool)
    index[inventory] = INVENTORY_CLASS
    camera_class = camera_bin[:, 0] * N_CAMERA_BINS + camera_bin[:, 1]
    camera_class[inventory] = CAMERA_NULL_CLASS  # inventory is exclusive with camera
    return index, camera_class


def button_combinations() -> list[tuple[str, ...] | str]:
    """``CameraHierarchicalMapping.BUTTONS_COMBINATIONS``, for reference and tests."""
    return list(itertools.product(*BUTTONS_GROUPS.values())) + ["inventory"]


def convert_actions(
    lines: Sequence[Mapping[str, Any]],
    truncate_camera: bool = False,
    stats: dict[str, Any] | None = None,
) -> dict[str, np.ndarray]:
    """Convert parsed jsonl lines (in order) the way VPT's data loader does.

    Each line needs ``mouse`` (``dx``, ``dy``, ``buttons``, ``newButtons``; may be None),
    ``keyboard`` (``keys``; may be None) and ``hotbar`` (missing counts as 0). Lines are not
    modified. Returns ``actions/vpt/buttons`` (T, 20) bool,
    ``actions/vpt/camera`` (T, 2) float32 degrees (pitch, yaw), ``actions/vpt/camera_bin``
    (T, 2) int8, ``actions/vpt/is_null`` (T,) bool, ``actions/vpt/agent_buttons`` (T,)
    int16 (8641 classes), ``actions/vpt/agent_camera`` (T,) int16 (121 classes). A
    ``stats`` dict, when given, receives counts of the quirks that fired.
    """
    n = len(lines)
    buttons = np.zeros((n, len(BUTTONS)), dtype=bool)
    camera = np.zeros((n, 2), dtype=np.float64)
    is_null = np.zeros(n, dtype=bool)
    attack_is_stuck = False
    last_hotbar = 0
    stuck_lines = 0
    scroll_changes = 0
    for i, line in enumerate(lines):
        mouse = line.get("mouse") or {}
        new_buttons = list(mouse.get("newButtons") or [])
        if i == 0:
            if new_buttons == [0]:
                attack_is_stuck = True
        elif attack_is_stuck and 0 in new_buttons:
            attack_is_stuck = False
        if attack_is_stuck:
            stuck_lines += 1
            mouse = dict(mouse)
            mouse["buttons"] = [b for b in mouse.get("buttons") or [] if b != 0]
            line = {**line, "mouse": mouse}

        action, null = json_action_to_env_action(line, truncate_camera=truncate_camera)

        hotbar = line.get("hotbar")
        hotbar = 0 if hotbar is None else int(hotbar)
        if hotbar != last_hotbar:
            action[f"hotbar.{hotbar + 1}"] = 1
            scroll_changes += 1
        last_hotbar = hotbar

        for j, name in enumerate(BUTTONS):
            buttons[i, j] = bool(action[name])
        camera[i] = action["camera"]
        is_null[i] = null

    camera_bin = discretize_camera(camera)
    agent_buttons, agent_camera = joint_encode(buttons, camera_bin)
    arrays = {
        "actions/vpt/buttons": buttons,
        "actions/vpt/camera": camera.astype(np.float32),
        "actions/vpt/camera_bin": camera_bin.astype(np.int8),
        "actions/vpt/is_null": is_null,
        "actions/vpt/agent_buttons": agent_buttons.astype(np.int16),
        "actions/vpt/agent_camera": agent_camera.astype(np.int16),
    }
    if stats is not None:
        stats["stuck_attack_lines"] = stuck_lines
        stats["hotbar_changes"] = scroll_changes
        stats["null_action_lines"] = int(is_null.sum())
    return arrays


#: ``array_attrs`` for the arrays :func:`convert_actions` returns.
VPT_ACTION_ATTRS: dict[str, dict[str, Any]] = {
    "actions/vpt/buttons": {
        "vocabulary": BUTTONS,
        "source": "VPT json_action_to_env_action + stuck-attack fix + scroll-hotbar rule",
    },
    "actions/vpt/camera": {"units": "degrees", "axes": ["pitch", "yaw"], "scale": "[dy, dx] * 360/2400"},
    "actions/vpt/camera_bin": {
        "axes": ["pitch", "yaw"],
        "quantization": "mu_law",
        "binsize": CAMERA_BINSIZE,
        "maxval": CAMERA_MAXVAL,
        "mu": CAMERA_MU,
        "n_bins": N_CAMERA_BINS,
        "null_bin": CAMERA_NULL_BIN,
    },
    "actions/vpt/is_null": {"meaning": "VPT is_null_action (no mapped key, no camera move, no mouse button)"},
    "actions/vpt/agent_buttons": {
        "n_classes": N_BUTTON_CLASSES,
        "groups": {k: v for k, v in BUTTONS_GROUPS.items()},
        "inventory_class": INVENTORY_CLASS,
        "null_class": BUTTON_NULL_CLASS,
        "source": "CameraHierarchicalMapping.from_factored (itertools.product order + 'inventory')",
    },
    "actions/vpt/agent_camera": {
        "n_classes": N_CAMERA_CLASSES,
        "null_class": CAMERA_NULL_CLASS,
        "encoding": "camera_bin[0] * 11 + camera_bin[1]",
    },
}
