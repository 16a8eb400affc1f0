"""Episode records: what a raw-format reader hands to storage, and what storage keeps."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, Field


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

    episode_id: str
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
    complete: bool = False
