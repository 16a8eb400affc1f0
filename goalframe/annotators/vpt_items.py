"""A VPT pickup's item, placed by the recording: the drop of the block mined just before.

A ``pickup`` is counted when the player collects an item entity, which is not under the
crosshair (the player walks up to it, or it falls out of the block the player just broke),
so a mask grown from the crosshair follows the background. The item of a block's drop,
though, is where the recording says: Minecraft spawns it at the centre of the broken
block's cell, from where it falls to the cell's floor and bobs (gravity, drag and bobbing as
Minecraft's); the block's cell is fitted on the mining event's frames by the recorded camera
poses (:class:`~goalframe.annotators.geometry.UnitCellTarget`), and the same poses project
the item's cube on every frame from the one after the mining to the pickup's event frame.
Minecraft offsets the item a little from the cell's centre at random and bobs it at a random
phase: of those hypotheses (``OFFSETS``, ``PHASES``), the one whose cube outline lies best on
the image's edges is taken (:func:`fit_item`), the centre at mid-bob when none aligns.
Lying in the emptied cell, the item shows only through the cell's faces that showed when it
was mined (the others have a neighbour block in front). The fitted cell is trusted only when
the block visibly vanished from it on the frame after the mining (:func:`block_vanished`).
A block dug out of the floor the player stands on is not placed: among the identical blocks
of a flat floor (a grass field) its outline fits a neighbour's cell as well as its own. The HUD
hides what lies under it (:func:`~goalframe.annotators.vpt_hud.hud_mask`). A
projection can still leave the item (it fell further than fitted, most of it is behind a
neighbour block or the HUD and the outline is theirs): such frames keep
their mask for review but are not confident (:func:`doubtful_frames`, the reasons in
``attrs["target"]["doubtful"]``).

:func:`track_for_event` is what the masks step (and the benchmark) call for every events row:
this track for a pickup that follows a mining (``MAX_PICKUP_FRAMES``), the annotator's
otherwise. Other pickups (a killed mob's drops, an item walked over) and drops (thrown away
from the player) are not placed: the plausibility check makes their tracks not confident.
"""

from __future__ import annotations

import itertools
import math
from dataclasses import dataclass, replace

import cv2
import numpy as np
import polars as pl

from goalframe.annotators.annotator import Annotator
from goalframe.annotators.geometry import CameraPath, UnitCellTarget, alignment, box_silhouette, edge_map
from goalframe.annotators.vpt_hud import hud_mask
from goalframe.annotators.vpt_targets import EYE_HEIGHT, static_target, vpt_camera_path
from goalframe.storage.dataset import Dataset
from goalframe.storage.masks import MaskTrack

MAX_PICKUP_FRAMES = 40  # a pickup collects the drop of a block mined at most this many frames before
# Minecraft's item entities: a cube this many blocks across, gravity and drag per tick, the
# bottom bobbing between 0 and 2 * BOB above the floor; one tick per frame
ITEM_SIZE, GRAVITY, DRAG, BOB, BOB_TICKS = 0.25, 0.04, 0.98, 0.1, 10.0
# Minecraft puts the item up to a quarter block off the cell's centre and bobs it at a random
# phase: the hypotheses tried, scored by how well the cube's outline lies on image edges
OFFSETS = np.linspace(-0.2, 0.2, 5)
PHASES = np.linspace(0.0, 2 * np.pi, 8, endpoint=False)
FIT_FRAMES, MIN_POINTS, MIN_ALIGNMENT = 8, 12, 0.2
MAX_DROP = 3  # the item may fall this many blocks under its cell (to no lower than the player's feet)
PLACED_SCORE = 0.9  # the score of a frame where the projected item lands on the frame
# A placed frame is doubtful, and scores DOUBTFUL_SCORE, when under MIN_SHOWN of the item's
# cube shows (the rest behind its cell's neighbours or the HUD: the outline is theirs), or when under
# MIN_ALIKE of its pixels are within ALIKE (mean absolute RGB) of the item's colour where it
# first showed whole (the projection has left the item: it fell further than fitted).
DOUBTFUL_SCORE, MIN_SHOWN, MIN_ALIKE, ALIKE = 0.3, 0.5, 0.7, 40.0
# The fitted cell is the mined block's only if the block vanished from it on the frame after
# the mining: the cell's pixels change by at least VANISHED (mean absolute RGB) and
# VANISHED_RATIO times as much as the ring around it (what the camera's own motion changes).
VANISHED, VANISHED_RATIO, RING = 25.0, 3.0, 31


