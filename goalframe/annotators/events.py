"""Interaction events for every episode of a dataset: ``tables/events.parquet``.

Extraction is one Dask task per episode (reading a few small arrays); filters run on the
combined Polars table. Event ids are given before filtering, so an event keeps its id
whatever filters a later run uses, and mask tracks can refer to it.
"""

from __future__ import annotations

import re
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from importlib import import_module

import polars as pl

from goalframe.schemas.layout import utc_now
from goalframe.schemas.tables import EVENTS_SCHEMA, INTERACTION_IDS, conform
from goalframe.storage import open_dataset
from goalframe.storage.lease import writes_dataset
from goalframe.storage.parallel import run_tasks
from goalframe.storage.store import new_step, open_root, record_step, write_table


@dataclass
class EventFilters:
    types: list[str] | None = None  # event kinds (mine_block, grasp...) or interactions (hunt, mine...)
    match: str | None = None  # regex searched in the event name, e.g. "minecraft.kill_entity:.*"
    min_gap: int = 0  # events of the same name less than this many frames apart merge into the first
    min_start: int = 0  # drop events earlier than this frame (no full window before them)

    def validate(self) -> None:
        if self.min_gap < 0 or self.min_start < 0:
            raise ValueError("--min-gap and --min-start must be 0 or more")
        if self.match:
            try:
                re.compile(self.match)
            except re.error as exc:
                raise ValueError(f"--match {self.match!r} is not a valid regex: {exc}") from None


@dataclass
class EpisodeEvents:
    episode_id: str
    rows: list[dict]
    warnings: list[str] = field(default_factory=list)


# source format -> the module whose ``extract_episode(ds, episode, **options)`` returns
# (rows, warnings) for one episode; imported on first use (AgiBot's pulls in its geometry)
EXTRACTORS: dict[str, str] = {
    "vpt": "goalframe.annotators.vpt_events",
    "agibot": "goalframe.annotators.agibot_events",
}


def episode_events(
    episode: str, dataset: str, storage_options: dict | None = None, grasp_offset: float | None = None
) -> EpisodeEvents:
    """One task: all events of one episode, with ids and the common columns filled.

    ``grasp_offset`` (AgiBot): metres from the recorded flange pose to the grasp point along
    the flange's z axis (default :attr:`GripperGeometry.grasp_offset`)."""
    ds = open_dataset(dataset, storage_options)
    meta = ds.meta(episode)
    module = EXTRACTORS.get(meta.source_format)
    if module is None:
        return EpisodeEvents(
            episode, [], [f"{episode}: no event extractor for format {meta.source_format!r}"]
        )
    rows, warnings = import_module(module).extract_episode(ds, episode, grasp_offset=grasp_offset)
    rows.sort(key=lambda r: (r["frame"], r["name"], r.get("camera") or ""))
    for index, row in enumerate(rows):
        row.update(event_id=f"{episode}:{index:05d}", episode_id=episode, source_format=meta.source_format)
    return EpisodeEvents(episode, rows, warnings)


def merge_bursts(table: pl.DataFrame, min_gap: int) -> pl.DataFrame:
    """Merge runs of same-name events (same camera) less than ``min_gap`` frames apart.

    Each event closer than ``min_gap`` to the previous one joins its run, so the kept events
    of one name are at least ``min_gap`` frames apart ("min gap"); events exactly ``min_gap``
    apart stay separate.
    """
    if min_gap <= 0 or table.is_empty():
        return table
    keys = ["episode_id", "name", "camera"]
    ordered = table.sort([*keys, "frame"])
    starts = (pl.col("frame").diff().over(keys).fill_null(min_gap) >= min_gap).cum_sum().over(keys)
    grouped = ordered.with_columns(_burst=starts).group_by([*keys, "_burst"], maintain_order=True)
    merged = grouped.agg(
        pl.all().exclude("delta", "merged").first(), pl.col("delta").sum(), pl.col("merged").sum()
    )
    return merged.drop("_burst").select(table.columns).sort(["episode_id", "frame", "event_id"])


def apply_filters(table: pl.DataFrame, filters: EventFilters) -> pl.DataFrame:
    if filters.types:
        wanted = set(filters.types)
        table = table.filter(pl.col("kind").is_in(wanted) | pl.col("interaction").is_in(wanted))
    if filters.match:
        table = table.filter(pl.col("name").str.contains(filters.match))
    if filters.min_start:
        table = table.filter(pl.col("frame") >= filters.min_start)
    return merge_bursts(table, filters.min_gap)


def check_types(types: list[str] | None) -> None:
    from goalframe.annotators.vpt_events import EVENT_TYPES

    known = set(EVENT_TYPES) | set(INTERACTION_IDS) | {"segment", "grasp", "release"}
    unknown = sorted(set(types or []) - known)
    if unknown:
        raise ValueError(f"--types: unknown {', '.join(unknown)}; known: {', '.join(sorted(known))}")


@writes_dataset("events")
def extract_events(
    dataset: str,
    filters: EventFilters | None = None,
    workers: int = 1,
    scheduler: str | None = None,
    storage_options: dict | None = None,
    on_result: Callable[[EpisodeEvents], None] | None = None,
    grasp_offset: float | None = None,
) -> tuple[pl.DataFrame, list[str]]:
    """Extract, filter and write ``tables/events.parquet``; returns the table and warnings.

    ``grasp_offset``: see :func:`episode_events` (AgiBot only)."""
    if grasp_offset is not None and not 0.0 <= grasp_offset <= 0.5:
        raise ValueError(f"--grasp-offset must be between 0 and 0.5 m, got {grasp_offset}")
    filters = filters or EventFilters()
    filters.validate()
    check_types(filters.types)
    started_at, started = utc_now(), time.perf_counter()
    ds = open_dataset(dataset, storage_options)
    results = run_tasks(
        episode_events,
        ds.episodes,
        workers=workers,
        scheduler=scheduler,
        on_result=on_result,
        dataset=dataset,
        storage_options=storage_options,
        grasp_offset=grasp_offset,
    )
    table = conform([row for r in results for row in r.rows], EVENTS_SCHEMA)
    table = apply_filters(table, filters)
    write_table(dataset, "events", table, storage_options)
    warnings = [w for r in results for w in r.warnings]
    summary = {
        "episodes": len(results),
        "events": table.height,
        "warnings": len(warnings),
        "seconds": round(time.perf_counter() - started, 3),
    }
    params = {**asdict(filters), **({"grasp_offset": grasp_offset} if grasp_offset is not None else {})}
    record_step(
        open_root(dataset, "r+", storage_options), new_step("events", params, started_at, utc_now(), summary)
    )
    return table, warnings
