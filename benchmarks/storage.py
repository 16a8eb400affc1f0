"""Frame storage per codec: bytes per frame, quality, ingest and loader speed (issue 19).

    python benchmarks/storage.py                    # defaults below; JSON to benchmarks/results/storage.json
    python benchmarks/storage.py --vpt-frames 200 --samples 10 --work /tmp/storage   # quicker

Generates VPT and AgiBot recordings, then for each codec configuration (JPEG q90, and h264 /
AV1 at each ``--crf`` and ``--chunk-frames``) ingests them with the real ingest and reports:

- bytes per frame of the frame arrays on disk (shard files), against the raw mp4 bytes;
- PSNR and SSIM (luma, Gaussian 11x11 window) of the stored frames against the raw mp4's
  decoded frames (every ``--quality-stride``-th frame);
- ingest frames/s (the whole ingest, mp4 decode included, ``--workers`` processes);
- loader samples/s, one process, one decoding thread: ``CrossViewDataset`` (VPT, random
  ``--window``-frame windows at 224) and ``MSTHDataset`` (AgiBot, every camera, 9 proximal +
  9 distal frames at 224, clipped at the episode end as in loaders.py), with the share of
  padded (clamped) indices of the timed samples.

Each dataset gets its own tables (events, truth mask tracks, pairs / msth) with the real
functions, as loaders.py builds them.
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
import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
from test_pairs import write_truth_tracks  # noqa: E402  (truth masks -> tracks)

from goalframe.annotators import extract_events  # noqa: E402
from goalframe.media.video import iter_frames  # noqa: E402
from goalframe.sampling import CrossViewDataset, MSTHDataset, MSTHSpec, build_msth, build_pairs  # noqa: E402
from goalframe.sources.registry import get_format  # noqa: E402
from goalframe.storage import ingest, open_dataset  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "storage.json"
MSTH_SPEC = {"horizon": 150, "near": 54, "stride": 6, "distal": 9}  # Act2Goal's 9 + 9 frames


def raw_video(meta, camera: str) -> str:
    if meta.source_format == "vpt":
        return f"{meta.raw_path}.mp4"
    return os.path.join(meta.raw_path, "videos", f"{camera}.mp4")


def ssim(a: np.ndarray, b: np.ndarray) -> float:
    """Wang et al.'s SSIM on BT.601 luma, 11x11 Gaussian window (sigma 1.5)."""
    x = cv2.cvtColor(a, cv2.COLOR_RGB2GRAY).astype(np.float64)
    y = cv2.cvtColor(b, cv2.COLOR_RGB2GRAY).astype(np.float64)
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    blur = lambda image: cv2.GaussianBlur(image, (11, 11), 1.5)  # noqa: E731
    mx, my = blur(x), blur(y)
    vx, vy, cov = blur(x * x) - mx * mx, blur(y * y) - my * my, blur(x * y) - mx * my
    value = ((2 * mx * my + c1) * (2 * cov + c2)) / ((mx * mx + my * my + c1) * (vx + vy + c2))
    return float(value.mean())


def quality(dataset: str, stride: int) -> dict:
    """PSNR (over all sampled pixels) and mean SSIM of stored frames against the raw mp4 frames."""
    ds = open_dataset(dataset)
    squared, pixels, ssims = 0.0, 0, []
    for episode in ds.episodes:
        meta = ds.meta(episode)
        n = ds.length(episode)
        for camera in ds.cameras(episode):
            stored = ds.read_frames(episode, 0, n, camera)
            for index, raw in enumerate(iter_frames(raw_video(meta, camera), limit=n)):
                if index % stride:
                    continue
                difference = stored[index].astype(np.float64) - raw
                squared += float((difference * difference).sum())
                pixels += difference.size
                ssims.append(ssim(stored[index], raw))
    mse = squared / max(pixels, 1)
    return {
        "psnr_db": round(10 * np.log10(255**2 / max(mse, 1e-12)), 2),
        "ssim": round(float(np.mean(ssims)), 4),
    }


