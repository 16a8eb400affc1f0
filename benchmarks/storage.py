"""Frame storage per codec against LeRobot's own export, in one run (issue 19).

    python benchmarks/storage.py --formats agibot     # block "agibot" of benchmarks/results/storage.json
    python benchmarks/storage.py --formats vpt --vpt-episodes 2 --vpt-frames 400

Generates VPT or AgiBot recordings, ingests them with the real ingest once per codec
configuration (JPEG q90, zstd, and ``--video`` CODEC:K[:CRF[:GOP]] chunks), exports the
lossless (zstd) dataset with ``goalframe export lerobot`` (lerobot 0.6.1's own writer, its
default encoder: AV1 crf 30, a keyframe every 2 frames) in ``--lerobot-python``'s environment,
and reports per configuration and for LeRobot:

- bytes per frame of the frames on disk (shard files; LeRobot: its mp4 files), and the raw mp4's;
- PSNR and SSIM (luma, Gaussian 11x11 window) against the raw mp4's decoded frames (every
  ``--quality-stride``-th frame);
- ingest frames/s (the whole ingest, mp4 decode included; LeRobot: the export from the zstd
  dataset, PNG staging and encoding included);
- loader samples/s (storage_loaders.py): random ``--window``-frame windows (``CrossViewDataset``;
  LeRobot: ``delta_timestamps`` over the same frames) and Act2Goal MSTH samples (``MSTHDataset``,
  every camera, 9 proximal + 9 distal frames, ``--clip episode``), batches of ``--batch`` at
  ``--size``, with each of ``--loader-workers`` DataLoader workers, medians of ``--rounds``
  rounds that interleave every configuration and LeRobot, on samples whose indices are all
  valid; the padded share of the timed indices is reported with each figure.

Results of one format replace that format's block in ``--out`` and keep the other's.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import av
import cv2
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))
from storage_loaders import ROOT, LeRobotSide, loader_rounds  # noqa: E402
from test_pairs import write_truth_tracks  # noqa: E402  (truth masks -> tracks)

from goalframe.annotators import extract_events  # noqa: E402
from goalframe.media.video import iter_frames  # noqa: E402
from goalframe.sampling import MSTHSpec, build_msth, build_pairs  # noqa: E402
from goalframe.sources.registry import get_format  # noqa: E402
from goalframe.storage import ingest, open_dataset  # noqa: E402

RESULTS = Path(__file__).parent / "results" / "storage.json"
MSTH_SPEC = {"horizon": 150, "near": 54, "stride": 6, "distal": 9}  # Act2Goal's 9 + 9 frames
WINDOW_CAMERA = {"vpt": "pov", "agibot": "head_color"}
LEROBOT_PYTHON = Path(os.environ.get("GOALFRAME_LEROBOT_PYTHON") or ROOT / ".venv-lerobot" / "bin" / "python")


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


class Quality:
    """PSNR over all compared pixels and mean SSIM of stored frames against raw ones."""

    def __init__(self):
        self.squared, self.pixels, self.ssims = 0.0, 0, []

    def add(self, stored: np.ndarray, raw: np.ndarray) -> None:
        difference = stored.astype(np.float64) - raw
        self.squared += float((difference * difference).sum())
        self.pixels += difference.size
        self.ssims.append(ssim(stored, raw))

    def result(self) -> dict:
        mse = self.squared / max(self.pixels, 1)
        return {
            "psnr_db": round(10 * np.log10(255**2 / max(mse, 1e-12)), 2),
            "ssim": round(float(np.mean(self.ssims)), 4),
        }


def quality(dataset: str, stride: int) -> dict:
    ds = open_dataset(dataset)
    measure = Quality()
    for episode in ds.episodes:
        n = ds.length(episode)
        for camera in ds.cameras(episode):
            stored = ds.read_frames(episode, 0, n, camera)
            for index, raw in enumerate(iter_frames(raw_video(ds.meta(episode), camera), limit=n)):
                if index % stride == 0:
                    measure.add(stored[index], raw)
    return measure.result()


def lerobot_quality(root: Path, dataset: str, stride: int) -> dict:
    """LeRobot's mp4s (episodes concatenated in export order) against the raw mp4s."""
    ds = open_dataset(dataset)
    measure = Quality()
    for camera in ds.cameras(ds.episodes[0]):
        files = sorted((root / "videos" / f"observation.images.{camera}").rglob("*.mp4"))
        stored = (frame for path in files for frame in iter_frames(path))
        for episode in ds.episodes:  # the export's order (meta/goalframe/episodes.parquet)
            n = ds.length(episode)
            for index, raw in enumerate(iter_frames(raw_video(ds.meta(episode), camera), limit=n)):
                frame = next(stored)
                if index % stride == 0:
                    measure.add(frame, raw)
    return measure.result()


def frame_bytes(dataset: str) -> tuple[int, int]:
    """(bytes of every frame array's shard files, camera frames stored)."""
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


