"""What the trainer reads: in-memory views of the sampling datasets, and generated demo data.

The policies train on the torch datasets of :mod:`goalframe.sampling.datasets`
(``CrossViewDataset`` for ROCKET-2, ``MSTHDataset`` for Act2Goal) unchanged, with two
additions made by subclassing:

- every frame the samples can touch is decoded ONCE at ``size`` x ``size`` into memory
  (``frames()`` then indexes numpy arrays), so thousands of small training steps do not
  decode JPEG again and again; a demo dataset of ~10k frames at 64 x 64 is ~120 MB;
- Act2Goal samples carry end-effector actions and state (``lowdim()``), the space the
  tabletop world is driven in: see :data:`EE_ACTION`.

:func:`goalframe.pipeline.prepare.prepare_vpt` and ``prepare_agibot`` build the small
generated datasets the demo, the ablation and the tests train on, with the real pipeline;
the mask tracks come from the generators' truth object-id images (:func:`write_truth_tracks`,
annotator ``truth``), so the policies do not depend on a mask annotator's quality.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import polars as pl

from goalframe.sampling.datasets import CrossViewDataset, MSTHDataset
from goalframe.schemas.vectors import require_gripper
from goalframe.storage import open_dataset
from goalframe.storage.frames import FrameReader

#: Act2Goal action / state vector: both arms' end-effector targets (m, robot base frame),
#: gripper yaws (rad) and gripper commands (0 open, 1 closed). The state has the same layout
#: with the gripper opening (mm / 100) in place of the command.
EE_ACTION = (
    "left_x",
    "left_y",
    "left_z",
    "right_x",
    "right_y",
    "right_z",
    "left_yaw",
    "right_yaw",
    "left_grip",
    "right_grip",
)
EE_DIM = len(EE_ACTION)
EE_RELATIVE = slice(0, 8)  # positions and yaws: predicted relative to the state at t


def quaternion_yaw(q: np.ndarray) -> np.ndarray:
    """Gripper yaw from the world's xyzw quaternion ``(cos(yaw/2), sin(yaw/2), 0, 0)``."""
    q = np.asarray(q, dtype=np.float64)
    return 2.0 * np.arctan2(q[..., 1], q[..., 0])


def agibot_ee_lowdim(ds, episode: str) -> dict[str, np.ndarray]:
    """``action`` and ``state`` (T, 10) float32 in :data:`EE_ACTION` order for one AgiBot episode."""
    names = set(ds.array_names(episode))
    needed = {
        "actions/end/position",
        "actions/end/orientation",
        "actions/effector/position",
        "states/end/position",
        "states/end/orientation",
        "states/effector/position",
    }
    missing = sorted(needed - names)
    if missing:
        raise ValueError(
            f"{ds.path}: episode {episode!r} lacks {missing[0]} (act2goal trains on end-effector arrays)"
        )

    source = ds.meta(episode).source
    require_gripper(episode, source.get("effector"))

    def vector(prefix: str, grip: np.ndarray) -> np.ndarray:
        position = np.asarray(ds.array(episode, f"{prefix}/end/position"), np.float64).reshape(-1, 6)
        yaw = quaternion_yaw(np.asarray(ds.array(episode, f"{prefix}/end/orientation"), np.float64))
        return np.concatenate([position, yaw, grip], axis=1).astype(np.float32)

    command = np.asarray(ds.array(episode, "actions/effector/position"), np.float64)
    opening = np.asarray(ds.array(episode, "states/effector/position"), np.float64) / 100.0
    state = vector("states", opening)
    action = vector("actions", command)
    copied = source.get("actions_equal_state") or {}
    if copied.get("end/position") and copied.get("end/orientation"):
        # Beta: the end "actions" are the state itself; the pose reached next is the command.
        action[:, EE_RELATIVE] = np.concatenate([state[1:, EE_RELATIVE], state[-1:, EE_RELATIVE]])
    return {"action": action, "state": state}


class _FrameCache:
    """Frames of (episode, camera) decoded once at ``size``: (T, 3, S, S) uint8 arrays."""

    def __init__(self):
        self.arrays: dict[tuple[str, str], np.ndarray] = {}

    def load(
        self, dataset: str, episodes: Sequence[str], cameras_of: Callable[[str], Sequence[str]], size: int
    ) -> None:
        ds = open_dataset(dataset)
        reader = FrameReader(ds, size, threads=1)
        try:
            for episode in episodes:
                for camera in cameras_of(episode):
                    if (episode, camera) not in self.arrays:
                        self.arrays[(episode, camera)] = reader.read(
                            episode, camera, np.arange(ds.length(episode))
                        )
        finally:
            reader.close()

    def read(self, episode: str, camera: str, frames: np.ndarray) -> np.ndarray:
        return self.arrays[(episode, camera)][np.asarray(frames, dtype=np.int64).reshape(-1)]

    @property
    def nbytes(self) -> int:
        return sum(a.nbytes for a in self.arrays.values())


