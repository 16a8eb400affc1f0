"""Cross-view goal pairs (ROCKET-2): ``tables/pairs.parquet``.

For every mask track (one target object over one interaction window, one camera), ONE goal
view is drawn uniformly among the frames whose mask is non-empty, and every frame of the
window is paired with it. Options add more pairs per track, each with its own goal view:

- ``cross_episode``: a goal view from another episode's track with the same interaction
  type and object (track drawn uniformly among them, then a non-empty frame);
- ``cross_camera``: a goal view of the same event from another camera of the same episode
  (AgiBot), at a frame of the same interaction window where that camera's mask is non-empty.

Draws are seeded per pair (``seed`` and the pair id), so a pair keeps its goal whatever
other tracks exist. Per-frame labels come from the masks (newest reviewed row first):
visibility, centroid (row / H, col / W) and bbox (x0 / W, y0 / H, x1 / W, y1 / H, x1 and y1
exclusive), null where the object is not visible, plus ROCKET's interaction id.
"""

from __future__ import annotations

import time
import zlib
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import polars as pl

from goalframe.schemas.layout import utc_now
from goalframe.schemas.tables import INTERACTION_IDS, PAIRS_SCHEMA, empty_table
from goalframe.storage import open_dataset
from goalframe.storage.lease import writes_dataset
from goalframe.storage.parallel import run_tasks
from goalframe.storage.store import new_step, open_root, record_step, write_table

GOAL_SOURCES = ("same_episode", "cross_episode", "cross_camera")


@dataclass
class TrackSummary:
    """What pair sampling needs of one track: frames, non-empty flags and normalised labels."""

    episode_id: str
    track_id: str
    event_id: str | None
    camera: str | None
    interaction: str | None
    object: str | None
    event_frame: int | None
    event_name: str | None
    frame_index: np.ndarray  # (N,) int64
    nonempty: np.ndarray  # (N,) bool: mask has a pixel (goal candidates)
    visible: np.ndarray  # (N,) bool: nonempty and trusted by the annotator
    centroid: np.ndarray  # (N, 2) float32 normalised (row, col), NaN when not visible
    bbox: np.ndarray  # (N, 4) float32 normalised (x0, y0, x1, y1), NaN when not visible

    @property
    def candidates(self) -> np.ndarray:
        return self.frame_index[self.nonempty]

    @property
    def window(self) -> tuple[int, int]:
        return int(self.frame_index.min()), int(self.frame_index.max()) + 1

    def event_key(self) -> tuple:
        """Tracks of the same event seen by different cameras share this key."""
        return (self.episode_id, self.event_frame, self.event_name, self.interaction, self.object)


@dataclass
class EpisodeTracks:
    episode_id: str
    tracks: list[TrackSummary]
    warnings: list[str] = field(default_factory=list)


def summarize_track(
    ds, episode: str, track_id: str, event_names: dict[str, str] | None = None
) -> TrackSummary:
    track = ds.read_track(episode, track_id)
    attrs = track.attrs
    n, height, width = track.mask.shape
    nonempty = track.mask.reshape(n, -1).any(axis=1) if n else np.zeros(0, bool)
    visible = np.asarray(track.visible, bool) & nonempty
    scale_rc = np.array([height, width], np.float32)
    scale_box = np.array([width, height, width, height], np.float32)
    centroid = np.where(visible[:, None], np.asarray(track.centroid, np.float32) / scale_rc, np.nan).astype(
        np.float32
    )
    bbox = np.where(visible[:, None], np.asarray(track.bbox, np.float32) / scale_box, np.nan).astype(
        np.float32
    )
    event_id = attrs.get("event_id")
    event_frame = attrs.get("event_frame")
    return TrackSummary(
        episode_id=episode,
        track_id=track_id,
        event_id=event_id,
        camera=attrs.get("camera"),
        interaction=attrs.get("interaction"),
        object=attrs.get("object"),
        event_frame=None if event_frame is None else int(event_frame),
        event_name=(event_names or {}).get(event_id) if event_id else None,
        frame_index=np.asarray(track.frame_index, np.int64),
        nonempty=nonempty,
        visible=visible,
        centroid=centroid.reshape(-1, 2),
        bbox=bbox.reshape(-1, 4),
    )


def _event_names(ds) -> dict[str, str]:
    if "events" not in ds.tables:
        return {}
    events = ds.table("events").select("event_id", "name")
    return dict(zip(events["event_id"].to_list(), events["name"].to_list()))


def episode_tracks(episode: str, dataset: str, storage_options: dict | None = None) -> EpisodeTracks:
    """One task: the summaries of one episode's tracks (reads its masks once)."""
    ds = open_dataset(dataset, storage_options)
    names = _event_names(ds)
    summaries, warnings = [], []
    for _episode, track_id in ds.track_ids(episode):
        summary = summarize_track(ds, episode, track_id, names)
        if not len(summary.frame_index):
            warnings.append(f"{episode}/{track_id}: empty track; no pair")
            continue
        if not summary.nonempty.any():
            warnings.append(f"{episode}/{track_id}: no frame with a non-empty mask; no goal view, no pair")
        summaries.append(summary)
    return EpisodeTracks(episode, summaries, warnings)


def pair_rng(seed: int, pair_id: str) -> np.random.Generator:
    """The generator of one pair's draw: depends only on the seed and the pair id."""
    return np.random.default_rng([int(seed) & 0xFFFFFFFF, zlib.crc32(pair_id.encode())])


def pair_id_for(track: TrackSummary, source: str) -> str:
    return f"{track.episode_id}/{track.track_id}/{source}"


