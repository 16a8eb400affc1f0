"""Evaluation of a training run: closed-loop success in the generated worlds, offline metrics.

:func:`evaluate_run` loads a run's checkpoint and writes ``RUN/metrics.json`` and PNG plots:

- closed loop (:mod:`goalframe.training.envs`): success rate over ``episodes`` seeded
  episodes (seeds ``seed``, ``seed + 1``, ...), next to a random policy on the same seeds
  (buttons and camera bins drawn from the training data's marginals for ROCKET-2; random
  end-effector targets for Act2Goal). Act2Goal is evaluated per task length (1, 3, 5 objects);
- offline, on the held-out episodes (the run's val split): ROCKET-2 button accuracy, camera
  accuracy (both bins right), target centroid error (normalised image units, visible
  frames) and visibility F1; Act2Goal proximal action error (cm, first action and chunk),
  gripper command accuracy, and the normalised losses;
- plots: ``learning_curve.png`` (train / val loss over steps), ``success.png`` (policy vs
  random, per task length for Act2Goal).

ROCKET-2 samples its buttons and camera bins from its heads as VPT-style agents do, from a
generator seeded by the episode seed; Act2Goal executes its predicted chunks as they are. So
the same run, seeds and thread count give the same metrics.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import torch

from goalframe.training.choose_env import wilson_interval
from goalframe.training.data import EE_RELATIVE
from goalframe.training.envs import (
    AgibotArrangeEnv,
    VptReachEnv,
    env_action,
    run_episode,
)
from goalframe.training.policies import policy_spec
from goalframe.training.trainer import load_policy, make_task, read_log

TASK_LENGTHS = (1, 3, 5)
METRICS = "metrics.json"


# ---------------------------------------------------------------------------- agents


class Rocket2Agent:
    """Closed-loop ROCKET-2: the goal is encoded once, frame embeddings are kept for the
    temporal window (the first frame repeats in front of a short history, as the training
    windows pad)."""

    def __init__(
        self, model, sample: bool = True, seed: int = 0, temperature: float = 1.0, zero_goal: bool = False
    ):
        self.model = model
        self.zero_goal = zero_goal  # the goal image and mask replaced by zeros (a goal-blind baseline)
        self.window = model.config.window
        self.sample = sample
        self.temperature = float(temperature)
        self.generator = torch.Generator().manual_seed(int(seed))

    @torch.no_grad()
    def reset(self, observation: dict[str, Any]) -> None:
        image = torch.from_numpy(np.asarray(observation["goal_image"]))[None]
        mask = torch.from_numpy(np.asarray(observation["goal_mask"], dtype=bool))[None]
        if self.zero_goal:
            image, mask = torch.zeros_like(image), torch.zeros_like(mask)
        self.goal = self.model.encode_goal(image, mask)
        self.interaction = torch.tensor([int(observation["interaction"])])
        self.history: list[torch.Tensor] = []

    @torch.no_grad()
    def act(self, observation: dict[str, Any]) -> dict[str, Any]:
        frame = torch.from_numpy(np.asarray(observation["frame"]))[None]
        self.history.append(self.model.encode_frames(frame, self.goal)["embedding"])
        self.history = self.history[-self.window :]
        sequence = [self.history[0]] * (self.window - len(self.history)) + self.history
        heads = self.model.temporal_heads(torch.stack(sequence, 1), self.interaction)
        p_buttons = torch.sigmoid(heads["buttons"][0, -1])
        logits = heads["camera"][0, -1]
        if self.sample:  # VPT-style: draw from the heads (seeded per episode)
            buttons = (torch.rand(p_buttons.shape, generator=self.generator) < p_buttons).numpy()
            camera = torch.multinomial(
                torch.softmax(logits / self.temperature, -1), 1, generator=self.generator
            )[:, 0].numpy()
        else:
            buttons, camera = (p_buttons > 0.5).numpy(), logits.argmax(-1).numpy()
        return env_action(buttons, camera)


class Act2GoalAgent:
    """Closed-loop Act2Goal: predicts the proximal chunk, executes its first ``execute`` actions
    (absolute targets = state at planning time + predicted offsets), then plans again."""

    def __init__(self, model, stats: dict[str, torch.Tensor], execute: int | None = None):
        self.model = model
        self.stats = {k: v.numpy() for k, v in stats.items()}
        self.execute = execute or max(1, (2 * model.config.near) // 3)

    def reset(self, observation: dict[str, Any]) -> None:
        self.goal = torch.from_numpy(np.asarray(observation["goal_image"]))[None]
        self.plan: list[np.ndarray] = []

    @torch.no_grad()
    def act(self, observation: dict[str, Any]) -> np.ndarray:
        if not self.plan:
            st = self.stats
            state = np.asarray(observation["state"], np.float32)
            normalised = torch.from_numpy((state - st["state_mean"]) / st["state_std"])[None]
            out = self.model(torch.from_numpy(np.asarray(observation["image"]))[None], self.goal, normalised)
            chunk = out["proximal"][0].numpy() * st["proximal_std"] + st["proximal_mean"]
            chunk[:, EE_RELATIVE] += state[EE_RELATIVE]
            self.plan = list(chunk[: self.execute])
        return self.plan.pop(0)


# ---------------------------------------------------------------------------- closed loop


def _summary(results: list[dict[str, Any]]) -> dict[str, Any]:
    successes = sum(bool(r["success"]) for r in results)
    out: dict[str, Any] = {
        "episodes": len(results),
        "success_rate": successes / len(results) if results else 0.0,
        "successes": successes,
        "ci95": list(wilson_interval(successes, len(results))),  # Wilson score interval
    }
    for key in ("steps", "min_angle", "approach", "placed", "progress"):
        values = [r[key] for r in results if key in r]
        if values:
            out[f"mean_{key}"] = float(np.mean(values))
    out["results"] = results
    return out


def _run_episodes(
    env, policy_factory: Callable[[int], Any], episodes: int, seed: int, on_episode: Callable[[], None] | None
) -> list[dict[str, Any]]:
    results = []
    for i in range(episodes):
        results.append(run_episode(env, policy_factory(seed + i), seed + i))
        if on_episode is not None:
            on_episode()
    return results


def closed_loop_rocket2(
    policy_factory: Callable[[int], Any],
    episodes: int,
    seed: int,
    max_steps: int = 60,
    size: int = 64,
    on_episode: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Success of ``policy_factory(episode_seed)`` on ``episodes`` seeded reach-and-mine episodes."""
    env = VptReachEnv(size=size, max_steps=max_steps)
    return _summary(_run_episodes(env, policy_factory, episodes, seed, on_episode))


