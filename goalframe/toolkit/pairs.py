"""``goalframe pairs DS.zarr``: cross-view goal pairs (ROCKET-2) into ``tables/pairs.parquet``."""

from __future__ import annotations

from typing import Optional

import typer

from goalframe.pipeline import default_workers
from goalframe.toolkit.common import (
    STORAGE_OPTION_HELP,
    err_console,
    example,
    one_line_errors,
    out_console,
    parse_storage_options,
    print_json,
    progress_bar,
)

EPILOG = example(
    "goalframe pairs data/vpt.zarr",
    "goalframe pairs data/vpt.zarr --seed 7 --cross-episode",
    "goalframe pairs data/agibot.zarr --cross-episode --cross-camera --json",
)


def pairs(
    dataset: str = typer.Argument(..., help="Dataset path (NAME.zarr or fsspec URL) with mask tracks."),
    seed: int = typer.Option(
        0, help="Seed of the goal-view draws (each pair's draw depends only on it and the pair)."
    ),
    cross_episode: bool = typer.Option(
        False,
        "--cross-episode",
        help="Also pair each track with a goal view from another episode (same interaction and object).",
    ),
    cross_camera: bool = typer.Option(
        False,
        "--cross-camera",
        help="Also pair each track with a goal view of the same event from another camera (AgiBot).",
    ),
    workers: Optional[int] = typer.Option(None, help="Parallel episode workers (reading the masks)."),
    scheduler: Optional[str] = typer.Option(None, help="Address of a dask.distributed scheduler."),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON summary."),
    storage_option: Optional[list[str]] = typer.Option(None, "--storage-option", help=STORAGE_OPTION_HELP),
) -> None:
    """Sample ONE goal view per mask track among its non-empty masks and pair each window frame with it."""
    with one_line_errors():
        from goalframe.sampling.pairs import EpisodeTracks, build_pairs
        from goalframe.storage import open_dataset

        options = parse_storage_options(storage_option)
        n_episodes = len({episode for episode, _track in open_dataset(dataset, options).track_ids()})
        with progress_bar("pairs", n_episodes) as progress:
            task = progress.add_task("pairs", total=n_episodes)
            progress.disable = json_output

            def on_result(result: EpisodeTracks) -> None:
                progress.advance(task)

            table, warnings = build_pairs(
                dataset,
                seed=seed,
                cross_episode=cross_episode,
                cross_camera=cross_camera,
                workers=workers or min(default_workers(), max(n_episodes, 1)),
                scheduler=scheduler,
                storage_options=options,
                on_result=on_result,
            )
    for warning in warnings:
        err_console.print(f"[yellow]warning[/] {warning}", soft_wrap=True)
    per_pair = table.select("pair_id", "goal_source").unique()
    by_source = {
        row["goal_source"]: row["len"]
        for row in per_pair.group_by("goal_source").len().sort("goal_source").iter_rows(named=True)
    }
    if json_output:
        print_json(
            {
                "dataset": dataset,
                "pairs": per_pair.height,
                "rows": table.height,
                "by_source": by_source,
                "warnings": warnings,
            }
        )
    else:
        out_console.print(
            f"{dataset}: {per_pair.height} goal pairs {by_source}, {table.height} paired frames ->"
            " tables/pairs.parquet"
        )