def configurations(video: list[str]) -> list[dict]:
    """jpeg, zstd, then one per CODEC:K[:CRF[:GOP]] (crf and gop: the codec's defaults when left out)."""
    configs = [{"codec": "jpeg", "label": "jpeg-q90"}, {"codec": "zstd", "label": "zstd"}]
    for spec in video:
        codec, chunk, *rest = spec.split(":")
        config = {"codec": codec, "chunk_frames": int(chunk)}
        label = f"{codec}-k{chunk}"
        if rest and rest[0]:
            config["crf"] = int(rest[0])
            label = f"{codec}-crf{rest[0]}-k{chunk}"
        if len(rest) > 1:
            config["gop"] = int(rest[1])
            label += f"-g{rest[1]}"
        configs.append({**config, "label": label})
    return configs


def build_tables(dataset: str, raw: Path, fmt: str, args) -> None:
    extract_events(dataset)
    write_truth_tracks(dataset, raw, fmt, window=args.window + args.window // 2)
    build_pairs(dataset, seed=args.seed)
    build_msth(dataset, MSTHSpec(**MSTH_SPEC), clip="episode")


def export_lerobot(dataset: str, out: Path, python: Path) -> dict:
    env = {**os.environ, "PYTHONPATH": str(ROOT), "HF_HUB_OFFLINE": "1"}
    command = [str(python), "-m", "goalframe.toolkit.cli", "export", "lerobot", dataset, str(out), "--json"]
    result = subprocess.run(command, capture_output=True, text=True, env=env, timeout=1800)
    if result.returncode:
        raise RuntimeError(f"export lerobot failed: {result.stderr[-2000:]}")
    return json.loads(result.stdout)


def lerobot_row(summary: dict, root: Path, dataset: str, args) -> dict:
    cameras = len(summary["cameras"])
    videos = sum(p.stat().st_size for p in (root / "videos").rglob("*.mp4"))
    frames = summary["frames"] * cameras
    return {
        "codec": "lerobot",
        "label": "lerobot-av1-crf30-g2",
        "writer": "lerobot 0.6.1 LeRobotDataset.create/add_frame/save_episode (goalframe export lerobot)",
        "bytes_per_frame": round(videos / frames),
        "frames": frames,
        "ingest_frames_per_s": round(frames / summary["seconds"], 1),
        "ingest_note": "export from the zstd dataset: frames read, staged as PNG, encoded",
        **lerobot_quality(root, dataset, args.quality_stride),
    }


def ingest_row(fmt: str, raw: Path, config: dict, dataset: str, args) -> dict:
    source = get_format(fmt)
    options = {k: config[k] for k in ("chunk_frames", "crf", "gop") if k in config}
    started = time.perf_counter()
    report = ingest(
        dataset,
        source.discover(raw),
        source.read,
        fmt,
        codec=config["codec"],
        workers=args.workers,
        codec_options=options or None,
    )
    seconds = time.perf_counter() - started
    assert not report.failed, report.summary()
    stored, frames = frame_bytes(dataset)
    return {
        **config,
        "bytes_per_frame": round(stored / frames),
        "frames": frames,
        "ingest_frames_per_s": round(report.frames_written / seconds, 1),
        **quality(dataset, args.quality_stride),
    }


def run_format(fmt: str, work: Path, args) -> dict:
    raw = work / f"raw-{fmt}"
    if not raw.exists():
        synthesize(fmt, raw, args)
    rows, datasets = [], {}
    lerobot_root = work / f"{fmt}-lerobot"
    for config in configurations(args.video):
        dataset = str(work / f"{fmt}-{config['label']}.zarr")
        shutil.rmtree(dataset, ignore_errors=True)
        rows.append(ingest_row(fmt, raw, config, dataset, args))
        if config["codec"] == "zstd" and args.lerobot:  # lossless: LeRobot encodes the raw frames
            shutil.rmtree(lerobot_root, ignore_errors=True)
            rows.append(
                lerobot_row(export_lerobot(dataset, lerobot_root, args.lerobot), lerobot_root, dataset, args)
            )
            print_row(fmt, rows[-1])
        build_tables(dataset, raw, fmt, args)
        datasets[config["label"]] = dataset
        print_row(fmt, rows[-1] if config["codec"] != "zstd" or not args.lerobot else rows[-2])
    reference = datasets["jpeg-q90"]
    ds = open_dataset(reference)
    frames = rows[0]["frames"]
    block = {
        "episodes": len(ds.episodes),
        "episode_frames": sorted(ds.lengths.values()),
        "cameras": ds.cameras(ds.episodes[0]),
        "frame": f"{ds.meta(ds.episodes[0]).height}x{ds.meta(ds.episodes[0]).width}",
        "frames": frames,
        "raw_mp4_bytes_per_frame": round(raw_bytes(reference) / frames),
        "rows": rows,
        "loaders": {},
    }
    side = LeRobotSide(args.lerobot, work / f"{fmt}-lerobot-side.log") if args.lerobot else None
    try:
        for kind in args.loaders:
            block["loaders"][kind] = loader_rounds(
                kind, datasets, side, lerobot_root if side else None, args, MSTH_SPEC, WINDOW_CAMERA[fmt]
            )
            print_loaders(fmt, kind, block["loaders"][kind])
    finally:
        if side:
            side.close()
    if not args.keep:
        for dataset in datasets.values():
            shutil.rmtree(dataset, ignore_errors=True)
    return block


def synthesize(fmt: str, raw: Path, args) -> None:
    if fmt == "vpt":
        get_format("vpt").synthesize(raw, episodes=args.vpt_episodes, seed=args.seed, frames=args.vpt_frames)
    else:
        get_format("agibot").synthesize(
            raw,
            episodes=args.agibot_episodes,
            seed=args.seed,
            frames_per_object=90,
            n_objects=3,
            dexhand=False,
        )


def print_row(fmt: str, row: dict) -> None:
    print(
        f"{fmt:7s} {row['label']:22s} {row['bytes_per_frame']:8d} B/frame  PSNR {row['psnr_db']:6.2f}"
        f"  SSIM {row['ssim']:.4f}  ingest {row['ingest_frames_per_s']:7.1f} f/s",
        flush=True,
    )


def print_loaders(fmt: str, kind: str, block: dict) -> None:
    for workers, figures in block["by_workers"].items():
        for label, figure in figures.items():
            print(
                f"{fmt:7s} {kind:8s} workers {workers}  {label:22s} {figure['samples_per_s']:7.2f} samples/s"
                f"  x{figure.get('x_lerobot', float('nan')):5.2f} LeRobot  rounds {figure['rounds']}"
                f"  padded {figure['padded_index_share']:.3f}",
                flush=True,
            )


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--work", type=Path, default=None, help="Working folder (default: a temporary one).")
    parser.add_argument("--formats", nargs="+", default=["agibot", "vpt"], choices=["agibot", "vpt"])
    parser.add_argument("--vpt-episodes", type=int, default=2)
    parser.add_argument("--vpt-frames", type=int, default=400)
    parser.add_argument("--agibot-episodes", type=int, default=4)
    parser.add_argument(
        "--video",
        nargs="*",
        default=["h264:16", "av1:16:30", "av1:16:30:4", "av1:32:30:4"],
        help="Video configurations CODEC:K[:CRF[:GOP]] (K frames per chunk, a keyframe every GOP).",
    )
    parser.add_argument("--loaders", nargs="*", default=["windows", "msth"], choices=["windows", "msth"])
    parser.add_argument("--window", type=int, default=128)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch", type=int, default=8)
    parser.add_argument("--batches", type=int, default=2, help="Timed batches per round.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--loader-workers", type=int, nargs="+", default=[0, 2])
    parser.add_argument("--quality-stride", type=int, default=4, help="PSNR/SSIM on every n-th frame.")
    parser.add_argument("--workers", type=int, default=2, help="Ingest workers.")
    parser.add_argument(
        "--lerobot-python",
        type=Path,
        default=LEROBOT_PYTHON,
        help="Python of LeRobot's environment (default $GOALFRAME_LEROBOT_PYTHON); '' skips LeRobot.",
    )
    parser.add_argument("--keep", action="store_true", help="Keep every dataset in --work.")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", type=Path, default=RESULTS)
    args = parser.parse_args()
    args.lerobot = args.lerobot_python if str(args.lerobot_python) not in ("", ".") else None
    if args.lerobot and not args.lerobot.exists():
        parser.error(f"{args.lerobot}: no LeRobot environment (make lerobot-env, or --lerobot-python '')")
    return args


def main() -> None:
    args = parse_args()
    work = args.work or Path(tempfile.mkdtemp(prefix="goalframe-storage-"))
    work.mkdir(parents=True, exist_ok=True)
    results = json.loads(args.out.read_text()) if args.out.exists() else {}
    try:
        for fmt in args.formats:
            started = time.perf_counter()
            block = run_format(fmt, work, args)
            block["seconds"] = round(time.perf_counter() - started, 1)
            block["command"] = "python " + " ".join([Path(sys.argv[0]).as_posix(), *sys.argv[1:]])
            block["machine"] = {
                "cpus": os.cpu_count(),
                "load_average": [round(x, 1) for x in os.getloadavg()],
                "python": platform.python_version(),
                "platform": platform.platform(),
                "pyav": av.__version__,
            }
            results[fmt] = block
            args.out.parent.mkdir(parents=True, exist_ok=True)
            args.out.write_text(json.dumps(results, indent=2) + "\n")
            print(f"-> {args.out} [{fmt}] ({block['seconds']} s)", flush=True)
    finally:
        if args.work is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
