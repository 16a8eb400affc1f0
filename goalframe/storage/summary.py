"""What is inside a dataset, as a JSON-able dict (``goalframe info``), from the record.

Counts come from the manifest table and arrays from the feature schema of the root record,
so no episode is opened; datasets written before either (no manifest columns for the
reader's extras, no feature schema) are summarised from the episodes as before, and so is
one episode asked for by name.
"""

from __future__ import annotations

from typing import Any

import polars as pl
import zarr

from goalframe.schemas.features import Feature
from goalframe.storage.dataset import Dataset
from goalframe.storage.layout import EPISODES, FRAMES, episode_path
from goalframe.storage.manifest import manifest_rows

# manifest columns that older manifests lack; without them the episodes are read instead
_RECORD_COLUMNS = ("effector", "actions_copying_state")


def array_summary(array: zarr.Array) -> dict[str, Any]:
    entry: dict[str, Any] = {"shape": list(array.shape), "dtype": str(array.dtype)}
    vocabulary = array.attrs.get("vocabulary")
    if vocabulary is not None:
        entry["vocabulary_size"] = len(vocabulary)
    return entry


def _count(values) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[str(value)] = counts.get(str(value), 0) + 1
    return dict(sorted(counts.items()))


def _manifest(ds: Dataset) -> pl.DataFrame:
    """The manifest with the record columns, rebuilt in memory from the episodes when the
    stored one is missing or older than them."""
    table = ds.table("manifest") if "manifest" in ds.tables else None
    if table is None or not set(_RECORD_COLUMNS) <= set(table.columns):
        metas = [ds.meta(e) for e in ds.episodes]
        return pl.DataFrame(manifest_rows(metas)) if metas else pl.DataFrame()
    return table


def _incomplete(ds: Dataset, complete: int) -> int:
    """Episode groups that are not in the manifest: left by a failed or killed writer."""
    if EPISODES not in ds.root:
        return 0
    return max(0, sum(1 for _ in ds.root[EPISODES].group_keys()) - complete)


def episode_counts(manifest: pl.DataFrame) -> dict[str, Any]:
    rows = manifest.to_dicts()
    copies = {row["episode_id"]: row["actions_copying_state"] for row in rows if row["actions_copying_state"]}
    return {
        "episodes": len(rows),
        "frames": sum(row["n_frames"] for row in rows),
        "hours": round(sum(row["n_frames"] / row["fps"] for row in rows) / 3600, 4),
        "formats": sorted({row["source_format"] for row in rows}),
        "cameras": sorted({c for row in rows for c in row["cameras"]}),
        "frame_codecs": sorted({row["frame_codec"] for row in rows}),
        "actions_equal_state": copies,
        "effectors": _count(row["effector"] for row in rows if row["effector"] is not None),
    }


def arrays_from_features(features: dict[str, Feature], n_frames: int) -> dict[str, dict[str, Any]]:
    """An episode's arrays as the feature schema describes them (None: rows vary by episode)."""
    return {
        path: {"shape": [n_frames if f.per_frame else None, *f.shape], "dtype": f.dtype}
        for path, f in features.items()
    }


def _arrays_of_episode(ds: Dataset, episode: str) -> dict[str, Any]:
    group = ds.root[episode_path(episode)]
    return {
        "arrays": {
            name: array_summary(node)
            for name, node in sorted(group.members(max_depth=None))
            if isinstance(node, zarr.Array)
        },
        "frames_of": {c: list(group[f"{FRAMES}/{c}"].shape) for c in ds.cameras(episode)},
    }


def _arrays(
    ds: Dataset, manifest: pl.DataFrame, features: dict[str, Feature], asked: str | None
) -> dict[str, Any]:
    """The arrays of the episode asked for (read from it), else of the first one (from the record)."""
    episode = asked or (manifest["episode_id"].min() if manifest.height else None)
    if episode is None:
        return {}
    if asked or not features:
        return {"arrays_of": episode} | _arrays_of_episode(ds, episode)
    row = manifest.filter(pl.col("episode_id") == episode).row(0, named=True)
    arrays = arrays_from_features(features, row["n_frames"])
    frames_of = {c: arrays[f"{FRAMES}/{c}"]["shape"] for c in row["cameras"] if f"{FRAMES}/{c}" in arrays}
    return {"arrays_of": episode, "arrays": arrays, "frames_of": frames_of}


def dataset_summary(ds: Dataset, arrays_of: str | None = None) -> dict[str, Any]:
    """Counts, cameras, the feature schema, one episode's arrays, tables and the step record."""
    info = ds.info
    manifest = _manifest(ds)
    counts = episode_counts(manifest)
    summary: dict[str, Any] = {
        "path": ds.path,
        "layout": info.goalframe_layout,
        "created": info.created,
        **counts,
        "incomplete_episodes": _incomplete(ds, counts["episodes"]),
        "features": {path: feature.model_dump() for path, feature in info.features.items()},
        "tables": {name: ds.table(name).height for name in ds.tables},
        "steps": [s.model_dump() for s in info.steps],
    }
    return summary | _arrays(ds, manifest, info.features, arrays_of)
