"""The whiteboard ablation: does an Act2Goal policy trained on data built here use its goal, and
does MSTH help as the task gets longer?

    python -m goalframe.pipeline.whiteboard_ablation --out runs/whiteboard --readme README.md

1. data: ``goalframe synth agibot --scenario whiteboard`` demonstrations (K strokes, K uniform
   in 1-8, ``--stroke-set grid`` by default: K of 8 fixed strokes, the simpler task), built
   with ``ingest -> events -> msth`` (one task segment per stroke; the MSTH table clipped at
   the episode end, so distal anchors reach into the next strokes);
2. four Act2Goal runs on the same data and training seed (:data:`VARIANTS`): MSTH with
   log-spaced distal anchors (the paper's), uniformly spaced anchors (``--ablate
   log-anchors``), a fixed-horizon chunk (``--ablate msth``) and the goal-blind policy
   (``--ablate goal``: goal image zeroed in training and evaluation);
3. all evaluated closed loop on the same held-out episodes per strokes band (1-2, 3-4, 6-8;
   seeds ``--eval-seed`` and up, worlds the demonstrations never showed) next to the baselines
   of :mod:`goalframe.training.whiteboard_eval` (uniform random, data marginals, the scripted
   player of another goal, the oracle); success = ink IoU >= ``--threshold``, with 95% Wilson
   intervals and the mean final IoU.

Writes ``OUT/whiteboard_ablation.json`` and ``OUT/whiteboard_ablation.png``; ``--readme``
rewrites the table between the README's ``whiteboard-ablation`` markers from that JSON
(``--table-from JSON --readme README.md`` does only that, from a finished run's JSON).
"""

from __future__ import annotations

import argparse
import json
import re
import time
from pathlib import Path
from typing import Any

from goalframe.pipeline.prepare import PreparedData, prepare_agibot

#: name -> ``--ablate`` list; the first is the full policy
VARIANTS = {
    "MSTH (log anchors)": [],
    "uniform anchors": ["log-anchors"],
    "fixed horizon": ["msth"],
    "goal-blind": ["goal"],
}
SLUGS = {
    "MSTH (log anchors)": "msth",
    "uniform anchors": "uniform",
    "fixed horizon": "fixed",
    "goal-blind": "blind",
}
MARKERS = ("<!-- whiteboard-ablation:start -->", "<!-- whiteboard-ablation:end -->")


def prepare_whiteboard(
    out: Path,
    episodes: int,
    seed: int,
    frames_per_stroke: int,
    stroke_set: str,
    strokes: tuple[int, int] = (1, 8),
    msth: dict | None = None,
) -> PreparedData:
    """Whiteboard demonstrations of ``strokes`` strokes -> ``out/agibot.zarr`` (reused when alike)."""
    return prepare_agibot(
        out,
        episodes,
        seed=seed,
        scenario="whiteboard",
        strokes=strokes,
        msth=msth,
        frames_per_stroke=frames_per_stroke,
        stroke_set=stroke_set,
    )


def train_variant(args: argparse.Namespace, dataset: str, ablate: list[str], run: Path) -> float:
    """Train one variant into ``run`` (a finished run is reused); seconds spent."""
    from goalframe.training.trainer import TrainConfig, train

    config = TrainConfig(
        policy="act2goal",
        dataset=dataset,
        steps=args.steps,
        batch_size=args.batch_size,
        seed=args.train_seed,
        size=args.size,
        width=args.width,
        blocks=args.blocks,
        goal="episode_end",
        frame_stride=args.frame_stride,
        ablate=ablate,
        val_every=args.steps,
        checkpoint_every=args.steps,
        threads=args.threads,
    )
    began = time.perf_counter()
    train(config, run)
    return time.perf_counter() - began


