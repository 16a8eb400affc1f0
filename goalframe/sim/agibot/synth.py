"""Synthetic AgiBot World recordings in the real release layout, plus ground truth.

:func:`synthesize_agibot` scripts pick-and-place episodes in :class:`AgibotWorld` (one to
five objects, either arm: approach, descend, grasp, lift, move, lower, release, retreat)
and writes, under ``out``::

    task_info/task_{task_id}.json                                  one record per episode
    observations/{task_id}/{episode_id}/videos/{camera}.mp4        h264, 30 fps, 480x640
    observations/{task_id}/{episode_id}/depth/head_depth_{frame:06d}.png   uint16 mm
    parameters/{task_id}/{episode_id}/parameters/camera/{prefix}_intrinsic_params.json   (or .../camera/)
    parameters/{task_id}/{episode_id}/parameters/camera/{prefix}_extrinsic_params_aligned.json
    parameters/{task_id}/{episode_id}/parameters/camera/{prefix}_extrinsic_params.json
    proprio_stats/{task_id}/{episode_id}/proprio_stats.h5
    truth/{task_id}_{episode_id}.npz    masks_<camera> (T, 480, 640) uint16 object ids
    truth/{task_id}_{episode_id}.json   objects, id labels, grasp/release events, segments

Frame ``t`` of every stream is the world state after ``t`` steps; the action row at frame
``t`` is the command issued at ``t`` (it moves the robot toward frame ``t + 1``). Segment
``end_frame`` is exclusive (LeRobot tags frames in ``[start_frame, end_frame)``); the
last segment ends at ``T``. A grasp or release event's ``frame`` is the first frame whose
state shows the object attached or let go.

Episode ``i`` of a run depends only on ``(seed, i)``. The files follow the real layouts
(``reference/raw-formats.md``), messy parts included, one variant per episode as
:func:`episode_layout` says: action rows for every frame with SHORTER joint/end indexes
(the frames the operator was sending), or the rarer short actions with an empty
``action/end/index``; joint/end actions that copy the state (Beta); camera files named by
the camera prefix (``head_intrinsic_params.json``) in either parameter folder, with
per-frame, single-frame or only unaligned extrinsics; intrinsics with fx != fy; a
dexterous-hand episode (twelve joint angles, hand videos named ``hand_*_fisheye_color``,
rendered with the pinhole model). ``state/end/*`` and ``action/end/*`` are the FLANGE pose,
:data:`~goalframe.sim.agibot.constants.FLANGE_TO_GRASP` above the grasp point.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

from goalframe.sim.agibot.constants import (
    EPISODE_ID_STEP,
    EPISODES_PER_TASK,
    FIRST_EPISODE_ID,
    FIRST_TASK_ID,
    FRAMES_PER_OBJECT,
)
from goalframe.sim.agibot.player import simulate_episode
from goalframe.sim.agibot.recorder import (
    EpisodeLayout,
    episode_layout,
    write_episode,
)
from goalframe.sim.agibot.whiteboard import FRAMES_PER_STROKE, simulate_whiteboard

#: ``goalframe synth agibot --scenario`` values; ``default`` is pick-and-place.
SCENARIOS = ("default", "whiteboard")


def episode_ids(episodes: int) -> list[tuple[int, int]]:
    """(task_id, episode_id) of each episode of a run."""
    return [
        (FIRST_TASK_ID + i // EPISODES_PER_TASK, FIRST_EPISODE_ID + EPISODE_ID_STEP * i)
        for i in range(episodes)
    ]


def truth_paths(out: Path, task_id: int, episode_id: int) -> tuple[Path, Path]:
    """The truth ``.npz`` (masks) and ``.json`` of one episode."""
    key = f"{task_id}_{episode_id}"
    return Path(out) / "truth" / f"{key}.npz", Path(out) / "truth" / f"{key}.json"


def synthesize_agibot(
    out: Path,
    episodes: int,
    seed: int,
    frames_per_object: int = FRAMES_PER_OBJECT,
    progress: Callable[[int], None] | None = None,
    n_objects: int | None = None,
    stats: dict[str, Any] | None = None,
    dexhand: bool = True,
    scenario: str = "default",
    strokes: tuple[int, int] = (1, 2),
    frames_per_stroke: int | None = None,
    stroke_set: str = "free",
) -> list[Path]:
    """Write ``episodes`` synthetic AgiBot episodes under ``out``; returns their observation dirs.

    ``n_objects`` fixes the number of objects picked and placed per episode (default: 1 to
    5, drawn per episode). Episode layouts follow :func:`episode_layout`: the first five
    episodes of a run are, in order, the usual Beta layout (a row per frame, shorter
    joint/end indexes), the rarer short actions with an empty end index, actions copying the
    state with single-frame extrinsics in the ``camera/`` folder, unaligned extrinsics only,
    and a dexterous-hand episode (``dexhand=False`` leaves it out, for the gripper-only
    trainers). ``progress`` is called after each episode with the number of
    frames it added. ``stats``, when given, receives ``frames`` and ``seconds`` (the
    generation rate is ``frames / seconds`` frames per second, all three cameras).

    ``scenario="whiteboard"`` writes the whiteboard episodes of
    :mod:`goalframe.sim.agibot.whiteboard` instead: K strokes per episode, K drawn uniformly in
    ``strokes`` (low, high), ``frames_per_stroke`` frames each, every episode in the plain
    layout (a row per frame, gripper); the truth json adds ``scenario`` (strokes, final ink IoU).
    ``stroke_set`` (``free`` or ``grid``) is :func:`~goalframe.sim.agibot.whiteboard.draw_strokes`'.
    """
    out = Path(out)
    if episodes < 1:
        raise ValueError("episodes must be >= 1")
    if scenario not in SCENARIOS:
        raise ValueError(f"scenario must be one of {', '.join(SCENARIOS)}, got {scenario!r}")
    out.mkdir(parents=True, exist_ok=True)
    records: dict[int, list[dict[str, Any]]] = {}
    paths: list[Path] = []
    started = time.perf_counter()
    total = 0
    for i, (task_id, episode_id) in enumerate(episode_ids(episodes)):
        ss = np.random.SeedSequence([seed, i])
        world_seed = int(ss.generate_state(1)[0])
        rng = np.random.default_rng(ss)
        if scenario == "whiteboard":
            k = int(rng.integers(strokes[0], strokes[1] + 1))
            rec = simulate_whiteboard(world_seed, k, frames_per_stroke or FRAMES_PER_STROKE, stroke_set)
            layout = EpisodeLayout()
        else:
            count = n_objects if n_objects is not None else int(rng.integers(1, 6))
            rec = simulate_episode(world_seed, count, frames_per_object)
            layout = episode_layout(i, rng, dexhand)
        records.setdefault(task_id, []).append(
            write_episode(out, task_id, episode_id, rec, layout, world_seed)
        )
        paths.append(out / "observations" / str(task_id) / str(episode_id))
        total += rec.n_frames
        if progress is not None:
            progress(rec.n_frames)
    info = out / "task_info"
    info.mkdir(parents=True, exist_ok=True)
    for task_id, recs in records.items():
        (info / f"task_{task_id}.json").write_text(json.dumps(recs, indent=1))
    if stats is not None:
        stats["frames"] = total
        stats["seconds"] = time.perf_counter() - started
    return paths
