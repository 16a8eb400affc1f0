"""Objects a VPT recording places without image tracking, from what it records on every tick.

- The camera (:func:`vpt_camera_path`): VPT lines carry the player's ``xpos``, ``ypos``,
  ``zpos`` (feet, metres) and ``yaw``, ``pitch`` (degrees); the eye is 1.62 m above the
  feet, 1.27 m while sneaking (left shift held, Minecraft 1.16 as VPT recorded). The
  ``-options.json`` beside the recording holds ``fov`` as Minecraft's options.txt stores
  it: ``0.0`` is 70 degrees (vertical), each unit 40 degrees more. The game renders a
  1280x720 window that the recorder shrinks to the 640x360 frame, with the principal point
  at the frame's centre. A mined block (``mine_block``) stood still in its grid cell until
  the event broke it, so these cameras project it (:class:`~goalframe.annotators.geometry.UnitCellTarget`).
- An item in the slot of an open GUI (``isGuiOpen``): fixed on the screen while the GUI
  stays open (:class:`~goalframe.annotators.gui_slots.GuiSlotTarget`).
- A block placed (``use_item``): not there before its event (:class:`AppearsAtEvent`).

:func:`static_target` picks the one for an events row.
"""

from __future__ import annotations

import math

import numpy as np

from goalframe.annotators.geometry import CameraPath, UnitCellTarget, yaw_pitch_rotation
from goalframe.annotators.gui_slots import GuiSlotTarget
from goalframe.schemas.layout import DatasetError
from goalframe.storage.dataset import Dataset

EYE_HEIGHT, EYE_HEIGHT_SNEAKING = 1.62, 1.27
DEFAULT_FOV = 70.0
SNEAK_KEY = "key.keyboard.left.shift"
POSE = ("states/xpos", "states/ypos", "states/zpos", "states/yaw", "states/pitch")
STATIC_EVENTS = ("mine_block",)
APPEARING_EVENTS = ("use_item",)
GUI_OPEN = "states/gui/open"  # blocks that stood still in their cell until the event


def fov_degrees(options: dict | None) -> float:
    """Vertical field of view from the game options: Minecraft stores the slider's position,
    -1 (30 degrees) to 1 (110); 70 when absent, unreadable or out of range."""
    try:
        value = float((options or {}).get("fov", 0.0))
    except (TypeError, ValueError):
        return DEFAULT_FOV
    return DEFAULT_FOV + 40.0 * value if math.isfinite(value) and -1.0 <= value <= 1.0 else DEFAULT_FOV


def vpt_camera_path(ds: Dataset, episode: str, start: int, stop: int) -> CameraPath | None:
    """Cameras of frames ``[start, stop)`` of a VPT episode, or None when the poses are not recorded."""
    meta = ds.meta(episode)
    if meta.source_format != "vpt":
        return None
    try:
        xpos, ypos, zpos, yaw, pitch = (
            np.asarray(ds.zarr_array(episode, name)[start:stop], float) for name in POSE
        )
    except DatasetError:
        return None  # early recorder versions lack the pose
    if not all(np.isfinite(a).all() for a in (xpos, ypos, zpos, yaw, pitch)):
        return None
    eye_height = np.where(_sneaking(ds, episode, start, stop), EYE_HEIGHT_SNEAKING, EYE_HEIGHT)
    eye = np.stack([xpos, ypos + eye_height, zpos], axis=1)
    rotation = np.stack([yaw_pitch_rotation(y, p) for y, p in zip(yaw, pitch, strict=True)])
    fov = fov_degrees(meta.source.get("options"))
    focal = (meta.height / 2) / math.tan(math.radians(fov / 2))
    return CameraPath(eye, rotation, focal, (meta.width / 2, meta.height / 2), (meta.height, meta.width))


def _sneaking(ds: Dataset, episode: str, start: int, stop: int) -> np.ndarray:
    try:
        keys = ds.zarr_array(episode, "actions/keyboard/keys")
        vocabulary = list(keys.attrs.get("vocabulary", []))
        return np.asarray(keys[start:stop, vocabulary.index(SNEAK_KEY)], bool)
    except (DatasetError, ValueError):
        return np.zeros(stop - start, bool)


class AppearsAtEvent:
    """An object that the event itself put there: a block placed (``use_item`` of a block;
    the other uses, eating or a tool, have no object in view before either). Its mask is the
    annotator's own on the event frame; no earlier frame shows it."""

    exact = True

    def fit(self, frames: np.ndarray, event_mask: np.ndarray, prompt: tuple[float, float]) -> bool:
        self.shape = frames.shape[:3]
        return True

    def describe(self) -> dict:
        return {"kind": "appears_at_event"}

    def silhouettes(self) -> np.ndarray:
        return np.zeros(self.shape, bool)  # the event frame keeps the annotator's own mask


def static_target(
    ds: Dataset, row: dict, start: int
) -> UnitCellTarget | GuiSlotTarget | AppearsAtEvent | None:
    """The target of an events row that the recording places without image tracking, or None:
    a mined block (it stood still in its grid cell: the recorded poses project it), an item
    in the slot of an open GUI (fixed on the screen while the GUI stays open), or a placed
    block (not there before the event)."""
    stop = int(row["frame"]) + 1
    if row.get("gui_open") and ds.meta(row["episode_id"]).source_format == "vpt":
        try:
            return GuiSlotTarget(np.asarray(ds.zarr_array(row["episode_id"], GUI_OPEN)[start:stop], bool))
        except DatasetError:
            return None
    if row.get("kind") in APPEARING_EVENTS and ds.meta(row["episode_id"]).source_format == "vpt":
        return AppearsAtEvent()
    if row.get("kind") not in STATIC_EVENTS:
        return None
    path = vpt_camera_path(ds, row["episode_id"], start, stop)
    return UnitCellTarget(path) if path is not None else None
