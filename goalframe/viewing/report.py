"""``goalframe report``: a gallery of a dataset's events, masks and goal views, as HTML and Markdown.

:func:`write_report` reads the tables with polars, frames through ``Dataset.read_frames`` and
masks through ``Dataset.read_track`` (newest review first), chooses what to show
(``report_data``), draws it (``report_images``, ``report_plots``) and writes
``OUT/report.html`` (one file, PNGs embedded) and ``OUT/report.md`` (PNGs beside it).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from goalframe.schemas.layout import DatasetError
from goalframe.schemas.tables import TRACKS_SCHEMA, empty_table
from goalframe.storage import open_dataset
from goalframe.viewing import report_images as draw
from goalframe.viewing.report_data import (
    CRITERIA,
    Criterion,
    GalleryItem,
    TrackStats,
    flagged,
    gallery,
    track_stats,
)
from goalframe.viewing.report_plots import histograms_png, timeline_png
from goalframe.viewing.report_write import write_html, write_markdown

DEFAULT_PER_TYPE = 3
FLAGGED_PER_LIST = 6


@dataclass
class Shown:
    """A picture with the caption and the facts (``data-*`` in the HTML) that go with it."""

    picture: draw.Picture
    caption: str
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass
class ReportContent:
    title: str
    overview: list[str]
    flags: list[tuple[Criterion, list[Shown]]]
    gallery: dict[str, list[Shown]]
    counts: dict[str, tuple[int, int]]  # interaction -> (events, tracks)
    timeline: draw.Picture
    histograms: draw.Picture | None


def default_out(dataset: str) -> Path:
    """``data/vpt.zarr`` -> ``data/vpt-report``; a URL's report goes to the current folder."""
    name = dataset.rstrip("/").rsplit("/", 1)[-1].removesuffix(".zarr") or "dataset"
    if "://" in dataset:
        return Path(f"{name}-report")
    return Path(dataset.rstrip("/")).parent / f"{name}-report"


class _Reader:
    """Frames and tracks of one dataset, each read once."""

    def __init__(self, ds):
        self.ds = ds
        self.frame = lru_cache(maxsize=256)(self._frame)
        self.track = lru_cache(maxsize=64)(ds.read_track)

    def _frame(self, episode: str, camera: str, frame: int) -> np.ndarray:
        return self.ds.read_frames(episode, frame, frame + 1, camera)[0]

    def mask(self, episode: str, track_id: str, frame: int) -> tuple[np.ndarray, float, bool]:
        """(mask, score, visible) of a track on ``frame`` (its last row when it lacks the frame)."""
        track = self.track(episode, track_id)
        hits = np.flatnonzero(track.frame_index == frame)
        row = int(hits[0]) if len(hits) else len(track) - 1
        return track.mask[row], float(track.score[row]), bool(track.visible[row])


def _file_name(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._-]+", "_", text)


def _event_picture(reader: _Reader, item: GalleryItem, name: str) -> Shown:
    event, track, goal = item.event, item.track, item.goal
    camera = track["camera"] if track else event["camera"]
    frame_no = int(track["event_frame"]) if track else int(event["frame"])
    frame = reader.frame(event["episode_id"], camera, frame_no)
    prompt = (event["prompt_row"], event["prompt_col"]) if camera == event["camera"] else None
    prompt = prompt if prompt and None not in prompt else None
    panels = [draw.labelled(draw.frame_panel(frame, prompt=prompt), f"event frame {frame_no} ({camera})")]
    facts: dict[str, Any] = {"event-id": event["event_id"], "episode": event["episode_id"], "frame": frame_no}
    caption = f"{event['episode_id']} frame {frame_no}: {event['object'] or event['name']} ({event['kind']})"
    if event.get("text"):
        caption += f' "{event["text"]}"'
    if track is None:
        note = event.get("prompt_note") or "no mask track for this event"
        panels.append(
            draw.labelled(draw.placeholder(f"no mask: {note}", height=panels[0].shape[0] - 22), "mask")
        )
        caption += f"; no mask track ({note})"
    else:
        mask, score, visible = reader.mask(track["episode_id"], track["track_id"], frame_no)
        zoom, zoom_title = draw.zoom_panel(frame, mask, centre=prompt)
        state = "visible" if visible else "not visible"
        panels += [
            draw.labelled(draw.mask_panel(frame, mask), f"mask: score {score:.2f}, {state}"),
            draw.labelled(zoom, zoom_title),
        ]
        facts.update(track=track["track_id"], score=f"{score:.4f}")
        caption += (
            f"; track {track['track_id']}: score {score:.2f} on the event frame, mean"
            f" {track['mean_score']:.2f}, visible on {track['n_visible']} of {track['n_frames']} frames"
        )
        panels.append(_goal_panel(reader, goal, panels[0].shape[0] - draw.HEADER_HEIGHT))
        if goal is not None:
            caption += (
                f"; goal view ({goal['goal_source']}) {goal['goal_episode_id']} frame {goal['goal_frame']}"
            )
    return Shown(draw.Picture(name, draw.png_bytes(draw.side_by_side(panels)), caption), caption, facts)


