"""The choose-target experiment: does a ROCKET-2 policy trained on data built here use its goal?

    python -m goalframe.pipeline.choose_target --out runs/choose --seeds 3 --ablation --readme README.md

1. data: ``goalframe synth vpt --scenario choose-target`` demonstrations (the scripted player
   sweeps right to the goal candidate and mines it), built with the chain ``ingest -> events
   -> masks -> pairs``: the generator's truth masks (``--masks truth``, the default, kept from
   the start of the episode's window, so that the search before the goal comes into view is
   in the training windows too) or goalframe's classical annotator (``--masks classical``);
   two goal views per track (its own, and one of the same kind from another episode);
2. per training seed (``--seeds``), runs on the same data: the full policy, the goal-blind one
   (``--ablate goal``: goal image and mask zeroed in training and evaluation) and, with
   ``--ablation``, BC only and BC + visibility; trained on CUDA when present;
3. all evaluated on the same held-out closed-loop episodes (seeds ``--eval-seed`` and up,
   worlds the training data never showed) next to the baselines of
   :mod:`goalframe.training.choose_eval`; seeds pooled with 95% Wilson intervals
   (:mod:`goalframe.training.choose_report`) to stdout, ``OUT/choose_target.json``,
   ``OUT/choose_target.png`` and (``--readme``) the README's generated table.
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
from goalframe.training.choose_eval import MAX_STEPS
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
    steps = ["ingest", "events", tracks, Pairs(seed=seed, cross_episode=True)]  # 2 goal views a track
    return _prepare("vpt", out, params, synth, 1, steps, summarize)


VARIANTS = {  # name -> --ablate; "full" trains every loss on the real goal
    "full": [],
    "goal-blind": ["goal"],
}
ABLATION = {  # ROCKET-2's table: BC only / + visibility / + cross-view consistency (= full)
    "BC only": ["visibility", "consistency"],
    "BC + visibility": ["consistency"],
}
NOT_COMPARED = ("oracle",)  # the upper bound, not a baseline to beat


def _train_config(args: argparse.Namespace, dataset: str, ablate: list[str], seed: int):
    from goalframe.training.trainer import TrainConfig

    return TrainConfig(
        policy="rocket2",
        dataset=dataset,
        steps=args.steps,
        batch_size=args.batch_size,
        seed=seed,
        size=args.size,
        width=args.width,
        blocks=args.blocks,
        window=args.window,
        ablate=ablate,
        interactions=["mine"],
        flip=False,  # the demonstrations sweep right: a mirrored window would sweep left
        val_every=max(args.steps, 1),
        checkpoint_every=max(args.steps, 1),
        threads=args.threads,
        device="auto",  # CUDA when present
    )


def run_experiment(args: argparse.Namespace) -> dict[str, Any]:
    """Data, every variant x training seed, the baselines, the JSON, the plot (and the README)."""
    from goalframe.training.choose_eval import baselines, closed_loop_choose
    from goalframe.training.choose_report import markdown_table, plot_rates, pooled, update_readme, verdict
    from goalframe.training.evaluate import Rocket2Agent
    from goalframe.training.trainer import load_policy, train

    out = Path(args.out)
    clock = {"wall": time.perf_counter(), "cpu": time.process_time()}
    data = prepare_choose_target(
        out / f"data-{args.scenario}-{args.masks}",
        args.episodes,
        args.frames,
        args.seed,
        args.scenario,
        args.masks,
    )
    print(f"{data.dataset}: {data.summary} ({', '.join(f'{k} {v:.0f} s' for k, v in data.seconds.items())})")
    common = {"episodes": args.eval_episodes, "seed": args.eval_seed, "scenario": args.scenario}
    common |= {"size": args.size, "max_steps": args.max_steps}
    variants = dict(VARIANTS) | (ABLATION if args.ablation else {})
    per_seed: dict[str, list[dict[str, Any]]] = {name: [] for name in variants}
    seconds: dict[str, float] = {"data": round(sum(data.seconds.values()), 1)}
    first_full = None
    for seed in range(args.train_seed, args.train_seed + args.seeds):
        for name, ablate in variants.items():
            run = out / f"rocket2-{name.replace(' ', '').replace('+', '-').lower()}-s{seed}"
            t0 = time.perf_counter()
            result = train(_train_config(args, data.dataset, ablate, seed), run)
            _config, model, stats, _step = load_policy(run)
            t1 = time.perf_counter()
            metrics = closed_loop_choose(lambda s: Rocket2Agent(model, sample=True, seed=s), **common)
            metrics.pop("results")
            metrics |= {
                "train_seconds": round(result.seconds, 1),
                "eval_seconds": round(time.perf_counter() - t1, 1),
            }
            per_seed[name].append(metrics)
            seconds[f"train {name} s{seed}"] = round(t1 - t0, 1)
            print(
                f"{name} seed {seed}: {metrics['success_rate']:.2f} {metrics['outcomes']}",
                f"(train {t1 - t0:.0f} s)",
            )
            if name == "full" and first_full is None:
                first_full = (model, stats)
    rows: dict[str, dict[str, Any]] = {name: pooled(runs) for name, runs in per_seed.items()}
    if args.ablation:  # the ablation's last row is the full policy
        rows = {k: rows[k] for k in ("full", "goal-blind", *ABLATION)}
    t0 = time.perf_counter()
    for name, (factory, with_env) in baselines(*first_full).items():
        metrics = closed_loop_choose(factory, with_env=with_env, **common)
        metrics.pop("results")
        rows[name] = metrics
        print(f"{name}: {metrics['success_rate']:.2f} {metrics['outcomes']}")
    seconds["baselines"] = round(time.perf_counter() - t0, 1)
    results: dict[str, Any] = {
        "args": {k: str(v) for k, v in vars(args).items()},
        "data": data.summary,
        "rows": rows,
        "per_seed": per_seed,
        "full_beats": verdict(rows, "full", [n for n in rows if n != "full" and n not in NOT_COMPARED]),
        "seconds": seconds,
        "wall_seconds": round(time.perf_counter() - clock["wall"], 1),
        "cpu_seconds_main_process": round(time.process_time() - clock["cpu"], 1),
        "device": "cuda" if torch_cuda() else "cpu",
    }
    (out / "choose_target.json").write_text(json.dumps(results, indent=1))
    title = f"{args.scenario}: {args.eval_episodes} held-out episodes x {args.seeds} training seed(s)"
    plot_rates(rows, out / "choose_target.png", title)
    print(markdown_table(results))
    if args.readme is not None and not update_readme(Path(args.readme), results):
        print(f"{args.readme}: no choose-target table markers, left unchanged")
    return results


def torch_cuda() -> bool:
    import torch

    return bool(torch.cuda.is_available())


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m goalframe.pipeline.choose_target", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument(
        "--scenario", default="choose-target", choices=["choose-target", "choose-target-same"]
    )
    parser.add_argument("--masks", default="truth", choices=["classical", "truth"])
    parser.add_argument("--episodes", type=int, default=80, help="Demonstration episodes.")
    parser.add_argument("--frames", type=int, default=160, help="Frames per demonstration episode.")
    parser.add_argument("--seed", type=int, default=0, help="Seed of the demonstrations.")
    parser.add_argument("--steps", type=int, default=600)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--train-seed", type=int, default=0, help="First training seed.")
    parser.add_argument("--seeds", type=int, default=1, help="Training seeds per variant.")
    parser.add_argument("--ablation", action="store_true", help="Also BC only and BC + visibility.")
    parser.add_argument("--size", type=int, default=32)
    parser.add_argument("--width", type=int, default=64)
    parser.add_argument("--blocks", type=int, default=2)
    parser.add_argument("--window", type=int, default=8)
    parser.add_argument("--eval-episodes", type=int, default=100)
    parser.add_argument("--eval-seed", type=int, default=1000)
    parser.add_argument("--max-steps", type=int, default=MAX_STEPS)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--readme", type=Path, default=None, help="README whose generated table to update.")
    run_experiment(parser.parse_args(argv))


if __name__ == "__main__":
    main()
