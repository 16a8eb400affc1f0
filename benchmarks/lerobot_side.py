"""LeRobot's side of ``benchmarks/storage.py``: ``LeRobotDataset`` loaders, run in .venv-lerobot.

lerobot 0.6.1 needs Python >= 3.12 and torch < 2.12, so it does not import in goalframe's
environment; storage.py starts this script there and talks to it over stdin/stdout, one JSON
object per line each way, so the LeRobot rounds interleave with goalframe's in one run:

    {"op": "open", "name": N, "root": DIR, "offsets": [0, 6, ...], "size": 224, "cameras": [...]}
        -> {"len": ..., "fps": ..., "episode_starts": [...], "cameras": [...]}
    {"op": "time", "name": N, "warmup": [...], "timed": [...], "batch": 8, "workers": 2}
        -> time_loader's figures
    {"op": "quit"}

``open`` makes a ``LeRobotDataset`` (PyAV backend: torchcodec has no FFmpeg libraries here)
whose cameras (``cameras``, default every one) are read at the frame offsets given
(``delta_timestamps`` = offsets / fps; LeRobot reads any other camera at the sample's frame),
uint8 frames (``return_uint8``, LeRobot's cheapest output) resized by torchvision's
``Resize((size, size), antialias=True)`` as LeRobot's ``image_transforms``. The timing
function is shared with goalframe's side (storage.py imports it), so both are measured alike.
"""

from __future__ import annotations

import json
import sys
import time

import numpy as np
import torch


class _Indices:
    """A sampler whose indices change between epochs (persistent workers keep their stores open)."""

    def __init__(self, indices: list[int]):
        self.indices = list(indices)

    def __iter__(self):
        return iter(self.indices)

    def __len__(self) -> int:
        return len(self.indices)


def time_loader(data, warmup: list[int], timed: list[int], batch: int, workers: int, pad_keys) -> dict:
    """Samples/s of a DataLoader over ``timed`` (in that order), after an untimed epoch over ``warmup``.

    The warm-up epoch runs in the same (persistent) workers, so opening files and decoders is
    not timed; the timed epoch runs from its first request to its last batch, prefetching
    included. ``pad_keys(batch)`` names the boolean padding tensors of a batch; their share of
    True is the padded (clamped) share of the timed samples' frame indices.
    """
    sampler = _Indices(warmup)
    loader = torch.utils.data.DataLoader(
        data, batch_size=batch, sampler=sampler, num_workers=workers, persistent_workers=workers > 0
    )
    for _batch in loader:
        pass
    sampler.indices = list(timed)
    padded = total = samples = 0
    started = time.perf_counter()
    for sample in loader:
        for key in pad_keys(sample):
            padded += int(sample[key].sum())
            total += int(sample[key].numel())
        samples += len(sample[next(iter(sample))])
    seconds = time.perf_counter() - started
    del loader  # its workers end here
    return {
        "samples": samples,
        "seconds": round(seconds, 3),
        "samples_per_s": round(samples / seconds, 2),
        "padded_index_share": round(padded / max(total, 1), 4),
    }


def _open(command: dict) -> tuple[object, dict]:
    from lerobot.datasets.lerobot_dataset import LeRobotDataset, LeRobotDatasetMetadata
    from torchvision.transforms import v2

    meta = LeRobotDatasetMetadata("local/bench", root=command["root"])
    fps = meta.fps
    cameras = [f"observation.images.{camera}" for camera in command.get("cameras") or []] or meta.camera_keys
    delta = {key: [offset / fps for offset in command["offsets"]] for key in cameras}
    size = int(command["size"])
    data = LeRobotDataset(
        "local/bench",
        root=command["root"],
        delta_timestamps=delta,
        image_transforms=v2.Resize((size, size), antialias=True),
        video_backend="pyav",
        return_uint8=True,
    )
    starts = np.asarray(data.meta.episodes["dataset_from_index"]).astype(int).tolist()
    return data, {"len": len(data), "fps": fps, "episode_starts": starts, "cameras": meta.camera_keys}


def _pad_keys(sample: dict) -> list[str]:
    return [key for key in sample if key.endswith("_is_pad")]


def serve() -> None:
    replies, sys.stdout = sys.stdout, sys.stderr  # anything a library prints stays off the replies
    datasets: dict[str, object] = {}
    for line in sys.stdin:
        command = json.loads(line)
        if command["op"] == "quit":
            break
        if command["op"] == "open":
            datasets[command["name"]], reply = _open(command)
        elif command["op"] == "time":
            reply = time_loader(
                datasets[command["name"]],
                command["warmup"],
                command["timed"],
                command["batch"],
                command["workers"],
                _pad_keys,
            )
        else:
            reply = {"error": f"unknown op {command['op']!r}"}
        print(json.dumps(reply), file=replies, flush=True)


if __name__ == "__main__":
    serve()
