"""Sampling: cross-view goal pairs (ROCKET-2), MSTH index tables (Act2Goal), torch datasets.

``CrossViewDataset``, ``MSTHDataset`` and ``split_episodes`` load torch on first use, so the
command line stays quick.
"""

from goalframe.sampling.msth import MSTHSpec, build_msth, check_msth_params, msth_index, msth_offsets
from goalframe.sampling.pairs import GOAL_SOURCES, build_pairs, sample_pairs

_DATASETS = ("CrossViewDataset", "MSTHDataset", "split_episodes")

__all__ = [
    "MSTHSpec",
    "build_msth",
    "check_msth_params",
    "msth_index",
    "msth_offsets",
    "GOAL_SOURCES",
    "build_pairs",
    "sample_pairs",
    *_DATASETS,
]


def __getattr__(name: str):
    if name in _DATASETS:
        from goalframe.sampling import datasets

        return getattr(datasets, name)
    raise AttributeError(f"module 'goalframe.sampling' has no attribute {name!r}")
