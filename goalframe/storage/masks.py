"""Mask tracks on disk: ``masks/<episode_id>/<track_id>/`` and ``tables/tracks.parquet``.

A track is one target object's masks on the frames of an event's window, for one camera,
from one annotator. Arrays (N = frames in the track, in increasing frame order):

    frame_index (N,) int32     episode frame of each row
    mask        (N, H, W) bool Blosc zstd bit-shuffle (bool masks compress ~100x)
    visible     (N,) bool      the object is visible (mask non-empty and trusted)
    centroid    (N, 2) float32 (row, col) in pixels, NaN when not visible
    bbox        (N, 4) float32 (x0, y0, x1, y1) in pixels, x1/y1 exclusive, NaN when not visible
    score       (N,) float32   annotator confidence in [0, 1]

Human corrections never overwrite: each review round is a child group
``reviewed/<revision>`` with the same arrays for the frames it covers and provenance in its
attrs. Reading a track gives, frame by frame, the newest reviewed row where one exists and
the automatic row otherwise. Every group is committed by ``complete = true`` written last.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np
import polars as pl
import zarr

from goalframe.media.images import mask_geometry
from goalframe.schemas.layout import DatasetError, utc_now
from goalframe.schemas.tables import TRACKS_SCHEMA, conform
from goalframe.schemas.tracks import TrackMeta
from goalframe.storage.layout import MASKS, numeric_compressor, safe_name
from goalframe.storage.store import open_root, write_table

MASK_CHUNK_FRAMES = 16
TRACK_ARRAYS = ("frame_index", "mask", "visible", "centroid", "bbox", "score")
REVIEWED = "reviewed"


@dataclass
class MaskTrack:
    frame_index: np.ndarray  # (N,) int32
    mask: np.ndarray  # (N, H, W) bool
    visible: np.ndarray  # (N,) bool
    centroid: np.ndarray  # (N, 2) float32
    bbox: np.ndarray  # (N, 4) float32
    score: np.ndarray  # (N,) float32
    attrs: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return len(self.frame_index)

    @property
    def meta(self) -> TrackMeta:
        """The track group's attributes, typed."""
        return TrackMeta.model_validate(self.attrs)

    def row(self, frame: int) -> int:
        """Index of ``frame`` in this track; KeyError when the track does not cover it."""
        hits = np.flatnonzero(self.frame_index == frame)
        if not len(hits):
            raise KeyError(frame)
        return int(hits[0])

    @classmethod
    def from_masks(cls, frame_index, masks: np.ndarray, score=None, visible=None, attrs=None) -> MaskTrack:
        """Geometry (visibility, centroid, bbox) derived from the masks themselves."""
        masks = np.asarray(masks, dtype=bool)
        geometry = [mask_geometry(m) for m in masks]
        derived_visible = np.array([g[0] for g in geometry], dtype=bool)
        return cls(
            frame_index=np.asarray(frame_index, dtype=np.int32),
            mask=masks,
            visible=derived_visible if visible is None else np.asarray(visible, dtype=bool) & derived_visible,
            centroid=np.array([g[1] for g in geometry], dtype=np.float32).reshape(-1, 2),
            bbox=np.array([g[2] for g in geometry], dtype=np.float32).reshape(-1, 4),
            score=np.ones(len(masks), np.float32) if score is None else np.asarray(score, dtype=np.float32),
            attrs=dict(attrs or {}),
        )


def track_id_for(event_id: str, camera: str, annotator: str) -> str:
    """``<event index>.<camera>.<annotator>``: unique inside the episode's masks group."""
    index = event_id.rsplit(":", 1)[-1]
    return safe_name(f"{index}.{camera}.{annotator}")


def track_path(episode: str, track_id: str) -> str:
    return f"{MASKS}/{episode}/{track_id}"


def _write_arrays(group: zarr.Group, track: MaskTrack) -> None:
    n, height, width = track.mask.shape
    for name in TRACK_ARRAYS:
        values = np.asarray(getattr(track, name))
        if len(values) != n:
            raise ValueError(f"track array {name} has {len(values)} rows for {n} masks")
    group.create_array(
        "mask",
        shape=(n, height, width),
        dtype=bool,
        chunks=(max(1, min(n, MASK_CHUNK_FRAMES)), height, width),
        compressors=[numeric_compressor()],
    )[...] = track.mask
    for name in ("frame_index", "visible", "centroid", "bbox", "score"):
        values = np.asarray(getattr(track, name))
        group.create_array(
            name,
            shape=values.shape,
            dtype=values.dtype,
            chunks=values.shape or None,
            compressors=[numeric_compressor()],
        )[...] = values


def _read_arrays(group: zarr.Group) -> MaskTrack:
    return MaskTrack(*(group[name][...] for name in TRACK_ARRAYS), attrs=dict(group.attrs))


def track_state(root: zarr.Group, episode: str, track_id: str) -> str:
    try:
        group = root[track_path(episode, track_id)]
    except KeyError:
        return "absent"
    return "complete" if group.attrs.get("complete") is True else "partial"


