"""A minimal raw format for storage tests: one mp4 plus one .npy of actions per episode.

It exercises storage through the same reader contract as the real formats, without
depending on them, so a storage regression is told apart from a reader regression.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from goalframe.media.video import probe_video, write_mp4
from goalframe.schemas.episode import RawEpisode, RawFormatError, VideoRef


@dataclass(frozen=True)
class SimpleRef:
    episode_id: str
    mp4: Path
    actions: Path


def make_frames(seed: int, n: int, height: int = 72, width: int = 128) -> np.ndarray:
    """Smooth moving shapes (JPEG-friendly, like rendered frames)."""
    rng = np.random.default_rng(seed)
    frames = np.zeros((n, height, width, 3), np.uint8)
    frames[:] = rng.integers(40, 200, size=3, dtype=np.uint8)
    for t in range(n):
        x = (5 + 2 * t) % (width - 20)
        frames[t, 20:40, x : x + 20] = (220, 60, 30)
    return frames


def write_simple_episode(raw: Path, name: str, seed: int, n: int) -> SimpleRef:
    raw.mkdir(parents=True, exist_ok=True)
    mp4, actions = raw / f"{name}.mp4", raw / f"{name}.npy"
    write_mp4(mp4, make_frames(seed, n), fps=20, crf=12)
    np.save(actions, np.random.default_rng(seed).normal(size=(n, 2)).astype(np.float32))
    return SimpleRef(name, mp4, actions)


def ingested_episode(tmp: Path, n: int) -> str:
    """A dataset ``tmp/ds.zarr`` holding one simple episode ``ep0`` of ``n`` frames."""
    from goalframe.storage import ingest

    write_simple_episode(tmp / "raw", "ep0", 0, n)
    out = str(tmp / "ds.zarr")
    ingest(out, discover(tmp / "raw"), read, "simple")
    return out


def discover(raw: Path) -> list[SimpleRef]:
    return [SimpleRef(p.stem, p, p.with_suffix(".npy")) for p in sorted(Path(raw).glob("*.mp4"))]


def read(ref: SimpleRef) -> RawEpisode:
    probe = probe_video(ref.mp4)
    if not ref.actions.exists():
        raise RawFormatError(ref.actions, "actions file is missing")
    actions = np.load(ref.actions)
    if len(actions) != probe.n_frames:
        raise RawFormatError(ref.actions, f"{len(actions)} action rows for {probe.n_frames} frames")
    return RawEpisode(
        episode_id=ref.episode_id,
        source_format="simple",
        raw_path=str(ref.mp4),
        fps=probe.fps,
        n_frames=probe.n_frames,
        videos={"main": VideoRef(ref.mp4, probe.n_frames, probe.height, probe.width)},
        timestamps=np.arange(probe.n_frames, dtype=np.int64) * 50_000_000,
        arrays={"actions/move": actions, "states/label": np.array(["a"] * probe.n_frames, dtype=object)},
        array_attrs={"actions/move": {"unit": "m/s"}},
        attrs={"note": "simple"},
        raw_files=[ref.mp4, ref.actions],
    )
