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
from dataclasses import dataclass, field
from typing import Any

import cv2
import numpy as np

from goalframe.sim.agibot.constants import (
    ARM_IDS,
    ARM_RGB,
    ARMS,
    BLOCK_HEIGHT,
    BLOCK_LENGTH,
    BLOCK_WIDTH,
    BODY_RGB,
    BOTTLE_DIAMETER,
    BOTTLE_HEIGHT,
    BOX_YAW_MAX,
    CAMERAS,
    CAN_DIAMETER,
    CAN_HEIGHT,
    COLORS,
    CUBE_SIDE,
    DT,
    EE_SPEED,
    FINGER_DEPTH,
    FINGER_LEN,
    FINGER_THICK,
    FLOOR_HALF,
    FLOOR_RGB,
    FOREARM_THICK,
    GRASP_ABOVE_BOTTOM,
    GRASP_CATCH_MM,
    GRASP_CONTACT_MM,
    GRASP_RADIUS,
    GRIPPER_IDS,
    GRIPPER_RGB,
    GRIPPER_SPEED_MM,
    HAND_INTRINSIC,
    HEAD_BOX_CENTER,
    HEAD_BOX_HALF,
    HEAD_INTRINSIC,
    HEAD_PITCH,
    HEAD_PITCH_JITTER,
    HEIGHT,
    HOME,
    NEAR,
    OBJECT_GAP,
    OPEN_MM,
    PALM_HALF,
    ROBOT_BODY_ID,
    SHAPES,
    SPOT_GAP_RELAX,
    SPOT_TRIES,
    SPOT_X,
    SPOT_Y,
    STACK_OVERLAP,
    TABLE_ID,
    TABLE_RGB,
    TABLE_X,
    TABLE_Y,
    TABLE_Z,
    TCP_DEPTH,
    TORSO_CENTER,
    TORSO_HALF,
    UPPER_ARM_THICK,
    WAIST,
    WALL_RGB,
    WIDTH,
    WORKSPACE_HI,
    WORKSPACE_LO,
    WRIST_HALF_WIDTH,
    WRIST_LEN,
    YAW_SPEED,
)
from goalframe.sim.agibot.kinematics import (
    arm_chain,
    flange_of_palm,
    gripper_quaternion,
    gripper_rotation,
    hand_camera_pose,
    head_camera_pose,
    joint_positions,
    palm_of_flange,
    rot_z,
)
from goalframe.sim.agibot.render import (
    _MAXV,
    _Builder,
    _clip_near,
    _Scene,
)
from goalframe.sim.agibot.state import StepEvent, TableObject, WorldState


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
        self.head = np.array([0.0, HEAD_PITCH + rng.uniform(-HEAD_PITCH_JITTER, HEAD_PITCH_JITTER)])
        colors = rng.permutation(list(COLORS))[:n_objects]
        self.objects = []
        placed: list[np.ndarray] = []
        for i, color in enumerate(colors):
            kind = SHAPES[int(rng.integers(len(SHAPES)))]
            if kind == "cube":
                s = rng.uniform(*CUBE_SIDE)
                shape, size = "box", (s, s, s)
            elif kind == "block":
                shape, size = (
                    "box",
                    (
                        rng.uniform(*BLOCK_LENGTH),
                        rng.uniform(*BLOCK_WIDTH),
                        rng.uniform(*BLOCK_HEIGHT),
                    ),
                )
            elif kind == "can":
                d = rng.uniform(*CAN_DIAMETER)
                shape, size = "cylinder", (d, d, rng.uniform(*CAN_HEIGHT))
            else:
                d = rng.uniform(*BOTTLE_DIAMETER)
                shape, size = "cylinder", (d, d, rng.uniform(*BOTTLE_HEIGHT))
            xy = self.free_spot(rng, placed, OBJECT_GAP)
            placed.append(xy)
            pos = np.array([xy[0], xy[1], TABLE_Z + size[2] / 2])
            yaw = float(rng.uniform(-BOX_YAW_MAX, BOX_YAW_MAX)) if shape == "box" else 0.0
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
        rng: np.random.Generator, taken: list[np.ndarray], gap: float, y_range=SPOT_Y
    ) -> np.ndarray:
        # A crowded table relaxes the gap step by step (seeds that never hit this are unchanged).
        for relaxed in (gap, *(gap * share for share in SPOT_GAP_RELAX)):
            for _ in range(SPOT_TRIES):
                xy = np.array([rng.uniform(*SPOT_X), rng.uniform(*y_range)])
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
        target = np.clip(
            palm_of_flange(np.asarray(action.position, float).reshape(2, 3)), WORKSPACE_LO, WORKSPACE_HI
        )
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
            if np.linalg.norm(o.position[:2] - xy) < STACK_OVERLAP * reach:
                z = max(z, float(o.position[2] + o.height / 2))
        return z

    def tcp(self, arm: int) -> np.ndarray:
        """The grasp point between the fingers."""
        st = self._require()
        return st.ee[arm] - [0.0, 0.0, TCP_DEPTH]

    def _graspable(self, arm: int, before_mm: float, after_mm: float) -> TableObject | None:
        st = self._require()
        tcp = self.tcp(arm)
        best, best_d = None, GRASP_RADIUS
        for o in self.objects:
            if o.id in st.held:
                continue
            width = o.width_across(float(st.yaw[arm])) * 1000.0
            if not (after_mm <= width + GRASP_CONTACT_MM <= before_mm + GRASP_CATCH_MM):
                continue
            d = float(np.linalg.norm(tcp[:2] - o.position[:2]))
            bottom, top = o.position[2] - o.height / 2, o.position[2] + o.height / 2
            if d < best_d and bottom + GRASP_ABOVE_BOTTOM <= tcp[2] <= top:
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
        big = FLOOR_HALF
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
        self._scene_extras(b)
        for o in self.objects:
            rgb = COLORS[o.color]
            if o.shape == "box":
                b.box(o.position, rot_z(o.yaw), np.array(o.size) / 2, rgb, o.id)
            else:
                b.cylinder(o.position, o.size[0] / 2, o.size[2] / 2, rgb, o.id)
        b.box(TORSO_CENTER, np.eye(3), TORSO_HALF, BODY_RGB, ROBOT_BODY_ID)
        b.box(HEAD_BOX_CENTER, np.eye(3), HEAD_BOX_HALF, BODY_RGB, ROBOT_BODY_ID)
        for arm in range(2):
            s, e, w = arm_chain(arm, st.ee[arm])
            b.link(s, e, UPPER_ARM_THICK, ARM_RGB, ARM_IDS[arm])
            b.link(e, w, FOREARM_THICK, ARM_RGB, ARM_IDS[arm])
            g = gripper_rotation(float(st.yaw[arm]))
            ee = st.ee[arm]
            gid = GRIPPER_IDS[arm]
            b.box(
                ee - g[:, 2] * (WRIST_LEN + PALM_HALF[2]) / 2,
                g,
                [WRIST_HALF_WIDTH, WRIST_HALF_WIDTH, (WRIST_LEN - PALM_HALF[2]) / 2],
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

    def _scene_extras(self, b: _Builder) -> None:
        """Scenario worlds add their own surfaces here (drawn after the table, before objects)."""

    def _rasterize(self, camera: str) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Painter's rasterization: (face index image, drawn face ids (0 none), colour/id LUTs, planes)."""
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
