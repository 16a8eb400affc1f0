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
- :class:`UnitCellTarget`: a unit cube on the integer grid (a Minecraft block), found on
  the frames just before the event along the ray through the prompt point, with the faces
  of it that show; ``silhouettes()`` per frame.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, field

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
        direction = np.array(
            [(col + 0.5 - self.centre[0]) / self.focal, (row + 0.5 - self.centre[1]) / self.focal, 1.0]
        )
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


# the six faces of the unit cube as corner indices (corner k has offsets (k>>2 & 1, k>>1 & 1, k & 1)):
# x = 0, x = 1, y = 0, y = 1, z = 0, z = 1, with their outward normals
_CORNERS = np.array([[(k >> 2) & 1, (k >> 1) & 1, k & 1] for k in range(8)], float)
_FACES = ((0, 1, 3, 2), (4, 5, 7, 6), (0, 1, 5, 4), (2, 3, 7, 6), (0, 2, 6, 4), (1, 3, 7, 5))
_NORMALS = np.array([(-1, 0, 0), (1, 0, 0), (0, -1, 0), (0, 1, 0), (0, 0, -1), (0, 0, 1)], float)


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


def _fill(out: np.ndarray, pixels: np.ndarray) -> None:
    fixed = (
        np.round((pixels - 0.5) * (1 << _FIXED)).astype(np.int64).clip(-(2**30), 2**30).astype(np.int32)
    )  # cv2 fills pixel centres
    cv2.fillConvexPoly(out, fixed, 1, shift=_FIXED)


def front_faces(path: CameraPath, t: int, cell: np.ndarray) -> dict[int, np.ndarray]:
    """Face index -> (H, W) bool for each face of the unit cell at ``cell`` that faces the
    camera on frame ``t`` and lands on the frame."""
    corners = cell + _CORNERS
    camera = path.to_camera(t, corners)
    faces = {}
    for index, face in enumerate(_FACES):
        if _NORMALS[index] @ (corners[list(face)].mean(0) - path.eye[t]) >= 0:
            continue  # seen from behind
        polygon = _clip_near(camera[list(face)])
        if len(polygon) < 3:
            continue
        out = np.zeros(path.size, np.uint8)
        _fill(out, path.to_pixels(polygon))
        if out.any():
            faces[index] = out.astype(bool)
    return faces


def box_silhouette(path: CameraPath, t: int, low: np.ndarray, high: np.ndarray) -> np.ndarray:
    """(H, W) bool: the pixels an axis-aligned box ``[low, high]`` covers on frame ``t``."""
    corners = np.asarray(low, float) + _CORNERS * (np.asarray(high, float) - np.asarray(low, float))
    camera = path.to_camera(t, corners)
    out = np.zeros(path.size, np.uint8)
    if (camera[:, 2] >= NEAR).all():
        _fill(out, cv2.convexHull(path.to_pixels(camera).astype(np.float32))[:, 0, :])
        return out.astype(bool)
    for face in _FACES:
        polygon = _clip_near(camera[list(face)])
        if len(polygon) >= 3:
            _fill(out, path.to_pixels(polygon))
    return out.astype(bool)


def cells_on_ray(origin: np.ndarray, direction: np.ndarray, reach: float) -> list[np.ndarray]:
    """Integer grid cells (their low corners) a ray passes through, nearest first (Amanatides-Woo)."""
    cell = np.floor(origin).astype(int)
    step = np.where(direction >= 0, 1, -1)
    with np.errstate(divide="ignore"):
        next_boundary = np.where(direction >= 0, cell + 1 - origin, origin - cell)
        t_max = np.where(direction != 0, next_boundary / np.abs(direction), np.inf)
        t_delta = np.where(direction != 0, 1.0 / np.abs(direction), np.inf)
    if not math.isfinite(reach):
        raise ValueError("reach must be finite")
    cells = [cell.copy()]
    while True:
        axis = int(np.argmin(t_max))
        if t_max[axis] > reach:
            return [c.astype(float) for c in cells]
        cell[axis] += step[axis]
        t_max[axis] += t_delta[axis]
        cells.append(cell.copy())


def edge_map(frame: np.ndarray, threshold: float = 80.0, blur: float = 1.0) -> np.ndarray:
    """(H, W) bool: within a pixel of an intensity edge. Edges of log intensity, so a face
    boundary in a dark canopy counts as much as one in daylight; the blur keeps the
    texture's pixel-to-pixel noise from reading as edges."""
    lum = 100.0 * np.log(cv2.cvtColor(frame, cv2.COLOR_RGB2GRAY).astype(np.float32) + 8.0)
    lum = cv2.GaussianBlur(lum, (0, 0), blur)
    magnitude = np.hypot(cv2.Sobel(lum, cv2.CV_32F, 1, 0), cv2.Sobel(lum, cv2.CV_32F, 0, 1))
    return cv2.dilate((magnitude > threshold).astype(np.uint8), np.ones((3, 3), np.uint8)).astype(bool)


def alignment(faces: list[np.ndarray], edges: np.ndarray, border: int = 3, min_points: int = 40) -> float:
    """How well a region made of projected faces matches the image: the share of its outline
    (away from the frame border) on an edge, less the share of the faces' insides that are
    edges (a region over a hole or several blocks has edges inside; one face has none)."""
    region = np.logical_or.reduce(faces)
    contours, _ = cv2.findContours(region.astype(np.uint8), cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_NONE)
    if not contours:
        return 0.0
    points = np.concatenate(contours)[:, 0, :]
    height, width = region.shape
    inside = (
        (points[:, 0] >= border)
        & (points[:, 0] < width - border)
        & (points[:, 1] >= border)
        & (points[:, 1] < height - border)
    )
    points = points[inside]
    if len(points) < min_points:
        return 0.0
    score = float(edges[points[:, 1], points[:, 0]].mean())
    interior = np.logical_or.reduce(
        [cv2.erode(f.astype(np.uint8), np.ones((9, 9), np.uint8)).astype(bool) for f in faces]
    )
    if np.count_nonzero(interior) >= 50:
        score -= float(edges[interior].mean())
    return score


