"""``goalframe demo``: the whole toolkit on generated recordings, end to end, with a report."""

from __future__ import annotations

import json
import time
from pathlib import Path

import typer

from goalframe.sources.registry import FORMATS
from goalframe.storage import open_dataset
from goalframe.storage.summary import dataset_summary
from goalframe.toolkit.common import example, one_line_errors, out_console, pipeline_progress, progress_bar

EPILOG = example("goalframe demo", "goalframe demo --out /tmp/goalframe-demo --episodes 4 --train-steps 300")

# Small enough for 2 cores in well under 10 minutes, big enough to show every part.
DEMO_SYNTH_OPTIONS = {"vpt": {"frames": 300}, "agibot": {"frames_per_object": 60}}
POLICY_OF = {"vpt": "rocket2", "agibot": "act2goal"}


def _synth(fmt: str, raw: Path, episodes: int, seed: int) -> float:
    started = time.perf_counter()
    with progress_bar(f"synth {fmt}", episodes) as progress:
        task = progress.add_task(f"synth {fmt}", total=episodes)
        FORMATS[fmt].synthesize(
            raw,
            episodes=episodes,
            seed=seed,
            progress=lambda _frames=0: progress.advance(task, 1),
            **DEMO_SYNTH_OPTIONS[fmt],
        )
    return time.perf_counter() - started


def _train_and_evaluate(
    fmt: str, dataset: Path, run: Path, steps: int, eval_episodes: int, seed: int
) -> dict:
    from goalframe.training.evaluate import evaluate_run, headline
    from goalframe.training.trainer import TrainConfig, train

    result = train(TrainConfig(policy=POLICY_OF[fmt], dataset=str(dataset), steps=steps, seed=seed), run)
    metrics = evaluate_run(run, episodes=eval_episodes, seed=1000 + seed)
    return {"train_seconds": round(result.seconds, 1), "headline": headline(metrics), "metrics": metrics}


def demo(
    out: Path = typer.Option(
        Path("demo-out"), help="Folder for raw recordings, datasets, runs and the report."
    ),
    episodes: int = typer.Option(3, help="Episodes per format."),
    seed: int = typer.Option(0, help="Random seed."),
    train_steps: int = typer.Option(150, help="Training steps per policy (0 skips training and evaluation)."),
    eval_episodes: int = typer.Option(4, help="Closed-loop evaluation episodes per policy."),
) -> None:
    """Generate VPT and AgiBot recordings, build both datasets, train and evaluate both policies, report."""
    from goalframe.annotators.masks import MaskOptions
    from goalframe.pipeline import MSTH, Masks, Pairs, build
    from goalframe.viewing.report import write_report

    with one_line_errors():
        started = time.perf_counter()
        lines = ["# goalframe demo", ""]
        for fmt in FORMATS:
            raw, dataset, run = out / "raw" / fmt, out / f"{fmt}.zarr", out / "runs" / POLICY_OF[fmt]
            synth_seconds = _synth(fmt, raw, episodes, seed)
            built = time.perf_counter()
            # MSTH clipped at the episode end: the demo's task segments (one object each) are
            # shorter than the horizon, so segment clipping would leave no distal targets
            summary = build(
                raw,
                str(dataset),
                fmt,
                masks=Masks(MaskOptions(window=64)),
                pairs=Pairs(seed=seed),
                msth=MSTH(clip="episode"),
                progress=pipeline_progress(),
            )
            build_seconds = time.perf_counter() - built
            info = dataset_summary(open_dataset(str(dataset)))
            (out / f"{fmt}-info.json").write_text(json.dumps(info, indent=2, default=str))
            out_console.print(
                f"{fmt}: {info['episodes']} episodes, {info['frames']} frames, cameras {info['cameras']};"
                f" {summary['events']} events, {summary['masks']['tracks']} mask tracks, {summary['pairs']}"
                f" pair rows, {summary['msth']} MSTH rows (synth {synth_seconds:.0f} s, build"
                f" {build_seconds:.0f} s)"
            )
            gallery = write_report(str(dataset), out / f"{fmt}-report")
            out_console.print(f"{fmt} report: {gallery['html']} ({gallery['seconds']:.0f} s)")
            lines += [
                f"## {fmt}",
                f"- raw recordings: `{raw}` (synth {synth_seconds:.1f} s)",
                (
                    f"- dataset `{dataset}`: {info['episodes']} episodes, {info['frames']} frames, cameras"
                    f" {', '.join(info['cameras'])}"
                ),
                (
                    f"- build {build_seconds:.1f} s: ingest {summary['ingest']['written']} written /"
                    f" {summary['ingest']['failed']} failed, {summary['events']} events,"
                    f" {summary['masks']['tracks']} mask tracks, {summary['pairs']} goal-pair rows,"
                    f" {summary['msth']} MSTH rows"
                ),
                (
                    f"- pictures of its events, masks and goal views: [{fmt}-report/report.html]"
                    f"({fmt}-report/report.html) (one file), [{fmt}-report/report.md]({fmt}-report/report.md)"
                ),
            ]
            if train_steps:
                trained = _train_and_evaluate(fmt, dataset, run, train_steps, eval_episodes, seed)
                out_console.print(
                    f"{POLICY_OF[fmt]}: trained {train_steps} steps in {trained['train_seconds']} s;"
                    f" {trained['headline']}"
                )
                lines += [
                    (
                        f"- {POLICY_OF[fmt]}: {train_steps} steps in {trained['train_seconds']} s;"
                        f" {trained['headline']}"
                    ),
                    (
                        f"  ![learning curve](runs/{POLICY_OF[fmt]}/learning_curve.png)"
                        f" ![success](runs/{POLICY_OF[fmt]}/success.png)"
                    ),
                ]
            lines.append("")
        lines.append(f"Total: {time.perf_counter() - started:.0f} s.")
        (out / "report.md").write_text("\n".join(lines))
        out_console.print(f"report: {out / 'report.md'} ({time.perf_counter() - started:.0f} s)")
