"""The ``goalframe`` command line: one module per command group."""

from __future__ import annotations

import typer

from goalframe import __version__
from goalframe.toolkit import (
    build,
    demo,
    evaluate,
    events,
    export,
    info,
    ingest,
    masks,
    msth,
    pairs,
    report,
    review,
    synth,
    train,
    verify,
    view,
)
from goalframe.toolkit.common import example

app = typer.Typer(
    name="goalframe",
    help="Build goal-conditioned visuomotor datasets from VPT and AgiBot recordings.",
    epilog=example(
        "goalframe demo",
        "goalframe synth agibot raw/agibot --episodes 3",
        "goalframe build raw/agibot --format agibot --out data/agibot.zarr",
        "goalframe train data/agibot.zarr --policy act2goal --out runs/act2goal",
        "goalframe eval runs/act2goal",
        "goalframe COMMAND --help",
    ),
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
)
app.add_typer(synth.app, name="synth")
app.add_typer(ingest.app, name="ingest")
app.command("events", epilog=events.EPILOG)(events.events)
app.command("masks", epilog=masks.EPILOG)(masks.masks)
app.command("build", epilog=build.EPILOG)(build.build)
app.command("info", epilog=info.EPILOG)(info.info)
app.command("demo", epilog=demo.EPILOG)(demo.demo)
app.add_typer(review.app, name="review")
app.command("pairs", epilog=pairs.EPILOG)(pairs.pairs)
app.command("msth", epilog=msth.EPILOG)(msth.msth)
app.command("verify", epilog=verify.EPILOG)(verify.verify)
app.command("train", epilog=train.EPILOG)(train.train)
app.command("eval", epilog=evaluate.EPILOG)(evaluate.evaluate)
app.add_typer(export.app, name="export")
app.command("report", epilog=report.EPILOG)(report.report)
app.command("view", epilog=view.EPILOG)(view.view)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"goalframe {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Print the version."
    ),
) -> None:
    """Build goal-conditioned visuomotor datasets from VPT and AgiBot recordings."""


def main() -> None:
    app()


if __name__ == "__main__":
    main()
