"""AgiBot grasp geometry: where on the gripper the grasp point lies, and where a camera sees it.

The grasp point is chosen from the flange pose and the gripper geometry, and projected into
each camera to give an event's prompt point (see :mod:`goalframe.annotators.agibot_events`).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

NEAR_M = 0.02  # points closer than this to a camera count as behind it


@dataclass(frozen=True)
class GripperGeometry:
    """Parallel gripper in its own frame (origin the palm centre; x forward, y along the
    finger travel, z the approach axis), metres.

    ``states/end/*`` is the FLANGE pose, not the palm: the grasp point lies
    ``grasp_offset`` further along the flange's z axis (0.143 m on AgiBot's Genie-1 by
    forward kinematics; Genie-Envisioner draws at 0.23 m), and sits ``grasp_fraction`` of
    the finger length below the palm, so the palm centre is :attr:`flange_to_palm` along z.
    """

    palm_half: tuple[float, float, float] = (0.03, 0.05, 0.022)
    wrist_half: tuple[float, float] = (0.028, 0.028)  # the link above the palm
    wrist_length: float = 0.13  # palm centre to the top of the wrist link
    finger_length: float = 0.065
    finger_thickness: float = 0.010  # along y
    finger_depth: float = 0.020  # along x
    margin: float = 0.003  # occluders are inflated by this much
    region_height: float = 0.028  # candidates from the fingertips up to this far
    region_x: float = 0.015  # and this far either side of the jaw centreline along x
    tip_inset: float = 0.004  # the deepest candidates sit this far above the fingertips
    grasp_offset: float = 0.143  # flange (states/end/position) to the grasp point along the flange z axis
    grasp_fraction: float = 0.6  # the grasp point lies this fraction of the finger length below the palm

    @property
    def flange_to_palm(self) -> float:
        return self.grasp_offset - (self.palm_half[2] + self.grasp_fraction * self.finger_length)

    def palm_positions(self, flange: np.ndarray, rotation: np.ndarray) -> np.ndarray:
        """(..., 3) palm centres of flange positions (..., 3) with their rotations (..., 3, 3)."""
        return np.asarray(flange, np.float64) + rotation[..., :, 2] * self.flange_to_palm

    @property
    def tip_depth(self) -> float:
        return self.palm_half[2] + self.finger_length

    def occluders(self, opening_m: float) -> np.ndarray:
        """(B, 2, 3) low and high corners of the palm, wrist and finger boxes."""
        pz, wl = self.palm_half[2], self.wrist_length
        boxes = [
            ((0.0, 0.0, 0.0), self.palm_half),
            ((0.0, 0.0, -(wl + pz) / 2), (*self.wrist_half, (wl - pz) / 2)),
        ]
        half_open = max(opening_m, 0.0) / 2
        for sign in (1.0, -1.0):
            centre = (0.0, sign * (half_open + self.finger_thickness / 2), pz + self.finger_length / 2)
            boxes.append((centre, (self.finger_depth / 2, self.finger_thickness / 2, self.finger_length / 2)))
        out = np.array([[np.subtract(c, h), np.add(c, h)] for c, h in boxes], np.float64)
        out[:, 0] -= self.margin
        out[:, 1] += self.margin
        return out

    def candidates(self, opening_m: float) -> np.ndarray:
        """(K, 3) candidate points in the gripper frame, the preferred first."""
        tip = self.tip_depth - self.tip_inset
        zs = tip - np.linspace(0.0, self.region_height - self.tip_inset, 4)
        xs = np.array([0.0, 0.5, -0.5, 1.0, -1.0]) * self.region_x
        ys = np.array([0.0, 0.25, -0.25]) * max(opening_m, 0.0)
        grid = np.array([(x, y, z) for z in zs for x in xs for y in ys])
        cost = np.abs(grid[:, 0]) + np.abs(grid[:, 1]) + (tip - grid[:, 2])
        return grid[np.argsort(cost, kind="stable")]


DEFAULT_GEOMETRY = GripperGeometry()


def segments_hit_boxes(points: np.ndarray, eye: np.ndarray, boxes: np.ndarray) -> np.ndarray:
    """(K,) True where the segment point -> eye crosses any axis-aligned box (slab test)."""
    d = eye[None, :] - points  # (K, 3)
    with np.errstate(divide="ignore", invalid="ignore"):
        t1 = (boxes[None, :, 0] - points[:, None]) / d[:, None]
        t2 = (boxes[None, :, 1] - points[:, None]) / d[:, None]
    lo, hi = np.minimum(t1, t2), np.maximum(t1, t2)
    # an axis the segment runs parallel to: inside the slab -> no constraint, else never
    parallel = d[:, None] == 0
    inside = (points[:, None] >= boxes[None, :, 0]) & (points[:, None] <= boxes[None, :, 1])
    lo = np.where(parallel, np.where(inside, -np.inf, np.inf), lo)
    hi = np.where(parallel, np.where(inside, np.inf, -np.inf), hi)
    t_enter, t_exit = lo.max(-1), hi.min(-1)
    return ((t_enter <= t_exit) & (t_exit >= 0) & (t_enter <= 1)).any(-1)


@dataclass
class Camera:
    """One camera of an episode: intrinsics, per-frame camera-to-base pose, image size."""

    name: str
    height: int
    width: int
    intrinsic: dict[str, float] | None = None
    rotation: np.ndarray | None = None  # (T, 3, 3)
    translation: np.ndarray | None = None  # (T, 3)
    missing: str | None = None  # why it cannot project, when it cannot

    def usable(self) -> bool:
        return self.missing is None

    def project(self, frame: int, points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(N, 2) pixel (col, row) and (N,) inside-the-image-and-in-front flags."""
        k = self.intrinsic
        pc = (np.atleast_2d(points) - self.translation[frame]) @ self.rotation[frame]
        z = pc[:, 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            uv = np.stack([k["fx"] * pc[:, 0] / z + k["ppx"], k["fy"] * pc[:, 1] / z + k["ppy"]], 1)
        inside = (z > NEAR_M) & np.all(np.isfinite(uv), 1)
        inside &= (
            (uv[:, 0] >= -0.5)
            & (uv[:, 0] < self.width - 0.5)
            & (uv[:, 1] >= -0.5)
            & (uv[:, 1] < self.height - 0.5)
        )
        return uv, inside


@dataclass
class PromptPoint:
    point: np.ndarray | None  # base frame
    col: float | None = None
    row: float | None = None
    visible: bool = False
    note: str | None = None


def choose_grasp_point(
    camera: Camera,
    frame: int,
    position: np.ndarray,
    rotation: np.ndarray,
    opening_mm: float,
    geometry: GripperGeometry = DEFAULT_GEOMETRY,
) -> PromptPoint:
    """The prompt point on the object between the jaws, as ``camera`` sees it at ``frame``."""
    opening_m = float(opening_mm) / 1000.0
    cands = geometry.candidates(opening_m)
    points = position + cands @ rotation.T
    uv, inside = camera.project(frame, points)
    eye = rotation.T @ (camera.translation[frame] - position)
    hidden = segments_hit_boxes(cands, eye, geometry.occluders(opening_m))
    good = inside & ~hidden
    note = None
    if good.any():
        i = int(np.argmax(good))
    elif inside.any():
        i = int(np.argmax(inside))
        note = "the gripper hides the grasp region from this camera: the point may lie on the gripper"
    else:
        i = 0  # outside the image or behind the camera: prompt_visible False
    return PromptPoint(points[i], float(uv[i, 0]), float(uv[i, 1]), bool(inside[i]), note)


def project_point(camera: Camera, frame: int, point: np.ndarray) -> PromptPoint:
    uv, inside = camera.project(frame, point)
    return PromptPoint(point, float(uv[0, 0]), float(uv[0, 1]), bool(inside[0]))
