"""Run the papers' ablations from the command line: prepare the demo datasets, then every variant.

    python -m goalframe.pipeline.ablation --out runs/ablation --prepare
    python -m goalframe.pipeline.ablation --out runs/ablation \
        --vpt data/vpt.zarr --agibot data/agibot.zarr --seeds 0 1 2

The variants, their training and the tables are :mod:`goalframe.training.ablation`; this entry
point lives here because preparing the datasets runs the build chain.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from goalframe.pipeline.prepare import prepare_agibot, prepare_vpt
from goalframe.training.ablation import run_ablation


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m goalframe.pipeline.ablation", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--out", type=Path, required=True, help="Folder for the runs and the tables.")
    parser.add_argument(
        "--prepare",
        action="store_true",
        help="Generate the demo datasets into OUT/data first (reused when present).",
    )
    parser.add_argument("--vpt", help="A VPT dataset with pairs (ROCKET-2 variants).")
    parser.add_argument("--agibot", help="An AgiBot dataset with an msth table (Act2Goal variants).")
    parser.add_argument(
        "--policies", nargs="+", default=["rocket2", "act2goal"], choices=["rocket2", "act2goal"]
    )
    parser.add_argument(
        "--steps", type=int, default=None, help="Training steps per variant (default: the policy's)."
    )
    parser.add_argument("--seeds", type=int, nargs="+", default=[0], help="Training seeds per variant.")
    parser.add_argument(
        "--episodes",
        type=int,
        default=20,
        help="Closed-loop episodes per variant (per task length for Act2Goal).",
    )
    parser.add_argument("--eval-seed", type=int, default=1000)
    args = parser.parse_args(argv)
    vpt, agibot = args.vpt, args.agibot
    if args.prepare:
        if "rocket2" in args.policies and not vpt:
            vpt = prepare_vpt(args.out / "data").dataset
        if "act2goal" in args.policies and not agibot:
            agibot = prepare_agibot(args.out / "data").dataset
    if "rocket2" not in args.policies:
        vpt = None
    if "act2goal" not in args.policies:
        agibot = None
    if not vpt and not agibot:
        parser.error("give --vpt and/or --agibot datasets, or --prepare")
    steps = {"rocket2": args.steps, "act2goal": args.steps}
    run_ablation(args.out, vpt, agibot, steps, tuple(args.seeds), args.episodes, args.eval_seed)


if __name__ == "__main__":
    main()