def closed_loop_act2goal(
    policy_factory: Callable[[int], Any],
    episodes: int,
    seed: int,
    lengths=TASK_LENGTHS,
    size: int = 64,
    frames_per_object: int = 60,
    on_episode: Callable[[], None] | None = None,
) -> dict[str, Any]:
    """Success per task length (objects to arrange) over ``episodes`` seeded episodes each."""
    by_length = {}
    for n in lengths:
        env = AgibotArrangeEnv(n_objects=n, size=size, frames_per_object=frames_per_object)
        by_length[str(n)] = _summary(_run_episodes(env, policy_factory, episodes, seed, on_episode))
    rates = [v["success_rate"] for v in by_length.values()]
    return {"success_rate": float(np.mean(rates)), "by_length": by_length}


def policy_factory(config, model, stats) -> Callable[[int], Any]:
    return policy_spec(config.policy).agent(model, stats)


def random_factory(config, stats, prior: bool = False) -> Callable[[int], Any]:
    """A random policy: uniform buttons and camera bins, or (``prior``) drawn from the training
    actions' marginals (ROCKET-2); random end-effector targets (Act2Goal)."""
    return policy_spec(config.policy).random_agent(stats, prior)


def closed_loop(
    config, factory, episodes: int, seed: int, on_episode: Callable[[], None] | None = None
) -> dict[str, Any]:
    return policy_spec(config.policy).closed_loop(
        factory, episodes, seed, size=config.size, on_episode=on_episode
    )


