"""Closed-loop evaluation on the whiteboard scenario, by task length (strokes band).

Every policy runs the same seeded episodes of
:class:`~goalframe.training.whiteboard_env.WhiteboardEnv` per band (seeds ``seed``,
``seed + 1``, ...; short 1-2, medium 3-4, long 6-8 strokes); each success rate comes with
its 95% Wilson interval (``ci95``) and the mean final ink IoU. The baselines
(:func:`baselines`):

- ``random (uniform)``: end-effector targets uniform in the workspace;
- ``random (data marginals)``: each action dimension drawn from the demonstrations'
  marginals (scripted episodes of seeds :data:`MARGINAL_SEEDS`, never evaluation seeds);
- ``goal zeroed at evaluation``: the trained model with its goal image zeroed;
- ``scripted, another goal``: the scripted player of another seed (a fluent wrong drawing);
- ``oracle``: the scripted player of the episode's own strokes.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from goalframe.sim.agibot.whiteboard import FRAMES_PER_STROKE, IOU_THRESHOLD, STROKE_BANDS, band_name
from goalframe.training.envs import RandomAgibotPolicy
from goalframe.training.evaluate import Act2GoalAgent, _summary
from goalframe.training.whiteboard_env import (
    GoalZeroedAct2Goal,
    MarginalAgibotPolicy,
    OtherGoalScript,
    WhiteboardEnv,
    WhiteboardOracle,
)

BANDS = tuple(STROKE_BANDS.values())
MARGINAL_SEEDS = range(500, 520)  # not evaluation seeds: goalframe eval starts at 1000


def check_policy(policy: str) -> None:
    if policy != "act2goal":
        raise ValueError(f"--scenario whiteboard evaluates act2goal runs (AgiBot), this run is {policy}")


def run_whiteboard_episode(env: WhiteboardEnv, policy, seed: int) -> dict[str, Any]:
    """One episode: reset from ``seed``, step ``policy`` until the drawing matches or time is up."""
    observation = env.reset(seed)
    policy.reset(observation)
    done = False
    while not done:
        observation, done, _info = env.step(policy.act(observation))
    return {"seed": int(seed), "success": env.success, "steps": env.steps, "strokes": env.k, "iou": env.iou}


def closed_loop_whiteboard(
    factory: Callable[[Any], Any],
    episodes: int,
    seed: int,
    bands=BANDS,
    size: int = 64,
    frames_per_stroke: int = FRAMES_PER_STROKE,
    with_env: bool = False,
    on_episode: Callable[[], None] | None = None,
    stroke_set: str = "free",
    threshold: float = IOU_THRESHOLD,
) -> dict[str, Any]:
    """Success per band of ``factory(episode_seed)`` (``with_env``: ``factory(env)``)."""
    by_band = {}
    for band in bands:
        env = WhiteboardEnv(tuple(band), size, frames_per_stroke, threshold, stroke_set=stroke_set)
        results = []
        for i in range(episodes):
            policy = factory(env) if with_env else factory(seed + i)
            results.append(run_whiteboard_episode(env, policy, seed + i))
            if on_episode is not None:
                on_episode()
        summary = _summary(results)
        summary["mean_iou"] = float(np.mean([r["iou"] for r in results]))
        by_band[band_name(tuple(band))] = summary
    rates = [v["success_rate"] for v in by_band.values()]
    return {"success_rate": float(np.mean(rates)), "by_band": by_band}


def marginal_rows(
    bands=BANDS, frames_per_stroke: int = FRAMES_PER_STROKE, stroke_set: str = "free"
) -> np.ndarray:
    """Action rows of the scripted demonstrations on :data:`MARGINAL_SEEDS`, pooled over bands."""
    rows = []
    for band in bands:
        env = WhiteboardEnv(tuple(band), 16, frames_per_stroke, stroke_set=stroke_set)
        for s in MARGINAL_SEEDS:
            env.reset(s)
            rows.append(env.demo_actions)
    return np.concatenate(rows)


def baselines(
    model=None, stats=None, bands=BANDS, frames_per_stroke: int = FRAMES_PER_STROKE, stroke_set: str = "free"
) -> dict[str, tuple[Callable[[Any], Any], bool]]:
    """name -> (agent factory, whether it takes the environment instead of a seed)."""
    rows = marginal_rows(bands, frames_per_stroke, stroke_set)
    out: dict[str, tuple[Callable[[Any], Any], bool]] = {
        "random (uniform)": (lambda s: RandomAgibotPolicy(s), False),
        "random (data marginals)": (lambda s: MarginalAgibotPolicy(rows, s), False),
    }
    if model is not None:
        out["goal zeroed at evaluation"] = (lambda _s: GoalZeroedAct2Goal(model, stats), False)
    out["scripted, another goal"] = (OtherGoalScript, True)
    out["oracle"] = (WhiteboardOracle, True)
    return out


def evaluate_whiteboard(
    model,
    stats,
    episodes: int,
    seed: int,
    size: int,
    baseline: bool = True,
    follow: Callable[[str], Callable[[], None] | None] = lambda _phase: None,
    bands=BANDS,
    frames_per_stroke: int = FRAMES_PER_STROKE,
) -> dict[str, Any]:
    """The trained policy (``model`` None: baselines only) and the baselines, per band."""
    common = {
        "episodes": episodes,
        "seed": seed,
        "bands": bands,
        "size": size,
        "frames_per_stroke": frames_per_stroke,
    }
    out: dict[str, Any] = {"scenario": "whiteboard", "bands": [band_name(tuple(b)) for b in bands]}
    if model is not None:
        out["closed_loop"] = closed_loop_whiteboard(
            lambda _s: Act2GoalAgent(model, stats), on_episode=follow("closed loop: policy"), **common
        )
    if baseline or model is None:
        out["baselines"] = {
            name: closed_loop_whiteboard(
                factory, with_env=env, on_episode=follow(f"closed loop: {name}"), **common
            )
            for name, (factory, env) in baselines(model, stats, bands, frames_per_stroke).items()
        }
    return out


def success_groups(metrics: dict[str, Any]) -> dict[str, dict[str, float]]:
    """For :func:`~goalframe.training.evaluate.plot_success`: band -> policy and baselines."""
    series = {}
    if "closed_loop" in metrics:
        series["policy"] = metrics["closed_loop"]
    series.update(metrics.get("baselines") or {})
    return {
        band: {name: v["by_band"][band]["success_rate"] for name, v in series.items()}
        for band in metrics["bands"]
    }
