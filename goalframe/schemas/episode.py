"""Episode records: what a raw-format reader hands to storage, and what storage keeps."""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field

_KEY_CHARS = re.compile(r"[^A-Za-z0-9._-]")
_KEY_MAX = 160  # characters: far below the 255-byte file name limit, with room for the suffix
# Names that would clash with zarr's own files inside the episodes/ folder.
_RESERVED_KEYS = {"zarr.json", ".zarray", ".zgroup", ".zattrs", ".zmetadata"}


def is_episode_key(episode_id: str) -> bool:
    """Whether ``episode_id`` can be a store key as it is (the rule of :func:`episode_key`)."""
    return (
        bool(episode_id)
        and len(episode_id) <= _KEY_MAX
        and not _KEY_CHARS.search(episode_id)
        and not episode_id.startswith("__")  # zarr reserves names starting with "__"
        and set(episode_id) != {"."}  # ".", ".." and the like: not a node name (or a way up)
        and episode_id.lower() not in _RESERVED_KEYS
    )


def episode_key(episode_id: str) -> str:
    """The store key (group name under ``episodes/``) of a raw episode id; one rule for every format.

    A clean id (``[A-Za-z0-9._-]``, not ``__``-prefixed, not only dots, at most 160
    characters) is its own key, so VPT's already sanitised ids and AgiBot's
    ``<task>_<episode>`` numbers keep their keys. Any other id -- spaces, ``;``, ``~``,
    ``,``, ``:``, ``/``, ``..``, non-ASCII -- has every other character replaced by ``_``
    and gets ``-`` plus 8 hex digits of its sha256, so two ids that clean to the same text
    still get different keys. The raw id is kept in the episode attrs (``raw_episode_id``).
    """
    if is_episode_key(episode_id):
        return episode_id
    cleaned = (
        _KEY_CHARS.sub("_", episode_id)[: _KEY_MAX - 11].strip(".") or "_"
    )  # room for "ep" and the suffix
    if cleaned.startswith("__"):
        cleaned = "ep" + cleaned
    return f"{cleaned}-{hashlib.sha256(episode_id.encode('utf-8', 'surrogateescape')).hexdigest()[:8]}"


class RawFormatError(ValueError):
    """A raw recording that cannot be ingested; ``str()`` is one line naming the file."""

    def __init__(self, path: str | Path, problem: str, line: int | None = None):
        self.path = str(path)
        self.problem = problem
        self.line = line
        where = f"{self.path}:{line}" if line is not None else self.path
        super().__init__(f"{where}: {problem}")


@dataclass(frozen=True)
class VideoRef:
    """One camera's video file and how many of its frames belong to the episode."""

    path: Path
    n_frames: int  # frames to store; a file may hold more (VPT writes its last frame twice)
    height: int
    width: int


@dataclass
class RawEpisode:
    """A validated raw episode, frames still on disk, everything else as arrays.

    ``arrays`` maps slash paths inside the episode group (``actions/mouse/dx``,
    ``states/yaw``...) to numpy arrays. Arrays whose first axis is time have length
    ``n_frames``; sparse tables (such as VPT's stats counters) are stored as parallel 1-D
    arrays and say so in ``array_attrs``.
    """

    episode_id: str
    source_format: str
    raw_path: str
    fps: float
    n_frames: int
    videos: dict[str, VideoRef]
    timestamps: np.ndarray
    arrays: dict[str, np.ndarray] = field(default_factory=dict)
    array_attrs: dict[str, dict[str, Any]] = field(default_factory=dict)
    attrs: dict[str, Any] = field(default_factory=dict)
    raw_files: list[Path] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)


class EpisodeMeta(BaseModel):
    """Attributes of ``episodes/<id>``; ``complete`` is written last, in its own update."""

    episode_id: str = Field(description="the store key, see episode_key()")
    source_format: str
    raw_path: str
    fps: float
    n_frames: int
    cameras: list[str]
    height: int
    width: int
    frame_codec: str
    checksum: str = Field(description="sha256 over the raw files, in sorted name order")
    ingested: str
    goalframe_version: str
    warnings: list[str] = Field(default_factory=list)
    source: dict[str, Any] = Field(default_factory=dict, description="format-specific extras")
    raw_episode_id: str | None = Field(
        default=None, description="the id as the source named it (the key may differ)"
    )
    complete: bool = False
