"""``goalframe events DS.zarr``: interaction events into ``tables/events.parquet``."""

from __future__ import annotations

from typing import Optional

import typer

from goalframe.annotators.events import EpisodeEvents, EventFilters, extract_events
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
    "goalframe events data/vpt.zarr",
    "goalframe events data/vpt.zarr --types hunt,mine --min-gap 10",
    "goalframe events data/vpt.zarr --match 'minecraft.kill_entity:.*' --min-start 128",
    "goalframe events data/agibot.zarr --types grasp,release,segment",
)


# options `goalframe build` shares, so the two commands cannot drift apart
TYPES = typer.Option(
    None,
    help=(
        "Comma-separated event kinds (mine_block, grasp, segment...) or interactions (hunt, mine, use, craft,"
        " switch, approach)."
    ),
)
MATCH = typer.Option(None, help="Regex searched in event names, e.g. 'minecraft.kill_entity:.*'.")
MIN_GAP = typer.Option(
    0,
    help=(
        "Merge events of the same name less than this many frames apart (bursts; events exactly N apart stay"
        " separate)."
    ),
)
MIN_START = typer.Option(0, help="Drop events before this frame (no full window before them).")
GRASP_OFFSET = typer.Option(
    None,
    help=(
        "AgiBot: metres from the recorded flange pose (state/end) to the grasp point along the flange z axis"
        " [default: 0.143, Genie-1 by forward kinematics]."
    ),
)


def events(
    dataset: str = typer.Argument(..., help="Dataset path (NAME.zarr or fsspec URL)."),
    types: Optional[str] = TYPES,
    match: Optional[str] = MATCH,
    min_gap: int = MIN_GAP,
    min_start: int = MIN_START,
    grasp_offset: Optional[float] = GRASP_OFFSET,
    workers: Optional[int] = typer.Option(None, help="Parallel episode workers."),
    scheduler: Optional[str] = typer.Option(None, help="Address of a dask.distributed scheduler."),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON summary."),
    storage_option: Optional[list[str]] = typer.Option(None, "--storage-option", help=STORAGE_OPTION_HELP),
) -> None:
    """Extract interaction events (VPT stat increases; AgiBot segments, grasps, releases) with prompts."""
    filters = EventFilters(
        types=[t.strip() for t in types.split(",") if t.strip()] if types else None,
        match=match,
        min_gap=min_gap,
        min_start=min_start,
    )
    with one_line_errors():
        from goalframe.storage import open_dataset
        from goalframe.storage.store import store_path

        options = parse_storage_options(storage_option)
        n_episodes = len(open_dataset(dataset, options).episodes)
        if not n_episodes:
            fail(f"{dataset}: no complete episodes, no events to extract; run `goalframe ingest` first")
        with progress_bar("events", n_episodes) as progress:
            task = progress.add_task("events", total=n_episodes)
            progress.disable = json_output

            def on_result(result: EpisodeEvents) -> None:
                progress.advance(task)

            target = (
                store_path(dataset) if scheduler else dataset
            )  # a cluster's workers have another working directory
            table, warnings = extract_events(
                target,
                filters,
                workers=workers or min(default_workers(), max(n_episodes, 1)),
                scheduler=scheduler,
                storage_options=options,
                on_result=on_result,
                grasp_offset=grasp_offset,
            )
    for warning in warnings:
        err_console.print(f"[yellow]warning[/] {warning}", soft_wrap=True)
    counts = {
        row["kind"]: row["len"] for row in table.group_by("kind").len().sort("kind").iter_rows(named=True)
    }
    if json_output:
        print_json({"dataset": dataset, "events": table.height, "by_kind": counts, "warnings": warnings})
    else:
        out_console.print(
            f"{dataset}: {table.height} events in {n_episodes} episodes {counts} -> tables/events.parquet"
        )
