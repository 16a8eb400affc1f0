"""What the report shows, chosen from the dataset's tables and mask tracks (no drawing here).

- per track: its stored mean score (``tracks.parquet``), its largest mask as a share of the
  frame, and on how many frames its mask touches the frame edge (from the stored masks, the
  newest reviewed row first, as every reader sees them);
- the "look at these first" lists, each sorted by its one stated criterion;
- per interaction type a few events, spread over objects and episodes, those with a mask
  track first, each with its goal view from ``pairs.parquet``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import polars as pl

from goalframe.schemas.tables import INTERACTION_IDS

# Goal views in the order the report prefers them: the cross-view goals ROCKET-2 trains on
# first, the same track's own goal frame last.
GOAL_SOURCE_ORDER = ("cross_camera", "cross_episode", "same_episode")


@dataclass
class TrackStats:
    episode_id: str
    track_id: str
    event_id: str | None
    camera: str
    interaction: str | None
    object: str | None
    event_frame: int
    mean_score: float  # tracks.parquet mean_score: the annotator's, over every frame of the track
    max_area: float  # largest mask's share of the frame
    max_area_frame: int
    edge_frames: int  # frames whose mask has a pixel on the frame's border
    edge_frame: int  # the frame with the most mask pixels on the border (event frame when none)
    worst_frame: int  # the lowest-scored frame with a non-empty mask (event frame when none)
    scores: np.ndarray  # (N,) per frame
    visible: np.ndarray  # (N,) per frame

    @property
    def key(self) -> tuple[str, str]:
        return self.episode_id, self.track_id

    @property
    def visible_fraction(self) -> float:
        return float(self.visible.mean()) if len(self.visible) else 0.0


def track_stats(ds, row: dict) -> TrackStats:
    """The stats of one ``tracks.parquet`` row, from the track as stored."""
    track = ds.read_track(row["episode_id"], row["track_id"])
    masks = track.mask
    n, height, width = masks.shape
    area = masks.reshape(n, -1).sum(1) / float(height * width) if n else np.zeros(0)
    border = (
        masks[:, 0, :].sum(1) + masks[:, -1, :].sum(1) + masks[:, :, 0].sum(1) + masks[:, :, -1].sum(1)
        if n
        else np.zeros(0, int)
    )
    event_frame = int(row["event_frame"] if row["event_frame"] is not None else track.frame_index[-1])
    nonempty = area > 0
    scores = np.asarray(track.score, np.float32)
    worst = (
        int(track.frame_index[np.flatnonzero(nonempty)[np.argmin(scores[nonempty])]])
        if nonempty.any()
        else event_frame
    )
    return TrackStats(
        episode_id=row["episode_id"],
        track_id=row["track_id"],
        event_id=row["event_id"],
        camera=row["camera"],
        interaction=row["interaction"],
        object=row["object"],
        event_frame=event_frame,
        mean_score=float(row["mean_score"]) if row["mean_score"] is not None else float("nan"),
        max_area=float(area.max()) if n else 0.0,
        max_area_frame=int(track.frame_index[int(np.argmax(area))]) if n else event_frame,
        edge_frames=int((border > 0).sum()),
        edge_frame=int(track.frame_index[int(np.argmax(border))]) if (border > 0).any() else event_frame,
        worst_frame=worst,
        scores=scores,
        visible=np.asarray(track.visible, bool),
    )


@dataclass(frozen=True)
class Criterion:
    """One "look at these first" list: which tracks, in which order, shown at which frame."""

    key: str
    title: str
    value_name: str  # what the sorted value is, as the report states it
    value: Callable[[TrackStats], float]
    descending: bool
    frame: Callable[[TrackStats], int]
    keep: Callable[[TrackStats], bool]
    explain: str


CRITERIA = (
    Criterion(
        "lowest-score",
        "Lowest mask scores",
        "mean score",
        lambda s: s.mean_score,
        False,
        lambda s: s.worst_frame,
        lambda s: bool(np.isfinite(s.mean_score)),
        "tracks by their mean annotator score (tracks.parquet), lowest first; shown at their"
        " lowest-scored frame with a mask",
    ),
    Criterion(
        "largest-mask",
        "Largest masks",
        "largest mask, share of frame",
        lambda s: s.max_area,
        True,
        lambda s: s.max_area_frame,
        lambda s: s.max_area > 0,
        "tracks by the largest share of the frame their mask covers on any frame, largest first;"
        " shown at that frame (a mask over most of the frame is rarely one object)",
    ),
    Criterion(
        "edge",
        "Masks touching the frame edge",
        "frames touching the edge",
        lambda s: float(s.edge_frames),
        True,
        lambda s: s.edge_frame,
        lambda s: s.edge_frames > 0,
        "tracks by the number of frames whose mask touches the frame border, most first; shown"
        " at the frame with the most mask pixels on the border (the object may go on outside the"
        " frame, or the mask has leaked into the background)",
    ),
)


def flagged(stats: list[TrackStats], criterion: Criterion, limit: int) -> list[TrackStats]:
    """The ``limit`` tracks ``criterion`` ranks first (ties by episode and track id)."""
    kept = [s for s in stats if criterion.keep(s)]
    sign = -1.0 if criterion.descending else 1.0
    return sorted(kept, key=lambda s: (sign * criterion.value(s), s.key))[:limit]


def interaction_order(events: pl.DataFrame) -> list[str]:
    """The interaction types present, in ROCKET's id order, unknown ones after."""
    present = [str(v) for v in events["interaction"].unique().to_list() if v is not None]
    known = [name for name in INTERACTION_IDS if name in present]
    return known + sorted(set(present) - set(known))