def mining_before(ds: Dataset, row: dict) -> dict | None:
    """The last ``mine_block`` events row of the episode before ``row`` within ``MAX_PICKUP_FRAMES``."""
    events = ds.table("events").filter(
        (pl.col("episode_id") == row["episode_id"])
        & (pl.col("kind") == "mine_block")
        & (pl.col("frame") < row["frame"])
        & (pl.col("frame") >= row["frame"] - MAX_PICKUP_FRAMES)
        & pl.col("prompt_visible")
    )
    return events.sort("frame").row(-1, named=True) if events.height else None


def item_heights(frames: int, phase: float | None = None, drop: int = 0) -> np.ndarray:
    """Height of the item cube's bottom above its floor ``k`` ticks after it appeared (``k`` =
    0 .. frames - 1): dropped from the cell's centre onto a floor ``drop`` blocks under the
    cell's bottom, fallen, then bobbing at ``phase`` (mid-bob when None)."""
    y, vy, heights = drop + 0.5 - ITEM_SIZE / 2, 0.0, []
    for k in range(frames):
        if y > 0:
            heights.append(y)
        else:
            heights.append(BOB if phase is None else BOB * (1.0 + np.sin(k / BOB_TICKS + phase)))
        vy = (vy - GRAVITY) * DRAG
        y = max(0.0, y + vy)
    return np.array(heights)


@dataclass(frozen=True)
class ItemGuess:
    """Where the item is: ``offset`` (x, z) from the cell's centre, bobbing ``phase`` (None:
    mid-bob), its floor ``drop`` blocks under the cell's bottom (the cells below were emptied
    too), and how well its outline lies on the image's edges."""

    offset: tuple[float, float] = (0.0, 0.0)
    phase: float | None = None
    drop: int = 0
    alignment: float = 0.0


def item_silhouettes(
    path: CameraPath, cell: np.ndarray, appears: int, guess: ItemGuess, times: list[int] | None = None
) -> np.ndarray:
    """(N, H, W) bool: the item of ``cell``'s block projected on each frame of ``path`` (or on
    ``times``) from frame ``appears`` (the one after the mining) on; nothing before."""
    out = np.zeros((len(path), *path.size), bool)
    if appears >= len(path):
        return out
    heights = item_heights(len(path) - appears + 1, guess.phase, guess.drop)
    half = ITEM_SIZE / 2
    (dx, dz), floor = guess.offset, cell[1] - guess.drop
    for t in times if times is not None else range(max(appears, 0), len(path)):
        k = t - appears + 1  # the item has moved once by the frame after the mining
        low = np.array([cell[0] + 0.5 + dx - half, floor + heights[k], cell[2] + 0.5 + dz - half])
        out[t] = box_silhouette(path, t, low, low + ITEM_SIZE)
    return out


def item_masks(
    path: CameraPath,
    cell: np.ndarray,
    appears: int,
    guess: ItemGuess,
    shown_faces: np.ndarray,
    times: list[int] | None = None,
) -> np.ndarray:
    """The item's silhouettes; lying in its emptied cell, it shows only through the cell's faces
    that showed when it was mined (a face that did not has a neighbour block in front)."""
    return through_shown_faces(item_silhouettes(path, cell, appears, guess, times), shown_faces, guess)


def through_shown_faces(silhouettes: np.ndarray, shown_faces: np.ndarray, guess: ItemGuess) -> np.ndarray:
    """What of the item's ``silhouettes`` shows: in its own cell, only through the shown faces."""
    return silhouettes & shown_faces if guess.drop == 0 else silhouettes.copy()


