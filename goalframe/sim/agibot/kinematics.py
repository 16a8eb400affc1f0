"""Arm and gripper kinematics: rotations, 2-link IK, camera poses, flange/palm offsets."""

from __future__ import annotations

import math

import numpy as np

from goalframe.sim.agibot.constants import (
    ELBOW_HINT_BACK,
    ELBOW_HINT_DOWN,
    FLANGE_TO_PALM,
    FOREARM,
    HAND_CAM_OFFSET,
    HAND_CAM_TILT,
    HEAD_POSITION,
    SHOULDERS,
    UPPER_ARM,
    WRIST_LEN,
)


def rot_z(yaw: float) -> np.ndarray:
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, -s, 0.0], [s, c, 0.0], [0.0, 0.0, 1.0]])


def gripper_rotation(yaw: float) -> np.ndarray:
    """Gripper frame in base: columns x (forward), y (finger axis), z (approach, down)."""
    c, s = math.cos(yaw), math.sin(yaw)
    return np.array([[c, s, 0.0], [s, -c, 0.0], [0.0, 0.0, -1.0]])


def gripper_quaternion(yaw: float) -> np.ndarray:
    """xyzw quaternion of :func:`gripper_rotation` (a half turn about (cos yaw/2, sin yaw/2, 0))."""
    return np.array([math.cos(yaw / 2), math.sin(yaw / 2), 0.0, 0.0])


# ----------------------------------------------------------------------------- kinematics


def arm_chain(arm: int, ee: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Shoulder, elbow and wrist points for a palm centre (2-link IK, elbow out and down)."""
    s = SHOULDERS[arm]
    w = np.asarray(ee, float) + [0.0, 0.0, WRIST_LEN]
    d_vec = w - s
    d = float(np.linalg.norm(d_vec))
    reach = UPPER_ARM + FOREARM - 1e-4
    if d > reach:  # out of reach: stretch toward it (the world clamps targets, so rare)
        d_vec *= reach / d
        w = s + d_vec
        d = reach
    axis = d_vec / max(d, 1e-9)
    a = (UPPER_ARM**2 - FOREARM**2 + d**2) / (2 * d)
    r = math.sqrt(max(UPPER_ARM**2 - a**2, 0.0))
    side = 1.0 if arm == 0 else -1.0
    hint = np.array([ELBOW_HINT_BACK, side, ELBOW_HINT_DOWN])
    hint -= axis * (hint @ axis)
    hint /= np.linalg.norm(hint)
    e = s + axis * a + hint * r
    return s, e, w


def joint_positions(ee: np.ndarray, yaw: np.ndarray) -> np.ndarray:
    """A plausible 14-vector (left 7, right 7) of joint angles (rad) for two end-effector poses."""
    out = np.zeros(14)
    for arm in range(2):
        s, e, w = arm_chain(arm, ee[arm])
        side = 1.0 if arm == 0 else -1.0
        up = (e - s) / UPPER_ARM
        fo = (w - e) / FOREARM
        j1 = math.atan2(up[0], -up[2])  # shoulder pitch: 0 hanging down, + forward
        j2 = math.asin(float(np.clip(side * up[1], -1, 1)))  # shoulder roll, + outward
        plane = np.cross(up, fo)
        j3 = math.atan2(plane[2], plane[0] * side + 1e-12)  # upper-arm rotation (elbow plane)
        j4 = math.acos(float(np.clip(up @ fo, -1, 1)))  # elbow flexion
        j5 = math.atan2(fo[1], fo[0])  # wrist yaw (forearm heading)
        j6 = math.atan2(-fo[2], math.hypot(fo[0], fo[1]))  # wrist pitch
        j7 = math.remainder(float(yaw[arm]) - j5, 2 * math.pi)  # flange roll
        out[7 * arm : 7 * arm + 7] = [j1, j2, j3, j4, j5, j6, j7]
    return out


def look_rotation(forward: np.ndarray, down_hint: np.ndarray) -> np.ndarray:
    """Camera-to-base rotation (columns x right, y down, z forward) for an optical axis."""
    z = forward / np.linalg.norm(forward)
    y = down_hint - z * (down_hint @ z)
    y /= np.linalg.norm(y)
    x = np.cross(y, z)
    return np.stack([x, y, z], 1)


def head_camera_pose(head: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Head camera pose from the head (yaw, pitch) in radians."""
    yaw, pitch = float(head[0]), float(head[1])
    fwd = np.array([math.cos(pitch) * math.cos(yaw), math.cos(pitch) * math.sin(yaw), -math.sin(pitch)])
    return look_rotation(fwd, np.array([0.0, 0.0, -1.0])), HEAD_POSITION.copy()


def hand_camera_pose(ee: np.ndarray, yaw: float) -> tuple[np.ndarray, np.ndarray]:
    """A hand camera on the back of the palm looking along the fingers (they show at the bottom)."""
    g = gripper_rotation(yaw)
    t = np.asarray(ee, float) + g @ HAND_CAM_OFFSET
    fwd = g[:, 2] * math.cos(HAND_CAM_TILT) + g[:, 0] * math.sin(HAND_CAM_TILT)
    return look_rotation(fwd, g[:, 0]), t


# ----------------------------------------------------------------------------- the world


def flange_of_palm(palm: np.ndarray) -> np.ndarray:
    """Flange positions (..., 3) of palm centres (..., 3): the gripper points down."""
    return np.asarray(palm, float) + np.array([0.0, 0.0, FLANGE_TO_PALM])


def palm_of_flange(flange: np.ndarray) -> np.ndarray:
    return np.asarray(flange, float) - np.array([0.0, 0.0, FLANGE_TO_PALM])
