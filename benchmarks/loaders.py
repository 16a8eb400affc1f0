"""Dataloader throughput against decoding the raw mp4s, and resident memory over many samples.

    python benchmarks/loaders.py                      # JSON to benchmarks/results/loaders.json
    python benchmarks/loaders.py --samples 60 --memory-samples 2000 --work /tmp/loaders   # quicker

Builds a VPT and an AgiBot dataset from generated recordings with the real pipeline
(synth, ingest, events, mask tracks from the generator's truth masks, pairs, msth), then in
the same run serves THE SAME samples two ways:

- goalframe: ``CrossViewDataset`` (VPT, 128-frame windows at 224) and ``MSTHDataset``
  (AgiBot, every camera, Act2Goal's 9 proximal + 9 distal frames at 224);
- baseline: the same dataset classes with the frame source swapped for PyAV reading the raw
  mp4 files the way LeRobot's video backend does: per sample and camera, open the file, seek
  to the keyframe before the first wanted timestamp, decode up to the last one, keep the
  wanted frames (RGB), resize them the same way.

Both run in one process, one decoding thread on our side, in alternating rounds (the
machine is shared; alternating cancels drifts in load). Resident memory (VmRSS) is sampled
every 500 samples over ``--memory-samples`` samples of each dataset, after a warm-up.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import sys
import tempfile
import time
from pathlib import Path

import av
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_pairs import (
    write_truth_tracks,
)  # noqa: E402  (truth masks -> tracks; the mask annotators are elsewhere)

from goalframe import pipeline  # noqa: E402
from goalframe.media.images import resize_frame  # noqa: E402
from goalframe.sampling import CrossViewDataset, MSTHDataset, MSTHSpec, build_msth, build_pairs  # noqa: E402
from goalframe.sources.registry import get_format  # noqa: E402
from goalframe.storage import open_dataset  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "loaders.json"


# ---------------------------------------------------------------------------- baseline


def raw_video(meta, camera: str) -> str:
    if meta.source_format == "vpt":
        return f"{meta.raw_path}.mp4"
    return os.path.join(meta.raw_path, "videos", f"{camera}.mp4")


def pyav_frames(path: str, frames: np.ndarray, fps: float, size: int) -> np.ndarray:
    """LeRobot-style: seek to the keyframe before the first wanted frame, decode to the last one."""
    frames = np.asarray(frames, dtype=np.int64)
    wanted = np.unique(frames)
    first, last = int(wanted[0]), int(wanted[-1])
    found: dict[int, np.ndarray] = {}
    with av.open(path) as container:
        stream = container.streams.video[0]
        container.seek(int(first / fps / stream.time_base), stream=stream, backward=True, any_frame=False)
        for frame in container.decode(stream):
            index = int(round(float(frame.pts * stream.time_base) * fps))
            if index in wanted and index not in found:
                found[index] = resize_frame(frame.to_ndarray(format="rgb24"), size)
            if index >= last:
                break
    missing = set(wanted.tolist()) - set(found)
    if missing:
        raise RuntimeError(f"{path}: frames {sorted(missing)[:5]} not decoded")
    return np.stack([found[int(i)] for i in frames])


class _PyAVFrames:
    """Mixin: the dataset's frames come from the raw mp4s instead of the store."""

    def frames(self, episode: str, camera: str, frames: np.ndarray) -> np.ndarray:
        meta = self._local()["ds"].meta(episode)
        return pyav_frames(raw_video(meta, camera), frames, meta.fps, self.size)


class PyAVCrossView(_PyAVFrames, CrossViewDataset):
    pass


class PyAVMSTH(_PyAVFrames, MSTHDataset):
    pass


# ---------------------------------------------------------------------------- measuring


def rss_mb() -> float:
    with open("/proc/self/status") as handle:
        for line in handle:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def timed(data, order: np.ndarray) -> float:
    started = time.perf_counter()
    for index in order:
        data[int(index)]
    return time.perf_counter() - started


def compare(ours, baseline, samples: int, rounds: int, seed: int) -> dict:
    """Samples/s of both on the same random samples, alternating rounds."""
    rng = np.random.default_rng(seed)
    order = rng.choice(len(ours), size=samples, replace=samples > len(ours))
    ours[int(order[0])], baseline[int(order[0])]  # open stores, first-use costs
    times = {"goalframe": 0.0, "baseline": 0.0}
    for chunk in np.array_split(order, rounds):
        times["goalframe"] += timed(ours, chunk)
        times["baseline"] += timed(baseline, chunk)
    a, b = ours[int(order[1])], baseline[int(order[1])]
    image_keys = [
        k for k in a if a[k].dtype.is_floating_point is False and a[k].ndim >= 3 and k != "goal_mask"
    ]
    difference = {k: round(float((a[k].float() - b[k].float()).abs().mean()), 2) for k in image_keys}
    same_labels = all(bool((a[k] == b[k]).all()) for k in a if k not in image_keys)
    return {
        "samples": samples,
        "goalframe_samples_per_s": round(samples / times["goalframe"], 2),
        "baseline_samples_per_s": round(samples / times["baseline"], 2),
        "speedup": round(times["baseline"] / times["goalframe"], 2),
        "mean_abs_pixel_difference": difference,  # JPEG q90 store vs h264 mp4: small, same frames
        "non_image_keys_identical": same_labels,
    }


