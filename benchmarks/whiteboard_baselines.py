"""The whiteboard scenario's baselines by strokes band: success (ink IoU >= 0.7) with Wilson 95% intervals.

    python benchmarks/whiteboard_baselines.py --episodes 8 --frames-per-stroke 30 --size 32

Writes benchmarks/results/whiteboard_baselines.json and prints one line per baseline and band.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from goalframe.training.whiteboard_eval import evaluate_whiteboard


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--episodes", type=int, default=8, help="episodes per band")
    parser.add_argument("--seed", type=int, default=1000)
    parser.add_argument("--frames-per-stroke", type=int, default=30)
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument(
        "--out", type=Path, default=Path(__file__).parent / "results" / "whiteboard_baselines.json"
    )
    args = parser.parse_args()
    metrics = evaluate_whiteboard(
        None, None, args.episodes, args.seed, args.size, frames_per_stroke=args.frames_per_stroke
    )
    metrics["command"] = vars(args) | {"out": str(args.out)}
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(metrics, indent=1))
    for name, result in metrics["baselines"].items():
        for band, v in result["by_band"].items():
            low, high = v["ci95"]
            print(
                f"{name:28s} {band:4s} success {v['success_rate']:.2f} [{low:.2f}, {high:.2f}]"
                f" mean IoU {v['mean_iou']:.3f} ({v['episodes']} episodes)"
            )


if __name__ == "__main__":
    main()
