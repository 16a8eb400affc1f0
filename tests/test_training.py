"""The minimal trainer and evaluator: overfitting, checkpoints and resume, deterministic
evaluation, environments, the command line, and a briefly trained policy against a random one.

The datasets are generated once per session (small: a few hundred frames per format) with
the real pipeline and truth mask tracks (``goalframe.pipeline.prepare.prepare_*``).
"""

from __future__ import annotations

import json

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

from goalframe.pipeline.prepare import prepare_agibot, prepare_vpt
from goalframe.toolkit.cli import app
from goalframe.training.data import CachedCrossView, CachedMSTH
from goalframe.training.envs import AgibotArrangeEnv, AgibotOracle, VptOracle, VptReachEnv, run_episode
from goalframe.training.evaluate import Rocket2Agent, closed_loop_rocket2, evaluate_run, random_factory
from goalframe.training.models import Act2GoalPolicy, Rocket2Policy
from goalframe.training.trainer import (
    CHECKPOINT,
    TrainConfig,
    load_checkpoint,
    load_policy,
    make_task,
    resolve,
    train,
)

SMALL_MSTH = {"horizon": 48, "near": 6, "stride": 2, "distal": 3}


@pytest.fixture(scope="session")
def data(tmp_path_factory) -> dict[str, str]:
    base = tmp_path_factory.mktemp("training-data")
    vpt = prepare_vpt(base, episodes=6, frames=300, seed=0)
    agibot = prepare_agibot(base, episodes=3, frames_per_object=40, seed=0, msth=SMALL_MSTH)
    return {"vpt": vpt.dataset, "agibot": agibot.dataset}


def _overfit(task, model, indices, steps: int) -> tuple[float, float]:
    optimizer = torch.optim.AdamW(model.parameters(), lr=3e-3, weight_decay=0.0)
    batch = task.batch([task.data["train"][int(i)] for i in indices])
    first = last = None
    for _ in range(steps):
        loss, _parts = task.loss(model, batch)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        first = float(loss.detach()) if first is None else first
        last = float(loss.detach())
    return first, last


def test_rocket2_overfits_a_few_windows(data):
    torch.manual_seed(0)
    config = resolve(TrainConfig(policy="rocket2", dataset=data["vpt"], width=32, blocks=1, window=4))
    task = make_task(config, splits=("train",))
    assert isinstance(task.data["train"], CachedCrossView) and len(task.data["train"].indices) >= 4
    first, last = _overfit(task, task.make_model(), task.data["train"].indices[:4], 150)
    assert last < 0.05 * first and last < 0.3, (first, last)
    # the left-right augmentation mirrors images and labels together
    samples = [task.data["train"][int(i)] for i in task.data["train"].indices[:2]]
    plain, mirrored = task.batch(samples), task.batch(samples, np.array([True, False]))
    assert torch.equal(mirrored["frames"][0], plain["frames"][0].flip(-1)) and torch.equal(
        mirrored["frames"][1], plain["frames"][1]
    )
    assert torch.equal(mirrored["action"][0, :, 21], 10 - plain["action"][0, :, 21])
    seen = plain["visible"][0]
    assert torch.allclose(mirrored["centroid"][0, seen, 1], 1 - plain["centroid"][0, seen, 1])


def test_act2goal_overfits_a_few_samples(data):
    torch.manual_seed(0)
    config = resolve(TrainConfig(policy="act2goal", dataset=data["agibot"], width=32, blocks=1))
    task = make_task(config, splits=("train",))
    assert isinstance(task.data["train"], CachedMSTH)
    task.stats = task.compute_stats()
    first, last = _overfit(task, task.make_model(), np.arange(0, 64, 8), 150)
    assert last < 0.05 * first, (first, last)


