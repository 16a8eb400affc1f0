"""The choose-target scenario: three candidates around the player, the goal decides the outcome.

Generation (``goalframe synth vpt --scenario``): candidate placement and bearings, the
scripted demonstration mining the goal (truth) in every episode of a fixed seed set; the
closed-loop environment: mining the goal is a success, a distractor a failure; the
baselines of the same evaluation give rates in [0, 1] with Wilson intervals.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import numpy as np
import polars as pl
import pytest
import torch
from typer.testing import CliRunner

from goalframe.pipeline.choose_target import prepare_choose_target
from goalframe.sim.vpt.choose_target import CANDIDATE_BEARINGS, KINDS, bearing_to, setup_choose_target
from goalframe.sim.vpt.constants import GROUND_Y, HEIGHT, WIDTH
from goalframe.sim.vpt.recorder import _env_action, _new_world
from goalframe.sim.vpt.world import VptWorld
from goalframe.storage import open_dataset
from goalframe.toolkit.cli import app
from goalframe.training.choose_env import (
    ChooseOraclePolicy,
    VptChooseEnv,
    _GoToCandidate,
    wilson_interval,
)
from goalframe.training.choose_eval import baselines, closed_loop_choose
from goalframe.training.envs import env_action, run_episode
from goalframe.training.evaluate import evaluate_run
from goalframe.training.trainer import TrainConfig, load_policy, train

STATS = {  # action marginals as the trainer stores them: attack and forward often, camera still
    "button_p": torch.tensor([0.05] * 20).index_fill_(0, torch.tensor([0, 2]), 0.6),
    "camera_p": torch.full((2, 11), 0.02).index_fill_(1, torch.tensor([5]), 0.8),
}
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


# ---------------------------------------------------------------------------- the environment


class _GoToDistractor(_GoToCandidate):
    def choose(self, layout):
        return next(i for i in range(3) if i != layout.goal)


def test_the_environment_scores_the_goal_a_success_and_a_distractor_a_failure():
    env = VptChooseEnv(size=32)
    for seed in (1000, 1001, 1002):
        first = env.reset(seed)
        again = env.reset(seed)
        assert np.array_equal(first["goal_image"], again["goal_image"])
        assert first["goal_mask"].shape == (1, 32, 32) and first["goal_mask"].any()
        won = run_episode(env, ChooseOraclePolicy(env), seed)
        assert won["success"] and won["outcome"] == "goal"
        lost = run_episode(env, _GoToDistractor(env), seed)
        assert not lost["success"] and lost["outcome"] == "distractor"
        assert lost["steps"] < env.max_steps  # the distractor ended the episode
        with pytest.raises(RuntimeError, match="episode over"):
            env.step(env_action(np.zeros(20), np.array([5, 5])))
    idle = VptChooseEnv(size=32, max_steps=5)
    result = run_episode(idle, _Idle(), 1000)
    assert not result["success"] and result["outcome"] is None and result["steps"] == 5


class _Idle:
    def reset(self, observation):
        pass

    def act(self, observation):
        return env_action(np.zeros(20), np.array([5, 5]))


def test_wilson_interval():
    assert wilson_interval(5, 10) == pytest.approx((0.2366, 0.7634), abs=1e-4)
    assert wilson_interval(0, 20) == pytest.approx((0.0, 0.1611), abs=1e-4)
    assert wilson_interval(20, 20)[1] == pytest.approx(1.0)
    assert wilson_interval(0, 0) == (0.0, 1.0)


def test_the_baselines_run_and_give_rates_with_intervals():
    for name, (factory, with_env) in baselines(None, STATS).items():
        summary = closed_loop_choose(factory, 4, 2000, "choose-target", size=32, with_env=with_env)
        lo, hi = summary["ci95"]
        assert 0.0 <= lo <= summary["success_rate"] <= hi <= 1.0, name
        assert summary["episodes"] == 4 == sum(summary["outcomes"].values())
    oracle = closed_loop_choose(ChooseOraclePolicy, 4, 2000, "choose-target-same", size=32, with_env=True)
    assert oracle["success_rate"] == 1.0


# ---------------------------------------------------------------------------- data and runs


@pytest.fixture(scope="module")
def choose_data(tmp_path_factory) -> str:
    base = tmp_path_factory.mktemp("choose-data")
    return prepare_choose_target(base, episodes=5, frames=140, seed=1, masks="truth").dataset


def test_pairs_from_the_pipeline_carry_the_goal_candidate(choose_data):
    ds = open_dataset(choose_data)
    raw = Path(choose_data).parent / "raw-vpt"
    pairs = ds.table("pairs")
    assert pairs.height and set(pairs["interaction"].to_list()) == {"mine"}
    crossed = 0
    for episode in ds.episodes:
        truth = json.loads((raw / "truth" / f"{episode}.json").read_text())
        goal = truth["scenario"]["goal_object_id"]
        ids = np.load(raw / "truth" / f"{episode}.npz")["object_ids"]
        rows = pairs.filter(pl.col("episode_id") == episode)
        assert rows.height
        same = rows.filter(pl.col("goal_episode_id") == episode)
        for frame in set(same["goal_frame"].to_list()):  # the goal view shows the goal candidate
            assert (ids[frame] == goal).sum() > 0
        # a second goal view of the same kind from another episode, where one mined that kind too
        other = rows.filter(pl.col("goal_episode_id") != episode)
        kind = next(c["kind"] for c in truth["scenario"]["candidates"] if c["object_id"] == goal)
        assert set(other["object"].to_list()) <= {kind}
        crossed += other.height > 0
        # the windows reach back before the goal came into view: the search is in them
        first_seen = int(np.argmax((ids == goal).reshape(len(ids), -1).any(1)))
        assert min(rows["frame"].to_list()) <= max(first_seen - 8, 0)
    assert crossed  # five episodes, three kinds: some goal kind comes back


def test_runs_evaluate_on_the_scenario_with_every_baseline(choose_data, tmp_path):
    metrics = {}
    for name, ablate in (("full", []), ("blind", ["goal"])):
        config = TrainConfig(
            policy="rocket2",
            dataset=choose_data,
            steps=3,
            size=32,
            width=32,
            blocks=1,
            window=4,
            ablate=ablate,
        )
        train(config, tmp_path / name)
        metrics[name] = evaluate_run(
            tmp_path / name, episodes=3, seed=3000, offline=False, scenario="choose-target"
        )
    full, blind = metrics["full"], metrics["blind"]
    assert set(full["baselines"]) == {
        "random (uniform)",
        "random (data marginals)",
        "goal zeroed at evaluation",
        "nearest candidate",
        "oracle",
    }
    assert "goal zeroed at evaluation" not in blind["baselines"]  # it is goal-blind already
    for summary in [full["closed_loop"], blind["closed_loop"], *full["baselines"].values()]:
        lo, hi = summary["ci95"]
        assert 0.0 <= lo <= summary["success_rate"] <= hi <= 1.0
    assert full["baselines"]["oracle"]["success_rate"] == 1.0
    written = json.loads((tmp_path / "full" / "metrics.json").read_text())
    assert (
        written["scenario"] == "choose-target"
        and written["closed_loop"]["ci95"] == full["closed_loop"]["ci95"]
    )
    # the goal-blind model's output does not depend on the goal; the full one's does
    _config, model, _stats, _step = load_policy(tmp_path / "blind")
    images = torch.randint(0, 255, (2, 3, 32, 32), dtype=torch.uint8)
    masks = torch.rand(2, 1, 32, 32) > 0.5
    tokens = model.encode_goal(images, masks)
    assert torch.equal(tokens[0], tokens[1])
    _config, model, _stats, _step = load_policy(tmp_path / "full")
    tokens = model.encode_goal(images, masks)
    assert not torch.equal(tokens[0], tokens[1])


def test_eval_cli_refuses_an_unknown_scenario(tmp_path):
    (tmp_path / "run").mkdir()
    result = CliRunner().invoke(app, ["eval", str(tmp_path / "run"), "--scenario", "pick-one"])
    assert result.exit_code != 0 and "--scenario must be one of" in result.output