def evaluate(args: argparse.Namespace, runs: dict[str, Path]) -> dict[str, Any]:
    """Every trained variant and the baselines on the same episodes per band."""
    import torch

    from goalframe.training.evaluate import Act2GoalAgent
    from goalframe.training.trainer import load_policy
    from goalframe.training.whiteboard_eval import baselines, closed_loop_whiteboard

    torch.set_num_threads(args.threads)  # tiny forward passes: more threads only contend
    common = {
        "episodes": args.eval_episodes,
        "seed": args.eval_seed,
        "size": args.size,
        "frames_per_stroke": args.frames_per_stroke,
        "stroke_set": args.stroke_set,
        "threshold": args.threshold,
    }
    policies: dict[str, Any] = {}
    for name, run in runs.items():
        _config, model, stats, _step = load_policy(run)
        policies[name] = closed_loop_whiteboard(lambda _s, m=model, st=stats: Act2GoalAgent(m, st), **common)
        print(f"{name}: {_rates(policies[name])}", flush=True)
    for name, (factory, with_env) in baselines(
        frames_per_stroke=args.frames_per_stroke, stroke_set=args.stroke_set
    ).items():
        policies[name] = closed_loop_whiteboard(factory, with_env=with_env, **common)
        print(f"{name}: {_rates(policies[name])}", flush=True)
    return policies


def _rates(metrics: dict[str, Any]) -> str:
    return ", ".join(f"{band} {v['success_rate']:.2f}" for band, v in metrics["by_band"].items())


def table_markdown(results: dict[str, Any]) -> str:
    """The README table: success [95% interval] and mean IoU per policy and band."""
    bands = results["bands"]
    head = "| policy | " + " | ".join(f"{b} strokes" for b in bands) + " |"
    lines = [head, "|" + "---|" * (len(bands) + 1)]
    for name, m in results["policies"].items():
        cells = []
        for band in bands:
            v = m["by_band"][band]
            lo, hi = v["ci95"]
            cells.append(f"{v['success_rate']:.2f} [{lo:.2f}, {hi:.2f}] IoU {v['mean_iou']:.2f}")
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    a = results["args"]
    lines.append("")
    lines.append(
        f"{a['eval_episodes']} episodes per band (seeds {a['eval_seed']}+), success = ink IoU >="
        f" {a['threshold']}; training: {results['data']['episodes']} demonstrations"
        f" ({results['data']['frames']} frames, stroke set {a['stroke_set']}), {a['steps']} steps,"
        f" {a['size']} px; whole run {results['seconds'] / 60:.0f} min"
        f" (`python -m goalframe.pipeline.whiteboard_ablation`, JSON in `whiteboard_ablation.json`)."
    )
    return "\n".join(lines)


def write_readme(readme: Path, results: dict[str, Any]) -> None:
    """Replace the text between the README's :data:`MARKERS` with :func:`table_markdown`."""
    text = readme.read_text()
    start, end = MARKERS
    pattern = re.compile(re.escape(start) + r".*?" + re.escape(end), re.S)
    if not pattern.search(text):
        raise ValueError(f"{readme}: no {start} ... {end} markers to write the table between")
    readme.write_text(pattern.sub(lambda _m: f"{start}\n{table_markdown(results)}\n{end}", text))


