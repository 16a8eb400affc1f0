"""Rotation conventions shared by the readers and the annotators: quaternions are xyzw
(AgiBot's ``state/end/orientation``), poses are (R, t) with ``p_parent = R @ p_child + t``."""

from __future__ import annotations

import numpy as np


def quaternion_matrix(q: np.ndarray) -> np.ndarray:
    """Rotation matrices (..., 3, 3) of xyzw quaternions (..., 4), normalised first."""
    q = np.asarray(q, np.float64)
    q = q / np.linalg.norm(q, axis=-1, keepdims=True)
    x, y, z, w = np.moveaxis(q, -1, 0)
    return np.stack(
        [
            np.stack([1 - 2 * (y * y + z * z), 2 * (x * y - z * w), 2 * (x * z + y * w)], -1),
            np.stack([2 * (x * y + z * w), 1 - 2 * (x * x + z * z), 2 * (y * z - x * w)], -1),
            np.stack([2 * (x * z - y * w), 2 * (y * z + x * w), 1 - 2 * (x * x + y * y)], -1),
        ],
        -2,
    )


def carried_pose(
    parent_rotation: np.ndarray,
    parent_translation: np.ndarray,
    child_rotation: np.ndarray,
    child_translation: np.ndarray,
) -> tuple[np.ndarray, np.ndarray]:
    """Per-frame pose of a child rigidly attached to a moving parent, from one frame of both.

    ``parent_*`` are (T, 3, 3) and (T, 3); ``child_*`` the child's pose (3, 3), (3,) at the
    parent's frame 0. The child-in-parent transform is taken from frame 0 and kept:
    ``child(t) = parent(t) @ inv(parent(0)) @ child(0)`` (a hand camera on its arm's flange).
    """
    r0, t0 = parent_rotation[0], parent_translation[0]
    local_r = r0.T @ child_rotation
    local_t = r0.T @ (child_translation - t0)
    rotation = parent_rotation @ local_r
    translation = parent_translation + parent_rotation @ local_t
    return rotation, translation


__all__ = ["carried_pose", "quaternion_matrix"]