def _draw(
    rng: np.random.Generator, options: list[tuple[TrackSummary, np.ndarray]]
) -> tuple[TrackSummary, int]:
    """A track uniformly among ``options``, then one of its candidate frames uniformly."""
    goal, frames = options[int(rng.integers(len(options)))]
    return goal, int(frames[int(rng.integers(len(frames)))])


def _pair_rows(track: TrackSummary, source: str, goal: TrackSummary, goal_frame: int) -> dict[str, list]:
    n = len(track.frame_index)
    start, stop = track.window
    interaction_id = INTERACTION_IDS.get(track.interaction or "none", -1)

    def column(values: np.ndarray) -> list:
        return [None if np.isnan(v) else float(v) for v in values]

    return {
        "pair_id": [pair_id_for(track, source)] * n,
        "goal_source": [source] * n,
        "episode_id": [track.episode_id] * n,
        "track_id": [track.track_id] * n,
        "event_id": [track.event_id] * n,
        "camera": [track.camera] * n,
        "frame": track.frame_index.tolist(),
        "window_start": [start] * n,
        "window_stop": [stop] * n,
        "interaction": [track.interaction] * n,
        "interaction_id": [interaction_id] * n,
        "object": [track.object] * n,
        "visible": track.visible.tolist(),
        "centroid_row": column(track.centroid[:, 0]),
        "centroid_col": column(track.centroid[:, 1]),
        "bbox_x0": column(track.bbox[:, 0]),
        "bbox_y0": column(track.bbox[:, 1]),
        "bbox_x1": column(track.bbox[:, 2]),
        "bbox_y1": column(track.bbox[:, 3]),
        "goal_episode_id": [goal.episode_id] * n,
        "goal_camera": [goal.camera] * n,
        "goal_track_id": [goal.track_id] * n,
        "goal_frame": [goal_frame] * n,
    }


def sample_pairs(
    tracks: list[TrackSummary], seed: int = 0, cross_episode: bool = False, cross_camera: bool = False
) -> tuple[pl.DataFrame, dict[str, int]]:
    """The pairs table (``PAIRS_SCHEMA``) of these tracks, and counts per goal source."""
    usable = [t for t in tracks if t.nonempty.any()]
    by_object: dict[tuple, list[TrackSummary]] = defaultdict(list)
    by_event: dict[tuple, list[TrackSummary]] = defaultdict(list)
    for t in usable:
        by_object[(t.interaction, t.object)].append(t)
        by_event[t.event_key()].append(t)
    columns: dict[str, list] = {name: [] for name in PAIRS_SCHEMA}
    counts = dict.fromkeys(GOAL_SOURCES, 0)

    def add(track: TrackSummary, source: str, options: list[tuple[TrackSummary, np.ndarray]]) -> None:
        if not options:
            return
        goal, frame = _draw(pair_rng(seed, pair_id_for(track, source)), options)
        for name, values in _pair_rows(track, source, goal, frame).items():
            columns[name].extend(values)
        counts[source] += 1

    for track in sorted(usable, key=lambda t: (t.episode_id, t.track_id)):
        add(track, "same_episode", [(track, track.candidates)])
        if cross_episode:
            others = [
                o for o in by_object[(track.interaction, track.object)] if o.episode_id != track.episode_id
            ]
            add(
                track,
                "cross_episode",
                [(o, o.candidates) for o in sorted(others, key=lambda o: (o.episode_id, o.track_id))],
            )
        if cross_camera:
            start, stop = track.window
            options = []
            for other in sorted(by_event[track.event_key()], key=lambda o: o.track_id):
                if other.camera == track.camera:
                    continue
                frames = other.candidates
                during = frames[(frames >= start) & (frames < stop)]
                options.append((other, during if len(during) else frames))
            add(track, "cross_camera", options)
    if not columns["pair_id"]:
        return empty_table(PAIRS_SCHEMA), counts
    return pl.DataFrame(columns, schema=PAIRS_SCHEMA), counts


@writes_dataset("pairs")
def build_pairs(
    dataset: str,
    seed: int = 0,
    cross_episode: bool = False,
    cross_camera: bool = False,
    workers: int = 1,
    scheduler: str | None = None,
    storage_options: dict | None = None,
    on_result: Callable[[EpisodeTracks], None] | None = None,
) -> tuple[pl.DataFrame, list[str]]:
    """Sample goal pairs for every mask track and write ``tables/pairs.parquet``."""
    started_at, started = utc_now(), time.perf_counter()
    ds = open_dataset(dataset, storage_options)
    episodes = sorted({episode for episode, _track in ds.track_ids()})
    results = run_tasks(
        episode_tracks,
        episodes,
        workers=workers,
        scheduler=scheduler,
        on_result=on_result,
        dataset=dataset,
        storage_options=storage_options,
    )
    tracks = [t for r in results for t in r.tracks]
    warnings = [w for r in results for w in r.warnings]
    if not tracks:
        warnings.append(f"{dataset}: no mask tracks; run `goalframe masks` first")
    table, counts = sample_pairs(tracks, seed, cross_episode, cross_camera)
    write_table(dataset, "pairs", table, storage_options)
    summary = {
        "tracks": len(tracks),
        "pairs": sum(counts.values()),
        "rows": table.height,
        **{f"pairs_{k}": v for k, v in counts.items()},
        "warnings": len(warnings),
        "seconds": round(time.perf_counter() - started, 3),
    }
    params = {"seed": seed, "cross_episode": cross_episode, "cross_camera": cross_camera}
    record_step(
        open_root(dataset, "r+", storage_options), new_step("pairs", params, started_at, utc_now(), summary)
    )
    return table, warnings
