"""``goalframe report DS.zarr``: a gallery of events, masks and goal views (HTML and Markdown)."""

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
    print_json,
)

EPILOG = example(
    "goalframe report data/vpt.zarr",
    "goalframe report data/agibot.zarr --out reports/agibot --per-type 5",
)


def report(
    dataset: str = typer.Argument(..., help="Dataset path (NAME.zarr or fsspec URL), with its events table."),
    out: Optional[Path] = typer.Option(
        None, help="Folder for report.html, report.md and its PNGs (default: NAME-report beside the dataset)."
    ),
    per_type: int = typer.Option(3, help="Events shown per interaction type."),
    storage_option: Optional[list[str]] = typer.Option(None, "--storage-option", help=STORAGE_OPTION_HELP),
    json_output: bool = typer.Option(False, "--json", help="Print the summary as JSON."),
) -> None:
    """Write a picture report: per interaction type a few events (event frame, mask, zoom, goal
    view), the tracks to review first (lowest scores, largest masks, masks on the frame edge),
    a timeline of events per episode, and mask score and visibility histograms.

    report.html is one file with its pictures embedded; report.md has them beside it.
    """
    from goalframe.viewing.report import write_report

    with one_line_errors():
        summary = write_report(dataset, out, per_type, parse_storage_options(storage_option))
    if json_output:
        print_json(summary)
        return
    shown = ", ".join(f"{kind} {n}" for kind, n in summary["interactions"].items()) or "no events"
    flagged = ", ".join(f"{key} {n}" for key, n in summary["flagged"].items())
    out_console.print(
        f"report: {summary['html']} and {summary['markdown']} ({len(summary['pictures'])} pictures;"
        f" events shown: {shown}; flagged tracks: {flagged}; {summary['seconds']:.1f} s)"
    )
