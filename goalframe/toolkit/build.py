"""``goalframe build RAW --format vpt|agibot --out DS.zarr``: the whole chain, step by step.

ingest -> events -> masks -> pairs -> msth, run by :func:`goalframe.pipeline.build`; every
option of every step's own command is here under the same name.
"""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from goalframe.toolkit.common import (
    STORAGE_OPTION_HELP,
    example,
    one_line_errors,
    out_console,
    parse_storage_options,
    pipeline_progress,
    print_json,
)
from goalframe.toolkit.events import GRASP_OFFSET, MATCH, MIN_GAP, MIN_START, TYPES
from goalframe.toolkit.ingest import CHUNK_FRAMES, CODEC, CRF, GOP
from goalframe.toolkit.masks import DEVICE, EVERY, MAX_AREA, MODEL_TYPE, OVERWRITE, POSES
from goalframe.toolkit.msth import CLIP_HELP

EPILOG = example(
    "goalframe build raw/vpt --format vpt --out data/vpt.zarr",
    "goalframe build raw/agibot --format agibot --out data/agibot.zarr --workers 2 --window 64",
    "goalframe build raw/agibot --format agibot --out data/agibot.zarr --horizon 40 --near 10 --stride 5"
    " --distal 4 --clip segment",
    "goalframe build raw/vpt --format vpt --out s3://bucket/vpt.zarr --scheduler tcp://10.0.0.5:8786",
    "goalframe build raw/vpt --format vpt --out data/vpt.zarr --annotator sam --checkpoint"
    " sam_vit_b_01ec64.pth --every 5",
)


def build(
    raw: Path = typer.Argument(
        ..., help="Raw recordings: a VPT folder or index file, or an AgiBot release root."
    ),
    format: str = typer.Option(..., "--format", "-f", help="Raw format: vpt or agibot."),
    out: str = typer.Option(..., "--out", "-o", help="Dataset path (NAME.zarr folder or fsspec URL)."),
    workers: Optional[int] = typer.Option(None, help="Parallel workers for every step."),
    scheduler: Optional[str] = typer.Option(None, help="Address of a dask.distributed scheduler."),
    codec: str = CODEC,
    chunk_frames: Optional[int] = CHUNK_FRAMES,
    crf: Optional[int] = CRF,
    gop: Optional[int] = GOP,
    truncate_camera: bool = typer.Option(
        False,
        "--truncate-camera",
        help="VPT ingest: camera degrees truncated toward zero (see `goalframe ingest vpt --help`).",
    ),
    types: Optional[str] = TYPES,
    match: Optional[str] = MATCH,
    min_gap: int = MIN_GAP,
    min_start: int = MIN_START,
    grasp_offset: Optional[float] = GRASP_OFFSET,
    annotator: str = typer.Option("classical", help="Mask annotator: classical or sam."),
    checkpoint: Optional[str] = typer.Option(None, help="SAM checkpoint file (with --annotator sam)."),
    model_type: str = MODEL_TYPE,
    every: int = EVERY,
    window: int = typer.Option(128, help="Frames per mask track, ending at the event frame."),
    device: str = DEVICE,
    poses: bool = POSES,
    max_area: float = MAX_AREA,
    overwrite: bool = OVERWRITE,
    seed: int = typer.Option(0, help="Seed for goal-pair sampling."),
    cross_episode: bool = typer.Option(
        False, "--cross-episode", help="Pairs: goal views from another episode too."
    ),
    cross_camera: bool = typer.Option(
        False, "--cross-camera", help="Pairs: goal views from another camera too (AgiBot)."
    ),
    horizon: int = typer.Option(120, help="MSTH horizon K (frames)."),
    near: int = typer.Option(30, help="MSTH near horizon P (frames)."),
    stride: int = typer.Option(5, help="MSTH proximal stride r (frames)."),
    distal: int = typer.Option(6, help="MSTH distal anchors M."),
    clip: str = typer.Option("episode", help=CLIP_HELP),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON summary."),
    storage_option: Optional[list[str]] = typer.Option(None, "--storage-option", help=STORAGE_OPTION_HELP),
) -> None:
    """Build a training-ready dataset from raw recordings: ingest, events, masks, pairs, MSTH."""
    from goalframe.annotators.events import EventFilters
    from goalframe.annotators.masks import MaskOptions
    from goalframe.pipeline import MSTH, Events, Ingest, Masks, Pairs
    from goalframe.pipeline import build as build_chain
    from goalframe.sampling.msth import MSTHSpec

    with one_line_errors():
        kinds = [t.strip() for t in types.split(",") if t.strip()] if types else None
        steps = [
            Ingest(codec=codec, truncate_camera=truncate_camera, chunk_frames=chunk_frames, crf=crf, gop=gop),
            Events(
                EventFilters(types=kinds, match=match, min_gap=min_gap, min_start=min_start),
                grasp_offset=grasp_offset,
            ),
            Masks(
                MaskOptions(
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
            ),
            Pairs(seed=seed, cross_episode=cross_episode, cross_camera=cross_camera),
            MSTH(MSTHSpec(horizon=horizon, near=near, stride=stride, distal=distal), clip=clip),
        ]
        summary = build_chain(
            raw,
            out,
            format,
            steps,
            workers=workers,
            scheduler=scheduler,
            storage_options=parse_storage_options(storage_option),
            progress=pipeline_progress(not json_output),
        )
    if json_output:
        print_json(summary)
    else:
        ingest = summary["ingest"]
        out_console.print(
            f"{out}: {ingest['written']} episodes written ({ingest['skipped']} skipped, {ingest['failed']}"
            f" failed), {summary['events']} events, {summary['masks']['tracks']} mask tracks,"
            f" {summary['pairs']} pair rows, {summary['msth']} MSTH rows"
        )
    if summary["ingest"]["failed"]:
        raise typer.Exit(1)
