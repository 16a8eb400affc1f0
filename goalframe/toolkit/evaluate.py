"""``goalframe eval RUN [--episodes N]``: closed-loop success and offline metrics of a training run."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from goalframe.toolkit.common import example, one_line_errors, out_console, print_json, progress_bar

EVAL_SCENARIOS = ("reach", "choose-target", "choose-target-same", "whiteboard")

EPILOG = example(
    "goalframe eval runs/rocket2",
    "goalframe eval runs/act2goal --episodes 10",
    "goalframe eval runs/rocket2 --episodes 50 --seed 2000 --json --overwrite",
    "goalframe eval runs/rocket2 --scenario choose-target --episodes 100 --no-offline",
    "goalframe eval runs/act2goal --scenario whiteboard --episodes 20 --no-offline",
)


def evaluate(
    run: Path = typer.Argument(..., help="A run folder written by goalframe train."),
    episodes: int = typer.Option(
        20, help="Closed-loop episodes (act2goal: per task length 1, 3, 5 objects)."
    ),
    seed: int = typer.Option(1000, help="Seed of the first episode (episodes use seed, seed + 1, ...)."),
    offline: bool = typer.Option(
        True, "--offline/--no-offline", help="Also compute offline metrics on the held-out episodes."
    ),
    baseline: bool = typer.Option(
        True, "--baseline/--no-baseline", help="Also run a random policy on the same seeds."
    ),
    threads: Optional[int] = typer.Option(
        None, help="Torch threads (default 1: the most efficient for these small models)."
    ),
    overwrite: bool = typer.Option(
        False,
        "--overwrite",
        help="Replace an earlier evaluation's metrics.json and plots (without it, eval refuses to).",
    ),
    scenario: str = typer.Option(
        "reach",
        help=(
            "rocket2 world: reach (one target), choose-target (three candidates of different kinds, the goal"
            " one decides success; baselines: random, data marginals, goal zeroed, nearest candidate,"
            " oracle) or choose-target-same (two candidates of one kind); act2goal world: the default"
            " (objects to arrange) or whiteboard (draw 1-2, 3-4, 6-8 strokes; success = ink IoU)."
        ),
    ),
    json_output: bool = typer.Option(False, "--json", help="Print metrics.json."),
) -> None:
    """Evaluate a run in the generated worlds; writes RUN/metrics.json, learning_curve.png and success.png."""
    with one_line_errors():
        if episodes < 1:
            raise ValueError(f"--episodes must be >= 1, got {episodes}")
        if scenario not in EVAL_SCENARIOS:
            raise ValueError(f"--scenario must be one of {', '.join(EVAL_SCENARIOS)}, got {scenario!r}")
        if not run.is_dir():
            raise FileNotFoundError(f"{run}: no such run folder")
        from goalframe.training.evaluate import METRICS, evaluate_run, headline

        if (run / METRICS).exists() and not overwrite:
            raise ValueError(
                f"{run / METRICS}: exists from an earlier evaluation; pass --overwrite to replace it"
            )
        with progress_bar("eval", 1, show=not json_output) as progress:
            phases: dict[
                str, Any
            ] = {}  # one bar per phase (closed loop per policy, offline), added as each starts

            def on_progress(phase: str, done: int, total: int) -> None:
                if phase not in phases:
                    phases[phase] = progress.add_task(phase, total=total)
                progress.update(phases[phase], completed=done)

            metrics = evaluate_run(
                run,
                episodes=episodes,
                seed=seed,
                offline=offline,
                baseline=baseline,
                threads=threads,
                on_progress=on_progress,
                scenario=scenario,
            )
    if json_output:
        print_json(metrics)
    else:
        out_console.print(
            f"{run}: {metrics['policy']} step {metrics['step']}: {headline(metrics)} -> {run}/metrics.json"
        )
