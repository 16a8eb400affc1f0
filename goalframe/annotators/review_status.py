"""Review status: per track, tasks pushed, annotated on the server, and pulled into the dataset."""

from __future__ import annotations

from dataclasses import dataclass, field

from goalframe.annotators.review_server import Server
from goalframe.annotators.review_tasks import (
    DEFAULT_PROJECT,
    latest_annotation,
    project_rows,
    pulled_annotations,
    read_tasks_table,
)
from goalframe.storage.dataset import open_dataset
from goalframe.storage.store import open_root

# ---- status -----------------------------------------------------------------------------


@dataclass
class TrackStatus:
    episode_id: str
    track_id: str
    pushed: int = 0
    annotated: int = 0
    pulled: int = 0  # annotated tasks whose newest annotation is in the dataset
    missing: int = 0  # recorded, no longer on the server

    @property
    def to_pull(self) -> int:
        return self.annotated - self.pulled


@dataclass
class StatusReport:
    server: str
    project: str
    project_id: int | None
    tracks: list[TrackStatus] = field(default_factory=list)

    def totals(self) -> dict[str, int]:
        keys = ("pushed", "annotated", "pulled", "missing", "to_pull")
        return {k: sum(getattr(t, k) for t in self.tracks) for k in keys}


def status(
    dataset: str,
    url: str,
    api_key: str | None = None,
    project: str = DEFAULT_PROJECT,
    storage_options: dict | None = None,
) -> StatusReport:
    """Per track: tasks pushed, annotated on the server, and pulled into the dataset."""
    server = Server(url, api_key)
    ds = open_dataset(dataset, storage_options)
    server.check()
    try:
        ls_project = server.find_project(project)
        if ls_project is None:
            return StatusReport(server.url, project, None)
        report = StatusReport(server.url, project, ls_project.id)
        rows = project_rows(read_tasks_table(dataset, storage_options), server.url, ls_project.id)
        if rows.is_empty():
            return report
        tasks = {task.id: task for task in server.tasks(ls_project.id, annotations=True)}
    finally:
        server.close()
    root = open_root(dataset, mode="r", storage_options=storage_options)
    known_tracks = set(ds.track_ids())
    per_track: dict[tuple[str, str], TrackStatus] = {}
    done_cache: dict[tuple[str, str], set] = {}
    for row in rows.sort(["episode_id", "track_id", "frame"]).iter_rows(named=True):
        key = (row["episode_id"], row["track_id"])
        item = per_track.setdefault(key, TrackStatus(*key))
        item.pushed += 1
        task = tasks.get(int(row["task_id"]))
        if task is None:
            item.missing += 1
            continue
        annotation = latest_annotation(task)
        if annotation is None:
            continue
        item.annotated += 1
        if key not in done_cache:
            done_cache[key] = pulled_annotations(root, *key) if key in known_tracks else set()
        annotated = str(annotation.get("updated_at") or annotation.get("created_at") or "")
        if (int(row["task_id"]), int(annotation["id"]), annotated) in done_cache[key]:
            item.pulled += 1
    report.tracks = list(per_track.values())
    return report