class CachedCrossView(CrossViewDataset):
    """:class:`CrossViewDataset` (same keys and shapes) over frames held in memory.

    ``interactions`` keeps only pairs of these ROCKET interaction names (``mine``, ``hunt``...).
    """

    def __init__(self, dataset: str, *args, interactions: Sequence[str] | None = None, **kwargs):
        super().__init__(dataset, *args, **kwargs)
        pairs = (
            open_dataset(self.dataset)
            .table("pairs")
            .select("pair_id", "interaction", "episode_id", "camera", "goal_episode_id", "goal_camera")
        )
        pairs = pairs.unique("pair_id").filter(pl.col("pair_id").is_in(self.pairs))
        interaction_of = dict(zip(pairs["pair_id"].to_list(), pairs["interaction"].to_list()))
        keep = np.arange(len(self), dtype=np.int64)
        if interactions is not None:
            wanted = set(interactions)
            keep = np.array(
                [i for i in keep if interaction_of.get(self.sample_pair(int(i))) in wanted], dtype=np.int64
            )
        self.indices = keep  # the samples training draws from
        views = set(zip(pairs["episode_id"].to_list(), pairs["camera"].to_list())) | set(
            zip(pairs["goal_episode_id"].to_list(), pairs["goal_camera"].to_list())
        )
        self.cache = _FrameCache()
        by_episode: dict[str, list[str]] = {}
        for episode, camera in sorted(views):
            by_episode.setdefault(episode, []).append(camera)
        self.cache.load(self.dataset, sorted(by_episode), lambda e: by_episode[e], self.size)

    def frames(self, episode: str, camera: str, frames: np.ndarray) -> np.ndarray:
        return self.cache.read(episode, camera, frames)


