"""AgiBot interaction events: task segments, and grasps and releases from the grippers.

Three kinds of rows (``EVENTS_SCHEMA``), each with a prompt point for the mask annotators:

* ``segment``: one per ``label_info.action_config`` entry (``frame`` = start_frame,
  ``end_frame`` exclusive, ``name`` = skill, ``text`` = action_text), on ``head_color``.
* ``grasp`` / ``release``: one per gripper transition (``name`` ``"<arm>.grasp"``...), on
  ``head_color`` always and on the acting arm's hand camera where the point lands inside
  that image. ``text`` is the action_text of the segment the event falls in.

Gripper transitions (:func:`gripper_transitions`)
------------------------------------------------
The command (``actions/effector/position``, 0 open, 1 closed) says when to look; the
opening (``states/effector/position``, mm) says when it happened.

1. Command. Frames the reader filled from the state (``actions/effector/filled``) take
   the last recorded command instead (a zero-order hold, as a controller applies a
   command stream recorded at fewer frames); frames before the first recorded row keep the
   reader's fill. Hysteresis (closed at >= :data:`COMMAND_ON`, open at <=
   :data:`COMMAND_OFF`) then a minimum duration: a switch counts only when the new value
   lasts :data:`MIN_RUN_FRAMES` frames, so a command that flickers 0/1/0 (or 1/0/1 while
   holding) for a frame or two changes nothing.
2. Grasp: in each closed-command run (widened by :data:`LAG_FRAMES` each side for the
   command-to-state delay and sparse action rows) the gripper must start closing (the
   opening drops by more than ``eps`` in a frame, see below); the grasp is the first
   frame after that which has closed at least :data:`MIN_TRAVEL_MM` and from which the
   opening does not drop by more than ``eps`` over the next
   :data:`MIN_STALL_FRAMES` frames: the jaws stalled on an object. A stall at or below
   :data:`FULLY_CLOSED_MM` is a missed grasp (the jaws closed on nothing): no event, a
   warning.
3. Release: after a grasp, from the end of its closed run (less :data:`LAG_FRAMES`), the
   first frame where the opening rises by more than ``eps`` and keeps rising,
   frame after frame, until it is :data:`MIN_TRAVEL_MM` above the held opening.

``eps``, the least per-frame change that is motion, is :func:`motion_eps`: :data:`STALL_EPS_MM`,
or three times the opening's own frame-to-frame noise when that is larger. A wobble of
the opening (sensor noise) neither starts nor ends anything: it does not travel
:data:`MIN_TRAVEL_MM`. On the synthetic recordings every grasp and release is found on
its true frame; with Gaussian noise of 0.3, 0.5 or 1 mm added to the opening and
commands recorded at every second frame only (the rest filled by the reader), all 580
events of 100 episodes are found, none more than 1 frame early (99%, 96%, 88% exact).

Prompt points (:func:`choose_grasp_point`)
------------------------------------------
The grasped object is what lies between the fingers, below the palm. Its centre (the
gripper's grasp point, :data:`~goalframe.sim.agibot.constants.TCP_DEPTH` below the palm)
is a poor prompt for the head camera: that camera looks down and forward from behind the
grippers, so the palm and the finger nearer to the camera hide the middle of the object
(measured on 585 generated grasps: the palm centre lands on the gripper in every grasp,
the grasp point in 75%). The prompt point is instead the point of the object's expected
extent that the camera can see past the gripper:

* candidates lie in the gripper frame (x forward, y along the fingers, z the approach
  axis, which is +z of ``states/end/orientation``), between the fingertips and up to
  :data:`GripperGeometry.region_height` above them, within ``region_x`` of the jaw
  centreline and a quarter of the opening to each side of it: the object fills the gap the
  jaws stalled on, and it rests on the table, so it reaches down to the fingertips;
* each candidate's line of sight to the camera centre is tested against the gripper's own
  parts (palm, wrist, the two fingers at the measured opening), boxes in the gripper
  frame, inflated by ``margin``: the robot knows where its gripper is;
* the first candidate, in order of distance from the centre between the fingertips, that is
  in the image and not hidden is the prompt point; if every candidate is hidden, the first
  one in the image is used and ``prompt_note`` says it may lie on the gripper.

On 585 generated grasps (200 episodes) the head-camera point lies on the grasped object's
true mask in 99.5% of grasps and 99.3% of releases, the hand-camera point in all; the
rest are the few grasps where the near finger and the palm together hide the whole
region, which the ``prompt_note`` flags.

The geometry defaults are the synthetic world's gripper (checked by the tests); for real
recordings give :class:`GripperGeometry` the real gripper's dimensions. ``states/end/*`` is
the flange pose: the palm centre is :attr:`GripperGeometry.flange_to_palm` along the
flange's +z (the approach axis), so that the grasp point lies
:attr:`GripperGeometry.grasp_offset` (0.143 m, Genie-1 by forward kinematics; ``goalframe
events --grasp-offset``) from the flange, as in the synthetic world.

Episodes whose actions copy the state (Beta), or whose gripper command leaves 0..1, take
their transitions from the opening alone. Dexterous-hand episodes (twelve joint angles)
give segment rows only: a hand's closing is not an opening in mm. Projection: pinhole with the
episode's intrinsics and that frame's extrinsics (camera to base, ``x_base = R x_cam +
t``), pixel centres at integer coordinates; ``prompt_visible`` is False outside the image or
behind the camera. Without intrinsics or extrinsics for a camera the events keep null
prompt points and ``prompt_note`` says what is missing.

A segment's prompt point is the object its arm handles, at the segment's start frame:
the arm is the one that grasps or releases in the segment (else the one holding an object
through it, else a ``left``/``right gripper|arm|hand`` in the text). If that arm grasps in
the segment, the object has been standing still until then, so the centre between the
fingertips at the grasp, in base coordinates, is projected at the start frame; if the arm
already holds an object at the start, the point is chosen as for a grasp at the start
frame; otherwise there is no point and ``prompt_note`` says why. On the same 200 episodes
97% of segment points lie on the object's mask; the rest land on an arm that is in front
of the object at the segment's first frame.

Interaction types (ROCKET ids, ``schemas.tables.INTERACTION_IDS``)
-----------------------------------------------------------------
ROCKET's ``use`` is acting on a target object with the hand or the held item without
destroying it, which is what picking, placing, pouring or wiping a tabletop object is;
``switch`` toggles the state of something (a Minecraft lever or door), as opening a drawer
or pressing a button does; ``approach`` is moving up to a target; ``mine`` breaks a
block, as cutting or crushing does. By the first word of the skill, case-insensitive:

==========  =====================================================================
use (3)     pick grasp take lift hold place put pour insert stack wipe stir fold
            hang hand handover scoop shake push pull drag slide scan
switch (5)  open close press turn twist rotate switch toggle flip unscrew screw
approach    approach reach move go navigate
(6)
mine (2)    cut chop slice break crush peel
none (-1)   anything else
==========  =====================================================================

Grasp and release events are ``use``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from goalframe.schemas.rotations import quaternion_matrix
from goalframe.schemas.tables import INTERACTION_IDS

HEAD_CAMERA = "head_color"
HAND_CAMERAS = {"left": "hand_left_color", "right": "hand_right_color"}
ARMS = ("left", "right")

# gripper command and opening
COMMAND_ON, COMMAND_OFF = 0.6, 0.4  # hysteresis on the 0 (open) .. 1 (closed) command
MIN_RUN_FRAMES = 3  # a command switch counts only if the new value lasts this long
LAG_FRAMES = 3  # frames the opening may lead or trail the (held, debounced) command
STALL_EPS_MM = 1.0  # per-frame change of the opening below this is "not moving" (at least)
NOISE_EPS_FACTOR = 3.0  # ... and below this many times the opening's frame-to-frame noise
MIN_STALL_FRAMES = 3  # a stall (or an opening) must last this many frames
MIN_TRAVEL_MM = 4.0  # a close must have closed, an open opened, by at least this much
FULLY_CLOSED_MM = 5.0  # a stall at or below this opening is a missed grasp
NEAR_M = 0.02  # points closer than this to a camera count as behind it

SKILL_INTERACTIONS: dict[str, str] = {
    **dict.fromkeys(
        "pick grasp take lift hold place put pour insert stack wipe stir fold hang hand handover "
        "scoop shake push pull drag slide scan".split(),
        "use",
    ),
    **dict.fromkeys("open close press turn twist rotate switch toggle flip unscrew screw".split(), "switch"),
    **dict.fromkeys("approach reach move go navigate".split(), "approach"),
    **dict.fromkeys("cut chop slice break crush peel".split(), "mine"),
}
_ARM_IN_TEXT = re.compile(r"\b(left|right)\s+(?:gripper|arm|hand)\b", re.IGNORECASE)


def interaction_of_skill(skill: str) -> str:
    """ROCKET interaction type of an AgiBot skill (module docstring table)."""
    words = re.findall(r"[a-z]+", skill.lower())
    return SKILL_INTERACTIONS.get(words[0], "none") if words else "none"


# ----------------------------------------------------------------------------- gripper transitions


@dataclass(frozen=True)
class GripperTransition:
    kind: str  # grasp | release
    frame: int
    opening_mm: float


def held_command(values: np.ndarray, filled: np.ndarray | None) -> np.ndarray:
    """The command with filled frames replaced by the last recorded value (zero-order hold)."""
    out = np.asarray(values, np.float64).copy()
    if filled is None:
        return out
    recorded = ~np.asarray(filled, bool)
    last = np.maximum.accumulate(np.where(recorded, np.arange(len(out)), -1))
    has = last >= 0
    out[has] = out[last[has]]
    return out


def debounce(
    command: np.ndarray, on: float = COMMAND_ON, off: float = COMMAND_OFF, min_run: int = MIN_RUN_FRAMES
) -> np.ndarray:
    """Closed (True) / open per frame: hysteresis, then switches that last ``min_run`` frames."""
    command = np.asarray(command, np.float64)
    n = len(command)
    raw = np.zeros(n, bool)
    state = bool(n and command[0] >= (on + off) / 2)
    for i, value in enumerate(command):
        if value >= on:
            state = True
        elif value <= off:
            state = False
        raw[i] = state  # NaN keeps the previous state
    if n == 0:
        return raw
    change = np.flatnonzero(np.diff(raw)) + 1
    starts = np.concatenate([[0], change])
    ends = np.concatenate([change, [n]])
    long_runs = [raw[s] for s, e in zip(starts, ends) if e - s >= min_run]
    state = bool(long_runs[0]) if long_runs else bool(raw[0])
    out = np.empty(n, bool)
    for s, e in zip(starts, ends):
        if raw[s] != state and e - s >= min_run:
            state = bool(raw[s])
        out[s:e] = state
    return out


def motion_eps(opening: np.ndarray) -> float:
    """Smallest per-frame change (mm) that counts as motion: :data:`STALL_EPS_MM`, or
    :data:`NOISE_EPS_FACTOR` x the noise of the opening (1.4826 x the median absolute
    deviation of its frame-to-frame changes, which a gripper at rest most of the time
    leaves to the sensor noise), whichever is larger."""
    d = np.diff(np.asarray(opening, np.float64))
    d = d[np.isfinite(d)]
    if d.size < 2:
        return STALL_EPS_MM
    sigma = 1.4826 * float(np.median(np.abs(d - np.median(d))))
    return max(STALL_EPS_MM, NOISE_EPS_FACTOR * sigma)


def _runs(mask: np.ndarray) -> list[tuple[int, int]]:
    padded = np.concatenate([[False], mask, [False]])
    edges = np.flatnonzero(np.diff(padded.astype(np.int8)))
    return list(zip(edges[::2].tolist(), edges[1::2].tolist()))


def gripper_transitions(
    opening: np.ndarray,
    command: np.ndarray | None,
    filled: np.ndarray | None = None,
    *,
    on: float = COMMAND_ON,
    off: float = COMMAND_OFF,
    min_run: int = MIN_RUN_FRAMES,
    lag: int = LAG_FRAMES,
    eps: float | None = None,
    min_stall: int = MIN_STALL_FRAMES,
    min_travel: float = MIN_TRAVEL_MM,
    fully_closed: float = FULLY_CLOSED_MM,
) -> tuple[list[GripperTransition], list[str]]:
    """Grasps and releases of one gripper (module docstring); warnings name the frames.

    ``opening`` (T,) mm; ``command`` (T,) 0 open .. 1 closed, or None to derive it from the
    opening (closed below 0.9 x the largest opening, as the reader fills missing rows).
    ``eps`` defaults to :func:`motion_eps` of the opening.
    """
    o = np.asarray(opening, np.float64)
    n = len(o)
    eps = motion_eps(o) if eps is None else eps
    warnings: list[str] = []
    if command is None:
        top = np.nanmax(o) if n else 0.0
        command, filled = (o < 0.9 * top).astype(np.float64), None
    closed = debounce(held_command(command, filled), on, off, min_run)
    runs = _runs(closed)
    with np.errstate(invalid="ignore"):
        drop = np.zeros(n, bool)
        rise = np.zeros(n, bool)
        drop[1:] = o[1:] < o[:-1] - eps
        rise[1:] = o[1:] > o[:-1] + eps

    def steady(g: int) -> bool:
        """The opening does not drop more than ``eps`` below its value at ``g`` for ``min_stall`` frames."""
        return bool(np.all(o[g + 1 : g + 1 + min_stall] >= o[g] - eps))

    def opens_from(f: int, held: float) -> bool:
        """The rise that starts at ``f`` goes on, frame after frame, until ``min_travel`` above ``held``."""
        g = f
        while o[g] < held + min_travel and g + 1 < n and rise[g + 1]:
            g += 1
        return bool(o[g] >= held + min_travel)

    events: list[GripperTransition] = []
    floor = 1
    for k, (a, b) in enumerate(runs):
        next_start = runs[k + 1][0] if k + 1 < len(runs) else n
        lo, hi = max(floor, a - lag, 1), min(n, b + lag)
        onset = next((f for f in range(lo, hi) if drop[f]), None)
        if onset is None:
            continue  # the jaws did not move (already closed, or holding from the start)
        stall = next((g for g in range(onset, hi) if o[onset - 1] - o[g] >= min_travel and steady(g)), None)
        if stall is None:
            until = f"the command opened at {b}" if b < n else "the episode ended"
            warnings.append(f"frame {onset}: the gripper was still closing when {until}; no grasp")
            continue
        if o[stall] <= fully_closed:
            warnings.append(f"frame {stall}: gripper closed fully ({o[stall]:.1f} mm): missed grasp, no event")
            floor = stall + 1
            continue
        events.append(GripperTransition("grasp", stall, float(o[stall])))
        floor = stall + 1
        r_lo, r_hi = max(stall + 1, b - lag), min(n, next_start + lag)
        held = float(np.nanmedian(o[stall : max(r_lo, stall + 1)]))
        release = next((f for f in range(r_lo, r_hi) if rise[f] and opens_from(f, held)), None)
        if release is None:
            if b < n:
                warnings.append(f"frame {b}: command opened after the grasp at {stall} but the gripper did not open")
            continue
        events.append(GripperTransition("release", release, float(o[release])))
        floor = release + 1
    return events, warnings


# ----------------------------------------------------------------------------- geometry


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
            (uv[:, 0] >= -0.5) & (uv[:, 0] < self.width - 0.5) & (uv[:, 1] >= -0.5) & (uv[:, 1] < self.height - 0.5)
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


# ----------------------------------------------------------------------------- rows


@dataclass
class ArmTrack:
    """Per-arm arrays of one episode (T frames)."""

    opening: np.ndarray  # (T,) mm
    command: np.ndarray | None  # (T,) 0..1
    position: np.ndarray | None  # (T, 3) end effector (palm centre), base frame
    rotation: np.ndarray | None  # (T, 3, 3) gripper frame in base
    transitions: list[GripperTransition] = field(default_factory=list)


def _row(
    frame: int,
    end: int,
    kind: str,
    name: str,
    interaction: str,
    arm: str | None,
    text: str | None,
    camera: str,
    prompt: PromptPoint | None,
    note: str | None = None,
) -> dict[str, Any]:
    have = prompt is not None and prompt.point is not None and prompt.col is not None and np.isfinite(prompt.col)
    return {
        "frame": int(frame), "end_frame": int(end), "kind": kind, "name": name, "object": None,
        "interaction": interaction, "interaction_id": INTERACTION_IDS[interaction], "delta": 1, "merged": 1,
        "gui_open": False, "arm": arm, "text": text, "camera": camera,
        "prompt_row": prompt.row if have else None, "prompt_col": prompt.col if have else None,
        "prompt_visible": bool(prompt.visible) if have else False,
        "prompt_note": (prompt.note if have else None) or note,
    }  # fmt: skip


def _segment_arm(seg: dict[str, Any], arms: dict[str, ArmTrack]) -> str | None:
    start, end = seg["start_frame"], seg["end_frame"]
    acting = [a for a, tr in arms.items() if any(start <= t.frame < end for t in tr.transitions)]
    if len(acting) == 1:
        return acting[0]
    if not acting:
        holding = [a for a, tr in arms.items() if _held_grasp(tr, start) is not None]
        if len(holding) == 1:
            return holding[0]
    found = {m.lower() for m in _ARM_IN_TEXT.findall(seg.get("action_text") or "")}
    return found.pop() if len(found) == 1 else None


def _held_grasp(track: ArmTrack, frame: int) -> GripperTransition | None:
    """The grasp the arm is still holding at ``frame`` (grasped at or before, not released)."""
    held = None
    for t in track.transitions:
        if t.frame > frame:
            break
        held = t if t.kind == "grasp" else None
    return held


def _pose_note(track: ArmTrack, arm: str) -> str | None:
    if track.position is None:
        return f"no prompt point: no {arm} end-effector position"
    if track.rotation is None:
        return f"no prompt point: no {arm} end-effector orientation (states/end/orientation)"
    return None


def events_from_tracks(
    arms: dict[str, ArmTrack],
    cameras: dict[str, Camera],
    segments: list[dict[str, Any]],
    n_frames: int,
    geometry: GripperGeometry = DEFAULT_GEOMETRY,
    head: str = HEAD_CAMERA,
) -> list[dict[str, Any]]:
    """Event rows from per-arm tracks whose ``transitions`` are filled in (see :func:`agibot_episode_events`)."""
    rows: list[dict[str, Any]] = []
    head_cam = cameras.get(head) or Camera(head, 0, 0, missing=f"no camera {head!r}")

    def text_at(frame: int) -> str | None:
        for seg in segments:
            if seg["start_frame"] <= frame < seg["end_frame"]:
                return seg.get("action_text")
        return None

    for arm, track in arms.items():
        pose_note = _pose_note(track, arm)
        for tr in track.transitions:
            name, text = f"{arm}.{tr.kind}", text_at(tr.frame)
            if pose_note is not None or not head_cam.usable():
                note = pose_note or f"no prompt point: {head_cam.missing}"
                rows.append(_row(tr.frame, tr.frame + 1, tr.kind, name, "use", arm, text, head, None, note))
                continue
            pos, rot = track.position[tr.frame], track.rotation[tr.frame]
            rows.append(_row(tr.frame, tr.frame + 1, tr.kind, name, "use", arm, text, head,
                             choose_grasp_point(head_cam, tr.frame, pos, rot, tr.opening_mm, geometry)))  # fmt: skip
            hand = cameras.get(HAND_CAMERAS.get(arm, ""))
            if hand is not None and hand.usable():
                prompt = choose_grasp_point(hand, tr.frame, pos, rot, tr.opening_mm, geometry)
                if prompt.visible:
                    rows.append(_row(tr.frame, tr.frame + 1, tr.kind, name, "use", arm, text, hand.name, prompt))

    for seg in segments:
        start, end = seg["start_frame"], seg["end_frame"]
        skill, text = seg.get("skill") or "", seg.get("action_text")
        interaction = interaction_of_skill(skill)
        arm = _segment_arm(seg, arms)
        prompt, note = None, None
        if arm is None:
            note = "no prompt point: the segment's arm is not known (no gripper event in it, no arm in its text)"
        elif arm not in arms:
            note = f"no prompt point: no gripper track for the {arm} arm"
        elif _pose_note(arms[arm], arm) is not None:
            note = _pose_note(arms[arm], arm)
        elif not head_cam.usable():
            note = f"no prompt point: {head_cam.missing}"
        elif not 0 <= start < n_frames:
            note = f"no prompt point: start frame {start} is outside the episode"
        else:
            track = arms[arm]
            grasp = next((t for t in track.transitions if t.kind == "grasp" and start <= t.frame < end), None)
            held = _held_grasp(track, start)
            if held is not None:  # the object moves with the gripper
                prompt = choose_grasp_point(
                    head_cam, start, track.position[start], track.rotation[start], float(track.opening[start]), geometry
                )
            elif grasp is not None:  # the object stands still until the grasp
                nominal = geometry.candidates(grasp.opening_mm / 1000.0)[0]
                point = track.position[grasp.frame] + track.rotation[grasp.frame] @ nominal
                prompt = project_point(head_cam, start, point)
            else:
                note = f"no prompt point: the {arm} arm neither grasps in this segment nor holds an object at its start"
        rows.append(_row(start, end, "segment", skill, interaction, arm, text, head, prompt, note))
    return rows


# ----------------------------------------------------------------------------- dataset


def _cameras(ds, episode: str, n: int, names: set[str]) -> dict[str, Camera]:
    meta = ds.meta(episode)
    info = meta.source.get("cameras", {}) if isinstance(meta.source, dict) else {}
    out: dict[str, Camera] = {}
    for cam in meta.cameras:
        try:
            _, height, width = ds.zarr_array(episode, f"frames/{cam}").shape[:3]
        except Exception:  # noqa: BLE001 - a camera without stored frames: the episode size
            height, width = meta.height, meta.width
        camera = Camera(cam, int(height), int(width))
        entry = info.get(cam, {}) if isinstance(info, dict) else {}
        intr = entry.get("intrinsic") if isinstance(entry, dict) else None
        rot_name, trans_name = f"cameras/{cam}/rotation", f"cameras/{cam}/translation"
        if not isinstance(intr, dict) or not all(k in intr for k in ("fx", "fy", "ppx", "ppy")):
            camera.missing = f"{cam} has no intrinsic parameters"
        elif rot_name not in names or trans_name not in names:
            camera.missing = f"{cam} has no per-frame extrinsics"
        else:
            camera.intrinsic = {k: float(intr[k]) for k in ("fx", "fy", "ppx", "ppy")}
            camera.rotation = ds.array(episode, rot_name).astype(np.float64)
            camera.translation = ds.array(episode, trans_name).astype(np.float64)
            if len(camera.rotation) != n or len(camera.translation) != n:
                camera.missing = f"{cam} has {len(camera.rotation)} extrinsics for {n} frames"
        out[cam] = camera
    return out


def _segments(ds, episode: str, names: set[str]) -> list[dict[str, Any]]:
    if "segments/start_frame" not in names or "segments/end_frame" not in names:
        return []
    starts = ds.array(episode, "segments/start_frame").tolist()
    ends = ds.array(episode, "segments/end_frame").tolist()
    attrs = ds.array_attrs(episode, "segments/start_frame")
    texts = list(attrs.get("action_text") or [None] * len(starts))
    skills = list(attrs.get("skill") or [""] * len(starts))
    return [
        {"start_frame": int(s), "end_frame": int(e), "action_text": t, "skill": k}
        for s, e, t, k in zip(starts, ends, texts, skills)
    ]


def _gripper_command(
    ds, episode: str, names: set[str], n: int, source: dict[str, Any]
) -> tuple[np.ndarray | None, np.ndarray | None, str | None]:
    """(command, filled, why not) of ``actions/effector/position``, trusted only as a 0/1 command.

    Beta copies the state into actions; a command that equals the opening, or leaves 0..1,
    carries nothing of its own, and the transitions come from the opening alone.
    """
    if "actions/effector/position" not in names:
        return None, None, "no actions/effector/position"
    if (source.get("actions_equal_state") or {}).get("effector/position"):
        return None, None, "actions/effector/position is a copy of the state"
    command = ds.array(episode, "actions/effector/position").astype(np.float64).reshape(n, -1)
    finite = command[np.isfinite(command)]
    if finite.size and (finite.min() < -0.05 or finite.max() > 1.05):
        return None, None, "actions/effector/position outside 0..1"
    filled = ds.array(episode, "actions/effector/filled").astype(bool) if "actions/effector/filled" in names else None
    return command, filled, None


def agibot_episode_events(
    ds, episode: str, geometry: GripperGeometry = DEFAULT_GEOMETRY, **params: Any
) -> tuple[list[dict], list[str]]:
    """Event rows (EVENTS_SCHEMA columns but the ids) and warnings for one AgiBot episode.

    ``params`` go to :func:`gripper_transitions` (``min_run``, ``lag``, ``eps``...).
    """
    names = set(ds.array_names(episode))
    n = ds.length(episode)
    warnings: list[str] = []
    source = ds.meta(episode).source
    source = source if isinstance(source, dict) else {}
    cameras = _cameras(ds, episode, n, names)
    segments = _segments(ds, episode, names)
    head = HEAD_CAMERA if HEAD_CAMERA in cameras else next((c for c in cameras if c.startswith("head")), HEAD_CAMERA)
    effector = source.get("effector") if isinstance(source.get("effector"), dict) else {}
    if effector.get("type") == "dexhand":
        warnings.append(f"{episode}: dexterous hands (joint angles): no grasp or release events, segments only")
        return events_from_tracks({}, cameras, segments, n, geometry, head), warnings
    if "states/effector/position" not in names:
        return [], [f"{episode}: no states/effector/position; no AgiBot events"]
    opening = ds.array(episode, "states/effector/position").astype(np.float64).reshape(n, -1)
    command, filled, why = _gripper_command(ds, episode, names, n, source)
    if why:
        warnings.append(f"{episode}: {why}; gripper command taken from the opening")
    position = ds.array(episode, "states/end/position").astype(np.float64) if "states/end/position" in names else None
    rotation = None
    if "states/end/orientation" in names:
        rotation = quaternion_matrix(ds.array(episode, "states/end/orientation"))
    n_arms = min(opening.shape[1], len(ARMS))
    arms: dict[str, ArmTrack] = {}
    for i, arm in enumerate(ARMS[:n_arms]):
        arm_rotation = None if rotation is None else rotation.reshape(n, -1, 3, 3)[:, i]
        flange = None if position is None else position.reshape(n, -1, 3)[:, i]
        track = ArmTrack(
            opening=opening[:, i],
            command=None if command is None else command[:, i],
            position=None if flange is None or arm_rotation is None else geometry.palm_positions(flange, arm_rotation),
            rotation=arm_rotation,
        )
        track.transitions, found = gripper_transitions(track.opening, track.command, filled, **params)
        warnings.extend(f"{episode}: {arm} gripper: {w}" for w in found)
        arms[arm] = track
    rows = events_from_tracks(arms, cameras, segments, n, geometry, head)
    missing = sorted({c.missing for c in cameras.values() if c.missing})
    if missing and any(r["kind"] != "segment" for r in rows):
        warnings.append(f"{episode}: prompt points limited: {'; '.join(missing)}")
    return rows, warnings


__all__ = [
    "Camera",
    "GripperGeometry",
    "GripperTransition",
    "agibot_episode_events",
    "choose_grasp_point",
    "debounce",
    "events_from_tracks",
    "gripper_transitions",
    "interaction_of_skill",
    "quaternion_matrix",
]
