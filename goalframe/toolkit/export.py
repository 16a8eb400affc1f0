"""``goalframe export lerobot DS.zarr OUT``: the dataset in another tool's format."""

from __future__ import annotations

import logging
from typing import Optional

import typer

from goalframe.toolkit.common import (
    err_console,
    example,
    fail,
    one_line_errors,
    out_console,
    print_json,
    progress_bar,
)

app = typer.Typer(
    help="Write a dataset in another tool's format.",
    epilog=example(".venv-lerobot/bin/goalframe export lerobot data/agibot.zarr out/agibot-lerobot"),
    no_args_is_help=True,
)


def _quiet_lerobot() -> None:
    """LeRobot's writer shows a bar per episode table it maps; the export's own bar replaces them."""
    import datasets

    datasets.disable_progress_bars()
    logging.getLogger("lerobot").setLevel(logging.ERROR)


@app.command(
    "lerobot",
    epilog=example(
        "make lerobot-env   # once: .venv-lerobot (Python 3.12, lerobot 0.6.1, goalframe)",
        ".venv-lerobot/bin/goalframe export lerobot data/agibot.zarr out/agibot-lerobot",
        ".venv-lerobot/bin/goalframe export lerobot data/vpt.zarr out/vpt-lerobot --repo-id me/vpt --json",
    ),
)
def lerobot(
    dataset: str = typer.Argument(..., help="Dataset path (NAME.zarr)."),
    out: str = typer.Argument(..., help="New directory for the LeRobot dataset (must not exist)."),
    repo_id: Optional[str] = typer.Option(
        None, "--repo-id", help="LeRobot repo id recorded in the dataset (default: local/NAME)."
    ),
    json_output: bool = typer.Option(False, "--json", help="Print a JSON summary."),
) -> None:
    """A LeRobot dataset (format v3.0 of lerobot 0.6.1) written by LeRobot's own writer.

    Cameras as video, named state/action vectors, per-frame tasks, events, mask labels, stats.json.

    Needs the `lerobot` package: run it from .venv-lerobot (`make lerobot-env`).
    """
    from pathlib import Path

    from goalframe.interop.lerobot import LeRobotMissing, check_export, export_lerobot, lerobot_dataset_class

    with one_line_errors():
        try:
            check_export(dataset, Path(out))  # bad input first, in any environment
            lerobot_dataset_class()  # imported before quieting: lerobot sets its log levels on import
            _quiet_lerobot()
            with progress_bar("export lerobot", None, show=not json_output) as progress:

                def start(total: int):
                    task = progress.add_task("export lerobot", total=total)
                    return lambda n: progress.advance(task, n)

                summary = export_lerobot(dataset, out, repo_id=repo_id, progress=start)
        except LeRobotMissing as exc:
            fail(str(exc))
    if json_output:
        print_json(summary)
        return
    masks = f", mask labels of {', '.join(summary['mask_cameras'])}" if summary["mask_cameras"] else ""
    out_console.print(
        f"{dataset} -> {summary['out']} (LeRobot repo {summary['repo_id']}): {summary['episodes']} episodes,"
        f" {summary['frames']} frames, cameras {', '.join(summary['cameras'])}{masks};"
        f" {summary['bytes'] / 1e6:.1f} MB in {summary['seconds']} s"
    )
    err_console.print(f"load it: LeRobotDataset({summary['repo_id']!r}, root={summary['out']!r})")