def test_checkpoint_round_trip_and_resume(data, tmp_path):
    base = dict(
        policy="rocket2",
        dataset=data["vpt"],
        width=32,
        blocks=1,
        window=4,
        batch_size=4,
        checkpoint_every=3,
        val_every=3,
    )
    train(TrainConfig(**base, steps=6), tmp_path / "straight")
    state = load_checkpoint(tmp_path / "straight" / CHECKPOINT)  # weights_only=True
    assert state["step"] == 6 and set(state) == {
        "model",
        "optimizer",
        "step",
        "elapsed",
        "cpu",
        "stats",
    }  # checksum checked, dropped
    config, model, _stats, step = load_policy(tmp_path / "straight")
    assert step == 6 and isinstance(model, Rocket2Policy)
    again = Rocket2Policy(model.config)
    again.load_state_dict(torch.load(tmp_path / "straight" / CHECKPOINT, weights_only=True)["model"])
    frames = torch.randint(0, 255, (2, 4, 3, 64, 64), dtype=torch.uint8)
    goal, mask = torch.randint(0, 255, (2, 3, 64, 64), dtype=torch.uint8), torch.rand(2, 1, 64, 64) > 0.5
    with torch.no_grad():
        a = model(frames, goal, mask, torch.tensor([2, 0]))
        b = again.eval()(frames, goal, mask, torch.tensor([2, 0]))
    assert all(torch.equal(a[k], b[k]) for k in a)
    # interrupted at step 3, resumed to 6: the same weights as the straight run
    train(TrainConfig(**base, steps=3), tmp_path / "resumed")
    resumed = train(TrainConfig(**base, steps=6), tmp_path / "resumed")
    assert resumed.resumed_from == 3
    left = load_checkpoint(tmp_path / "resumed" / CHECKPOINT)["model"]
    assert all(torch.equal(left[k], state["model"][k]) for k in left)
    log = [json.loads(line) for line in (tmp_path / "resumed" / "log.jsonl").read_text().splitlines()]
    assert [r["step"] for r in log if "val" in r] == [3, 6]
    with pytest.raises(ValueError, match="another configuration"):
        train(TrainConfig(**{**base, "width": 48}, steps=6), tmp_path / "resumed")


def test_environments_are_seeded_and_solvable():
    env = VptReachEnv()
    first = env.reset(5)
    goal = env.goal_image.copy()
    env.reset(6)
    again = env.reset(5)
    assert np.array_equal(first["frame"], again["frame"]) and np.array_equal(goal, env.goal_image)
    assert env.goal_mask.any() and env.episode.goal_view != env.episode.start
    assert all(run_episode(env, VptOracle(env), s)["success"] for s in range(3))
    arrange = AgibotArrangeEnv(n_objects=1, frames_per_object=40)
    assert run_episode(arrange, AgibotOracle(arrange), 0)["success"]


def test_evaluation_is_deterministic_and_writes_metrics(data, tmp_path):
    run = tmp_path / "run"
    train(
        TrainConfig(
            policy="rocket2", dataset=data["vpt"], steps=4, width=32, blocks=1, window=4, batch_size=4
        ),
        run,
    )
    first = evaluate_run(run, episodes=3, seed=7)
    second = evaluate_run(run, episodes=3, seed=7)
    for key in ("closed_loop", "random", "offline"):
        assert first[key] == second[key]
    assert (
        (run / "metrics.json").exists()
        and (run / "learning_curve.png").exists()
        and (run / "success.png").exists()
    )
    assert set(first["offline"]) >= {"button_accuracy", "camera_accuracy", "centroid_error", "visibility_f1"}


