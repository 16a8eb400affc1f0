"""The dataset's record of pushed review tasks and what pull has already brought back.

``tables/review_tasks.parquet`` holds one row per Label Studio task (server, project, task id,
episode, track, frame); push, pull and status all read it through these functions.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from goalframe.schemas.tables import REVIEW_TASKS_SCHEMA
from goalframe.storage.masks import reviews
from goalframe.storage.store import read_table

DEFAULT_PROJECT = "goalframe mask review"
TASKS_TABLE = "review_tasks"

TaskKey = tuple[str, str, int]  # (episode_id, track_id, frame)


# ---- the dataset's record of pushed tasks -------------------------------------------------


def read_tasks_table(dataset: str, storage_options: dict | None = None) -> pl.DataFrame:
    table = read_table(dataset, TASKS_TABLE, storage_options)
    if table is None:
        return pl.DataFrame(schema=REVIEW_TASKS_SCHEMA)
    return table.select([pl.col(name).cast(dtype) for name, dtype in REVIEW_TASKS_SCHEMA.items()])


def project_rows(table: pl.DataFrame, server: str, project_id: int) -> pl.DataFrame:
    return table.filter((pl.col("server") == server) & (pl.col("project_id") == project_id))


def task_key(data: dict[str, Any]) -> TaskKey | None:
    try:
        return str(data["episode_id"]), str(data["track_id"]), int(data["frame"])
    except (KeyError, TypeError, ValueError):
        return None


def latest_annotation(task: Any) -> dict[str, Any] | None:
    annotations = [a if isinstance(a, dict) else a.dict() for a in task.annotations or []]
    submitted = [a for a in annotations if not a.get("was_cancelled")]
    if not submitted:
        return None
    return max(
        submitted,
        key=lambda a: (str(a.get("updated_at") or a.get("created_at") or ""), int(a.get("id") or 0)),
    )


def pulled_annotations(root, episode: str, track_id: str) -> set[tuple[int, int, str]]:
    """(task_id, annotation_id, annotated) of every annotation already in a reviewed revision."""
    done = set()
    for revision in reviews(root, episode, track_id):
        for item in (revision.attrs.get("label_studio") or {}).get("frames", []):
            done.add((int(item["task_id"]), int(item["annotation_id"]), str(item["annotated"])))
    return done
