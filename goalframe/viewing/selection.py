"""What ``goalframe view`` shows: the episodes, cameras and mask tracks picked, with their events.

Everything is read through the dataset: episode records, the ``events`` and ``tracks`` tables
(polars) and the mask tracks (:meth:`Dataset.read_track`, reviewed masks winning frame by frame).
A track's masks are kept bit-packed (an eighth of their bool size) and unpacked one frame at a
time, so a long episode with many tracks stays small in memory.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import polars as pl

from goalframe.schemas.layout import DatasetError
from goalframe.schemas.tables import EVENTS_SCHEMA

#: Saturated colours that stand out on grass, sky, stone and a grey table alike (RGB); track k
#: gets PALETTE[(k - 1) % len] in the Rerun annotation context.
PALETTE = (
    (255, 0, 255),  # magenta
    (255, 230, 0),  # yellow
    (0, 255, 255),  # cyan
    (255, 120, 0),  # orange
    (255, 0, 60),  # red
    (120, 80, 255),  # violet
)


@dataclass
class TrackView:
    """One mask track as shown: its class id in the segmentation image and what it names."""

    track_id: str
    camera: str
    label: int  # class id in the camera's segmentation image, from 1
    name: str  # "oak_log (00000.pov.classical)"
    frame_index: np.ndarray  # (N,) episode frames
    visible: np.ndarray  # (N,) bool
    score: np.ndarray  # (N,) float32
    event_frame: int | None
    packed: np.ndarray = field(repr=False)  # (N, H * W / 8) np.packbits of the masks
    shape: tuple[int, int] = (0, 0)

    def __post_init__(self) -> None:
        self.row_of = {int(frame): row for row, frame in enumerate(self.frame_index)}  # episode frame -> row

    @property
    def color(self) -> tuple[int, int, int]:
        return PALETTE[(self.label - 1) % len(PALETTE)]

    def mask(self, row: int) -> np.ndarray:
        """The (H, W) bool mask of row ``row``."""
        height, width = self.shape
        return np.unpackbits(self.packed[row], count=height * width).reshape(height, width).astype(bool)


@dataclass
class EpisodeView:
    episode: str
    fps: float
    n_frames: int
    height: int
    width: int
    cameras: list[str]
    events: pl.DataFrame  # this episode's events, by frame
    tracks: list[TrackView]

    def camera_tracks(self, camera: str) -> list[TrackView]:
        return [track for track in self.tracks if track.camera == camera]

    def label_image(self, camera: str, frame: int) -> np.ndarray | None:
        """(H, W) uint8 class ids of the visible masks on ``frame`` (a later track wins where
        masks overlap); None when no track of the camera covers the frame."""
        covering = [track for track in self.camera_tracks(camera) if frame in track.row_of]
        if not covering:
            return None
        labels = np.zeros((self.height, self.width), np.uint8)
        for track in covering:
            row = track.row_of[frame]
            if track.visible[row]:
                labels[track.mask(row)] = track.label
        return labels


def _choices(values: list[str]) -> str:
    shown = ", ".join(values[:5])
    return f"{shown}, ... ({len(values)} in all)" if len(values) > 5 else shown or "none"


def episode_events(ds, episode: str) -> pl.DataFrame:
    """The episode's rows of ``tables/events.parquet`` by frame (an empty table when it has none)."""
    if "events" not in ds.tables:
        return pl.DataFrame(schema=EVENTS_SCHEMA)
    return ds.table("events").filter(pl.col("episode_id") == episode).sort("frame", "event_id")


def _tracks_table(ds) -> pl.DataFrame:
    return ds.table("tracks") if "tracks" in ds.tables else pl.DataFrame()


def _track_name(row: dict, events: pl.DataFrame) -> str:
    what = row.get("object")
    if not what and row.get("event_id") and events.height:
        names = events.filter(pl.col("event_id") == row["event_id"])["name"].to_list()
        what = names[0] if names else None
    return f"{what or row.get('interaction') or 'track'} ({row['track_id']})"


def _read_tracks(ds, episode: str, rows: list[dict], events: pl.DataFrame) -> list[TrackView]:
    views, labels = [], {}
    for row in rows:
        track = ds.read_track(episode, row["track_id"])
        camera = row["camera"]
        labels[camera] = labels.get(camera, 0) + 1
        if labels[camera] > 255:
            raise DatasetError(f"{ds.path}: episode {episode!r} camera {camera!r} has over 255 mask tracks")
        n, height, width = track.mask.shape
        views.append(
            TrackView(
                track_id=row["track_id"],
                camera=camera,
                label=labels[camera],
                name=_track_name(row, events),
                frame_index=np.asarray(track.frame_index, np.int64),
                visible=np.asarray(track.visible, bool),
                score=np.asarray(track.score, np.float32),
                event_frame=track.meta.event_frame,
                packed=np.packbits(track.mask.reshape(n, -1), axis=1),
                shape=(height, width),
            )
        )
    return views


def _episode_rows(ds, episode: str, cameras: list[str], track: str | None) -> list[dict]:
    table = _tracks_table(ds)
    complete = {track_id for _, track_id in ds.track_ids(episode)}
    rows = (
        [] if not table.height else table.filter(pl.col("episode_id") == episode).sort("track_id").to_dicts()
    )
    rows = [row for row in rows if row["track_id"] in complete]
    if track is not None:
        found = [row for row in rows if row["track_id"] == track]
        if not found:
            raise DatasetError(
                f"{ds.path}: episode {episode!r} has no mask track {track!r}"
                f" (has {_choices([row['track_id'] for row in rows])})"
            )
        rows = found
    return [row for row in rows if row["camera"] in cameras]


def _pick_episodes(ds, episodes: list[str] | None, track: str | None) -> list[str]:
    known = ds.episodes
    if not known:
        raise DatasetError(f"{ds.path}: no complete episode to view")
    for episode in episodes or []:
        if episode not in known:
            raise DatasetError(f"{ds.path}: no episode {episode!r} (has {_choices(known)})")
    if episodes:
        return list(dict.fromkeys(episodes))
    if track is not None:  # the first episode that has the track
        for episode in known:
            if any(track_id == track for _, track_id in ds.track_ids(episode)):
                return [episode]
        raise DatasetError(f"{ds.path}: no episode has a mask track {track!r}")
    return known[:1]


def select_view(
    ds, episodes: list[str] | None = None, camera: str | None = None, track: str | None = None
) -> list[EpisodeView]:
    """The episodes to show (default: the first; with ``track`` alone, the first that has it),
    each with its cameras (all, or ``camera``), events and mask tracks (all, or ``track``).
    A name that does not exist is a one-line DatasetError listing what does."""
    views = []
    for episode in _pick_episodes(ds, episodes, track):
        meta = ds.meta(episode)
        if camera is not None and camera not in meta.cameras:
            raise DatasetError(
                f"{ds.path}: episode {episode!r} has no camera {camera!r} (has {_choices(meta.cameras)})"
            )
        cameras = [camera] if camera else list(meta.cameras)
        events = episode_events(ds, episode)
        rows = _episode_rows(ds, episode, cameras, track)
        views.append(
            EpisodeView(
                episode=episode,
                fps=float(meta.fps),
                n_frames=meta.n_frames,
                height=meta.height,
                width=meta.width,
                cameras=cameras,
                events=events,
                tracks=_read_tracks(ds, episode, rows, events),
            )
        )
    return views
