"""Scene geometry for mask tracking: recorded camera poses and objects that do not move.

Game recordings carry the camera's exact pose on every frame (VPT's jsonl has ``xpos``,
``ypos``, ``zpos``, ``yaw``, ``pitch``). For an object that does not move, such as a
Minecraft block, that pose says where the object is on every earlier frame without any
image tracking: fit the object's box once on the event frame, project it on each frame.
Flow chaining drifts by a pixel or two per frame and ends up on a look-alike neighbour
(the next log of the same trunk); projection does not drift. The projected silhouette is
where the object would be if nothing stood in front of it; the annotator still decides,
from the image, which of it is visible.

- :class:`CameraPath`: pinhole cameras of a window of frames (eye, rotation, focal, centre).
- :func:`box_silhouette`: the image region an axis-aligned box covers (clipped at the near
  plane, so a box that is partly behind the camera still projects right).
- :class:`UnitCellTarget`: a unit cube on the integer grid (a Minecraft block), fitted on
  the event frame along the ray through the prompt point; ``silhouettes()`` per frame.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

NEAR = 0.05  # metres: nearer than this a surface is clipped (Minecraft's near plane)
_FIXED = 8  # sub-pixel bits for cv2 polygon filling


@dataclass(frozen=True)
class CameraPath:
    """Per-frame pinhole cameras.

    ``eye`` (N, 3) world positions; ``rotation`` (N, 3, 3) whose rows are the camera's right,
    down and forward axes in world coordinates; ``focal`` in pixels; ``centre`` (x, y) the
    principal point in pixel coordinates where pixel ``(r, c)`` spans ``[c, c+1) x [r, r+1)``;
    ``size`` (height, width) of the frames.
    """

    eye: np.ndarray
    rotation: np.ndarray
    focal: float
    centre: tuple[float, float]
    size: tuple[int, int]

    def __len__(self) -> int:
        return len(self.eye)

    def to_camera(self, t: int, points: np.ndarray) -> np.ndarray:
        """World points (M, 3) in frame ``t``'s camera coordinates (x right, y down, z forward)."""
        return (np.asarray(points, float) - self.eye[t]) @ self.rotation[t].T

    def to_pixels(self, camera_points: np.ndarray) -> np.ndarray:
        """(x, y) pixel coordinates of camera points in front of the camera."""
        z = camera_points[:, 2:3]
        return camera_points[:, :2] / z * self.focal + np.asarray(self.centre)

    def ray(self, t: int, row: float, col: float) -> np.ndarray:
        """Unit world direction through the centre of pixel (row, col) on frame ``t``."""
        direction = np.array([(col + 0.5 - self.centre[0]) / self.focal, (row + 0.5 - self.centre[1]) / self.focal, 1.0])
        world = direction @ self.rotation[t]
        return world / np.linalg.norm(world)


def yaw_pitch_rotation(yaw: float, pitch: float) -> np.ndarray:
    """Camera axes (right, down, forward) for Minecraft's convention: x east, y up, z south;
    yaw 0 looks south (+z) and grows turning right; pitch > 0 looks down (degrees)."""
    ys, yc = math.sin(math.radians(yaw)), math.cos(math.radians(yaw))
    ps, pc = math.sin(math.radians(pitch)), math.cos(math.radians(pitch))
    forward = np.array([-ys * pc, -ps, yc * pc])
    right = np.array([-yc, 0.0, -ys])
    up = np.array([-ys * ps, pc, yc * ps])
    return np.stack([right, -up, forward])


# the six faces of the unit cube as corner indices (corner k has offsets (k>>2 & 1, k>>1 & 1, k & 1))
_CORNERS = np.array([[(k >> 2) & 1, (k >> 1) & 1, k & 1] for k in range(8)], float)
_FACES = ((0, 1, 3, 2), (4, 5, 7, 6), (0, 1, 5, 4), (2, 3, 7, 6), (0, 2, 6, 4), (1, 3, 7, 5))


def _clip_near(polygon: np.ndarray) -> np.ndarray:
    """Sutherland-Hodgman: the part of a camera-space polygon with z >= NEAR."""
    kept = []
    for i in range(len(polygon)):
        a, b = polygon[i], polygon[(i + 1) % len(polygon)]
        a_in, b_in = a[2] >= NEAR, b[2] >= NEAR
        if a_in:
            kept.append(a)
        if a_in != b_in:
            kept.append(a + (b - a) * (NEAR - a[2]) / (b[2] - a[2]))
    return np.array(kept)


