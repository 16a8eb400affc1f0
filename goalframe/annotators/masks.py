"""The masks step: one mask track per event (and camera), tracked backward from the event frame.

``annotate_masks(dataset)`` reads ``tables/events.parquet`` and runs one Dask task per event
row that has a prompt point (``storage.parallel.run_tasks``). A task reads the window of
frames that ends at the event frame (``window`` frames, clipped at the episode start) from
the store, runs the annotator and writes ``masks/<episode>/<track>/`` with
``storage.masks.write_track``. Track ids are ``<event index>.<camera>.<annotator>``, so
re-running skips the tracks that the same annotator and version already made (resumable);
``overwrite=True`` redoes them. A track that has human reviews is never redone (the
reviews refer to its frames); it is reported as skipped.
The driver then rebuilds ``tables/tracks.parquet`` and records the step.

Rows without a usable prompt (no point, ``prompt_visible`` false, a point outside the
frame, an event frame beyond the episode) make no track; each is reported with its reason,
never dropped silently. A prompt whose first mask is empty gives a track that is not
visible on any frame. Every track then goes through the plausibility check
(:mod:`goalframe.annotators.plausibility`): frames whose mask covers more than ``max_area``
of the frame, or runs along its edge, are not visible and low-scored, with the reason in the
track's attrs (``implausible``).
"""

from __future__ import annotations

import math
import os
import threading
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field, replace
from typing import Any

import polars as pl

from goalframe.annotators.annotator import Annotator
from goalframe.annotators.plausibility import (
    CHECK_VERSION,
    MAX_AREA,
    MAX_BORDER,
    check_fractions,
    check_track,
)
from goalframe.annotators.registry import ANNOTATORS, annotator_version, build_annotator
from goalframe.annotators.vpt_items import track_for_event
from goalframe.schemas.layout import DatasetError, utc_now
from goalframe.storage import open_dataset
from goalframe.storage.layout import MASKS
from goalframe.storage.lease import writes_dataset
from goalframe.storage.masks import (
    REVIEWED,
    rebuild_tracks_table,
    track_id_for,
    track_path,
    track_state,
    write_track,
)
from goalframe.storage.parallel import run_tasks
from goalframe.storage.store import new_step, open_root, record_step, store_path

DEFAULT_WINDOW = 128


@dataclass
class MaskOptions:
    annotator: str = "classical"
    window: int = DEFAULT_WINDOW
    every: int = 1  # keyframe mode: the annotator's own segmentation on every K-th frame, flow warps between
    checkpoint: str | None = None  # sam
    model_type: str = "vit_b"  # sam
    device: str = "auto"  # sam
    overwrite: bool = False
    poses: bool = True  # place what the recording can: mined blocks by camera pose, GUI items, placed blocks
    max_area: float = MAX_AREA  # a mask over more of the frame is background: not visible, low score
    extra: dict[str, Any] = field(default_factory=dict)  # more annotator options (tests, benchmarks)

    def validate(self) -> None:
        if self.annotator not in ANNOTATORS:
            raise ValueError(f"unknown annotator {self.annotator!r}; choose one of {', '.join(ANNOTATORS)}")
        if self.window < 1:
            raise ValueError(f"--window must be 1 or more, got {self.window}")
        if self.every < 1:
            raise ValueError(f"--every must be 1 or more, got {self.every}")
        check_fractions(self.max_area)

    def build(self) -> Annotator:
        options: dict[str, Any] = {"every": self.every, **self.extra}
        if self.annotator == "sam":
            options.update(checkpoint=self.checkpoint, model_type=self.model_type, device=self.device)
        return build_annotator(self.annotator, **options)


@dataclass
class TrackResult:
    event_id: str
    episode_id: str
    camera: str | None
    status: str  # written | skipped | failed
    track_id: str | None = None
    frames: int = 0
    visible: int = 0
    seconds: float = 0.0
    reason: str | None = None


