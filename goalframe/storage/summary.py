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


def _count(values) -> dict[str, int]:
    counts: dict[str, int] = {}
    for value in values:
        counts[str(value)] = counts.get(str(value), 0) + 1
    return dict(sorted(counts.items()))


def actions_equal_state(metas) -> dict[str, list[str]]:
    """Per episode, the action arrays its reader found to be copies of the state (AgiBot Beta)."""
    out: dict[str, list[str]] = {}
    for meta in metas:
        found = meta.source.get("actions_equal_state") if isinstance(meta.source, dict) else None
        copies = sorted(name for name, same in (found or {}).items() if same)
        if copies:
            out[meta.episode_id] = copies
    return out


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
        "actions_equal_state": actions_equal_state(metas),
        "effectors": _count(m.source.get("effector", {}).get("type") for m in metas if isinstance(m.source.get("effector"), dict)),
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
