"""The choose-target scenario: three candidates around the player, the goal decides the outcome.

Generation (``goalframe synth vpt --scenario``): candidate placement and bearings, the
scripted demonstration mining the goal (truth) in every episode of a fixed seed set; the
closed-loop environment: mining the goal is a success, a distractor a failure; the
baselines of the same evaluation give rates in [0, 1] with Wilson intervals.
"""

from __future__ import annotations

import json
import random

import numpy as np
import pytest
from typer.testing import CliRunner

from goalframe.sim.vpt.choose_target import CANDIDATE_BEARINGS, KINDS, bearing_to, setup_choose_target
from goalframe.sim.vpt.constants import GROUND_Y, HEIGHT, WIDTH
from goalframe.sim.vpt.recorder import _env_action, _new_world
from goalframe.sim.vpt.world import VptWorld
from goalframe.toolkit.cli import app

FOV_HALF_X = 51.0  # degrees: half the frame's horizontal field of view (FOV_Y 70 at 16:9)


@pytest.mark.parametrize("same_kind", [False, True])
def test_the_scenario_places_three_candidates_at_the_stated_bearings(same_kind):
    world = VptWorld()
    for seed in range(12):
        world.reset(seed)
        layout = setup_choose_target(world, random.Random(seed), same_kind)
        assert len(layout.candidates) == 3 and 0 <= layout.goal < 3
        assert not world.mobs
        for candidate, (lo, hi) in zip(layout.candidates, CANDIDATE_BEARINGS):
            assert lo <= candidate.bearing <= hi
            assert candidate.bearing == pytest.approx(bearing_to(world, candidate.centre), abs=1e-3)
            assert world.blocks[candidate.cell][1] == candidate.object_id
            assert candidate.cell[1] == GROUND_Y and 2.5 <= candidate.distance <= 6.8
        kinds = [c.kind for c in layout.candidates]
        assert set(kinds) <= set(KINDS)
        assert len(set(kinds)) == (2 if same_kind else 3)
        # the one ahead is in view at the start, the two others are not
        _rgb, ids = world.render(cursor=False)
        shown = [bool((ids == c.object_id).any()) for c in layout.candidates]
        assert shown == [True, False, False]
        assert (
            abs(layout.candidates[1].bearing) > FOV_HALF_X and abs(layout.candidates[2].bearing) > FOV_HALF_X
        )


@pytest.mark.parametrize("scenario", ["choose-target", "choose-target-same"])
def test_the_scripted_player_mines_the_goal_candidate_first_in_every_episode(scenario):
    goals = set()
    for seed in range(30):
        world, player = _new_world(random.Random(seed), scenario)
        layout = player.layout
        goals.add(layout.goal)
        mined = []
        for _t in range(200):
            for event in world.step(_env_action(player.next_input(), world.gui_open)):
                if event["type"] == "mine_block":
                    mined.append(event["object_id"])
        assert mined == [layout.goal_candidate.object_id], (seed, mined)
    assert goals == {0, 1, 2}  # the goal is any of the three, not the one in view


def test_synth_cli_writes_the_scenario_truth_and_keeps_default_free_play(tmp_path):
    runner = CliRunner()
    out = tmp_path / "raw"
    result = runner.invoke(
        app,
        [
            "synth",
            "vpt",
            str(out),
            "--episodes",
            "2",
            "--seed",
            "5",
            "--frames",
            "160",
            "--scenario",
            "choose-target",
        ],
    )
    assert result.exit_code == 0, result.output
    truths = sorted((out / "truth").glob("*.json"))
    assert len(truths) == 2
    for path in truths:
        truth = json.loads(path.read_text())
        scene = truth["scenario"]
        assert scene["scenario"] == "choose-target" and len(scene["candidates"]) == 3
        mined = [e for e in truth["events"] if e["type"] == "mine_block"]
        assert [e["object_id"] for e in mined] == [scene["goal_object_id"]]
        assert mined[0]["visible"]  # under the crosshair on the event frame
        ids = np.load(path.with_suffix(".npz"))["object_ids"]
        assert ids.shape[1:] == (HEIGHT, WIDTH)
        assert (ids[0] == scene["candidates"][0]["object_id"]).any()
    bad = runner.invoke(app, ["synth", "vpt", str(tmp_path / "bad"), "--scenario", "pick-one"])
    assert bad.exit_code != 0 and "--scenario must be one of" in bad.output
    assert not (tmp_path / "bad").exists()
