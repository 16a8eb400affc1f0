"""``goalframe review push|pull|status DS.zarr --url URL``: mask review in Label Studio.

The API key comes from ``--api-key`` or ``LABEL_STUDIO_API_KEY`` and is never printed.
"""

from __future__ import annotations

from typing import Optional

import typer
from rich.markup import escape
from rich.table import Table

from goalframe.annotators.review import DEFAULT_PROJECT
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

app = typer.Typer(
    help="Review mask tracks in Label Studio: push frames with predicted masks, pull corrections.",
    epilog=example(
        "goalframe review push data/vpt.zarr --url http://localhost:8080",
        "goalframe review pull data/vpt.zarr --url http://localhost:8080",
        "goalframe review status data/vpt.zarr --url http://localhost:8080",
    ),
    no_args_is_help=True,
)

DATASET_HELP = "Dataset path (NAME.zarr or fsspec URL)."
URL_HELP = "Label Studio base URL, e.g. http://localhost:8080."
KEY_HELP = (
    "Label Studio API key (Account & Settings > Access Token); default: $LABEL_STUDIO_API_KEY. Never printed."
)
PROJECT_HELP = "Label Studio project title (created by push when absent, reused when present)."


def _split(values: Optional[list[str]]) -> list[str] | None:
    names = [name.strip() for value in values or [] for name in value.split(",") if name.strip()]
    return names or None


