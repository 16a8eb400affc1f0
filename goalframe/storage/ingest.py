"""The ingest pipeline: raw episodes in parallel into one dataset, resumable, nothing lost.

Format readers are passed in as functions (``read(ref) -> RawEpisode``), so storage knows
no raw format. Each episode is one task that owns its whole group; the driver alone
updates the root record and the manifest table.
"""

from __future__ import annotations

import time
import traceback
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from goalframe.schemas.episode import RawEpisode, RawFormatError, episode_key
from goalframe.schemas.features import Feature, merge_features
from goalframe.schemas.layout import utc_now
from goalframe.storage.layout import DEFAULT_FRAME_CODEC
from goalframe.storage.lease import dataset_lease
from goalframe.storage.manifest import rebuild_manifest
from goalframe.storage.parallel import run_tasks
from goalframe.storage.store import (
    create_or_open,
    new_step,
    open_root,
    record_features,
    record_step,
    remove_orphan_writes,
    store_path,
)
from goalframe.storage.writer import episode_features, episode_state, raw_id_of, write_episode


@dataclass
class EpisodeResult:
    episode_id: str
    status: str  # written | skipped | failed
    n_frames: int = 0
    seconds: float = 0.0
    error: str | None = None
    warnings: list[str] = field(default_factory=list)
    features: dict[str, dict] = field(
        default_factory=dict
    )  # what a written episode stores (schemas/features.py)


@dataclass
class IngestReport:
    dataset: str
    results: list[EpisodeResult]
    seconds: float

    def count(self, status: str) -> int:
        return sum(r.status == status for r in self.results)

    @property
    def failed(self) -> list[EpisodeResult]:
        return [r for r in self.results if r.status == "failed"]

    @property
    def frames_written(self) -> int:
        return sum(r.n_frames for r in self.results if r.status == "written")

    def summary(self) -> dict[str, Any]:
        return {
            "dataset": self.dataset,
            "written": self.count("written"),
            "skipped": self.count("skipped"),
            "failed": self.count("failed"),
            "frames_written": self.frames_written,
            "seconds": round(self.seconds, 2),
            "errors": [r.error for r in self.failed],
        }

    def to_dict(self) -> dict[str, Any]:
        # features go to the dataset's record, not into every report
        return self.summary() | {"episodes": [_without_features(r) for r in self.results]}


def _without_features(result: EpisodeResult) -> dict[str, Any]:
    return {key: value for key, value in asdict(result).items() if key != "features"}


def ingest_episode(
    ref: Any,
    dataset: str,
    read: Callable[[Any], RawEpisode],
    codec: str,
    decode_threads: int,
    storage_options: dict[str, Any] | None,
    codec_options: dict[str, Any] | None = None,
) -> EpisodeResult:
    """One task: skip a complete episode, else read, validate and write it whole."""
    started = time.perf_counter()
    root = open_root(dataset, mode="r+", storage_options=storage_options)
    key = episode_key(ref.episode_id)
    holder = raw_id_of(root, key)
    if holder is not None and holder != ref.episode_id:  # a different raw id already has this key
        return EpisodeResult(
            ref.episode_id,
            "failed",
            error=f"{ref.episode_id}: its store key {key!r} holds episode {holder!r}; rename one of them",
        )
    if episode_state(root, key) == "complete":
        return EpisodeResult(ref.episode_id, "skipped")
    try:
        raw = read(ref)
        meta = write_episode(
            root, raw, codec=codec, decode_threads=decode_threads, codec_options=codec_options
        )
    except RawFormatError as exc:
        return EpisodeResult(ref.episode_id, "failed", error=str(exc), seconds=time.perf_counter() - started)
    except Exception as exc:  # an unexpected bug: still one line, the others go on
        where = traceback.extract_tb(exc.__traceback__)[-1]
        message = f"{ref.episode_id}: {exc.__class__.__name__}: {exc} (at {where.filename}:{where.lineno})"
        return EpisodeResult(ref.episode_id, "failed", error=message, seconds=time.perf_counter() - started)
    return EpisodeResult(
        ref.episode_id,
        "written",
        n_frames=meta.n_frames * len(meta.cameras),
        seconds=time.perf_counter() - started,
        warnings=raw.warnings,
        features={path: feature.model_dump() for path, feature in episode_features(raw, codec).items()},
    )


