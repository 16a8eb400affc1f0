"""``goalframe train DS.zarr --policy rocket2|act2goal --out RUN``: a small reference policy on a dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from goalframe.toolkit.common import example, one_line_errors, out_console, print_json, progress_bar

EPILOG = example(
    "goalframe train data/vpt.zarr --policy rocket2 --out runs/rocket2",
    "goalframe train data/vpt.zarr --policy rocket2 --out runs/rocket2-bc --ablate visibility,consistency",
    "goalframe train data/agibot.zarr --policy act2goal --out runs/act2goal --steps 3000",
    "goalframe train data/agibot.zarr --policy act2goal --out runs/act2goal-fixed --ablate msth",
)


def train(
    dataset: str = typer.Argument(
        ...,
        help=(
            "Dataset path: VPT with tables/pairs.parquet (rocket2) or AgiBot with tables/msth.parquet"
            " (act2goal)."
        ),
    ),
    policy: str = typer.Option(..., help="rocket2 (cross-view goal masks) or act2goal (goal image, MSTH)."),
    out: Path = typer.Option(
        ..., help="Run folder: config.json, checkpoint.pt, log.jsonl (an existing run resumes)."
    ),
    steps: Optional[int] = typer.Option(
        None, help="Training steps (default 1500: about 5 to 10 minutes on 2 CPU cores)."
    ),
    ablate: Optional[str] = typer.Option(
        None,
        help=(
            "Comma-separated parts to switch off: rocket2 'visibility,consistency' (BC only) or 'goal' (the"
            " goal image and mask zeroed: the goal-blind baseline), act2goal 'msth' (fixed-horizon chunk),"
            " 'log-anchors' (uniformly spaced distal anchors) or 'goal' (goal image zeroed)."
        ),
    ),
    batch_size: Optional[int] = typer.Option(
        None, help="Samples per step (default rocket2 8 windows, act2goal 32)."
    ),
    lr: float = typer.Option(1e-3, help="Peak AdamW learning rate (warmup, then cosine to a tenth)."),
    seed: int = typer.Option(0, help="Seed of the initial weights and of the batch draws."),
    size: int = typer.Option(64, help="Input image size (square)."),
    window: int = typer.Option(8, help="rocket2: frames per training window (the temporal context)."),
    interactions: str = typer.Option(
        "mine,hunt", help="rocket2: interaction types to train on ('all' for every pair)."
    ),
    goal: str = typer.Option(
        "episode_end", help="act2goal: goal frame (episode_end, segment_end, hindsight)."
    ),
    threads: Optional[int] = typer.Option(
        None, help="Torch threads (default 1: the most efficient for these small models)."
    ),
    no_resume: bool = typer.Option(False, "--no-resume", help="Start over even when RUN holds a checkpoint."),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Train a small ROCKET-2 or Act2Goal policy, with progress, checkpoints and resume."""
    with one_line_errors():
        from goalframe.training.trainer import TrainConfig
        from goalframe.training.trainer import train as run_training

        config = TrainConfig(
            policy=policy,
            dataset=dataset,
            steps=steps,
            batch_size=batch_size,
            lr=lr,
            seed=seed,
            size=size,
            window=window,
            ablate=[a.strip() for a in (ablate or "").split(",") if a.strip()],
            interactions=(
                None
                if interactions.strip() == "all"
                else [i.strip() for i in interactions.split(",") if i.strip()]
            ),
            goal=goal,
            threads=threads,
        )
        with progress_bar(f"train {policy}", 1) as progress:
            task = progress.add_task(f"train {policy}", total=None)
            progress.disable = json_output

            def on_step(step: int, total: int, losses: dict) -> None:
                progress.update(
                    task,
                    completed=step,
                    total=total,
                    description=f"train {policy} loss {losses.get('loss', float('nan')):.3f}",
                )

            result = run_training(config, out, resume=not no_resume, on_step=on_step)
    summary = {
        "run": str(out),
        "policy": policy,
        "steps": result.steps,
        "resumed_from": result.resumed_from,
        "train_seconds": round(result.seconds, 1),
        "final_train": result.final,
        "final_val": result.val,
    }
    if json_output:
        print_json(summary)
    else:
        val = f", val loss {result.val['loss']:.3f}" if result.val else ""
        loss = f"train loss {result.final['loss']:.3f}" if result.final else "nothing to do"
        resumed = f" (resumed at step {result.resumed_from})" if result.resumed_from else ""
        out_console.print(
            f"{out}: {policy} {result.steps} steps{resumed} in {result.seconds:.0f} s, {loss}{val} ->"
            f" {out}/checkpoint.pt"
        )
