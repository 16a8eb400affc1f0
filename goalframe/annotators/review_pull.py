"""Review pull: each task's newest submitted annotation, decoded and written as a REVIEWED revision.

A pulled mask is checked against the frame's size and written with its provenance (task and
annotation ids, annotator, time, visibility) by ``storage.masks.write_review``: the automatic
masks stay on disk. An annotation already pulled (same id, same update time) is skipped.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from goalframe.annotators.review_results import (
    SizeMismatch,
    decode_result,
    reviewed_visible,
)
from goalframe.annotators.review_server import ReviewError, Server
from goalframe.annotators.review_tasks import (
    DEFAULT_PROJECT,
    latest_annotation,
    project_rows,
    pulled_annotations,
    read_tasks_table,
)
from goalframe.schemas.layout import utc_now
from goalframe.storage.dataset import Dataset, open_dataset
from goalframe.storage.layout import FRAMES
from goalframe.storage.lease import writes_dataset
from goalframe.storage.masks import MaskTrack, rebuild_tracks_table, write_review
from goalframe.storage.store import new_step, open_root, record_step

# ---- pull -----------------------------------------------------------------------------


@dataclass
class PullReport:
    server: str
    project: str
    project_id: int
    tasks: int = 0  # tasks of this dataset in the project
    annotated: int = 0
    pulled: int = 0  # frames written now
    unchanged: int = 0  # already pulled before
    missing: int = 0  # recorded tasks no longer on the server
    refused: list[str] = field(default_factory=list)  # one line per refused annotation
    revisions: list[str] = field(default_factory=list)  # episode/track/reviewed/<revision>


def _frame_size(ds: Dataset, episode: str, camera: str) -> tuple[int, int]:
    shape = ds.zarr_array(episode, f"{FRAMES}/{camera}").shape
    return int(shape[1]), int(shape[2])


@writes_dataset("review pull")
def pull(
    dataset: str,
    url: str,
    api_key: str | None = None,
    project: str = DEFAULT_PROJECT,
    storage_options: dict | None = None,
    on_progress: Callable[[int], None] | None = None,
) -> PullReport:
    """Write each pushed task's newest annotation, not pulled before, as a reviewed revision."""
    started_at = utc_now()
    server = Server(url, api_key)
    ds = open_dataset(dataset, storage_options)
    server.check()
    try:
        ls_project = server.project(project, create=False)
        report = PullReport(server.url, project, ls_project.id)
        rows = project_rows(read_tasks_table(dataset, storage_options), server.url, ls_project.id)
        if rows.is_empty():
            raise ReviewError(
                f"{ds.path}: nothing pushed to project {project!r} on {server.url}: run `goalframe review"
                " push` first"
            )
        by_id = {int(r["task_id"]): r for r in rows.iter_rows(named=True)}
        report.tasks = len(by_id)
        tasks = {task.id: task for task in server.tasks(ls_project.id, annotations=True) if task.id in by_id}
        report.missing = len(by_id) - len(tasks)
        root = open_root(dataset, mode="r", storage_options=storage_options)
        known_tracks = set(ds.track_ids())
        done_cache: dict[tuple[str, str], set] = {}
        sizes: dict[tuple[str, str], tuple[int, int]] = {}
        pending: dict[tuple[str, str], list[tuple[int, np.ndarray, bool, dict[str, Any]]]] = defaultdict(list)
        for task_id in sorted(tasks):
            row, task = by_id[task_id], tasks[task_id]
            annotation = latest_annotation(task)
            if on_progress:
                on_progress(1)
            if annotation is None:
                continue
            report.annotated += 1
            episode, track_id, frame, camera = (
                row["episode_id"],
                row["track_id"],
                int(row["frame"]),
                row["camera"],
            )
            if (episode, track_id) not in known_tracks:
                report.refused.append(
                    f"task {task_id} ({episode} {track_id} frame {frame}): the dataset has no such track; not"
                    " pulled"
                )
                continue
            if (episode, track_id) not in done_cache:
                done_cache[(episode, track_id)] = pulled_annotations(root, episode, track_id)
            annotated = str(annotation.get("updated_at") or annotation.get("created_at") or "")
            if (task_id, int(annotation["id"]), annotated) in done_cache[(episode, track_id)]:
                report.unchanged += 1
                continue
            if (episode, camera) not in sizes:
                sizes[(episode, camera)] = _frame_size(ds, episode, camera)
            height, width = sizes[(episode, camera)]
            try:
                decoded = decode_result(annotation.get("result") or [], height, width)
            except SizeMismatch as exc:
                report.refused.append(
                    f"task {task_id} ({episode} {track_id} frame {frame}): annotation {annotation['id']}"
                    f" {exc}; not pulled"
                )
                continue
            mask, visible = reviewed_visible(decoded)
            provenance = {
                "frame": frame,
                "task_id": task_id,
                "annotation_id": int(annotation["id"]),
                "annotator": server.annotator(annotation.get("completed_by")),
                "annotated": annotated,
                "visibility": decoded.visibility,
            }
            pending[(episode, track_id)].append((frame, mask, visible, provenance))
    finally:
        server.close()
    if pending:
        writer = open_root(dataset, mode="r+", storage_options=storage_options)
        pulled_at = utc_now()
        for (episode, track_id), items in sorted(pending.items()):
            items.sort(key=lambda item: item[0])
            review = MaskTrack.from_masks(
                [i[0] for i in items],
                np.stack([i[1] for i in items]),
                score=np.ones(len(items), np.float32),
                visible=[i[2] for i in items],
            )
            provenance = {
                "source": "label-studio",
                "pulled": pulled_at,
                "label_studio": {
                    "server": server.url,
                    "project": project,
                    "project_id": ls_project.id,
                    "frames": [i[3] for i in items],
                },
            }
            revision = write_review(writer, episode, track_id, review, provenance)
            report.revisions.append(f"{episode}/{track_id}/reviewed/{revision}")
            report.pulled += len(items)
        rebuild_tracks_table(dataset, storage_options)
        summary = {
            "pulled": report.pulled,
            "unchanged": report.unchanged,
            "refused": len(report.refused),
            "revisions": len(report.revisions),
        }
        record_step(
            writer,
            new_step("review pull", {"url": server.url, "project": project}, started_at, utc_now(), summary),
        )
    return report
