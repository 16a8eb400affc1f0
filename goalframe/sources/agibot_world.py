"""A small kinematic tabletop world with a two-arm AgiBot-like robot, rendered with numpy/cv2.

The world is what the AgiBot synthetic recordings are made from, and what closed-loop
evaluation steps later, so it is deterministic under :meth:`AgibotWorld.reset` and keeps
stepping, rendering and file writing apart:

* :meth:`AgibotWorld.reset` places ``n_objects`` coloured boxes and cylinders on the table;
* :meth:`AgibotWorld.step` moves each end effector toward its target (speed limited) and
  opens or closes each parallel gripper; a closing gripper around an object attaches it,
  an opening one releases it onto the table (kinematic, no dynamics);
* :meth:`AgibotWorld.render` draws one camera: ``head_color`` (fixed on the head, looking
  down at the table) or ``hand_left_color`` / ``hand_right_color`` (on the grippers).

Frames and conventions
----------------------
Robot base frame: x forward, y left, z up, metres; the table top is at
:data:`TABLE_Z`. Cameras use the OpenCV optical frame (x right, y down, z forward) and a
pinhole model with intrinsics ``fx, fy, ppx, ppy`` (pixel centres at integer
coordinates). A camera pose ``(R, t)`` is camera-to-base: ``p_base = R @ p_cam + t``, so a
base point projects with ``p_cam = R.T @ (p_base - t)``, ``u = fx x/z + ppx``,
``v = fy y/z + ppy``.

Internally an arm's end-effector position is the centre of its gripper palm; the gripper
always points down (approach = -z) and turns about z by its yaw, so its orientation
quaternion (xyzw) is ``(cos(yaw/2), sin(yaw/2), 0, 0)``. What the world reports and takes
(:meth:`AgibotWorld.proprio`, :class:`AgibotAction`) is the FLANGE, as AgiBot's
``state/end/*`` records it: :data:`FLANGE_TO_PALM` above the palm centre along the approach
axis, :data:`FLANGE_TO_GRASP` above the grasp point.

Object-id images (uint16): 0 background (floor, wall), 1..n objects, :data:`TABLE_ID`
table, :data:`ROBOT_BODY_ID` torso and head, :data:`ARM_IDS` upper arm and forearm,
:data:`GRIPPER_IDS` wrist, palm and fingers (index 0 = left, 1 = right).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import cv2
import numpy as np

HEIGHT, WIDTH, FPS = 480, 640, 30
DT = 1.0 / FPS
CAMERAS = ("head_color", "hand_left_color", "hand_right_color")
ARMS = ("left", "right")

TABLE_Z = 0.75
TABLE_X = (0.30, 1.10)
TABLE_Y = (-0.60, 0.60)
TABLE_ID = 100
ROBOT_BODY_ID = 200
ARM_IDS = (201, 211)
GRIPPER_IDS = (202, 212)
LABELS = {
    0: "background",
    TABLE_ID: "table",
    ROBOT_BODY_ID: "robot body",
    ARM_IDS[0]: "left arm",
    ARM_IDS[1]: "right arm",
    GRIPPER_IDS[0]: "left gripper",
    GRIPPER_IDS[1]: "right gripper",
}

# robot geometry (metres)
SHOULDERS = np.array([[0.08, 0.20, 1.22], [0.08, -0.20, 1.22]])
UPPER_ARM, FOREARM = 0.40, 0.40
WRIST_LEN = 0.13  # palm centre to the top of the wrist link
PALM_HALF = np.array([0.03, 0.05, 0.022])  # along gripper x, y (finger axis), z (approach)
FINGER_LEN, FINGER_THICK, FINGER_DEPTH = 0.065, 0.010, 0.020
TCP_DEPTH = PALM_HALF[2] + 0.6 * FINGER_LEN  # palm centre to the grasp point, along approach
# The recorded end pose is the flange (the wrist mounting plate), as on the real robot, where
# forward kinematics puts the grasp point 0.143 m further along the flange's z axis.
FLANGE_TO_GRASP = 0.143  # m, flange to the grasp point along the approach axis
FLANGE_TO_PALM = FLANGE_TO_GRASP - TCP_DEPTH  # m, flange to the palm centre along the approach axis
OPEN_MM, MAX_MM = 90.0, 120.0
GRIPPER_SPEED_MM = 600.0  # mm/s
EE_SPEED = 1.5  # m/s
YAW_SPEED = 4.0  # rad/s
HOME = np.array([[0.38, 0.28, 0.98], [0.38, -0.28, 0.98]])
WORKSPACE_LO = np.array([0.25, -0.55, TABLE_Z + 0.06])
WORKSPACE_HI = np.array([0.95, 0.55, 1.25])
HEAD_POSITION = np.array([0.12, 0.0, 1.46])  # head camera optical centre
HEAD_PITCH = 1.00  # rad, down from horizontal
WAIST = np.array([0.0, 0.30])  # waist pitch (rad), lift (m): constant here

# Real Genie-1 intrinsics at 640x480 have fx well below fy (head ~322 / ~429): pixels are not square.
HEAD_INTRINSIC = {"fx": 480.0, "fy": 600.0, "ppx": 320.0, "ppy": 240.0}
HAND_INTRINSIC = {"fx": 300.0, "fy": 380.0, "ppx": 320.0, "ppy": 240.0}
HAND_CAM_OFFSET = np.array([-0.06, 0.0, 0.0])  # in the gripper frame (x fwd, y fingers, z approach)
HAND_CAM_TILT = math.radians(30.0)  # optical axis tilted from the approach axis toward gripper x
NEAR = 0.02

COLORS = {
    "red": (205, 40, 40),
    "green": (40, 165, 65),
    "blue": (40, 85, 205),
    "yellow": (230, 200, 40),
    "orange": (240, 130, 30),
    "purple": (135, 60, 175),
    "cyan": (40, 180, 195),
}
SHAPES = ("cube", "block", "can", "bottle")
WALL_RGB = (198, 203, 210)
FLOOR_RGB = (92, 92, 98)
TABLE_RGB = (168, 128, 86)
BODY_RGB = (215, 217, 222)
ARM_RGB = (230, 232, 236)
GRIPPER_RGB = (62, 64, 70)
LIGHT = np.array([0.35, 0.25, 1.0]) / np.linalg.norm([0.35, 0.25, 1.0])


@dataclass
class TableObject:
    """One object on the table; ``position`` is its centre, ``yaw`` about z."""

    id: int
    shape: str  # "box" or "cylinder"
    kind: str  # cube, block, can, bottle
    color: str
    size: tuple[float, float, float]  # box: (x, y, z) extents; cylinder: (2r, 2r, height)
    position: np.ndarray
    yaw: float = 0.0

    @property
    def name(self) -> str:
        return f"{self.color} {self.kind}"

    @property
    def height(self) -> float:
        return self.size[2]

    def width_across(self, yaw: float) -> float:
        """Extent (m) between two fingers that close along the gripper y axis at ``yaw``."""
        if self.shape == "cylinder":
            return self.size[0]
        a = yaw - self.yaw  # gripper y axis in the object frame: (sin a, -cos a)
        return abs(math.sin(a)) * self.size[0] + abs(math.cos(a)) * self.size[1]

    def to_json(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "type": self.name,
            "shape": self.shape,
            "kind": self.kind,
            "color": self.color,
            "size_m": [round(float(s), 4) for s in self.size],
        }


@dataclass
class WorldState:
    """Everything that changes over time (a snapshot: :meth:`AgibotWorld.get_state`)."""

    frame: int
    ee: np.ndarray  # (2, 3) palm centres
    yaw: np.ndarray  # (2,)
    opening: np.ndarray  # (2,) mm
    command: np.ndarray  # (2,) last gripper command, 0 open 1 closed
    held: list[int | None]  # object id per arm
    hold_offset: np.ndarray  # (2, 3) object centre minus palm centre while held
    positions: np.ndarray  # (n, 3)
    yaws: np.ndarray  # (n,)

    def copy(self) -> WorldState:
        return replace(
            self,
            ee=self.ee.copy(),
            yaw=self.yaw.copy(),
            opening=self.opening.copy(),
            command=self.command.copy(),
            held=list(self.held),
            hold_offset=self.hold_offset.copy(),
            positions=self.positions.copy(),
            yaws=self.yaws.copy(),
        )


@dataclass
class StepEvent:
    kind: str  # "grasp" or "release"
    arm: str
    frame: int  # first frame whose state shows the change
    object_id: int


@dataclass
class _Scene:
    verts: np.ndarray  # (F, M, 3)
    nverts: np.ndarray  # (F,)
    normals: np.ndarray  # (F, 3)
    prim: np.ndarray  # (F,)
    colors: np.ndarray  # (F, 3) uint8, shaded
    ids: np.ndarray  # (F,) uint16
    prim_center: np.ndarray  # (P, 3)
    prim_layer: np.ndarray  # (P,)


# ----------------------------------------------------------------------------- geometry

_BOX_FACES = np.array([[4, 6, 7, 5], [0, 1, 3, 2], [2, 3, 7, 6], [0, 4, 5, 1], [1, 5, 7, 3], [0, 2, 6, 4]])
_BOX_NORMALS = np.array([[1, 0, 0], [-1, 0, 0], [0, 1, 0], [0, -1, 0], [0, 0, 1], [0, 0, -1]], float)
_BOX_SIGNS = np.array([[(i >> 2) & 1, (i >> 1) & 1, i & 1] for i in range(8)], float) * 2 - 1
_CYL_K = 12
_MAXV = _CYL_K
_THETA = np.arange(_CYL_K) * 2 * np.pi / _CYL_K
_RING = np.stack([np.cos(_THETA), np.sin(_THETA)], 1)
_MID = np.stack([np.cos(_THETA + np.pi / _CYL_K), np.sin(_THETA + np.pi / _CYL_K)], 1)


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


def _pad(poly: np.ndarray) -> np.ndarray:
    out = np.empty((_MAXV, 3))
    out[: len(poly)] = poly
    out[len(poly) :] = poly[-1]
    return out


class _Builder:
    def __init__(self) -> None:
        self.verts: list[np.ndarray] = []
        self.nverts: list[int] = []
        self.normals: list[np.ndarray] = []
        self.prim: list[int] = []
        self.colors: list[np.ndarray] = []
        self.ids: list[int] = []
        self.centers: list[np.ndarray] = []
        self.layers: list[int] = []

    def _add(self, faces: np.ndarray, n: int, normals: np.ndarray, rgb, oid: int, center, layer: int) -> None:
        p = len(self.centers)
        self.centers.append(np.asarray(center, float))
        self.layers.append(layer)
        shade = 0.55 + 0.45 * np.clip(normals @ LIGHT, 0.0, 1.0)
        cols = np.clip(np.asarray(rgb, float)[None] * shade[:, None], 0, 255).astype(np.uint8)
        for f in range(len(faces)):
            self.verts.append(faces[f])
            self.nverts.append(n if np.ndim(n) == 0 else int(n[f]))
            self.normals.append(normals[f])
            self.prim.append(p)
            self.colors.append(cols[f])
            self.ids.append(oid)

    def box(self, center, rot: np.ndarray, half, rgb, oid: int, layer: int = 2) -> None:
        center = np.asarray(center, float)
        corners = center + (_BOX_SIGNS * np.asarray(half, float)) @ rot.T
        faces = np.repeat(corners[_BOX_FACES][:, -1:, :], _MAXV, axis=1)
        faces[:, :4] = corners[_BOX_FACES]
        self._add(faces, 4, _BOX_NORMALS @ rot.T, rgb, oid, center, layer)

    def link(self, a, b, thick: float, rgb, oid: int) -> None:
        a, b = np.asarray(a, float), np.asarray(b, float)
        d = b - a
        length = float(np.linalg.norm(d))
        u = d / max(length, 1e-9)
        ref = np.array([0.0, 0.0, 1.0]) if abs(u[2]) < 0.9 else np.array([1.0, 0.0, 0.0])
        v = np.cross(u, ref)
        v /= np.linalg.norm(v)
        w = np.cross(u, v)
        self.box((a + b) / 2, np.stack([u, v, w], 1), (length / 2, thick / 2, thick / 2), rgb, oid)

    def cylinder(self, center, radius: float, half_h: float, rgb, oid: int) -> None:
        center = np.asarray(center, float)
        ring = np.zeros((_CYL_K, 3))
        ring[:, :2] = _RING * radius
        bottom = center + ring - [0, 0, half_h]
        top = center + ring + [0, 0, half_h]
        nxt = np.roll(np.arange(_CYL_K), -1)
        sides = np.stack([bottom, bottom[nxt], top[nxt], top], 1)  # (K, 4, 3)
        faces = np.repeat(sides[:, -1:, :], _MAXV, axis=1)
        faces[:, :4] = sides
        faces = np.concatenate([faces, top[None], bottom[::-1][None]], 0)
        normals = np.concatenate(
            [np.concatenate([_MID, np.zeros((_CYL_K, 1))], 1), [[0, 0, 1.0]], [[0, 0, -1.0]]]
        )
        n = np.array([4] * _CYL_K + [_CYL_K, _CYL_K])
        self._add(faces, n, normals, rgb, oid, center, 2)

    def quad(self, corners, normal, rgb, oid: int, layer: int) -> None:
        corners = np.asarray(corners, float)
        self._add(np.array([_pad(corners)]), 4, np.asarray([normal], float), rgb, oid, corners.mean(0), layer)

    def build(self) -> _Scene:
        return _Scene(
            verts=np.array(self.verts),
            nverts=np.array(self.nverts),
            normals=np.array(self.normals),
            prim=np.array(self.prim),
            colors=np.array(self.colors, np.uint8),
            ids=np.array(self.ids, np.uint16),
            prim_center=np.array(self.centers),
            prim_layer=np.array(self.layers),
        )


def _clip_near(poly: np.ndarray, near: float) -> np.ndarray:
    out = []
    n = len(poly)
    for i in range(n):
        a, b = poly[i], poly[(i + 1) % n]
        ina, inb = a[2] >= near, b[2] >= near
        if ina:
            out.append(a)
        if ina != inb:
            s = (near - a[2]) / (b[2] - a[2])
            out.append(a + s * (b - a))
    return np.array(out) if out else np.zeros((0, 3))


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
    hint = np.array([-0.2, side, -0.35])
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


@dataclass
class AgibotAction:
    """Per-arm flange targets (robot base frame, as ``action/end/position``) and gripper commands."""

    position: np.ndarray  # (2, 3) flange
    gripper: np.ndarray  # (2,) 0 open, 1 closed
    yaw: np.ndarray | None = None  # (2,) gripper yaw targets; None keeps the current yaw


@dataclass
class AgibotWorld:
    """Deterministic tabletop world; see the module docstring for frames and ids."""

    head: np.ndarray = field(default_factory=lambda: np.array([0.0, HEAD_PITCH]))
    objects: list[TableObject] = field(default_factory=list)
    state: WorldState | None = None
    seed: int = 0

    # -- setup ---------------------------------------------------------------------------
    def reset(self, seed: int, n_objects: int = 3) -> WorldState:
        """Place ``n_objects`` (1..7) objects of distinct colours on the table."""
        if not 1 <= n_objects <= len(COLORS):
            raise ValueError(f"n_objects must be 1..{len(COLORS)}, got {n_objects}")
        rng = np.random.default_rng(seed)
        self.seed = seed
        self.head = np.array([0.0, HEAD_PITCH + rng.uniform(-0.03, 0.03)])
        colors = rng.permutation(list(COLORS))[:n_objects]
        self.objects = []
        placed: list[np.ndarray] = []
        for i, color in enumerate(colors):
            kind = SHAPES[int(rng.integers(len(SHAPES)))]
            if kind == "cube":
                s = rng.uniform(0.045, 0.06)
                shape, size = "box", (s, s, s)
            elif kind == "block":
                shape, size = "box", (
                    rng.uniform(0.08, 0.10),
                    rng.uniform(0.04, 0.05),
                    rng.uniform(0.045, 0.06),
                )
            elif kind == "can":
                d = rng.uniform(0.06, 0.07)
                shape, size = "cylinder", (d, d, rng.uniform(0.08, 0.10))
            else:
                d = rng.uniform(0.045, 0.055)
                shape, size = "cylinder", (d, d, rng.uniform(0.12, 0.15))
            xy = self.free_spot(rng, placed, 0.12)
            placed.append(xy)
            pos = np.array([xy[0], xy[1], TABLE_Z + size[2] / 2])
            yaw = float(rng.uniform(-0.6, 0.6)) if shape == "box" else 0.0
            self.objects.append(
                TableObject(i + 1, shape, kind, str(color), tuple(float(v) for v in size), pos, yaw)
            )
        self.state = WorldState(
            frame=0,
            ee=HOME.copy(),
            yaw=np.zeros(2),
            opening=np.full(2, OPEN_MM),
            command=np.zeros(2),
            held=[None, None],
            hold_offset=np.zeros((2, 3)),
            positions=np.array([o.position for o in self.objects]),
            yaws=np.array([o.yaw for o in self.objects]),
        )
        self._sync()
        return self.state

    @staticmethod
    def free_spot(
        rng: np.random.Generator, taken: list[np.ndarray], gap: float, y_range=(-0.30, 0.30)
    ) -> np.ndarray:
        # A crowded table relaxes the gap step by step (seeds that never hit this are unchanged).
        for relaxed in (gap, gap * 0.85, gap * 0.7, gap * 0.55):
            for _ in range(500):
                xy = np.array([rng.uniform(0.48, 0.70), rng.uniform(*y_range)])
                if all(np.linalg.norm(xy - p) >= relaxed for p in taken):
                    return xy
        raise RuntimeError("no free spot on the table")

    def get_state(self) -> WorldState:
        return self._require().copy()

    def set_state(self, state: WorldState) -> None:
        self.state = state.copy()
        self._sync()

    def _require(self) -> WorldState:
        if self.state is None:
            raise RuntimeError("call reset(seed, n_objects) first")
        return self.state

    def _sync(self) -> None:
        st = self._require()
        for i, o in enumerate(self.objects):
            o.position = st.positions[i]
            o.yaw = float(st.yaws[i])
        self._scene_cache: _Scene | None = None

    def object(self, object_id: int) -> TableObject:
        return self.objects[object_id - 1]

    # -- dynamics ------------------------------------------------------------------------
    def step(self, action: AgibotAction | Mapping[str, Any]) -> list[StepEvent]:
        """Advance one frame (1/30 s); returns grasp/release events (frame = the new frame)."""
        st = self._require()
        if isinstance(action, Mapping):
            action = AgibotAction(
                np.asarray(action["position"], float), np.asarray(action["gripper"], float), action.get("yaw")
            )
        target = np.clip(palm_of_flange(np.asarray(action.position, float).reshape(2, 3)), WORKSPACE_LO, WORKSPACE_HI)
        command = (np.asarray(action.gripper, float).reshape(2) >= 0.5).astype(float)
        yaw_t = st.yaw if action.yaw is None else np.asarray(action.yaw, float).reshape(2)
        st.frame += 1
        events: list[StepEvent] = []
        for arm in range(2):
            delta = target[arm] - st.ee[arm]
            dist = float(np.linalg.norm(delta))
            step_max = EE_SPEED * DT
            st.ee[arm] = st.ee[arm] + (delta if dist <= step_max else delta * (step_max / dist))
            dyaw = math.remainder(float(yaw_t[arm]) - float(st.yaw[arm]), 2 * math.pi)
            dyaw = float(np.clip(dyaw, -YAW_SPEED * DT, YAW_SPEED * DT))
            st.yaw[arm] += dyaw
            if st.held[arm] is not None and dyaw:  # a held object turns with the gripper
                st.hold_offset[arm] = rot_z(dyaw) @ st.hold_offset[arm]
                st.yaws[st.held[arm] - 1] += dyaw
            st.command[arm] = command[arm]
            rate = GRIPPER_SPEED_MM * DT
            held = st.held[arm]
            if command[arm] > 0:
                if held is None:
                    before = float(st.opening[arm])
                    after = max(0.0, before - rate)
                    obj = self._graspable(arm, before, after)
                    if obj is not None:
                        st.held[arm] = obj.id
                        st.hold_offset[arm] = st.positions[obj.id - 1] - st.ee[arm]
                        after = obj.width_across(float(st.yaw[arm])) * 1000.0
                        events.append(StepEvent("grasp", ARMS[arm], st.frame, obj.id))
                    st.opening[arm] = after
            else:
                if held is not None:
                    st.held[arm] = None
                    st.positions[held - 1, 2] = self._support_z(held) + self.object(held).height / 2
                    events.append(StepEvent("release", ARMS[arm], st.frame, held))
                st.opening[arm] = min(OPEN_MM, float(st.opening[arm]) + rate)
            if st.held[arm] is not None:
                st.positions[st.held[arm] - 1] = st.ee[arm] + st.hold_offset[arm]
        self._sync()
        return events

    def _support_z(self, object_id: int) -> float:
        """Height a released object comes to rest on: the table, an object below it, or the floor."""
        st = self._require()
        xy = st.positions[object_id - 1, :2]
        if not (TABLE_X[0] <= xy[0] <= TABLE_X[1] and TABLE_Y[0] <= xy[1] <= TABLE_Y[1]):
            return 0.0
        z = TABLE_Z
        me = self.object(object_id)
        for o in self.objects:
            if o.id == object_id or o.id in st.held:
                continue
            reach = (max(o.size[:2]) + max(me.size[:2])) / 2
            if np.linalg.norm(o.position[:2] - xy) < 0.8 * reach:
                z = max(z, float(o.position[2] + o.height / 2))
        return z

    def tcp(self, arm: int) -> np.ndarray:
        """The grasp point between the fingers."""
        st = self._require()
        return st.ee[arm] - [0.0, 0.0, TCP_DEPTH]

    def _graspable(self, arm: int, before_mm: float, after_mm: float) -> TableObject | None:
        st = self._require()
        tcp = self.tcp(arm)
        best, best_d = None, 0.025
        for o in self.objects:
            if o.id in st.held:
                continue
            width = o.width_across(float(st.yaw[arm])) * 1000.0
            if not (after_mm <= width + 1.0 <= before_mm + 2.0):
                continue
            d = float(np.linalg.norm(tcp[:2] - o.position[:2]))
            bottom, top = o.position[2] - o.height / 2, o.position[2] + o.height / 2
            if d < best_d and bottom + 0.005 <= tcp[2] <= top:
                best, best_d = o, d
        return best

    # -- readouts ------------------------------------------------------------------------
    def proprio(self) -> dict[str, np.ndarray]:
        """State readings in AgiBot's h5 terms (positions in m, opening in mm, xyzw)."""
        st = self._require()
        return {
            "joint/position": joint_positions(st.ee, st.yaw),
            "effector/position": st.opening.copy(),
            "end/position": flange_of_palm(st.ee),
            "end/orientation": np.stack([gripper_quaternion(float(y)) for y in st.yaw]),
            "head/position": self.head.copy(),
            "waist/position": WAIST.copy(),
        }

    def intrinsics(self, camera: str) -> dict[str, float]:
        if camera == "head_color":
            return dict(HEAD_INTRINSIC)
        if camera in ("hand_left_color", "hand_right_color"):
            return dict(HAND_INTRINSIC)
        raise ValueError(f"unknown camera {camera!r}; choose one of {', '.join(CAMERAS)}")

    def camera_pose(self, camera: str) -> tuple[np.ndarray, np.ndarray]:
        """Camera-to-base (R, t) of a camera at the current frame."""
        st = self._require()
        if camera == "head_color":
            return head_camera_pose(self.head)
        if camera == "hand_left_color":
            return hand_camera_pose(st.ee[0], float(st.yaw[0]))
        if camera == "hand_right_color":
            return hand_camera_pose(st.ee[1], float(st.yaw[1]))
        raise ValueError(f"unknown camera {camera!r}; choose one of {', '.join(CAMERAS)}")

    def project(self, camera: str, points: np.ndarray) -> np.ndarray:
        """Pixel (u, v) of base-frame points (N, 3); NaN behind the camera."""
        k = self.intrinsics(camera)
        rot, t = self.camera_pose(camera)
        pc = (np.atleast_2d(points) - t) @ rot
        with np.errstate(divide="ignore", invalid="ignore"):
            uv = np.stack(
                [k["fx"] * pc[:, 0] / pc[:, 2] + k["ppx"], k["fy"] * pc[:, 1] / pc[:, 2] + k["ppy"]], 1
            )
        uv[pc[:, 2] <= 0] = np.nan
        return uv

    # -- rendering -----------------------------------------------------------------------
    def _scene(self) -> _Scene:
        if getattr(self, "_scene_cache", None) is not None:
            return self._scene_cache
        st = self._require()
        b = _Builder()
        big = 8.0
        b.quad([[-big, -big, 0], [big, -big, 0], [big, big, 0], [-big, big, 0]], [0, 0, 1], FLOOR_RGB, 0, 0)
        (x0, x1), (y0, y1) = TABLE_X, TABLE_Y
        b.box(
            [(x0 + x1) / 2, (y0 + y1) / 2, TABLE_Z / 2],
            np.eye(3),
            [(x1 - x0) / 2, (y1 - y0) / 2, TABLE_Z / 2],
            TABLE_RGB,
            TABLE_ID,
            1,
        )
        for o in self.objects:
            rgb = COLORS[o.color]
            if o.shape == "box":
                b.box(o.position, rot_z(o.yaw), np.array(o.size) / 2, rgb, o.id)
            else:
                b.cylinder(o.position, o.size[0] / 2, o.size[2] / 2, rgb, o.id)
        b.box([-0.08, 0.0, 1.0], np.eye(3), [0.09, 0.17, 0.30], BODY_RGB, ROBOT_BODY_ID)
        b.box([0.04, 0.0, 1.46], np.eye(3), [0.07, 0.08, 0.08], BODY_RGB, ROBOT_BODY_ID)
        for arm in range(2):
            s, e, w = arm_chain(arm, st.ee[arm])
            b.link(s, e, 0.075, ARM_RGB, ARM_IDS[arm])
            b.link(e, w, 0.055, ARM_RGB, ARM_IDS[arm])
            g = gripper_rotation(float(st.yaw[arm]))
            ee = st.ee[arm]
            gid = GRIPPER_IDS[arm]
            b.box(
                ee - g[:, 2] * (WRIST_LEN + PALM_HALF[2]) / 2,
                g,
                [0.028, 0.028, (WRIST_LEN - PALM_HALF[2]) / 2],
                GRIPPER_RGB,
                gid,
            )
            b.box(ee, g, PALM_HALF, GRIPPER_RGB, gid)
            half_open = float(st.opening[arm]) / 2000.0
            for sign in (1.0, -1.0):
                c = (
                    ee
                    + g[:, 2] * (PALM_HALF[2] + FINGER_LEN / 2)
                    + g[:, 1] * sign * (half_open + FINGER_THICK / 2)
                )
                b.box(c, g, [FINGER_DEPTH / 2, FINGER_THICK / 2, FINGER_LEN / 2], GRIPPER_RGB, gid)
        self._scene_cache = b.build()
        return self._scene_cache

    def _rasterize(self, camera: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Painter's rasterization: (face index image, drawn face ids (0 = none), colour LUT, id LUT, planes)."""
        sc = self._scene()
        k = self.intrinsics(camera)
        rot, t = self.camera_pose(camera)
        fx, fy, cx, cy = k["fx"], k["fy"], k["ppx"], k["ppy"]
        vc = (sc.verts - t) @ rot  # (F, M, 3)
        nc = sc.normals @ rot
        z = vc[..., 2]
        valid = np.arange(_MAXV)[None] < sc.nverts[:, None]
        zmax = np.where(valid, z, -np.inf).max(1)
        zmin = np.where(valid, z, np.inf).min(1)
        front = np.einsum("fi,fi->f", nc, vc[:, 0]) < 0
        keep = front & (zmax > NEAR)
        dist = np.linalg.norm(sc.prim_center - t, axis=1)
        order = np.lexsort((-dist[sc.prim], sc.prim_layer[sc.prim]))
        order = order[keep[order]]
        zz = np.maximum(z, NEAR)
        scale = 4.0  # shift=2 sub-pixel precision
        px = np.rint(np.stack([(fx * vc[..., 0] / zz + cx) * scale, (fy * vc[..., 1] / zz + cy) * scale], -1))
        px = np.clip(px, -2e8, 2e8).astype(np.int32)
        dtype = np.uint8 if len(order) < 255 else np.uint16
        img = np.zeros((HEIGHT, WIDTH), dtype)
        for n, f in enumerate(order, start=1):
            nv = sc.nverts[f]
            if zmin[f] < NEAR:
                poly = _clip_near(vc[f, :nv], NEAR)
                if len(poly) < 3:
                    continue
                pts = np.rint(
                    np.stack(
                        [
                            (fx * poly[:, 0] / poly[:, 2] + cx) * scale,
                            (fy * poly[:, 1] / poly[:, 2] + cy) * scale,
                        ],
                        -1,
                    )
                )
                pts = np.clip(pts, -2e8, 2e8).astype(np.int32)
            else:
                pts = px[f, :nv]
            cv2.fillConvexPoly(img, pts, int(n), lineType=cv2.LINE_8, shift=2)
        lut_size = 256 if dtype == np.uint8 else len(order) + 1
        colors = np.zeros((lut_size, 3), np.uint8)
        colors[0] = WALL_RGB
        colors[1 : len(order) + 1] = sc.colors[order]
        ids = np.zeros(lut_size, np.uint16)
        ids[1 : len(order) + 1] = sc.ids[order]
        planes = np.zeros((lut_size, 4))
        planes[1 : len(order) + 1, :3] = nc[order]
        planes[1 : len(order) + 1, 3] = np.einsum("fi,fi->f", nc[order], vc[order, 0])
        return img, order, colors, ids, planes

    def render(self, camera: str) -> tuple[np.ndarray, np.ndarray]:
        """RGB (480, 640, 3) uint8 and object ids (480, 640) uint16 seen by ``camera``."""
        img, _, colors, ids, _ = self._rasterize(camera)
        if img.dtype == np.uint8:
            rgb = cv2.LUT(cv2.merge([img, img, img]), colors.reshape(256, 1, 3))
        else:
            rgb = colors[img]
        return rgb, ids[img]

    def render_depth(self, camera: str) -> np.ndarray:
        """Depth along the optical axis in millimetres, uint16 (0 where nothing is drawn)."""
        img, _, _, _, planes = self._rasterize(camera)
        k = self.intrinsics(camera)
        u = (np.arange(WIDTH) - k["ppx"]) / k["fx"]
        v = (np.arange(HEIGHT) - k["ppy"]) / k["fy"]
        p = planes[img]
        denom = p[..., 0] * u[None, :] + p[..., 1] * v[:, None] + p[..., 2]
        with np.errstate(divide="ignore", invalid="ignore"):
            zm = np.where(np.abs(denom) > 1e-9, p[..., 3] / denom, 0.0) * 1000.0
        zm = np.where((img > 0) & np.isfinite(zm), np.clip(zm, 0, 65535), 0)
        return zm.astype(np.uint16)