@dataclass
class GalleryItem:
    event: dict
    track: dict | None  # tracks.parquet row of the event's track on the event's camera
    goal: dict | None  # pairs.parquet row giving its goal view


def _spread(rows: list[dict], n: int) -> list[dict]:
    """``n`` of ``rows``: round-robin over (kind, object) groups (most frequent first: AgiBot's
    segments, grasps and releases are all "use"), evenly spaced within each."""
    by_object: dict[tuple[str, str], list[dict]] = {}
    for row in rows:
        by_object.setdefault((str(row["kind"]), str(row["object"])), []).append(row)
    queues = []
    for group in sorted(by_object.values(), key=len, reverse=True):
        take = np.unique(np.linspace(0, len(group) - 1, min(n, len(group))).round().astype(int))
        queues.append([group[i] for i in take])
    chosen: list[dict] = []
    while len(chosen) < n and any(queues):
        for queue in queues:
            if queue and len(chosen) < n:
                chosen.append(queue.pop(0))
    return sorted(chosen, key=lambda r: (r["episode_id"], r["frame"]))


def _track_of(event: dict, tracks_of_event: list[dict]) -> dict | None:
    same_camera = [t for t in tracks_of_event if t["camera"] == event["camera"]]
    return (same_camera or tracks_of_event or [None])[0]


def _goal_rows(pairs: pl.DataFrame | None) -> dict[tuple[str, str], dict]:
    """(episode, track) -> the pairs row of its preferred goal view."""
    if pairs is None or pairs.is_empty():
        return {}
    rank = {source: i for i, source in enumerate(GOAL_SOURCE_ORDER)}
    first = pairs.group_by("pair_id", maintain_order=True).first()
    goals: dict[tuple[str, str], dict] = {}
    for row in first.iter_rows(named=True):
        key = (row["episode_id"], row["track_id"])
        if key not in goals or rank.get(row["goal_source"], 9) < rank.get(goals[key]["goal_source"], 9):
            goals[key] = row
    return goals


def gallery(
    events: pl.DataFrame, tracks: pl.DataFrame, pairs: pl.DataFrame | None, per_type: int
) -> dict[str, list[GalleryItem]]:
    """Per interaction type (all present in ``events``), up to ``per_type`` events to show."""
    tracks_by_event: dict[str, list[dict]] = {}
    for row in tracks.sort("episode_id", "track_id").iter_rows(named=True):
        tracks_by_event.setdefault(row["event_id"], []).append(row)
    goals = _goal_rows(pairs)
    shown: dict[str, list[GalleryItem]] = {}
    for interaction in interaction_order(events):
        rows = events.filter(pl.col("interaction") == interaction).sort("episode_id", "frame").to_dicts()
        with_track = [r for r in rows if r["event_id"] in tracks_by_event]
        without = [r for r in rows if r["event_id"] not in tracks_by_event]
        picked = _spread(with_track, per_type)
        picked += _spread(without, per_type - len(picked)) if len(picked) < per_type else []
        items = []
        for event in picked:
            track = _track_of(event, tracks_by_event.get(event["event_id"], []))
            goal = goals.get((track["episode_id"], track["track_id"])) if track else None
            items.append(GalleryItem(event, track, goal))
        shown[interaction] = items
    return shown
