"""The build chain as a library: every step option reachable from ``goalframe build``, and
``goalframe.pipeline.build`` from Python (steps by name, parameters by step, one lease)."""

from __future__ import annotations

import subprocess
import sys

import click
import pytest
import typer

from goalframe import pipeline
from goalframe.annotators.masks import MaskOptions
from goalframe.sampling.msth import MSTHSpec
from goalframe.sim.vpt.synth import synthesize_vpt
from goalframe.storage import open_dataset
from goalframe.toolkit.cli import app

STEP_COMMANDS = (["ingest", "vpt"], ["ingest", "agibot"], ["events"], ["masks"], ["pairs"], ["msth"])


def _options(path: list[str]) -> set[str]:
    command = typer.main.get_command(app)
    for name in path:
        command = command.commands[name]
    return {
        flag
        for param in command.params
        if isinstance(param, click.Option)
        for flag in param.opts
        if flag.startswith("--")
    }


@pytest.mark.parametrize("path", STEP_COMMANDS, ids=" ".join)
def test_every_step_option_is_an_option_of_build(path):
    missing = _options(path) - _options(["build"])
    assert not missing, f"goalframe {' '.join(path)} options missing from goalframe build: {sorted(missing)}"


def test_build_from_python_runs_the_named_steps_under_one_lease(tmp_path):
    raw, out = tmp_path / "raw", str(tmp_path / "vpt.zarr")
    synthesize_vpt(raw, episodes=1, seed=0, frames=60)

    class Probe(pipeline.Step):
        """Between two steps: another process's writer is refused (the chain holds the lease)."""

        name = "probe"

        def run(self, dataset, context):
            other = subprocess.run(
                [sys.executable, "-m", "goalframe.toolkit.cli", "events", dataset],
                capture_output=True,
                text=True,
            )
            assert other.returncode == 2 and "build vpt" in other.stderr, other.stderr
            return len(open_dataset(dataset).episodes)

    summary = pipeline.build(
        raw, out, "vpt", ["ingest", "events", Probe(), "masks"], masks=pipeline.Masks(MaskOptions(window=8))
    )
    assert list(summary) == ["ingest", "events", "probe", "masks"]
    assert summary["ingest"]["written"] == 1 and summary["probe"] == 1
    assert summary["masks"]["tracks"] == summary["masks"]["written"]
    with pytest.raises(ValueError, match="not in the chain"):
        pipeline.build(
            raw, out, "vpt", ["events"], msth=pipeline.MSTH(MSTHSpec(horizon=12, near=6, stride=2, distal=3))
        )
    with pytest.raises(ValueError, match="--clip"):  # validated before any work
        pipeline.build(raw, out, "vpt", ["msth"], msth=pipeline.MSTH(clip="task"))


def test_the_readme_build_from_python_example_runs_as_written(tmp_path):
    """The README's "Build from Python" block, as a script, on one short generated AgiBot episode."""
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[1] / "README.md").read_text()
    block = next(
        b.split("```", 1)[0]
        for b in readme.split("```python")[1:]
        if "pipeline.build(" in b.split("```", 1)[0]
    )
    synth = subprocess.run(
        [
            sys.executable,
            "-m",
            "goalframe.toolkit.cli",
            "synth",
            "agibot",
            "raw/agibot",
            "--episodes",
            "1",
            "--frames-per-object",
            "90",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert synth.returncode == 0, synth.stderr
    (tmp_path / "example.py").write_text(block)
    run = subprocess.run(
        [sys.executable, "example.py"], cwd=tmp_path, capture_output=True, text=True, timeout=900
    )
    assert run.returncode == 0, run.stderr[-2000:]
    written, *_ = run.stdout.split()
    assert written == "1"
    built = open_dataset(str(tmp_path / "data/agibot-py.zarr"))
    assert {"events", "tracks", "msth"} <= set(built.tables) and built.table("msth").height > 0
