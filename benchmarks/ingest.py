"""Ingest throughput against the decode-only ceiling, and bytes per frame per codec.

    python benchmarks/ingest.py --format vpt --episodes 4 --frames 600
    python benchmarks/ingest.py --format agibot --episodes 2

Generates recordings, then in the same run: decodes every mp4 without writing (the
ceiling, same workers), ingests with each codec, and prints/writes the figures as JSON.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from goalframe.media.video import iter_frames
from goalframe.sources.registry import get_format
from goalframe.storage import ingest
from goalframe.storage.parallel import run_tasks


def decode_episode(ref, read) -> dict[str, int]:
    """Read and decode like ingest does, write nothing: the ceiling."""
    raw = read(ref)
    return {
        camera: sum(1 for _ in iter_frames(video.path, limit=video.n_frames, threads=1))
        for camera, video in raw.videos.items()
    }


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--format", default="vpt", choices=["vpt", "agibot"])
    parser.add_argument("--episodes", type=int, default=4)
    parser.add_argument("--frames", type=int, default=600, help="VPT ticks per episode")
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--out", type=Path, default=None, help="JSON file (default benchmarks/results/ingest-<format>.json)"
    )
    args = parser.parse_args()
    source = get_format(args.format)
    work = Path(tempfile.mkdtemp(prefix="goalframe-bench-"))
    try:
        options = {"frames": args.frames} if args.format == "vpt" else {}
        source.synthesize(work / "raw", episodes=args.episodes, seed=args.seed, **options)
        refs = source.discover(work / "raw")

        started = time.perf_counter()
        counts = run_tasks(decode_episode, refs, workers=args.workers, read=source.read)
        decode_seconds = time.perf_counter() - started
        per_camera: dict[str, int] = {}
        for count in counts:
            for camera, n in count.items():
                per_camera[camera] = per_camera.get(camera, 0) + n
        frames = sum(per_camera.values())
        results = {
            "format": args.format,
            "episodes": len(refs),
            "workers": args.workers,
            "frames": frames,
            "frames_per_camera": per_camera,
            "decode_only_fps": round(frames / decode_seconds, 1),
            "raw_mp4_bytes_per_frame": round(
                sum(p.stat().st_size for p in (work / "raw").rglob("*.mp4")) / frames, 1
            ),
            "codecs": {},
        }
        for codec in ("av1", "jpeg", "zstd"):  # av1: the default (16-frame chunks, crf 30, gop 4)
            dataset = work / f"{codec}.zarr"
            started = time.perf_counter()
            report = ingest(str(dataset), refs, source.read, args.format, codec=codec, workers=args.workers)
            seconds = time.perf_counter() - started
            assert not report.failed, report.summary()["errors"]
            frame_bytes = sum(folder_bytes(p) for p in dataset.glob("episodes/*/frames"))
            results["codecs"][codec] = {
                "ingest_fps": round(frames / seconds, 1),
                "ratio_to_decode_only": round((frames / seconds) / results["decode_only_fps"], 3),
                "bytes_per_frame": round(frame_bytes / frames),
                "seconds": round(seconds, 2),
            }
        print(f"{args.format}: {frames} frames ({per_camera}), {args.workers} workers")
        print(
            f"  decode only (ceiling): {results['decode_only_fps']:8.1f} frames/s   (raw mp4"
            f" {results['raw_mp4_bytes_per_frame']:.0f} B/frame)"
        )
        for codec, r in results["codecs"].items():
            print(
                f"  ingest {codec:5s}:          {r['ingest_fps']:8.1f} frames/s  "
                f" {r['ratio_to_decode_only']:.0%} of ceiling   {r['bytes_per_frame']} B/frame"
            )
        out = args.out or Path(__file__).parent / "results" / f"ingest-{args.format}.json"
        out.parent.mkdir(parents=True, exist_ok=True)
        out.write_text(json.dumps(results, indent=2))
        print(f"  -> {out}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
