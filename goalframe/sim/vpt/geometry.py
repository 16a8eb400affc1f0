"""Camera basis, look angles, ray-box tests and the deterministic hash the world builds with."""

from __future__ import annotations

import math

import numpy as np

_FACE_AXIS = np.array([0, 0, 1, 1, 2, 2])
_FACE_SIGN = np.array([1.0, -1.0, 1.0, -1.0, 1.0, -1.0])
_FACE_OFFSETS = [(1, 0, 0), (-1, 0, 0), (0, 1, 0), (0, -1, 0), (0, 0, 1), (0, 0, -1)]
_FACE_CORNERS = np.array(
    [
        [[1, 0, 0], [1, 1, 0], [1, 1, 1], [1, 0, 1]],
        [[0, 0, 0], [0, 0, 1], [0, 1, 1], [0, 1, 0]],
        [[0, 1, 0], [0, 1, 1], [1, 1, 1], [1, 1, 0]],
        [[0, 0, 0], [1, 0, 0], [1, 0, 1], [0, 0, 1]],
        [[0, 0, 1], [1, 0, 1], [1, 1, 1], [0, 1, 1]],
        [[0, 0, 0], [0, 1, 0], [1, 1, 0], [1, 0, 0]],
    ],
    np.float64,
)
_FACE_SHADE = np.array([0.62, 0.62, 1.0, 0.5, 0.8, 0.8])


def _hash01(*vals: int) -> float:
    h = 2166136261
    for v in vals:
        h = ((h ^ (v & 0xFFFFFFFF)) * 16777619) & 0xFFFFFFFF
        h ^= h >> 13
        h = (h * 0x5BD1E995) & 0xFFFFFFFF
        h ^= h >> 15
    return h / 4294967296.0


def _jitter(obj_id: int) -> float:
    return 0.93 + 0.14 * _hash01(obj_id, 77)


def camera_basis(yaw: float, pitch: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(forward, right, up) unit vectors for Minecraft yaw/pitch in degrees."""
    ps, pc = math.sin(math.radians(yaw)), math.cos(math.radians(yaw))
    ts, tc = math.sin(math.radians(pitch)), math.cos(math.radians(pitch))
    f = np.array([-ps * tc, -ts, pc * tc])
    r = np.array([-pc, 0.0, -ps])
    u = np.array([-ps * ts, tc, pc * ts])
    return f, r, u


def look_angles(eye: np.ndarray, point: np.ndarray) -> tuple[float, float]:
    """Yaw and pitch (degrees) that look from ``eye`` at ``point``."""
    d = np.asarray(point, float) - eye
    yaw = math.degrees(math.atan2(-d[0], d[2]))
    pitch = -math.degrees(math.atan2(d[1], math.hypot(d[0], d[2])))
    return yaw, pitch


def _ray_box(o: np.ndarray, d: np.ndarray, lo: np.ndarray, hi: np.ndarray) -> float | None:
    t0, t1 = 0.0, math.inf
    for a in range(3):
        if abs(d[a]) < 1e-12:
            if o[a] < lo[a] or o[a] > hi[a]:
                return None
            continue
        ta = (lo[a] - o[a]) / d[a]
        tb = (hi[a] - o[a]) / d[a]
        if ta > tb:
            ta, tb = tb, ta
        t0, t1 = max(t0, ta), min(t1, tb)
        if t0 > t1:
            return None
    return t0


# ----------------------------------------------------------------------------- textures and icons
