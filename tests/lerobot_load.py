"""Run by tests/test_lerobot_export.py in .venv-lerobot: load an export with lerobot's own LeRobotDataset.

``python lerobot_load.py SPEC_JSON``, SPEC a list of {root, repo_id, npz, indices}: for each
export, every parquet column (vectors, indices, events) and the decoded images of the frames at
``indices`` (uint8 HWC) go to ``npz``; one JSON line on stdout per export says what LeRobot read
(lengths, fps, features, tasks, stats, backend), after one DataLoader batch as a user would take.
"""

from __future__ import annotations

import json
import sys

import numpy as np
import torch
from lerobot.datasets.lerobot_dataset import LeRobotDataset

VISUAL = ("video", "image")


def main(root: str, repo_id: str, out_npz: str, indices: list[int]) -> None:
    ds = LeRobotDataset(repo_id, root=root, video_backend="pyav")
    features = ds.features
    columns = {}
    for key, feature in features.items():
        if feature["dtype"] not in VISUAL:
            columns[key] = np.asarray(ds.hf_dataset[key])
    items = [ds[i] for i in indices]
    for key, feature in features.items():
        if feature["dtype"] in VISUAL:
            images = torch.stack([item[key] for item in items])  # (N, 3, H, W) float in [0, 1]
            columns[key] = (images * 255).round().to(torch.uint8).permute(0, 2, 3, 1).numpy()
    np.savez(out_npz, **columns)
    batch = next(iter(torch.utils.data.DataLoader(ds, batch_size=4, shuffle=False)))
    tasks = ds.meta.tasks
    report = {
        "len": len(ds),
        "num_episodes": ds.num_episodes,
        "fps": ds.fps,
        "codebase_version": ds.meta.info.codebase_version,
        "video_backend": ds._video_backend,
        "features": {key: {"dtype": f["dtype"], "names": f.get("names")} for key, f in features.items()},
        "tasks": {str(task): int(row) for task, row in zip(tasks.index, tasks["task_index"])},
        "item_tasks": [item["task"] for item in items],
        "stats": {key: sorted(value) for key, value in ds.meta.stats.items()},
        "batch_shapes": {key: list(value.shape) for key, value in batch.items() if hasattr(value, "shape")},
    }
    print(json.dumps(report))


if __name__ == "__main__":
    for spec in json.loads(sys.argv[1]):
        main(spec["root"], spec["repo_id"], spec["npz"], spec["indices"])