def doubtful_frames(frames: np.ndarray, masks: np.ndarray, whole: np.ndarray) -> dict[int, str]:
    """Why each doubtful frame of a placed item is (``{position: reason}``, positions into
    ``frames``): ``masks`` (N, H, W) the item as seen, ``whole`` its cube's whole silhouettes."""
    shown = masks.reshape(len(masks), -1).sum(1)
    shares = shown / np.maximum(whole.reshape(len(whole), -1).sum(1), 1)
    placed = [int(t) for t in np.flatnonzero(shown > 0)]
    reasons = {t: "mostly hidden" for t in placed if shares[t] < MIN_SHOWN}
    whole_views = [t for t in placed if t not in reasons]
    if not whole_views:
        return reasons  # every frame it shows on is mostly hidden
    colour = np.median(frames[whole_views[0]][masks[whole_views[0]]].astype(np.float32), axis=0)
    for t in whole_views[1:]:
        distance = np.abs(frames[t][masks[t]].astype(np.float32) - colour).mean(axis=1)
        if np.mean(distance < ALIKE) < MIN_ALIKE:
            reasons[t] = "not the item's colour"
    # doubtful on most frames, the placement itself is: its other frames are not confident either
    if 2 * len(reasons) > len(placed):
        reasons = {t: reasons.get(t, "most of the track doubtful") for t in placed}
    return reasons


def fit_item(
    frames: np.ndarray,
    path: CameraPath,
    cell: np.ndarray,
    appears: int,
    shown_faces: np.ndarray,
    max_drop: int = 0,
) -> ItemGuess:
    """The item guess whose outline lies best on the image edges over up to ``FIT_FRAMES``
    frames after it appeared: first its floor (0 .. ``max_drop`` blocks under the cell), then
    its offset and bobbing phase (``OFFSETS``, ``PHASES``)."""
    times = list(range(max(appears, 0), len(path)))
    times = [times[i] for i in np.linspace(0, len(times) - 1, min(FIT_FRAMES, len(times))).astype(int)]
    if not times:
        return ItemGuess()
    edges = {t: edge_map(frames[t]) for t in times}

    def score(guess: ItemGuess) -> float:
        masks = item_masks(path, cell, appears, guess, shown_faces, times)
        return float(
            np.mean(
                [
                    alignment([masks[t]], edges[t], min_points=MIN_POINTS) if masks[t].any() else 0.0
                    for t in times
                ]
            )
        )

    offsets = [(float(dx), float(dz)) for dx, dz in itertools.product(OFFSETS, OFFSETS)]
    floor = max(
        (ItemGuess(offset, None, drop) for drop in range(max_drop + 1) for offset in offsets), key=score
    )
    heights = item_heights(len(path) - appears + 1, drop=floor.drop)
    landed = (heights[[t - appears + 1 for t in times]] <= BOB).any()
    guesses = [ItemGuess(o, p, floor.drop) for o in offsets for p in (PHASES if landed else (None,))]
    best = max(guesses, key=score)
    return replace(best, alignment=score(best))


def fit_mined_cell(ds: Dataset, mining: dict) -> UnitCellTarget | None:
    """The mined block's cell, fitted on the frames of its mining event by the poses."""
    frame = int(mining["frame"])
    start = max(0, frame - 2)
    path = vpt_camera_path(ds, mining["episode_id"], start, frame + 1)
    if path is None:
        return None
    frames = ds.read_frames(mining["episode_id"], start, frame + 1, mining["camera"])
    target = UnitCellTarget(path)
    prompt = (float(mining["prompt_row"]), float(mining["prompt_col"]))
    if not target.fit(frames, np.zeros(frames.shape[1:3], bool), prompt):
        return None
    return target


