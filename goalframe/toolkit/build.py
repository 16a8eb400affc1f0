"""``goalframe build RAW --format vpt|agibot --out DS.zarr``: the whole chain, step by step.

ingest -> events -> masks -> pairs -> msth, each the same function as its own command, so a
build can be resumed or any step re-run alone (ingest and masks skip finished work).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from goalframe.toolkit.common import STORAGE_OPTION_HELP, example, one_line_errors, out_console, parse_storage_options, print_json

EPILOG = example(
    "goalframe build raw/vpt --format vpt --out data/vpt.zarr",
    "goalframe build raw/agibot --format agibot --out data/agibot.zarr --workers 2 --window 64",
    "goalframe build raw/vpt --format vpt --out s3://bucket/vpt.zarr --scheduler tcp://10.0.0.5:8786",
)


def run_build(
    fmt: str, raw: Path, out: str, workers: int | None = None, scheduler: str | None = None, codec: str = "jpeg",
    mask_options: Any = None, seed: int = 0, spec: Any = None, show_progress: bool = True, storage_options: dict | None = None,
    msth_clip: str = "segment",
) -> dict[str, Any]:
    """The chain as one function (``build`` and ``demo`` call it); returns each step's summary."""
    from goalframe.annotators.events import extract_events
    from goalframe.annotators.masks import MaskOptions, annotate_masks
    from goalframe.sampling.msth import MSTHSpec, build_msth
    from goalframe.sampling.pairs import build_pairs
    from goalframe.toolkit.ingest import run_ingest

    spec = spec or MSTHSpec(horizon=120, near=30, stride=5, distal=6)
    mask_options = mask_options or MaskOptions()
    mask_options.validate()
    summary: dict[str, Any] = {"ingest": run_ingest(fmt, raw, out, workers, scheduler, codec, show_progress=show_progress, storage_options=storage_options).summary()}
    steps_workers = workers or 1
    events, _ = extract_events(out, workers=steps_workers, scheduler=scheduler, storage_options=storage_options)
    summary["events"] = events.height
    summary["masks"] = annotate_masks(out, mask_options, workers=steps_workers, scheduler=scheduler, storage_options=storage_options).summary()
    summary["pairs"] = build_pairs(out, seed=seed, workers=steps_workers, scheduler=scheduler, storage_options=storage_options)[0].height
    summary["msth"] = build_msth(out, spec, clip=msth_clip, workers=steps_workers, scheduler=scheduler, storage_options=storage_options)[0].height
    return summary


def build(
    raw: Path = typer.Argument(..., help="Raw recordings: a VPT folder or index file, or an AgiBot release root."),
    format: str = typer.Option(..., "--format", "-f", help="Raw format: vpt or agibot."),
    out: str = typer.Option(..., "--out", "-o", help="Dataset path (NAME.zarr folder or fsspec URL)."),
    workers: Optional[int] = typer.Option(None, help="Parallel workers for every step."),
    scheduler: Optional[str] = typer.Option(None, help="Address of a dask.distributed scheduler."),
    codec: str = typer.Option("jpeg", help="Frame codec: jpeg or zstd."),
    annotator: str = typer.Option("classical", help="Mask annotator: classical or sam."),
    checkpoint: Optional[str] = typer.Option(None, help="SAM checkpoint file (with --annotator sam)."),
    window: int = typer.Option(128, help="Frames per mask track, ending at the event frame."),
    seed: int = typer.Option(0, help="Seed for goal-pair sampling."),
    horizon: int = typer.Option(120, help="MSTH horizon K (frames)."),
    near: int = typer.Option(30, help="MSTH near horizon P (frames)."),
    stride: int = typer.Option(5, help="MSTH proximal stride r (frames)."),
    distal: int = typer.Option(6, help="MSTH distal anchors M."),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON summary."),
    storage_option: Optional[list[str]] = typer.Option(None, "--storage-option", help=STORAGE_OPTION_HELP),
) -> None:
    """Build a training-ready dataset from raw recordings: ingest, events, masks, pairs, MSTH."""
    from goalframe.annotators.masks import MaskOptions
    from goalframe.sampling.msth import MSTHSpec

    with one_line_errors():
        spec = MSTHSpec(horizon=horizon, near=near, stride=stride, distal=distal)  # bad parameters fail before any work
        mask_options = MaskOptions(annotator=annotator, window=window, checkpoint=checkpoint)
        summary = run_build(
            format, raw, out, workers, scheduler, codec, mask_options, seed, spec, show_progress=not json_output,
            storage_options=parse_storage_options(storage_option),
        )
    if json_output:
        print_json(summary)
    else:
        ingest = summary["ingest"]
        out_console.print(
            f"{out}: {ingest['written']} episodes written ({ingest['skipped']} skipped, {ingest['failed']} failed), "
            f"{summary['events']} events, {summary['masks']['tracks']} mask tracks, {summary['pairs']} pair rows, "
            f"{summary['msth']} MSTH rows"
        )
    if summary["ingest"]["failed"]:
        raise typer.Exit(1)