def memory(data, samples: int, seed: int, every: int = 500) -> dict:
    rng = np.random.default_rng(seed + 1)
    order = rng.integers(0, len(data), size=samples)
    warm = min(every, samples // 10 or 1)
    for index in order[:warm]:
        data[int(index)]
    checkpoints = [(warm, rss_mb())]
    started = time.perf_counter()
    for count, index in enumerate(order[warm:], start=warm + 1):
        data[int(index)]
        if count % every == 0 or count == samples:
            checkpoints.append((count, rss_mb()))
    values = [mb for _n, mb in checkpoints]
    return {
        "samples": samples,
        "rss_mb_after_warmup": round(values[0], 1),
        "rss_mb_end": round(values[-1], 1),
        "rss_mb_min": round(min(values), 1),
        "rss_mb_max": round(max(values), 1),
        "growth_pct": round(100 * (max(values) - values[0]) / values[0], 2),
        "flat_within_10pct": (max(values) - min(values)) / values[0] <= 0.10,
        "samples_per_s": round((samples - warm) / (time.perf_counter() - started), 2),
        "checkpoints": [[n, round(mb, 1)] for n, mb in checkpoints],
    }


def keyframe_interval(path: str) -> float:
    with av.open(path) as container:
        stream = container.streams.video[0]
        keys = [p.pts for p in container.demux(stream) if p.is_keyframe and p.pts is not None]
        total = stream.frames
    return round(total / max(len(keys), 1), 1)


# ---------------------------------------------------------------------------- building


def build(fmt: str, work: Path, episodes: int, seed: int, track_window: int, **options) -> str:
    source = get_format(fmt)
    raw = work / f"raw-{fmt}"
    dataset = str(work / f"{fmt}.zarr")
    if not Path(dataset, "zarr.json").exists():
        source.synthesize(raw, episodes=episodes, seed=seed, **options)
        ingested = pipeline.build(raw, dataset, fmt, ["ingest", "events"], workers=2)["ingest"]
        assert not ingested["failed"], ingested
        write_truth_tracks(dataset, raw, fmt, window=track_window)
    return dataset


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--work", type=Path, default=None, help="Working folder (kept; datasets are reused when present)."
    )
    parser.add_argument("--vpt-episodes", type=int, default=3)
    parser.add_argument("--vpt-frames", type=int, default=600)
    parser.add_argument("--agibot-episodes", type=int, default=3)
    parser.add_argument("--window", type=int, default=128)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--samples", type=int, default=120, help="Samples timed per dataset and loader.")
    parser.add_argument("--rounds", type=int, default=4)
    parser.add_argument("--memory-samples", type=int, default=10_000)
    parser.add_argument(
        "--memory-window",
        type=int,
        default=None,
        help="Window of the CrossView memory run (default --window).",
    )
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="goalframe-loaders-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        vpt = build(
            "vpt",
            work,
            args.vpt_episodes,
            args.seed,
            track_window=args.window + args.window // 2,
            frames=args.vpt_frames,
        )
        agibot = build(
            "agibot",
            work,
            args.agibot_episodes,
            args.seed,
            track_window=64,
            frames_per_object=90,
            n_objects=3,
            dexhand=False,
        )
        build_pairs(vpt, seed=args.seed)
        spec = MSTHSpec(
            horizon=150, near=54, stride=6, distal=9
        )  # Act2Goal's 9 + 9 frames, 54 proximal actions
        build_msth(agibot, spec)
        build_seconds = time.perf_counter() - started
        common = {"split": "all", "size": args.size, "threads": 1}
        cross = CrossViewDataset(vpt, window=args.window, **common)
        cross_base = PyAVCrossView(vpt, window=args.window, **common)
        msth = MSTHDataset(agibot, **common)
        msth_base = PyAVMSTH(agibot, **common)
        ds_v, ds_a = open_dataset(vpt), open_dataset(agibot)
        results = {
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
                "pyav": av.__version__,
            },
            "build_seconds": round(build_seconds, 1),
            "cross_view": {
                "dataset": {
                    "episodes": len(ds_v.episodes),
                    "frames": sum(ds_v.lengths.values()),
                    "pairs": len(cross.pairs),
                    "samples": len(cross),
                    "window": args.window,
                    "size": args.size,
                    "frame": "360x640 JPEG q90",
                    "mp4_frames_per_keyframe": keyframe_interval(
                        raw_video(ds_v.meta(ds_v.episodes[0]), "pov")
                    ),
                },
                **compare(cross, cross_base, args.samples, args.rounds, args.seed),
            },
            "msth": {
                "dataset": {
                    "episodes": len(ds_a.episodes),
                    "frames": sum(ds_a.lengths.values()),
                    "samples": len(msth),
                    "cameras": msth.cameras,
                    "spec": {"horizon": 150, "near": 54, "stride": 6, "distal": 9},
                    "size": args.size,
                    "frame": "480x640 JPEG q90",
                    "mp4_frames_per_keyframe": keyframe_interval(
                        raw_video(ds_a.meta(ds_a.episodes[0]), "head_color")
                    ),
                },
                **compare(msth, msth_base, args.samples, args.rounds, args.seed),
            },
        }
        print(
            json.dumps(
                {
                    k: {kk: vv for kk, vv in v.items() if kk != "dataset"} if isinstance(v, dict) else v
                    for k, v in results.items()
                },
                indent=1,
            ),
            flush=True,
        )
        memory_window = args.memory_window or args.window
        cross_memory = CrossViewDataset(vpt, window=memory_window, **common)
        results["memory"] = {
            "cross_view": {"window": memory_window, **memory(cross_memory, args.memory_samples, args.seed)},
            "msth": memory(MSTHDataset(agibot, **common), args.memory_samples, args.seed),
        }
        results["command"] = "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")
        print(json.dumps(results["memory"], indent=1))
        print(f"-> {args.out}")
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
