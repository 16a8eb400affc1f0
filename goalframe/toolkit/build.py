"""``goalframe build RAW --format vpt|agibot --out DS.zarr``: the whole chain, step by step.

ingest -> events -> masks -> pairs -> msth, each the same function as its own command, so a
build can be resumed or any step re-run alone (ingest and masks skip finished work).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Optional

import typer

from goalframe.toolkit.common import (
    STORAGE_OPTION_HELP, example, one_line_errors, out_console, parse_storage_options, print_json, step_progress,
)  # fmt: skip
from goalframe.toolkit.msth import CLIP_HELP

EPILOG = example(
    "goalframe build raw/vpt --format vpt --out data/vpt.zarr",
    "goalframe build raw/agibot --format agibot --out data/agibot.zarr --workers 2 --window 64",
    "goalframe build raw/agibot --format agibot --out data/agibot.zarr --horizon 40 --near 10 --stride 5 --distal 4 --clip segment",
    "goalframe build raw/vpt --format vpt --out s3://bucket/vpt.zarr --scheduler tcp://10.0.0.5:8786",
)


def run_build(
    fmt: str, raw: Path, out: str, workers: int | None = None, scheduler: str | None = None, codec: str = "jpeg",
    mask_options: Any = None, seed: int = 0, spec: Any = None, show_progress: bool = True, storage_options: dict | None = None,
    msth_clip: str = "episode",
) -> dict[str, Any]:
    """The chain as one function (``build`` and ``demo`` call it), a progress bar per step; returns each step's summary."""
    from goalframe.annotators.masks import MaskOptions
    from goalframe.sampling.msth import MSTHSpec, check_distal_count
    from goalframe.storage.lease import dataset_lease

    spec = spec or MSTHSpec(horizon=120, near=30, stride=5, distal=6)
    check_distal_count(spec)
    mask_options = mask_options or MaskOptions()
    mask_options.validate()
    # one lease over the whole chain: no other writer slips in between two steps
    with dataset_lease(out, f"build {fmt}", storage_options, create=True):
        return _run_steps(fmt, raw, out, workers, scheduler, codec, mask_options, seed, spec, show_progress, storage_options, msth_clip)


def _run_steps(
    fmt: str, raw: Path, out: str, workers: int | None, scheduler: str | None, codec: str,
    mask_options: Any, seed: int, spec: Any, show_progress: bool, storage_options: dict | None, msth_clip: str,
) -> dict[str, Any]:  # fmt: skip
    from goalframe.annotators.events import extract_events
    from goalframe.annotators.masks import annotate_masks
    from goalframe.sampling.msth import build_msth
    from goalframe.sampling.pairs import build_pairs
    from goalframe.storage import open_dataset
    from goalframe.toolkit.ingest import run_ingest

    summary: dict[str, Any] = {"ingest": run_ingest(fmt, raw, out, workers, scheduler, codec, show_progress=show_progress, storage_options=storage_options).summary()}
    steps = {"workers": workers or 1, "scheduler": scheduler, "storage_options": storage_options}
    n_episodes = len(open_dataset(out, storage_options).episodes)
    with step_progress("events", n_episodes, show_progress) as advance:
        events, _ = extract_events(out, on_result=advance, **steps)
    summary["events"] = events.height
    with step_progress("masks", events.height, show_progress) as advance:
        summary["masks"] = annotate_masks(out, mask_options, on_result=advance, **steps).summary()
    with_tracks = len({episode for episode, _track in open_dataset(out, storage_options).track_ids()})
    with step_progress("pairs", with_tracks, show_progress) as advance:
        summary["pairs"] = build_pairs(out, seed=seed, on_result=advance, **steps)[0].height
    with step_progress("msth", n_episodes, show_progress) as advance:
        summary["msth"] = build_msth(out, spec, clip=msth_clip, on_result=advance, **steps)[0].height
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
    clip: str = typer.Option("episode", help=CLIP_HELP),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON summary."),
    storage_option: Optional[list[str]] = typer.Option(None, "--storage-option", help=STORAGE_OPTION_HELP),
) -> None:
    """Build a training-ready dataset from raw recordings: ingest, events, masks, pairs, MSTH."""
    from goalframe.annotators.masks import MaskOptions
    from goalframe.sampling.msth import CLIP_MODES, MSTHSpec

    with one_line_errors():
        spec = MSTHSpec(horizon=horizon, near=near, stride=stride, distal=distal)  # bad parameters fail before any work
        if clip not in CLIP_MODES:
            raise ValueError(f"--clip must be one of {', '.join(CLIP_MODES)}, got {clip!r}")
        mask_options = MaskOptions(annotator=annotator, window=window, checkpoint=checkpoint)
        summary = run_build(
            format, raw, out, workers, scheduler, codec, mask_options, seed, spec, show_progress=not json_output,
            storage_options=parse_storage_options(storage_option), msth_clip=clip,
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
