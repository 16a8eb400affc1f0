"""``goalframe export lerobot``: a goalframe dataset written as a LeRobot dataset by LeRobot's own writer.

``LeRobotDataset.create`` / ``add_frame`` / ``save_episode`` / ``finalize`` of lerobot 0.6.1
(format v3.0) write the parquet data, the videos with LeRobot's default encoder (AV1, crf 30,
a keyframe every 2 frames), ``meta/info.json``, ``meta/tasks.parquet``, the episode table and
``meta/stats.json`` (LeRobot's normalisation statistics). goalframe adds ``meta/goalframe/``:
which goalframe episode each ``episode_index`` is, the events table and the mask tracks behind
the mask labels, each with ``episode_index``.

lerobot 0.6.1 needs Python >= 3.12 and torch < 2.12, so this runs in its own environment
(``make lerobot-env``: ``.venv-lerobot``). The export is written under a hidden staging folder
beside OUT and renamed to OUT when complete: OUT never holds half an export.
"""

from __future__ import annotations

import json
import shutil
import time
from collections.abc import Callable
from pathlib import Path

import polars as pl

from goalframe import __version__
from goalframe.interop.lerobot_schema import (
    IMAGE_KEY,
    MASK_KEY,
    ExportPlan,
    episode_tracks,
    episode_vectors,
    frame_events,
    frame_tasks,
    mask_labels,
    plan_export,
)
from goalframe.schemas.layout import DatasetError
from goalframe.storage import open_dataset

LEROBOT_VERSION = "0.6.1"
READ_BLOCK = 64  # frames decoded per camera at a time
ROBOT_TYPES = {"agibot": "agibot_g1", "vpt": "minecraft"}


class LeRobotMissing(RuntimeError):
    """lerobot cannot be imported here; ``str()`` is one line saying where it can."""


def lerobot_dataset_class():
    try:
        from lerobot.datasets.lerobot_dataset import LeRobotDataset
    except ImportError as exc:
        raise LeRobotMissing(
            f"lerobot is not importable in this environment ({exc}); LeRobot {LEROBOT_VERSION} needs"
            " Python >= 3.12 and torch < 2.12: run `make lerobot-env` and use"
            " .venv-lerobot/bin/goalframe export lerobot ..."
        ) from None
    return LeRobotDataset


def _write_episode(writer, ds, episode: str, plan: ExportPlan, tables: dict, advance: Callable) -> list:
    n = ds.length(episode)
    vectors = episode_vectors(ds, episode, plan)
    tasks, events = frame_tasks(ds, episode), frame_events(tables["events"], episode, n)
    labelled = {camera: episode_tracks(ds, tables["tracks"], episode, camera) for camera in plan.mask_cameras}
    masks = {camera: mask_labels(ds, episode, ids, n) for camera, ids in labelled.items()}
    for start in range(0, n, READ_BLOCK):
        stop = min(n, start + READ_BLOCK)
        frames = {camera: ds.read_frames(episode, start, stop, camera) for camera in plan.cameras}
        for t in range(start, stop):
            frame = {f"{IMAGE_KEY}{camera}": frames[camera][t - start] for camera in plan.cameras}
            frame.update({key: values[t] for key, values in vectors.items()})
            frame.update({f"{MASK_KEY}{camera}": next(labels) for camera, labels in masks.items()})
            frame.update(event=events[t], task=tasks[t])
            writer.add_frame(frame)
        advance(stop - start)
    writer.save_episode()
    return [(camera, label, track) for camera, ids in labelled.items() for label, track in enumerate(ids, 1)]


