"""``goalframe ingest vpt|agibot RAW --out DS.zarr``: raw recordings into a dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

from goalframe.storage.ingest import IngestReport
from goalframe.storage.layout import DEFAULT_FRAME_CODEC
from goalframe.toolkit.common import (
    STORAGE_OPTION_HELP,
    err_console,
    example,
    one_line_errors,
    out_console,
    parse_storage_options,
    pipeline_progress,
    print_json,
)

app = typer.Typer(
    help="Ingest raw recordings into a chunked Zarr dataset (parallel, resumable).",
    epilog=example(
        "goalframe ingest vpt raw/vpt --out data/vpt.zarr",
        "goalframe ingest agibot raw/agibot --out data/agibot.zarr --workers 2",
    ),
    no_args_is_help=True,
)


def run_ingest(
    fmt: str,
    raw: Path,
    out: str,
    workers: int | None = None,
    scheduler: str | None = None,
    codec: str = DEFAULT_FRAME_CODEC,
    show_progress: bool = True,
    storage_options: dict | None = None,
    reader_options: dict | None = None,
    codec_options: dict | None = None,
) -> IngestReport:
    """Discover, ingest with a progress bar, print one line per failed episode (see ``ingest_raw``)."""
    from goalframe.pipeline import ingest_raw

    return ingest_raw(
        fmt,
        raw,
        out,
        workers,
        scheduler,
        codec,
        storage_options,
        reader_options,
        pipeline_progress(show_progress),
        codec_options,
    )


def _command(
    fmt: str,
    raw: Path,
    out: str,
    workers: Optional[int],
    scheduler: Optional[str],
    codec: str,
    json_output: bool,
    storage_option: Optional[list[str]] = None,
    reader_options: dict | None = None,
    codec_options: dict | None = None,
) -> None:
    with one_line_errors():
        options = parse_storage_options(storage_option)
        report = run_ingest(
            fmt,
            raw,
            out,
            workers,
            scheduler,
            codec,
            show_progress=not json_output,
            storage_options=options,
            reader_options=reader_options,
            codec_options=codec_options,
        )
    if json_output:
        print_json(report.to_dict())
    else:
        out_console.print(
            f"{out}: {report.count('written')} written, {report.count('skipped')} skipped (already complete),"
            f" {report.count('failed')} failed; {report.frames_written} frames in {report.seconds:.1f} s"
        )
    if report.failed:
        err_console.print(f"{len(report.failed)} episode(s) failed; the others are in {out}")
        raise typer.Exit(1)


OUT = typer.Option(..., "--out", "-o", help="Dataset path (NAME.zarr folder or fsspec URL).")
WORKERS = typer.Option(None, help="Parallel episode workers (default: cores, at most 8).")
SCHEDULER = typer.Option(None, help="Address of a dask.distributed scheduler, e.g. tcp://10.0.0.5:8786.")
CODEC = typer.Option(
    DEFAULT_FRAME_CODEC,
    help=(
        "Frame codec: av1 or h264 (video chunks of --chunk-frames frames; av1 is the default: LeRobot's"
        " quality at 0.7x its bytes), jpeg (q90, one frame per chunk), zstd (lossless)."
    ),
)
CHUNK_FRAMES = typer.Option(
    None, "--chunk-frames", min=1, help="h264/av1: frames per video chunk (default 16)."
)
CRF = typer.Option(
    None, "--crf", help="h264/av1: constant rate factor, lower = better (default: h264 23, av1 26)."
)
GOP = typer.Option(
    None,
    "--gop",
    min=0,
    help="h264/av1: a keyframe every GOP frames inside each chunk (default 4; 0: one per chunk;"
    " smaller = cheaper sparse reads, more bytes).",
)
JSON = typer.Option(False, "--json", help="Print the report as JSON.")
STORAGE_OPTION = typer.Option(None, "--storage-option", help=STORAGE_OPTION_HELP)


@app.command(
    "vpt",
    epilog=example(
        "goalframe ingest vpt raw/vpt --out data/vpt.zarr",
        "goalframe ingest vpt raw/vpt/index_6.13.json --out data/vpt.zarr --workers 2 --codec zstd",
        "goalframe ingest vpt raw/vpt --out data/vpt-h264.zarr --codec h264 --chunk-frames 16 --crf 23",
        "goalframe ingest vpt raw/vpt --out data/vpt-av1.zarr --codec av1 --chunk-frames 16 --crf 30 --gop 4",
        "goalframe ingest vpt raw/vpt --out data/vpt-int.zarr --truncate-camera",
        "goalframe ingest vpt raw/vpt --out s3://bucket/vpt.zarr --scheduler tcp://10.0.0.5:8786"
        " --storage-option endpoint_url=http://minio:9000",
    ),
)
def ingest_vpt(
    raw: Path = typer.Argument(..., help="A folder of VPT recordings or an index json file."),
    out: str = OUT,
    workers: Optional[int] = WORKERS,
    scheduler: Optional[str] = SCHEDULER,
    codec: str = CODEC,
    json_output: bool = JSON,
    storage_option: Optional[list[str]] = STORAGE_OPTION,
    chunk_frames: Optional[int] = CHUNK_FRAMES,
    crf: Optional[int] = CRF,
    gop: Optional[int] = GOP,
    truncate_camera: bool = typer.Option(
        False,
        "--truncate-camera",
        help=(
            "Truncate actions/vpt/camera degrees toward zero as VPT's own integer conversion does (exact"
            " parity); default: floats, as MineStudio. Recorded in the step and episode attrs."
        ),
    ),
) -> None:
    """Ingest VPT contractor recordings; complete episodes are skipped, failed ones reported."""
    reader_options = {"truncate_camera": True} if truncate_camera else None
    _command(
        "vpt",
        raw,
        out,
        workers,
        scheduler,
        codec,
        json_output,
        storage_option,
        reader_options,
        {"chunk_frames": chunk_frames, "crf": crf, "gop": gop},
    )


@app.command("agibot", epilog=example("goalframe ingest agibot raw/agibot --out data/agibot.zarr"))
def ingest_agibot(
    raw: Path = typer.Argument(..., help="The root of an extracted AgiBot World release."),
    out: str = OUT,
    workers: Optional[int] = WORKERS,
    scheduler: Optional[str] = SCHEDULER,
    codec: str = CODEC,
    json_output: bool = JSON,
    storage_option: Optional[list[str]] = STORAGE_OPTION,
    chunk_frames: Optional[int] = CHUNK_FRAMES,
    crf: Optional[int] = CRF,
    gop: Optional[int] = GOP,
) -> None:
    """Ingest AgiBot World episodes (every camera, proprio stats, task info, camera parameters)."""
    _command(
        "agibot",
        raw,
        out,
        workers,
        scheduler,
        codec,
        json_output,
        storage_option,
        None,
        {"chunk_frames": chunk_frames, "crf": crf, "gop": gop},
    )
