"""The manifest table: one row per complete episode, rebuilt from the episodes' own attrs."""

from __future__ import annotations

from typing import Any

import polars as pl

from goalframe.schemas.episode import EpisodeMeta
from goalframe.schemas.tables import MANIFEST_SCHEMA, conform
from goalframe.storage.layout import EPISODES
from goalframe.storage.store import open_root, write_table


def complete_episode_metas(root) -> list[EpisodeMeta]:  # noqa: ANN001 - zarr.Group
    if EPISODES not in root:
        return []
    metas = []
    for _name, group in root[EPISODES].groups():
        if group.attrs.get("complete") is True:
            metas.append(EpisodeMeta.model_validate(dict(group.attrs)))
    return sorted(metas, key=lambda m: m.episode_id)


def effector_of(meta: EpisodeMeta) -> str | None:
    effector = meta.source.get("effector") if isinstance(meta.source, dict) else None
    return effector.get("type") if isinstance(effector, dict) else None


def actions_copying_state(meta: EpisodeMeta) -> list[str]:
    """The action arrays the episode's reader found to be copies of the state (AgiBot Beta)."""
    found = meta.source.get("actions_equal_state") if isinstance(meta.source, dict) else None
    return sorted(name for name, same in (found or {}).items() if same)


def manifest_row(meta: EpisodeMeta) -> dict[str, Any]:
    derived = {"effector": effector_of(meta), "actions_copying_state": actions_copying_state(meta)}
    return {
        column: derived[column] if column in derived else getattr(meta, column) for column in MANIFEST_SCHEMA
    }


def manifest_rows(metas: list[EpisodeMeta]) -> list[dict[str, Any]]:
    return [manifest_row(meta) for meta in metas]


def rebuild_manifest(dataset: str, storage_options: dict[str, Any] | None = None) -> pl.DataFrame:
    root = open_root(dataset, mode="r", storage_options=storage_options)
    table = conform(manifest_rows(complete_episode_metas(root)), MANIFEST_SCHEMA)
    write_table(dataset, "manifest", table, storage_options)
    return table
