"""``goalframe info DS.zarr``: what a dataset holds."""

from __future__ import annotations

from typing import Optional

import typer
from rich.table import Table

from goalframe.storage import open_dataset
from goalframe.storage.summary import dataset_summary
from goalframe.toolkit.common import (
    STORAGE_OPTION_HELP,
    example,
    one_line_errors,
    out_console,
    parse_storage_options,
    print_json,
)


def info(
    dataset: str = typer.Argument(..., help="Dataset path (NAME.zarr or fsspec URL)."),
    episode: Optional[str] = typer.Option(None, help="List the arrays of this episode (default: the first)."),
    json_output: bool = typer.Option(False, "--json", help="Print everything as JSON."),
    storage_option: Optional[list[str]] = typer.Option(None, "--storage-option", help=STORAGE_OPTION_HELP),
) -> None:
    """Show episodes, frames, cameras, arrays, tables and the steps that built the dataset."""
    with one_line_errors():
        summary = dataset_summary(
            open_dataset(dataset, parse_storage_options(storage_option)), arrays_of=episode
        )
    if json_output:
        print_json(summary)
        return
    out_console.print(
        f"[bold]{summary['path']}[/] (layout {summary['layout']}): {summary['episodes']} episodes,"
        f" {summary['frames']} frames ({summary['hours']} h), formats {summary['formats']}, cameras"
        f" {summary['cameras']}, codec {summary['frame_codecs']}"
    )
    copies = _count_arrays(summary["actions_equal_state"])
    if copies:
        out_console.print(
            "actions that copy the state (carry no command of their own): "
            + ", ".join(f"{a} in {n} episode(s)" for a, n in copies.items())
        )
    if summary["effectors"]:
        out_console.print(
            "effectors: " + ", ".join(f"{kind} {n}" for kind, n in summary["effectors"].items())
        )
    if summary["incomplete_episodes"]:
        out_console.print(
            f"{summary['incomplete_episodes']} incomplete episode(s) (invisible; re-run ingest)"
        )
    if summary["features"]:
        out_console.print(
            f"features ({len(summary['features'])}): "
            + ", ".join(_feature_text(p, f) for p, f in summary["features"].items())
        )
    if "arrays" in summary:
        table = Table(title=f"arrays of {summary['arrays_of']}")
        for column in ("array", "shape", "dtype"):
            table.add_column(column)
        for name, entry in summary["arrays"].items():
            table.add_row(name, str(tuple("?" if n is None else n for n in entry["shape"])), entry["dtype"])
        out_console.print(table)
    out_console.print(
        "tables: " + (", ".join(f"{k} ({v} rows)" for k, v in summary["tables"].items()) or "none")
    )
    for step in summary["steps"]:
        out_console.print(f"step {step['step']} at {step['finished']}: {step['summary']}")


def _feature_text(path: str, feature: dict) -> str:
    """``actions/move float32[2] (m)``: the path, dtype, shape of one row and unit."""
    shape = "x".join("?" if n is None else str(n) for n in feature["shape"])
    unit = f" ({feature['unit']})" if feature.get("unit") else ""
    return f"{path} {feature['dtype']}[{shape}]{unit}"


def _count_arrays(per_episode: dict[str, list[str]]) -> dict[str, int]:
    counts: dict[str, int] = {}
    for arrays in per_episode.values():
        for name in arrays:
            counts[name] = counts.get(name, 0) + 1
    return dict(sorted(counts.items()))


EPILOG = example("goalframe info data/vpt.zarr", "goalframe info data/vpt.zarr --json")
