"""What every command shares: one-line errors, progress bars, summaries."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.markup import escape
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TextColumn,
    TimeElapsedColumn,
    TimeRemainingColumn,
)

from goalframe.schemas.episode import RawFormatError
from goalframe.schemas.layout import DatasetError

err_console = Console(stderr=True, highlight=False, soft_wrap=True)
out_console = Console(highlight=False, soft_wrap=True)

EXPECTED_ERRORS = (DatasetError, RawFormatError, FileNotFoundError, NotADirectoryError, ValueError)


def fail(message: str, code: int = 2) -> NoReturn:
    err_console.print(f"[bold red]error:[/] {escape(message)}", soft_wrap=True)  # text, not markup
    raise typer.Exit(code)


@contextmanager
def one_line_errors() -> Iterator[None]:
    """Turn expected failures into one line on stderr and exit code 2 (no traceback)."""
    try:
        yield
    except typer.Exit:
        raise
    except EXPECTED_ERRORS as exc:
        fail(str(exc).splitlines()[0] if str(exc) else exc.__class__.__name__)


def progress_bar(description: str, total: int | None, show: bool = True) -> Progress:
    return Progress(
        TextColumn("[bold]{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
        console=err_console,
        transient=False,
        disable=not show or (not sys.stderr.isatty() and total is None),
    )


def pipeline_progress(show: bool = True) -> Callable[[str, int], Any]:
    """The ``progress`` of :func:`goalframe.pipeline.build`: a bar per step (hidden when not
    ``show``), and a line for every failed ingest episode or reader warning (always shown)."""
    from goalframe.storage.ingest import EpisodeResult

    @contextmanager
    def bar(description: str, total: int) -> Iterator[Callable[..., None]]:
        with progress_bar(description, total) as progress:
            task = progress.add_task(description, total=total)
            progress.disable = not show

            def advance(result: Any = None) -> None:
                progress.advance(task)
                if not isinstance(result, EpisodeResult):
                    return
                if result.status == "failed":
                    progress.console.print(f"[red]failed[/] {result.error}", soft_wrap=True)
                for warning in result.warnings:
                    progress.console.print(f"[yellow]warning[/] {warning}", soft_wrap=True)

            yield advance

    return bar


def print_json(data: Any) -> None:
    sys.stdout.write(json.dumps(data, indent=2, default=str) + "\n")


def example(*lines: str) -> str:
    """An epilog with examples, shown at the end of ``--help``."""
    return "Examples:\n\n" + "\n\n".join(f"  $ {line}" for line in lines)


# ---- fsspec storage options (--storage-option KEY=VALUE, repeatable) ----------------

STORAGE_OPTION_HELP = (
    "fsspec option for a URL dataset, KEY=VALUE, repeatable (dotted keys nest, values parse as JSON), "
    "e.g. endpoint_url=http://127.0.0.1:9000."
)


_TEXT_OPTIONS = {"key", "secret", "token", "password", "username", "profile", "endpoint_url"}


def parse_storage_options(pairs: list[str] | None) -> dict[str, Any] | None:
    """``["a=1", "client_kwargs.region_name=x"]`` -> ``{"a": 1, "client_kwargs": {"region_name": "x"}}``."""
    if not pairs:
        return None
    options: dict[str, Any] = {}
    for pair in pairs:
        key, sep, text = pair.partition("=")
        key = key.strip()
        if not sep or not key:
            raise ValueError(f"--storage-option {pair!r}: expected KEY=VALUE")
        *parents, leaf = key.split(".")
        value: Any = text
        if leaf not in _TEXT_OPTIONS:  # credentials stay text even when they look like numbers
            try:
                value = json.loads(text)
            except ValueError:
                pass
        target = options
        for parent in parents:
            target = target.setdefault(parent, {})
            if not isinstance(target, dict):
                raise ValueError(f"--storage-option {pair!r}: {parent!r} is already set to a value")
        target[leaf] = value
    return options
