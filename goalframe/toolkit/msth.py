"""``goalframe msth DS.zarr --horizon K --near P --stride r --distal M``: ``tables/msth.parquet``."""

from __future__ import annotations

from typing import Optional

import typer

from goalframe.pipeline import default_workers
from goalframe.toolkit.common import (
    STORAGE_OPTION_HELP,
    err_console,
    example,
    fail,
    one_line_errors,
    out_console,
    parse_storage_options,
    print_json,
    progress_bar,
)

EPILOG = example(
    "goalframe msth data/agibot.zarr --horizon 200 --near 54 --stride 6 --distal 9",
    "goalframe msth data/agibot.zarr --horizon 40 --near 10 --stride 5 --distal 4 --clip segment",
    "goalframe msth data/vpt.zarr --horizon 128 --near 16 --stride 4 --distal 6 --json",
)

CLIP_HELP = (
    "Clip indices at the end of the 'episode' (anchors run on toward the episode's goal, as train's default"
    " --goal episode_end) or of the task 'segment' (the episode end where there is none; K must fit in a"
    " segment)."
)


def msth(
    dataset: str = typer.Argument(..., help="Dataset path (NAME.zarr or fsspec URL)."),
    horizon: int = typer.Option(
        ..., "--horizon", "-K", help="Trajectory horizon K in frames: the last distal anchor is t + K."
    ),
    near: int = typer.Option(
        ..., "--near", "-P", help="Near horizon P in frames (proximal frames and actions up to t + P)."
    ),
    stride: int = typer.Option(..., "--stride", "-r", help="Proximal frame stride r (P must be a multiple)."),
    distal: int = typer.Option(
        ..., "--distal", "-M", help="Number M of sparse distal anchors (log-spaced between P and K)."
    ),
    clip: str = typer.Option("episode", help=CLIP_HELP),
    workers: Optional[int] = typer.Option(None, help="Parallel episode workers."),
    scheduler: Optional[str] = typer.Option(None, help="Address of a dask.distributed scheduler."),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON summary."),
    storage_option: Optional[list[str]] = typer.Option(None, "--storage-option", help=STORAGE_OPTION_HELP),
) -> None:
    """Multi-Scale Temporal Hashing index table (Act2Goal): proximal/distal frames, actions, pads, goals."""
    with one_line_errors():
        from goalframe.sampling.msth import CLIP_MODES, EpisodeMSTH, MSTHSpec, build_msth, check_distal_count
        from goalframe.storage import open_dataset

        spec = MSTHSpec(horizon=horizon, near=near, stride=stride, distal=distal)
        check_distal_count(spec)
        if clip not in CLIP_MODES:
            raise ValueError(f"--clip must be one of {', '.join(CLIP_MODES)}, got {clip!r}")
        options = parse_storage_options(storage_option)
        n_episodes = len(open_dataset(dataset, options).episodes)
        if not n_episodes:
            fail(f"{dataset}: no complete episodes, no MSTH indices to build; run `goalframe ingest` first")
        with progress_bar("msth", n_episodes) as progress:
            task = progress.add_task("msth", total=n_episodes)
            progress.disable = json_output

            def on_result(result: EpisodeMSTH) -> None:
                progress.advance(task)

            table, warnings = build_msth(
                dataset,
                spec,
                clip=clip,
                workers=workers or min(default_workers(), max(n_episodes, 1)),
                scheduler=scheduler,
                storage_options=options,
                on_result=on_result,
            )
    for warning in warnings:
        err_console.print(f"[yellow]warning[/] {warning}", soft_wrap=True)
    proximal, distal_offsets = spec.offsets()
    summary = {
        "dataset": dataset,
        "episodes": n_episodes,
        "rows": table.height,
        "proximal_offsets": proximal.tolist(),
        "distal_offsets": distal_offsets.tolist(),
        "clip": clip,
        "warnings": warnings,
    }
    if json_output:
        print_json(summary)
    else:
        out_console.print(
            f"{dataset}: {table.height} frames in {n_episodes} episodes, proximal +{proximal.tolist()}, "
            f"distal +{distal_offsets.tolist()} (clip at {clip} end) -> tables/msth.parquet"
        )