def frame_bytes(dataset: str) -> tuple[int, int]:
    """(bytes of every frame array's chunk/shard files, frames stored)."""
    ds = open_dataset(dataset)
    total = frames = 0
    for episode in ds.episodes:
        for camera in ds.cameras(episode):
            folder = Path(dataset) / "episodes" / episode / "frames" / camera / "c"
            total += sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())
            frames += ds.length(episode)
    return total, frames


def raw_bytes(dataset: str) -> int:
    ds = open_dataset(dataset)
    return sum(os.path.getsize(raw_video(ds.meta(e), c)) for e in ds.episodes for c in ds.cameras(e))


def loader_speed(data, samples: int, seed: int, pad_keys: tuple[str, ...]) -> dict:
    rng = np.random.default_rng(seed)
    order = rng.choice(len(data), size=samples, replace=samples > len(data))
    data[int(order[0])]  # open the store: first-use costs
    padded = total = 0
    started = time.perf_counter()
    for index in order:
        sample = data[int(index)]
        for key in pad_keys:
            padded += int(sample[key].sum())
            total += int(sample[key].numel())
    seconds = time.perf_counter() - started
    return {
        "samples": samples,
        "samples_per_s": round(samples / seconds, 2),
        "padded_index_share": round(padded / max(total, 1), 3),
    }


def configurations(args) -> list[dict]:
    configs = [{"codec": "jpeg", "label": "jpeg-q90"}]
    for codec in args.codecs:
        for chunk in args.chunk_frames:
            for crf in args.crf[codec]:
                configs.append(
                    {"codec": codec, "chunk_frames": chunk, "crf": crf, "label": f"{codec}-crf{crf}-k{chunk}"}
                )
    return configs


