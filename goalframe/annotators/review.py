"""Mask review in Label Studio: push automatic masks as predictions, pull human corrections.

One image task per selected frame of a mask track (Label Studio has no video-mask tag).
The task's image is the stored frame as a lossless PNG at its exact size, served either by
the server's local-files storage (when its document root contains the export folder
``DS.zarr/review/images``) or uploaded to the project. The automatic mask goes with it as
a ``brushlabels`` prediction (Label Studio's own RLE of a 0/255 RGBA image, not COCO RLE).

Which frames were pushed, as which task of which project, is ``tables/review_tasks.parquet``
(one row per task); a second push adds only what is missing. Pull decodes each task's
newest submitted annotation, checks its size against the frame, and writes it as a
REVIEWED revision of the track (``storage.masks.write_review``: the automatic masks stay
on disk) with its provenance: task and annotation ids, annotator, time, visibility. An
annotation already pulled (same id, same update time) is not pulled again.

This module is push; beside it: ``review_pull`` and ``review_status`` (re-exported here),
``review_tasks`` (the tasks table), :mod:`~goalframe.annotators.review_server` (the client),
``review_results`` (masks <-> Label Studio results) and ``review_frames`` (the task images).

The API key is passed to the client and nowhere else: it is never written, printed or
logged, and error messages are scrubbed of it.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from goalframe.annotators.plausibility import implausible_frames
from goalframe.annotators.review_frames import FrameServer, repair_review_images
from goalframe.annotators.review_results import (
    mask_result,
    visibility_result,
)
from goalframe.annotators.review_server import ReviewError, Server
from goalframe.annotators.review_tasks import (
    DEFAULT_PROJECT,
    TASKS_TABLE,
    TaskKey,
    project_rows,
    read_tasks_table,
    task_key,
)
from goalframe.schemas.layout import utc_now
from goalframe.schemas.tables import REVIEW_TASKS_SCHEMA
from goalframe.storage.dataset import Dataset, open_dataset
from goalframe.storage.lease import writes_dataset
from goalframe.storage.masks import MaskTrack
from goalframe.storage.review_images import (
    REVIEW_IMAGES,
    load_digests,
    save_digests,
)
from goalframe.storage.store import is_url, new_step, open_root, record_step, write_table

IMPORT_BATCH = 200  # tasks per import request
EXPORT_FOLDER = REVIEW_IMAGES  # inside a local dataset


# ---- selection ------------------------------------------------------------------------


def select_tracks(ds: Dataset, names: Sequence[str] | None) -> list[tuple[str, str]]:
    """Complete tracks, optionally only those named (``track_id`` or ``episode/track_id``)."""
    available = ds.track_ids()
    if not names:
        return available
    chosen, unknown = [], []
    for name in names:
        hits = [(e, t) for e, t in available if name in (t, f"{e}/{t}")]
        if not hits:
            unknown.append(name)
        chosen.extend(h for h in hits if h not in chosen)
    if unknown:
        raise ReviewError(
            f"{ds.path}: no mask track {', '.join(map(repr, unknown))} (has {len(available)} tracks; see"
            " tables/tracks.parquet)"
        )
    return chosen


def select_frames(track: MaskTrack, frames_per_track: int, min_score: float) -> list[int]:
    """Up to N frames spread evenly over the track's frames scoring at least min_score (ends included)."""
    candidates = np.flatnonzero(np.asarray(track.score) >= min_score)
    if frames_per_track == 1 and len(candidates):
        candidates = candidates[-1:]  # the last frame: the event frame of an event's track
    elif frames_per_track > 0 and len(candidates) > frames_per_track:
        picks = np.unique(np.round(np.linspace(0, len(candidates) - 1, frames_per_track)).astype(int))
        candidates = candidates[picks]
    return [int(track.frame_index[i]) for i in candidates]


# ---- push ---------------------------------------------------------------------------------


@dataclass
class PushReport:
    server: str
    project: str
    project_id: int
    served: str | None
    selected: int = 0  # frames selected
    created: int = 0  # tasks created now
    existing: int = 0  # already on the server
    by_track: dict[str, int] = field(default_factory=dict)  # created per episode/track
    repaired: int = 0  # recorded review images found missing or damaged, rendered again
    label_config: str = "current"  # or "upgraded" (an earlier goalframe config replaced) or "edited"
    warnings: list[str] = field(default_factory=list)


