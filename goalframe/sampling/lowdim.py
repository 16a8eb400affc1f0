"""The per-frame numeric arrays a sample gathers (actions, state), in the loaders' order.

AgiBot vectors follow LeRobot's AgiBot port (every column named in
:mod:`goalframe.schemas.vectors`); VPT actions are the 20 buttons then the 2 camera bins.
"""

from __future__ import annotations

import numpy as np

from goalframe.schemas.vectors import AGIBOT_ACTION_LAYOUT, AGIBOT_STATE_LAYOUT, require_gripper

# (array, first column, last column exclusive, column names): LeRobot's AgiBot state/action order.
AGIBOT_STATE = AGIBOT_STATE_LAYOUT
AGIBOT_ACTION = AGIBOT_ACTION_LAYOUT
VPT_BUTTONS, VPT_CAMERA = "actions/vpt/buttons", "actions/vpt/camera_bin"


def _agibot_vector(ds, episode: str, layout) -> np.ndarray:
    names = set(ds.array_names(episode))
    n = ds.length(episode)
    parts = []
    cache: dict[str, np.ndarray] = {}
    require_gripper(episode, ds.meta(episode).source.get("effector"))
    for name, first, last, _columns in layout:
        if name in names:
            values = cache.setdefault(
                name, np.asarray(ds.array(episode, name), dtype=np.float32).reshape(n, -1)
            )
            parts.append(values[:, first:last])
        else:
            parts.append(np.zeros((n, last - first), np.float32))
    return np.ascontiguousarray(np.concatenate(parts, axis=1))


def episode_lowdim(ds, episode: str) -> dict[str, np.ndarray]:
    """Per-frame arrays the samples gather from: ``action`` (T, Da) float32 always; VPT adds
    ``buttons`` (T, 20) bool and ``camera`` (T, 2) int64; AgiBot adds ``state`` (T, 20) float32."""
    meta = ds.meta(episode)
    n = meta.n_frames
    if meta.source_format == "vpt":
        buttons = np.asarray(ds.array(episode, VPT_BUTTONS), dtype=bool)
        camera = np.asarray(ds.array(episode, VPT_CAMERA), dtype=np.int64)
        action = np.concatenate([buttons.astype(np.float32), camera.astype(np.float32)], axis=1)
        return {"action": action, "buttons": buttons, "camera": camera}
    if meta.source_format == "agibot":
        return {
            "state": _agibot_vector(ds, episode, AGIBOT_STATE),
            "action": _agibot_vector(ds, episode, AGIBOT_ACTION),
        }
    return {"action": np.zeros((n, 0), np.float32)}


LOWDIM_KEYS = {"vpt": ("action", "buttons", "camera"), "agibot": ("action", "state")}