@app.command(
    "push",
    epilog=example(
        "export LABEL_STUDIO_API_KEY=...   # from Label Studio: Account & Settings > Access Token",
        "goalframe review push data/vpt.zarr --url http://localhost:8080",
        "goalframe review push data/vpt.zarr --url http://localhost:8080 --project 'vpt masks'"
        " --frames-per-track 8 --min-score 0.3",
        "goalframe review push data/vpt.zarr --url http://localhost:8080 --tracks"
        " 00003.main.classical,ep1/00007.main.classical",
    ),
)
def push(
    dataset: str = typer.Argument(..., help=DATASET_HELP),
    url: str = typer.Option(..., "--url", help=URL_HELP),
    api_key: Optional[str] = typer.Option(None, "--api-key", help=KEY_HELP, show_default=False),
    project: str = typer.Option(DEFAULT_PROJECT, "--project", help=PROJECT_HELP),
    tracks: Optional[list[str]] = typer.Option(
        None,
        "--tracks",
        help="Only these tracks: TRACK_ID or EPISODE/TRACK_ID, comma-separated or repeated (default: all).",
    ),
    frames_per_track: int = typer.Option(
        5,
        "--frames-per-track",
        help="Frames per track, evenly spread, first and last included (0: every frame).",
    ),
    min_score: float = typer.Option(
        0.0, "--min-score", help="Only frames whose automatic score is at least this."
    ),
    storage_option: Optional[list[str]] = typer.Option(None, "--storage-option", help=STORAGE_OPTION_HELP),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Create or reuse the project; one image task per selected frame, the automatic mask as a prediction."""
    from goalframe.annotators import review

    with one_line_errors():
        with progress_bar("push", None) as progress:
            task = progress.add_task("push", total=None)
            progress.disable = progress.disable or json_output
            report = review.push(
                dataset,
                url,
                api_key,
                project,
                tracks=_split(tracks),
                frames_per_track=frames_per_track,
                min_score=min_score,
                storage_options=parse_storage_options(storage_option),
                on_progress=lambda n: progress.advance(task, n),
            )
    summary = {
        "dataset": dataset,
        "server": report.server,
        "project": report.project,
        "project_id": report.project_id,
        "selected": report.selected,
        "created": report.created,
        "existing": report.existing,
        "served": report.served,
        "by_track": report.by_track,
        "repaired_images": report.repaired,
        "label_config": report.label_config,
        "warnings": report.warnings,
    }
    for warning in report.warnings:
        err_console.print(f"[yellow]warning[/] {escape(warning)}", soft_wrap=True)
    if json_output:
        print_json(summary)
        return
    served = f", frames served by {report.served}" if report.served else ""
    out_console.print(
        f"{dataset}: {report.created} new tasks in project {report.project!r} (id {report.project_id}) at"
        f" {report.server} ({report.existing} of {report.selected} selected frames were already"
        f" there{served})"
    )
    if report.label_config == "upgraded":
        out_console.print("labeling config of the project upgraded to goalframe's current one")
    if report.repaired:
        out_console.print(
            f"{report.repaired} review images were missing or damaged: rendered again from the frames"
        )
    out_console.print(
        f"review them at {report.server}/projects/{report.project_id}/data, then run `goalframe review pull`"
    )


@app.command(
    "pull",
    epilog=example(
        "goalframe review pull data/vpt.zarr --url http://localhost:8080",
        "goalframe review pull data/vpt.zarr --url http://localhost:8080 --project 'vpt masks' --json",
    ),
)
def pull(
    dataset: str = typer.Argument(..., help=DATASET_HELP),
    url: str = typer.Option(..., "--url", help=URL_HELP),
    api_key: Optional[str] = typer.Option(None, "--api-key", help=KEY_HELP, show_default=False),
    project: str = typer.Option(DEFAULT_PROJECT, "--project", help=PROJECT_HELP),
    storage_option: Optional[list[str]] = typer.Option(None, "--storage-option", help=STORAGE_OPTION_HELP),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Write submitted annotations as reviewed masks next to the automatic ones (never overwriting them)."""
    from goalframe.annotators import review

    with one_line_errors():
        with progress_bar("pull", None) as progress:
            task = progress.add_task("pull", total=None)
            progress.disable = progress.disable or json_output
            report = review.pull(
                dataset,
                url,
                api_key,
                project,
                storage_options=parse_storage_options(storage_option),
                on_progress=lambda n: progress.advance(task, n),
            )
    for line in report.refused:
        err_console.print(f"[bold red]refused[/] {escape(line)}", soft_wrap=True)
    if json_output:
        print_json(
            {
                "dataset": dataset,
                "server": report.server,
                "project": report.project,
                "project_id": report.project_id,
                "tasks": report.tasks,
                "annotated": report.annotated,
                "pulled": report.pulled,
                "unchanged": report.unchanged,
                "missing": report.missing,
                "refused": report.refused,
                "revisions": report.revisions,
            }
        )
    else:
        out_console.print(
            f"{dataset}: pulled {report.pulled} reviewed frames into {len(report.revisions)} track revisions"
            f" from project {report.project!r} ({report.annotated} of {report.tasks} tasks annotated,"
            f" {report.unchanged} already pulled, {len(report.refused)} refused"
            + (f", {report.missing} tasks gone from the server" if report.missing else "")
            + ")"
        )
    if report.refused:
        raise typer.Exit(1)


@app.command(
    "status",
    epilog=example(
        "goalframe review status data/vpt.zarr --url http://localhost:8080",
        "goalframe review status data/vpt.zarr --url http://localhost:8080 --project 'vpt masks' --json",
    ),
)
def status(
    dataset: str = typer.Argument(..., help=DATASET_HELP),
    url: str = typer.Option(..., "--url", help=URL_HELP),
    api_key: Optional[str] = typer.Option(None, "--api-key", help=KEY_HELP, show_default=False),
    project: str = typer.Option(DEFAULT_PROJECT, "--project", help=PROJECT_HELP),
    storage_option: Optional[list[str]] = typer.Option(None, "--storage-option", help=STORAGE_OPTION_HELP),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """Tasks pushed, annotated in Label Studio and pulled into the dataset, per track."""
    from goalframe.annotators import review

    with one_line_errors():
        report = review.status(
            dataset, url, api_key, project, storage_options=parse_storage_options(storage_option)
        )
    rows = [
        {
            "episode_id": t.episode_id,
            "track_id": t.track_id,
            "pushed": t.pushed,
            "annotated": t.annotated,
            "pulled": t.pulled,
            "to_pull": t.to_pull,
            "missing": t.missing,
        }
        for t in report.tracks
    ]
    if json_output:
        print_json(
            {
                "dataset": dataset,
                "server": report.server,
                "project": report.project,
                "project_id": report.project_id,
                "totals": report.totals(),
                "tracks": rows,
            }
        )
        return
    if report.project_id is None:
        out_console.print(f"{dataset}: no project {report.project!r} at {report.server} (nothing pushed yet)")
        return
    totals = report.totals()
    out_console.print(
        f"{dataset}: project {report.project!r} (id {report.project_id}) at {report.server}:"
        f" {totals['pushed']} tasks pushed, {totals['annotated']} annotated, {totals['pulled']} pulled,"
        f" {totals['to_pull']} to pull"
        + (f", {totals['missing']} gone from the server" if totals["missing"] else "")
    )
    if rows:
        table = Table()
        for column in ("episode_id", "track_id", "pushed", "annotated", "pulled", "to_pull", "missing"):
            text = column in ("episode_id", "track_id")
            table.add_column(
                column, justify="left" if text else "right", overflow="fold" if text else "ellipsis"
            )
        for row in rows:
            table.add_row(*(str(v) for v in row.values()))
        out_console.print(table)