def box_silhouette(path: CameraPath, t: int, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """(H, W) bool: the pixels an axis-aligned box ``[low, high]`` covers on frame ``t``."""
    corners = np.asarray(low, float) + _CORNERS * (np.asarray(high, float) - np.asarray(low, float))
    camera = path.to_camera(t, corners)
    out = np.zeros(path.size, np.uint8)
    if (camera[:, 2] >= NEAR).all():
        pixels = path.to_pixels(camera) - 0.5  # cv2 fills pixel centres
        hull = cv2.convexHull(np.round(pixels * (1 << _FIXED)).astype(np.int64).clip(-(2**30), 2**30).astype(np.int32))
        cv2.fillConvexPoly(out, hull, 1, shift=_FIXED)
        return out.astype(bool)
    for face in _FACES:
        polygon = _clip_near(camera[list(face)])
        if len(polygon) >= 3:
            pixels = path.to_pixels(polygon) - 0.5
            cv2.fillConvexPoly(out, np.round(pixels * (1 << _FIXED)).astype(np.int64).clip(-(2**30), 2**30).astype(np.int32), 1, shift=_FIXED)
    return out.astype(bool)


def cells_on_ray(origin: np.ndarray, direction: np.ndarray, reach: float) -> list[np.ndarray]:
    """Integer grid cells (their low corners) a ray passes through, nearest first (Amanatides-Woo)."""
    cell = np.floor(origin).astype(int)
    step = np.where(direction >= 0, 1, -1)
    with np.errstate(divide="ignore"):
        next_boundary = np.where(direction >= 0, cell + 1 - origin, origin - cell)
        t_max = np.where(direction != 0, next_boundary / np.abs(direction), np.inf)
        t_delta = np.where(direction != 0, 1.0 / np.abs(direction), np.inf)
    cells = [cell.copy()]
    while True:
        axis = int(np.argmin(t_max))
        if t_max[axis] > reach:
            return [c.astype(float) for c in cells]
        cell[axis] += step[axis]
        t_max[axis] += t_delta[axis]
        cells.append(cell.copy())


@dataclass
class UnitCellTarget:
    """A target that is one unit cell of the world grid and does not move (a Minecraft block).

    ``fit`` looks along the ray through the prompt on the event frame for the farthest cell
    whose silhouette still holds ``cover`` of the event mask (a nearer cell would hold it
    too, but larger), without being more than ``max_ratio`` times the mask's area (a far
    cell behind a small mask is not it). A mask that only part of a block shows (the rest
    hidden behind a nearer block) still finds its block this way.
    """

    path: CameraPath
    reach: float = 6.0
    cover: float = 0.9
    max_ratio: float = 4.0
    min_fit: float = 0.3  # IoU of the cell's silhouette with the event mask, or no fit
    cell: np.ndarray | None = None
    fit_iou: float = 0.0

    def fit(self, event_mask: np.ndarray, prompt: tuple[float, float]) -> bool:
        last = len(self.path) - 1
        area = int(np.count_nonzero(event_mask))
        if area == 0:
            return False
        ray = self.path.ray(last, *prompt)
        for cell in cells_on_ray(self.path.eye[last], ray, self.reach):
            silhouette = box_silhouette(self.path, last, cell, cell + 1)
            held = np.count_nonzero(silhouette & event_mask)
            size = int(np.count_nonzero(silhouette))
            if held >= self.cover * area and size <= self.max_ratio * area:
                self.cell, self.fit_iou = cell, held / (size + area - held)
        if self.cell is not None and self.fit_iou < self.min_fit:
            self.cell = None
        return self.cell is not None

    def describe(self) -> dict:
        return {"kind": "unit_cell", "cell": [int(v) for v in self.cell] if self.cell is not None else None, "fit_iou": round(float(self.fit_iou), 4)}

    def silhouettes(self) -> np.ndarray:
        """(N, H, W) bool: the fitted cell's silhouette on every frame of the path."""
        if self.cell is None:
            raise ValueError("no cell fitted")
        return np.stack([box_silhouette(self.path, t, self.cell, self.cell + 1) for t in range(len(self.path))])
