"""``goalframe view DS.zarr``: a Rerun recording of episodes, or an overlay video (``--mp4``)."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

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
    "goalframe view data/vpt.zarr                              # the first episode -> vpt-EPISODE.rrd",
    "goalframe view data/agibot.zarr --episode 351_648642 --out agibot.rrd --spawn",
    "goalframe view data/vpt.zarr --track 00003.pov.classical --mp4 pickup.mp4",
    "goalframe view data/agibot.zarr --camera head_color --mp4 head.mp4 --json",
    "rerun vpt-EPISODE.rrd                                     # the viewer rerun-sdk installs",
)


def default_recording(dataset: str, episodes: list[str]) -> Path:
    """``NAME-EPISODE.rrd`` (one episode) or ``NAME.rrd`` in the current folder."""
    name = dataset.rstrip("/").rsplit("/", 1)[-1].removesuffix(".zarr") or "dataset"
    return Path(f"{name}-{episodes[0]}.rrd" if len(episodes) == 1 else f"{name}.rrd")


def _bar(description: str, show: bool):
    bar = progress_bar(description, None, show=show)

    def start(total: int):
        task = bar.add_task(description, total=total)
        return lambda n: bar.advance(task, n)

    return bar, start


def view(
    dataset: str = typer.Argument(..., help="Dataset path (NAME.zarr or fsspec URL)."),
    episode: Optional[list[str]] = typer.Option(
        None,
        "--episode",
        "-e",
        help="Episode to show, repeatable (default: the first; with --track, the first that has it).",
    ),
    track: Optional[str] = typer.Option(
        None, "--track", help="Show only this mask track, e.g. 00003.pov.classical."
    ),
    camera: Optional[str] = typer.Option(None, "--camera", help="Show only this camera (default: all)."),
    out: Optional[Path] = typer.Option(
        None,
        "--out",
        help="Rerun recording to write (default: NAME-EPISODE.rrd here; with --mp4 alone, none).",
    ),
    spawn: bool = typer.Option(
        False, "--spawn", help="Open the recording in the Rerun viewer when one is installed."
    ),
    mp4: Optional[Path] = typer.Option(
        None,
        "--mp4",
        help="Also (or only) write an overlay video: masks, prompt points, event banners (one episode).",
    ),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON summary."),
    storage_option: Optional[list[str]] = typer.Option(None, "--storage-option", help=STORAGE_OPTION_HELP),
) -> None:
    """Look at episodes: frames of every camera, mask tracks, events, actions, states, camera poses.

    Writes a Rerun recording (.rrd: open it with `rerun FILE.rrd`, or --spawn) and/or, with
    --mp4, an overlay video for people without a viewer.
    """
    from goalframe.storage import open_dataset
    from goalframe.viewing.overlay_video import write_overlay_video
    from goalframe.viewing.rerun_log import RerunMissing, open_viewer, write_recording
    from goalframe.viewing.selection import select_view

    summary: dict = {}
    with one_line_errors():
        ds = open_dataset(dataset, parse_storage_options(storage_option))
        views = select_view(ds, episode, camera, track)
        if mp4 is not None and len(views) > 1:
            fail(f"--mp4 writes one episode: pass a single --episode (got {len(views)})")
        recording = out or (
            None if mp4 is not None and not spawn else default_recording(dataset, [v.episode for v in views])
        )
        try:
            if recording is not None:
                bar, start = _bar("rerun recording", not json_output)
                with bar:
                    summary["rerun"] = write_recording(ds, views, recording, progress=start)
        except RerunMissing as exc:
            fail(str(exc))
        if mp4 is not None:
            bar, start = _bar("overlay video", not json_output)
            with bar:
                summary["mp4"] = write_overlay_video(ds, views[0], mp4, progress=start)
    if spawn:
        summary["viewer_opened"], message = open_viewer(summary["rerun"]["out"])
        err_console.print(message, soft_wrap=True)
    if json_output:
        print_json(summary)
        return
    _print(dataset, summary, spawn)


def _print(dataset: str, summary: dict, spawn: bool) -> None:
    if "rerun" in summary:
        rec = summary["rerun"]
        cameras = sorted({c for cams in rec["cameras"].values() for c in cams})
        out_console.print(
            f"{dataset}: {', '.join(rec['episodes'])} -> {rec['out']}: {rec['frames']} camera images of"
            f" {', '.join(cameras)}, {rec['tracks']} mask tracks on {rec['mask_frames']} frames,"
            f" {rec['events']} events, {rec['scalar_rows']} action/state rows;"
            f" {rec['bytes'] / 1e6:.1f} MB in {rec['seconds']} s"
        )
        if not spawn:
            err_console.print(f"open it: rerun {rec['out']}   (or goalframe view ... --spawn)")
    if "mp4" in summary:
        video = summary["mp4"]
        out_console.print(
            f"{dataset}: {video['episode']} -> {video['out']}: {video['frames']} frames of"
            f" {', '.join(video['cameras'])}, masks on {video['masked_frames']}, {video['events']} events;"
            f" {video['bytes'] / 1e6:.1f} MB in {video['seconds']} s"
        )