# One annotator per worker thread (SAM weights load once per worker, not once per event;
# an annotator keeps per-window state, so threads do not share one).
_LOCAL = threading.local()


def _annotator(options: MaskOptions) -> Annotator:
    key = (
        options.annotator,
        options.every,
        options.checkpoint,
        options.model_type,
        options.device,
        repr(sorted(options.extra.items())),
    )
    if getattr(_LOCAL, "key", None) != key:
        _LOCAL.annotator, _LOCAL.key = options.build(), key
    return _LOCAL.annotator


def prompt_problem(row: dict, n_frames: int | None, height: int, width: int) -> str | None:
    """Why an events row cannot be annotated, or None."""
    if (
        row.get("prompt_row") is None
        or row.get("prompt_col") is None
        or not all(math.isfinite(v) for v in (row["prompt_row"], row["prompt_col"]))
    ):
        return "no prompt point" + (f" ({row['prompt_note']})" if row.get("prompt_note") else "")
    if not row.get("prompt_visible"):
        return "prompt point not visible" + (f" ({row['prompt_note']})" if row.get("prompt_note") else "")
    r, c = int(round(row["prompt_row"])), int(round(row["prompt_col"]))
    if not (0 <= r < height and 0 <= c < width):
        return (
            f"prompt point (row {row['prompt_row']:g}, col {row['prompt_col']:g}) is outside the"
            f" {height}x{width} frame"
        )
    if n_frames is not None and not 0 <= row["frame"] < n_frames:
        return f"event frame {row['frame']} is beyond the episode ({n_frames} frames)"
    return None


def annotate_event(
    row: dict, dataset: str, options: MaskOptions, storage_options: dict | None = None
) -> TrackResult:
    """One task: the track of one events row (never raises for a bad row: the result says why)."""
    started = time.perf_counter()
    result = TrackResult(row["event_id"], row["episode_id"], row.get("camera"), "failed")
    try:
        ds = open_dataset(dataset, storage_options)
        meta = ds.meta(row["episode_id"])
        camera = row.get("camera") or meta.cameras[0]
        result.camera = camera
        if camera not in meta.cameras:
            result.reason = f"episode has no camera {camera!r}"
            return result
        frames_array = ds.zarr_array(row["episode_id"], f"frames/{camera}")
        height, width = frames_array.shape[1:3]
        problem = prompt_problem(row, meta.n_frames, height, width)
        if problem:
            result.reason = problem
            return result
        track_id = track_id_for(row["event_id"], camera, options.annotator)
        result.track_id = track_id
        root = open_root(dataset, "r+", storage_options)
        version = annotator_version(options.annotator)
        state = track_state(root, row["episode_id"], track_id)
        if state == "complete":
            group = root[track_path(row["episode_id"], track_id)]
            if REVIEWED in group:
                result.status, result.reason = "skipped", "the track has human reviews: kept as it is"
                return result
            if (
                not options.overwrite
                and group.attrs.get("annotator_version") == version
                and group.attrs.get("every", 1) == options.every
                and group.attrs.get("poses", False) == options.poses
                and group.attrs.get("max_area", MAX_AREA) == options.max_area
                and group.attrs.get("plausibility_version") == CHECK_VERSION
            ):
                result.status, result.reason = "skipped", "already made by this annotator and version"
                return result
        start = max(0, row["frame"] + 1 - options.window)
        frames = ds.read_frames(row["episode_id"], start, row["frame"] + 1, camera)
        annotator = _annotator(options)
        track = track_for_event(annotator, ds, row, start, frames, options.poses)
        track = check_track(track, options.max_area, MAX_BORDER, row.get("kind"))
        attrs = {
            "event_id": row["event_id"],
            "camera": camera,
            "annotator": annotator.name,
            "annotator_version": annotator.version,
            "event_frame": int(row["frame"]),
            "interaction": row.get("interaction"),
            "object": row.get("object"),
            "prompt": [float(row["prompt_row"]), float(row["prompt_col"])],
            "window": options.window,
            "every": options.every,
            "poses": options.poses,
            "max_area": options.max_area,
            "plausibility_version": CHECK_VERSION,
            "params": annotator.params,
            **{key: track.attrs[key] for key in ("target", "implausible") if key in track.attrs},
        }
        if not track.visible[-1]:
            attrs["note"] = (
                f"implausible mask at the event frame ({track.attrs['implausible']['reason']}): the track"
                " is not visible on any frame"
                if track.attrs.get("implausible", {}).get("event_frame")
                else "empty or untrusted mask at the event frame: the track is not visible on any frame"
            )
        write_track(root, row["episode_id"], track_id, track, attrs)
        result.status, result.frames, result.visible = "written", len(track), int(track.visible.sum())
        if not track.visible.any():
            result.reason = attrs["note"]
    except (DatasetError, ValueError, FileNotFoundError) as exc:
        result.reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    finally:
        result.seconds = time.perf_counter() - started
    return result


