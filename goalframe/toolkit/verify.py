"""``goalframe verify DS.zarr``: decode every chunk, check checksums and tables; exit 1 on damage."""

from __future__ import annotations

from typing import Optional

import typer
from rich.markup import escape

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
    "goalframe verify data/vpt.zarr",
    "goalframe verify data/vpt.zarr --json --workers 2",
    "goalframe verify s3://bucket/vpt.zarr --storage-option endpoint_url=http://minio:9000 --no-checksums",
)


def verify(
    dataset: str = typer.Argument(..., help="Dataset path (NAME.zarr or fsspec URL)."),
    checksums: bool = typer.Option(
        True,
        "--checksums/--no-checksums",
        help="Re-hash the raw files (when still at raw_path) against each episode's checksum.",
    ),
    workers: Optional[int] = typer.Option(None, help="Parallel episode workers (default: cores, at most 8)."),
    scheduler: Optional[str] = typer.Option(None, help="Address of a dask.distributed scheduler."),
    storage_option: Optional[list[str]] = typer.Option(None, "--storage-option", help=STORAGE_OPTION_HELP),
    json_output: bool = typer.Option(False, "--json", help="Print the full report as JSON."),
) -> None:
    """Decode every chunk of every array (frames included), check checksums and table/array consistency.

    Each damage is one line naming the episode, the array and the frames or rows; the exit
    code is 1 when anything is damaged, 2 when the path is not a dataset.
    """
    from goalframe.storage import open_dataset
    from goalframe.storage.verify import EpisodeCheck, verify_dataset

    with one_line_errors():
        options = parse_storage_options(storage_option)
        n_episodes = len(open_dataset(dataset, options).episodes)
        with progress_bar("verify", n_episodes) as progress:
            task = progress.add_task("verify", total=n_episodes)
            progress.disable = json_output

            def on_result(check: EpisodeCheck) -> None:
                progress.advance(task)

            report = verify_dataset(
                dataset,
                options,
                checksums=checksums,
                workers=workers or min(default_workers(), max(n_episodes, 1)),
                scheduler=scheduler,
                on_result=on_result,
            )
    if json_output:
        print_json(report.to_dict())
    else:
        for damage in report.damage:
            err_console.print(f"[red]damage[/] {escape(damage.line())}", soft_wrap=True)
        for note in report.notes:
            err_console.print(f"[yellow]note[/] {escape(note)}", soft_wrap=True)
        summary = report.summary()
        checks = ", ".join(f"{n} {state}" for state, n in sorted(summary["checksums"].items())) or "none"
        verdict = "OK" if report.ok else f"{len(report.damage)} damaged"
        out_console.print(
            f"{dataset}: {verdict}; {summary['episodes']} episodes, {summary['arrays']} arrays,"
            f" {summary['chunks']} shards/chunks, {summary['frames']} frames decoded; raw checksums:"
            f" {checks}; tables {summary['tables']} in {summary['seconds']} s"
        )
    if not report.ok:
        raise typer.Exit(1)
