"""``goalframe masks DS.zarr``: a mask track per event, tracked backward from the event frame."""

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
    "goalframe masks data/vpt.zarr",
    "goalframe masks data/agibot.zarr --window 64 --workers 4",
    "goalframe masks data/vpt.zarr --annotator sam --checkpoint sam_vit_b_01ec64.pth --model-type vit_b"
    " --every 5",
    "goalframe masks data/vpt.zarr --overwrite --json",
    "goalframe masks data/vpt.zarr --no-poses --overwrite",
    "goalframe masks data/vpt.zarr --max-area 0.5 --overwrite",
)


# options `goalframe build` shares, so the two commands cannot drift apart
MODEL_TYPE = typer.Option("vit_b", help="SAM model type of the checkpoint: vit_b, vit_l or vit_h.")
EVERY = typer.Option(
    1, help="Keyframe mode: segment every K-th frame back from the event, warp masks by optical flow between."
)
DEVICE = typer.Option("auto", help="sam: cuda, cpu, or auto (CUDA when present).")
POSES = typer.Option(
    True,
    "--poses/--no-poses",
    help=(
        "VPT: place mined blocks on earlier frames by the recorded camera poses (xpos/ypos/zpos/yaw/pitch)"
        " instead of optical flow, a crafted item in its GUI slot, a placed block on its event frame only."
    ),
)
MAX_AREA = typer.Option(
    0.35,
    help=(
        "A mask over more of the frame than this (or along a quarter of its edge) is background grown from"
        " a prompt with no object under it: that frame is not visible, scored <= 0.05, the reason in the"
        " track's attrs (implausible). Objects the recording places are exempt."
    ),
)
OVERWRITE = typer.Option(
    False,
    "--overwrite",
    help="Redo tracks this annotator and version already made (tracks with human reviews are kept).",
)


def masks(
    dataset: str = typer.Argument(..., help="Dataset path (NAME.zarr or fsspec URL) with an events table."),
    annotator: str = typer.Option(
        "classical", help="classical (OpenCV, no weights) or sam (Segment Anything; needs --checkpoint)."
    ),
    checkpoint: Optional[str] = typer.Option(
        None, help="segment-anything checkpoint file for --annotator sam, e.g. sam_vit_b_01ec64.pth."
    ),
    model_type: str = MODEL_TYPE,
    every: int = EVERY,
    window: int = typer.Option(
        128, help="Frames per track, ending at the event frame (clipped at the episode start)."
    ),
    device: str = DEVICE,
    workers: Optional[int] = typer.Option(None, help="Parallel event workers (local processes)."),
    scheduler: Optional[str] = typer.Option(None, help="Address of a dask.distributed scheduler."),
    poses: bool = POSES,
    max_area: float = MAX_AREA,
    overwrite: bool = OVERWRITE,
    json_output: bool = typer.Option(False, "--json", help="Print a JSON summary."),
    storage_option: Optional[list[str]] = typer.Option(None, "--storage-option", help=STORAGE_OPTION_HELP),
) -> None:
    """Annotate object masks: each event with a prompt point gets a track over the window before it."""
    with one_line_errors():
        from goalframe.annotators.masks import MaskOptions, TrackResult, annotate_masks
        from goalframe.storage import open_dataset

        options = MaskOptions(
            annotator=annotator,
            window=window,
            every=every,
            checkpoint=checkpoint,
            model_type=model_type,
            device=device,
            poses=poses,
            max_area=max_area,
            overwrite=overwrite,
        )
        options.validate()
        if annotator == "sam":
            from goalframe.annotators.sam import check_checkpoint, pick_device

            check_checkpoint(checkpoint, model_type)
            pick_device(device)
        storage_options = parse_storage_options(storage_option)
        ds = open_dataset(dataset, storage_options)
        if "events" not in ds.tables:
            fail(f"{dataset}: no events table; run `goalframe events {dataset}` first")
        n_events = ds.table("events").height
        if not n_events:
            fail(
                f"{dataset}: the events table has no events, nothing to annotate; run `goalframe events"
                f" {dataset}` on a dataset with episodes"
            )
        # SAM holds a large model per process: one worker unless asked (a GPU is shared anyway)
        chosen = workers or (1 if annotator == "sam" else min(default_workers(), max(n_events, 1)))
        with progress_bar("masks", n_events) as progress:
            task = progress.add_task("masks", total=n_events)
            progress.disable = json_output

            def on_result(result: TrackResult) -> None:
                progress.advance(task)

            report = annotate_masks(
                dataset,
                options,
                workers=chosen,
                scheduler=scheduler,
                storage_options=storage_options,
                on_result=on_result,
            )
    summary = report.summary()
    problems = [f"{r.event_id} ({r.camera}): {r.reason}" for r in report.failed]
    if json_output:
        print_json({"dataset": dataset, "annotator": annotator, **summary, "failed_events": problems})
    else:
        for line in problems[:20]:
            err_console.print(f"[yellow]no track[/] {line}", soft_wrap=True)
        if len(problems) > 20:
            err_console.print(f"[yellow]... and {len(problems) - 20} more events without a track[/]")
        out_console.print(
            f"{dataset}: {summary['written']} tracks written, {summary['skipped']} skipped (already made),"
            f" {summary['failed']} events without a track, {summary['not_visible_tracks']} tracks not"
            f" visible; {summary['frames']} frames at {summary['frames_per_s']} frames/s -> masks/,"
            " tables/tracks.parquet"
        )
