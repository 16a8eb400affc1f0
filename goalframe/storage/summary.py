"""What is inside a dataset, as a JSON-able dict (``goalframe info``)."""

from __future__ import annotations

from typing import Any

import zarr

from goalframe.storage.dataset import Dataset
from goalframe.storage.layout import EPISODES, FRAMES, episode_path


def array_summary(array: zarr.Array) -> dict[str, Any]:
    entry: dict[str, Any] = {"shape": list(array.shape), "dtype": str(array.dtype)}
    vocabulary = array.attrs.get("vocabulary")
    if vocabulary is not None:
        entry["vocabulary_size"] = len(vocabulary)
    return entry


def dataset_summary(ds: Dataset, arrays_of: str | None = None) -> dict[str, Any]:
    """Counts, cameras, one episode's arrays, tables and the step record."""
    metas = [ds.meta(e) for e in ds.episodes]
    partial = sum(1 for _n, g in ds.root[EPISODES].groups() if g.attrs.get("complete") is not True) if EPISODES in ds.root else 0
    info = ds.info
    summary: dict[str, Any] = {
        "path": ds.path,
        "layout": info.goalframe_layout,
        "created": info.created,
        "episodes": len(metas),
        "incomplete_episodes": partial,
        "frames": sum(m.n_frames for m in metas),
        "hours": round(sum(m.n_frames / m.fps for m in metas) / 3600, 4),
        "formats": sorted({m.source_format for m in metas}),
        "cameras": sorted({c for m in metas for c in m.cameras}),
        "frame_codecs": sorted({m.frame_codec for m in metas}),
        "tables": {name: ds.table(name).height for name in ds.tables},
        "steps": [s.model_dump() for s in info.steps],
    }
    episode = arrays_of or (metas[0].episode_id if metas else None)
    if episode:
        group = ds.root[episode_path(episode)]
        summary["arrays_of"] = episode
        summary["arrays"] = {
            name: array_summary(node)
            for name, node in sorted(group.members(max_depth=None))
            if isinstance(node, zarr.Array)
        }
        summary["frames_of"] = {c: list(group[f"{FRAMES}/{c}"].shape) for c in ds.cameras(episode)}
    return summary
