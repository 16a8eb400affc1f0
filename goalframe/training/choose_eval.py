"""Closed-loop evaluation on the choose-target scenarios: does a ROCKET-2 policy use its goal?

Every policy runs the same seeded episodes of :class:`~goalframe.training.choose_env.VptChooseEnv`
(seeds ``seed``, ``seed + 1``, ...), and each success rate comes with its 95% Wilson
interval (``ci95``) and the count of episodes ended on the goal, on a distractor, or on
nothing (``outcomes``). Next to the trained policy, the baselines (:func:`baselines`):

- ``random (uniform)``: buttons and camera bins uniform;
- ``random (data marginals)``: drawn from the training actions' marginals;
- ``goal zeroed at evaluation``: the same trained model with its goal image and mask
  zeroed (a goal-blind policy TRAINED that way is a run with ``--ablate goal``, evaluated as
  any run);
- ``nearest candidate``: goes to the candidate nearest the crosshair and mines it (the best a
  policy that ignores the goal can do is one in three);
- ``oracle``: goes to the goal candidate (the task is solvable within ``max_steps``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from goalframe.training.choose_env import (
    SCENARIO_SAME_KIND,
    ChooseOraclePolicy,
    NearestCandidatePolicy,
    VptChooseEnv,
)
from goalframe.training.envs import RandomVptPolicy, run_episode
from goalframe.training.evaluate import Rocket2Agent, _summary

SCENARIOS = tuple(SCENARIO_SAME_KIND)
MAX_STEPS = 80  # the oracle needs up to ~20; the sweep of the demos up to 29 turning, then aim and walk
OUTCOMES = {"goal": "goal", "distractor": "distractor", "none": None}


def check_scenario(scenario: str, policy: str) -> None:
    """One-line errors for a scenario name that is unknown or not for this policy."""
    if scenario == "reach":
        return
    if scenario not in SCENARIOS:
        raise ValueError(f"--scenario must be one of reach, {', '.join(SCENARIOS)}, got {scenario!r}")
    if policy != "rocket2":
        raise ValueError(f"--scenario {scenario} evaluates rocket2 runs (VPT), this run is {policy}")


def closed_loop_choose(
    factory: Callable[[Any], Any],
    episodes: int,
    seed: int,
    scenario: str = "choose-target",
    size: int = 64,
    max_steps: int = MAX_STEPS,
    on_episode: Callable[[], None] | None = None,
    with_env: bool = False,
) -> dict[str, Any]:
    """Success of ``factory(episode_seed)`` (``with_env``: ``factory(env)``, for baselines that
    read the world) on ``episodes`` seeded choose-target episodes."""
    env = VptChooseEnv(size=size, max_steps=max_steps, same_kind=SCENARIO_SAME_KIND[scenario])
    results = []
    for i in range(episodes):
        policy = factory(env) if with_env else factory(seed + i)
        results.append(run_episode(env, policy, seed + i))
        if on_episode is not None:
            on_episode()
    summary = _summary(results)
    summary["outcomes"] = {k: sum(r.get("outcome") == v for r in results) for k, v in OUTCOMES.items()}
    return summary


def baselines(model, stats: dict) -> dict[str, tuple[Callable[[Any], Any], bool]]:
    """name -> (agent factory, whether it takes the environment instead of a seed)."""
    out: dict[str, tuple[Callable[[Any], Any], bool]] = {
        "random (uniform)": (lambda s: RandomVptPolicy(s), False),
        "random (data marginals)": (
            lambda s: RandomVptPolicy(s, stats["button_p"].numpy(), stats["camera_p"].numpy()),
            False,
        ),
    }
    if model is not None and model.config.goal_input:
        out["goal zeroed at evaluation"] = (
            lambda s: Rocket2Agent(model, sample=True, seed=s, zero_goal=True),
            False,
        )
    out["nearest candidate"] = (NearestCandidatePolicy, True)
    out["oracle"] = (ChooseOraclePolicy, True)
    return out


def evaluate_choose(
    model,
    stats: dict,
    episodes: int,
    seed: int,
    scenario: str,
    size: int,
    baseline: bool = True,
    follow: Callable[[str], Callable[[], None] | None] = lambda _phase: None,
) -> dict[str, Any]:
    """``closed_loop`` of the trained policy and (``baseline``) ``baselines`` by name."""
    common = {"episodes": episodes, "seed": seed, "scenario": scenario, "size": size}
    out: dict[str, Any] = {
        "scenario": scenario,
        "max_steps": MAX_STEPS,
        "closed_loop": closed_loop_choose(
            lambda s: Rocket2Agent(model, sample=True, seed=s),
            on_episode=follow("closed loop: policy"),
            **common,
        ),
    }
    if baseline:
        out["baselines"] = {
            name: closed_loop_choose(
                factory, on_episode=follow(f"closed loop: {name}"), with_env=env, **common
            )
            for name, (factory, env) in baselines(model, stats).items()
        }
    return out


def success_groups(metrics: dict[str, Any]) -> dict[str, dict[str, float]]:
    """For :func:`~goalframe.training.evaluate.plot_success`: the policy and every baseline."""
    rates = {"policy": metrics["closed_loop"]["success_rate"]}
    rates.update({name: v["success_rate"] for name, v in (metrics.get("baselines") or {}).items()})
    return {metrics["scenario"]: rates}
