"""``goalframe view`` cost: seconds and MB of the Rerun recording and the overlay video.

    python benchmarks/view.py                       # a VPT episode of 300 frames, an AgiBot episode

Generates the recordings, builds each dataset (ingest, events, classical masks), then in the
same run, per dataset: reading every frame through the dataset's reader alone (the floor),
the recording as written by ``goalframe view`` (JPEG frames), the same recording with raw
RGB frames (the baseline the JPEG choice is measured against), and the ``--mp4`` overlay
video (importing rerun, once per process, is timed apart). Figures go to
benchmarks/results/view.json.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

from goalframe import pipeline
from goalframe.annotators.masks import MaskOptions
from goalframe.sources.registry import get_format
from goalframe.storage import open_dataset
from goalframe.viewing.overlay_video import write_overlay_video
from goalframe.viewing.rerun_log import import_rerun, write_recording
from goalframe.viewing.selection import select_view


def folder_bytes(path: Path) -> int:
    return sum(p.stat().st_size for p in path.rglob("*") if p.is_file())


def read_all(ds, view) -> float:
    started = time.perf_counter()
    for camera in view.cameras:
        for start in range(0, view.n_frames, 64):
            ds.read_frames(view.episode, start, min(view.n_frames, start + 64), camera)
    return time.perf_counter() - started


def measure(dataset: str, out: Path) -> dict:
    ds = open_dataset(dataset)
    views = select_view(ds)
    view = views[0]
    frames = view.n_frames * len(view.cameras)
    figures = {
        "episode": view.episode,
        "frames": view.n_frames,
        "cameras": view.cameras,
        "tracks": len(view.tracks),
        "events": view.events.height,
        "stored_frames_mb": round(
            folder_bytes(Path(dataset) / "episodes" / view.episode / "frames") / 1e6, 2
        ),
        "read_only_s": round(read_all(ds, view), 3),
    }
    for name, quality in (("rrd", 85), ("rrd_raw_images", None)):
        summary = write_recording(ds, views, out / f"{name}.rrd", jpeg_quality=quality)
        figures[f"{name}_s"], figures[f"{name}_mb"] = summary["seconds"], round(summary["bytes"] / 1e6, 2)
    summary = write_overlay_video(ds, view, out / "overlay.mp4")
    figures["mp4_s"], figures["mp4_mb"] = summary["seconds"], round(summary["bytes"] / 1e6, 2)
    figures["rrd_frames_per_s"] = round(frames / figures["rrd_s"], 1)
    figures["mp4_frames_per_s"] = round(view.n_frames / figures["mp4_s"], 1)
    return figures


def build(work: Path, fmt: str, seed: int, frames: int) -> str:
    options = {"frames": frames} if fmt == "vpt" else {}
    get_format(fmt).synthesize(work / f"raw-{fmt}", episodes=1, seed=seed, **options)
    steps = ["ingest", "events", pipeline.Masks(MaskOptions(window=64))]
    pipeline.build(work / f"raw-{fmt}", str(work / f"{fmt}.zarr"), fmt, steps, workers=1)
    return str(work / f"{fmt}.zarr")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--frames", type=int, default=300, help="VPT ticks of the episode")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / "results" / "view.json")
    args = parser.parse_args()
    started = time.perf_counter()
    import_rerun()  # once per process, like the command; not part of the figures below
    import_seconds = round(time.perf_counter() - started, 3)
    work = Path(tempfile.mkdtemp(prefix="goalframe-bench-view-"))
    try:
        results = {"import_rerun_s": import_seconds}
        for fmt in ("vpt", "agibot"):
            dataset = build(work, fmt, args.seed, args.frames)
            (work / f"out-{fmt}").mkdir()
            results[fmt] = measure(dataset, work / f"out-{fmt}")
            r = results[fmt]
            print(
                f"{fmt}: {r['frames']} frames x {len(r['cameras'])} cameras, {r['tracks']} tracks,"
                f" {r['events']} events; read only {r['read_only_s']} s; .rrd {r['rrd_mb']} MB in"
                f" {r['rrd_s']} s (raw images {r['rrd_raw_images_mb']} MB in {r['rrd_raw_images_s']} s);"
                f" mp4 {r['mp4_mb']} MB in {r['mp4_s']} s; stored frames {r['stored_frames_mb']} MB"
            )
        args.out.parent.mkdir(parents=True, exist_ok=True)
        args.out.write_text(
            json.dumps({"seed": args.seed, "vpt_frames": args.frames, **results}, indent=1) + "\n"
        )
        print(f"-> {args.out}")
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