@writes_dataset("review push")
def push(
    dataset: str,
    url: str,
    api_key: str | None = None,
    project: str = DEFAULT_PROJECT,
    tracks: Sequence[str] | None = None,
    frames_per_track: int = 5,
    min_score: float = 0.0,
    storage_options: dict | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> PushReport:
    """Create (or reuse) the project and add one task per selected frame not yet pushed."""
    started_at = utc_now()
    if frames_per_track < 0:
        raise ReviewError(f"--frames-per-track {frames_per_track}: expected 0 (all) or more")
    if not 0.0 <= min_score <= 1.0:
        raise ReviewError(f"--min-score {min_score}: expected a value in [0, 1]")
    server = Server(url, api_key)
    ds = open_dataset(dataset, storage_options)
    chosen = select_tracks(ds, tracks)
    selection: list[tuple[TaskKey, MaskTrack]] = []
    for episode, track_id in chosen:
        track = ds.read_track(episode, track_id, reviewed=False)
        selection += [
            ((episode, track_id, f), track) for f in select_frames(track, frames_per_track, min_score)
        ]
    if not chosen:
        raise ReviewError(f"{ds.path}: no mask tracks to review: run `goalframe masks` first")
    if not selection:
        raise ReviewError(
            f"{ds.path}: no frame of the {len(chosen)} selected tracks scores at least --min-score"
            f" {min_score}"
        )
    server.check()  # nothing is written before the server answered
    temporary_export: Path | None = None
    try:
        ls_project = server.project(project, create=True)
        report = PushReport(server.url, project, ls_project.id, None, selected=len(selection))
        report.label_config = server.upgrade_label_config(ls_project)
        if report.label_config == "edited":
            report.warnings.append(
                f"project {project!r} has a labeling config edited on the server: left as it is (goalframe's"
                " own is review_results.LABEL_CONFIG)"
            )
        created_id = ds.info.created
        on_server: dict[TaskKey, Any] = {}
        for task in server.tasks(ls_project.id, annotations=False):
            key = task_key(task.data or {})
            if key is not None and (task.meta or {}).get("dataset_created") in (None, created_id):
                on_server.setdefault(key, task)
        table = read_tasks_table(dataset, storage_options)
        recorded = {
            (r["episode_id"], r["track_id"], r["frame"]): r
            for r in project_rows(table, server.url, ls_project.id).iter_rows(named=True)
        }
        # the record follows the server: tasks deleted there are pushed again, tasks found there are adopted
        kept_rows = []
        for key, task in on_server.items():
            row = recorded.get(key)
            if row is None or row["task_id"] != task.id:
                data = task.data or {}
                row = {
                    "server": server.url,
                    "project_id": ls_project.id,
                    "project": project,
                    "task_id": task.id,
                    "episode_id": key[0],
                    "track_id": key[1],
                    "camera": str(data.get("camera", "")),
                    "frame": key[2],
                    "image": str(data.get("image", "")),
                    "served": (
                        "local-files" if "/data/local-files/" in str(data.get("image", "")) else "upload"
                    ),
                    "pushed": str(task.created_at or ""),
                }
            kept_rows.append(row)
        others = table.filter(~((pl.col("server") == server.url) & (pl.col("project_id") == ls_project.id)))
        todo = [(key, track) for key, track in selection if key not in on_server]
        report.existing = len(selection) - len(todo)
        rows = list(kept_rows)

        def save() -> None:
            frame = (
                pl.DataFrame(rows, schema=REVIEW_TASKS_SCHEMA, orient="row")
                if rows
                else pl.DataFrame(schema=REVIEW_TASKS_SCHEMA)
            )
            write_table(
                dataset,
                TASKS_TABLE,
                pl.concat([others, frame]).sort(["server", "project_id", "task_id"]),
                storage_options,
            )

        local_export = not is_url(dataset)
        digests = load_digests(ds.path) if local_export else {}
        if local_export:
            report.repaired = repair_review_images(ds, digests)
        if todo:
            if not local_export:
                temporary_export = Path(tempfile.mkdtemp(prefix="goalframe-review-"))
            export_dir = Path(ds.path) / EXPORT_FOLDER if local_export else temporary_export
            frames = FrameServer(server, ls_project.id, export_dir, allow_local=local_export, digests=digests)
            cameras = {key: str(track.attrs.get("camera") or ds.cameras(key[0])[0]) for key, track in todo}
            paths = {key: frames.write(ds, key[0], cameras[key], key[2]) for key, _ in todo}
            if local_export:
                save_digests(ds.path, digests)  # before any task points at the images
            report.served = frames.prepare(next(iter(paths.values())))
            # one image per (episode, camera, frame): reuse what this project already serves
            known_images = {
                (r["episode_id"], r["camera"], r["frame"]): r["image"] for r in rows if r["image"]
            }
            images: dict[TaskKey, str] = {}
            if frames.mode == "local-files":
                images = {key: frames.local_url(path) for key, path in paths.items()}
            else:
                need = sorted(
                    {paths[key] for key in paths if (key[0], cameras[key], key[2]) not in known_images}
                )
                uploaded = frames.upload(need)
                for key, path in paths.items():
                    images[key] = known_images.get((key[0], cameras[key], key[2])) or uploaded[path]
            dataset_name = Path(ds.path.rstrip("/")).name
            for start in range(0, len(todo), IMPORT_BATCH):
                batch = todo[start : start + IMPORT_BATCH]
                payload = [
                    task_payload(key, track, cameras[key], images[key], dataset_name, created_id)
                    for key, track in batch
                ]
                with server.errors("importing tasks"):
                    answer = server.client.projects.import_tasks(
                        ls_project.id, request=payload, return_task_ids=True
                    )
                task_ids = list(answer.task_ids or [])
                if len(task_ids) != len(batch):
                    raise ReviewError(
                        f"Label Studio created {len(task_ids)} tasks for {len(batch)} frames in project"
                        f" {project!r}"
                    )
                pushed = utc_now()
                for (key, _track), task_id in zip(batch, task_ids):
                    rows.append(
                        {
                            "server": server.url,
                            "project_id": ls_project.id,
                            "project": project,
                            "task_id": int(task_id),
                            "episode_id": key[0],
                            "track_id": key[1],
                            "camera": cameras[key],
                            "frame": key[2],
                            "image": images[key],
                            "served": frames.mode,
                            "pushed": pushed,
                        }
                    )
                    report.by_track[f"{key[0]}/{key[1]}"] = report.by_track.get(f"{key[0]}/{key[1]}", 0) + 1
                save()  # recorded batch by batch: an interrupted push resumes
                report.created += len(batch)
                if on_progress:
                    on_progress(len(batch))
        elif {r["task_id"] for r in kept_rows} != {r["task_id"] for r in recorded.values()}:
            save()  # adopted or forgotten tasks
    finally:
        server.close()
        if temporary_export is not None:
            shutil.rmtree(temporary_export, ignore_errors=True)
    if report.created:
        summary = {"created": report.created, "existing": report.existing, "served": report.served}
        params = {
            "url": server.url,
            "project": project,
            "tracks": list(tracks or []),
            "frames_per_track": frames_per_track,
            "min_score": min_score,
        }
        root = open_root(dataset, mode="r+", storage_options=storage_options)
        record_step(root, new_step("review push", params, started_at, utc_now(), summary))
    return report


def task_title(episode: str, track_id: str, frame: int, item: str | None) -> str:
    """What the reviewer reads first: the object and the frame, then the track."""
    where = f"episode {episode} · frame {frame} · {track_id}"
    return f"{item} · {where}" if item else where


def task_payload(
    key: TaskKey, track: MaskTrack, camera: str, image: str, dataset_name: str, dataset_created: str
) -> dict[str, Any]:
    episode, track_id, frame = key
    row = track.row(frame)
    mask = np.asarray(track.mask[row], bool)
    result = [mask_result(mask)] if mask.any() else []
    if bool(track.visible[row]):
        result.append(visibility_result("visible"))
    elif frame in implausible_frames(track.attrs):  # the annotator's mask could not be right
        result.append(visibility_result("absent"))
    annotator = track.attrs.get("annotator", "automatic")
    version = track.attrs.get("annotator_version", "")
    return {
        "data": {
            "image": image,
            "title": task_title(episode, track_id, frame, track.attrs.get("object")),
            "episode_id": episode,
            "track_id": track_id,
            "camera": camera,
            "frame": int(frame),
            "event_id": track.attrs.get("event_id"),
            "object": track.attrs.get("object"),
        },
        "meta": {"goalframe": True, "dataset": dataset_name, "dataset_created": dataset_created},
        "predictions": [
            {
                "result": result,
                "model_version": f"{annotator} {version}".strip(),
                "score": float(track.score[row]),
            }
        ],
    }


# pull and status live beside push; they are part of this module's API
from goalframe.annotators.review_pull import PullReport, pull  # noqa: E402
from goalframe.annotators.review_status import StatusReport, TrackStatus, status  # noqa: E402

__all__ = [
    "DEFAULT_PROJECT",
    "TASKS_TABLE",
    "PullReport",
    "PushReport",
    "StatusReport",
    "TrackStatus",
    "pull",
    "push",
    "select_frames",
    "select_tracks",
    "status",
    "task_payload",
]