def _write_goalframe_meta(root: Path, dataset: str, ds, tables: dict, labels: dict) -> None:
    """meta/goalframe/: episodes.parquet, events.parquet, tracks.parquet and export.json."""
    folder = root / "meta" / "goalframe"
    folder.mkdir(parents=True)
    index = {episode: i for i, episode in enumerate(ds.episodes)}
    episode_index = pl.col("episode_id").replace_strict(index, default=None, return_dtype=pl.Int64)
    pl.DataFrame(
        {
            "episode_index": list(index.values()),
            "episode_id": list(index),
            "length": list(ds.lengths.values()),
        }
    ).write_parquet(folder / "episodes.parquet")
    for name in ("events", "tracks"):
        table = tables[name]
        if "episode_id" in table.columns:
            table = table.with_columns(episode_index.alias("episode_index"))
        if name == "tracks" and table.height:
            table = table.join(_label_table(labels), on=["episode_id", "camera", "track_id"], how="left")
        table.write_parquet(folder / f"{name}.parquet")
    record = {"source": str(dataset), "goalframe_version": __version__, "lerobot_version": LEROBOT_VERSION}
    (folder / "export.json").write_text(json.dumps(record, indent=1))


def _label_table(labels: dict) -> pl.DataFrame:
    rows = [
        (episode, camera, track, label) for episode, found in labels.items() for camera, label, track in found
    ]
    schema = {"episode_id": pl.String, "camera": pl.String, "track_id": pl.String, "mask_label": pl.Int64}
    return pl.DataFrame(rows, schema=schema, orient="row")


def _tables(ds) -> dict[str, pl.DataFrame]:
    return {name: ds.table(name) if name in ds.tables else pl.DataFrame() for name in ("events", "tracks")}


def check_export(dataset: str, out: Path) -> tuple:
    """(dataset, plan) when ``dataset`` can be exported to ``out``; a one-line DatasetError otherwise."""
    if out.exists() and not (out.is_dir() and not any(out.iterdir())):
        raise DatasetError(f"{out}: already exists and is not an empty directory; export into a new one")
    ds = open_dataset(dataset)
    return ds, plan_export(ds)


def export_lerobot(
    dataset: str,
    out: str | Path,
    repo_id: str | None = None,
    progress: Callable[[int], Callable[[int], None]] | None = None,
    image_writer_threads: int = 4,
) -> dict:
    """Write ``dataset`` as a LeRobot dataset at ``out`` (a new directory); returns a summary.

    ``progress(total_frames)`` returns a callable advanced by the frames written.
    """
    out = Path(out)
    ds, plan = check_export(dataset, out)
    LeRobotDataset = lerobot_dataset_class()
    staging = out.parent / f".{out.name}.partial"
    shutil.rmtree(staging, ignore_errors=True)
    out.parent.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    writer = LeRobotDataset.create(
        repo_id or f"local/{Path(dataset.rstrip('/')).name.removesuffix('.zarr')}",
        fps=plan.fps,
        features=plan.features,
        root=staging,
        robot_type=ROBOT_TYPES[plan.source_format],
        use_videos=True,
        image_writer_threads=image_writer_threads,
        video_backend="pyav",  # only for reading back through this object: never done here
    )
    advance = progress(sum(ds.lengths.values())) if progress else (lambda _n: None)
    try:
        tables = _tables(ds)
        labels = {
            episode: _write_episode(writer, ds, episode, plan, tables, advance) for episode in ds.episodes
        }
        writer.finalize()
        _write_goalframe_meta(staging, dataset, ds, tables, labels)
    except BaseException:
        writer.finalize()
        shutil.rmtree(staging, ignore_errors=True)
        raise
    for empty in sorted((staging / "images").glob("*"), reverse=True):  # the writer's emptied PNG folders
        if empty.is_dir() and not any(empty.iterdir()):
            empty.rmdir()
    if (staging / "images").is_dir() and not any((staging / "images").iterdir()):
        (staging / "images").rmdir()
    staging.rename(out)
    return {
        "out": str(out),
        "repo_id": writer.repo_id,
        "episodes": len(ds.episodes),
        "frames": sum(ds.lengths.values()),
        "cameras": plan.cameras,
        "mask_cameras": plan.mask_cameras,
        "features": sorted(plan.features),
        "bytes": sum(p.stat().st_size for p in out.rglob("*") if p.is_file()),
        "seconds": round(time.perf_counter() - started, 2),
    }