def block_vanished(ds: Dataset, mining: dict, cell: UnitCellTarget) -> bool:
    """Whether the block of ``cell`` disappeared between its mining's event frame and the next
    (a cell fitted to another block, or a view that turned away, shows no such change)."""
    frame, episode = int(mining["frame"]), mining["episode_id"]
    if frame + 1 >= ds.meta(episode).n_frames:
        return False
    path = vpt_camera_path(ds, episode, frame, frame + 2)
    if path is None:
        return False
    region = UnitCellTarget(path, cell=cell.cell, hidden=cell.hidden).silhouettes()[0]
    if not region.any():
        return False
    before, after = ds.read_frames(episode, frame, frame + 2, mining["camera"]).astype(np.float32)
    change = np.abs(after - before).mean(-1)
    ring = cv2.dilate(region.astype(np.uint8), np.ones((RING, RING), np.uint8)).astype(bool) & ~region
    inside = float(change[region].mean())
    around = float(change[ring].mean()) if ring.any() else 0.0
    return inside >= VANISHED and inside >= VANISHED_RATIO * around


def item_track(ds: Dataset, row: dict, start: int, frames: np.ndarray) -> MaskTrack | None:
    """The track of a pickup's item over ``frames`` (episode frames ``start`` .. the event's)
    when the recording places it (the drop of a block mined just before), else None."""
    if row.get("kind") != "pickup" or ds.meta(row["episode_id"]).source_format != "vpt":
        return None
    mining = mining_before(ds, row)
    if mining is None or mining.get("camera") != row.get("camera"):
        return None
    cell = fit_mined_cell(ds, mining)
    if cell is None or not block_vanished(ds, mining, cell):
        return None
    stop = int(row["frame"]) + 1
    path = vpt_camera_path(ds, row["episode_id"], start, stop)
    if path is None:
        return None
    appears = int(mining["frame"]) + 1 - start
    shown_faces = UnitCellTarget(path, cell=cell.cell, hidden=cell.hidden).silhouettes()
    feet = path.eye[min(max(appears, 0), len(path) - 1), 1] - EYE_HEIGHT  # the ground, in a flat area
    floor_level = math.floor(feet + 0.5)
    if cell.cell[1] + 1 <= floor_level:
        return None  # dug out of the floor: a flat floor's identical blocks fit its outline as well
    max_drop = int(np.clip(cell.cell[1] - floor_level, 0, MAX_DROP))
    guess = fit_item(frames, path, cell.cell, appears, shown_faces, max_drop)
    if guess.alignment < MIN_ALIGNMENT:
        return None  # no item outline where it should be: not placed
    whole = item_silhouettes(path, cell.cell, appears, guess)
    masks = through_shown_faces(whole, shown_faces, guess) & ~hud_mask(*frames.shape[1:3])
    # On the pickup's own frame the item is flying into the player (Minecraft's collect
    # animation), so its resting place says nothing about where it is drawn: not placed there.
    masks[-1] = False
    shown = masks.reshape(len(masks), -1).any(1)
    doubts = doubtful_frames(frames, masks, whole)
    score = np.where(shown, PLACED_SCORE, 0.0)
    score[list(doubts)] = DOUBTFUL_SCORE
    track = MaskTrack.from_masks(np.arange(start, stop, dtype=np.int32), masks, score=score)
    track.attrs["target"] = {
        "kind": "item_entity",
        "mining_event": mining["event_id"],
        "mining_frame": int(mining["frame"]),
        **{k: v for k, v in cell.describe().items() if k in ("cell", "fit", "score")},
        "offset": [round(v, 3) for v in guess.offset],
        "phase": None if guess.phase is None else round(float(guess.phase), 3),
        "drop": guess.drop,
        "alignment": round(guess.alignment, 4),
        "doubtful": {str(start + t): reason for t, reason in sorted(doubts.items())},
    }
    return track


def track_for_event(
    annotator: Annotator, ds: Dataset, row: dict, start: int, frames: np.ndarray, poses: bool = True
) -> MaskTrack:
    """The track of one events row over ``frames`` (episode frames ``start`` .. the event's):
    a pickup's item placed by the recording when it can be (``poses``), else the annotator's,
    with what the recording places (:func:`~goalframe.annotators.vpt_targets.static_target`)."""
    track = item_track(ds, row, start, frames) if poses else None
    if track is not None:
        track.attrs.update(annotator=annotator.name, annotator_version=annotator.version)
        return track
    target = static_target(ds, row, start) if poses else None
    prompt = (row["prompt_row"], row["prompt_col"])
    return annotator.annotate(frames, prompt, first_frame=start, target=target)
