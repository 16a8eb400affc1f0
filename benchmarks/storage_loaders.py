"""Loader rounds of ``benchmarks/storage.py``: goalframe's datasets and LeRobot's on the same samples.

Samples are drawn only where every frame index is valid (a window wholly inside its pair's
window, an MSTH anchor whose horizon ends inside the episode), so no figure is inflated by
clamped indices; the padded share of the timed samples is reported with every figure anyway.
LeRobot reads the same frames: a window is its first frame with ``delta_timestamps`` 0 ..
W - 1 on the window's camera; an MSTH sample is frame t with the offsets 0, the proximal and
the distal ones (the hindsight goal t + K is the last distal frame) on every camera.
"""

from __future__ import annotations

import json
import os
import statistics
import subprocess
import sys
from pathlib import Path

import numpy as np
import polars as pl

from goalframe.sampling import CrossViewDataset, MSTHDataset
from goalframe.sampling.msth import msth_offsets

sys.path.insert(0, str(Path(__file__).resolve().parent))
from lerobot_side import time_loader  # noqa: E402  (one timing function for both sides)

ROOT = Path(__file__).resolve().parents[1]
SIDE = Path(__file__).with_name("lerobot_side.py")


class LeRobotSide:
    """benchmarks/lerobot_side.py running in LeRobot's environment; ``ask`` sends one command."""

    def __init__(self, python: Path, log: Path):
        env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
        self.log = log
        self._stderr = open(log, "w")  # noqa: SIM115 - closed in close()
        self.process = subprocess.Popen(
            [str(python), str(SIDE)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=self._stderr,
            text=True,
            env=env,
        )

    def ask(self, **command) -> dict:
        self.process.stdin.write(json.dumps(command) + "\n")
        self.process.stdin.flush()
        line = self.process.stdout.readline()
        if not line:
            raise RuntimeError(f"lerobot_side.py stopped: {self.log.read_text()[-2000:]}")
        reply = json.loads(line)
        if "error" in reply:
            raise RuntimeError(reply["error"])
        return reply

    def close(self) -> None:
        if self.process.poll() is None:
            self.process.stdin.write(json.dumps({"op": "quit"}) + "\n")
            self.process.stdin.close()
            self.process.wait(timeout=60)
        self._stderr.close()


def window_samples(data: CrossViewDataset, camera: str) -> list[tuple[int, str, int]]:
    """(sample, episode, first frame) of the windows of ``camera`` wholly inside their pair's window."""
    found = []
    for index in range(len(data)):
        pair = int(data._item_pair[index])
        first = int(data._item_start[index])
        inside = data._start[pair] <= first and first + data.window <= data._stop[pair]
        if inside and data._name("camera", pair) == camera:
            found.append((index, data._name("episode_id", pair), first))
    return found


def msth_samples(data: MSTHDataset) -> list[tuple[int, str, int]]:
    """(sample, episode, t) of the MSTH samples with no padded frame index."""
    padded = data._proximal_pad.any(1) | data._distal_pad.any(1) | data._goal_pad
    names = data._names
    return [
        (int(i), names[int(data._episode[i])], int(data._frame[i])) for i in np.flatnonzero(~padded).tolist()
    ]


def _draw(candidates: list, rounds: int, per_round: int, seed: int) -> tuple[list[list], bool]:
    """``rounds`` disjoint draws of ``per_round`` candidates (with replacement when too few)."""
    rng = np.random.default_rng(seed)
    needed = rounds * per_round
    replace = needed > len(candidates)
    order = rng.choice(len(candidates), size=needed, replace=replace)
    return [
        [candidates[int(i)] for i in order[r * per_round : (r + 1) * per_round]] for r in range(rounds)
    ], replace


def _goalframe_pads(kind: str):
    keys = ("pad",) if kind == "windows" else ("proximal_pad", "distal_pad", "goal_pad")
    return lambda _sample: keys


class _NoFrameReuse:
    """The reader's cache of decoded video frames off: on a few short episodes, random samples
    would overlap far more than on a real corpus (and LeRobot's reader keeps nothing)."""

    def _local(self):
        state = super()._local()
        state["reader"]._decoded.max_bytes = 0
        return state


class ColdCrossView(_NoFrameReuse, CrossViewDataset):
    pass


class ColdMSTH(_NoFrameReuse, MSTHDataset):
    pass


def goalframe_dataset(kind: str, dataset: str, window: int, size: int):
    if kind == "windows":
        return ColdCrossView(dataset, split="all", window=window, size=size)
    return ColdMSTH(dataset, split="all", size=size)


def lerobot_offsets(kind: str, window: int, spec: dict) -> list[int]:
    if kind == "windows":
        return list(range(window))
    proximal, distal = msth_offsets(spec["horizon"], spec["near"], spec["stride"], spec["distal"])
    return [0, *proximal.tolist(), *distal.tolist()]


def loader_rounds(
    kind: str,
    datasets: dict[str, str],
    lerobot: LeRobotSide | None,
    lerobot_root: Path | None,
    args,
    spec: dict,
    camera: str,
) -> dict:
    """Medians of ``args.rounds`` interleaved rounds per dataset (and LeRobot), per worker count."""
    labels = list(datasets)
    reference = goalframe_dataset(kind, datasets[labels[0]], args.window, args.size)
    find = window_samples if kind == "windows" else msth_samples
    candidates = find(reference, camera) if kind == "windows" else find(reference)
    for label in labels[1:]:  # every codec's tables must give the same samples
        other = goalframe_dataset(kind, datasets[label], args.window, args.size)
        again = find(other, camera) if kind == "windows" else find(other)
        if again != candidates:
            raise RuntimeError(f"{label}: its {kind} samples differ from {labels[0]}'s")
    if not candidates:
        raise RuntimeError(f"no {kind} sample without padded indices: use longer episodes")
    block = {
        "dataset": (
            f"CrossViewDataset window {args.window}, camera {camera}"
            if kind == "windows"
            else f"MSTHDataset every camera, {spec}"
        ),
        "valid_samples": len(candidates),
        "all_samples": len(reference),
    }
    name = None
    if lerobot is not None:
        name = f"{kind}-{camera}"
        opened = lerobot.ask(
            op="open",
            name=name,
            root=str(lerobot_root),
            offsets=lerobot_offsets(kind, args.window, spec),
            size=args.size,
            cameras=[camera] if kind == "windows" else None,
        )
        order = pl.read_parquet(lerobot_root / "meta" / "goalframe" / "episodes.parquet")
        starts = dict(zip(order["episode_id"], (opened["episode_starts"][i] for i in order["episode_index"])))
        labels.append("lerobot")
    block["by_workers"] = {}
    for workers in args.loader_workers:
        warm = max(1, workers) * args.batch
        draws, replaced = _draw(
            candidates, args.rounds, warm + args.batches * args.batch, args.seed + workers
        )
        block["drawn_with_replacement"] = replaced
        runs = {label: [] for label in labels}
        for draw in draws:
            warmup, timed = draw[:warm], draw[warm:]
            for label in labels:
                if label == "lerobot":
                    ask = {
                        "warmup": [starts[e] + f for _i, e, f in warmup],
                        "timed": [starts[e] + f for _i, e, f in timed],
                    }
                    runs[label].append(
                        lerobot.ask(op="time", name=name, batch=args.batch, workers=workers, **ask)
                    )
                else:
                    data = goalframe_dataset(kind, datasets[label], args.window, args.size)
                    runs[label].append(
                        time_loader(
                            data,
                            [i for i, _e, _f in warmup],
                            [i for i, _e, _f in timed],
                            args.batch,
                            workers,
                            _goalframe_pads(kind),
                        )
                    )
        block["by_workers"][str(workers)] = summarise(runs)
    return block


def summarise(runs: dict[str, list[dict]]) -> dict:
    out = {}
    base = statistics.median(r["samples_per_s"] for r in runs["lerobot"]) if "lerobot" in runs else None
    for label, rounds in runs.items():
        median = statistics.median(r["samples_per_s"] for r in rounds)
        out[label] = {
            "samples_per_s": round(median, 2),
            "rounds": [r["samples_per_s"] for r in rounds],
            "samples_per_round": rounds[0]["samples"],
            "padded_index_share": max(r["padded_index_share"] for r in rounds),
        }
        if base:
            out[label]["x_lerobot"] = round(median / base, 2)
    return out