def uniform_distal_offsets(horizon: int, near: int, distal: int) -> np.ndarray:
    """``d_m = P + floor((K - P) * m / M)``: M anchors evenly spaced from the near horizon to K."""
    return np.array([near + (horizon - near) * m // distal for m in range(1, distal + 1)], dtype=np.int64)


class CachedMSTH(MSTHDataset):
    """:class:`MSTHDataset` (same keys) over frames held in memory, with end-effector
    ``action`` / ``state`` vectors for AgiBot (:data:`EE_ACTION`) instead of LeRobot's joints.

    ``distal_spacing="uniform"`` replaces the table's log-spaced distal anchors by
    :func:`uniform_distal_offsets` (same K, P, M and clip ends: the spacing ablation)."""

    def __init__(self, dataset: str, *args, frame_stride: int = 1, distal_spacing: str = "log", **kwargs):
        super().__init__(dataset, *args, frame_stride=frame_stride, **kwargs)
        self.frame_stride = int(frame_stride)
        self.indices = np.arange(len(self))
        if distal_spacing not in ("log", "uniform"):
            raise ValueError(f"distal_spacing must be log or uniform, got {distal_spacing!r}")
        if distal_spacing == "uniform":
            self._space_distal_uniformly()
        self._ee: dict[str, dict[str, np.ndarray]] = {}
        self.cache = _FrameCache()
        self.cache.load(self.dataset, self.episodes, lambda e: self.cameras, self.size)

    def frames(self, episode: str, camera: str, frames: np.ndarray) -> np.ndarray:
        return self.cache.read(episode, camera, frames)

    def _msth_rows(self) -> pl.DataFrame:
        """The msth table rows of the samples, in sample order."""
        table = open_dataset(self.dataset).table("msth").filter(pl.col("episode_id").is_in(self.episodes))
        if self.frame_stride > 1:
            table = table.filter(pl.col("frame") % self.frame_stride == 0)
        return table.sort("episode_id", "frame")

    def _space_distal_uniformly(self) -> None:
        spec = self.spec
        if spec.get("horizon") is None or spec.get("distal") is None:
            raise ValueError(f"{self.dataset}: the msth table has no step record with its spec")
        offsets = uniform_distal_offsets(int(spec["horizon"]), int(self.near), int(spec["distal"]))
        last = self._msth_rows()["clip_end"].to_numpy().astype(np.int64)[:, None] - 1
        frames = self._frame[:, None] + offsets[None, :]
        self._distal, self._distal_pad = np.minimum(frames, last), frames > last
        self._distal_rows, self._distal_row_pad = np.minimum(frames - 1, last), frames - 1 > last

    def episode_of(self, index: int) -> str:
        """The episode sample ``index`` comes from."""
        return self.episodes_of[int(index)]

    @property
    def episodes_of(self) -> list[str]:
        if not hasattr(self, "_episode_names"):
            self._episode_names = self._msth_rows()["episode_id"].to_list()
        return self._episode_names

    def lowdim(self, episode: str) -> dict[str, np.ndarray]:
        if episode not in self._ee:
            if self.format != "agibot":
                raise ValueError(
                    f"{self.dataset}: act2goal trains on AgiBot datasets, this one is {self.format!r}"
                )
            self._ee[episode] = agibot_ee_lowdim(self._local()["ds"], episode)
        return self._ee[episode]


# ---------------------------------------------------------------------------- generated demo data


def track_start(
    visible: np.ndarray, event: int, window: int, max_gap: int = 8, lead: int | None = None
) -> int:
    """First frame of a truth track ending at ``event``: back while the object stays in view
    (gaps of up to ``max_gap`` frames bridged), plus ``lead`` (default ``max_gap``) frames
    before it came into view, at most ``window`` frames in all; as a backward tracker would
    follow it."""
    first = max(0, event - window + 1)
    start, gap = event, 0
    for t in range(event, first - 1, -1):
        if visible[t]:
            start, gap = t, 0
        else:
            gap += 1
            if gap > max_gap:
                break
    return max(first, start - (max_gap if lead is None else lead))


def write_truth_tracks(
    dataset: str,
    raw: Path,
    window: int = 128,
    interactions: Sequence[str] | None = None,
    lead: int | None = None,
) -> int:
    """A mask track per VPT event whose truth names an object, masks from the generator's
    object-id images (annotator ``truth``): up to ``window`` frames ending at the event frame,
    after the episode's previous interaction with an object (so that a window's actions are
    about its own target), from where the object comes into view (:func:`track_start`; a
    ``lead`` of ``window`` keeps the frames before it came into view: a search for it)."""
    from goalframe.storage.masks import MaskTrack, rebuild_tracks_table, track_id_for, write_track
    from goalframe.storage.store import open_root

    ds = open_dataset(dataset)
    root = open_root(dataset, "r+")
    events = ds.table("events")
    written = 0
    for episode in ds.episodes:
        rows = events.filter(pl.col("episode_id") == episode).to_dicts()
        if interactions is not None:
            rows = [r for r in rows if r["interaction"] in set(interactions)]
        if not rows:
            continue
        record = json.loads((Path(raw) / "truth" / f"{episode}.json").read_text())
        ids = np.load(Path(raw) / "truth" / f"{episode}.npz")["object_ids"]
        interactions_at = sorted({t["frame"] for t in record["events"] if t["object_id"]})
        for event in rows:
            oid = next(
                (
                    t["object_id"]
                    for t in record["events"]
                    if t["frame"] == event["frame"] and t["stat"] == event["name"] and t["object_id"]
                ),
                None,
            )
            if oid is None:
                continue
            stop = min(event["frame"] + 1, len(ids), ds.length(episode))
            previous = [f for f in interactions_at if f < event["frame"]]
            first = max(0, stop - window, previous[-1] + 1 if previous else 0)  # this interaction only
            masks = ids[first:stop] == oid
            visible = masks.reshape(len(masks), -1).any(1)
            start = first + track_start(visible, stop - 1 - first, window, lead=lead)
            frames = np.arange(start, stop)
            track = MaskTrack.from_masks(frames, masks[start - first :])
            attrs = {
                "event_id": event["event_id"],
                "camera": event["camera"],
                "annotator": "truth",
                "annotator_version": "1",
                "event_frame": int(event["frame"]),
                "interaction": event["interaction"],
                "object": event["object"],
            }
            write_track(
                root, episode, track_id_for(event["event_id"], event["camera"], "truth"), track, attrs
            )
            written += 1
        del ids
    rebuild_tracks_table(dataset)
    return written


def object_counts(dataset: str) -> dict[str, int]:
    """Objects moved per AgiBot episode (its Pick segments), for per-task-length tables."""
    ds = open_dataset(dataset)
    counts = {}
    for episode in ds.episodes:
        skills = ((ds.meta(episode).source or {}).get("segments") or {}).get("skill") or []
        counts[episode] = max(1, math.ceil(sum(1 for s in skills if s == "Pick")))
    return counts