def ingest(
    dataset: str,
    refs: Sequence[Any],
    read: Callable[[Any], RawEpisode],
    source_format: str,
    codec: str = DEFAULT_FRAME_CODEC,
    workers: int = 1,
    scheduler: str | None = None,
    storage_options: dict[str, Any] | None = None,
    on_result: Callable[[EpisodeResult], None] | None = None,
    params: dict[str, Any] | None = None,
    codec_options: dict[str, Any] | None = None,
) -> IngestReport:
    """Ingest every ref; returns per-episode results. Raises DatasetError for a bad output path.

    ``codec_options``: the video codecs' chunk_frames and crf (see frame_array_options).

    Holds the dataset's writer lease throughout (DatasetInUse when another command has it).
    """
    with dataset_lease(dataset, f"ingest {source_format}", storage_options, create=True):
        return _ingest(
            dataset,
            refs,
            read,
            source_format,
            codec,
            workers,
            scheduler,
            storage_options,
            on_result,
            params,
            codec_options,
        )


def _unique_refs(refs: Sequence[Any]) -> tuple[list[Any], list[EpisodeResult]]:
    """Refs whose store keys are unique; a second ref of one key fails (two tasks would share a group)."""
    seen: set[str] = set()
    unique, duplicates = [], []
    for ref in refs:
        key = episode_key(ref.episode_id)
        if key in seen:
            duplicates.append(
                EpisodeResult(
                    ref.episode_id,
                    "failed",
                    error=(
                        f"{ref.episode_id}: another episode of this ingest has the same id (store key"
                        f" {key!r})"
                    ),
                )
            )
        else:
            seen.add(key)
            unique.append(ref)
    return unique, duplicates


def _written_features(results: list[EpisodeResult]) -> dict[str, Feature]:
    """The union of the written episodes' features (skipped ones are in the record already)."""
    schemas = [
        {path: Feature.model_validate(f) for path, f in r.features.items()}
        for r in results
        if r.status == "written"
    ]
    return merge_features(*schemas)


def _ingest(
    dataset,
    refs,
    read,
    source_format,
    codec,
    workers,
    scheduler,
    storage_options,
    on_result,
    params,
    codec_options,
) -> IngestReport:  # noqa: ANN001
    started_at, started = utc_now(), time.perf_counter()
    root = create_or_open(dataset, storage_options)
    remove_orphan_writes(dataset)
    refs, duplicates = _unique_refs(refs)
    for result in duplicates:
        if on_result:
            on_result(result)
    # A cluster's workers do not share our working directory: send them absolute paths.
    task_dataset = store_path(dataset) if scheduler else dataset
    # Several processes on 2 cores: one decoding thread each; alone: let FFmpeg thread.
    decode_threads = 1 if (workers > 1 or scheduler) else 0
    results = run_tasks(
        ingest_episode,
        list(refs),
        workers=workers,
        scheduler=scheduler,
        on_result=on_result,
        dataset=task_dataset,
        read=read,
        codec=codec,
        decode_threads=decode_threads,
        storage_options=storage_options,
        codec_options=codec_options,
    )
    record_features(root, _written_features(results))
    rebuild_manifest(dataset, storage_options)
    report = IngestReport(
        dataset=dataset, results=results + duplicates, seconds=time.perf_counter() - started
    )
    summary = report.summary()
    summary.pop("errors")
    record_step(
        root,
        new_step(
            f"ingest-{source_format}",
            params or {"codec": codec, "workers": workers, "scheduler": scheduler, **(codec_options or {})},
            started_at,
            utc_now(),
            summary,
        ),
    )
    return report