def _goal_panel(reader: _Reader, goal: dict | None, height: int) -> np.ndarray:
    if goal is None:
        return draw.labelled(
            draw.placeholder("no goal pair (run goalframe pairs)", height=height), "goal view"
        )
    frame = reader.frame(goal["goal_episode_id"], goal["goal_camera"], int(goal["goal_frame"]))
    mask, _, _ = reader.mask(goal["goal_episode_id"], goal["goal_track_id"], int(goal["goal_frame"]))
    title = f"goal view: {goal['goal_source'].replace('_', ' ')}, frame {goal['goal_frame']}"
    return draw.labelled(draw.mask_panel(frame, mask), title)


def _flag_picture(reader: _Reader, stats: TrackStats, criterion: Criterion, name: str) -> Shown:
    frame_no = criterion.frame(stats)
    frame = reader.frame(stats.episode_id, stats.camera, frame_no)
    mask, score, _ = reader.mask(stats.episode_id, stats.track_id, frame_no)
    picture, enlargement = draw.thumbnail(frame, mask)
    panel = draw.labelled(picture, f"frame {frame_no}, score {score:.2f}{enlargement}")
    value = criterion.value(stats)
    what = " ".join(str(v) for v in (stats.interaction, stats.object) if v)
    caption = (
        f"{stats.episode_id} / {stats.track_id} ({what}): {criterion.value_name}"
        f" {_number(value)}; visible on {int(stats.visible.sum())} of {len(stats.visible)} frames; shown at"
        f" frame {frame_no}" + (f" (enlarged {enlargement.lstrip(', ')})" if enlargement else "")
    )
    facts = {
        "episode": stats.episode_id,
        "track": stats.track_id,
        "value": f"{value:.6f}",
        "frame": frame_no,
        "mean-score": f"{stats.mean_score:.6f}",
        "max-area": f"{stats.max_area:.6f}",
        "edge-frames": stats.edge_frames,
    }
    return Shown(draw.Picture(name, draw.png_bytes(panel), caption), caption, facts)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() and value > 1 else f"{value:.3f}"


def _tables(ds) -> tuple[pl.DataFrame, pl.DataFrame, pl.DataFrame | None]:
    if "events" not in ds.tables:
        raise DatasetError(f"{ds.path}: no events table (run `goalframe events {ds.path}` first)")
    tracks = ds.table("tracks") if "tracks" in ds.tables else empty_table(TRACKS_SCHEMA)
    pairs = ds.table("pairs") if "pairs" in ds.tables else None
    return ds.table("events"), tracks, pairs


def collect(dataset: str, per_type: int, storage_options: dict | None = None) -> ReportContent:
    """Everything the report shows, drawn."""
    if per_type < 1:
        raise ValueError(f"--per-type {per_type}: must be at least 1")
    ds = open_dataset(dataset, storage_options)
    events, tracks, pairs = _tables(ds)
    reader = _Reader(ds)
    stats = [track_stats(ds, row) for row in tracks.sort("episode_id", "track_id").iter_rows(named=True)]
    flags = []
    for criterion in CRITERIA:
        rows = flagged(stats, criterion, FLAGGED_PER_LIST)
        flags.append(
            (
                criterion,
                [
                    _flag_picture(reader, s, criterion, f"flag-{criterion.key}-{i + 1}.png")
                    for i, s in enumerate(rows)
                ],
            )
        )
    chosen = gallery(events, tracks, pairs, per_type)
    shown = {
        kind: [
            _event_picture(reader, item, f"{_file_name(kind)}-{i + 1}.png") for i, item in enumerate(items)
        ]
        for kind, items in chosen.items()
    }
    counts = {
        kind: (
            events.filter(pl.col("interaction") == kind).height,
            tracks.filter(pl.col("interaction") == kind).height,
        )
        for kind in chosen
    }
    lengths = dict(ds.lengths)
    overview = [
        f"{len(lengths)} episodes, {sum(lengths.values())} frames, cameras"
        f" {', '.join(sorted({c for e in ds.episodes for c in ds.cameras(e)}))}",
        f"{events.height} events of {len(chosen)} interaction types, {tracks.height} mask tracks,"
        f" {'no goal pairs' if pairs is None else f'{pairs.height} goal-pair rows'}",
    ]
    return ReportContent(
        title=f"goalframe report: {ds.path.rstrip('/').rsplit('/', 1)[-1]}",
        overview=overview,
        flags=flags,
        gallery=shown,
        counts=counts,
        timeline=draw.Picture(
            "timeline.png", timeline_png(events, lengths, list(chosen)), "events per episode"
        ),
        histograms=draw.Picture("histograms.png", histograms_png(stats), "mask score and visibility")
        if stats
        else None,
    )


def write_report(
    dataset: str,
    out: Path | None = None,
    per_type: int = DEFAULT_PER_TYPE,
    storage_options: dict | None = None,
) -> dict[str, Any]:
    """Write ``OUT/report.html`` and ``OUT/report.md`` (+ PNGs); a summary back."""
    started = time.perf_counter()
    out = Path(out) if out is not None else default_out(dataset)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out}: exists and is not a folder")
    content = collect(dataset, per_type, storage_options)
    out.mkdir(parents=True, exist_ok=True)
    html, markdown = out / "report.html", out / "report.md"
    write_html(content, html)
    pictures = write_markdown(content, markdown)
    return {
        "html": str(html),
        "markdown": str(markdown),
        "pictures": pictures,
        "interactions": {kind: len(items) for kind, items in content.gallery.items()},
        "flagged": {criterion.key: len(rows) for criterion, rows in content.flags},
        "seconds": round(time.perf_counter() - started, 2),
    }