@dataclass
class MasksReport:
    results: list[TrackResult]
    table: pl.DataFrame
    seconds: float

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def failed(self) -> list[TrackResult]:
        return [r for r in self.results if r.status == "failed"]

    def summary(self) -> dict[str, Any]:
        written = [r for r in self.results if r.status == "written"]
        frames = sum(r.frames for r in written)
        busy = sum(r.seconds for r in written)
        return {
            "events": len(self.results),
            "written": len(written),
            "skipped": self.count("skipped"),
            "failed": self.count("failed"),
            "not_visible_tracks": sum(1 for r in written if r.visible == 0),
            "frames": frames,
            "frames_per_s": round(frames / busy, 1) if busy else None,
            "tracks": self.table.height,
            "seconds": round(self.seconds, 3),
        }


@writes_dataset("masks")
def annotate_masks(
    dataset: str,
    options: MaskOptions | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    storage_options: dict | None = None,
    on_result: Callable[[TrackResult], None] | None = None,
    events: pl.DataFrame | None = None,
) -> MasksReport:
    """Mask tracks for every events row with a prompt: masks/, tables/tracks.parquet, the step record."""
    options = options or MaskOptions()
    options.validate()
    started_at, started = utc_now(), time.perf_counter()
    ds = open_dataset(dataset, storage_options)
    if events is None:
        if "events" not in ds.tables:
            raise DatasetError(f"{ds.path}: no events table; run `goalframe events {dataset}` first")
        events = ds.table("events")
    if options.annotator == "sam":
        from goalframe.annotators.sam import check_checkpoint

        check_checkpoint(options.checkpoint, options.model_type)  # fail once, in the driver, before any task
    rows = list(events.iter_rows(named=True))
    root = open_root(dataset, "r+", storage_options)
    for episode in sorted({row["episode_id"] for row in rows} & set(ds.episodes)):
        root.require_group(
            f"{MASKS}/{episode}"
        )  # parents made here, once: tasks then write only their own track groups
    task_dataset = (
        store_path(dataset) if scheduler else dataset
    )  # a cluster's workers do not share our working directory
    if scheduler and options.checkpoint:
        options = replace(options, checkpoint=os.path.abspath(os.path.expanduser(options.checkpoint)))
    results = run_tasks(
        annotate_event,
        rows,
        workers=workers,
        scheduler=scheduler,
        on_result=on_result,
        dataset=task_dataset,
        options=options,
        storage_options=storage_options,
    )
    table = rebuild_tracks_table(dataset, storage_options)
    report = MasksReport(results, table, time.perf_counter() - started)
    params = {k: v for k, v in asdict(options).items() if k != "extra"}
    record_step(
        open_root(dataset, "r+", storage_options),
        new_step("masks", params, started_at, utc_now(), report.summary()),
    )
    return report