def test_cli_train_and_eval_act2goal(data, tmp_path):
    runner = CliRunner()
    run = tmp_path / "a2g"
    result = runner.invoke(
        app,
        [
            "train",
            data["agibot"],
            "--policy",
            "act2goal",
            "--out",
            str(run),
            "--steps",
            "3",
            "--ablate",
            "msth",
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    summary = json.loads(result.output)
    assert summary["steps"] == 3 and (run / CHECKPOINT).exists()
    _config, model, _stats, _step = load_policy(run)
    assert isinstance(model, Act2GoalPolicy) and not model.config.msth
    result = runner.invoke(app, ["eval", str(run), "--episodes", "1", "--no-offline"])
    assert result.exit_code == 0, result.output
    metrics = json.loads((run / "metrics.json").read_text())
    assert set(metrics["closed_loop"]["by_length"]) == {"1", "3", "5"}
    # offline errors come with the "stand still" baseline, so a model that learned nothing shows it
    from goalframe.training.evaluate import offline_metrics

    config, model, stats, _step = load_policy(run)
    offline = offline_metrics(config, model, stats, max_samples=16)
    assert all(
        np.isfinite(offline[k]) and offline[k] > 0
        for k in (
            "first_action_error_cm",
            "hold_position_first_action_error_cm",
            "hold_position_chunk_action_error_cm",
        )
    )
    bad = runner.invoke(
        app,
        [
            "train",
            data["agibot"],
            "--policy",
            "act2goal",
            "--out",
            str(tmp_path / "x"),
            "--ablate",
            "visibility",
        ],
    )
    assert bad.exit_code == 2 and "not an ablation of act2goal" in bad.output
    for command in ("train", "eval"):
        assert "Examples" in runner.invoke(app, [command, "--help"]).output


def test_briefly_trained_rocket2_beats_a_random_policy(data, tmp_path):
    """About a minute of training on 1800 recorded frames: the policy walks up to the goal
    object and hits it more often than a random policy (which mostly stays where it is)."""
    run = tmp_path / "minute"
    train(TrainConfig(policy="rocket2", dataset=data["vpt"], steps=300, val_every=10_000), run)
    config, model, stats, _step = load_policy(run)
    trained = closed_loop_rocket2(lambda s: Rocket2Agent(model, sample=True, seed=s), 16, 3000)
    random = closed_loop_rocket2(random_factory(config, stats), 16, 3000)
    assert trained["mean_approach"] > random["mean_approach"] + 1.0, (
        trained["mean_approach"],
        random["mean_approach"],
    )
    assert trained["success_rate"] > random["success_rate"], (trained["success_rate"], random["success_rate"])


def test_act2goal_without_distal_targets_is_a_one_line_error(data, tmp_path):
    """MSTH indices clipped at task segments shorter than the horizon leave every distal
    target padded: `goalframe msth` refuses to write such a table, and training on one
    written before that check says so (and how to fix it) instead of learning from NaN."""
    import shutil
    from dataclasses import asdict

    import polars as pl

    from goalframe.sampling import MSTHSpec, build_msth, msth_index
    from goalframe.sampling.msth import episode_segments, index_frame
    from goalframe.schemas.layout import utc_now
    from goalframe.storage import open_dataset
    from goalframe.storage.store import new_step, open_root, record_step, write_table

    copy = tmp_path / "segment-clipped.zarr"
    shutil.copytree(data["agibot"], copy)
    spec = MSTHSpec(horizon=200, near=60, stride=5, distal=3)
    with pytest.raises(ValueError, match="every distal target would be padding; use --clip episode"):
        build_msth(str(copy), spec, clip="segment")
    ds = open_dataset(str(copy))  # the table as goalframe wrote it before refusing
    table = pl.concat(
        [
            index_frame(e, msth_index(ds.length(e), spec, *episode_segments(ds, e), "segment"))
            for e in ds.episodes
        ]
    )
    write_table(str(copy), "msth", table)
    record_step(
        open_root(str(copy), "r+"),
        new_step("msth", {**asdict(spec), "clip": "segment"}, utc_now(), utc_now(), {}),
    )
    result = CliRunner().invoke(
        app, ["train", str(copy), "--policy", "act2goal", "--out", str(tmp_path / "run"), "--steps", "2"]
    )
    assert result.exit_code == 2, result.output
    assert (
        "every distal action target in the training split is padding" in result.output
        and "--clip episode" in result.output
    )
    assert "Traceback" not in result.output


def test_eval_scenario_whiteboard_scores_act2goal_by_strokes_band(data, tmp_path):
    runner = CliRunner()
    run = tmp_path / "a2g-board"
    args = ["train", data["agibot"], "--policy", "act2goal", "--out", str(run), "--steps", "2"]
    assert runner.invoke(app, args).exit_code == 0
    args = ["eval", str(run), "--scenario", "whiteboard", "--episodes", "1", "--no-offline", "--no-baseline"]
    result = runner.invoke(app, args)
    assert result.exit_code == 0, result.output
    metrics = json.loads((run / "metrics.json").read_text())
    assert metrics["scenario"] == "whiteboard" and (run / "success.png").exists()
    by_band = metrics["closed_loop"]["by_band"]
    assert set(by_band) == {"1-2", "3-4", "6-8"}
    assert all(len(v["ci95"]) == 2 and 0.0 <= v["mean_iou"] <= 1.0 for v in by_band.values())
