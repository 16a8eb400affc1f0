"""An episode's actions and states as named per-frame series, for plotting them.

Every numeric array under ``actions/`` and ``states/`` with one row per frame is one series
group, its rows flattened to columns; sparse tables (``states/stats/*``), text arrays and the
camera poses are left to the views that show them. Column names come from the dataset's
feature schema (the root record), else the array's own attrs, else their positions.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from goalframe.schemas.features import Feature, names_of

SERIES_ROOTS = ("actions/", "states/")


@dataclass
class Series:
    path: str  # array path inside the episode, e.g. actions/vpt/buttons
    values: np.ndarray  # (T, D) float64
    names: list[str]  # D column names


def _numeric(dtype) -> bool:
    try:
        return np.dtype(dtype).kind in "biuf"
    except TypeError:  # zarr's string dtypes have no numpy equivalent
        return False


def column_names(path: str, row_shape: tuple[int, ...], feature: Feature | None, attrs: dict) -> list[str]:
    """One name per flattened column: the last axis named by the schema or the attrs (leading
    axes prefixed by their index, ``1.x``), a scalar array by its own name."""
    if not row_shape:
        return [path.rsplit("/", 1)[-1]]
    width = row_shape[-1]
    names = feature.names if feature is not None and feature.names and len(feature.names) == width else None
    names = names or names_of(path, tuple(row_shape), attrs) or [str(i) for i in range(width)]
    leading = [".".join(map(str, index)) for index in itertools.product(*map(range, row_shape[:-1]))]
    return [f"{lead}.{name}" if lead else name for lead in leading or [""] for name in names]


def episode_series(ds, episode: str) -> list[Series]:
    """The episode's per-frame numeric action and state arrays, sorted by path."""
    n = ds.length(episode)
    features = ds.info.features
    found = []
    for path in ds.array_names(episode):
        if not path.startswith(SERIES_ROOTS):
            continue
        array = ds.zarr_array(episode, path)
        if not array.shape or array.shape[0] != n or not _numeric(array.dtype):
            continue
        row_shape = tuple(array.shape[1:])
        values = np.asarray(array[...]).reshape(n, -1).astype(np.float64)
        names = column_names(path, row_shape, features.get(path), dict(array.attrs))
        found.append(Series(path, values, names))
    return found
