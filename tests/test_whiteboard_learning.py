"""Act2Goal on the whiteboard: the grid stroke set, the uniform distal-anchor ablation, the
goal-blind model, and the ablation's table written into a README from its JSON."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
import torch

from goalframe.pipeline.whiteboard_ablation import MARKERS, prepare_whiteboard, table_markdown, write_readme
from goalframe.sim.agibot.whiteboard import (
    BOARD_X,
    BOARD_Y,
    GRID_SIZE,
    PEN_RADIUS,
    draw_strokes,
    grid_strokes,
    stroke_ink,
)
from goalframe.training.data import CachedMSTH, uniform_distal_offsets
from goalframe.training.models import Act2GoalConfig, Act2GoalPolicy
from goalframe.training.whiteboard_env import WhiteboardEnv, WhiteboardOracle
from goalframe.training.whiteboard_eval import run_whiteboard_episode


@pytest.fixture(scope="module")
def board_data(tmp_path_factory) -> str:
    out = tmp_path_factory.mktemp("board")
    return prepare_whiteboard(out, episodes=2, seed=3, frames_per_stroke=24, stroke_set="grid").dataset


def test_grid_strokes_are_a_vocabulary_on_the_board():
    strokes = grid_strokes()
    assert len(strokes) == GRID_SIZE
    for a, b in strokes:  # the pen's disc stays on the board
        for p in (a, b):
            assert BOARD_X[0] + PEN_RADIUS <= p[0] <= BOARD_X[1] - PEN_RADIUS
            assert BOARD_Y[0] + PEN_RADIUS <= p[1] <= BOARD_Y[1] - PEN_RADIUS
    inks = [stroke_ink([s]) for s in strokes]
    assert all((x & y).sum() == 0 for i, x in enumerate(inks) for y in inks[i + 1 :])  # no overlap
    drawn = draw_strokes(np.random.default_rng(0), 5, "grid")
    keys = {tuple(np.round(a, 4)) for a, _b in drawn}
    assert len(keys) == 5 and keys <= {tuple(np.round(a, 4)) for a, _b in strokes}
    with pytest.raises(ValueError, match="grid has 8 strokes"):
        draw_strokes(np.random.default_rng(0), 9, "grid")


def test_grid_oracle_draws_its_goal():
    env = WhiteboardEnv((3, 4), size=16, frames_per_stroke=24, stroke_set="grid")
    result = run_whiteboard_episode(env, WhiteboardOracle(env), 7)
    assert result["success"] and result["strokes"] in (3, 4)


def test_uniform_anchors_replace_the_log_spaced_ones(board_data):
    log = CachedMSTH(board_data, cameras=["head_color"], size=16, goal="episode_end", val_fraction=0.0)
    uniform = CachedMSTH(
        board_data,
        cameras=["head_color"],
        size=16,
        goal="episode_end",
        val_fraction=0.0,
        distal_spacing="uniform",
    )
    spec = log.spec
    offsets = uniform_distal_offsets(spec["horizon"], spec["near"], spec["distal"])
    assert offsets[-1] == spec["horizon"] and np.all(np.diff(np.diff(offsets)) <= 1)
    first = uniform[0]
    assert first["distal_index"].tolist() == offsets.tolist()  # frame 0 of a long enough episode
    assert log[0]["distal_index"].tolist() != offsets.tolist()
    assert log[0]["distal_index"][-1] == first["distal_index"][-1] == spec["horizon"]
    last = uniform[len(uniform) - 1]  # the last frame: every anchor past the clip end, padded
    assert bool(last["distal_pad"].all()) and bool(last["distal_action_pad"].all())
    with pytest.raises(ValueError, match="distal_spacing"):
        CachedMSTH(board_data, cameras=["head_color"], size=16, distal_spacing="even")


def test_goal_blind_model_ignores_its_goal():
    torch.manual_seed(0)
    obs = torch.randint(0, 255, (2, 3, 32, 32), dtype=torch.uint8)
    goals = torch.randint(0, 255, (2, 2, 3, 32, 32), dtype=torch.uint8)
    state = torch.zeros(2, 10)
    for uses_goal in (True, False):
        model = Act2GoalPolicy(Act2GoalConfig(size=32, width=32, blocks=1, uses_goal=uses_goal)).eval()
        a, b = (model(obs, g, state)["proximal"] for g in goals)
        assert torch.allclose(a, b) == (not uses_goal)


def _results(rate: float) -> dict:
    band = {"success_rate": rate, "ci95": [0.0, 1.0], "mean_iou": 0.3}
    return {
        "bands": ["1-2"],
        "policies": {"MSTH (log anchors)": {"by_band": {"1-2": band}}},
        "args": {
            "eval_episodes": 4,
            "eval_seed": 1000,
            "threshold": 0.5,
            "stroke_set": "grid",
            "steps": 10,
            "size": 32,
        },
        "data": {"episodes": 2, "frames": 100},
        "seconds": 60.0,
    }


def test_readme_table_is_rewritten_between_its_markers(tmp_path):
    readme = tmp_path / "README.md"
    readme.write_text(f"intro\n{MARKERS[0]}\nold table\n{MARKERS[1]}\nafter\n")
    write_readme(readme, _results(0.25))
    text = readme.read_text()
    assert "old table" not in text and "| MSTH (log anchors) | 0.25 [0.00, 1.00] IoU 0.30 |" in text
    assert text.startswith("intro\n") and text.endswith("after\n")
    write_readme(readme, _results(0.75))
    assert readme.read_text().count(MARKERS[0]) == 1 and "0.75 [0.00, 1.00]" in readme.read_text()
    assert table_markdown(_results(0.5)).splitlines()[2].startswith("| MSTH (log anchors) | 0.50")
    (tmp_path / "bare.md").write_text("no markers\n")
    with pytest.raises(ValueError, match="bare.md: no"):
        write_readme(tmp_path / "bare.md", _results(0.5))


def test_cli_rejects_a_grid_band_beyond_the_vocabulary(tmp_path):
    result = subprocess.run(
        [sys.executable, "-m", "goalframe.toolkit.cli", "synth", "agibot", str(tmp_path / "x")]
        + ["--scenario", "whiteboard", "--strokes", "6-9", "--stroke-set", "grid"],
        capture_output=True,
        text=True,
    )
    assert result.returncode != 0 and "--stroke-set grid has 8 strokes" in result.stderr
    assert not (tmp_path / "x").exists()
    assert Path(tmp_path).exists()