@dataclass
class UnitCellTarget:
    """A target that is one unit cell of the world grid and does not move (a Minecraft block).

    ``fit`` finds the block on the frames just before the event (``frames_before``; the
    player is looking at it while breaking it): every cell along the ray through the prompt
    (within ``reach``) and every set of its faces that face the camera is a hypothesis,
    scored by how well its projected outline lies on image edges (:func:`alignment`).
    Among the hypotheses within ``tie`` of the best it takes the nearest cell (a farther
    cell behind the block projects inside it and can align too) and, of that cell's
    hypotheses within ``tie`` of its own best, the one with the most area (every face that
    shows; a face hidden by a neighbour block does not align). When no hypothesis aligns
    (``min_alignment``), the cell is fitted to the event mask instead: the farthest cell
    whose silhouette holds ``cover`` of the mask without being ``max_ratio`` times larger.
    """

    path: CameraPath
    exact = False  # a silhouette ignores what stands in front of the block
    reach: float = 6.0
    frames_before: tuple[int, ...] = (1, 2)
    min_alignment: float = 0.6
    tie: float = 0.05
    cover: float = 0.9
    max_ratio: float = 4.0
    min_fit: float = 0.3  # IoU of the cell's silhouette with the event mask, or no fit
    cell: np.ndarray | None = None
    hidden: frozenset[int] = field(default_factory=frozenset)  # faces that faced the camera and did not show
    score: float = 0.0
    method: str = ""

    def fit(self, frames: np.ndarray, event_mask: np.ndarray, prompt: tuple[float, float]) -> bool:
        self.cell, self.hidden, self.score, self.method = None, frozenset(), 0.0, ""
        last = len(self.path) - 1
        cells = cells_on_ray(self.path.eye[last], self.path.ray(last, *prompt), self.reach)
        if self._fit_faces(frames, cells):
            return True
        return self._fit_mask(event_mask, cells)

    def _fit_faces(self, frames: np.ndarray, cells: list[np.ndarray]) -> bool:
        last = len(self.path) - 1
        times = [last - k for k in self.frames_before if last - k >= 0]
        if not times:
            return False
        edges = {t: edge_map(frames[t]) for t in times}
        hypotheses = []  # (score, order along the ray, area, cell, faces shown, faces facing the camera)
        for order, cell in enumerate(cells):
            faces = {t: front_faces(self.path, t, cell) for t in times}
            facing = sorted(set.intersection(*(set(f) for f in faces.values())))
            for k in range(1, len(facing) + 1):
                for shown in itertools.combinations(facing, k):
                    score = float(np.mean([alignment([faces[t][i] for i in shown], edges[t]) for t in times]))
                    area = int(np.count_nonzero(np.logical_or.reduce([faces[times[0]][i] for i in shown])))
                    hypotheses.append((score, order, area, cell, shown, facing))
        if not hypotheses:
            return False
        best = max(h[0] for h in hypotheses)
        if best < self.min_alignment:
            return False
        near = [h for h in hypotheses if h[0] >= best - self.tie]
        nearest = min(h[1] for h in near)
        own_best = max(h[0] for h in hypotheses if h[1] == nearest)
        score, _, _, cell, shown, facing = max(
            (h for h in hypotheses if h[1] == nearest and h[0] >= own_best - self.tie), key=lambda h: h[2]
        )
        self.cell, self.hidden, self.score, self.method = (
            cell,
            frozenset(facing) - frozenset(shown),
            score,
            "edges",
        )
        return True

    def _fit_mask(self, event_mask: np.ndarray, cells: list[np.ndarray]) -> bool:
        last = len(self.path) - 1
        area = int(np.count_nonzero(event_mask))
        if area == 0:
            return False
        for cell in cells:
            silhouette = box_silhouette(self.path, last, cell, cell + 1)
            held = np.count_nonzero(silhouette & event_mask)
            size = int(np.count_nonzero(silhouette))
            if held >= self.cover * area and size <= self.max_ratio * area:
                self.cell, self.score = cell, held / (size + area - held)
        if self.cell is None or self.score < self.min_fit:
            self.cell = None
            return False
        self.method = "mask"
        return True

    def describe(self) -> dict:
        return {
            "kind": "unit_cell",
            "cell": [int(v) for v in self.cell] if self.cell is not None else None,
            "hidden_faces": sorted(int(i) for i in self.hidden),
            "fit": self.method,
            "score": round(float(self.score), 4),
        }

    def silhouettes(self) -> np.ndarray:
        """(N, H, W) bool: the fitted cell's faces that face the camera on each frame, less
        those that faced it before the event without showing (a neighbour block covers them)."""
        if self.cell is None:
            raise ValueError("no cell fitted")
        out = np.zeros((len(self.path), *self.path.size), bool)
        for t in range(len(self.path)):
            faces = [
                mask
                for index, mask in front_faces(self.path, t, self.cell).items()
                if index not in self.hidden
            ]
            if faces:
                out[t] = np.logical_or.reduce(faces)
        return out
