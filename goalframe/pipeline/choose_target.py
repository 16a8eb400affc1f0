"""The choose-target experiment: does a ROCKET-2 policy trained on data built here use its goal?

    python -m goalframe.pipeline.choose_target --out runs/choose --episodes 40 --steps 400

1. data: ``goalframe synth vpt --scenario choose-target`` demonstrations (the scripted player
   mines the goal candidate), built with the chain ``ingest -> events -> masks -> pairs``:
   goalframe's own classical annotator (``--masks classical``, the default) or the
   generator's truth masks (``--masks truth``, kept from the start of the episode's window,
   so that the search before the goal comes into view is in the training windows too);
2. two runs on the same data and training seed: the full policy and the goal-blind one
   (``--ablate goal``: goal image and mask zeroed in training and evaluation);
3. both evaluated on the same held-out closed-loop episodes (seeds ``--eval-seed`` and up,
   worlds the training data never showed) next to the baselines of
   :mod:`goalframe.training.choose_eval`; the rates with 95% Wilson intervals go to stdout and
   ``OUT/choose_target.json``.
"""

from __future__ import annotations

import argparse
import json
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar

from goalframe.annotators.masks import MaskOptions
from goalframe.pipeline.prepare import PreparedData, TruthTracks, _prepare
from goalframe.pipeline.steps import Masks, Pairs, StepContext
from goalframe.training.data import write_truth_tracks


@dataclass
class TruthTracksWithSearch(TruthTracks):
    """Truth mask tracks that keep up to ``lead`` frames before the target comes into view."""

    name: ClassVar[str] = "truth_tracks"
    lead: int = 128

    def run(self, dataset: str, context: StepContext) -> int:
        return write_truth_tracks(dataset, context.raw, self.window, lead=self.lead)


def prepare_choose_target(
    out: Path,
    episodes: int = 40,
    frames: int = 160,
    seed: int = 0,
    scenario: str = "choose-target",
    masks: str = "classical",
    window: int = 128,
) -> PreparedData:
    """Choose-target demonstrations -> ``out/vpt.zarr`` with events, mask tracks and pairs
    (skipped when already prepared with the same arguments)."""
    if masks not in ("classical", "truth"):
        raise ValueError(f"--masks must be classical or truth, got {masks!r}")
    from goalframe.storage import open_dataset

    def summarize(dataset: str, built: dict) -> dict:
        table = open_dataset(dataset).table("pairs")
        pairs = int(table["pair_id"].n_unique()) if table.height else 0
        return {"frames": episodes * frames, "pairs": pairs, "pair_rows": int(table.height)}

    params = {"episodes": episodes, "frames": frames, "seed": seed, "scenario": scenario, "masks": masks}
    synth = {"episodes": episodes, "seed": seed, "frames": frames, "quirk_rate": 0.0, "scenario": scenario}
    tracks = (
        Masks(MaskOptions(annotator="classical", window=window))
        if masks == "classical"
        else TruthTracksWithSearch(window, lead=window)
    )
    steps = ["ingest", "events", tracks, Pairs(seed=seed)]
    return _prepare("vpt", out, params, synth, 1, steps, summarize)


def rates_table(metrics: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per policy: success rate, Wilson 95% interval, outcomes."""
    rows = []
    for name, m in metrics.items():
        rows.append(
            {
                "policy": name,
                "success_rate": m["success_rate"],
                "ci95": m["ci95"],
                "episodes": m["episodes"],
                "outcomes": m.get("outcomes"),
            }
        )
    return rows


def run_experiment(args: argparse.Namespace) -> dict[str, Any]:
    from goalframe.training.evaluate import evaluate_run
    from goalframe.training.trainer import TrainConfig, train

    out = Path(args.out)
    started = time.perf_counter()
    data = prepare_choose_target(
        out / f"data-{args.scenario}-{args.masks}",
        args.episodes,
        args.frames,
        args.seed,
        args.scenario,
        args.masks,
    )
    print(f"{data.dataset}: {data.summary} ({', '.join(f'{k} {v:.0f} s' for k, v in data.seconds.items())})")
    results: dict[str, Any] = {"data": data.summary, "args": {k: str(v) for k, v in vars(args).items()}}
    policies: dict[str, dict[str, Any]] = {}
    for name, ablate in (("full", []), ("goal-blind (trained with --ablate goal)", ["goal"])):
        run = out / f"rocket2-{'blind' if ablate else 'full'}-s{args.train_seed}"
        config = TrainConfig(
            policy="rocket2",
            dataset=data.dataset,
            steps=args.steps,
            seed=args.train_seed,
            size=args.size,
            width=args.width,
            blocks=args.blocks,
            window=args.window,
            ablate=ablate,
            val_every=max(args.steps, 1),
            checkpoint_every=max(args.steps, 1),
            threads=args.threads,
        )
        t0 = time.perf_counter()
        train(config, run)
        train_seconds = time.perf_counter() - t0
        metrics = evaluate_run(
            run,
            episodes=args.eval_episodes,
            seed=args.eval_seed,
            offline=False,
            baseline=not ablate,
            threads=args.threads,
            scenario=args.scenario,
        )
        policies[name] = metrics["closed_loop"]
        if not ablate:
            policies.update(metrics["baselines"])
        print(f"{name}: success {metrics['closed_loop']['success_rate']:.2f} (train {train_seconds:.0f} s)")
    results["rates"] = rates_table(policies)
    results["seconds"] = round(time.perf_counter() - started, 1)
    (out / "choose_target.json").write_text(json.dumps(results, indent=1))
    for row in results["rates"]:
        lo, hi = row["ci95"]
        print(f"{row['policy']:<40} {row['success_rate']:.2f}  [{lo:.2f}, {hi:.2f}]  {row['outcomes']}")
    return results


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m goalframe.pipeline.choose_target", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--scenario", default="choose-target", choices=["choose-target", "choose-target-same"]
    )
    parser.add_argument("--masks", default="classical", choices=["classical", "truth"])
    parser.add_argument("--episodes", type=int, default=40, help="Demonstration episodes.")
    parser.add_argument("--frames", type=int, default=160, help="Frames per demonstration episode.")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the demonstrations.")
    parser.add_argument("--steps", type=int, default=400)
    parser.add_argument("--train-seed", type=int, default=0)
    parser.add_argument("--size", type=int, default=64)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--window", type=int, default=8)
    parser.add_argument("--eval-episodes", type=int, default=60)
    parser.add_argument("--eval-seed", type=int, default=1000)
    parser.add_argument("--threads", type=int, default=1)
    run_experiment(parser.parse_args(argv))


if __name__ == "__main__":
    main()