def plot(results: dict[str, Any], path: Path) -> None:
    """Success by band and policy, with the Wilson intervals as error bars."""
    from goalframe.training.evaluate import _pyplot

    plt = _pyplot()
    bands, names = results["bands"], list(results["policies"])
    fig, ax = plt.subplots(figsize=(9, 3.8))
    width = 0.8 / len(names)
    for j, name in enumerate(names):
        xs = [i + (j - (len(names) - 1) / 2) * width for i in range(len(bands))]
        rates = [results["policies"][name]["by_band"][b]["success_rate"] for b in bands]
        ci = [results["policies"][name]["by_band"][b]["ci95"] for b in bands]
        err = [[r - lo for r, (lo, _hi) in zip(rates, ci)], [hi - r for r, (_lo, hi) in zip(rates, ci)]]
        ax.bar(xs, rates, width, yerr=err, capsize=2, label=name)
    ax.set_xticks(range(len(bands)), [f"{b} strokes" for b in bands])
    ax.set_ylim(0, 1)
    ax.set_ylabel(f"success (IoU >= {results['args']['threshold']})")
    ax.set_title("whiteboard: closed-loop success by task length (95% Wilson intervals)")
    ax.legend(fontsize=7, ncol=2)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def run_experiment(args: argparse.Namespace) -> dict[str, Any]:
    out = Path(args.out)
    started = time.perf_counter()
    data = prepare_whiteboard(out / "data", args.episodes, args.seed, args.frames_per_stroke, args.stroke_set)
    print(f"{data.dataset}: {data.summary} ({', '.join(f'{k} {v:.0f} s' for k, v in data.seconds.items())})")
    runs, train_seconds = {}, {}
    for name, ablate in VARIANTS.items():
        runs[name] = out / f"act2goal-{SLUGS[name]}-s{args.train_seed}"
        train_seconds[name] = round(train_variant(args, data.dataset, ablate, runs[name]), 1)
        print(f"trained {name} in {train_seconds[name]:.0f} s", flush=True)
    policies = evaluate(args, runs)
    from goalframe.sim.agibot.whiteboard import band_name
    from goalframe.training.whiteboard_eval import BANDS

    results = {
        "bands": [band_name(tuple(b)) for b in BANDS],
        "data": {**data.summary, "seconds": data.seconds},
        "args": {k: (str(v) if isinstance(v, Path) else v) for k, v in vars(args).items()},
        "train_seconds": train_seconds,
        "policies": policies,
        "seconds": round(time.perf_counter() - started, 1),
    }
    (out / "whiteboard_ablation.json").write_text(json.dumps(results, indent=1))
    plot(results, out / "whiteboard_ablation.png")
    print(table_markdown(results))
    if args.readme:
        write_readme(Path(args.readme), results)
    return results


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="python -m goalframe.pipeline.whiteboard_ablation", description=__doc__.split("\n\n")[0]
    )
    p.add_argument("--out", type=Path, help="Folder for the data, the runs, JSON and PNG.")
    p.add_argument("--readme", type=Path, help="Rewrite this README's whiteboard-ablation table.")
    p.add_argument(
        "--table-from",
        type=Path,
        help="Only rewrite --readme's table (and the PNG beside it) from this JSON.",
    )
    p.add_argument("--episodes", type=int, default=24, help="Demonstration episodes (1 to 8 strokes each).")
    p.add_argument("--seed", type=int, default=0, help="Seed of the demonstrations.")
    p.add_argument("--frames-per-stroke", type=int, default=30)
    p.add_argument("--stroke-set", default="grid", choices=["grid", "free"])
    p.add_argument("--steps", type=int, default=500)
    p.add_argument("--batch-size", type=int, default=32)
    p.add_argument("--train-seed", type=int, default=0)
    p.add_argument("--size", type=int, default=48)
    p.add_argument("--width", type=int, default=64)
    p.add_argument("--blocks", type=int, default=2)
    p.add_argument("--frame-stride", type=int, default=1)
    p.add_argument("--eval-episodes", type=int, default=8, help="Closed-loop episodes per strokes band.")
    p.add_argument("--eval-seed", type=int, default=1000)
    p.add_argument("--threshold", type=float, default=0.5, help="Success: ink IoU at least this.")
    p.add_argument("--threads", type=int, default=1)
    return p


def main(argv: list[str] | None = None) -> None:
    p = parser()
    args = p.parse_args(argv)
    if args.table_from:
        if not args.readme:
            p.error("--table-from needs --readme")
        results = json.loads(args.table_from.read_text())
        plot(results, args.table_from.with_suffix(".png"))
        write_readme(args.readme, results)
        return
    if not args.out:
        p.error("--out is required (or --table-from JSON --readme README.md)")
    run_experiment(args)


if __name__ == "__main__":
    main()