def closed_loop_episodes(config, episodes: int) -> int:
    """Episodes one closed-loop evaluation runs (Act2Goal: ``episodes`` per task length)."""
    return policy_spec(config.policy).closed_loop_episodes(episodes)


# ---------------------------------------------------------------------------- offline


def f1_score(pred: np.ndarray, truth: np.ndarray) -> float:
    tp = float((pred & truth).sum())
    fp = float((pred & ~truth).sum())
    fn = float((~pred & truth).sum())
    return 2 * tp / max(2 * tp + fp + fn, 1e-9) if (tp + fp + fn) else 1.0


@torch.no_grad()
def offline_metrics(
    config,
    model,
    stats,
    task=None,
    max_samples: int = 256,
    batch_size: int = 16,
    on_batch: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Metrics on the held-out episodes (the run's val split); ``{}`` when there are none.
    ``on_batch(done, total)`` follows the batches (progress bars)."""
    task = task or make_task(config, splits=("val",))
    task.stats = stats
    data = task.data["val"]
    indices = np.asarray(data.indices)
    if not len(indices):
        return {}
    if len(indices) > max_samples:
        indices = np.sort(np.random.default_rng(0).choice(indices, max_samples, replace=False))
    n_batches = -(-len(indices) // batch_size)

    def batch_done(start: int) -> None:
        if on_batch is not None:
            on_batch(start // batch_size + 1, n_batches)

    return policy_spec(config.policy).offline_metrics(
        config, model, stats, task, indices, batch_size, batch_done
    )


# ---------------------------------------------------------------------------- plots


def _pyplot():
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def plot_learning_curve(run: Path, path: Path) -> None:
    log = read_log(run)
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 3.5))
    train = [(r["step"], r["train"]["loss"]) for r in log if "train" in r]
    val = [(r["step"], r["val"]["loss"]) for r in log if "val" in r]
    if train:
        ax.plot(*zip(*train), label="train loss")
    if val:
        ax.plot(*zip(*val), "o-", label="val loss")
    ax.set_xlabel("step")
    ax.set_ylabel("loss")
    ax.set_title(f"learning curve: {run.name}")
    ax.legend()
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def plot_success(groups: dict[str, dict[str, float]], path: Path, title: str, xlabel: str = "") -> None:
    """Grouped bars: ``groups[x][series] = success rate``."""
    plt = _pyplot()
    xs = list(groups)
    series = list(dict.fromkeys(s for g in groups.values() for s in g))
    fig, ax = plt.subplots(figsize=(max(4, 1.4 * len(xs) * max(1, len(series)) / 2), 3.5))
    width = 0.8 / max(1, len(series))
    for j, s in enumerate(series):
        ax.bar(
            [i + (j - (len(series) - 1) / 2) * width for i in range(len(xs))],
            [groups[x].get(s, 0.0) for x in xs],
            width,
            label=s,
        )
    ax.set_xticks(range(len(xs)), xs)
    ax.set_ylim(0, 1)
    ax.set_ylabel("success rate")
    ax.set_xlabel(xlabel)
    ax.set_title(title)
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


# ---------------------------------------------------------------------------- the run


def evaluate_run(
    run: str | Path,
    episodes: int = 20,
    seed: int = 1000,
    offline: bool = True,
    baseline: bool = True,
    threads: int | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
    scenario: str = "reach",
) -> dict[str, Any]:
    """Closed-loop and offline metrics of a run; writes ``metrics.json`` and the plots into it.

    ``on_progress(phase, done, total)`` follows each phase (closed-loop episodes per policy,
    offline batches), for progress bars. ``scenario`` (ROCKET-2) ``choose-target`` or
    ``choose-target-same`` evaluates in the choose-target world next to its baselines
    (:mod:`goalframe.training.choose_eval`) instead of the reach-and-mine one; (Act2Goal)
    ``whiteboard`` in the whiteboard world by strokes band (:mod:`goalframe.training.whiteboard_eval`).
    """
    from goalframe.training import choose_eval

    run = Path(run)
    torch.set_num_threads(threads or 1)
    config, model, stats, step = load_policy(run)
    if scenario == "whiteboard":
        from goalframe.training import whiteboard_eval as scenario_eval

        scenario_eval.check_policy(config.policy)
    else:
        choose_eval.check_scenario(scenario, config.policy)
        scenario_eval = choose_eval
    started = time.perf_counter()
    n_closed = closed_loop_episodes(config, episodes)

    def follow(phase: str) -> Callable[[], None]:
        done = iter(range(1, n_closed + 1))
        return lambda: on_progress(phase, next(done), n_closed) if on_progress else None

    metrics: dict[str, Any] = {
        "run": str(run),
        "policy": config.policy,
        "ablate": config.ablate,
        "step": step,
        "episodes": episodes,
        "seed": seed,
    }
    if scenario == "whiteboard":
        metrics.update(
            scenario_eval.evaluate_whiteboard(model, stats, episodes, seed, config.size, baseline, follow)
        )
    elif scenario != "reach":
        metrics.update(
            choose_eval.evaluate_choose(model, stats, episodes, seed, scenario, config.size, baseline, follow)
        )
    else:
        metrics["closed_loop"] = closed_loop(
            config, policy_factory(config, model, stats), episodes, seed, follow("closed loop: policy")
        )
    if baseline and scenario == "reach":
        metrics["random"] = closed_loop(
            config, random_factory(config, stats), episodes, seed, follow("closed loop: random policy")
        )
        if policy_spec(config.policy).prior_baseline:
            prior = random_factory(config, stats, prior=True)
            metrics["random_prior"] = closed_loop(
                config, prior, episodes, seed, follow("closed loop: random with the data's prior")
            )
    if offline:
        on_batch = (
            (lambda done, total: on_progress("offline: held-out episodes", done, total))
            if on_progress
            else None
        )
        metrics["offline"] = offline_metrics(config, model, stats, on_batch=on_batch)
    log = read_log(run)
    if log:
        metrics["train_seconds"] = log[-1].get("seconds")
        finals = [r for r in log if "train" in r]
        metrics["final_train_loss"] = finals[-1]["train"]["loss"] if finals else None
    metrics["eval_seconds"] = round(time.perf_counter() - started, 2)
    (run / METRICS).write_text(json.dumps(metrics, indent=1))
    plot_learning_curve(run, run / "learning_curve.png")
    if scenario != "reach":
        groups, title, xlabel = scenario_eval.success_groups(metrics), f"success ({episodes} episodes)", ""
    else:
        groups, title, xlabel = policy_spec(config.policy).success_plot(metrics, baseline, episodes)
    plot_success(groups, run / "success.png", title, xlabel)
    return metrics


def headline(metrics: dict[str, Any]) -> str:
    """One line: success (vs random) and the main offline numbers."""
    cl = metrics["closed_loop"]
    parts = [f"success {cl['success_rate']:.2f}"]
    if "baselines" in metrics:
        parts[-1] += f" on {metrics['scenario']} ("
        parts[-1] += ", ".join(f"{name} {v['success_rate']:.2f}" for name, v in metrics["baselines"].items())
        parts[-1] += ")"
    if "random" in metrics:
        parts[-1] += f" (random {metrics['random']['success_rate']:.2f}"
        if "random_prior" in metrics:
            parts[-1] += (
                f", random with the data's action prior {metrics['random_prior']['success_rate']:.2f}"
            )
        parts[-1] += ")"
    if "by_length" in cl:
        parts.append(
            "by length " + ", ".join(f"{n}: {v['success_rate']:.2f}" for n, v in cl["by_length"].items())
        )
    off = metrics.get("offline") or {}
    for key in (
        "button_accuracy",
        "camera_accuracy",
        "centroid_error",
        "visibility_f1",
        "first_action_error_cm",
        "hold_position_first_action_error_cm",
        "gripper_accuracy",
    ):
        if off.get(key) is not None:
            parts.append(f"{key} {off[key]:.3f}")
    return "; ".join(parts)