def run_format(fmt: str, raw: Path, work: Path, args, track_window: int) -> dict:
    source = get_format(fmt)
    refs = source.discover(raw)
    rows, reference = [], None
    for config in configurations(args):
        dataset = str(work / f"{fmt}-{config['label']}.zarr")
        shutil.rmtree(dataset, ignore_errors=True)
        options = {k: config[k] for k in ("chunk_frames", "crf") if k in config}
        started = time.perf_counter()
        report = ingest(
            dataset,
            refs,
            source.read,
            fmt,
            codec=config["codec"],
            workers=args.workers,
            codec_options=options or None,
        )
        seconds = time.perf_counter() - started
        assert not report.failed, report.summary()
        reference = reference or dataset  # the JPEG one: kept for the raw sizes
        extract_events(dataset)
        write_truth_tracks(dataset, raw, fmt, window=track_window)
        if fmt == "vpt":
            build_pairs(dataset, seed=args.seed)
        else:
            build_msth(dataset, MSTHSpec(**MSTH_SPEC), clip="episode")
        stored, frames = frame_bytes(dataset)
        row = {
            **config,
            "bytes_per_frame": round(stored / frames),
            "frames": frames,
            "ingest_frames_per_s": round(report.frames_written / seconds, 1),
            **quality(dataset, args.quality_stride),
        }
        common = {"split": "all", "size": args.size, "threads": 1}
        if fmt == "vpt":
            data = CrossViewDataset(dataset, window=args.window, **common)
            row["loader"] = {
                "dataset": f"CrossViewDataset window {args.window}",
                **loader_speed(data, args.samples, args.seed, ("pad",)),
            }
        else:
            data = MSTHDataset(dataset, **common)
            row["loader"] = {
                "dataset": "MSTHDataset all cameras",
                **loader_speed(data, args.samples, args.seed, ("proximal_pad", "distal_pad")),
            }
        rows.append(row)
        print(
            f"{fmt:7s} {row['label']:18s} {row['bytes_per_frame']:8d} B/frame  PSNR {row['psnr_db']:6.2f} "
            f" SSIM {row['ssim']:.4f}  ingest {row['ingest_frames_per_s']:7.1f} f/s  loader"
            f" {row['loader']['samples_per_s']:6.2f} samples/s",
            flush=True,
        )
        if dataset != reference and not args.keep:
            shutil.rmtree(dataset, ignore_errors=True)
    ds = open_dataset(reference)
    mp4 = raw_bytes(reference)
    frames = rows[0]["frames"]
    return {
        "episodes": len(ds.episodes),
        "cameras": ds.cameras(ds.episodes[0]),
        "frame": f"{ds.meta(ds.episodes[0]).height}x{ds.meta(ds.episodes[0]).width}",
        "frames": frames,
        "raw_mp4_bytes_per_frame": round(mp4 / frames),
        "rows": rows,
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument(
        "--work", type=Path, default=None, help="Working folder (default: a temporary one, removed)."
    )
    parser.add_argument("--vpt-episodes", type=int, default=2)
    parser.add_argument("--vpt-frames", type=int, default=200)
    parser.add_argument("--agibot-episodes", type=int, default=1)
    parser.add_argument("--codecs", nargs="+", default=["h264", "av1"])
    parser.add_argument("--chunk-frames", type=int, nargs="+", default=[8, 32])
    parser.add_argument("--h264-crf", type=int, nargs="+", default=[23])
    parser.add_argument("--av1-crf", type=int, nargs="+", default=[35])
    parser.add_argument("--window", type=int, default=128)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--samples", type=int, default=8, help="Loader samples timed per dataset.")
    parser.add_argument("--quality-stride", type=int, default=4, help="PSNR/SSIM on every n-th frame.")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="Keep every dataset in --work.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    args.crf = {"h264": args.h264_crf, "av1": args.av1_crf}
    work = args.work or Path(tempfile.mkdtemp(prefix="goalframe-storage-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        started = time.perf_counter()
        vpt_raw, agibot_raw = work / "raw-vpt", work / "raw-agibot"
        if not vpt_raw.exists():
            get_format("vpt").synthesize(
                vpt_raw, episodes=args.vpt_episodes, seed=args.seed, frames=args.vpt_frames
            )
        if not agibot_raw.exists():
            get_format("agibot").synthesize(
                agibot_raw,
                episodes=args.agibot_episodes,
                seed=args.seed,
                frames_per_object=90,
                n_objects=3,
                dexhand=False,
            )
        results = {
            "machine": {
                "cpus": os.cpu_count(),
                "python": platform.python_version(),
                "platform": platform.platform(),
                "pyav": av.__version__,
            },
            "vpt": run_format("vpt", vpt_raw, work, args, track_window=args.window + args.window // 2),
            "agibot": run_format("agibot", agibot_raw, work, args, track_window=64),
            "seconds": None,
            "command": "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]]),
        }
        results["seconds"] = round(time.perf_counter() - started, 1)
        print_table(results)
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(json.dumps(results, indent=2) + "\n")
        print(f"-> {args.out} ({results['seconds']} s)")
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


def print_table(results: dict) -> None:
    print(
        f"\n{'data':7s} {'codec':18s} {'B/frame':>8s} {'vs mp4':>7s} {'PSNR':>6s} {'SSIM':>6s}"
        f" {'ingest f/s':>10s} {'loader/s':>8s} {'padded':>6s}"
    )
    for fmt in ("vpt", "agibot"):
        block = results[fmt]
        print(f"{fmt:7s} {'raw mp4':18s} {block['raw_mp4_bytes_per_frame']:8d} {1.0:7.2f}")
        for row in block["rows"]:
            loader = row["loader"]
            print(
                f"{fmt:7s} {row['label']:18s} {row['bytes_per_frame']:8d}"
                f" {row['bytes_per_frame'] / block['raw_mp4_bytes_per_frame']:7.2f} {row['psnr_db']:6.2f}"
                f" {row['ssim']:6.4f} {row['ingest_frames_per_s']:10.1f} {loader['samples_per_s']:8.2f}"
                f" {loader['padded_index_share']:6.3f}"
            )


if __name__ == "__main__":
    main()