def write_track(
    root: zarr.Group, episode: str, track_id: str, track: MaskTrack, attrs: TrackMeta | dict[str, Any]
) -> None:
    """Write an automatic track whole (an earlier one and its reviews are replaced only if deleted first)."""
    meta = TrackMeta.model_validate(attrs.model_dump() if isinstance(attrs, TrackMeta) else attrs)
    attrs = meta.model_copy(update={"kind": "automatic", "created": utc_now(), "complete": False}).attrs()
    path = track_path(episode, track_id)
    if track_state(root, episode, track_id) != "absent":
        del root[path]
    try:
        group = root.create_group(path)
        group.attrs.update(attrs)
        _write_arrays(group, track)
        group.attrs.update({"complete": True})
    except BaseException:
        if track_state(root, episode, track_id) != "absent":
            del root[path]
        raise


def write_review(
    root: zarr.Group, episode: str, track_id: str, review: MaskTrack, provenance: dict[str, Any]
) -> str:
    """Add a reviewed revision next to the automatic track; returns the revision name."""
    if track_state(root, episode, track_id) != "complete":
        raise DatasetError(f"no complete track {track_id!r} in episode {episode!r} to review")
    parent = root[track_path(episode, track_id)]
    existing = sorted(name for name, _ in parent[REVIEWED].groups()) if REVIEWED in parent else []
    revision = f"{len(existing):04d}"
    group = parent.create_group(f"{REVIEWED}/{revision}")
    group.attrs.update({**provenance, "kind": "reviewed", "created": utc_now(), "complete": False})
    _write_arrays(group, review)
    group.attrs.update({"complete": True})
    return revision


def reviews(root: zarr.Group, episode: str, track_id: str) -> list[MaskTrack]:
    """Complete reviewed revisions, oldest first."""
    parent = root[track_path(episode, track_id)]
    if REVIEWED not in parent:
        return []
    groups = sorted(parent[REVIEWED].groups(), key=lambda item: item[0])
    return [_read_arrays(g) for _name, g in groups if g.attrs.get("complete") is True]


def read_track(root: zarr.Group, episode: str, track_id: str, reviewed: bool = True) -> MaskTrack:
    """The automatic track with, frame by frame, the newest reviewed row where there is one."""
    if track_state(root, episode, track_id) != "complete":
        raise DatasetError(f"no complete track {track_id!r} in episode {episode!r}")
    track = _read_arrays(root[track_path(episode, track_id)])
    track.attrs["reviewed_frames"] = []
    if not reviewed:
        return track
    merged = replace(track, **{name: np.array(getattr(track, name)) for name in TRACK_ARRAYS[1:]})
    for review in reviews(root, episode, track_id):  # oldest first, so the newest wins
        for row, frame in enumerate(review.frame_index):
            target = np.flatnonzero(merged.frame_index == frame)
            if len(target):
                for name in TRACK_ARRAYS[1:]:
                    getattr(merged, name)[target[0]] = getattr(review, name)[row]
                merged.attrs["reviewed_frames"].append(int(frame))
    merged.attrs["reviewed_frames"] = sorted(set(merged.attrs["reviewed_frames"]))
    return merged


def list_tracks(root: zarr.Group) -> list[tuple[str, str]]:
    """(episode, track_id) of every complete automatic track."""
    if MASKS not in root:
        return []
    found = []
    for episode, group in root[MASKS].groups():
        for track_id, track in group.groups():
            if track.attrs.get("complete") is True:
                found.append((episode, track_id))
    return sorted(found)


def track_row(root: zarr.Group, episode: str, track_id: str) -> dict[str, Any]:
    group = root[track_path(episode, track_id)]
    meta = TrackMeta.model_validate(dict(group.attrs))
    frames = group["frame_index"][...]
    visible = group["visible"][...]
    reviewed_frames = sorted({int(f) for r in reviews(root, episode, track_id) for f in r.frame_index})
    return {
        "track_id": track_id,
        "episode_id": episode,
        "event_id": meta.event_id,
        "camera": meta.camera,
        "start_frame": int(frames.min()) if len(frames) else None,
        "stop_frame": int(frames.max()) + 1 if len(frames) else None,
        "event_frame": meta.event_frame,
        "interaction": meta.interaction,
        "object": meta.object,
        "annotator": meta.annotator,
        "annotator_version": meta.annotator_version,
        "n_frames": len(frames),
        "n_visible": int(visible.sum()),
        "mean_score": float(group["score"][...].mean()) if len(frames) else None,
        "reviewed": bool(reviewed_frames),
        "n_reviewed_frames": len(reviewed_frames),
    }


def rebuild_tracks_table(dataset: str, storage_options: dict | None = None) -> pl.DataFrame:
    root = open_root(dataset, mode="r", storage_options=storage_options)
    table = conform([track_row(root, e, t) for e, t in list_tracks(root)], TRACKS_SCHEMA)
    write_table(dataset, "tracks", table, storage_options)
    return table
