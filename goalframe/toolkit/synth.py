"""``goalframe synth vpt|agibot OUT``: realistic raw recordings plus ground truth."""

from __future__ import annotations

from pathlib import Path

import typer

from goalframe.sources.registry import get_format
from goalframe.toolkit.common import example, one_line_errors, out_console, progress_bar

app = typer.Typer(
    help="Generate realistic raw recordings (the real file layout) with ground truth.",
    epilog=example(
        "goalframe synth vpt raw/vpt --episodes 4 --seed 0", "goalframe synth agibot raw/agibot --episodes 3"
    ),
    no_args_is_help=True,
)


def _check_at_least(flag: str, value: float, minimum: float) -> None:
    if value < minimum:
        raise ValueError(f"{flag} must be at least {minimum}, got {value}")


def _run(fmt: str, out: Path, episodes: int, seed: int, **options) -> None:
    """Every option is checked before the progress bar appears and before anything is written."""
    _check_at_least("--episodes", episodes, 1)
    if out.exists() and not out.is_dir():
        raise NotADirectoryError(f"{out}: exists and is not a folder")
    with progress_bar(f"synth {fmt}", episodes) as progress:
        task = progress.add_task(f"synth {fmt}", total=episodes)
        paths = get_format(fmt).synthesize(
            out, episodes=episodes, seed=seed, progress=lambda _frames=0: progress.advance(task, 1), **options
        )
    out_console.print(f"wrote {len(paths)} {fmt} episodes to {out} (ground truth in {out / 'truth'})")


@app.command(
    "vpt",
    epilog=example(
        "goalframe synth vpt raw/vpt --episodes 4 --seed 0",
        "goalframe synth vpt raw/vpt --frames 1200 --quirk-rate 0",
        "goalframe synth vpt raw/choose --scenario choose-target --frames 200 --episodes 20",
        "goalframe synth vpt raw/items --item-entities --episodes 2",
    ),
)
def synth_vpt(
    out: Path = typer.Argument(..., help="Folder to write the recordings into."),
    episodes: int = typer.Option(4, help="Number of episodes."),
    seed: int = typer.Option(0, help="Random seed: the same seed writes the same bytes."),
    frames: int = typer.Option(400, help="Ticks (frames at 20 fps) per episode."),
    quirk_rate: float = typer.Option(0.3, help="Probability of each real-data quirk per episode."),
    scenario: str = typer.Option(
        "default",
        help=(
            "default (free play), choose-target (three candidate blocks of different kinds around the"
            " player, who mines the goal one) or choose-target-same (two of them of one kind)."
        ),
    ),
    item_entities: bool = typer.Option(
        False,
        "--item-entities",
        help="Draw drops as the small item entities they are (truth masks for pickups and drops);"
        " the jsonl stays the same.",
    ),
) -> None:
    """Write VPT contractor recordings (mp4 + jsonl + options.json + index) of a Minecraft-like world."""
    from goalframe.sim.vpt.choose_target import SCENARIOS

    with one_line_errors():
        _check_at_least("--frames", frames, 2)
        if not 0.0 <= quirk_rate <= 1.0:
            raise ValueError(f"--quirk-rate must be between 0 and 1, got {quirk_rate}")
        if scenario not in SCENARIOS:
            raise ValueError(f"--scenario must be one of {', '.join(SCENARIOS)}, got {scenario!r}")
        options = {} if scenario == "default" else {"scenario": scenario}
        if item_entities:
            options["item_entities"] = True
        _run("vpt", out, episodes, seed, frames=frames, quirk_rate=quirk_rate, **options)


@app.command(
    "agibot",
    epilog=example(
        "goalframe synth agibot raw/agibot --episodes 3 --seed 0",
        "goalframe synth agibot raw/board --scenario whiteboard --strokes 6-8 --episodes 20",
    ),
)
def synth_agibot(
    out: Path = typer.Argument(..., help="Folder to write the extracted AgiBot World layout into."),
    episodes: int = typer.Option(3, help="Number of episodes."),
    seed: int = typer.Option(0, help="Random seed."),
    frames_per_object: int = typer.Option(
        420,
        help=(
            "Frames (at 30 fps) per pick-and-place: a pick and a place segment of about 7 s each, as real"
            " segments last seconds (the card's example: frames 8-218)."
        ),
    ),
    dexhand: bool = typer.Option(
        True, help="Make the fifth episode a dexterous-hand one (twelve joint angles), as real releases hold."
    ),
    scenario: str = typer.Option(
        "default",
        help="default (pick-and-place) or whiteboard (the arms draw K strokes on a whiteboard on the table).",
    ),
    strokes: str = typer.Option(
        "1-2", help="whiteboard: strokes per episode, N or LOW-HIGH (the bands: 1-2, 3-4, 6-8)."
    ),
    frames_per_stroke: int = typer.Option(60, help="whiteboard: frames (at 30 fps) per stroke."),
    stroke_set: str = typer.Option(
        "free", help="whiteboard: free (strokes anywhere) or grid (K of 8 fixed strokes, the simpler task)."
    ),
) -> None:
    """Write AgiBot World recordings (an mp4 per camera, proprio_stats.h5, task_info, camera parameters)."""
    from goalframe.sim.agibot.constants import MIN_FRAMES_PER_OBJECT

    with one_line_errors():
        _check_at_least("--frames-per-object", frames_per_object, MIN_FRAMES_PER_OBJECT)
        if scenario == "whiteboard":
            from goalframe.sim.agibot.whiteboard import MIN_FRAMES_PER_STROKE, parse_strokes

            _check_at_least("--frames-per-stroke", frames_per_stroke, MIN_FRAMES_PER_STROKE)
            band = parse_strokes(strokes)
            options = {"scenario": scenario, "strokes": band, "frames_per_stroke": frames_per_stroke}
            if stroke_set != "free":  # the free set's calls stay as they were
                from goalframe.sim.agibot.whiteboard import check_stroke_set

                check_stroke_set(stroke_set, band)
                options["stroke_set"] = stroke_set
            _run("agibot", out, episodes, seed, **options)
            return
        if scenario != "default":
            raise ValueError(f"--scenario must be one of default, whiteboard, got {scenario!r}")
        _run("agibot", out, episodes, seed, frames_per_object=frames_per_object, dexhand=dexhand)
