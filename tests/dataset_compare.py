"""Helpers for the scale-out, S3 and crash tests: run the CLI, compare two datasets whole."""

from __future__ import annotations

import os
import subprocess
import sys
from typing import Any

import numpy as np

from goalframe.storage import open_dataset

# Attributes that differ between two builds of the same raw data by design.
BUILD_ONLY_ATTRS = {"ingested", "writer", "goalframe_version"}
BUILD_ONLY_COLUMNS = {"ingested"}


def goalframe(
    *args: str, env: dict[str, str] | None = None, timeout: float = 300
) -> subprocess.CompletedProcess:
    return subprocess.run(
        [sys.executable, "-m", "goalframe.toolkit.cli", *args],
        capture_output=True,
        text=True,
        timeout=timeout,
        env={**os.environ, **(env or {})},
    )


def check(result: subprocess.CompletedProcess, code: int = 0) -> subprocess.CompletedProcess:
    assert result.returncode == code, (
        f"exit {result.returncode}\nstdout:\n{result.stdout[-3000:]}\nstderr:\n{result.stderr[-3000:]}"
    )
    return result


def episode_attrs(ds, episode: str) -> dict[str, Any]:
    attrs = dict(ds.root[f"episodes/{episode}"].attrs)
    return {k: v for k, v in attrs.items() if k not in BUILD_ONLY_ATTRS}


def assert_same_episode(a, b, episode: str, frames: bool = True) -> None:
    """Every array (values and attrs), every frame and the episode attrs are equal."""
    assert episode_attrs(a, episode) == episode_attrs(b, episode), episode
    names = a.array_names(episode)
    assert names == b.array_names(episode), episode
    for name in names:
        x, y = a.array(episode, name), b.array(episode, name)
        assert x.dtype == y.dtype and x.shape == y.shape, (
            f"{episode} {name}: {x.dtype}{x.shape} != {y.dtype}{y.shape}"
        )
        np.testing.assert_array_equal(x, y, err_msg=f"{episode} {name}")
        assert a.array_attrs(episode, name) == b.array_attrs(episode, name), f"{episode} {name} attrs"
    if frames:
        for camera in a.cameras(episode):
            n = a.length(episode)
            np.testing.assert_array_equal(
                a.read_frames(episode, 0, n, camera),
                b.read_frames(episode, 0, n, camera),
                err_msg=f"{episode} frames/{camera}",
            )


def assert_same_tables(a, b) -> None:
    assert a.tables == b.tables, (a.tables, b.tables)
    for name in a.tables:
        x, y = a.table(name), b.table(name)
        drop = [c for c in x.columns if c in BUILD_ONLY_COLUMNS]
        x, y = x.drop(drop), y.drop(drop)
        assert x.columns == y.columns, name
        assert x.sort(x.columns[0]).equals(y.sort(y.columns[0])), f"table {name} differs"


def assert_same_tracks(a, b) -> None:
    """Every mask track (masks, visibility, geometry, score) is equal."""
    ids = a.track_ids()
    assert ids == b.track_ids()
    for episode, track_id in ids:
        x, y = a.read_track(episode, track_id), b.read_track(episode, track_id)
        for name in ("frame_index", "mask", "visible", "centroid", "bbox", "score"):
            np.testing.assert_array_equal(
                getattr(x, name), getattr(y, name), err_msg=f"{episode}/{track_id} {name}"
            )


def assert_same_dataset(
    path_a: str, path_b: str, options_a: dict | None = None, options_b: dict | None = None
) -> None:
    a, b = open_dataset(path_a, options_a), open_dataset(path_b, options_b)
    assert a.episodes and a.episodes == b.episodes
    for episode in a.episodes:
        assert_same_episode(a, b, episode)
    assert_same_tables(a, b)
    assert_same_tracks(a, b)
