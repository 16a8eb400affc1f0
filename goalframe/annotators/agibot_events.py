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

The gripper rule is :mod:`~goalframe.annotators.agibot_gripper`, the grasp geometry and
projection :mod:`~goalframe.annotators.agibot_geometry`; this module turns them into rows.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from goalframe.annotators.agibot_geometry import (
    DEFAULT_GEOMETRY,
    Camera,
    GripperGeometry,
    PromptPoint,
    choose_grasp_point,
    project_point,
)
from goalframe.annotators.agibot_gripper import GripperTransition, gripper_transitions
from goalframe.schemas.rotations import quaternion_matrix
from goalframe.schemas.tables import INTERACTION_IDS

HEAD_CAMERA = "head_color"
HAND_CAMERAS = {"left": "hand_left_color", "right": "hand_right_color"}
ARMS = ("left", "right")


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
    have = (
        prompt is not None and prompt.point is not None and prompt.col is not None and np.isfinite(prompt.col)
    )
    return {
        "frame": int(frame),
        "end_frame": int(end),
        "kind": kind,
        "name": name,
        "object": None,
        "interaction": interaction,
        "interaction_id": INTERACTION_IDS[interaction],
        "delta": 1,
        "merged": 1,
        "gui_open": False,
        "arm": arm,
        "text": text,
        "camera": camera,
        "prompt_row": prompt.row if have else None,
        "prompt_col": prompt.col if have else None,
        "prompt_visible": bool(prompt.visible) if have else False,
        "prompt_note": (prompt.note if have else None) or note,
    }


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
    """Event rows from per-arm tracks with ``transitions`` filled in (:func:`agibot_episode_events`)."""
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
            rows.append(
                _row(
                    tr.frame,
                    tr.frame + 1,
                    tr.kind,
                    name,
                    "use",
                    arm,
                    text,
                    head,
                    choose_grasp_point(head_cam, tr.frame, pos, rot, tr.opening_mm, geometry),
                )
            )
            hand = cameras.get(HAND_CAMERAS.get(arm, ""))
            if hand is not None and hand.usable():
                prompt = choose_grasp_point(hand, tr.frame, pos, rot, tr.opening_mm, geometry)
                if prompt.visible:
                    rows.append(
                        _row(tr.frame, tr.frame + 1, tr.kind, name, "use", arm, text, hand.name, prompt)
                    )

    for seg in segments:
        start, end = seg["start_frame"], seg["end_frame"]
        skill, text = seg.get("skill") or "", seg.get("action_text")
        interaction = interaction_of_skill(skill)
        arm = _segment_arm(seg, arms)
        prompt, note = None, None
        if arm is None:
            note = (
                "no prompt point: the segment's arm is not known (no gripper event in it, no arm in its text)"
            )
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
                    head_cam,
                    start,
                    track.position[start],
                    track.rotation[start],
                    float(track.opening[start]),
                    geometry,
                )
            elif grasp is not None:  # the object stands still until the grasp
                nominal = geometry.candidates(grasp.opening_mm / 1000.0)[0]
                point = track.position[grasp.frame] + track.rotation[grasp.frame] @ nominal
                prompt = project_point(head_cam, start, point)
            else:
                note = (
                    f"no prompt point: the {arm} arm neither grasps in this segment nor holds an object at"
                    " its start"
                )
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
    filled = (
        ds.array(episode, "actions/effector/filled").astype(bool)
        if "actions/effector/filled" in names
        else None
    )
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
    head = (
        HEAD_CAMERA
        if HEAD_CAMERA in cameras
        else next((c for c in cameras if c.startswith("head")), HEAD_CAMERA)
    )
    effector = source.get("effector") if isinstance(source.get("effector"), dict) else {}
    if effector.get("type") == "dexhand":
        warnings.append(
            f"{episode}: dexterous hands (joint angles): no grasp or release events, segments only"
        )
        return events_from_tracks({}, cameras, segments, n, geometry, head), warnings
    if "states/effector/position" not in names:
        return [], [f"{episode}: no states/effector/position; no AgiBot events"]
    opening = ds.array(episode, "states/effector/position").astype(np.float64).reshape(n, -1)
    command, filled, why = _gripper_command(ds, episode, names, n, source)
    if why:
        warnings.append(f"{episode}: {why}; gripper command taken from the opening")
    position = (
        ds.array(episode, "states/end/position").astype(np.float64)
        if "states/end/position" in names
        else None
    )
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
            position=(
                None
                if flange is None or arm_rotation is None
                else geometry.palm_positions(flange, arm_rotation)
            ),
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


def extract_episode(ds, episode: str, grasp_offset: float | None = None) -> tuple[list[dict], list[str]]:
    """Events of one dataset episode; ``grasp_offset`` (m) overrides the default geometry's."""
    geometry = (
        DEFAULT_GEOMETRY
        if grasp_offset is None
        else replace(DEFAULT_GEOMETRY, grasp_offset=float(grasp_offset))
    )
    return agibot_episode_events(ds, episode, geometry)
